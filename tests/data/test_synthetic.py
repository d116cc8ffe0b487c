"""Synthetic instances: deterministic, valid, any size, same catalogue."""

from __future__ import annotations

import pytest

from talentplan import datasets
from talentplan.data import load_instance
from talentplan.data.io import read_folder, write_instance
from talentplan.errors import InstanceError


def test_deterministic_for_a_seed() -> None:
    a, b = datasets.synthetic(40, seed=7), datasets.synthetic(40, seed=7)
    assert a.hash() == b.hash()
    assert datasets.synthetic(40, seed=8).hash() != a.hash()


def test_valid_by_the_same_validator(tmp_path: str) -> None:
    inst = datasets.synthetic(60, seed=1)
    write_instance(inst, f"{tmp_path}/s")
    again = read_folder(f"{tmp_path}/s")
    assert again.hash() == inst.hash()


def test_spec_strings() -> None:
    assert load_instance("synthetic:25:3").hash() == datasets.synthetic(25, seed=3).hash()
    assert load_instance("synthetic:10").scenario.seed == 0
    with pytest.raises(InstanceError):
        load_instance("synthetic:10:x")


@pytest.mark.parametrize(("types", "industries"), [(3, 2), (5, 6), (7, 9)])
def test_other_sizes(types: int, industries: int) -> None:
    inst = datasets.synthetic(
        30, seed=2, n_years=3, n_talent_types=types, n_industries=industries, start_year=2030
    )
    assert len(inst.talent_types) == types
    assert len(inst.industries) == industries
    assert inst.years == [2030, 2031, 2032]
    assert len(inst.demand) == 30 * types * 3
    assert inst.talent_types["graduate"].sum() == (1 if types >= 5 else 0)
    assert set(inst.presence["county"]) == set(inst.counties["county"])
    assert list(inst.programs["program"]) == list(datasets.load("qingyuan").programs["program"])


def test_budget_scales_with_size() -> None:
    small, large = datasets.synthetic(50, seed=1), datasets.synthetic(500, seed=1)
    ratio = large.budgets["amount"].sum() / small.budgets["amount"].sum()
    assert 5 < ratio < 20
    for inst in (small, large):
        cost = datasets.full_cost(inst.programs, inst.counties, inst.presence, 5).sum()
        assert inst.budgets["amount"].sum() == pytest.approx(0.5 * cost, rel=1e-3)
    caps = large.programs.set_index("program")
    assert caps.loc["rd_platform", "cap_total"] == 4 * 500 / 8  # scaled from 8 counties
    assert caps.loc["reverse_enclave", "cap_per_city"] == 3  # a rule per city: not scaled


def test_large_instance() -> None:
    inst = datasets.synthetic(3000, seed=0)
    assert len(inst.counties) == 3000
    assert len(inst.demand) == 3000 * 5 * 5


def test_bad_arguments() -> None:
    with pytest.raises(InstanceError, match="n_counties"):
        datasets.synthetic(0)
