"""Calibrated parameters may set the market inflow: keys ``market:<county>:<talent_type>``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import talentplan as tp
from talentplan.data.parameters import ResponseParameters
from talentplan.data.provenance import Provenance
from talentplan.data.responses import apply_parameters
from talentplan.errors import CalibrationError, InstanceError, TalentPlanWarning
from talentplan.model.prepare import prepare
from tests.model.tiny import tiny_instance


def market(inst: tp.Instance) -> pd.Series:
    return inst.stocks.set_index(["county", "talent_type"])["market_inflow"]


def params(values: dict[str, float]) -> ResponseParameters:
    keys = list(values)
    return ResponseParameters(
        pd.Series(values, dtype=float),
        pd.DataFrame(0.0, index=keys, columns=keys),
        Provenance(data_hash=None, estimator="test"),
    )


def test_a_market_key_replaces_that_cell_alone() -> None:
    inst = tiny_instance()
    out = apply_parameters(
        inst, {"market:B:eng": 7.5, "centre:eng:retention": 0.45}, source="panel"
    )
    before, after = market(inst), market(out)
    assert after[("B", "eng")] == 7.5
    others = before.index != ("B", "eng")
    pd.testing.assert_series_equal(before[others], after[others])
    r = out.responses
    assert float(r.loc[(r.program == "centre") & (r.talent_type == "eng"), "value"].iloc[0]) == 0.45
    # the model reads it as the do-nothing inflow of that county and type
    assert prepare(out).m0[("B", "eng")] == 7.5
    assert prepare(out).m0[("A", "eng")] == prepare(inst).m0[("A", "eng")]


def test_a_scenario_file_with_market_inflow_is_applied_on_load(tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    tp.write_instance(tiny_instance(), folder)
    params({"market:A:voc": 12.0, "station:voc:inflow": 2.0}).to_json(folder / "params.json")
    toml = folder / "scenario.toml"
    toml.write_text(
        toml.read_text().replace('response_parameters = ""', 'response_parameters = "params.json"')
    )
    loaded = tp.load_instance(folder)
    assert market(loaded)[("A", "voc")] == 12.0
    assert loaded.scenario.response_parameters == ""
    # a larger market inflow lifts the do-nothing path: more talent, a higher index
    plain = tp.simulate(tiny_instance(), tp.solve(tiny_instance()).allocation.iloc[0:0])
    more = tp.simulate(loaded, tp.solve(loaded).allocation.iloc[0:0])
    assert more.objective > plain.objective


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("market:C:eng", r"no county 'C'.*\['A', 'B'\]"),
        ("market:A:doctor", r"no talent type 'doctor'.*\['eng', 'voc'\]"),
    ],
)
def test_unknown_counties_and_types_are_named_with_those_there_are(key, message) -> None:
    with pytest.raises(CalibrationError, match=message):
        apply_parameters(tiny_instance(), {key: 5.0})


def test_a_negative_inflow_is_refused_or_clipped() -> None:
    with pytest.raises(CalibrationError, match=r"market:A:eng.*\[0, inf\)"):
        apply_parameters(tiny_instance(), {"market:A:eng": -3.0})
    with pytest.warns(TalentPlanWarning, match="clipped"):
        out = apply_parameters(tiny_instance(), {"market:A:eng": -3.0}, clip=True)
    assert market(out)[("A", "eng")] == 0.0


def test_a_program_named_market_makes_the_keys_ambiguous() -> None:
    inst = tiny_instance()
    programs = inst.programs.copy()
    programs.loc[programs.program == "subsidy", "program"] = "market"
    responses = inst.responses.copy()
    responses.loc[responses.program == "subsidy", "program"] = "market"
    inst = inst.replace_tables(programs=programs, responses=responses)
    with pytest.raises(CalibrationError, match="ambiguous"):
        apply_parameters(inst, {"market:A:eng": 5.0})


def test_a_bad_market_key_in_a_scenario_file_names_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    tp.write_instance(tiny_instance(), folder)
    params({"market:Z:eng": 1.0}).to_json(folder / "params.json")
    toml = folder / "scenario.toml"
    toml.write_text(
        toml.read_text().replace('response_parameters = ""', 'response_parameters = "params.json"')
    )
    with pytest.raises(InstanceError, match=r"params\.json.*no county 'Z'"):
        tp.load_instance(folder)


def test_market_keys_survive_the_parameter_file(tmp_path: Path) -> None:
    path = params({"market:A:eng": 3.0}).to_json(tmp_path / "p.json")
    back = ResponseParameters.from_json(path)
    assert back.keys == ("market:A:eng",) or list(back.keys) == ["market:A:eng"]
    assert float(back.estimates["market:A:eng"]) == 3.0
