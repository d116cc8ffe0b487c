"""Bundled planning instances and a generator of synthetic ones.

Bundled datasets (each a folder with ``scenario.toml``, the CSV tables and a README that
lists sources and labels every assumption):

- ``qingyuan``: the 8 county-level units of Qingyuan, 2025-2029;
- ``northern_guangdong``: the 37 county-level units of the Northern Guangdong Ecological
  Development Area (Shaoguan, Heyuan, Meizhou, Qingyuan, Yunfu).

All datasets and :func:`synthetic` share one program catalogue, defined once as the
catalogue tables of the bundled ``qingyuan`` folder (``programs``, ``responses``,
``talent_types``, ``industries``, ``sources``). The rules that turn county facts into
stocks, attrition, demand, resources and budgets live here too (``derive_tables``) so the
bundled data (made by ``scripts/make_datasets.py``) and synthetic instances follow the
same documented assumptions.

Examples
--------
>>> from talentplan import datasets
>>> datasets.available()
['qingyuan', 'northern_guangdong']
>>> inst = datasets.synthetic(20, seed=1)
>>> len(inst.counties)
20
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from talentplan.data.instance import Instance, PolicyFloor, Scenario
from talentplan.errors import InstanceError

__all__ = ["available", "describe", "load", "synthetic"]

BUNDLED = ("qingyuan", "northern_guangdong")
ROOT = Path(__file__).resolve().parent / "data" / "bundled"
CATALOGUE_TABLES = ("programs", "responses", "talent_types", "industries", "sources")
CATALOGUE_COUNTIES = 8
"""Number of counties the catalogue's ``cap_total`` values are set for (Qingyuan)."""


def available() -> list[str]:
    """Names of the bundled datasets."""
    return list(BUNDLED)


def path(name: str) -> Path:
    """Folder of a bundled dataset."""
    if name not in BUNDLED:
        raise InstanceError(f"unknown bundled dataset '{name}'; available: {', '.join(BUNDLED)}")
    return ROOT / name


def load(name: str) -> Instance:
    """Load a bundled dataset (or ``synthetic:N[:SEED]``), validated.

    Examples
    --------
    >>> from talentplan import datasets
    >>> datasets.load("northern_guangdong").counties.shape[0]
    37
    """
    if name.startswith("synthetic:"):
        return from_spec(name)
    from talentplan.data.io import read_folder

    return read_folder(path(name), origin=f"bundled:{name}")


def describe(name: str) -> str:
    """The README of a bundled dataset: description, sources and assumptions."""
    return (path(name) / "README.md").read_text(encoding="utf-8")


def from_spec(spec: str) -> Instance:
    """An instance from ``synthetic:N[:SEED]``."""
    parts = spec.split(":")
    try:
        if len(parts) not in (2, 3):
            raise ValueError
        n = int(parts[1])
        seed = int(parts[2]) if len(parts) == 3 else 0
        if n < 1 or seed < 0:
            raise ValueError
    except ValueError as exc:
        raise InstanceError(
            f"cannot read '{spec}': expected synthetic:N or synthetic:N:SEED with whole "
            "numbers N >= 1 and SEED >= 0, e.g. synthetic:50:1"
        ) from exc
    return synthetic(n, seed=seed)


# --- the catalogue ------------------------------------------------------------------------


@dataclass(frozen=True)
class Catalogue:
    """The program catalogue and the talent types, industries and sources it refers to."""

    programs: pd.DataFrame
    responses: pd.DataFrame
    talent_types: pd.DataFrame
    industries: pd.DataFrame
    sources: pd.DataFrame


@functools.lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The catalogue tables of the bundled ``qingyuan`` folder, each validated on its own."""
    from talentplan.data.io import _read_csv
    from talentplan.data.schema import TABLE_BY_NAME
    from talentplan.data.validate import Collector, parse_table
    from talentplan.errors import InstanceValidationError

    out = Collector()
    frames = {}
    for name in CATALOGUE_TABLES:
        parsed = parse_table(TABLE_BY_NAME[name], _read_csv(ROOT / "qingyuan" / f"{name}.csv"), out)
        if parsed is not None:
            frames[name] = parsed.frame
    if out.errors:
        raise InstanceValidationError(out.errors)
    return Catalogue(**frames)


# --- rules that turn county facts into an instance ----------------------------------------

TYPE_RULES = pd.DataFrame(
    {
        # persons per 10k residents at 50% urbanisation
        "density": [0.10, 25.0, 55.0, 45.0, 35.0],
        # stock ~ (urbanisation / 0.5) ** elasticity; rural talent uses the rural share
        "elasticity": [2.0, 1.5, 1.0, 1.0, 1.0],
        "rural": [False, False, False, True, False],
        # baseline yearly attrition before the siphon adjustment
        "attrition": [0.10, 0.10, 0.08, 0.05, 0.16],
        # sensitivity of attrition to proximity to the core city (wage gap of the type)
        "siphon": [1.0, 1.0, 0.7, 0.3, 1.0],
        # plan-area demand in the first year / plan-area stock (the shortage)
        "shortage": [2.0, 1.45, 1.35, 1.25, 1.30],
    },
    index=pd.Index(["leading", "engineer", "craftsman", "rural", "vocational"], name="talent_type"),
)
"""Per-type assumptions (see the bundled READMEs for the reasoning)."""

INDUSTRY_RULES = pd.DataFrame(
    {
        # relative demand intensity of each type per present industry
        "leading": [1.0, 1.2, 1.0, 0.6, 0.2, 0.05],
        "engineer": [1.0, 0.9, 1.2, 0.8, 0.2, 0.1],
        "craftsman": [1.0, 0.6, 1.2, 0.6, 0.3, 0.3],
        "rural": [0.1, 0.3, 0.1, 0.4, 1.5, 1.0],
        "vocational": [1.0, 0.6, 1.2, 0.6, 0.5, 0.6],
        # yearly growth of the industry's demand
        "growth": [0.06, 0.08, 0.08, 0.07, 0.03, 0.04],
        # probability that a synthetic county hosts the industry
        "p_present": [0.2, 0.12, 0.2, 0.2, 0.7, 0.5],
    },
    index=pd.Index(
        [
            "new_materials",
            "biomedicine",
            "intelligent_manufacturing",
            "green_energy",
            "modern_agriculture",
            "eco_tourism",
        ],
        name="industry",
    ),
)
BASE_INTENSITY = 0.1
"""Demand intensity every county has regardless of industry (public sector, services)."""
BASE_GROWTH = 0.02

BUDGET_SHARE = 0.5
"""Total budget over the plan / cost of funding every program everywhere."""
SOURCE_SHARES = {"city_fiscal": 0.45, "provincial_transfer": 0.35, "counterpart_assistance": 0.20}


def travel_time(dist_km: np.ndarray | pd.Series) -> np.ndarray:
    """Hours to the core city from great-circle km: 15 min access plus road distance
    (1.25 x straight line) at 85 km/h."""
    return np.round(0.25 + 1.25 * np.asarray(dist_km, dtype=float) / 85.0, 2)


def siphon(travel_h: np.ndarray) -> np.ndarray:
    """Attrition multiplier: 1.2 next to the core, falling to 0.8 far away."""
    return 0.8 + 0.5 * np.exp(-(np.asarray(travel_h, dtype=float) - 0.5) / 1.5)


def _type_rules(types: list[str]) -> pd.DataFrame:
    generic = {
        "density": 20.0,
        "elasticity": 1.0,
        "rural": False,
        "attrition": 0.08,
        "siphon": 0.5,
        "shortage": 1.3,
    }
    rows = [TYPE_RULES.loc[k].to_dict() if k in TYPE_RULES.index else generic for k in types]
    return pd.DataFrame(rows, index=pd.Index(types, name="talent_type"))


def _industry_rules(industries: list[str], types: list[str]) -> pd.DataFrame:
    out = []
    for i in industries:
        if i in INDUSTRY_RULES.index:
            row: dict[str, float] = {
                str(k): float(v) for k, v in INDUSTRY_RULES.loc[i].to_dict().items()
            }
            out.append(
                {k: row.get(k, 0.5) for k in types}
                | {"growth": row["growth"], "p_present": row["p_present"]}
            )
        else:
            out.append(
                {k: 0.2 if k == "rural" else 0.5 for k in types}
                | {"growth": 0.05, "p_present": 0.2}
            )
    return pd.DataFrame(out, index=pd.Index(industries, name="industry"))


def derive_tables(
    facts: pd.DataFrame, presence: pd.DataFrame, cat: Catalogue, years: list[int]
) -> dict[str, pd.DataFrame]:
    """Counties, stocks and demand from county facts by the documented rules.

    Parameters
    ----------
    facts
        One row per county: ``county``, ``name``, ``city``, ``population_10k``,
        ``urbanisation`` (share), ``area_km2``, ``townships``, ``travel_time_h`` and
        ``graduate_hub`` (extra vocational graduates a year from colleges in the county).
    presence
        ``county``, ``industry`` pairs.
    cat
        The catalogue (talent types and industries used).
    years
        Plan years.
    """
    types = list(cat.talent_types["talent_type"])
    industries = list(cat.industries["industry"])
    tr = _type_rules(types)
    ir = _industry_rules(industries, types)
    pop = facts["population_10k"].to_numpy(float)
    urban = facts["urbanisation"].to_numpy(float)
    travel = facts["travel_time_h"].to_numpy(float)
    townships = facts["townships"].to_numpy(int)
    counties = pd.DataFrame(
        {
            "county": facts["county"],
            "name": facts["name"],
            "city": facts["city"],
            "population_10k": pop,
            "townships": townships,
            "travel_time_h": travel,
            "graduates": np.round(15.0 * pop + facts["graduate_hub"].to_numpy(float))
            * float(cat.talent_types["graduate"].any()),
            "graduate_retention": np.round(0.10 + 0.15 * urban, 3),
            "land_quota_mu": np.round(10.0 + 0.015 * facts["area_km2"].to_numpy(float)),
            "cadre_hours": np.round(1200.0 + 40.0 * pop + 80.0 * townships, -1),
            "efficiency": np.round(np.clip(0.95 - 0.05 * travel, 0.6, 0.95), 3),
        }
    )
    # stocks: persons = population x density x urbanisation profile
    density = tr["density"].to_numpy(float)
    el = tr["elasticity"].to_numpy(float)
    share = np.where(
        tr["rural"].to_numpy(bool)[None, :], (1 - urban[:, None]) / 0.5, urban[:, None] / 0.5
    )
    stock = np.round(pop[:, None] * density[None, :] * share ** el[None, :], 1)
    mult = siphon(travel)
    a0 = tr["attrition"].to_numpy(float)[None, :] * (
        1 + tr["siphon"].to_numpy(float)[None, :] * (mult[:, None] - 1)
    )
    a0 = np.round(np.clip(a0, 0.0, 0.35), 4)
    n_c, n_k = stock.shape
    stocks = pd.DataFrame(
        {
            "county": np.repeat(facts["county"].to_numpy(object), n_k),
            "talent_type": np.tile(np.array(types, dtype=object), n_c),
            "stock": stock.ravel(),
            "attrition": a0.ravel(),
        }
    )
    # demand: spread the plan-area shortage over counties by population x industries
    pos = {c: n for n, c in enumerate(facts["county"])}
    ipos = {i: n for n, i in enumerate(industries)}
    pres = np.zeros((n_c, len(industries)))
    for c, i in presence[["county", "industry"]].itertuples(index=False):
        pres[pos[c], ipos[i]] = 1.0
    r = ir[types].to_numpy(float)  # industry x type
    intensity = BASE_INTENSITY + pres @ r  # county x type
    weight = pop[:, None] * intensity
    total = tr["shortage"].to_numpy(float) * stock.sum(axis=0)
    d0 = weight / weight.sum(axis=0, keepdims=True) * total[None, :]
    growth = (
        BASE_INTENSITY * BASE_GROWTH + pres @ (r * ir["growth"].to_numpy(float)[:, None])
    ) / intensity
    steps = np.arange(len(years), dtype=float)
    dem = d0[:, :, None] * (1 + growth[:, :, None]) ** steps[None, None, :]
    demand = pd.DataFrame(
        {
            "county": np.repeat(facts["county"].to_numpy(object), n_k * len(years)),
            "talent_type": np.tile(np.repeat(np.array(types, dtype=object), len(years)), n_c),
            "year": np.tile(np.array(years, dtype=np.int64), n_c * n_k),
            "demand": np.round(dem.ravel(), 1),
        }
    )
    return {"counties": counties, "stocks": stocks, "demand": demand}


def scale_caps(programs: pd.DataFrame, n_counties: int) -> pd.DataFrame:
    """``cap_total`` scaled from the catalogue's 8 counties to ``n_counties`` (rounded up)."""
    out = programs.copy()
    factor = n_counties / CATALOGUE_COUNTIES
    out["cap_total"] = [
        v if math.isnan(v) else float(max(v, math.ceil(v * factor))) for v in out["cap_total"]
    ]
    return out


def full_cost(
    programs: pd.DataFrame,
    counties: pd.DataFrame,
    presence: pd.DataFrame,
    n_years: int,
    by: pd.Series | None = None,
) -> pd.Series:
    """Cost (10k yuan) of running every program everywhere at its cap for the whole plan.

    Sites open in the first year; units are all bought in the first year; amounts spend
    their per-county cap every year; ``cap_total`` limits how many sites, units or
    alliances count. Returned per group of ``by`` (a county -> group map; one total when
    omitted); ``cap_total`` programs and city programs are shared by share of counties.
    """
    groups = by if by is not None else pd.Series("all", index=counties["county"])
    n_c = len(counties)
    size = groups.value_counts()
    pairs = presence.groupby(presence["county"].map(groups)).size()
    total = pd.Series(0.0, index=size.index)
    townships = counties.set_index("county")["townships"]
    units_tw = townships.groupby(groups).sum()
    for rec in programs.to_dict("records"):
        kind, cap = str(rec["kind"]), str(rec["cap_per_county"])
        cap_total = float(rec["cap_total"])
        per = float(rec["fixed_cost"]) + float(rec["operating_cost"]) * n_years
        if kind == "site":
            share = size * (min(1.0, cap_total / n_c) if not math.isnan(cap_total) else 1.0)
            total += share * per
        elif kind == "chain":
            total += pairs.reindex(total.index, fill_value=0) * per
        elif kind == "city":
            total += per * size / n_c
        elif kind == "count":
            units = units_tw if cap == "townships" else size * (float(cap) if cap else 0.0)
            if not math.isnan(cap_total):
                units = units * min(1.0, cap_total / max(float(units.sum()), 1.0))
            total += units * (float(rec["unit_cost"]) + float(rec["operating_cost"]) * n_years)
        else:
            total += size * (float(cap) if cap else 0.0) * n_years
    return total


def budgets_table(amounts: dict[str, float], years: list[int]) -> pd.DataFrame:
    """Equal yearly budgets per source from totals over the plan (rounded to 10k yuan)."""
    rows = [(y, s, float(round(total / len(years)))) for y in years for s, total in amounts.items()]
    return pd.DataFrame(rows, columns=["year", "source", "amount"])


def floor_one_stop(years: list[int]) -> PolicyFloor:
    """The policy floor of every dataset: a one-stop centre in every county by year 3."""
    return PolicyFloor(
        name="one-stop centre everywhere",
        program="one_stop_centre",
        by_year=years[min(2, len(years) - 1)],
        min_units=1.0,
    )


# --- synthetic instances ------------------------------------------------------------------


def synthetic(
    n_counties: int,
    *,
    seed: int = 0,
    n_years: int = 5,
    n_talent_types: int = 5,
    n_industries: int = 6,
    start_year: int = 2025,
) -> Instance:
    """A generated instance of any size with the bundled catalogue and rules.

    Counties get random populations, urbanisation, areas and distances to the core city;
    industries are present at random; everything else follows the same rules as the
    bundled datasets (see ``derive_tables``). ``cap_total`` values scale with the number
    of counties and budgets are half the cost of funding every program everywhere.

    Parameters
    ----------
    n_counties
        Number of counties (>= 1).
    seed
        Random seed: the same arguments always give the same instance.
    n_years, start_year
        Plan years.
    n_talent_types
        The first types of the catalogue (leading, engineer, craftsman, rural,
        vocational); more adds generic types ``type6``, ... that no program targets.
    n_industries
        The first industries of the catalogue; more adds generic ``industry7``, ...

    Examples
    --------
    >>> from talentplan.datasets import synthetic
    >>> a, b = synthetic(30, seed=3), synthetic(30, seed=3)
    >>> a.hash() == b.hash()
    True
    """
    for name, value, low in (
        ("n_counties", n_counties, 1),
        ("n_years", n_years, 1),
        ("n_talent_types", n_talent_types, 1),
        ("n_industries", n_industries, 1),
        ("seed", seed, 0),
    ):
        if not isinstance(value, (int, np.integer)) or value < low:
            raise InstanceError(f"{name} must be a whole number >= {low}, got {value!r}")
    from talentplan.data.validate import RawTable, build_instance

    rng = np.random.default_rng(seed)
    cat = _synthetic_catalogue(n_talent_types, n_industries, n_counties)
    years = list(range(start_year, start_year + n_years))
    width = len(str(n_counties))
    ids = np.array([f"c{n:0{width}d}" for n in range(1, n_counties + 1)], dtype=object)
    pop = np.clip(rng.lognormal(np.log(30.0), 0.7, n_counties), 2.0, 250.0).round(2)
    urban = np.clip(
        0.25 + 0.12 * np.log(pop / 10) + rng.normal(0, 0.08, n_counties), 0.2, 0.95
    ).round(3)
    area = np.clip(rng.lognormal(np.log(2000.0), 0.6, n_counties), 200, 12000).round()
    dist = rng.uniform(40, 450, n_counties)
    facts = pd.DataFrame(
        {
            "county": ids,
            "name": [f"County {n}" for n in range(1, n_counties + 1)],
            "city": [f"city{(n // 8) + 1}" for n in range(n_counties)],
            "population_10k": pop,
            "urbanisation": urban,
            "area_km2": area,
            "townships": np.clip(np.round(3 + area / 260), 2, 60).astype(int),
            "travel_time_h": travel_time(dist),
            "graduate_hub": np.where(urban > 0.8, 3000.0, 0.0),
        }
    )
    industries = list(cat.industries["industry"])
    p = _industry_rules(industries, list(cat.talent_types["talent_type"]))["p_present"]
    mask = rng.random((n_counties, len(industries))) < p.to_numpy()[None, :]
    empty = ~mask.any(axis=1)
    mask[empty, rng.integers(0, len(industries), int(empty.sum()))] = True
    ci, ii = np.nonzero(mask)
    presence = pd.DataFrame({"county": ids[ci], "industry": np.array(industries, dtype=object)[ii]})
    tables = derive_tables(facts, presence, cat, years)
    cost = float(full_cost(cat.programs, tables["counties"], presence, n_years).sum())
    budget = {s: BUDGET_SHARE * cost * share for s, share in SOURCE_SHARES.items()}
    scenario = Scenario(
        name=f"synthetic-{n_counties}-{seed}",
        description=f"Synthetic instance: {n_counties} counties, seed {seed}.",
        start_year=start_year,
        n_years=n_years,
        seed=seed,
        floors=(floor_one_stop(years),),
        sources="Generated by talentplan.datasets.synthetic: every number is an assumption "
        "(rules documented in the qingyuan dataset README).",
    )
    raw = {
        **tables,
        "presence": presence,
        "budgets": budgets_table(budget, years),
        "programs": cat.programs,
        "responses": cat.responses,
        "talent_types": cat.talent_types,
        "industries": cat.industries,
        "sources": cat.sources,
    }
    return build_instance(
        {k: RawTable(v.reset_index(drop=True), f"synthetic[{k}]") for k, v in raw.items()},
        scenario,
        origin=f"synthetic:{n_counties}:{seed}",
        label=lambda t: f"synthetic[{t}]",
    )


def _synthetic_catalogue(n_types: int, n_industries: int, n_counties: int) -> Catalogue:
    cat = catalogue()
    base_types = list(cat.talent_types["talent_type"])
    order = {k: n for n, k in enumerate(TYPE_RULES.index)}
    tt = cat.talent_types.sort_values("talent_type", key=lambda s: s.map(order))
    tt = tt.iloc[:n_types].copy()
    extra = [f"type{n}" for n in range(len(base_types) + 1, n_types + 1)]
    if extra:
        tt = pd.concat(
            [
                tt,
                pd.DataFrame(
                    {"talent_type": extra, "name": extra, "weight": 1.0, "graduate": False}
                ),
            ],
            ignore_index=True,
        )
    keep = set(tt["talent_type"])
    has_graduate = bool(tt["graduate"].any())
    rs = cat.responses
    rs = rs[rs["talent_type"].isin(keep) | ((rs["talent_type"] == "") & has_graduate)]
    order_i = {i: n for n, i in enumerate(INDUSTRY_RULES.index)}
    ind = cat.industries.sort_values("industry", key=lambda s: s.map(order_i))
    ind = ind.iloc[:n_industries].copy()
    extra_i = [f"industry{n}" for n in range(len(cat.industries) + 1, n_industries + 1)]
    if extra_i:
        ind = pd.concat(
            [ind, pd.DataFrame({"industry": extra_i, "name": extra_i})], ignore_index=True
        )
    return Catalogue(
        programs=scale_caps(cat.programs, n_counties),
        responses=rs.reset_index(drop=True),
        talent_types=tt,
        industries=ind,
        sources=cat.sources,
    )
