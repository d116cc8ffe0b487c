"""Tiny planning instances built in code, small enough to enumerate every decision."""

from __future__ import annotations

import pandas as pd

from talentplan.data.instance import Instance, PolicyFloor, Scenario
from talentplan.data.schema import TABLES


def frame(table: str, rows: list[dict]) -> pd.DataFrame:
    """A table with every schema column, blanks filled with the schema defaults."""
    spec = next(t for t in TABLES if t.name == table)
    out = pd.DataFrame(rows, columns=[c.name for c in spec.columns])
    for col in spec.columns:
        if col.default is not None or not col.required:
            out[col.name] = out[col.name].where(out[col.name].notna(), col.default)
        if col.type == "float":
            out[col.name] = out[col.name].astype(float)
        elif col.type == "int":
            out[col.name] = out[col.name].astype("int64")
        elif col.type == "bool":
            out[col.name] = out[col.name].astype(bool)
        else:
            out[col.name] = out[col.name].fillna("").astype(str)
    return out


def tiny_instance(
    *,
    n_years: int = 2,
    budget: float = 60.0,
    floors: tuple[PolicyFloor, ...] = (),
    pins: list[dict] | None = None,
    objective: str = "talent_index",
    land_quota: float = 10.0,
    carry_over: bool = False,
) -> Instance:
    """Two counties, two talent types, one industry, one program of each decision kind.

    The integer decisions (2 sites x 2 counties, 1 alliance, 1 city program, station units
    0..2) are few enough that every combination can be enumerated.
    """
    years = list(range(2025, 2025 + n_years))
    counties = frame(
        "counties",
        [
            dict(
                county="A",
                population_10k=30.0,
                townships=1,
                travel_time_h=1.0,
                graduates=40.0,
                graduate_retention=0.3,
                land_quota_mu=land_quota,
                cadre_hours=500.0,
            ),
            dict(
                county="B",
                population_10k=10.0,
                townships=1,
                travel_time_h=3.0,
                graduates=0.0,
                land_quota_mu=land_quota,
                cadre_hours=300.0,
                efficiency=0.8,
            ),
        ],
    )
    types = frame(
        "talent_types",
        [dict(talent_type="eng", weight=2.0), dict(talent_type="voc", weight=1.0, graduate=True)],
    )
    industries = frame("industries", [dict(industry="mat")])
    presence = frame("presence", [dict(county="A", industry="mat")])
    programs = frame(
        "programs",
        [
            dict(
                program="centre",
                mechanism="service_integration",
                kind="site",
                fixed_cost=20.0,
                operating_cost=5.0,
                land_mu=4.0,
                cadre_hours=100.0,
            ),
            dict(
                program="platform",
                mechanism="platform",
                kind="site",
                fixed_cost=30.0,
                operating_cost=5.0,
                land_mu=8.0,
                cadre_hours=50.0,
            ),
            dict(
                program="alliance",
                mechanism="organisational_embedding",
                kind="chain",
                fixed_cost=10.0,
                operating_cost=2.0,
                cadre_hours=60.0,
            ),
            dict(
                program="titles",
                mechanism="political_absorption",
                kind="city",
                fixed_cost=15.0,
                operating_cost=1.0,
            ),
            dict(
                program="station",
                mechanism="cultivation",
                kind="count",
                unit_cost=8.0,
                operating_cost=1.0,
                cadre_hours=40.0,
                cap_per_county="townships",
            ),
            dict(program="subsidy", mechanism="market", kind="amount", cap_per_county="40"),
            dict(
                program="birds",
                mechanism="flexible_introduction",
                kind="site",
                fixed_cost=6.0,
                operating_cost=2.0,
                cadre_hours=20.0,
            ),
        ],
    )
    responses = frame(
        "responses",
        [
            dict(program="centre", talent_type="eng", effect="retention", value=0.5),
            dict(program="centre", talent_type="voc", effect="retention", value=0.3),
            dict(program="platform", talent_type="eng", effect="platform", value=0.6),
            dict(program="platform", talent_type="eng", effect="inflow", value=2.0),
            dict(program="alliance", talent_type="", effect="graduate_retention", value=0.4),
            dict(program="alliance", talent_type="voc", effect="retention", value=0.2),
            dict(program="titles", talent_type="eng", effect="retention", value=0.2),
            dict(program="station", talent_type="voc", effect="inflow", value=3.0),
            dict(program="station", talent_type="voc", effect="retained_per_unit", value=1.0),
            dict(program="subsidy", talent_type="eng", effect="inflow_log", value=6.0, scale=10.0),
            dict(program="birds", talent_type="eng", effect="fte", value=4.0, scale=0.3),
        ],
    )
    stocks = frame(
        "stocks",
        [
            dict(county="A", talent_type="eng", stock=100.0, attrition=0.12),
            dict(county="A", talent_type="voc", stock=80.0, attrition=0.15),
            dict(county="B", talent_type="eng", stock=30.0, attrition=0.10),
            dict(county="B", talent_type="voc", stock=50.0, attrition=0.08),
        ],
    )
    demand = frame(
        "demand",
        [
            dict(county=c, talent_type=k, year=y, demand=d)
            for y in years
            for c, k, d in [
                ("A", "eng", 110.0),
                ("A", "voc", 95.0),
                ("B", "eng", 40.0),
                ("B", "voc", 48.0),
            ]
        ],
    )
    sources = frame(
        "sources",
        [dict(source="fiscal", programs="*"), dict(source="assist", programs="platform;alliance")],
    )
    budgets = frame(
        "budgets",
        [
            dict(year=y, source=s, amount=a)
            for y in years
            for s, a in [("fiscal", budget), ("assist", budget / 2)]
        ],
    )
    tables = {
        "counties": counties,
        "talent_types": types,
        "industries": industries,
        "presence": presence,
        "programs": programs,
        "responses": responses,
        "stocks": stocks,
        "demand": demand,
        "budgets": budgets,
        "sources": sources,
        "pins": frame("pins", pins or []),
        "targets": frame("targets", []),
    }
    scenario = Scenario(
        name="tiny",
        start_year=2025,
        n_years=n_years,
        objective=objective,
        floors=floors,
        attrition_floor=0.03,
        carry_over=carry_over,
        pwl_segments=6,
    )
    return Instance(scenario=scenario, tables=tables, origin="tests/model/tiny.py")
