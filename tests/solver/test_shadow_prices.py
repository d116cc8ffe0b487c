"""Shadow prices of budgets, land and cadre hours, checked against LP duality.

Reference for the shadow-price tests: LP duality. The prices are duals of the model's
objective (``AllocationResult.mip_objective``). With the integer decisions fixed, the
optimal value ``v(b)`` of the (maximising) LP is concave in a budget right-hand side ``b``
and any optimal dual ``p`` of that row is a supergradient, so for every step ``h > 0``

    v(b + h) - v(b) <= p * h <= v(b) - v(b - h),

and complementary slackness gives ``p = 0`` for a budget that is not used up. The fixed LP
is re-solved here through the public API by pinning every integer decision of the plan
(pins.csv ``fix``/``forbid`` rows), so the check runs the whole pipeline, not the dual code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from talentplan.report.pipeline import solve
from tests.model.tiny import tiny_instance

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
        value[h] = solve(inst, mip_gap=0.0).mip_objective
    tol = 1e-6 * abs(value[0.0])
    assert value[0.0] == pytest.approx(tiny_result.mip_objective, rel=1e-7)
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
    v0 = tiny_result.mip_objective
    for r in budget.itertuples(index=False):
        if (r.year, r.name) == (2025, "fiscal"):
            continue  # covered above
        up = solve(_with_budget(pinned, r.year, r.name, r.limit + 1.0), mip_gap=0.0).mip_objective
        assert up - v0 <= r.price + 1e-6 * abs(v0), (r.year, r.name)
        assert np.isfinite(up)


# --- discrete values of limits used only by whole decisions -----------------------------
# (checked against enumeration with the limit raised in tests/model/test_bruteforce.py)


def _tight_cadres():
    """The tiny instance with B's cadre hours fully used in 2026 (measured)."""
    inst = tiny_instance(n_years=2, budget=80.0, land_quota=12.0)
    counties = inst.counties.copy()
    counties["cadre_hours"] = [100.0, 60.0]
    return inst.replace_tables(counties=counties)


def test_step_columns_are_empty_unless_asked(tiny_result):
    steps = tiny_result.shadow_prices[["step", "step_value", "step_value_low", "step_value_high"]]
    assert steps.isna().all().all()


def test_step_values_price_every_used_up_land_and_cadre_row_and_nothing_else():
    result = solve(_tight_cadres(), mip_gap=0.0, step_values=True)
    prices = result.shadow_prices
    whole_only = prices["fully_used"] & prices["resource"].isin(["land", "cadre"])
    assert prices.loc[whole_only, "resource"].eq("cadre").any()
    assert prices.loc[whole_only, "step"].notna().all()
    assert prices.loc[~whole_only, ["step", "step_value"]].isna().all().all()
    priced = prices[whole_only]
    # one step is the smallest amount one whole decision uses: the birds' 20 cadre hours,
    # the centre's 4 mu (tests/model/tiny.py)
    assert set(priced.loc[priced["resource"] == "cadre", "step"]) == {20.0}
    assert set(priced.loc[priced["resource"] == "land", "step"]) <= {4.0}
    assert (priced["step_value_low"] <= priced["step_value"] + 1e-9).all()
    assert (priced["step_value"] <= priced["step_value_high"] + 1e-9).all()
    # at gap 0 both optima are known, so the interval is a point
    assert np.allclose(priced["step_value_low"], priced["step_value_high"], atol=1e-6)
    assert result.summary["step_values"] is True


def test_step_values_stop_when_asked():
    import threading

    from talentplan.model.build import build_model
    from talentplan.solver.highs import load_values, solve_formulation
    from talentplan.solver.readback import shadow_prices
    from talentplan.solver.steps import step_values

    formulation = build_model(_tight_cadres())
    run = solve_formulation(formulation, mip_gap=0.0)
    load_values(run.compiled, run.values)
    prices = shadow_prices(formulation, run)
    stop = threading.Event()
    stop.set()
    priced = step_values(formulation, run, prices, stop=stop)
    assert priced["step"].isna().all()
    assert priced.drop(columns=["step", "step_value", "step_value_low", "step_value_high"]).equals(
        prices.drop(columns=["step", "step_value", "step_value_low", "step_value_high"])
    )


def test_step_values_option_is_checked():
    from talentplan.errors import OptionError

    with pytest.raises(OptionError, match="step_values"):
        solve(tiny_instance(), step_values="yes")  # type: ignore[arg-type]
