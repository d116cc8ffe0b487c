"""The in-memory planning instance: a scenario plus validated tables."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from talentplan._options import check_number
from talentplan.data.schema import TABLES


@dataclass(frozen=True)
class PolicyFloor:
    """A policy rule that keeps a program active at a minimum level from a given year on.

    ``program`` is active with at least ``min_units`` in each of ``counties`` (all when
    empty) from year ``by_year`` on.

    Example: "every county has a one-stop service centre by 2027".
    """

    name: str
    program: str
    by_year: int
    min_units: float = 1.0
    counties: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    """Scalar settings of an instance (the TOML file).

    Parameters
    ----------
    name, description
        Identification.
    start_year, n_years
        Plan years are ``start_year .. start_year + n_years - 1``.
    objective
        ``talent_index`` (default), ``min_cost`` or ``equity``.
    discount_rate
        Yearly discount rate of the talent index.
    attrition_floor
        Lowest yearly attrition any retention programme can reach (``a_min``).
    pwl_segments
        Segments of each piecewise-linear response curve.
    carry_over
        Whether unspent budget carries over to the next year of the same source.
    demand_feedback
        Persons of extra demand, spread over the county's types in proportion to their
        demand, for each useful person of a ``drives_demand`` type above the do-nothing
        path the year before (0 = demand is data).
    min_coverage
        Equity floor: every county's final-year weighted coverage (useful talent over
        demand, weighted by type) must reach this share, whatever the objective (0 = none).
    target_coverage
        For ``min_cost`` without a targets table: each county's final-year useful talent,
        weighted by type, must reach this share of its weighted final-year demand (see
        :mod:`talentplan.model.objectives`).
    seed
        Seed recorded in outputs (and used by generators).
    floors
        Policy floors.
    sources
        Free text: where the numbers come from.
    response_parameters
        Path (relative to the instance folder or workbook) of a calibrated
        ``ResponseParameters`` JSON file whose estimates replace the matching
        (program, talent_type, effect) values of the responses table on load.
    """

    name: str
    start_year: int
    n_years: int
    description: str = ""
    objective: str = "talent_index"
    discount_rate: float = 0.05
    attrition_floor: float = 0.02
    pwl_segments: int = 8
    carry_over: bool = False
    target_coverage: float = 0.9
    min_coverage: float = 0.0
    demand_feedback: float = 0.0
    seed: int = 0
    floors: tuple[PolicyFloor, ...] = ()
    sources: str = ""
    response_parameters: str = ""

    @property
    def years(self) -> list[int]:
        """Plan years, ``start_year`` to ``start_year + n_years - 1``."""
        return list(range(self.start_year, self.start_year + self.n_years))


@dataclass(frozen=True)
class Instance:
    """A validated planning instance.

    Create one with :func:`talentplan.load_instance` or
    :func:`talentplan.datasets.synthetic`; the tables are validated pandas DataFrames
    whose columns follow :mod:`talentplan.data.schema` (optional tables are empty frames
    with the schema's columns).
    """

    scenario: Scenario
    tables: dict[str, pd.DataFrame] = field(repr=False)
    origin: str = ""

    def __getattr__(self, name: str) -> pd.DataFrame:
        """Return table ``name`` as an attribute (``inst.counties``, ``inst.programs`` ...)."""
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    @property
    def years(self) -> list[int]:
        """Plan years of the scenario."""
        return self.scenario.years

    def scale_budget(self, factor: float) -> Instance:
        """Return a new instance whose budgets are multiplied by ``factor`` (>= 0)."""
        check_number("factor", factor, low=0)
        budgets = self.tables["budgets"].copy()
        budgets["amount"] = budgets["amount"] * float(factor)
        return self.replace_tables(budgets=budgets)

    def replace_tables(self, **tables: pd.DataFrame) -> Instance:
        """Return a new instance with some tables replaced (not re-validated)."""
        new = dict(self.tables)
        new.update(tables)
        return replace(self, tables=new)

    def replace_scenario(self, **changes: Any) -> Instance:
        """Return a new instance with scenario fields changed."""
        return replace(self, scenario=replace(self.scenario, **changes))

    def hash(self) -> str:
        """Return a sha256 of the scenario and every table's canonical CSV text."""
        h = hashlib.sha256(repr(self.scenario).encode())
        for table in TABLES:
            frame = self.tables.get(table.name)
            if frame is None:
                continue
            h.update(table.name.encode())
            h.update(frame.to_csv(index=False, lineterminator="\n").encode())
        return h.hexdigest()

    def __repr__(self) -> str:
        """Summarise the instance: name, counties, programs and plan years."""
        s = self.scenario
        return (
            f"Instance({s.name!r}, {len(self.tables['counties'])} counties, "
            f"{len(self.tables['programs'])} programs, years {s.years[0]}-{s.years[-1]})"
        )
