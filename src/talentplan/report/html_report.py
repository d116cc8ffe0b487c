"""A self-contained HTML report of an allocation (no external assets)."""

from __future__ import annotations

import html
import math
from typing import Any, Protocol

import pandas as pd

from talentplan.report.county_view import format_county_table

__all__ = ["describe_gap", "describe_model", "headline", "render_report"]


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
body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:right}th{background:#f3f3f3}table.meta td{text-align:left}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}
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

    The page shows the summary, the plan by county (spend, programs funded, final-year
    useful talent and coverage of demand), spending by program and year, final-year useful
    talent by county and type, budget use and the largest shadow prices.
    """
    s = result.summary
    names = s.get("names", {})
    alloc = result.allocation
    spend = alloc.pivot_table(
        index="program", columns="year", values="cost", aggfunc="sum", fill_value=0.0
    ).rename(index=names.get("program", {}))
    final = result.talent[result.talent["year"] == result.talent["year"].max()]
    talent = (
        final.pivot_table(index="county", columns="talent_type", values="useful", aggfunc="sum")
        .rename(index=names.get("county", {}), columns=names.get("talent_type", {}))
        .map(lambda v: f"{v:,.0f}")
    )
    prices = result.shadow_prices
    binding = prices[prices["price"].abs() > 0]
    binding = binding.reindex(binding["price"].abs().sort_values(ascending=False).index).head(20)
    used_up = prices[prices["fully_used"].astype(bool)]
    rows = [*headline(result), ("instance hash", str(s.get("instance_hash")))]
    head = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>talentplan: {html.escape(str(s.get('instance')))}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Talent plan: {html.escape(str(s.get('instance')))}</h1>",
        f"<table class='meta'>{head}</table>",
        "<h2>By county</h2>",
        _table(format_county_table(result.by_county), classes="by-county"),
        "<p>Spend over the whole horizon; coverage of demand: final-year useful talent "
        "weighted by talent type over the weighted final-year demand.</p>",
        "<h2>Spending by program and year (10k yuan)</h2>",
        _table(spend),
        "<h2>Useful talent in the final year (persons)</h2>",
        _table(talent),
        "<h2>Budget use (10k yuan)</h2>",
        _table(result.budget_use.set_index(["year", "source"])),
        "<h2>Binding resources: objective per extra unit</h2>",
        _table(binding.set_index(["resource", "year", "name"])[["unit", "price", "used", "limit"]])
        if len(binding)
        else "<p>No budget, land or cadre limit binds.</p>",
        "<h2>Limits the plan uses up</h2>",
        _used_up(used_up)
        if len(used_up)
        else "<p>The plan uses up no budget, land quota or cadre capacity.</p>",
        "<h2>Allocation</h2>",
        _table(_named(alloc, names).set_index(["year", "program", "county"])),
        "</body></html>",
    ]
    return "\n".join(parts)
