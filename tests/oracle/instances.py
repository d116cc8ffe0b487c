"""Small planning instances for the oracle, each validated by a write-and-load round trip.

Two counties: A (efficiency 1, one hour from the core city, two townships, 40 graduates
a year of whom 30 % stay) and B (efficiency 0.8, three hours, one township, 10 graduates,
50 % stay). Two talent types: engineers (weight 2) and vocational talent (weight 1, the
type retained graduates join). Each builder picks the programs of one group of mechanisms
so that its plans stay few enough to enumerate in seconds.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from talentplan.data.instance import Instance, PolicyFloor, Scenario
from talentplan.data.io import load_instance, write_instance
from tests.model.tiny import frame

PROGRAMS = {
    "centre": dict(
        mechanism="service_integration",
        kind="site",
        fixed_cost=20.0,
        operating_cost=5.0,
        land_mu=4.0,
        cadre_hours=100.0,
    ),
    "alliance": dict(
        mechanism="organisational_embedding",
        kind="chain",
        fixed_cost=10.0,
        operating_cost=2.0,
        cadre_hours=60.0,
        requires="centre",
    ),
    "titles": dict(
        mechanism="political_absorption", kind="city", fixed_cost=15.0, operating_cost=1.0
    ),
    "station": dict(
        mechanism="cultivation",
        kind="count",
        unit_cost=8.0,
        operating_cost=1.0,
        land_mu=1.0,
        cadre_hours=40.0,
        cap_per_county="townships",
    ),
    "platform": dict(
        mechanism="platform",
        kind="site",
        fixed_cost=30.0,
        operating_cost=5.0,
        land_mu=8.0,
        cadre_hours=50.0,
    ),
    "birds": dict(
        mechanism="flexible_introduction",
        kind="site",
        fixed_cost=6.0,
        operating_cost=2.0,
        cadre_hours=20.0,
    ),
    "enclave": dict(
        mechanism="flexible_introduction",
        kind="count",
        unit_cost=10.0,
        operating_cost=1.0,
        cap_per_county="2",
        cap_total=2.0,
        requires="platform",
    ),
    "subsidy": dict(mechanism="market", kind="amount", cap_per_county="40"),
    "training": dict(mechanism="cultivation", kind="amount", cap_per_county="12"),
    "placement": dict(mechanism="service_integration", kind="amount", cap_per_county="10"),
}

RESPONSES = [
    # two alliances in A keep 0.3 + 2 x 0.4 > 1 of its graduates: capped at all of them
    # retention shares: with titles the engineers' saved share in A (0.6 + 0.2) passes
    # the room above the floor, (0.12 - 0.03) / 0.12 = 0.75
    ("centre", "eng", "retention", 0.6, None),
    ("centre", "voc", "retention", 0.3, None),
    ("alliance", "", "graduate_retention", 0.4, None),
    ("alliance", "voc", "retention", 0.2, None),
    ("titles", "eng", "retention", 0.2, None),
    ("titles", "eng", "inflow", 1.0, None),
    ("station", "voc", "inflow", 3.0, None),
    ("station", "voc", "retained_per_unit", 2.5, None),
    ("platform", "eng", "platform", 0.6, None),
    ("platform", "eng", "inflow", 2.0, None),
    ("birds", "eng", "fte", 4.0, 0.3),
    ("enclave", "eng", "inflow", 1.5, None),
    ("enclave", "eng", "fte", 1.0, None),
    ("subsidy", "eng", "inflow_log", 6.0, 10.0),
    ("training", "voc", "inflow", 0.4, None),
    ("placement", "", "placement", 2.0, 0.2),
]


def counties(land: tuple[float, float], hours: tuple[float, float]) -> list[dict]:
    """The two counties with their land quotas (mu) and cadre capacities (hours/year)."""
    return [
        dict(
            county="A",
            population_10k=30.0,
            townships=2,
            travel_time_h=1.0,
            graduates=40.0,
            graduate_retention=0.3,
            land_quota_mu=land[0],
            cadre_hours=hours[0],
        ),
        dict(
            county="B",
            population_10k=10.0,
            townships=1,
            travel_time_h=3.0,
            graduates=10.0,
            graduate_retention=0.5,
            land_quota_mu=land[1],
            cadre_hours=hours[1],
            efficiency=0.8,
        ),
    ]


STOCKS = {
    ("A", "eng"): (100.0, 0.12),
    ("A", "voc"): (80.0, 0.15),
    # below the attrition floor 0.03: no program can retain anyone here (and it comes
    # before a type whose retention counts)
    ("B", "eng"): (30.0, 0.025),
    ("B", "voc"): (50.0, 0.08),
}

DEMAND = {("A", "eng"): 104.0, ("A", "voc"): 95.0, ("B", "eng"): 36.0, ("B", "voc"): 60.0}
"""First-year demand; it grows by 4 % a year."""


def build(
    programs: list[str],
    *,
    n_years: int = 2,
    sources: list[dict],
    budgets: dict[str, list[float]],
    land: tuple[float, float] = (20.0, 20.0),
    hours: tuple[float, float] = (500.0, 500.0),
    presence: tuple[tuple[str, str], ...] = (("A", "mat"), ("A", "bio")),
    objective: str = "talent_index",
    carry_over: bool = False,
    floors: tuple[PolicyFloor, ...] = (),
    pins: list[dict] | None = None,
    targets: list[dict] | None = None,
    min_coverage: float = 0.0,
    overrides: dict[str, dict] | None = None,
) -> Instance:
    """An instance with the given programs, budgets and limits, validated on load."""
    years = list(range(2025, 2025 + n_years))
    rows = []
    for p in programs:
        row = {"program": p, **PROGRAMS[p], **(overrides or {}).get(p, {})}
        if row.get("requires") and row["requires"] not in programs:
            row.pop("requires")
        rows.append(row)
    tables = {
        "counties": frame("counties", counties(land, hours)),
        "talent_types": frame(
            "talent_types",
            [
                dict(talent_type="eng", weight=2.0),
                dict(talent_type="voc", weight=1.0, graduate=True),
            ],
        ),
        "industries": frame("industries", [dict(industry="mat"), dict(industry="bio")]),
        "presence": frame("presence", [dict(county=c, industry=i) for c, i in presence]),
        "programs": frame("programs", rows),
        "responses": frame(
            "responses",
            [
                dict(program=p, talent_type=k, effect=e, value=v, scale=s)
                for p, k, e, v, s in RESPONSES
                if p in programs
            ],
        ),
        "stocks": frame(
            "stocks",
            [
                dict(county=c, talent_type=k, stock=s, attrition=a)
                for (c, k), (s, a) in STOCKS.items()
            ],
        ),
        "demand": frame(
            "demand",
            [
                dict(county=c, talent_type=k, year=y, demand=round(d * 1.04**n, 6))
                for (c, k), d in DEMAND.items()
                for n, y in enumerate(years)
            ],
        ),
        "sources": frame("sources", sources),
        "budgets": frame(
            "budgets",
            [
                dict(year=y, source=s, amount=amounts[n])
                for s, amounts in budgets.items()
                for n, y in enumerate(years)
            ],
        ),
        "pins": frame("pins", pins or []),
        "targets": frame("targets", targets or []),
    }
    scenario = Scenario(
        name="oracle",
        start_year=2025,
        n_years=n_years,
        objective=objective,
        attrition_floor=0.03,
        discount_rate=0.05,
        pwl_segments=6,
        carry_over=carry_over,
        floors=floors,
        min_coverage=min_coverage,
    )
    return validated(Instance(scenario=scenario, tables=tables, origin="tests/oracle"))


def validated(inst: Instance) -> Instance:
    """Write ``inst`` to a folder and load it back: the loader checks every rule."""
    with tempfile.TemporaryDirectory() as tmp:
        return load_instance(write_instance(inst, Path(tmp) / "instance"))


def with_scenario(inst: Instance, **changes) -> Instance:
    """``inst`` with scenario fields changed, validated again."""
    return validated(replace(inst, scenario=replace(inst.scenario, **changes)))


# --- the instances -------------------------------------------------------------------

SOURCES = [
    dict(source="fiscal"),
    # counterpart assistance, earmarked for chain alliances and stations
    dict(source="assist", programs="alliance;station"),
    # county B's own fund: pays only in B, so never for a city-kind program
    dict(source="cityfund", counties="B"),
]


def embedding(**kwargs) -> Instance:
    """Sites, chains (a requirement on the centre), a city program and stations.

    Two alliances possible in A, one in B; stations capped by townships (2 in A, 1 in
    B); land binds in A (a centre and one station), cadre time in B; three sources, one
    earmarked, one paying in B only.
    """
    spec = dict(
        sources=SOURCES,
        budgets={"fiscal": [30.0, 30.0], "assist": [12.0, 12.0], "cityfund": [15.0, 15.0]},
        land=(5.0, 10.0),
        hours=(300.0, 150.0),
        presence=(("A", "mat"), ("A", "bio"), ("B", "bio")),
    )
    spec.update(kwargs)
    return build(["centre", "alliance", "titles", "station"], **spec)


def embedding_small(**kwargs) -> Instance:
    """:func:`embedding` without B's industry, for the objectives that enumerate it twice."""
    return embedding(presence=(("A", "mat"), ("A", "bio")), **kwargs)


def platforms(**kwargs) -> Instance:
    """The platform multiplier, experts from sites and from units, a plan-wide cap.

    Enclaves (count, at most two across the plan area) need a platform open in the
    county and bring engineers that the platform multiplies, plus a decay-free expert
    FTE each; migratory-bird workstations bring experts that decay with travel time.
    """
    spec = dict(
        sources=[dict(source="fiscal"), dict(source="assist", programs="platform;enclave")],
        budgets={"fiscal": [40.0, 30.0], "assist": [25.0, 10.0]},
        land=(10.0, 10.0),
        hours=(500.0, 60.0),
    )
    spec.update(kwargs)
    return build(["platform", "birds", "enclave"], **spec)


def subsidy(**kwargs) -> Instance:
    """One year of the concave subsidy curve beside platforms that multiply it.

    The platform is paid from an earmarked source; the subsidy competes for the fiscal
    budget between A and B (efficiency 0.8).
    """
    spec = dict(
        n_years=1,
        sources=[dict(source="fiscal"), dict(source="assist", programs="platform")],
        budgets={"fiscal": [50.0], "assist": [35.0]},
        land=(10.0, 10.0),
    )
    spec.update(kwargs)
    return build(["platform", "subsidy"], **spec)


def carry(site: str = "centre", **kwargs) -> Instance:
    """Two years with carry-over: the subsidy, linear training spend and a centre.

    Only county A; the second year's fiscal money alone cannot open the centre. ``site``
    puts another program (e.g. ``"station"``) in the centre's place.
    """
    spec = dict(
        sources=[dict(source="fiscal"), dict(source="skills", programs="training")],
        budgets={"fiscal": [36.0, 8.0], "skills": [6.0, 2.0]},
        carry_over=True,
    )
    spec.update(kwargs)
    inst = build([site, "subsidy", "training"], **spec)
    keep = {t: f for t, f in inst.tables.items()}
    for name in ("counties", "stocks", "demand"):
        keep[name] = keep[name][keep[name]["county"] == "A"].reset_index(drop=True)
    keep["presence"] = keep["presence"][keep["presence"]["county"] == "A"].reset_index(drop=True)
    return validated(inst.replace_tables(**keep))


# --- the newer terms ------------------------------------------------------------------


def amend(
    inst: Instance,
    *,
    counties: dict[str, dict] | None = None,
    market_inflow: dict[tuple[str, str], float] | None = None,
    drives_demand: tuple[str, ...] = (),
    responses: list[tuple] | None = None,
    **scenario,
) -> Instance:
    """``inst`` with columns of counties, stocks and talent types set, effects added.

    ``counties`` maps a county to the columns to set (``city``, ``colleges``,
    ``energy_quota_tce``); ``market_inflow`` maps (county, type) to persons a year;
    ``drives_demand`` lists the types flagged; ``responses`` adds rows (program, type,
    effect, value[, scale]); ``scenario`` sets scenario fields (``demand_feedback``).
    """
    tables = dict(inst.tables)
    if counties:
        rows = tables["counties"].to_dict("records")
        for row in rows:
            row.update(counties.get(row["county"], {}))
        tables["counties"] = frame("counties", rows)
    if market_inflow:
        rows = tables["stocks"].to_dict("records")
        for row in rows:
            row["market_inflow"] = market_inflow.get((row["county"], row["talent_type"]), 0.0)
        tables["stocks"] = frame("stocks", rows)
    if drives_demand:
        rows = tables["talent_types"].to_dict("records")
        for row in rows:
            row["drives_demand"] = row["talent_type"] in drives_demand
        tables["talent_types"] = frame("talent_types", rows)
    if responses:
        rows = tables["responses"].to_dict("records")
        rows += [
            dict(zip(["program", "talent_type", "effect", "value", "scale"], row, strict=False))
            for row in responses
        ]
        tables["responses"] = frame("responses", rows)
    inst = inst.replace_tables(**tables)
    if scenario:
        inst = replace(inst, scenario=replace(inst.scenario, **scenario))
    return validated(inst)


MARKET = {("A", "eng"): 2.0, ("B", "voc"): 1.5}
"""Persons a year who arrive without any program (the do-nothing trend)."""


def lagged(**kwargs) -> Instance:
    """:func:`embedding_small` with market inflow and lags: the centre and titles act a
    year after they open (their costs, land and cadre time at once); stations at once."""
    spec: dict = dict(overrides={"centre": {"lag_years": 1}, "titles": {"lag_years": 1}})
    spec.update(kwargs)
    return amend(embedding_small(**spec), market_inflow=MARKET)


def poaching(**kwargs) -> Instance:
    """:func:`embedding_small` where half of what a station attracts and 30 % of what
    titles attract come from the other county (in proportion to its stock), with market
    inflow; the alliance acts a year late."""
    spec: dict = dict(
        overrides={
            "station": {"poach_share": 0.5},
            "titles": {"poach_share": 0.3},
            "alliance": {"lag_years": 1},
        }
    )
    spec.update(kwargs)
    return amend(embedding_small(**spec), market_inflow=MARKET)


def feedback(eta: float = 0.5, drivers: tuple[str, ...] = ("eng",), **kwargs) -> Instance:
    """:func:`embedding_small` with demand feedback ``eta`` from ``drivers``, market inflow
    and a lagged centre: demand of the second year answers the first year's useful talent
    of the driving types above its do-nothing path."""
    spec: dict = dict(overrides={"centre": {"lag_years": 1}})
    spec.update(kwargs)
    return amend(
        embedding_small(**spec),
        market_inflow=MARKET,
        drives_demand=drivers,
        demand_feedback=eta,
    )


def resources(same_city: bool = True, station_energy: float = 2.0, **kwargs) -> Instance:
    """:func:`embedding_small` with the newer limits on resources.

    Stations are capped by partner colleges (one in A, two in B) and at two across a
    prefecture city: with ``same_city`` A and B are in one, otherwise A is in a city and
    B's blank city is a city of its own. B has an energy quota of 5 tce a year (a centre
    uses 4, a station ``station_energy``) and 50 cadre hours; titles add 80 hours a year
    to every county a year after they open, which a second station in B (40 hours each)
    needs. A station in A is pinned from 2026, so in one city B keeps one.
    """
    spec: dict = dict(
        overrides={
            "station": {
                "cap_per_county": "colleges",
                "cap_per_city": 2.0,
                "energy_tce": station_energy,
            },
            "centre": {"energy_tce": 4.0},
            "titles": {"lag_years": 1},
        },
        land=(6.0, 10.0),
        hours=(300.0, 50.0),
        budgets={"fiscal": [60.0, 45.0], "assist": [20.0, 20.0], "cityfund": [20.0, 20.0]},
        pins=[dict(county="A", program="station", year=2026, action="min", value=1.0)],
    )
    spec.update(kwargs)
    return amend(
        embedding_small(**spec),
        counties={
            "A": dict(city="north", colleges=1, energy_quota_tce=None),
            "B": dict(city="north" if same_city else None, colleges=2, energy_quota_tce=5.0),
        },
        responses=[("titles", "", "cadre_capacity", 80.0)],
    )


def platforms_poaching(**kwargs) -> Instance:
    """:func:`platforms` where 40 % of a platform's own inflow and half of an enclave's
    come from the other county (before the platform multiplies them); the platform acts
    a year after it opens, with market inflow."""
    spec: dict = dict(
        overrides={
            "platform": {"poach_share": 0.4, "lag_years": 1},
            "enclave": {"poach_share": 0.5},
        }
    )
    spec.update(kwargs)
    return amend(platforms(**spec), market_inflow=MARKET)


def subsidy_war(n_years: int = 1, **kwargs) -> Instance:
    """:func:`subsidy` where half of what the subsidy attracts comes from the other county.

    A second curve of the subsidy, for vocational talent, has ``value`` 0: it shares the
    engineers' breakpoints and brings nobody.
    """
    spec: dict = dict(overrides={"subsidy": {"poach_share": 0.5}}, n_years=n_years)
    if n_years == 2:
        spec["budgets"] = {"fiscal": [40.0, 40.0], "assist": [35.0, 0.0]}
    spec.update(kwargs)
    return amend(
        subsidy(**spec),
        market_inflow=MARKET,
        responses=[("subsidy", "voc", "inflow_log", 0.0, 10.0)],
    )


def experts_feedback(eta: float = 0.5) -> Instance:
    """Migratory-bird workstations only: experts (FTE), no program that brings engineers.

    Engineers drive demand: the experts serving A in the first year raise useful talent,
    and so demand, above the do-nothing path, while A's data demand of the second year
    (60) is below its stock, so the fed-back demand binds there.
    """
    inst = build(
        ["birds"],
        sources=[dict(source="fiscal")],
        budgets={"fiscal": [20.0, 20.0]},
    )
    demand = inst.demand.copy()
    second = (demand["county"] == "A") & (demand["talent_type"] == "eng") & (demand["year"] == 2026)
    demand.loc[second, "demand"] = 60.0
    first = (demand["county"] == "A") & (demand["talent_type"] == "eng") & (demand["year"] == 2025)
    demand.loc[first, "demand"] = 200.0
    return amend(
        validated(inst.replace_tables(demand=demand)),
        drives_demand=("eng",),
        demand_feedback=eta,
    )


def poaching_thin(**kwargs) -> Instance:
    """:func:`poaching` where B holds a single vocational person at the start (0.8): A's
    stations draw from a pool of others' stock below one."""
    inst = poaching(**kwargs)
    thin = (inst.stocks["county"] == "B") & (inst.stocks["talent_type"] == "voc")
    return validated(
        inst.replace_tables(stocks=inst.stocks.assign(stock=inst.stocks["stock"].where(~thin, 0.8)))
    )


def placement(n_years: int = 2, **kwargs) -> Instance:
    """Graduate placement beside alliances: A keeps 30 % of its 40 graduates, B 50 % of 10.

    Placement spend buys ``2 exp(-0.2 h)`` graduates per 10k yuan (A 1 h, B 3 h and
    efficiency 0.8), at most 10 a county-year; 33 graduates leave their counties, fewer
    once A's alliances keep 40 % more each; vocational demand is raised so every placed
    graduate is useful.
    """
    spec: dict = dict(
        n_years=n_years,
        sources=[dict(source="fiscal")],
        budgets={"fiscal": [40.0] * n_years},
        presence=(("A", "mat"), ("A", "bio")),
    )
    spec.update(kwargs)
    inst = build(["alliance", "centre", "placement"], **spec)
    demand = inst.demand.assign(
        demand=[
            d * 1.5 if k == "voc" else d
            for k, d in zip(inst.demand["talent_type"], inst.demand["demand"], strict=True)
        ]
    )
    return validated(inst.replace_tables(demand=demand))
