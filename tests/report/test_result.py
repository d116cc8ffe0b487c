"""AllocationResult: its files, summary and display."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from talentplan.report.result import RESULT_FILES
from tests.model.tiny import tiny_instance

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


def test_result_files_are_one_list_with_the_summary_last(tiny_result, tmp_path):
    out = tiny_result.to_dir(tmp_path / "run")
    assert sorted(p.name for p in out.iterdir()) == sorted(RESULT_FILES)
    assert RESULT_FILES[-1] == "summary.json"
    without_report = tiny_result.to_dir(tmp_path / "plain", report=False)
    assert sorted(p.name for p in without_report.iterdir()) == sorted(
        name for name in RESULT_FILES if name != "report.html"
    )
