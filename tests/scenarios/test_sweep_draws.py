"""Sweeps over response-parameter draws, and the sweep table as Parquet."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import talentplan as tp
from talentplan.cli import app
from talentplan.data.responses import apply_parameters
from talentplan.errors import CalibrationError
from talentplan.scenarios.grid import DRAW_PREFIX
from talentplan.scenarios.sweep import sweep
from tests.model.tiny import tiny_instance
from tests.scenarios.test_stochastic import parameters

GAP = 1e-6
runner = CliRunner()


@pytest.fixture(scope="module")
def drawn_sweep(tmp_path_factory):
    draws = parameters().draw(3, seed=5)
    out = tmp_path_factory.mktemp("draws")
    result = sweep(
        tiny_instance(), out, budget_scale=[0.8, 1.0], draws=draws, workers=1, mip_gap=GAP
    )
    return result, draws


@pytest.mark.slow
def test_every_scale_is_solved_under_every_draw_as_an_ordinary_solve_would(drawn_sweep):
    result, draws = drawn_sweep
    table = result.table
    assert list(table["budget_scale"]) == [0.8, 0.8, 0.8, 1.0, 1.0, 1.0]
    assert list(table["draw"]) == [0, 1, 2, 0, 1, 2]
    assert (table["status"] == "optimal").all()
    keys = list(draws.columns)
    assert [c for c in table.columns if c.startswith(DRAW_PREFIX)] == [
        f"{DRAW_PREFIX}{k}" for k in keys
    ]
    for _, row in table.iterrows():
        drawn = draws.iloc[int(row["draw"])]
        for k in keys:
            assert row[f"{DRAW_PREFIX}{k}"] == pytest.approx(drawn[k])
        inst = apply_parameters(tiny_instance(), drawn.to_dict(), clip=True)
        alone = tp.solve(inst.scale_budget(row["budget_scale"]), mip_gap=GAP)
        assert row["objective"] == pytest.approx(alone.objective, rel=1e-5)
    # Different draws give different plans' values (the draws do reach the model).
    assert table["objective"].nunique() > 2


@pytest.mark.slow
def test_the_parquet_table_is_the_csv_table_with_its_types(drawn_sweep):
    result, _ = drawn_sweep
    parquet = pd.read_parquet(result.folder / "sweep.parquet")
    csv = pd.read_csv(result.folder / "sweep.csv", keep_default_na=False, na_values=[""])
    assert list(parquet.columns) == list(result.table.columns)
    pd.testing.assert_frame_equal(parquet, result.table, check_dtype=False)
    assert parquet["reused"].dtype == bool and parquet["draw"].dtype.kind == "i"
    assert parquet["objective"].tolist() == pytest.approx(csv["objective"].tolist())
    summary = json.loads((result.folder / "summary.json").read_text())
    assert summary["grid"]["draws"] == 3


def test_a_draw_naming_no_response_is_refused_before_anything_is_written(tmp_path):
    draws = pd.DataFrame({"nope:eng:retention": [0.5]})
    with pytest.raises(CalibrationError, match="nope"):
        sweep(tiny_instance(), tmp_path / "o", draws=draws, workers=1)
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_the_command_sweeps_draws_and_names_bad_combinations(tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    tp.write_instance(tiny_instance(), folder)
    params = parameters().to_json(tmp_path / "params.json")
    out = tmp_path / "out"
    args = ["sweep", str(folder), "--params", str(params), "--draws", "2", "--seed", "3"]
    done = runner.invoke(app, [*args, "--out", str(out), "-q", "--workers", "1"])
    assert done.exit_code == 0, done.output
    table = pd.read_csv(out / "sweep.csv")
    assert list(table["draw"]) == [0, 1]
    expected = parameters().draw(2, 3)
    first = [f"{DRAW_PREFIX}{k}" for k in expected.columns]
    assert table[first].to_numpy() == pytest.approx(expected.clip(lower=0).to_numpy())
    assert (out / "sweep.parquet").is_file()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--draws", "2"], "--draws 2: expected --draws N with --params FILE"),
        (["--draws", "-1"], "--draws -1: expected a whole number >= 0"),
        (["--dask-workers", "0"], "--dask-workers 0: expected a whole number >= 1"),
        (
            ["--dask-workers", "1", "--scheduler", "tcp://127.0.0.1:1"],
            "--dask-workers 1: expected no --scheduler with it",
        ),
    ],
)
def test_bad_draw_and_cluster_options_are_named_and_create_nothing(
    tmp_path: Path, extra: list[str], expected: str
) -> None:
    out = tmp_path / "o"
    result = runner.invoke(app, ["sweep", "qingyuan", "--out", str(out), *extra])
    assert result.exit_code == 2, result.output
    assert expected in " ".join(result.output.split())
    assert not out.exists()


def test_params_naming_a_missing_file_is_named(tmp_path: Path) -> None:
    out = tmp_path / "o"
    args = ["sweep", "qingyuan", "--draws", "2", "--params", str(tmp_path / "gone.json")]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 2 and "gone.json: no such file" in result.output
    assert not out.exists()
