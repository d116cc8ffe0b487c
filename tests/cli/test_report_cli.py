"""``talentplan report DIR``: report.html drawn again from a result folder."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import talentplan as tp
from talentplan.cli import app
from talentplan.report.html_report import headline_section
from tests.model.tiny import tiny_instance

runner = CliRunner()


def test_report_redraws_the_page_from_the_result_files(tmp_path: Path) -> None:
    result = tp.solve(tiny_instance(n_years=2, budget=60.0), mip_gap=0.0)
    folder = result.to_dir(tmp_path / "run", report=False)
    assert not (folder / "report.html").exists()
    run = runner.invoke(app, ["report", str(folder)], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert headline_section(result) in page
    assert page.count("<svg") == 5 and "<details>" in page
    assert "written" in run.output


def test_report_of_a_folder_without_a_result_is_bad_input(tmp_path: Path) -> None:
    run = runner.invoke(app, ["report", str(tmp_path)], catch_exceptions=False)
    assert run.exit_code == 2
    assert "holds no complete result of solve" in run.output
    assert not (tmp_path / "report.html").exists()
