"""Synthetic planning instances of any size, from the bundled catalogue and rules.

Examples
--------
>>> from talentplan.data.synthetic import synthetic
>>> len(synthetic(20, seed=1).counties)
20
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from talentplan.data import derive
from talentplan.data.bundled import Catalogue, catalogue
from talentplan.data.instance import Instance, Scenario
from talentplan.data.size import check_fits_in_memory
from talentplan.data.validate import RawTable, build_instance
from talentplan.errors import InstanceError

__all__ = ["from_spec", "synthetic"]

SPEC_PREFIX = "synthetic:"


def from_spec(spec: str) -> Instance:
    """Generate the instance that a ``synthetic:N[:SEED]`` spec names."""
    parts = spec.split(":")
    try:
        if len(parts) not in (2, 3) or parts[0] != SPEC_PREFIX.rstrip(":"):
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


def synthetic(
    n_counties: int,
    *,
    seed: int = 0,
    n_years: int = 5,
    n_talent_types: int = 5,
    n_industries: int = 6,
    start_year: int = 2025,
) -> Instance:
    """Generate an instance of any size with the bundled catalogue and rules.

    Counties get random populations, urbanisation, areas and distances to the core city;
    industries are present at random; everything else follows the same rules as the
    bundled datasets (:func:`talentplan.data.derive.derive_tables`). ``cap_total`` values
    scale with the number of counties and budgets are half the cost of funding every
    program everywhere.

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
    >>> from talentplan.data.synthetic import synthetic
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
    check_fits_in_memory(int(n_counties), int(n_years), f"synthetic:{n_counties}")
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
            "travel_time_h": derive.travel_time(dist),
            "graduate_hub": np.where(urban > 0.8, 3000.0, 0.0),
        }
    )
    industries = list(cat.industries["industry"])
    p = derive.industry_rules(industries, list(cat.talent_types["talent_type"]))["p_present"]
    mask = rng.random((n_counties, len(industries))) < p.to_numpy()[None, :]
    empty = ~mask.any(axis=1)
    mask[empty, rng.integers(0, len(industries), int(empty.sum()))] = True
    ci, ii = np.nonzero(mask)
    presence = pd.DataFrame({"county": ids[ci], "industry": np.array(industries, dtype=object)[ii]})
    tables = derive.derive_tables(facts, presence, cat, years)
    cost = float(derive.full_cost(cat.programs, tables["counties"], presence, n_years).sum())
    budget = {s: derive.BUDGET_SHARE * cost * share for s, share in derive.SOURCE_SHARES.items()}
    scenario = Scenario(
        name=f"synthetic-{n_counties}-{seed}",
        description=f"Synthetic instance: {n_counties} counties, seed {seed}.",
        start_year=start_year,
        n_years=n_years,
        seed=seed,
        floors=(derive.floor_one_stop(years),),
        demand_feedback=derive.DEMAND_FEEDBACK,
        sources="Generated by talentplan.datasets.synthetic: every number is an assumption "
        "(rules documented in the qingyuan dataset README).",
    )
    raw = {
        **tables,
        "presence": presence,
        "budgets": derive.budgets_table(budget, years),
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
    order = {k: n for n, k in enumerate(derive.TYPE_RULES.index)}
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
    order_i = {i: n for n, i in enumerate(derive.INDUSTRY_RULES.index)}
    ind = cat.industries.sort_values("industry", key=lambda s: s.map(order_i))
    ind = ind.iloc[:n_industries].copy()
    extra_i = [f"industry{n}" for n in range(len(cat.industries) + 1, n_industries + 1)]
    if extra_i:
        ind = pd.concat(
            [ind, pd.DataFrame({"industry": extra_i, "name": extra_i})], ignore_index=True
        )
    return Catalogue(
        programs=derive.scale_caps(cat.programs, n_counties),
        responses=rs.reset_index(drop=True),
        talent_types=tt,
        industries=ind,
        sources=cat.sources,
    )
