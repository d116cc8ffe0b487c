"""A self-contained HTML report of an allocation (no external assets)."""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from talentplan import _plot
from talentplan._plot import CITY_WIDE
from talentplan.report.county_view import format_county_table
from talentplan.report.plain_words import (
    OBJECTIVE_WORDS,
    approximation_sentence,
    comparison_sentences,
    limit_sentences,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "PLOT_MAX_COUNTIES",
    "account_section",
    "allocation_section",
    "comparison_table",
    "county_comparison",
    "describe_gap",
    "describe_model",
    "headline",
    "headline_section",
    "limits_section",
    "plots_section",
    "plotted_counties",
    "render_report",
    "report_sections",
    "tables_section",
]


class SolvedPlan(Protocol):
    """What the report reads of a result (:class:`~talentplan.report.result.AllocationResult`)."""

    @property
    def objective(self) -> float: ...
    @property
    def bound(self) -> float: ...
    @property
    def gap(self) -> float: ...
    @property
    def mip_objective(self) -> float: ...
    @property
    def allocation(self) -> pd.DataFrame: ...
    @property
    def talent(self) -> pd.DataFrame: ...
    @property
    def shadow_prices(self) -> pd.DataFrame: ...
    @property
    def budget_use(self) -> pd.DataFrame: ...
    @property
    def summary(self) -> dict[str, Any]: ...
    @property
    def by_county(self) -> pd.DataFrame: ...


_STYLE = """
body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:2em auto;max-width:72em;
padding:0 1em;color:#222;line-height:1.4}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:right}th{background:#f3f3f3}tbody th{text-align:left}table.meta td{text-align:left}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:2em}
p.description{color:#555;margin-top:0}
section.headline{background:#f6f9fc;border:1px solid #cfdcea;padding:.5em 1.2em 1em}
section.headline p.finding{font-size:1.1em}
p.note{color:#555;font-size:.92em}
figure.plot{margin:1.5em 0}figure.plot svg{max-width:100%;height:auto}
figcaption{color:#555;font-size:.9em}
details summary{cursor:pointer;color:#1a4f8b}
"""


def headline(result: SolvedPlan) -> list[tuple[str, str]]:
    """Return the headline of a result, as ``(label, text)`` rows, for text and HTML.

    Instance, status, the objective with the exact curves, the model's objective and
    bound, the approximation error, the gap and its basis, the size and the timings.
    """
    s = result.summary
    return [
        ("instance", str(s.get("instance", ""))),
        ("status", str(s.get("status", ""))),
        ("objective (exact curves)", f"{s.get('objective_name', '')} = {result.objective:,.8g}"),
        ("model objective / bound", describe_model(result.mip_objective, s)),
        ("approximation error", f"{s.get('approximation_error', 0.0):.4g}"),
        ("gap", describe_gap(result.gap, result.bound, s.get("gap_basis", "model"))),
        (
            "size",
            f"{s.get('n_variables')} variables ({s.get('n_binaries')} binary, "
            f"{s.get('n_integers')} integer), {s.get('n_constraints')} constraints",
        ),
        (
            "seconds",
            f"build {s.get('build_seconds', 0):.2f}, solve {s.get('solve_seconds', 0):.2f}",
        ),
    ]


def describe_gap(gap: float, bound: float, basis: str) -> str:
    """Say in plain words what a result's gap certifies.

    Parameters
    ----------
    gap, bound
        The relative gap and the bound of the result.
    basis
        ``summary["gap_basis"]``: ``"exact"`` or ``"model"``.

    Returns
    -------
    str
        E.g. ``"0.352% with the exact curves (bound 1,658,211.8)"``.
    """
    if not math.isfinite(gap):
        return "n/a (no finite bound)"
    where = "with the exact curves" if basis == "exact" else "of the model only"
    return f"{gap:.3%} {where} (bound {bound:,.8g})"


def describe_model(mip_objective: float, summary: dict[str, Any]) -> str:
    """Return the model's objective, bound and gap (chords, as HiGHS solved them) in a line.

    Parameters
    ----------
    mip_objective
        The model's objective of the plan.
    summary
        The result's summary, with ``mip_bound`` and ``mip_gap``.

    Returns
    -------
    str
        E.g. ``"1,652,364.7 / 1,657,790.5 (gap 0.328%)"``.
    """
    bound, gap = summary.get("mip_bound", math.nan), summary.get("mip_gap", math.inf)
    gap_text = f"{gap:.3%}" if math.isfinite(gap) else "n/a"
    return f"{mip_objective:,.8g} / {bound:,.8g} (gap {gap_text})"


def _table(frame: pd.DataFrame, classes: str | None = None) -> str:
    return frame.to_html(
        index=True, float_format=lambda x: f"{x:,.2f}", border=0, na_rep="", classes=classes
    )


def _used_up(used_up: pd.DataFrame) -> str:
    """Render the limits the plan uses up, with their step values where computed."""
    columns = ["unit", "used", "limit", "price"]
    priced = used_up["step"].notna().any()
    if priced:
        columns += ["step", "step_value", "step_value_low", "step_value_high"]
        note = (
            "step_value: the change in the model's optimum when the limit grows by one "
            "step, the smallest amount one whole site, alliance or unit on it uses; the "
            "change lies between step_value_low and step_value_high (equal at gap 0)."
        )
    else:
        note = (
            "A fully used land or cadre limit can price at 0: solve with "
            "step_values=True (--step-values) to value one more step of it."
        )
    return _table(used_up.set_index(["resource", "year", "name"])[columns]) + (
        "<p>Land and cadre hours are taken only by whole sites, alliances and units: a "
        "fully used land or cadre limit binds the plan even where its price is 0 (one more "
        f"mu or hour is worth something only once it allows one more whole unit). {note}</p>"
    )


def _named(frame: pd.DataFrame, names: dict[str, dict[str, str]]) -> pd.DataFrame:
    """Replace the ids in the county, program and talent_type columns by display names."""
    out = frame.copy()
    for key in ("county", "program", "talent_type"):
        if key in out and names.get(key):
            out[key] = out[key].map(lambda v, k=key: names[k].get(str(v), v))
    return out


def render_report(result: SolvedPlan) -> str:
    """Render the HTML report of a solved plan as one self-contained page.

    In order: the title (the instance's name and description); the headline, what the
    plan buys against doing nothing and against cash subsidies only, overall and by
    county (:func:`headline_section`); the plots, inline SVG (:func:`plots_section`); the
    binding limits in plain words with their shadow prices; the plan by county, by
    program and year, talent by type and budget use; the solver's account, the
    approximation error, versions and instance hash; the full allocation, collapsed.
    The page loads nothing from the network and runs no script.
    """
    s = result.summary
    title = f"Talent plan: {s.get('instance', '')}"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='description'>{html.escape(str(s.get('description') or ''))}</p>",
        *report_sections(result),
        "</body></html>",
    ]
    return "\n".join(parts)


def report_sections(result: SolvedPlan) -> list[str]:
    """Return the report's sections in order, each an HTML fragment (the page's body)."""
    return [
        headline_section(result),
        plots_section(result),
        limits_section(result),
        tables_section(result),
        account_section(result),
        allocation_section(result),
    ]


def _final_year(result: SolvedPlan) -> Any:
    talent = result.talent
    return talent["year"].max() if len(talent) else ""


def headline_section(result: SolvedPlan) -> str:
    """Render what the plan buys: the comparisons in words, overall and by county.

    Reads ``summary["comparisons"]`` (:func:`talentplan.report.pipeline.comparisons`);
    says why they are missing when they were skipped, and which rules each comparison
    ignores or drops.
    """
    s = result.summary
    compared = s.get("comparisons") or {"skipped": "the result has no comparisons"}
    parts = ["<section class='headline' id='headline'>", "<h2>What the plan buys</h2>"]
    if compared.get("skipped"):
        parts.append(
            f"<p class='finding'>The plan was not compared with doing nothing or with "
            f"cash subsidies only: {html.escape(str(compared['skipped']))}.</p>"
        )
        return "\n".join([*parts, "</section>"])
    objective = str(s.get("objective_name", ""))
    for sentence in comparison_sentences(compared, objective, _final_year(result)):
        parts.append(f"<p class='finding'>{html.escape(sentence)}</p>")
    parts.append(_table(comparison_table(compared, objective, _final_year(result)), "overall"))
    parts.append(
        f"<h3>County by county</h3>{_table(county_comparison(compared, s), 'by-county-comparison')}"
    )
    parts += _comparison_notes(compared)
    parts.append("</section>")
    return "\n".join(parts)


_PLANS = {"plan": "the plan", "do_nothing": "doing nothing", "subsidies_only": "subsidies only"}
"""The columns of the comparison tables, by key of ``summary["comparisons"]``."""


def comparison_table(compared: dict[str, Any], objective: str, year: Any) -> pd.DataFrame:
    """Tabulate the objective, final-year useful talent and spend of each plan compared.

    Returns
    -------
    pandas.DataFrame
        One column per plan (the plan, doing nothing, subsidies only: blank when that one
        was not found), rows formatted for a reader.
    """
    rows = {
        f"{OBJECTIVE_WORDS.get(objective, objective)}": ("objective", "{:,.6g}"),
        f"useful talent in {year} (persons)": ("useful", "{:,.0f}"),
        "spend over the horizon (10k yuan)": ("spend", "{:,.0f}"),
    }
    table = {}
    for key, label in _PLANS.items():
        figures = compared.get(key) or {}
        table[label] = [
            fmt.format(figures[field]) if field in figures else "" for field, fmt in rows.values()
        ]
    return pd.DataFrame(table, index=pd.Index(list(rows)))


def county_comparison(compared: dict[str, Any], summary: dict[str, Any]) -> pd.DataFrame:
    """Tabulate final-year useful talent and spend by county of each plan compared."""
    names = {"": CITY_WIDE, **summary.get("names", {}).get("county", {})}
    plans = {k: (compared.get(k) or {}).get("by_county") for k in _PLANS}
    counties = list(dict.fromkeys(c for by in plans.values() if by for c in by))
    counties = [c for c in counties if c] + [c for c in counties if not c]
    columns: dict[str, list[str]] = {}
    for field, what, fmt in (("useful", "useful talent", "{:,.0f}"), ("spend", "spend", "{:,.0f}")):
        for key, label in _PLANS.items():
            by = plans[key]
            if by is None or (field == "spend" and key == "do_nothing"):
                continue
            columns[f"{what}: {label}"] = [
                "" if (c == "" and field == "useful") else fmt.format(by.get(c, {}).get(field, 0.0))
                for c in counties
            ]
    table = pd.DataFrame(columns, index=pd.Index([names.get(c, c) for c in counties]))
    table.columns.name = "county"
    return table


def _comparison_notes(compared: dict[str, Any]) -> list[str]:
    """Paragraphs on the rules each comparison ignores or drops, and skipped comparisons."""
    nothing = compared.get("do_nothing") or {}
    subsidies = compared.get("subsidies_only") or {}
    parts = [
        "<p class='note'>Doing nothing: the instance played by the simulator with no "
        "program and no spending."
        + (" Rules it breaks, ignored for this comparison:" if nothing.get("notes") else "")
        + "</p>",
        _bullets(nothing.get("notes", [])),
        "<p class='note'>Subsidies only: the best plan of the same budgets, under the same "
        "rules and earmarks, using only the programs whose mechanism is market (cash "
        "subsidies), solved with the plan's options"
        + (
            f" (status {html.escape(str(subsidies['status']))}, gap "
            f"{_percent(subsidies.get('gap'))})"
            if "status" in subsidies
            else ""
        )
        + "."
        + (" Rules dropped or changed for it:" if subsidies.get("notes") else "")
        + "</p>",
        _bullets(subsidies.get("notes", [])),
    ]
    if subsidies.get("skipped"):
        parts.append(
            f"<p class='note'>No subsidies-only plan: {html.escape(str(subsidies['skipped']))}.</p>"
        )
    return parts


def _percent(value: Any) -> str:
    return "n/a" if value is None or not math.isfinite(float(value)) else f"{float(value):.3%}"


def _bullets(items: list[str]) -> str:
    if not items:
        return ""
    return "<ul>" + "".join(f"<li>{html.escape(str(i))}</li>" for i in items) + "</ul>"


PLOT_MAX_COUNTIES = 30
"""Most counties the county-wise plots draw: a larger plan's plots show the counties that
spend most (every county stays in the tables). Beyond this the labels overlap, and the
drawing grows with the counties (12 s for 300 counties on a shared machine, more than
``talentplan solve --time-limit`` keeps back for its files)."""


def plotted_counties(allocation: pd.DataFrame, talent: pd.DataFrame) -> tuple[list[str], int]:
    """Return the counties the county-wise plots draw, and how many counties the plan has.

    All of them up to :data:`PLOT_MAX_COUNTIES`; beyond, the ones that spend most.
    """
    every = sorted(set(talent["county"]) | set(allocation["county"]) - {""})
    if len(every) <= PLOT_MAX_COUNTIES:
        return every, len(every)
    spend = allocation[allocation["county"] != ""].groupby("county")["cost"].sum()
    spend = spend.reindex(every, fill_value=0.0)
    top = spend.sort_values(ascending=False, kind="stable").index[:PLOT_MAX_COUNTIES]
    return sorted(top), len(every)


def plots_section(result: SolvedPlan) -> str:
    """Render the plots of the plan as inline SVG figures (see :mod:`talentplan._plot`)."""
    s = result.summary
    counties = dict(s.get("names", {}).get("county", {}))
    spends = len(result.allocation) and float(result.allocation["cost"].abs().sum()) > 0
    demand = pd.DataFrame(s.get("demand") or [], columns=["county", "year", "demand"])
    shown, n_counties = plotted_counties(result.allocation, result.talent)
    allocation = result.allocation[result.allocation["county"].isin([*shown, ""])]
    talent = result.talent[result.talent["county"].isin(shown)]
    demand = demand[demand["county"].isin(shown)]
    which = (
        f" The {len(shown)} counties of {n_counties} that spend most; every county is in "
        "the tables below."
        if len(shown) < n_counties
        else ""
    )
    plots: list[tuple[str, str, Callable[[], Axes]]] = []
    if spends:
        plots += [
            (
                "allocation",
                "Spend of each program (by id) in each county over the horizon (10k yuan)." + which,
                lambda: _plot.allocation_heatmap(allocation, names=counties),
            ),
            (
                "spend",
                "Spend by county over the horizon (10k yuan)." + which,
                lambda: _plot.spend_bars(allocation, names=counties),
            ),
        ]
    plots.append(
        (
            "talent",
            "Useful talent by county and year, with the data's demand dashed (before any "
            "demand feedback)." + which,
            lambda: _plot.talent_lines(
                talent, demand=demand if len(demand) else None, names=counties
            ),
        )
    )
    plots.append(("budgets", "Budget used by year and source; slack hatched.",
                  lambda: _plot.budget_bars(result.budget_use)))  # fmt: skip
    if (result.shadow_prices["resource"] == "budget").any():
        plots.append(
            (
                "shadow-prices",
                "Shadow prices of the budgets: objective per extra 10k yuan of each source.",
                lambda: _plot.shadow_price_bars(result.shadow_prices, resource="budget"),
            )
        )
    parts = ["<h2>Plots</h2>"]
    if not spends:
        parts.append("<p>The plan spends nothing, so there is no spend to plot.</p>")
    for key, caption, draw in plots:
        parts.append(
            f"<figure class='plot' id='plot-{key}'>{_plot.svg_text(draw())}"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    return "\n".join(parts)


def limits_section(result: SolvedPlan) -> str:
    """Render the binding limits in plain words with their shadow prices and units."""
    s = result.summary
    objective = str(s.get("objective_name", ""))
    sentences, more = limit_sentences(result.shadow_prices, s.get("names", {}), objective)
    parts = ["<h2>Limits that bind the plan</h2>"]
    if result.shadow_prices.empty:
        skipped = [str(n) for n in s.get("skipped", []) if str(n).startswith("shadow prices")]
        why = f" ({html.escape(skipped[0])})" if skipped else ""
        parts.append(
            f"<p>Not priced for this plan{why}: see the budgets plot for what is used up.</p>"
        )
        return "\n".join(parts)
    if not sentences:
        parts.append("<p>No budget, land, cadre or other limit binds the plan.</p>")
        return "\n".join(parts)
    parts.append(_bullets(sentences))
    if more:
        parts.append(f"<p class='note'>And {more} more: see the table of used-up limits.</p>")
    parts.append(
        "<p class='note'>Prices are shadow prices of the model with the plan's whole "
        "decisions fixed: the change of the objective per extra unit of the limit. The "
        f"{html.escape(OBJECTIVE_WORDS.get(objective, objective))} is the objective.</p>"
    )
    return "\n".join(parts)


def tables_section(result: SolvedPlan) -> str:
    """Render the plan by county, spend by program and year, talent by type, budgets."""
    s = result.summary
    names = s.get("names", {})
    spend = result.allocation.pivot_table(
        index="program", columns="year", values="cost", aggfunc="sum", fill_value=0.0
    ).rename(index=names.get("program", {}))
    final = result.talent[result.talent["year"] == _final_year(result)]
    talent = (
        final.pivot_table(index="county", columns="talent_type", values="useful", aggfunc="sum")
        .rename(index=names.get("county", {}), columns=names.get("talent_type", {}))
        .map(lambda v: f"{v:,.0f}")
    )
    used_up = result.shadow_prices[result.shadow_prices["fully_used"].astype(bool)]
    budget_use = result.budget_use.assign(
        source=result.budget_use["source"].map(lambda v: names.get("source", {}).get(v, v))
    )
    return "\n".join(
        [
            "<h2>By county</h2>",
            _table(format_county_table(result.by_county), classes="by-county"),
            "<p>Spend over the whole horizon; coverage of demand: final-year useful talent "
            "weighted by talent type over the weighted final-year demand.</p>",
            "<h2>Spending by program and year (10k yuan)</h2>",
            _table(spend),
            "<h2>Useful talent in the final year (persons)</h2>",
            _table(talent),
            "<h2>Budget use (10k yuan)</h2>",
            _table(budget_use.set_index(["year", "source"])),
            "<h2>Limits the plan uses up</h2>",
            _used_up(used_up)
            if len(used_up)
            else "<p>The plan uses up no budget, land quota or cadre capacity.</p>",
        ]
    )


def account_section(result: SolvedPlan) -> str:
    """Render the solver's account, the approximation error, versions and instance hash."""
    s = result.summary
    rows = [
        *headline(result),
        ("instance hash", str(s.get("instance_hash"))),
        *((f"version of {k}", str(v)) for k, v in (s.get("versions") or {}).items()),
    ]
    head = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    warning = s.get("gap_warning")
    approximation = approximation_sentence(
        float(s.get("approximation_error", 0.0)), result.objective
    )
    return "\n".join(
        [
            "<h2>Solver, approximation and provenance</h2>",
            f"<p class='note'><b>Warning:</b> {html.escape(warning)}.</p>" if warning else "",
            f"<p>{html.escape(approximation)}</p>",
            _bullets([f"Skipped to keep the time limit: {x}" for x in s.get("skipped", [])]),
            f"<table class='meta'>{head}</table>",
        ]
    )


def allocation_section(result: SolvedPlan) -> str:
    """Render the full allocation with display names, collapsed in ``<details>``."""
    names = result.summary.get("names", {})
    alloc = result.allocation
    return "\n".join(
        [
            "<h2>Allocation</h2>",
            f"<details><summary>Every decision of the plan ({len(alloc):,} rows)</summary>",
            _table(_named(alloc, names).set_index(["year", "program", "county"]), "allocation"),
            "</details>",
        ]
    )
