"""The structural panel simulator: determinism, immutability, shapes and its mechanisms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from talentplan.calibrate import simulate_panel
from talentplan.calibrate.bridge.simulator import DEFAULT_TRUTH, SimulatedPanel
from talentplan.errors import CalibrationError


@pytest.fixture(scope="module")
def sim() -> SimulatedPanel:
    return simulate_panel(120, 10, seed=11)


def test_same_seed_same_panel_other_seed_other_panel():
    a = simulate_panel(20, 6, seed=5).data
    b = simulate_panel(20, 6, seed=5).data
    c = simulate_panel(20, 6, seed=6).data
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["inflow"], c["inflow"])


def test_shape_columns_and_balance(sim):
    d = sim.data
    assert len(d) == 120 * 10
    assert d.groupby("county").size().eq(10).all()
    assert not d.isna().any().any()
    for col in (
        "stock",
        "log_stock",
        "outflow",
        "inflow",
        "centre",
        "subsidy",
        "pairing",
        "wage",
        "W_wage",
        "core_distance_km",
        "x_km",
        "y_km",
    ):
        assert col in d.columns
    np.testing.assert_allclose(d["log_stock"], np.log(d["stock"]))
    np.testing.assert_allclose(d["log_subsidy"], np.log1p(d["subsidy"] / 10.0))
    np.testing.assert_allclose(d["log_outflow_rate"], np.log(d["outflow_rate"]))
    assert (d["subsidy"] >= 0).all() and (d["outflow_rate"] < 1).all()


def test_immutable(sim):
    with pytest.raises(AttributeError):
        sim.truth = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        sim.truth["rho"] = 0.9  # type: ignore[index]
    d = sim.data
    d.loc[0, "inflow"] = -1e9
    assert sim.data.loc[0, "inflow"] != -1e9


def test_staggered_absorbing_adoption_placed_where_talent_is_weak(sim):
    d = sim.data.sort_values(["county", "year"])
    first_year = d["year"].min()
    # absorbing, never in the first year, consistent with centre_year
    assert (d.groupby("county")["centre"].diff().fillna(0) >= 0).all()
    assert (d.loc[d["year"] == first_year, "centre"] == 0).all()
    treated = d["centre_year"] > 0
    np.testing.assert_array_equal(
        d["centre"].to_numpy(), (treated & (d["year"] >= d["centre_year"])).to_numpy(float)
    )
    groups = d.groupby("county")["centre_year"].first()
    assert groups[groups > 0].nunique() >= 4  # several adoption cohorts
    assert (groups == 0).any()  # and never-treated counties
    # endogenous placement: early adopters have weaker talent (lower mu)
    mu = sim.county_effects["mu"]
    early = groups[(groups > 0) & (groups <= first_year + 3)].index
    never = groups[groups == 0].index
    assert mu[early].mean() < mu[never].mean() - 0.1


def test_pairing_shifts_spend_and_spatial_lag_matches_weights(sim):
    d = sim.data
    assert (
        d.loc[d["pairing"] == 1, "subsidy"].mean() > d.loc[d["pairing"] == 0, "subsidy"].mean() + 10
    )
    w = sim.weights
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    year = d["year"].min()
    cut = d[d["year"] == year].set_index("county")
    np.testing.assert_allclose(w.to_numpy() @ cut.loc[w.index, "wage"], cut.loc[w.index, "W_wage"])


def test_true_parameters_map_to_model_keys():
    sim = simulate_panel(15, 5, seed=0, truth={"rho": 0.3, "beta": 4.0})
    tp = sim.true_parameters()
    assert tp.estimates.to_dict() == {"centre:eng:retention": 0.3, "subsidy:eng:inflow_log": 4.0}
    assert (tp.std_errors == 0).all()
    other = simulate_panel(15, 5, seed=0, service_program="hub", talent_type="voc")
    assert "hub:voc:retention" in other.true_parameters().keys
    assert "Simulated talent panel" in str(sim)


def test_outflow_falls_by_rho_where_served():
    """Without noise in the rate, serving a county multiplies its outflow rate by 1 - rho."""
    base = {"sigma_rate": 1e-9}
    a = simulate_panel(30, 6, seed=3, truth={**base, "rho": 0.0}).data
    b = simulate_panel(30, 6, seed=3, truth={**base, "rho": 0.4}).data
    ratio = b["outflow_rate"] / a["outflow_rate"]
    np.testing.assert_allclose(ratio[a["centre"] == 1], 0.6, rtol=1e-6)
    np.testing.assert_allclose(ratio[a["centre"] == 0], 1.0, rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"truth": {"rhoo": 0.1}}, "unknown parameter 'rhoo'"),
        ({"truth": {"rho": 1.2}}, r"rho.*\[0, 1\)"),
        ({"truth": {"theta": 0}}, "theta"),
        ({"n_counties": 3}, "n_counties"),
        ({"n_years": 2}, "n_years"),
    ],
)
def test_bad_inputs(kwargs, match):
    with pytest.raises(CalibrationError, match=match):
        simulate_panel(**{"n_counties": 20, "n_years": 5, **kwargs})


def test_default_truth_is_read_only():
    with pytest.raises(TypeError):
        DEFAULT_TRUTH["rho"] = 0.1  # type: ignore[index]


# --- simulator metadata ----------------------------------------------------------------


def test_simulator_meta_records_overrides_names_and_hash():
    from talentplan.data.provenance import panel_hash

    sim = simulate_panel(12, 5, seed=2, truth={"rho": 0.3}, talent_type="voc")
    meta = sim.meta
    assert meta["truth_overrides"] == {"rho": 0.3}
    assert (meta["service_program"], meta["subsidy_program"], meta["talent_type"]) == (
        "centre",
        "subsidy",
        "voc",
    )
    assert meta["panel_hash"] == panel_hash(sim.data)
    meta["truth_overrides"]["rho"] = 0.9
    assert sim.meta["truth_overrides"] == {"rho": 0.3}
    opts = sim.true_parameters().provenance.options["simulator"]
    assert opts["panel_hash"] == meta["panel_hash"]
