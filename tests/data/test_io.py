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


def test_folder_workbook_folder_round_trip(tmp_path: Path) -> None:
    first = load_instance("qingyuan")
    write_instance(with_pins(first), tmp_path / "a")
    a = load_instance(tmp_path / "a")
    write_instance(a, tmp_path / "plan.xlsx")
    b = load_instance(tmp_path / "plan.xlsx")
    assert_same(a, b)
    write_instance(b, tmp_path / "c")
    assert_same(a, load_instance(tmp_path / "c"))
    assert len(a.pins) == 2


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
