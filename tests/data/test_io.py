"""Round trips between folders, workbooks and instances, and atomic writes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from talentplan.data import Instance, folder, load_instance, workbook, write_instance


def assert_same(a: Instance, b: Instance, exact: bool = True) -> None:
    assert a.scenario == b.scenario
    assert a.tables.keys() == b.tables.keys()
    for name in a.tables:
        pd.testing.assert_frame_equal(
            a.tables[name], b.tables[name], check_exact=exact, rtol=1e-15, atol=0.0
        )
    if exact:
        assert a.hash() == b.hash()


def with_pins(inst: Instance) -> Instance:
    pins = pd.DataFrame(
        {
            "county": ["Yingde", ""],
            "program": ["rd_platform", "title_recognition"],
            "industry": ["", ""],
            "year": [2026, 2025],
            "action": ["fix", "forbid"],
            "value": [1.0, float("nan")],
        }
    )
    return inst.replace_tables(pins=pins)


def check_editing_aids(path: Path) -> None:
    """Check the frozen headers, the units sheet and the drop-downs of a written workbook."""
    import openpyxl
    from openpyxl.utils import column_index_from_string

    from talentplan.data.schema import TABLE_BY_NAME, TABLES

    book = openpyxl.load_workbook(path)
    for ws in book.worksheets:
        assert ws.freeze_panes == "A2", ws.title
    enumerated = {(t.name, c.name): c.choices for t in TABLES for c in t.columns if c.choices}
    assert {("programs", "mechanism"), ("programs", "kind"), ("responses", "effect")} <= set(
        enumerated
    )
    found = set()
    for table in TABLE_BY_NAME:
        ws = book[table]
        header = [cell.value for cell in ws[1]]
        for rule in ws.data_validations.dataValidation:
            first, last = str(rule.sqref).split(":")
            letter = first.rstrip("0123456789")
            column = header[column_index_from_string(letter) - 1]
            choices = enumerated[table, column]
            assert rule.type == "list" and rule.showErrorMessage
            assert rule.formula1 == '"' + ",".join(choices or ()) + '"'
            assert len(rule.formula1) <= 255 + 2  # Excel: a typed list of <= 255 characters
            assert first == f"{letter}2" and int(last[len(letter) :]) >= ws.max_row
            found.add((table, column))
    assert found == set(enumerated)
    units = list(book["units"].iter_rows(values_only=True))
    header = ("table", "column", "type", "unit", "required", "default", "allowed", "meaning")
    assert units[0] == header
    listed = {(r[0], r[1]): dict(zip(header, r, strict=True)) for r in units[1:]}
    assert len(listed) == len(units) - 1 == sum(len(t.columns) for t in TABLES)
    assert listed["budgets", "amount"]["unit"] == "10k yuan"
    assert listed["programs", "kind"]["allowed"] == "site, count, amount, chain, city"
    assert listed["counties", "efficiency"]["default"] == "1.0"
    assert listed["counties", "county"]["required"] == "yes"


def test_folder_workbook_folder_round_trip(tmp_path: Path) -> None:
    first = load_instance("qingyuan")
    write_instance(with_pins(first), tmp_path / "a")
    a = load_instance(tmp_path / "a")
    write_instance(a, tmp_path / "plan.xlsx")
    check_editing_aids(tmp_path / "plan.xlsx")
    b = load_instance(tmp_path / "plan.xlsx")  # the units sheet and drop-downs change nothing
    assert_same(a, b)
    write_instance(b, tmp_path / "c")
    assert_same(a, load_instance(tmp_path / "c"))
    assert len(a.pins) == 2


@pytest.mark.slow
def test_a_value_off_the_drop_down_is_still_an_error_when_read(tmp_path: Path) -> None:
    import openpyxl

    from talentplan.errors import InstanceValidationError

    write_instance(load_instance("qingyuan"), tmp_path / "plan.xlsx")
    book = openpyxl.load_workbook(tmp_path / "plan.xlsx")
    header = [cell.value for cell in book["programs"][1]]
    book["programs"].cell(row=3, column=header.index("kind") + 1, value="kiosk")
    book.save(tmp_path / "edited.xlsx")
    with pytest.raises(InstanceValidationError) as info:
        load_instance(tmp_path / "edited.xlsx")
    assert any(
        e.file == "edited.xlsx[programs]" and e.row == 3 and e.column == "kind"
        for e in info.value.errors
    )


def test_round_trip_synthetic_with_floats(tmp_path: Path) -> None:
    from talentplan.datasets import synthetic

    inst = synthetic(15, seed=2)
    inst = inst.replace_tables(stocks=inst.stocks.assign(stock=inst.stocks["stock"] / 3.0))
    write_instance(inst, tmp_path / "s.xlsx")
    write_instance(inst, tmp_path / "s")
    # CSV keeps every bit of a float; a workbook keeps 16 significant digits (Excel: 15)
    assert load_instance(tmp_path / "s").stocks["stock"].equals(inst.stocks["stock"])
    assert_same(load_instance(tmp_path / "s.xlsx"), load_instance(tmp_path / "s"), exact=False)


def test_load_via_scenario_toml_path() -> None:
    from talentplan import datasets

    inst = load_instance(datasets.path("qingyuan") / "scenario.toml")
    assert inst.scenario.name == "qingyuan"


def test_validated_dtypes_and_order() -> None:
    inst = load_instance("qingyuan")
    c = inst.counties
    assert str(c["townships"].dtype) == "int64"
    assert str(c["population_10k"].dtype) == "float64"
    assert pd.api.types.is_string_dtype(c["county"])
    assert str(inst.talent_types["graduate"].dtype) == "bool"
    assert list(c["county"]) == sorted(c["county"])
    d = inst.demand
    assert d.equals(d.sort_values(["county", "talent_type", "year"]).reset_index(drop=True))
    assert inst.pins.empty and list(inst.pins.columns)[:2] == ["county", "program"]


def test_existing_target_needs_overwrite(tmp_path: Path) -> None:
    inst = load_instance("qingyuan")
    target = write_instance(inst, tmp_path / "q")
    (target / "README.md").write_text("notes", encoding="utf-8")
    with pytest.raises(FileExistsError):
        write_instance(inst, target)
    write_instance(inst.scale_budget(2.0), target, overwrite=True)
    assert (target / "README.md").read_text(encoding="utf-8") == "notes"
    again = load_instance(target)
    assert again.budgets["amount"].sum() == pytest.approx(2 * inst.budgets["amount"].sum())


def _boom(*args: object, **kwargs: object) -> None:
    raise OSError("disk full")


@pytest.mark.parametrize("suffix", ["", ".xlsx"])
def test_failed_write_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    inst = load_instance("qingyuan")
    module = workbook if suffix else folder
    writer = "write_workbook_file" if suffix else "write_folder_files"
    real = getattr(module, writer)

    def half(instance: Instance, where: Path) -> None:
        real(instance, where)  # everything written to the temporary sibling, then a failure
        raise OSError("disk full")

    monkeypatch.setattr(module, writer, half)
    target = tmp_path / f"out{suffix}"
    with pytest.raises(OSError, match="disk full"):
        write_instance(inst, target)
    assert list(tmp_path.iterdir()) == []


def test_failed_overwrite_keeps_the_old_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inst = load_instance("qingyuan")
    target = write_instance(inst, tmp_path / "q")
    before = sorted(p.name for p in target.iterdir())
    monkeypatch.setattr(folder, "scenario_to_toml", _boom)
    with pytest.raises(OSError):
        write_instance(inst.scale_budget(0.5), target, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q"]
    assert sorted(p.name for p in target.iterdir()) == before
    assert load_instance(target).hash() == inst.hash()
