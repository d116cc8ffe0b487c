"""Every class of bad input is reported with file, row, column and value, all at once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from talentplan.data import load_instance, write_instance
from talentplan.errors import InstanceError, InstanceValidationError
from tests.data.conftest import edit_table, find_error, read_table, write_table


def load_errors(path: Path) -> InstanceValidationError:
    with pytest.raises(InstanceValidationError) as info:
        load_instance(path)
    return info.value


def set_cell(folder: Path, table: str, row: int, column: str, value: str) -> None:
    """Set the cell at spreadsheet ``row`` (header = 1) of ``table``."""

    def change(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[row - 2, column] = value
        return f

    edit_table(folder, table, change)


def row_of(folder: Path, table: str, **match: str) -> int:
    """Spreadsheet row of the first record matching ``match``."""
    f = read_table(folder, table)
    mask = pd.Series(True, index=f.index)
    for k, v in match.items():
        mask &= f[k] == v
    return int(f.index[mask][0]) + 2


def add_rows(folder: Path, table: str, rows: list[dict[str, str]]) -> None:
    path = folder / f"{table}.csv"
    f = read_table(folder, table) if path.exists() else pd.DataFrame()
    write_table(folder, table, pd.concat([f, pd.DataFrame(rows)], ignore_index=True).fillna(""))


# --- budgets ------------------------------------------------------------------------------


def test_negative_budget(qy_dir: Path) -> None:
    row = row_of(qy_dir, "budgets", year="2026", source="city_fiscal")
    set_cell(qy_dir, "budgets", row, "amount", "-5")
    err = find_error(load_errors(qy_dir), file="budgets.csv", row=row, column="amount")
    assert err.value == "-5"
    assert ">= 0" in err.message


def test_plan_year_without_budget(qy_dir: Path) -> None:
    edit_table(qy_dir, "budgets", lambda f: f[f["year"] != "2027"])
    err = find_error(load_errors(qy_dir), file="budgets.csv", column="year", value=2027)
    assert "no budget row for plan year 2027" in err.message


def test_blank_required_cell(qy_dir: Path) -> None:
    set_cell(qy_dir, "budgets", 3, "amount", "")
    err = find_error(load_errors(qy_dir), file="budgets.csv", row=3, column="amount")
    assert "required" in err.message


def test_blank_optional_cell_takes_default(qy_dir: Path) -> None:
    row = row_of(qy_dir, "counties", county="Fogang")
    set_cell(qy_dir, "counties", row, "efficiency", "")
    inst = load_instance(qy_dir)
    assert inst.counties.set_index("county").loc["Fogang", "efficiency"] == 1.0


# --- references, duplicates, columns, cells -----------------------------------------------


@pytest.mark.parametrize(
    ("table", "column", "bad", "expect"),
    [
        ("stocks", "county", "Qingchen", "did you mean 'Qingcheng'"),
        ("responses", "program", "honors", "did you mean 'honours'"),
        ("demand", "talent_type", "enginer", "did you mean 'engineer'"),
        ("presence", "industry", "steel", "unknown industry 'steel'"),
        ("budgets", "source", "lottery", "unknown source 'lottery'"),
    ],
)
def test_unknown_id(qy_dir: Path, table: str, column: str, bad: str, expect: str) -> None:
    set_cell(qy_dir, table, 2, column, bad)
    err = find_error(load_errors(qy_dir), file=f"{table}.csv", row=2, column=column)
    assert err.value == bad
    assert expect in err.message


def test_duplicate_id(qy_dir: Path) -> None:
    f = read_table(qy_dir, "counties")
    write_table(qy_dir, "counties", pd.concat([f, f.iloc[[2]]], ignore_index=True))
    err = find_error(load_errors(qy_dir), file="counties.csv", row=len(f) + 2)
    assert "duplicate key" in err.message and "row 4" in err.message


def test_duplicate_composite_key(qy_dir: Path) -> None:
    f = read_table(qy_dir, "responses")
    write_table(qy_dir, "responses", pd.concat([f, f.iloc[[0]]], ignore_index=True))
    err = find_error(load_errors(qy_dir), file="responses.csv", row=len(f) + 2)
    assert "duplicate key (program=" in err.message


def test_missing_required_column(qy_dir: Path) -> None:
    edit_table(qy_dir, "stocks", lambda f: f.drop(columns=["stock"]))
    err = find_error(load_errors(qy_dir), file="stocks.csv", row=1, column="stock")
    assert "required column 'stock' is missing" in err.message


def test_unknown_column_is_an_error_and_comment_columns_are_ignored(qy_dir: Path) -> None:
    edit_table(qy_dir, "counties", lambda f: f.assign(efficency="0.9"))
    err = find_error(load_errors(qy_dir), file="counties.csv", row=1, column="efficency")
    assert "did you mean 'efficiency'" in err.message
    edit_table(
        qy_dir, "counties", lambda f: f.drop(columns=["efficency"]).assign(**{"#note": "free text"})
    )
    assert len(load_instance(qy_dir).counties) == 8


def test_non_numeric_cell(qy_dir: Path) -> None:
    set_cell(qy_dir, "counties", 4, "population_10k", "many")
    err = find_error(load_errors(qy_dir), file="counties.csv", row=4, column="population_10k")
    assert err.value == "many"
    assert "expected a number >= 0 (10k persons)" in err.message


def test_non_integer_in_int_column(qy_dir: Path) -> None:
    set_cell(qy_dir, "counties", 5, "townships", "7.5")
    err = find_error(load_errors(qy_dir), file="counties.csv", row=5, column="townships")
    assert "whole number" in err.message


def test_value_not_allowed(qy_dir: Path) -> None:
    set_cell(qy_dir, "programs", 2, "kind", "sites")
    err = find_error(load_errors(qy_dir), file="programs.csv", row=2, column="kind")
    assert "one of site, count, amount, chain, city" in err.message


def test_all_problems_are_collected(qy_dir: Path) -> None:
    set_cell(qy_dir, "counties", 4, "population_10k", "many")
    set_cell(qy_dir, "budgets", 3, "amount", "-1")
    set_cell(qy_dir, "stocks", 2, "attrition", "1.5")
    exc = load_errors(qy_dir)
    assert {(e.file, e.row) for e in exc.errors} >= {
        ("counties.csv", 4),
        ("budgets.csv", 3),
        ("stocks.csv", 2),
    }
    assert isinstance(exc, InstanceError)
    assert "3 problem(s)" in str(exc) or "problem(s)" in str(exc)


# --- programs and responses ---------------------------------------------------------------


def test_effect_not_allowed_for_kind(qy_dir: Path) -> None:
    add_rows(
        qy_dir,
        "responses",
        [
            {
                "program": "honours",
                "talent_type": "rural",
                "effect": "retained_per_unit",
                "value": "2",
            }
        ],
    )
    f = read_table(qy_dir, "responses")
    err = find_error(load_errors(qy_dir), file="responses.csv", row=len(f) + 1, column="effect")
    assert "does not apply to program 'honours' of kind site" in err.message


def test_inflow_log_needs_positive_scale(qy_dir: Path) -> None:
    row = row_of(qy_dir, "responses", program="head_goose", effect="inflow_log")
    set_cell(qy_dir, "responses", row, "scale", "")
    err = find_error(load_errors(qy_dir), file="responses.csv", row=row, column="scale")
    assert "positive scale" in err.message
    set_cell(qy_dir, "responses", row, "scale", "0")
    find_error(load_errors(qy_dir), file="responses.csv", row=row, column="scale")


def test_requires_unknown_program(qy_dir: Path) -> None:
    row = row_of(qy_dir, "programs", program="order_training")
    set_cell(qy_dir, "programs", row, "requires", "chain_aliance")
    err = find_error(load_errors(qy_dir), file="programs.csv", row=row, column="requires")
    assert "did you mean 'chain_alliance'" in err.message


def test_cap_per_county_text_other_than_townships(qy_dir: Path) -> None:
    row = row_of(qy_dir, "programs", program="skill_studio")
    set_cell(qy_dir, "programs", row, "cap_per_county", "a few")
    err = find_error(load_errors(qy_dir), file="programs.csv", row=row, column="cap_per_county")
    assert "'townships'" in err.message


def test_more_than_one_graduate_type(qy_dir: Path) -> None:
    row = row_of(qy_dir, "talent_types", talent_type="rural")
    set_cell(qy_dir, "talent_types", row, "graduate", "true")
    err = find_error(load_errors(qy_dir), file="talent_types.csv", column="graduate")
    assert "more than one talent type is flagged graduate" in err.message


# --- grids --------------------------------------------------------------------------------


def test_missing_stock(qy_dir: Path) -> None:
    edit_table(qy_dir, "stocks", lambda f: f.drop(index=3))
    err = find_error(load_errors(qy_dir), file="stocks.csv")
    assert "no initial stock" in err.message


def test_missing_demand_year(qy_dir: Path) -> None:
    edit_table(
        qy_dir,
        "demand",
        lambda f: f[
            ~((f["county"] == "Yingde") & (f["talent_type"] == "rural") & (f["year"] == "2028"))
        ],
    )
    err = find_error(load_errors(qy_dir), file="demand.csv", value=2028)
    assert "county='Yingde'" in err.message and "talent_type='rural'" in err.message


def test_year_outside_plan(qy_dir: Path) -> None:
    set_cell(qy_dir, "budgets", 2, "year", "2031")
    err = find_error(load_errors(qy_dir), file="budgets.csv", row=2, column="year")
    assert "outside the plan years 2025-2029" in err.message


# --- pins ---------------------------------------------------------------------------------


def pin(
    county: str, program: str, year: int, action: str, value: str = "", industry: str = ""
) -> dict[str, str]:
    return {
        "county": county,
        "program": program,
        "industry": industry,
        "year": str(year),
        "action": action,
        "value": value,
    }


def pins_errors(qy_dir: Path, rows: list[dict[str, str]]) -> InstanceValidationError:
    write_table(qy_dir, "pins", pd.DataFrame(rows))
    return load_errors(qy_dir)


def test_chain_pin_for_absent_industry(qy_dir: Path) -> None:
    exc = pins_errors(
        qy_dir, [pin("Lianshan", "chain_alliance", 2026, "fix", "1", industry="new_materials")]
    )
    err = find_error(exc, file="pins.csv", row=2, column="industry")
    assert "not present in county 'Lianshan'" in err.message


def test_pin_above_townships_cap(qy_dir: Path) -> None:
    exc = pins_errors(qy_dir, [pin("Fogang", "talent_station", 2026, "fix", "12")])
    err = find_error(exc, file="pins.csv", row=2, column="value")
    assert "'townships'" in err.message and "has 6" in err.message


def test_site_pinned_to_two(qy_dir: Path) -> None:
    exc = pins_errors(qy_dir, [pin("Fogang", "honours", 2026, "fix", "2")])
    err = find_error(exc, file="pins.csv", row=2, column="value")
    assert "open (1) or not (0)" in err.message


def test_min_pin_above_max_pin(qy_dir: Path) -> None:
    exc = pins_errors(
        qy_dir,
        [
            pin("Yingde", "skill_studio", 2027, "min", "3"),
            pin("Yingde", "skill_studio", 2027, "max", "2"),
        ],
    )
    err = find_error(exc, file="pins.csv", row=3, column="action")
    assert "max 2 in 2027 contradicts min 3 in 2027 (row 2)" in err.message


def test_forbid_after_fix_open_contradicts_stay_open(qy_dir: Path) -> None:
    exc = pins_errors(
        qy_dir,
        [
            pin("Yingde", "rd_platform", 2026, "fix", "1"),
            pin("Yingde", "rd_platform", 2028, "forbid"),
        ],
    )
    err = find_error(exc, file="pins.csv", column="action")
    assert "never shrink" in err.message


def test_pin_against_policy_floor(qy_dir: Path) -> None:
    exc = pins_errors(qy_dir, [pin("Liannan", "one_stop_centre", 2028, "forbid")])
    err = find_error(exc, file="pins.csv", row=2, column="action")
    assert "policy floor" in err.message


def test_valid_pins_load(qy_dir: Path) -> None:
    write_table(
        qy_dir,
        "pins",
        pd.DataFrame(
            [
                pin("Yingde", "rd_platform", 2026, "fix", "1"),
                pin("Qingcheng", "talent_station", 2027, "max", "8"),
                pin("", "title_recognition", 2025, "forbid"),
                pin("Qingxin", "chain_alliance", 2026, "min", "1", industry="new_materials"),
            ]
        ),
    )
    inst = load_instance(qy_dir)
    assert len(inst.pins) == 4
    assert inst.pins["value"].isna().sum() == 1


# --- scenario.toml ------------------------------------------------------------------------


def edit_toml(folder: Path, old: str, new: str) -> None:
    path = folder / "scenario.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "column", "expect"),
    [
        ('name = "qingyuan"\n', "", "name", "required scenario key 'name'"),
        ("start_year = 2025\n", "", "start_year", "required scenario key 'start_year'"),
        ("n_years = 5\n", "", "n_years", "required scenario key 'n_years'"),
        (
            'objective = "talent_index"',
            'objective = "max_talent"',
            "objective",
            "unknown objective 'max_talent'",
        ),
        ("n_years = 5", 'n_years = "5"', "n_years", "expected a whole number"),
        ("carry_over = false", "carry_over = 0", "carry_over", "expected true or false"),
        ("seed = 0", "seeds = 0", "seeds", "did you mean 'seed'"),
        (
            'program = "one_stop_centre"',
            'program = "one_stop"',
            "floors[0].program",
            "unknown program 'one_stop'",
        ),
        ("by_year = 2027", "by_year = 2031", "floors[0].by_year", "outside the plan years"),
        (
            "counties = []",
            'counties = ["Qingcheng", "Atlantis"]',
            "floors[0].counties",
            "unknown county 'Atlantis'",
        ),
        ("min_units = 1.0", "min_units_ = 1.0", "floors[0].min_units_", "unknown policy-floor"),
    ],
)
def test_toml_errors(qy_dir: Path, old: str, new: str, column: str, expect: str) -> None:
    edit_toml(qy_dir, old, new)
    err = find_error(load_errors(qy_dir), file="scenario.toml", column=column)
    assert expect in err.message


def test_toml_syntax_error(qy_dir: Path) -> None:
    edit_toml(qy_dir, "n_years = 5", "n_years = = 5")
    err = find_error(load_errors(qy_dir), file="scenario.toml")
    assert "invalid TOML" in err.message


# --- files and workbooks ------------------------------------------------------------------


def test_unknown_and_missing_files(qy_dir: Path) -> None:
    (qy_dir / "programs.csv").rename(qy_dir / "program.csv")
    exc = load_errors(qy_dir)
    assert "did you mean 'programs'" in find_error(exc, file="program.csv").message
    assert "required table 'programs' is missing" in find_error(exc, file="programs.csv").message


def test_not_utf8(qy_dir: Path) -> None:
    path = qy_dir / "counties.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gb18030"))
    err = find_error(load_errors(qy_dir), file="counties.csv")
    assert "UTF-8" in err.message


def test_workbook_errors_name_the_sheet(qy_dir: Path, tmp_path: Path) -> None:
    book = tmp_path / "plan.xlsx"
    write_instance(load_instance(qy_dir), book)
    import openpyxl

    wb = openpyxl.load_workbook(book)
    ws = wb["programs"]
    header = [c.value for c in ws[1]]
    ws.cell(row=3, column=header.index("fixed_cost") + 1, value="lots")
    wb["scenario"].cell(row=2, column=2).value = None  # blank name
    wb.save(book)
    exc = load_errors(book)
    err = find_error(exc, file="plan.xlsx[programs]", row=3, column="fixed_cost")
    assert err.value == "lots"
    find_error(exc, file="plan.xlsx[scenario]", column="name")


def test_nothing_to_load(tmp_path: Path) -> None:
    with pytest.raises(InstanceError, match="neither an existing folder"):
        load_instance(tmp_path / "nowhere")
    with pytest.raises(InstanceError, match="synthetic:N"):
        load_instance("synthetic:many")


def test_huge_whole_number_is_an_error(tmp_path):
    import shutil

    import pandas as pd

    from talentplan.data import load_instance
    from talentplan.datasets import path as dataset_path
    from talentplan.errors import InstanceValidationError

    folder = tmp_path / "q"
    shutil.copytree(dataset_path("qingyuan"), folder)
    counties = pd.read_csv(folder / "counties.csv", dtype=str, keep_default_na=False)
    counties.loc[0, "townships"] = "1e300"
    counties.to_csv(folder / "counties.csv", index=False)
    with pytest.raises(InstanceValidationError) as info:
        load_instance(folder)
    err = info.value.errors[0]
    assert (err.file, err.row, err.column) == ("counties.csv", 2, "townships")
