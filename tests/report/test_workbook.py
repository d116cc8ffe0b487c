"""plan.xlsx: the workbook every solve writes beside its CSV files."""

from __future__ import annotations

import dataclasses
import io
import math
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import talentplan as tp
from talentplan._plot import CITY_WIDE
from talentplan.report.workbook import PLAN_SHEETS, plan_workbook

REPO = Path(__file__).resolve().parents[2]


def sheet_frame(book: openpyxl.Workbook, title: str) -> pd.DataFrame:
    """One sheet as a table, its first row the header."""
    rows = list(book[title].iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def fields(book: openpyxl.Workbook, title: str) -> dict[str, object]:
    return dict(sheet_frame(book, title)[["Field", "Value"]].itertuples(index=False))


def test_the_workbook_has_every_sheet_with_frozen_headers(tiny_result):
    book = openpyxl.load_workbook(io.BytesIO(plan_workbook(tiny_result)))
    assert book.sheetnames == list(PLAN_SHEETS)
    for ws in book.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert all(cell.font.bold for cell in ws[1] if cell.value is not None), ws.title
        assert ws.column_dimensions["A"].width > 5
    readme = sheet_frame(book, "README")
    assert set(PLAN_SHEETS) - {"README"} <= set(readme["Sheet"])


def test_allocation_sheet_is_allocation_csv_with_names_and_units(tiny_result, tmp_path):
    out = tiny_result.to_dir(tmp_path / "run")
    book = openpyxl.load_workbook(out / "plan.xlsx")
    sheet = sheet_frame(book, "allocation")
    csv = pd.read_csv(out / "allocation.csv", keep_default_na=False, na_values=[""])
    assert len(sheet) == len(csv) > 0
    assert sheet["Spend (10k yuan)"].sum() == pytest.approx(csv["cost"].sum(), rel=1e-12)
    assert sheet["Spend (10k yuan)"].tolist() == pytest.approx(csv["cost"].tolist(), rel=1e-12)
    assert sheet["Quantity (sites, units or 10k yuan)"].tolist() == pytest.approx(
        csv["quantity"].tolist()
    )
    assert sheet["Year"].tolist() == csv["year"].tolist()
    ids = sheet["County id"].fillna("").tolist()
    assert ids == csv["county"].astype(str).replace("nan", "").tolist()
    names = tiny_result.summary["names"]["county"]
    expected = [CITY_WIDE if c == "" else names.get(c, c) for c in ids]
    assert sheet["County"].tolist() == expected
    spend = book["allocation"]["I2"]
    assert book["allocation"]["I1"].value == "Spend (10k yuan)"
    assert spend.number_format == "#,##0.00"


def test_summary_by_county_talent_and_budgets_agree_with_the_result(tiny_result):
    book = openpyxl.load_workbook(io.BytesIO(plan_workbook(tiny_result)))
    summary = fields(book, "summary")
    assert summary["Status"] == tiny_result.status.value
    assert summary["Objective value (exact curves)"] == pytest.approx(tiny_result.objective)
    assert summary["Gap"] == pytest.approx(tiny_result.gap)
    assert summary["Instance"] == tiny_result.summary["instance"]
    used = tiny_result.budget_use["used"].sum()
    assert summary["Budget spent (10k yuan)"] == pytest.approx(used)
    assert summary["Version: talentplan"] == tiny_result.summary["versions"]["talentplan"]
    gap_cell = next(r[1] for r in book["summary"].iter_rows(min_row=2) if r[0].value == "Gap")
    assert gap_cell.number_format.endswith("%")

    by_county = sheet_frame(book, "by_county")
    table = tiny_result.by_county
    assert by_county["County id"].fillna("").tolist() == table.index.tolist()
    assert by_county["Spend (10k yuan)"].tolist() == pytest.approx(table["spend"].tolist())
    coverage = by_county["Coverage of demand, final year"]
    for shown, value in zip(coverage, table["coverage"], strict=True):
        assert shown is None if math.isnan(value) else shown == pytest.approx(value)
    assert book["by_county"]["F2"].number_format == "0.0%"

    talent = sheet_frame(book, "talent")
    assert talent["Useful talent (persons)"].sum() == pytest.approx(
        tiny_result.talent["useful"].sum()
    )
    assert book["talent"]["H2"].number_format == "#,##0"

    budgets = sheet_frame(book, "budgets")
    use = tiny_result.budget_use
    assert budgets["Slack (10k yuan)"].tolist() == pytest.approx(
        (use["available"] - use["used"]).tolist()
    )
    assumptions = fields(book, "assumptions")
    assert assumptions["Objective"] == tiny_result.summary["objective_name"]
    assert assumptions["Instance hash"] == tiny_result.summary["instance_hash"]


def test_a_result_read_back_from_its_files_writes_the_same_tables(tiny_result, tmp_path):
    again = type(tiny_result).from_dir(tiny_result.to_dir(tmp_path / "run", report=False))
    first = openpyxl.load_workbook(io.BytesIO(plan_workbook(tiny_result)))
    second = openpyxl.load_workbook(io.BytesIO(plan_workbook(again)))
    for title in ("allocation", "by_county", "budgets"):
        pd.testing.assert_frame_equal(sheet_frame(first, title), sheet_frame(second, title))


def test_awkward_text_and_missing_numbers_survive_in_the_workbook(tiny_result):
    allocation = tiny_result.allocation.copy()
    county = allocation["county"].iloc[0]
    allocation.loc[0, "cost"] = math.nan
    allocation.loc[1, "land"] = math.inf
    names = {**tiny_result.summary["names"]}
    awkward = ' A & <B> "C" \x07 '
    names["county"] = {**names["county"], county: awkward}
    program = allocation["program"].iloc[0]
    names["program"] = {**names["program"], program: "=SUM(1,2)"}
    odd = dataclasses.replace(
        tiny_result, allocation=allocation, summary={**tiny_result.summary, "names": names}
    )
    book = openpyxl.load_workbook(io.BytesIO(plan_workbook(odd)))
    sheet = sheet_frame(book, "allocation")
    assert sheet.loc[sheet["County id"] == county, "County"].eq(awkward.replace("\x07", "")).all()
    assert sheet.loc[0, "Spend (10k yuan)"] is None or math.isnan(sheet.loc[0, "Spend (10k yuan)"])
    assert book["allocation"]["I2"].value is None
    assert book["allocation"]["C2"].value == "=SUM(1,2)"  # text, not a formula
    assert book["allocation"]["C2"].data_type == "s"
    assert book["allocation"]["I2"].number_format == "#,##0.00"  # a blank keeps its format
    assert book["allocation"]["J3"].value is None
    rest = allocation["cost"].iloc[1:].sum()
    assert sheet["Spend (10k yuan)"].iloc[1:].sum() == pytest.approx(rest)

    empty = dataclasses.replace(tiny_result, allocation=allocation.iloc[:0])
    book = openpyxl.load_workbook(io.BytesIO(plan_workbook(empty)))
    assert book["allocation"].max_row == 1
    assert book["allocation"]["I1"].value == "Spend (10k yuan)"


@pytest.mark.slow
def test_qingyuan_plan_workbook_matches_allocation_csv(tmp_path):
    instance = tp.load_instance("qingyuan")
    result = tp.solve(instance, mip_gap=1e-2)
    out = result.to_dir(tmp_path / "run")
    book = openpyxl.load_workbook(out / "plan.xlsx", read_only=True)
    sheet = sheet_frame(book, "allocation")
    csv = pd.read_csv(out / "allocation.csv")
    assert len(sheet) == len(csv) > 50
    assert sheet["Spend (10k yuan)"].sum() == pytest.approx(csv["cost"].sum(), rel=1e-12)
    names = dict(zip(instance.counties["county"], instance.counties["name"], strict=True))
    for county, shown in zip(sheet["County id"].fillna(""), sheet["County"], strict=True):
        assert shown == (names[county] if county else CITY_WIDE)
    by_county = sheet_frame(book, "by_county")
    assert by_county["Spend (10k yuan)"].sum() == pytest.approx(csv["cost"].sum())
    book.close()


@pytest.mark.slow
@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)])
def test_plan_workbook_keeps_the_umask_permissions(tiny_result, tmp_path, umask, mode):
    source = tiny_result.to_dir(tmp_path / "first")
    script = textwrap.dedent(
        f"""
        import os, sys
        os.umask({umask})
        from talentplan.report.result import AllocationResult
        AllocationResult.from_dir(sys.argv[1]).to_dir(sys.argv[2])
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    target = tmp_path / "second"
    run = subprocess.run(
        [sys.executable, "-c", script, str(source), str(target)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    for name in ("plan.xlsx", "allocation.csv", "summary.json"):
        assert stat.S_IMODE((target / name).stat().st_mode) == mode, name
