"""Regenerate the bundled datasets and the editable copy in models/qingyuan.

Run from the repository root:  python scripts/make_datasets.py

Inputs: the catalogue tables of src/talentplan/data/bundled/qingyuan (programs,
responses, talent_types, industries, sources; maintained by hand), the public facts
below (from the Qingyuan Statistics Bureau, see the dataset READMEs) and the labelled
assumptions below. Outputs: counties, presence, stocks, demand and budgets of qingyuan;
every table of northern_guangdong; a copy of qingyuan in models/qingyuan. The rules that
turn facts into tables live in talentplan.data.derive (shared with synthetic instances).
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from talentplan.data import derive as ds
from talentplan.data.bundled import catalogue
from talentplan.data.folder import read_folder, write_folder_files
from talentplan.data.instance import Scenario
from talentplan.data.scenario_toml import scenario_to_toml

if TYPE_CHECKING:
    from talentplan.data.instance import Instance

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "src" / "talentplan" / "data" / "bundled"
YEARS = list(range(2025, 2030))
GZ = (113.2644, 23.1291)
"""Central Guangzhou (lon, lat), as in the facts README."""

# --- Qingyuan: public facts (qingyuan_counties.csv of the shared facts folder) ---------------
# pop_census_2020: Seventh National Population Census communique No. 2 (Qingyuan Statistics
# Bureau, 21 May 2021); pop_2023_10k, urbanization_2023: Qingyuan 2023 statistical
# bulletin; area_km2: standard administrative areas; dist_guangzhou_km: great-circle
# distance from the county seat to central Guangzhou.
QY_FACTS = [
    # county, name_zh, kind, pop_census_2020, pop_2023_10k, urbanization_2023, area, dist
    ("Qingcheng", "清城区", "district", 1119901, 112.97, 0.858, 927, 66),
    ("Qingxin", "清新区", "district", 618523, 61.86, 0.478, 2579, 72),
    ("Fogang", "佛冈县", "county", 315502, 31.67, 0.458, 1302, 87),
    ("Yangshan", "阳山县", "county", 367175, 36.80, 0.440, 3372, 162),
    ("Lianshan", "连山壮族瑶族自治县", "autonomous county", 95136, 9.56, 0.423, 1264, 200),
    ("Liannan", "连南瑶族自治县", "autonomous county", 134691, 13.56, 0.472, 1231, 203),
    ("Yingde", "英德市", "county-level city", 941325, 94.46, 0.446, 5679, 118),
    ("Lianzhou", "连州市", "county-level city", 377220, 37.79, 0.478, 2661, 205),
]
# Assumption: townships and subdistricts per county, approximate counts from general
# knowledge of the administrative divisions (not in the facts folder; total 85).
QY_TOWNSHIPS = {
    "Qingcheng": 8,
    "Qingxin": 8,
    "Fogang": 6,
    "Yangshan": 13,
    "Lianshan": 7,
    "Liannan": 7,
    "Yingde": 24,
    "Lianzhou": 12,
}
# Assumption: the Guangzhou-Qingyuan intercity railway (16-33 min to Huadu, a fact) puts
# Qingcheng at 0.75 h door to door instead of the road rule's 1.22 h.
QY_TRAVEL_OVERRIDE = {"Qingcheng": 0.75}
# Assumption: the Guangdong Vocational Education City (10 colleges, ~110,000 teachers and
# students at end-2021: a fact) lies in Qingcheng and adds 9,000 graduates a year who look
# for work locally (about a third of a yearly cohort of ~30,000).
QY_HUBS = {"Qingcheng": 9000.0}
# Assumption: county-industry presence, from the paper's positioning by endowment.
QY_PRESENCE = {
    "Qingcheng": ["new_materials", "biomedicine", "intelligent_manufacturing", "green_energy"],
    "Qingxin": ["new_materials", "intelligent_manufacturing", "modern_agriculture", "eco_tourism"],
    "Fogang": ["biomedicine", "intelligent_manufacturing", "modern_agriculture", "eco_tourism"],
    "Yangshan": ["green_energy", "modern_agriculture", "eco_tourism"],
    "Lianshan": ["modern_agriculture", "eco_tourism"],
    "Liannan": ["modern_agriculture", "eco_tourism"],
    "Yingde": ["new_materials", "green_energy", "modern_agriculture", "eco_tourism"],
    "Lianzhou": ["new_materials", "modern_agriculture", "eco_tourism"],
}

QY_SOURCES_NOTE = (
    "Public facts: population 2023 and urbanisation 2023 from the Qingyuan 2023 "
    "statistical bulletin (city total 3.9867 million, 57.16% urban); 2020 census from the "
    "Qingyuan Seventh National Population Census communique No. 2 (Qingyuan Statistics "
    "Bureau, 21 May 2021); areas from the standard administrative area figures (sum 19,015 "
    "km2); distances are great-circle km from each county seat to central Guangzhou "
    "(113.2644E, 23.1291N). Everything else (townships, travel times, talent stocks, "
    "attrition, demand, costs, responses, budgets, land quotas, cadre hours) is a labelled "
    "assumption: see README.md of this dataset."
)

# --- Northern Guangdong: assumptions for the 29 units outside Qingyuan ---------------------
# City populations (10k): Yunfu 238.34 is a fact (2020 census); Shaoguan, Heyuan and Meizhou
# are assumptions that split the remainder of the area's 1,594 (2022, a fact) after
# Qingyuan and Yunfu in the proportions 285.5 : 283.8 : 387.3 (approximate 2020 census
# figures from general knowledge, not verified here).
NG_CITY_POP = {"Yunfu": 238.34}
_REST = 1594.0 - 398.67 - 238.34
_PROP = {"Shaoguan": 285.5, "Heyuan": 283.8, "Meizhou": 387.3}
NG_CITY_POP |= {c: _REST * v / sum(_PROP.values()) for c, v in _PROP.items()}
# City areas (km2): Qingyuan's 19,015 is a fact and so is the area total 76,700; the other
# four are approximate figures (assumption) scaled so that the five sum to 76,700.
_AREA = {"Shaoguan": 18413.0, "Heyuan": 15654.0, "Meizhou": 15865.0, "Yunfu": 7785.0}
NG_CITY_AREA = {c: v * (76700.0 - 19015.0) / sum(_AREA.values()) for c, v in _AREA.items()}
# Per county: name_zh, kind, population weight, area weight, urbanisation, seat lon, lat,
# graduate hub, present industries. Weights split the city totals; all assumptions.
NG_UNITS: dict[str, list[tuple]] = {
    "Shaoguan": [
        ("Wujiang", "武江区", "district", 0.11, 0.03, 0.80, 113.59, 24.80, 0, "NI"),
        ("Zhenjiang", "浈江区", "district", 0.17, 0.03, 0.80, 113.61, 24.80, 2500, "NIB"),
        ("Qujiang", "曲江区", "district", 0.11, 0.09, 0.60, 113.60, 24.68, 0, "NG"),
        ("Shixing", "始兴县", "county", 0.07, 0.12, 0.42, 114.06, 24.95, 0, "AGT"),
        ("Renhua", "仁化县", "county", 0.06, 0.12, 0.42, 113.75, 25.09, 0, "ATG"),
        ("Wengyuan", "翁源县", "county", 0.12, 0.12, 0.40, 114.13, 24.35, 0, "AT"),
        ("Xinfeng", "新丰县", "county", 0.07, 0.11, 0.40, 114.21, 24.06, 0, "AT"),
        ("Ruyuan", "乳源瑶族自治县", "autonomous county", 0.06, 0.12, 0.45, 113.28, 24.78, 0, "GT"),
        ("Lechang", "乐昌市", "county-level city", 0.13, 0.13, 0.48, 113.35, 25.13, 0, "AIT"),
        ("Nanxiong", "南雄市", "county-level city", 0.10, 0.13, 0.46, 114.31, 25.12, 0, "NAT"),
    ],
    "Heyuan": [
        ("Yuancheng", "源城区", "district", 0.25, 0.05, 0.80, 114.70, 23.74, 1500, "IBN"),
        ("Dongyuan", "东源县", "county", 0.14, 0.26, 0.40, 114.75, 23.79, 0, "GAT"),
        ("Heping", "和平县", "county", 0.14, 0.15, 0.38, 114.94, 24.44, 0, "AT"),
        ("Longchuan", "龙川县", "county", 0.19, 0.20, 0.40, 115.26, 24.10, 0, "ATG"),
        ("Zijin", "紫金县", "county", 0.19, 0.23, 0.38, 115.18, 23.64, 0, "AT"),
        ("Lianping", "连平县", "county", 0.09, 0.11, 0.38, 114.49, 24.37, 0, "AT"),
    ],
    "Meizhou": [
        ("Meijiang", "梅江区", "district", 0.11, 0.04, 0.85, 116.12, 24.31, 2000, "BI"),
        ("Meixian", "梅县区", "district", 0.15, 0.16, 0.55, 116.08, 24.27, 0, "NAT"),
        ("Dabu", "大埔县", "county", 0.08, 0.15, 0.40, 116.70, 24.35, 0, "NT"),
        ("Fengshun", "丰顺县", "county", 0.11, 0.17, 0.40, 116.18, 23.74, 0, "AT"),
        ("Wuhua", "五华县", "county", 0.24, 0.20, 0.38, 115.78, 23.93, 0, "AG"),
        ("Pingyuan", "平远县", "county", 0.05, 0.09, 0.40, 115.89, 24.57, 0, "NA"),
        ("Jiaoling", "蕉岭县", "county", 0.04, 0.06, 0.42, 116.17, 24.66, 0, "AT"),
        ("Xingning", "兴宁市", "county-level city", 0.22, 0.13, 0.48, 115.73, 24.14, 0, "AI"),
    ],
    "Yunfu": [
        ("Yuncheng", "云城区", "district", 0.10, 0.10, 0.70, 112.04, 22.93, 1000, "NG"),
        ("Yun_an", "云安区", "district", 0.16, 0.16, 0.45, 112.00, 23.07, 0, "NB"),
        ("Xinxing", "新兴县", "county", 0.20, 0.20, 0.42, 112.23, 22.70, 0, "AT"),
        ("Yunan", "郁南县", "county", 0.17, 0.17, 0.40, 111.53, 23.23, 0, "AT"),
        ("Luoding", "罗定市", "county-level city", 0.37, 0.37, 0.45, 111.57, 22.77, 0, "AI"),
    ],
}
CODES = {
    "N": "new_materials",
    "B": "biomedicine",
    "I": "intelligent_manufacturing",
    "G": "green_energy",
    "A": "modern_agriculture",
    "T": "eco_tourism",
}


def great_circle_km(lon: float, lat: float) -> float:
    """Return the great-circle distance in km from (``lon``, ``lat``) to central Guangzhou."""
    r = 6371.0
    p1, p2 = math.radians(lat), math.radians(GZ[1])
    dlat, dlon = p2 - p1, math.radians(GZ[0] - lon)
    a = math.sin(dlat / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlon / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def townships_rule(area_km2: float) -> int:
    """Assumption: 3 + one township per 260 km2 (fits Qingyuan's counts within a few)."""
    return int(max(3, round(3 + area_km2 / 260.0)))


def qingyuan_facts() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build the county facts and the county-industry presence of Qingyuan's 8 units.

    Returns
    -------
    facts : pandas.DataFrame
        One row per county: public facts (census and 2023 population, urbanisation, area,
        distance to Guangzhou) and the labelled assumptions (townships, travel time,
        graduate hub).
    presence : pandas.DataFrame
        The ``(county, industry)`` pairs of industries present in each county.
    """
    rows = []
    for c, zh, kind, census, pop, urb, area, dist in QY_FACTS:
        travel = QY_TRAVEL_OVERRIDE.get(c, float(ds.travel_time([dist])[0]))
        rows.append(
            {
                "county": c,
                "name": zh,
                "city": "Qingyuan",
                "kind": kind,
                "pop_census_2020": census,
                "population_10k": pop,
                "urbanisation": urb,
                "area_km2": float(area),
                "dist_guangzhou_km": float(dist),
                "townships": QY_TOWNSHIPS[c],
                "travel_time_h": travel,
                "graduate_hub": QY_HUBS.get(c, 0.0),
                "basis": "facts: population, urbanisation, area, distance; assumptions: the rest",
            }
        )
    facts = pd.DataFrame(rows)
    presence = pd.DataFrame(
        [(c, i) for c, inds in QY_PRESENCE.items() for i in inds], columns=["county", "industry"]
    )
    return facts, presence


def northern_facts() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build the county facts and industry presence of the 37 Northern Guangdong units.

    Qingyuan's rows come from :func:`qingyuan_facts` (without the census column); the 29
    units of the other four cities split their city's population and area by the assumed
    weights of ``NG_UNITS``.

    Returns
    -------
    facts : pandas.DataFrame
        One row per county, with the columns of :func:`qingyuan_facts`.
    presence : pandas.DataFrame
        The ``(county, industry)`` pairs of industries present in each county.
    """
    qf, qp = qingyuan_facts()
    rows = [qf.drop(columns=["pop_census_2020"])]
    pres = [qp]
    for city, units in NG_UNITS.items():
        pw = sum(u[3] for u in units)
        aw = sum(u[4] for u in units)
        recs = []
        for cid, zh, kind, w_pop, w_area, urb, lon, lat, hub, codes in units:
            area = round(NG_CITY_AREA[city] * w_area / aw)
            dist = round(great_circle_km(lon, lat))
            recs.append(
                {
                    "county": cid,
                    "name": zh,
                    "city": city,
                    "kind": kind,
                    "population_10k": round(NG_CITY_POP[city] * w_pop / pw, 2),
                    "urbanisation": urb,
                    "area_km2": float(area),
                    "dist_guangzhou_km": float(dist),
                    "townships": townships_rule(area),
                    "travel_time_h": float(ds.travel_time([dist])[0]),
                    "graduate_hub": float(hub),
                    "basis": "assumptions (see README)",
                }
            )
            pres += [
                pd.DataFrame([(cid, CODES[ch]) for ch in codes], columns=["county", "industry"])
            ]
        rows.append(pd.DataFrame(recs))
    return pd.concat(rows, ignore_index=True), pd.concat(pres, ignore_index=True)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` as CSV, without the index and with Unix line ends."""
    frame.to_csv(path, index=False, lineterminator="\n")


def make_qingyuan() -> None:
    """Regenerate the derived tables and the scenario of the bundled ``qingyuan`` dataset.

    The catalogue tables are kept as maintained by hand; counties, presence, stocks,
    demand and budgets are derived again, and every table is rewritten in canonical form.
    """
    folder = BUNDLED / "qingyuan"
    cat = catalogue()
    facts, presence = qingyuan_facts()
    tables = ds.derive_tables(facts, presence, cat, YEARS)
    cost = float(ds.full_cost(cat.programs, tables["counties"], presence, len(YEARS)).sum())
    budget = {s: ds.BUDGET_SHARE * cost * sh for s, sh in ds.SOURCE_SHARES.items()}
    scenario = Scenario(
        name="qingyuan",
        description="Qingyuan, 8 county-level units, talent programs 2025-2029 (Party "
        "building + industry + talent).",
        start_year=YEARS[0],
        n_years=len(YEARS),
        floors=(ds.floor_one_stop(YEARS),),
        demand_feedback=ds.DEMAND_FEEDBACK,
        sources=QY_SOURCES_NOTE,
    )
    (folder / "scenario.toml").write_text(scenario_to_toml(scenario), encoding="utf-8")
    write_csv(facts, folder / "_county_facts.csv")
    write_csv(presence, folder / "presence.csv")
    write_csv(ds.budgets_table(budget, YEARS), folder / "budgets.csv")
    for name in ("counties", "stocks", "demand"):
        write_csv(tables[name], folder / f"{name}.csv")
    inst = read_folder(folder)
    # normalise every table through the writer so the files are canonical
    write_folder_files(inst, folder)
    report("qingyuan", inst, cost)


def make_northern() -> None:
    """Regenerate every table and the scenario of the bundled ``northern_guangdong`` dataset.

    The budget has one fiscal source per city, split by each city's share of the
    full-funding cost, plus the provincial transfer and the earmarked counterpart
    assistance; program caps are scaled to the number of counties.
    """
    folder = BUNDLED / "northern_guangdong"
    folder.mkdir(exist_ok=True)
    cat = catalogue()
    facts, presence = northern_facts()
    tables = ds.derive_tables(facts, presence, cat, YEARS)
    programs = ds.scale_caps(cat.programs, len(facts))
    city_of = facts.set_index("county")["city"]
    cost_city = ds.full_cost(programs, tables["counties"], presence, len(YEARS), by=city_of)
    cost = float(cost_city.sum())
    sources = []
    budget: dict[str, float] = {}
    for city in ["Shaoguan", "Heyuan", "Meizhou", "Qingyuan", "Yunfu"]:
        sid = f"{city.lower()}_fiscal"
        counties = ";".join(facts.loc[facts["city"] == city, "county"])
        sources.append((sid, f"{city} city and county fiscal talent funds", "*", counties))
        budget[sid] = (
            ds.BUDGET_SHARE * ds.SOURCE_SHARES["city_fiscal"] * cost * float(cost_city[city] / cost)
        )
    earmark = cat.sources.set_index("source").loc["counterpart_assistance", "programs"]
    sources += [
        (
            "provincial_transfer",
            "Provincial transfer payments (Hundreds-Thousands-Ten Thousands project)",
            "*",
            "*",
        ),
        (
            "counterpart_assistance",
            "Pearl River Delta counterpart assistance (earmarked)",
            earmark,
            "*",
        ),
    ]
    for s in ("provincial_transfer", "counterpart_assistance"):
        budget[s] = ds.BUDGET_SHARE * ds.SOURCE_SHARES[s] * cost
    scenario = Scenario(
        name="northern_guangdong",
        description="Northern Guangdong Ecological Development Area: 37 county-level units "
        "of Shaoguan, Heyuan, Meizhou, Qingyuan and Yunfu, 2025-2029.",
        start_year=YEARS[0],
        n_years=len(YEARS),
        floors=(ds.floor_one_stop(YEARS),),
        demand_feedback=ds.DEMAND_FEEDBACK,
        sources=QY_SOURCES_NOTE.replace("assumption: see README.md of this dataset.", "assumption.")
        + " Northern Guangdong area: 5 prefecture cities, 37 county-level units, 76,700 km2, "
        "15.94 million people (2022); Yunfu 2020 census population 2,383,350. Populations, "
        "areas, coordinates and townships of the 29 units outside Qingyuan are labelled "
        "assumptions: see README.md of this dataset.",
    )
    (folder / "scenario.toml").write_text(scenario_to_toml(scenario), encoding="utf-8")
    write_csv(facts, folder / "_county_facts.csv")
    write_csv(presence, folder / "presence.csv")
    write_csv(ds.budgets_table(budget, YEARS), folder / "budgets.csv")
    write_csv(
        pd.DataFrame(sources, columns=["source", "name", "programs", "counties"]),
        folder / "sources.csv",
    )
    write_csv(programs, folder / "programs.csv")
    for name in ("responses", "talent_types", "industries"):
        write_csv(getattr(cat, name), folder / f"{name}.csv")
    for name in ("counties", "stocks", "demand"):
        write_csv(tables[name], folder / f"{name}.csv")
    inst = read_folder(folder)
    write_folder_files(inst, folder)
    report("northern_guangdong", inst, cost)


def report(name: str, inst: Instance, cost: float) -> None:
    """Print a summary of a regenerated dataset for a visual check.

    Parameters
    ----------
    name
        Name of the dataset, for the heading.
    inst
        The dataset as read back from its folder.
    cost
        Full-funding cost of every program in every county and year (10k yuan), against
        which the budget is shown as a share.
    """
    b = inst.budgets.groupby("source")["amount"].sum()
    st = inst.stocks.groupby("talent_type")["stock"].sum()
    d0 = inst.demand[inst.demand["year"] == YEARS[0]].groupby("talent_type")["demand"].sum()
    d1 = inst.demand[inst.demand["year"] == YEARS[-1]].groupby("talent_type")["demand"].sum()
    print(f"== {name}: {len(inst.counties)} counties, {len(inst.presence)} presence pairs")
    print(
        f"full-funding cost {cost:,.0f}; budget {b.sum():,.0f} ({b.sum() / cost:.0%}); "
        f"per year {b.sum() / len(YEARS):,.0f}"
    )
    print(b.to_string())
    print(
        pd.DataFrame(
            {
                "stock": st,
                "demand_first": d0,
                "demand_last": d1,
                "a0_mean": inst.stocks.groupby("talent_type")["attrition"].mean(),
            }
        )
        .round(3)
        .to_string()
    )
    print(
        inst.counties[
            [
                "county",
                "population_10k",
                "townships",
                "travel_time_h",
                "graduates",
                "land_quota_mu",
                "cadre_hours",
                "efficiency",
            ]
        ].to_string(index=False)
    )


def copy_models() -> None:
    """Replace ``models/qingyuan`` with a fresh copy of the bundled ``qingyuan`` folder."""
    target = REPO / "models" / "qingyuan"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(BUNDLED / "qingyuan", target)


if __name__ == "__main__":
    np.set_printoptions(suppress=True)
    make_qingyuan()
    make_northern()
    copy_models()
