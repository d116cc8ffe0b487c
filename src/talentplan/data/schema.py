"""The planning-instance schema: tables, columns, units and allowed values.

This module only *describes* an instance; :mod:`talentplan.data.validate` checks data
against it and :mod:`talentplan.data.io` reads and writes it. Units: money in
10,000 yuan (``wan yuan``), land in mu, cadre time in hours per year, talent in
persons (or full-time equivalents).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

ColumnType = Literal["str", "int", "float", "bool"]

MECHANISMS = (
    "political_absorption",
    "organisational_embedding",
    "service_integration",
    "platform",
    "flexible_introduction",
    "cultivation",
    "market",
)
"""Mechanism tags of programs, after the paper's channels."""

KINDS = ("site", "count", "amount", "chain", "city")
"""Decision kinds: binary site per county-year (open once, stay open); integer units per
county-year (cumulative, never removed); continuous spend per county-year; binary per
county-industry-year (only where the industry is present; open once, stay open); one
binary for the whole plan area (open once, stay open)."""

BINARY_KINDS = ("site", "chain", "city")

EFFECTS = (
    "retention",
    "retained_per_unit",
    "inflow",
    "inflow_log",
    "graduate_retention",
    "platform",
    "fte",
    "cadre_capacity",
    "placement",
)
"""Response effects of a program on a talent type.

- ``retention`` (site, chain, city): share of the baseline attrition of the type avoided
  while the program is active in the county, 0..1.
- ``retained_per_unit`` (count): persons of the type kept from leaving per unit per year.
- ``inflow`` (site, chain, city, count, amount): persons of the type arriving per year per
  active site/alliance/unit, or per 10,000 yuan spent (amount).
- ``inflow_log`` (amount): concave saturating inflow ``value * log(1 + spend / scale)``
  persons per year, ``scale`` in 10,000 yuan.
- ``graduate_retention`` (site, chain, city): added share of the county's vocational
  graduates retained locally, 0..1 (talent type left blank).
- ``platform`` (site): inflows of the type are multiplied by ``1 + value`` while the
  platform is open in the county.
- ``fte`` (site, count): part-time experts, ``value * exp(-scale * travel_time_h)``
  full-time equivalents per active site/unit, available that year but not settling.
- ``cadre_capacity`` (site, chain, city, count): cadre hours a year added to the county's
  capacity per active site/alliance/unit (cadre capacity-building: joint training,
  exchanges), talent type left blank.
- ``placement`` (amount): graduates of the plan area who leave the county they studied in
  placed in jobs in this county, ``value * exp(-scale * travel_time_h)`` persons a year
  per 10,000 yuan spent here; they join the type flagged graduate. Together the plan
  area's placements are at most its leaving graduates (talent type left blank).
"""

EFFECT_KINDS: dict[str, tuple[str, ...]] = {
    "retention": ("site", "chain", "city"),
    "retained_per_unit": ("count",),
    "inflow": ("site", "chain", "city", "count", "amount"),
    "inflow_log": ("amount",),
    "graduate_retention": ("site", "chain", "city"),
    "platform": ("site",),
    "fte": ("site", "count"),
    "cadre_capacity": ("site", "chain", "city", "count"),
    "placement": ("amount",),
}

COUNTY_CAPS = ("townships", "colleges")
"""County columns a count program's ``cap_per_county`` may name: one unit per each."""

ACTIVE_SPEND = 1.0
"""Spend (10k yuan) at which an ``amount`` program counts as active for a ``requires``."""

Objective = Literal["talent_index", "min_cost", "equity"]
"""What a plan maximises or minimises (see :mod:`talentplan.model.objectives`)."""
OBJECTIVES: tuple[str, ...] = get_args(Objective)
PIN_ACTIONS = ("fix", "forbid", "min", "max")


@dataclass(frozen=True)
class Column:
    """One column of a table.

    Parameters
    ----------
    name
        Column header.
    type
        Cell type.
    required
        Whether every row needs a value (otherwise blank means ``default``).
    default
        Value used for a blank optional cell.
    minimum, maximum
        Inclusive numeric bounds.
    exclusive_minimum
        Whether ``minimum`` itself is excluded.
    choices
        Allowed values.
    unit
        Unit, for documentation and error messages.
    doc
        What the column means.
    """

    name: str
    type: ColumnType
    required: bool = True
    default: object = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: tuple[str, ...] | None = None
    unit: str = ""
    doc: str = ""


@dataclass(frozen=True)
class Table:
    """One table of an instance: a CSV file in a folder, a sheet in a workbook."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required: bool = True
    doc: str = ""
    references: dict[str, str] = field(default_factory=dict)
    """Foreign keys: column -> referenced table (its single-column key)."""

    @property
    def filename(self) -> str:
        """File name of the table in an instance folder, ``<name>.csv``."""
        return f"{self.name}.csv"

    def column(self, name: str) -> Column:
        """Return the column called ``name``; raise ``KeyError`` when the table has none."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


def _money(name: str, doc: str, required: bool = False) -> Column:
    return Column(
        name, "float", required=required, default=0.0, minimum=0.0, unit="10k yuan", doc=doc
    )


_REQUIRED = object()


def _amount(name: str, unit: str, doc: str, default: object = _REQUIRED) -> Column:
    """Describe a non-negative number in ``unit``; blank means ``default`` when given."""
    if default is _REQUIRED:
        return Column(name, "float", minimum=0.0, unit=unit, doc=doc)
    return Column(name, "float", required=False, default=default, minimum=0.0, unit=unit, doc=doc)


TABLES: tuple[Table, ...] = (
    Table(
        "counties",
        (
            Column("county", "str", doc="identifier"),
            Column("name", "str", required=False, default="", doc="display name"),
            Column("city", "str", required=False, default="", doc="prefecture city"),
            Column("population_10k", "float", minimum=0.0, unit="10k persons"),
            Column("townships", "int", minimum=1, doc="townships/subdistricts (caps stations)"),
            Column(
                "colleges",
                "int",
                required=False,
                default=0,
                minimum=0,
                doc="partner colleges: vocational colleges in or paired with the county "
                "(caps programs whose cap_per_county is 'colleges', e.g. skill studios)",
            ),
            _amount("travel_time_h", "hours", "travel time to the core city"),
            _amount("graduates", "persons/year", "vocational graduates available locally", 0.0),
            Column(
                "graduate_retention",
                "float",
                required=False,
                default=0.0,
                minimum=0.0,
                maximum=1.0,
                doc="share s0 of graduates retained without programs",
            ),
            _amount(
                "land_quota_mu",
                "mu",
                "construction land available to talent programs over the plan",
            ),
            _amount(
                "cadre_hours",
                "hours/year",
                "Party-building cadre time available to programs per year",
            ),
            Column(
                "energy_quota_tce",
                "float",
                required=False,
                default=None,
                minimum=0.0,
                unit="tce/year",
                doc="energy use (tonnes of standard coal a year) talent programs may add; "
                "blank: no limit",
            ),
            Column(
                "efficiency",
                "float",
                required=False,
                default=1.0,
                minimum=0.0,
                maximum=1.0,
                exclusive_minimum=True,
                doc="implementation efficiency: multiplies every program effect but the "
                "platform multiplier (the inflow it multiplies is already scaled)",
            ),
        ),
        key=("county",),
        doc="Counties (or townships) of the plan area.",
    ),
    Table(
        "talent_types",
        (
            Column("talent_type", "str"),
            Column("name", "str", required=False, default=""),
            Column("weight", "float", minimum=0.0, doc="objective weight per useful person"),
            Column(
                "graduate",
                "bool",
                required=False,
                default=False,
                doc="vocational graduates retained locally join this type",
            ),
            Column(
                "drives_demand",
                "bool",
                required=False,
                default=False,
                doc="useful talent of this type raises local industry's demand the next "
                "year (scenario demand_feedback)",
            ),
        ),
        key=("talent_type",),
        doc="Talent types, e.g. leading scientists, engineers, craftsmen, rural talents.",
    ),
    Table(
        "industries",
        (Column("industry", "str"), Column("name", "str", required=False, default="")),
        key=("industry",),
        doc="Industries of the local chains.",
    ),
    Table(
        "presence",
        (Column("county", "str"), Column("industry", "str")),
        key=("county", "industry"),
        references={"county": "counties", "industry": "industries"},
        doc="Which industries are present in which county (one row per pair).",
    ),
    Table(
        "programs",
        (
            Column("program", "str"),
            Column("name", "str", required=False, default=""),
            Column("mechanism", "str", choices=MECHANISMS),
            Column("kind", "str", choices=KINDS),
            _money("fixed_cost", "cost in the opening year (site, chain, city)"),
            _money("operating_cost", "cost per open year (site, chain, city) or unit-year (count)"),
            _money("unit_cost", "cost per new unit (count)"),
            _amount("land_mu", "mu", "construction land per site or unit (cumulative)", 0.0),
            _amount(
                "cadre_hours", "hours/year", "cadre time per active site, alliance or unit", 0.0
            ),
            _amount(
                "energy_tce",
                "tce/year",
                "energy use per active site, alliance or unit (tonnes of standard coal)",
                0.0,
            ),
            Column(
                "cap_per_county",
                "str",
                required=False,
                default="",
                doc="count: max units per county (a number, 'townships' or 'colleges': one "
                "per township or partner college of the county); "
                "amount: max spend per county-year in 10k yuan",
            ),
            Column(
                "cap_total",
                "float",
                required=False,
                default=None,
                minimum=0.0,
                doc="max active sites/units/alliances across the plan area at once",
            ),
            Column(
                "cap_per_city",
                "float",
                required=False,
                default=None,
                minimum=0.0,
                doc="max active sites/units/alliances in each prefecture city at once "
                "(counties.csv city; a blank city counts as one city)",
            ),
            Column(
                "requires",
                "str",
                required=False,
                default="",
                doc="a program that must be active in the same county and year (an amount "
                "program counts as active where it spends at least 1)",
            ),
            Column(
                "lag_years",
                "int",
                required=False,
                default=0,
                minimum=0,
                unit="years",
                doc="years from a decision to its first effect on talent (costs, land and "
                "cadre time start at once)",
            ),
            Column(
                "poach_share",
                "float",
                required=False,
                default=0.0,
                minimum=0.0,
                maximum=1.0,
                doc="share of the talent the program attracts who come from the plan "
                "area's other counties, drawn from them in proportion to their stocks",
            ),
        ),
        key=("program",),
        doc="Talent programs (the decision menu).",
    ),
    Table(
        "responses",
        (
            Column("program", "str"),
            Column("talent_type", "str", required=False, default=""),
            Column("effect", "str", choices=EFFECTS),
            Column("value", "float", minimum=0.0),
            Column("scale", "float", required=False, default=None, minimum=0.0),
            Column(
                "source",
                "str",
                required=False,
                default="",
                doc="where the number comes from (assumption, calibration file, ...)",
            ),
        ),
        key=("program", "talent_type", "effect"),
        references={"program": "programs", "talent_type": "talent_types"},
        doc="Response parameters: what each program does to each talent type.",
    ),
    Table(
        "stocks",
        (
            Column("county", "str"),
            Column("talent_type", "str"),
            Column("stock", "float", minimum=0.0, unit="persons"),
            Column(
                "attrition",
                "float",
                minimum=0.0,
                maximum=1.0,
                doc="baseline yearly attrition a0 (siphon toward the core city)",
            ),
            _amount(
                "market_inflow",
                "persons/year",
                "talent who arrive each year without any program (the market's own inflow); "
                "with the attrition it sets the do-nothing trend",
                default=0.0,
            ),
        ),
        key=("county", "talent_type"),
        references={"county": "counties", "talent_type": "talent_types"},
        doc="Initial talent stock, baseline attrition and market inflow per county and type.",
    ),
    Table(
        "demand",
        (
            Column("county", "str"),
            Column("talent_type", "str"),
            Column("year", "int"),
            Column("demand", "float", minimum=0.0, unit="persons"),
        ),
        key=("county", "talent_type", "year"),
        references={"county": "counties", "talent_type": "talent_types"},
        doc="Talent the local industry can use, per county, type and year.",
    ),
    Table(
        "budgets",
        (
            Column("year", "int"),
            Column("source", "str"),
            Column("amount", "float", minimum=0.0, unit="10k yuan"),
        ),
        key=("year", "source"),
        references={"source": "sources"},
        doc="Budget per year and source.",
    ),
    Table(
        "sources",
        (
            Column("source", "str"),
            Column("name", "str", required=False, default=""),
            Column(
                "programs",
                "str",
                required=False,
                default="*",
                doc="'*' for any program, or program ids separated by ';' (earmarked)",
            ),
            Column(
                "counties",
                "str",
                required=False,
                default="*",
                doc="'*' for every county, or county ids separated by ';' (a city's own "
                "fiscal fund pays only in its counties; city-kind programs need '*')",
            ),
        ),
        key=("source",),
        doc="Budget sources, the programs each may fund and the counties it may pay in.",
    ),
    Table(
        "pins",
        (
            Column("county", "str", required=False, default="", doc="blank for city programs"),
            Column("program", "str"),
            Column("industry", "str", required=False, default="", doc="chain programs only"),
            Column("year", "int"),
            Column("action", "str", choices=PIN_ACTIONS),
            Column(
                "value",
                "float",
                required=False,
                default=None,
                minimum=0.0,
                doc="quantity for fix/min/max (1 = open for binary kinds)",
            ),
        ),
        key=("county", "program", "industry", "year", "action"),
        required=False,
        references={"program": "programs"},
        doc="Decisions a planner fixes, forbids or bounds.",
    ),
    Table(
        "targets",
        (
            Column("county", "str"),
            Column("talent_type", "str"),
            Column("target", "float", minimum=0.0, unit="persons"),
        ),
        key=("county", "talent_type"),
        required=False,
        references={"county": "counties", "talent_type": "talent_types"},
        doc="Useful talent to reach by the final year (objective min_cost).",
    ),
)

TABLE_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}
