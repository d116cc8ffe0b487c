"""An instance that references calibrated parameters uses them when loaded and solved."""

from __future__ import annotations

from pathlib import Path

import pytest

import talentplan as tp
from talentplan.calibrate.bridge.run import calibrate_command
from talentplan.errors import InstanceError
from tests.model.tiny import tiny_instance

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "calibration"


def _value(inst, program, talent_type, effect) -> float:
    r = inst.responses
    row = r[(r.program == program) & (r.talent_type == talent_type) & (r.effect == effect)]
    return float(row["value"].iloc[0])


@pytest.mark.slow
def test_scenario_reference_replaces_responses_and_changes_the_plan(tmp_path):
    # the example calibrates two rows of the bundled qingyuan instance
    folder = tmp_path / "qingyuan"
    tp.write_instance(tp.load_instance("qingyuan"), folder)
    params = folder / "params.json"
    calibrate_command(EXAMPLE / "panel.csv", EXAMPLE / "spec.toml", params)
    toml = folder / "scenario.toml"
    text = toml.read_text()
    assert 'response_parameters = ""' in text
    toml.write_text(text.replace('response_parameters = ""', 'response_parameters = "params.json"'))
    calibrated = tp.load_instance(folder)
    estimates = tp.calibrate.ResponseParameters.from_json(params)
    for key in ("one_stop_centre:engineer:retention", "cash_subsidy:engineer:inflow_log"):
        program, talent_type, effect = key.split(":")
        assert _value(calibrated, program, talent_type, effect) == pytest.approx(
            estimates.params[key]
        )
    source = calibrated.responses.loc[calibrated.responses.program == "cash_subsidy", "source"]
    assert source.str.contains("params.json").any()
    assert calibrated.scenario.response_parameters == ""
    base = tp.solve(tp.load_instance("qingyuan"), mip_gap=1e-3)
    used = tp.solve(calibrated, mip_gap=1e-3)
    assert used.objective != pytest.approx(base.objective, rel=1e-6)


def test_missing_parameters_file_is_named(tmp_path):
    folder = tmp_path / "tiny"
    tp.write_instance(tiny_instance(), folder)
    toml = folder / "scenario.toml"
    toml.write_text(
        toml.read_text().replace('response_parameters = ""', 'response_parameters = "gone.json"')
    )
    with pytest.raises(InstanceError, match=r"response_parameters.*gone\.json|gone\.json"):
        tp.load_instance(folder)
