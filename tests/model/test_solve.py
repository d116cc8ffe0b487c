"""``solve``: status mapping, time limits, infeasibility, options, outputs, shadow prices.

Reference for the shadow-price tests: LP duality. With the integer decisions fixed, the
optimal value ``v(b)`` of the (maximising) LP is concave in a budget right-hand side ``b``
and any optimal dual ``p`` of that row is a supergradient, so for every step ``h > 0``

    v(b + h) - v(b) <= p * h <= v(b) - v(b - h),

and complementary slackness gives ``p = 0`` for a budget that is not used up. The fixed LP
is re-solved here through the public API by pinning every integer decision of the plan
(pins.csv ``fix``/``forbid`` rows), so the check runs the whole pipeline, not the dual code.
"""

from __future__ import annotations

import json
import logging
import math

import highspy
import numpy as np
import pandas as pd
import pytest

from talentplan.data import load_instance
from talentplan.data.instance import PolicyFloor
from talentplan.errors import InfeasiblePlanError
from talentplan.report.pipeline import solve
from talentplan.simulation import simulate
from talentplan.solver.status import HIGHS_STATUS, SolveStatus, map_status

from .tiny import tiny_instance

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# --- status ------------------------------------------------------------------------------


def test_every_highs_model_status_is_mapped():
    members = highspy.HighsModelStatus.__members__
    assert len(members) >= 15  # the enum is really iterated, not an empty view
    for name, member in members.items():
        assert member in HIGHS_STATUS, f"HighsModelStatus.{name} has no SolveStatus"
        assert isinstance(map_status(member), SolveStatus)


def test_key_statuses_map_as_documented():
    ms = highspy.HighsModelStatus
    assert map_status(ms.kOptimal) is SolveStatus.OPTIMAL
    assert map_status(ms.kTimeLimit) is SolveStatus.TIME_LIMIT
    assert map_status(ms.kInfeasible) is SolveStatus.INFEASIBLE
    assert map_status(ms.kUnbounded) is SolveStatus.UNBOUNDED
    assert map_status(ms.kSolveError) is SolveStatus.ERROR
    assert SolveStatus.TIME_LIMIT.may_have_plan
    assert not SolveStatus.INFEASIBLE.may_have_plan


def test_unknown_status_is_logged_as_error(caplog):
    with caplog.at_level(logging.WARNING, logger="talentplan"):
        assert map_status("not a status") is SolveStatus.ERROR
    assert "unknown HiGHS model status" in caplog.text


# --- time limit --------------------------------------------------------------------------


def test_time_limit_is_a_result_with_a_gap():
    # Measured on the 2-core development machine: HiGHS finds its first qingyuan plan after
    # about 0.2 s (feasibility jump) and needs about 17 s to prove optimality at gap 0, so a
    # 2 s limit stops with a plan and an open gap with a wide margin on both sides.
    inst = load_instance("qingyuan")
    seen = []
    result = solve(inst, time_limit=2.0, mip_gap=0.0, progress=seen.append)
    assert result.status is SolveStatus.TIME_LIMIT
    assert result.summary["status"] == "time_limit"
    assert math.isfinite(result.objective)
    assert math.isfinite(result.bound)
    assert result.bound >= result.objective
    assert result.gap > 0
    assert result.gap == pytest.approx(
        (result.bound - result.objective) / abs(result.objective), rel=1e-9
    )
    assert len(result.allocation) > 0
    assert simulate(inst, result.allocation).violations == ()
    # progress was reported during the search (about once a second), never better than
    # the plan finally returned
    assert seen
    assert all(p.objective <= p.bound and p.objective <= result.objective for p in seen)


# --- infeasibility -----------------------------------------------------------------------


def test_infeasible_plan_names_budget_and_floor():
    floor = PolicyFloor("centre everywhere", "centre", 2025)
    inst = tiny_instance(n_years=2, budget=1.0, floors=(floor,))
    with pytest.raises(InfeasiblePlanError) as info:
        solve(inst)
    text = info.value.explanation
    assert "budget 2025/fiscal" in text
    assert "floor 'centre everywhere'" in text
    assert "Conflict: budget" in text
    assert text in str(info.value)


# --- options -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options, name",
    [
        (dict(mip_gap=-1), "mip_gap"),
        (dict(mip_gap=1.0), "mip_gap"),
        (dict(mip_gap=math.nan), "mip_gap"),
        (dict(time_limit=0), "time_limit"),
        (dict(time_limit=-5.0), "time_limit"),
        (dict(time_limit=math.inf), "time_limit"),
        (dict(threads=0), "threads"),
        (dict(objective="nope"), "objective"),
    ],
)
def test_invalid_options_raise_value_error_naming_the_option(options, name):
    with pytest.raises(ValueError, match=name):
        solve(tiny_instance(), **options)


# --- outputs -----------------------------------------------------------------------------

SUMMARY_KEYS = {
    "status",
    "objective",
    "bound",
    "gap",
    "approximation_error",
    "build_seconds",
    "solve_seconds",
    "n_variables",
    "n_binaries",
    "n_integers",
    "n_constraints",
    "budget_use",
    "instance_hash",
    "versions",
}


@pytest.fixture(scope="module")
def tiny_result():
    return solve(tiny_instance(n_years=2, budget=60.0), mip_gap=0.0)


def test_to_dir_writes_every_file(tiny_result, tmp_path):
    out = tiny_result.to_dir(tmp_path / "run")
    for name in ("allocation.csv", "talent.csv", "summary.json", "report.html"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert SUMMARY_KEYS <= set(summary)
    assert summary["status"] == "optimal"
    assert summary["objective"] == pytest.approx(tiny_result.objective)
    assert summary["instance_hash"] == tiny_instance(n_years=2, budget=60.0).hash()
    # 3 sites x 2 counties + 1 alliance (A/mat) + 1 city program + 2 station counts (capped
    # at 1 township, so 0/1), over 2 years
    assert summary["n_binaries"] + summary["n_integers"] == (3 * 2 + 1 + 1 + 2) * 2
    assert summary["n_constraints"] > 0 and summary["n_variables"] > 20
    assert {"talentplan", "highs", "pyomo"} <= set(summary["versions"])
    allocation = pd.read_csv(out / "allocation.csv")
    assert len(allocation) == len(tiny_result.allocation)
    assert allocation["cost"].sum() == pytest.approx(tiny_result.allocation["cost"].sum())
    assert "<html" in (out / "report.html").read_text(encoding="utf-8").lower()
    assert not list(out.glob(".*.tmp"))  # no temporary file left behind


def test_result_renders_as_text_and_html(tiny_result):
    text = str(tiny_result)
    assert "optimal" in text
    assert "talent_index" in text
    html = tiny_result._repr_html_()
    assert html.startswith("<h4>")
    assert "<table" in html


# --- shadow prices -----------------------------------------------------------------------


def _pins_fixing_integers(inst, allocation: pd.DataFrame) -> list[dict]:
    """A fix/forbid pin for every integer decision of every year, as in ``allocation``."""
    t = inst.tables
    kind = dict(zip(t["programs"]["program"], t["programs"]["kind"], strict=True))
    present = t["presence"].groupby("county")["industry"].apply(list).to_dict()
    quantity = {
        (r.county if isinstance(r.county, str) else "", r.program, r.industry or "", r.year): (
            r.quantity
        )
        for r in allocation.fillna({"county": "", "industry": ""}).itertuples(index=False)
    }
    keys = []
    for p, k in kind.items():
        if k == "city":
            keys.append(("", p, ""))
        for c in t["counties"]["county"]:
            if k in ("site", "count"):
                keys.append((c, p, ""))
            elif k == "chain":
                keys += [(c, p, i) for i in present.get(c, [])]
    pins = []
    for c, p, i in keys:
        for y in inst.years:
            q = float(round(quantity.get((c, p, i, y), 0.0)))
            action = "fix" if q else "forbid"
            pins.append(dict(county=c, program=p, industry=i, year=y, action=action, value=q))
    return pins


def _with_budget(inst, year: int, source: str, amount: float):
    budgets = inst.budgets.copy()
    row = (budgets["year"] == year) & (budgets["source"] == source)
    assert row.sum() == 1
    budgets.loc[row, "amount"] = amount
    return inst.replace_tables(budgets=budgets)


def test_prices_are_non_negative_and_zero_on_slack(tiny_result):
    prices = tiny_result.shadow_prices
    assert set(prices["resource"]) == {"budget", "land", "cadre"}
    assert (prices["price"] >= 0).all()
    slack = prices["used"] < prices["limit"] - 1e-6 * prices["limit"].clip(lower=1.0)
    assert slack.any()
    assert (prices.loc[slack, "price"] == 0).all()


def test_prices_on_a_richer_budget_are_zero_where_unused():
    result = solve(tiny_instance(n_years=2, budget=100.0), mip_gap=0.0)
    budget = result.shadow_prices[result.shadow_prices["resource"] == "budget"]
    unused = budget["used"] < budget["limit"] - 1e-6
    assert unused.any()
    assert (budget.loc[unused, "price"] == 0).all()
    assert (budget["price"] >= 0).all()


@pytest.mark.parametrize("objective", ["equity", "min_cost"])
def test_prices_of_other_objectives_have_the_documented_sign(objective):
    # positive means more of the resource helps (for min_cost: it saves money); a budget of
    # 30 binds in some years for both objectives
    inst = tiny_instance(n_years=3, budget=30.0, objective=objective)
    result = solve(inst.replace_scenario(target_coverage=0.85), mip_gap=0.0)
    prices = result.shadow_prices
    assert (prices["price"] >= 0).all()
    assert (prices["price"] > 0).any()
    slack = prices["used"] < prices["limit"] - 1e-6 * prices["limit"].clip(lower=1.0)
    assert (prices.loc[slack, "price"] == 0).all()


def test_binding_budget_price_is_positive_and_a_supergradient(tiny_result):
    base = tiny_instance(n_years=2, budget=60.0)
    prices = tiny_result.shadow_prices.set_index(["resource", "year", "name"])
    row = prices.loc[("budget", 2025, "fiscal")]
    assert row["used"] == pytest.approx(row["limit"])  # the budget binds
    # why its price must be positive: the plan spends below the subsidy cap of 40 in A and
    # A's engineers are below demand, so one more 10k yuan buys more useful talent
    alloc = tiny_result.allocation
    spend = alloc[(alloc.program == "subsidy") & (alloc.county == "A") & (alloc.year == 2025)]
    assert 0 < spend["quantity"].sum() < 40
    talent = tiny_result.talent.set_index(["county", "talent_type", "year"])
    assert talent.loc[("A", "eng", 2025), "useful"] < 110
    price = float(row["price"])
    assert price > 0

    pinned = tiny_instance(n_years=2, budget=60.0, pins=_pins_fixing_integers(base, alloc))
    value = {}
    for h in (-1.0, -0.01, 0.0, 0.01, 1.0):
        inst = _with_budget(pinned, 2025, "fiscal", 60.0 + h)
        value[h] = solve(inst, mip_gap=0.0).objective
    tol = 1e-6 * abs(value[0.0])
    assert value[0.0] == pytest.approx(tiny_result.objective, rel=1e-7)
    # supergradient: holds for any step
    assert value[1.0] - value[0.0] <= price + tol
    assert value[0.0] - value[-1.0] >= price - tol
    assert value[1.0] >= value[0.0] - tol
    # and this plan is not at a kink of v (measured: both one-sided slopes at 0.01 equal the
    # price to 1e-11), so the price is the gain of one more 10k yuan
    assert (value[0.01] - value[0.0]) / 0.01 == pytest.approx(price, rel=1e-4)
    assert (value[0.0] - value[-0.01]) / 0.01 == pytest.approx(price, rel=1e-4)


def test_other_prices_match_finite_differences_per_budget_row(tiny_result):
    """Every budget row, not only the first: the supergradient inequalities hold."""
    base = tiny_instance(n_years=2, budget=60.0)
    pinned = tiny_instance(
        n_years=2, budget=60.0, pins=_pins_fixing_integers(base, tiny_result.allocation)
    )
    budget = tiny_result.shadow_prices[tiny_result.shadow_prices["resource"] == "budget"]
    v0 = tiny_result.objective
    for r in budget.itertuples(index=False):
        if (r.year, r.name) == (2025, "fiscal"):
            continue  # covered above
        up = solve(_with_budget(pinned, r.year, r.name, r.limit + 1.0), mip_gap=0.0).objective
        assert up - v0 <= r.price + 1e-6 * abs(v0), (r.year, r.name)
        assert np.isfinite(up)


def test_min_cost_meets_a_targets_table():
    from .tiny import frame

    base = tiny_instance(objective="min_cost")
    targets = frame(
        "targets",
        [
            dict(county="A", talent_type="eng", target=105.0),
            dict(county="B", talent_type="voc", target=47.0),
        ],
    )
    inst = base.replace_tables(targets=targets)
    result = solve(inst, mip_gap=0.0)
    final = result.talent[result.talent["year"] == inst.years[-1]].set_index(
        ["county", "talent_type"]
    )["useful"]
    assert final["A", "eng"] >= 105.0 - 1e-6
    assert final["B", "voc"] >= 47.0 - 1e-6
    assert result.objective == pytest.approx(result.allocation["cost"].sum(), rel=1e-9)
    assert result.objective > 0
