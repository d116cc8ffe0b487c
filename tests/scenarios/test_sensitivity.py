"""Sensitivity of the plan: each row equals an independent solve of the scaled instance."""

from __future__ import annotations

import dataclasses
import json
import math
import threading

import numpy as np
import pandas as pd
import pytest

import talentplan as tp
from talentplan.errors import OptionError
from talentplan.scenarios.sensitivity import (
    SENSITIVITY_FILES,
    check_factor,
    plan_shift,
    response_keys,
    sensitivity,
)
from talentplan.solver.highs import Progress
from tests.model.tiny import frame, tiny_instance

KEYS = ["subsidy:eng:inflow_log", "centre:voc:retention", "centre:eng:retention"]


@pytest.fixture(scope="module")
def result() -> tp.SensitivityResult:
    return sensitivity(tiny_instance(n_years=2), parameters=KEYS, mip_gap=0.0)


def by_hand(inst: tp.Instance, key: str, value: float) -> tp.Instance:
    """Scale one response value in the tables directly, without apply_parameters."""
    program, talent, effect = key.split(":")
    r = inst.responses.copy()
    row = (r.program == program) & (r.talent_type == talent.replace("-", "")) & (r.effect == effect)
    assert row.sum() == 1
    r.loc[row, "value"] = value
    return inst.replace_tables(responses=r)


@pytest.mark.slow
def test_each_row_matches_a_solve_from_scratch(result: tp.SensitivityResult) -> None:
    inst = tiny_instance(n_years=2)
    base = tp.solve(inst, mip_gap=0.0)
    base_spend = base.allocation.groupby("program")["cost"].sum()
    assert result.base.objective == pytest.approx(base.objective, rel=1e-9)
    table, spend = result.table, result.spend
    assert list(table["key"]) == [k for k in KEYS for _ in (0, 1)]
    assert list(table["scale"]) == [0.5, 1.5] * 3
    for row in table.itertuples(index=False):
        changed = by_hand(inst, row.key, row.value)
        fresh = tp.solve(changed, mip_gap=0.0)
        assert row.status == "optimal"
        assert row.objective == pytest.approx(fresh.objective, rel=1e-7)
        assert row.objective_change == pytest.approx(fresh.objective - base.objective, abs=1e-6)
        assert row.gap == pytest.approx(fresh.gap, rel=1e-6, abs=1e-9)
        fresh_spend = fresh.allocation.groupby("program")["cost"].sum()
        # the same optimum may be reached by another plan of equal value: compare the
        # spend only where the optimum is unique (the shift is then the one computed here)
        mine = spend[(spend.key == row.key) & (spend.scale == row.scale)].set_index("program")
        a, b = fresh_spend.align(mine["spend"], fill_value=0.0)
        assert np.allclose(a, b, atol=1e-6), (row.key, row.scale)
        assert row.plan_shift == pytest.approx(plan_shift(base_spend, fresh_spend), abs=1e-9)
        # keeping the base plan under the changed value, scored with the exact curves
        kept = tp.simulate(changed, base.allocation)
        assert not kept.violations
        assert row.keep_loss == pytest.approx(fresh.objective - kept.objective, abs=1e-6)
        noise = (base.bound - base.objective) + (fresh.bound - fresh.objective)
        assert row.noise == pytest.approx(noise, rel=1e-9)
        assert row.forced == (row.keep_loss > row.noise)
        assert row.significant == (row.forced and row.plan_shift > 0)


def test_a_value_that_moves_nothing_is_never_significant(result: tp.SensitivityResult) -> None:
    t = result.table.set_index(["key", "scale"])
    # the base plan opens no one-stop centre: vocational retention there cannot matter
    idle = t.loc["centre:voc:retention"]
    assert (idle["plan_shift"] == 0).all()
    assert (idle["objective_change"].abs() < 1e-6).all()
    assert not idle["forced"].any() and not idle["significant"].any()
    # the subsidy's inflow moves money between programs, beyond what the gaps allow
    subsidy = t.loc["subsidy:eng:inflow_log"]
    assert subsidy["significant"].all()
    assert (subsidy["plan_shift"] > 0.1).all()
    ranking = result.ranking()
    assert ranking["key"].iloc[0] == "subsidy:eng:inflow_log"
    assert ranking["key"].iloc[-1] == "centre:voc:retention"


def test_spend_table_balances(result: tp.SensitivityResult) -> None:
    spend = result.spend
    assert list(spend.columns) == ["key", "scale", "program", "base", "spend", "change"]
    assert np.allclose(spend["change"], spend["spend"] - spend["base"])
    base_total = result.base.allocation["cost"].sum()
    totals = spend.groupby(["key", "scale"])["base"].sum()
    assert np.allclose(totals, base_total)
    assert result.summary["base_spend"] == pytest.approx(base_total)


def test_by_program_and_county_sums_to_by_program() -> None:
    res = sensitivity(
        tiny_instance(n_years=1), parameters=["subsidy:eng:inflow_log"], by="program,county"
    )
    spend = res.spend
    assert {"program", "county"} <= set(spend.columns)
    assert (spend.loc[spend.program == "titles", "county"] == "").all()
    by_program = sensitivity(
        tiny_instance(n_years=1), parameters=["subsidy:eng:inflow_log"], by="program"
    )
    a = spend.groupby(["scale", "program"])["spend"].sum()
    b = by_program.spend.set_index(["scale", "program"])["spend"]
    a, b = a.align(b, fill_value=0.0)
    assert np.allclose(a, b, atol=1e-6)


def test_shares_are_capped_and_unchanged_values_need_no_solve() -> None:
    inst = tiny_instance(n_years=1)
    r = inst.responses.copy()
    r.loc[r.effect == "inflow", "value"] = 0.0
    inst = inst.replace_tables(responses=r)
    res = sensitivity(inst, factor=[3.0], parameters=["centre:eng:retention", "station:voc:inflow"])
    t = res.table.set_index("key")
    assert t.loc["centre:eng:retention", "value"] == 1.0
    assert t.loc["centre:eng:retention", "capped"]
    assert t.loc["station:voc:inflow", "status"] == "unchanged"
    assert t.loc["station:voc:inflow", "plan_shift"] == 0.0
    assert res.summary["solves"] == 1


def test_response_keys_name_blank_types_with_a_dash() -> None:
    keys = response_keys(tiny_instance())
    assert "alliance:-:graduate_retention" in keys
    assert len(keys) == len(tiny_instance().responses)


@pytest.mark.parametrize(
    ("factor", "scales"),
    [(0.5, (0.5, 1.5)), (0.2, (0.8, 1.2)), ([0.0, 2], (0.0, 2.0))],
)
def test_factor_stands_for_scales(factor, scales) -> None:
    assert check_factor(factor) == scales


@pytest.mark.parametrize(
    "options",
    [
        dict(factor=0.0),
        dict(factor=1.0),
        dict(factor=-0.5),
        dict(factor=math.nan),
        dict(factor=True),
        dict(factor=[]),
        dict(factor=[1.0]),
        dict(factor=[0.5, 0.5]),
        dict(factor=[-1.0]),
        dict(parameters=["centre:eng:inflow"]),
        dict(parameters="nonsense"),
        dict(by="county"),
        dict(mip_gap=1.5),
        dict(time_limit=0.0),
        dict(threads=0),
    ],
)
def test_options_are_checked_before_any_solve(options: dict) -> None:
    stop = threading.Event()
    stop.set()  # a solve that started would return, not raise
    with pytest.raises(OptionError) as info:
        sensitivity(tiny_instance(n_years=1), stop=stop, **options)
    assert info.value.option == next(iter(options))


def test_an_unknown_row_is_named_with_the_rows_there_are() -> None:
    with pytest.raises(OptionError, match="has no response row 'centre:eng:inflow'") as info:
        sensitivity(tiny_instance(n_years=1), parameters=["centre:eng:inflow"])
    assert "centre:eng:retention" in info.value.expected


def test_a_stop_set_before_the_start_skips_every_row() -> None:
    stop = threading.Event()
    stop.set()
    res = sensitivity(tiny_instance(n_years=1), parameters=KEYS, stop=stop)
    assert res.status == tp.SolveStatus.INTERRUPTED
    assert (res.table["status"] == "skipped").all()
    assert res.summary["solves"] == 0 and res.spend.empty


def test_a_stop_during_the_run_keeps_the_rows_done() -> None:
    stop = threading.Event()
    stages: list[str] = []

    def watch(p: Progress) -> None:
        if p.stage:
            stages.append(p.stage)
        if "(3 of" in p.stage:
            stop.set()

    res = sensitivity(tiny_instance(n_years=1), parameters=KEYS, progress=watch, stop=stop)
    assert res.status == tp.SolveStatus.INTERRUPTED
    assert stages[0] == "subsidy:eng:inflow_log x0.5 (1 of 6)"
    statuses = list(res.table["status"])
    assert statuses[:2] == ["optimal", "optimal"]
    assert statuses[2] in ("interrupted", "optimal")
    assert statuses[3:] == ["skipped"] * 3


def test_result_is_immutable_shows_itself_and_writes_its_files(
    result: tp.SensitivityResult, tmp_path
) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.status = tp.SolveStatus.ERROR  # type: ignore[misc]
    with pytest.raises(TypeError):
        result.summary["scales"] = (2.0,)  # type: ignore[index]
    copy = result.table
    copy.loc[0, "plan_shift"] = -1.0
    assert result.table.loc[0, "plan_shift"] != -1.0
    text = str(result)
    assert "Sensitivity of the plan" in text and "significant shifts" in text
    assert "<table" in result._repr_html_()
    out = result.to_dir(tmp_path / "sens")
    assert sorted(p.name for p in out.iterdir()) == sorted(SENSITIVITY_FILES)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["command"] == "sensitivity"
    assert summary["scales"] == [0.5, 1.5] and summary["by"] == ["program"]
    assert summary["solves"] == sum(summary["statuses"].values()) == 6
    table = pd.read_csv(out / "sensitivity.csv", keep_default_na=False)
    assert list(table.columns) == list(result.table.columns)
    assert np.allclose(table["plan_shift"], result.table["plan_shift"])


def test_exported_from_the_package() -> None:
    assert tp.sensitivity is sensitivity
    assert tp.scenarios.sensitivity is sensitivity


def test_min_cost_counts_a_dearer_plan_as_the_loss_and_records_infeasible_rows() -> None:
    target = frame("targets", [dict(county="A", talent_type="eng", target=105.0)])
    inst = tiny_instance(n_years=1, objective="min_cost").replace_tables(targets=target)
    keys = ["subsidy:eng:inflow_log", "centre:eng:retention"]
    res = sensitivity(inst, parameters=keys, mip_gap=0.0)
    t = res.table.set_index(["key", "scale"])
    # half the subsidy's inflow cannot reach the target: no plan, and the base plan
    # cannot be kept either
    halved = t.loc[("subsidy:eng:inflow_log", 0.5)]
    assert halved["status"] == "infeasible"
    assert halved["forced"] and halved["keep_loss"] == math.inf
    assert not halved["significant"] and math.isnan(halved["plan_shift"])
    assert res.status == tp.SolveStatus.ERROR
    assert res.summary["statuses"]["infeasible"] == 1
    # a stronger subsidy makes the target cheaper: keeping the base plan costs the saving
    base = tp.solve(inst, mip_gap=0.0)
    stronger = by_hand(inst, "subsidy:eng:inflow_log", 9.0)
    fresh = tp.solve(stronger, mip_gap=0.0)
    row = t.loc[("subsidy:eng:inflow_log", 1.5)]
    assert row["objective"] == pytest.approx(fresh.objective, rel=1e-7)
    assert row["objective_change"] < 0
    kept = tp.simulate(stronger, base.allocation)
    assert row["keep_loss"] == pytest.approx(kept.objective - fresh.objective, abs=1e-6)
    assert row["keep_loss"] > row["noise"] and row["significant"]
