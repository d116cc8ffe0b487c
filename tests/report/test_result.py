"""AllocationResult: its files, summary and display."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pandas as pd
import pytest

import talentplan as tp
from talentplan import _files
from talentplan.errors import InstanceError
from talentplan.report.pipeline import certificate, gap_basis
from talentplan.report.result import RESULT_FILES
from tests.model.tiny import tiny_instance

# --- outputs -----------------------------------------------------------------------------

SUMMARY_KEYS = {
    "status",
    "method",
    "method_reason",
    "objective",
    "bound",
    "gap",
    "gap_basis",
    "mip_objective",
    "mip_bound",
    "mip_gap",
    "approximation_error",
    "simulated_objective",
    "build_seconds",
    "solve_seconds",
    "n_variables",
    "n_binaries",
    "n_integers",
    "n_constraints",
    "budget_use",
    "instance_hash",
    "versions",
    "gap_warning",
    "warm_start",
    "plan_source",
    "skipped",
    "elapsed_seconds",
}


def test_to_dir_writes_every_file(tiny_result, tmp_path):
    out = tiny_result.to_dir(tmp_path / "run")
    for name in ("allocation.csv", "talent.csv", "summary.json", "report.html"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert SUMMARY_KEYS <= set(summary)
    assert summary["status"] == "optimal"
    assert summary["objective"] == pytest.approx(tiny_result.objective)
    # the objective is the plan's exact value; the model's numbers stand beside it
    assert summary["simulated_objective"] == summary["objective"]
    assert summary["mip_objective"] == pytest.approx(tiny_result.mip_objective)
    assert summary["mip_objective"] <= summary["objective"]
    assert summary["gap_basis"] == "exact"
    assert summary["bound"] == pytest.approx(summary["mip_bound"] + summary["approximation_error"])
    assert summary["gap"] == pytest.approx(tiny_result.gap)
    assert summary["mip_gap"] == pytest.approx(0.0, abs=1e-9)  # solved with mip_gap=0
    assert summary["requested_mip_gap"] == 0.0
    assert summary["gap_warning"] is None  # solved to optimality
    assert summary["skipped"] == []
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
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporary left beside
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_result_renders_as_text_and_html(tiny_result):
    text = str(tiny_result)
    assert "optimal" in text
    assert "talent_index" in text
    assert f"objective (exact curves): talent_index = {tiny_result.objective:,.8g}" in text
    assert f"model objective / bound: {tiny_result.mip_objective:,.8g} / " in text
    assert "with the exact curves (bound" in text
    html = tiny_result._repr_html_()
    assert html.startswith("<h4>")
    assert "<table" in html
    assert "objective (exact curves)" in html


def test_report_shows_exact_and_model_objectives(tiny_result):
    from talentplan.report.html_report import render_report

    page = render_report(tiny_result)
    assert f"talent_index = {tiny_result.objective:,.4f}" in page
    assert "model objective / bound" in page
    assert "with the exact curves" in page


def test_result_files_move_in_in_the_listed_order_summary_last(tiny_result, tmp_path, monkeypatch):
    moved: list[str] = []
    real_replace = os.replace

    def record(src, dst):
        moved.append(Path(dst).name)
        real_replace(src, dst)

    monkeypatch.setattr(_files.os, "replace", record)
    tiny_result.to_dir(tmp_path / "run")
    assert moved == list(RESULT_FILES)
    assert RESULT_FILES[-1] == "summary.json"
    moved.clear()
    tiny_result.to_dir(tmp_path / "plain", report=False)
    assert moved == [name for name in RESULT_FILES if name != "report.html"]


def test_an_interrupted_write_leaves_no_summary_beside_new_files(
    tiny_result, tmp_path, monkeypatch
):
    out = tiny_result.to_dir(tmp_path / "run")
    real_replace = os.replace

    def fail_at_talent(src, dst):
        if Path(dst).name == "talent.csv":
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(_files.os, "replace", fail_at_talent)
    with pytest.raises(KeyboardInterrupt):
        tiny_result.to_dir(out)
    assert not (out / "summary.json").exists()  # the old marker went first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


# --- the certificate ---------------------------------------------------------------------


def test_certificate_adds_the_approximation_error_to_the_model_bound():
    bound, gap = certificate(102.0, 101.0, 0.01, 3.0, "exact")
    assert bound == 104.0
    assert gap == pytest.approx(2.0 / 102.0)
    # rounding may put the exact value a hair above the bound: the gap is clipped at 0
    assert certificate(104.0 + 1e-12, 101.0, 0.0, 3.0, "exact")[1] == 0.0
    # no finite bound, no gap
    assert certificate(102.0, math.inf, math.inf, 3.0, "exact") == (math.inf, math.inf)


def test_model_basis_reports_the_model_bound_and_gap():
    assert certificate(50.0, 49.5, 0.01, 3.0, "model") == (49.5, 0.01)
    assert gap_basis("min_cost", 0.0) == "model"
    assert gap_basis("talent_index", 0.5) == "model"  # the floor is on the model's talent
    assert gap_basis("talent_index", 0.0) == "exact"
    assert gap_basis("equity", 0.5) == "exact"


def test_decisions_count_openings_and_units_added_not_county_years(tiny_result):
    from talentplan.report.result import decisions_by_program

    alloc = tiny_result.allocation
    table = decisions_by_program(alloc)
    for program, row in table.iterrows():
        rows = alloc[alloc["program"] == program].sort_values("year")
        kind = rows["kind"].iloc[0]
        keys = rows.groupby(["county", "industry"], dropna=False)
        if kind in ("site", "chain", "city"):
            assert row["decisions"] == keys.ngroups  # sites never close, so one each
        elif kind == "count":
            assert row["decisions"] == keys["quantity"].max().sum()  # units never shrink
        else:
            assert row["decisions"] == len(rows)
        assert row["cost"] == pytest.approx(rows["cost"].sum())
    assert "decisions" in str(tiny_result)


def test_solve_takes_what_load_instance_reads():
    by_name = tp.solve("synthetic:2:1", mip_gap=1e-3)
    by_object = tp.solve(tp.datasets.synthetic(2, seed=1), mip_gap=1e-3)
    assert by_name.objective == pytest.approx(by_object.objective, rel=1e-9)
    with pytest.raises(InstanceError, match="no-such-dataset"):
        tp.solve("no-such-dataset")
