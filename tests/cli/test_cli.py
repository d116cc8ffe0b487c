"""The command line end to end: outputs, exit codes, messages, atomic results."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from talentplan.cli import app
from talentplan.report.result import RESULT_FILES
from tests.report.test_result import SUMMARY_KEYS

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def qingyuan_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out")
    result = run("solve", "qingyuan", "--out", str(out), "--mip-gap", "0.01", "--quiet")
    assert result.exit_code == 0, result.output
    return out


def test_solve_writes_every_result_file(qingyuan_out):
    for name in RESULT_FILES:
        assert (qingyuan_out / name).is_file(), name
    summary = json.loads((qingyuan_out / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(summary), SUMMARY_KEYS - set(summary)
    assert summary["status"] == "optimal"
    assert summary["gap"] <= 0.01
    assert set(summary["versions"]) >= {"talentplan", "pyomo", "highs"}
    alloc = pd.read_csv(qingyuan_out / "allocation.csv")
    assert list(alloc.columns) == [
        "county",
        "program",
        "kind",
        "industry",
        "year",
        "quantity",
        "cost",
        "land",
        "land_in_use",
        "cadre_hours",
    ]
    beside = [p.name for p in qingyuan_out.parent.iterdir()]
    inside = [p.name for p in qingyuan_out.iterdir()]
    assert not [n for n in beside if n.startswith(f".{qingyuan_out.name}.")], "temporary left"
    assert not [n for n in inside if n.startswith(".")], "temporary files left behind"


def test_step_values_flag_writes_and_shows_the_value_of_used_up_limits(tmp_path):
    import talentplan as tp
    from tests.solver.test_shadow_prices import _tight_cadres

    folder = tp.write_instance(_tight_cadres(), tmp_path / "tight")
    out = tmp_path / "out"
    result = run("solve", str(folder), "--step-values", "--mip-gap", "0", "--out", str(out))
    assert result.exit_code == 0, result.output
    prices = pd.read_csv(out / "shadow_prices.csv")
    priced = prices[prices["step"].notna()]
    assert len(priced) and set(priced["resource"]) <= {"land", "cadre"}
    assert "step_value_high" in result.output
    assert "step_value: the change in the model's optimum" in (out / "report.html").read_text()
    assert json.loads((out / "summary.json").read_text())["step_values"] is True


def test_simulate_scores_the_solved_plan(qingyuan_out):
    result = run("simulate", "qingyuan", "--plan", str(qingyuan_out / "allocation.csv"))
    assert result.exit_code == 0, result.output
    assert "breaches: none" in result.output
    summary = json.loads((qingyuan_out / "summary.json").read_text())
    value = float(result.output.split("talent_index = ")[1].split()[0])
    assert value == pytest.approx(summary["objective"], rel=summary["gap"] + 1e-3)


def test_infeasible_instance_explains_and_writes_no_results(tmp_path):
    inst_dir = tmp_path / "inst"
    assert run("export", "qingyuan", str(inst_dir)).exit_code == 0
    budgets = pd.read_csv(inst_dir / "budgets.csv")
    budgets["amount"] = 1.0
    budgets.to_csv(inst_dir / "budgets.csv", index=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["solve", str(inst_dir), "--out", str(out), "--quiet"])
    assert result.exit_code == 1
    text = (out / "infeasibility.txt").read_text()
    assert "budget 2027/" in text
    assert "one-stop centre everywhere" in text
    assert sorted(p.name for p in out.iterdir()) == ["infeasibility.txt"]


def test_bad_input_names_file_row_and_column(tmp_path):
    inst_dir = tmp_path / "inst"
    run("export", "qingyuan", str(inst_dir))
    budgets = pd.read_csv(inst_dir / "budgets.csv")
    budgets.loc[3, "amount"] = -5.0
    budgets.to_csv(inst_dir / "budgets.csv", index=False)
    result = runner.invoke(app, ["solve", str(inst_dir), "--out", str(tmp_path / "o"), "-q"])
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "budgets.csv" in message and "row 5" in message and "amount" in message
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_unknown_instance_and_bad_option():
    assert runner.invoke(app, ["solve", "no_such_place", "-q"]).exit_code == 2
    result = runner.invoke(app, ["solve", "qingyuan", "--mip-gap", "-1", "-q", "--out", "/tmp/x"])
    assert result.exit_code == 2
    assert "--mip-gap -1.0" in result.output


@pytest.mark.slow
def test_solve_by_decomposition_says_so_and_a_bad_method_is_named(tmp_path):
    out = tmp_path / "o"
    result = run(
        "solve",
        "qingyuan",
        "--method",
        "decomposition",
        "--mip-gap",
        "0.01",
        "-q",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["method"] == "decomposition"
    assert summary["method_reason"] == "asked for"
    assert summary["gap"] <= 0.01
    bad = runner.invoke(app, ["solve", "qingyuan", "--method", "by-hand", "-q", "--out", str(out)])
    assert bad.exit_code == 2
    assert "--method" in bad.output and "decomposition" in bad.output


def test_validate_export_roundtrip_and_datasets(tmp_path):
    assert "valid" in run("validate", "models/qingyuan").output
    book = tmp_path / "q.xlsx"
    assert run("export", "qingyuan", str(book)).exit_code == 0
    assert run("validate", str(book)).exit_code == 0
    exported = openpyxl.load_workbook(book, read_only=False)
    rules = {str(r.sqref): r.formula1 for r in exported["programs"].data_validations.dataValidation}
    assert '"site,count,amount,chain,city"' in rules.values()
    assert "units" in exported.sheetnames
    listing = run("datasets").output
    assert "qingyuan" in listing and "northern_guangdong" in listing


def test_simulate_reports_a_bad_plan_row(tmp_path):
    plan = tmp_path / "plan.csv"
    plan.write_text("county,program,industry,year,quantity\nQingcheng,no_such,,2025,1\n")
    result = runner.invoke(app, ["simulate", "qingyuan", "--plan", str(plan)])
    assert result.exit_code == 2
    assert "row 2" in result.output and "no_such" in result.output


def test_calibrate_writes_parameters(tmp_path):
    example = Path(__file__).resolve().parents[2] / "examples" / "calibration"
    out = tmp_path / "params.json"
    result = run(
        "calibrate",
        str(example / "panel.csv"),
        "--spec",
        str(example / "spec.toml"),
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert [p["key"] for p in data["parameters"]] == [
        "one_stop_centre:engineer:retention",
        "cash_subsidy:engineer:inflow_log",
    ]


def test_calibrate_bad_spec_is_named(tmp_path):
    example = Path(__file__).resolve().parents[2] / "examples" / "calibration"
    spec = tmp_path / "spec.toml"
    spec.write_text(
        (example / "spec.toml").read_text().replace('estimator = "panel"', 'estimator = "magic"', 1)
    )
    result = runner.invoke(
        app,
        [
            "calibrate",
            str(example / "panel.csv"),
            "--spec",
            str(spec),
            "--out",
            str(tmp_path / "p.json"),
        ],
    )
    assert result.exit_code == 2
    assert "magic" in result.output and not (tmp_path / "p.json").exists()


def test_unreadable_plan_and_bad_synthetic_seed(tmp_path):
    plan = tmp_path / "plan.csv"
    plan.write_text("")
    result = runner.invoke(app, ["simulate", "qingyuan", "--plan", str(plan)])
    assert result.exit_code == 2 and "cannot read plan file" in result.output
    result = runner.invoke(app, ["validate", "synthetic:5:-1"])
    assert result.exit_code == 2 and "SEED >= 0" in result.output


def test_a_gap_above_the_threshold_is_said_on_stderr_and_in_the_summary(tmp_path, monkeypatch):
    # Every plan's certified gap includes the chords' error, so with the threshold at 0
    # even an optimal plan is warned about: the message's path, quickly.
    import talentplan.report.pipeline as pipeline

    monkeypatch.setattr(pipeline, "GAP_WARNING_ABOVE", 0.0)
    out = tmp_path / "o"
    result = run("solve", "qingyuan", "--out", str(out), "--mip-gap", "0.01", "--quiet")
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["gap_warning"].startswith("the plan may be up to")
    assert "warning: the plan may be up to" in result.stderr


def test_the_default_run_has_no_gap_warning(qingyuan_out):
    summary = json.loads((qingyuan_out / "summary.json").read_text())
    assert summary["gap"] <= 0.01 and summary["gap_warning"] is None
    assert summary["warm_start"]["requested"] and summary["warm_start"]["found"]


def test_solve_writes_a_manifest_of_its_inputs_outputs_and_versions(qingyuan_out):
    import hashlib

    from talentplan.data import bundled

    def sha(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    manifest = json.loads((qingyuan_out / "manifest.json").read_text())
    assert manifest["format"] == "talentplan.manifest"
    command = manifest["command"]
    assert command["name"] == "solve" and command["args"][0] == "qingyuan"
    args = command["args"]
    assert args[args.index("--mip-gap") + 1] == "0.01" and "--quiet" in args
    assert args[args.index("--out") + 1] == str(qingyuan_out)
    assert manifest["solver_options"]["mip_gap"] == 0.01
    assert manifest["seed"] == json.loads((qingyuan_out / "summary.json").read_text())["seed"]
    # Every result file, by its bytes as they are now.
    assert manifest["outputs"] == {name: sha(qingyuan_out / name) for name in RESULT_FILES}
    (instance,) = manifest["inputs"]
    folder = bundled.path("qingyuan")
    assert instance["kind"] == "bundled"
    assert instance["files"] == {p.name: sha(p) for p in sorted(folder.iterdir()) if p.is_file()}
    assert {
        "talentplan",
        "python",
        "pyomo",
        "highs",
        "highspy",
        "numpy",
        "pandas",
        "linearmodels",
    } <= set(manifest["versions"])
    assert manifest["created"].endswith("+00:00") and manifest["platform"]["machine"]
