"""The documented rules that turn county facts into an instance's tables.

The bundled datasets (made by ``scripts/make_datasets.py`` from public county facts) and
:func:`talentplan.data.synthetic.synthetic` instances follow the same rules: stocks,
attrition, demand, resources and budgets. The bundled READMEs give the reasoning behind
every number here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from talentplan.data.bundled import CATALOGUE_COUNTIES, Catalogue
from talentplan.data.instance import PolicyFloor
from talentplan.data.schema import COUNTY_CAPS

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
        # demand intensity every county has regardless of industry: county hospitals,
        # schools, agricultural science stations, local government and services
        "base": [2.0, 2.0, 0.8, 0.5, 0.8],
    },
    index=pd.Index(["leading", "engineer", "craftsman", "rural", "vocational"], name="talent_type"),
)
"""Per-type assumptions (see the bundled READMEs for the reasoning)."""

INDUSTRY_RULES = pd.DataFrame(
    {
        # relative demand intensity of each type per present industry
        "leading": [1.0, 1.2, 1.0, 0.6, 0.6, 0.2],
        "engineer": [1.0, 0.9, 1.2, 0.8, 0.8, 0.4],
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
"""Base demand intensity of a talent type that :data:`TYPE_RULES` does not know (the known
types carry their own ``base``: public sector and services, present in every county)."""
BASE_GROWTH = 0.02
"""Yearly growth of the base demand (public services grow with the county, not with an
industry)."""

TREND_RULE = {"intercept": -0.00272, "urbanisation": 0.00608, "travel_time_h": 0.00043}
"""Yearly population growth of a county, ``g = b0 + b1 * urbanisation + b2 * travel_time_h``.

Fitted by least squares (:func:`fit_population_trend`) to the observed 2020-2023 growth of
Qingyuan's eight county-level units (2020 census, 2023 statistical bulletin); residuals
are in the qingyuan README. With the attrition it gives each county's market inflow
(:func:`market_inflow`)."""

DEMAND_FEEDBACK = 0.5
"""Persons of extra demand (all types) per extra useful leading talent or engineer the year
before: the paper's loop of industry and talent (assumption; see the qingyuan README)."""

BUDGET_SHARE = 0.5
"""Total budget over the plan / cost of funding every program everywhere."""
REFERENCE_SPEND = 1000.0
"""Spend (10k yuan a county-year) the budget rule counts for an amount program that has no
per-county cap: the scale of a county's settling-subsidy fund (10 million yuan a year)."""
COLLEGE_RULE = {"residents_10k_per_school": 50.0, "hub_graduates_per_college": 900.0}
"""Partner colleges of a county (``counties.csv`` ``colleges``, the cap of skill studios).

One county secondary vocational school (vocational education centre) per started 500,000
residents, plus the higher vocational colleges of a graduate hub at one per 900 of its
graduates who look for work locally (Qingcheng: 9,000 / 900 = the 10 colleges of the
Guangdong Vocational Education City, a fact). Assumption; see the qingyuan README."""
ENERGY_RULE = {"tce_per_person": 2.5, "growth": 0.02, "share": 0.005}
"""Energy quota of talent programs (``counties.csv`` ``energy_quota_tce``, tce a year).

Guangdong's energy-use control ("dual control" of total use and intensity) lets a county's
yearly energy use grow by a limited amount; talent facilities (laboratories, school and
clinic extensions, talent flats, studios) get ``share`` of the growth allowed over the
plan: ``share x tce_per_person x residents x growth x plan years``. With 2.5 tce a person
(about Guangdong's average), 2% a year and 1% for talent facilities over five years this
is 25 tce per 10k residents (rounded to 10 tce). Assumption; see the qingyuan README."""

SOURCE_SHARES = {"city_fiscal": 0.45, "provincial_transfer": 0.35, "counterpart_assistance": 0.20}


def travel_time(dist_km: np.ndarray | pd.Series) -> np.ndarray:
    """Convert great-circle distances (km) to travel hours to the core city.

    The rule is 15 min of access plus the road distance (1.25 x the straight line) at
    85 km/h, rounded to 0.01 h.
    """
    return np.round(0.25 + 1.25 * np.asarray(dist_km, dtype=float) / 85.0, 2)


def siphon(travel_h: np.ndarray) -> np.ndarray:
    """Attrition multiplier: 1.2 next to the core, falling to 0.8 far away."""
    return 0.8 + 0.5 * np.exp(-(np.asarray(travel_h, dtype=float) - 0.5) / 1.5)


def observed_trend(facts: pd.DataFrame) -> pd.Series:
    """Return each county's observed yearly population growth, 2020 census to 2023.

    ``facts`` needs ``pop_census_2020`` (persons) and ``population_10k`` (2023).
    """
    ratio = facts["population_10k"] * 1e4 / facts["pop_census_2020"]
    return pd.Series(ratio.to_numpy(float) ** (1 / 3) - 1, index=facts["county"], name="trend")


def fit_population_trend(facts: pd.DataFrame) -> dict[str, float]:
    """Fit :data:`TREND_RULE` to the observed trend of ``facts`` by least squares."""
    X = np.column_stack(
        [
            np.ones(len(facts)),
            facts["urbanisation"].to_numpy(float),
            facts["travel_time_h"].to_numpy(float),
        ]
    )
    coef = np.linalg.lstsq(X, observed_trend(facts).to_numpy(), rcond=None)[0]
    return dict(zip(TREND_RULE, (float(b) for b in coef), strict=True))


def population_trend(urbanisation: np.ndarray, travel_h: np.ndarray) -> np.ndarray:
    """Return the yearly population growth :data:`TREND_RULE` predicts for each county."""
    b = TREND_RULE
    return (
        b["intercept"]
        + b["urbanisation"] * np.asarray(urbanisation, dtype=float)
        + b["travel_time_h"] * np.asarray(travel_h, dtype=float)
    )


def market_inflow(
    stock: np.ndarray, attrition: np.ndarray, trend: np.ndarray, local: np.ndarray
) -> np.ndarray:
    """Return the market inflow (persons a year) that keeps a stock on its county's trend.

    Without any program a stock ``S`` moves as ``(1 - a0) S + m0 + local``; it grows at
    the county's trend ``g`` in the first year when ``m0 = (a0 + g) S - local``, where
    ``local`` is what the county's colleges already add (its graduates at the base
    retained share). Where ``local`` alone exceeds that, ``m0`` is 0 (the stock grows
    faster than the trend: a college hub). Arrays are county x type; ``trend`` is per
    county.
    """
    need = (attrition + np.asarray(trend, dtype=float)[:, None]) * stock - local
    return np.round(np.clip(need, 0.0, None), 1)


def type_rules(types: list[str]) -> pd.DataFrame:
    """Return the per-type assumptions of :data:`TYPE_RULES` for ``types``, one row each.

    A talent type that :data:`TYPE_RULES` does not know gets generic values.
    """
    generic = {
        "density": 20.0,
        "elasticity": 1.0,
        "rural": False,
        "attrition": 0.08,
        "siphon": 0.5,
        "shortage": 1.3,
        "base": BASE_INTENSITY,
    }
    rows = [TYPE_RULES.loc[k].to_dict() if k in TYPE_RULES.index else generic for k in types]
    return pd.DataFrame(rows, index=pd.Index(types, name="talent_type"))


def industry_rules(industries: list[str], types: list[str]) -> pd.DataFrame:
    """Return the per-industry assumptions of :data:`INDUSTRY_RULES`, one row each.

    Parameters
    ----------
    industries
        Industries of the catalogue; one that :data:`INDUSTRY_RULES` does not know gets
        generic values.
    types
        Talent types of the catalogue; in a known industry, a type the rules do not name
        gets intensity 0.5.

    Returns
    -------
    pandas.DataFrame
        Indexed by industry: the demand intensity of each type, then ``growth`` (yearly
        growth of the industry's demand) and ``p_present`` (probability that a synthetic
        county hosts the industry).
    """
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


def colleges(population_10k: np.ndarray, graduate_hub: np.ndarray) -> np.ndarray:
    """Partner colleges per county by :data:`COLLEGE_RULE` (whole numbers >= 1)."""
    schools = np.ceil(population_10k / COLLEGE_RULE["residents_10k_per_school"])
    hub = np.round(graduate_hub / COLLEGE_RULE["hub_graduates_per_college"])
    return (np.maximum(schools, 1.0) + hub).astype(np.int64)


def energy_quota(population_10k: np.ndarray, n_years: int) -> np.ndarray:
    """Yearly energy quota (tce) of talent programs per county by :data:`ENERGY_RULE`."""
    r = ENERGY_RULE
    per_10k = r["share"] * r["tce_per_person"] * 10_000 * r["growth"] * n_years
    return np.round(per_10k * population_10k, -1)


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
    tr = type_rules(types)
    ir = industry_rules(industries, types)
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
            "colleges": colleges(pop, facts["graduate_hub"].to_numpy(float)),
            "energy_quota_tce": energy_quota(pop, len(years)),
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
    graduate = cat.talent_types.set_index("talent_type").loc[types, "graduate"].to_numpy(bool)
    local = np.outer(
        counties["graduates"].to_numpy(float) * counties["graduate_retention"].to_numpy(float),
        graduate.astype(float),
    )
    m0 = market_inflow(stock, a0, population_trend(urban, travel), local)
    stocks = pd.DataFrame(
        {
            "county": np.repeat(facts["county"].to_numpy(object), n_k),
            "talent_type": np.tile(np.array(types, dtype=object), n_c),
            "stock": stock.ravel(),
            "attrition": a0.ravel(),
            "market_inflow": m0.ravel(),
        }
    )
    # demand: spread the plan-area shortage over the residents each type serves (rural
    # talents: rural residents; the others: all residents) x (base + present industries)
    pos = {c: n for n, c in enumerate(facts["county"])}
    ipos = {i: n for n, i in enumerate(industries)}
    pres = np.zeros((n_c, len(industries)))
    for c, i in presence[["county", "industry"]].itertuples(index=False):
        pres[pos[c], ipos[i]] = 1.0
    r = ir[types].to_numpy(float)  # industry x type
    base = tr["base"].to_numpy(float)[None, :]
    intensity = base + pres @ r  # county x type
    served = np.where(
        tr["rural"].to_numpy(bool)[None, :], (pop * (1 - urban))[:, None], pop[:, None]
    )
    weight = served * intensity
    total = tr["shortage"].to_numpy(float) * stock.sum(axis=0)
    d0 = weight / weight.sum(axis=0, keepdims=True) * total[None, :]
    growth = (base * BASE_GROWTH + pres @ (r * ir["growth"].to_numpy(float)[:, None])) / intensity
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
    their per-county cap every year (:data:`REFERENCE_SPEND` without a cap);
    ``cap_total`` (or ``cap_per_city`` times the number of cities) limits how many sites,
    units or alliances count. Returned per group of
    ``by`` (a county -> group map; one total when omitted); ``cap_total`` programs and city
    programs are shared by share of counties.
    """
    groups = by if by is not None else pd.Series("all", index=counties["county"])
    n_c = len(counties)
    size = groups.value_counts()
    pairs = presence.groupby(presence["county"].map(groups)).size()
    total = pd.Series(0.0, index=size.index)
    townships = counties.set_index("county")["townships"]
    for rec in programs.to_dict("records"):
        kind, cap = str(rec["kind"]), str(rec["cap_per_county"])
        cap_total = float(rec["cap_total"])
        per_city = float(rec.get("cap_per_city", math.nan))
        if math.isnan(cap_total) and not math.isnan(per_city):
            # a cap per prefecture city limits the plan area to that many per city
            cap_total = per_city * counties["city"].nunique()
        per = float(rec["fixed_cost"]) + float(rec["operating_cost"]) * n_years
        if kind == "site":
            share = size * (min(1.0, cap_total / n_c) if not math.isnan(cap_total) else 1.0)
            total += share * per
        elif kind == "chain":
            total += pairs.reindex(total.index, fill_value=0) * per
        elif kind == "city":
            total += per * size / n_c
        elif kind == "count":
            if cap in COUNTY_CAPS:
                each = counties.set_index("county")[cap] if cap in counties else townships * 0
                units = each.groupby(groups).sum()
            else:
                units = size * (float(cap) if cap else 0.0)
            if not math.isnan(cap_total):
                units = units * min(1.0, cap_total / max(float(units.sum()), 1.0))
            total += units * (float(rec["unit_cost"]) + float(rec["operating_cost"]) * n_years)
        else:
            total += size * (float(cap) if cap else REFERENCE_SPEND) * n_years
    return total


def budgets_table(amounts: dict[str, float], years: list[int]) -> pd.DataFrame:
    """Equal yearly budgets per source from totals over the plan (rounded to 10k yuan)."""
    rows = [(y, s, float(round(total / len(years)))) for y in years for s, total in amounts.items()]
    return pd.DataFrame(rows, columns=["year", "source", "amount"])


def floor_one_stop(years: list[int]) -> PolicyFloor:
    """Return the policy floor of every dataset: a one-stop centre in every county by year 3."""
    return PolicyFloor(
        name="one-stop centre everywhere",
        program="one_stop_centre",
        by_year=years[min(2, len(years) - 1)],
        min_units=1.0,
    )
