"""Panel input validation: index, duplicates, numeric, missing values, rank, balance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from talentplan.calibrate.shared.validation import (
    check_duplicates,
    check_numeric,
    check_rank,
    drop_missing,
    panel_info,
    prepare_panel,
    set_panel_index,
    transform_design,
)
from talentplan.errors import (
    CollinearityError,
    MissingValuesWarning,
    PanelDataError,
    UnbalancedPanelWarning,
)


def long_panel(n: int = 4, t: int = 3, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "county": np.repeat([f"c{i}" for i in range(n)], t),
            "year": np.tile(np.arange(2015, 2015 + t), n),
            "y": rng.normal(size=n * t),
            "x": rng.normal(size=n * t),
        }
    )


def test_set_index_from_columns_and_errors() -> None:
    df = long_panel()
    out = set_panel_index(df, "county", "year")
    assert out.index.names == ["county", "year"]
    with pytest.raises(PanelDataError, match="both entity= and time="):
        set_panel_index(df, "county", None)
    with pytest.raises(PanelDataError, match="not found"):
        set_panel_index(df, "region", "year")
    with pytest.raises(PanelDataError, match="two-level"):
        set_panel_index(df)
    bad = df.copy()
    bad.loc[0, "county"] = None
    with pytest.raises(PanelDataError, match="missing values"):
        set_panel_index(bad, "county", "year")


def test_duplicates_are_named() -> None:
    df = set_panel_index(pd.concat([long_panel(), long_panel().iloc[[4]]]), "county", "year")
    with pytest.raises(PanelDataError, match=r"1 \(entity, time\) pair.*c1"):
        check_duplicates(df)


def test_non_numeric_columns_are_named() -> None:
    df = long_panel().assign(kind="a", flag=True)
    with pytest.raises(PanelDataError, match="kind"):
        check_numeric(df, ["x", "kind"])
    assert check_numeric(df, ["x", "flag"])["flag"].dtype == "float64"


def test_missing_values_dropped_with_count() -> None:
    df = long_panel()[["y", "x"]].copy()
    df.loc[[1, 5], "x"] = np.nan
    df.loc[5, "y"] = np.inf
    with pytest.warns(MissingValuesWarning, match=r"2 of 12 rows.*y: 1, x: 2"):
        out, n = drop_missing(df)
    assert n == 2
    assert len(out) == 10


def test_unbalanced_panel_is_reported() -> None:
    df = set_panel_index(long_panel().drop(index=[0]), "county", "year")
    with pytest.warns(UnbalancedPanelWarning, match="unbalanced panel: 4 entities"):
        info = panel_info(df)
    assert (info.min_periods, info.max_periods, info.nobs) == (2, 3, 11)
    assert not info.balanced


def test_rank_check_names_collinear_columns() -> None:
    rng = np.random.default_rng(1)
    x = pd.DataFrame({"a": rng.normal(size=20), "b": rng.normal(size=20), "c": rng.normal(size=20)})
    x["d"] = 2 * x["a"] - x["b"]
    with pytest.raises(CollinearityError) as err:
        check_rank(x)
    message = str(err.value)
    assert "'a'" in message and "'b'" in message and "'d'" in message and "'c'" not in message


def test_rank_check_names_time_invariant_column_under_within() -> None:
    df = set_panel_index(long_panel(), "county", "year")
    df["region"] = np.repeat([1.0, 2.0, 1.0, 3.0], 3)
    x = df[["x", "region"]]
    with pytest.raises(CollinearityError, match="region"):
        check_rank(transform_design(x, "entity"), original=x)


def test_twoway_demeaning_matches_dummy_regression_on_unbalanced_panel() -> None:
    # brute force: residuals of x on entity and time dummies
    rng = np.random.default_rng(2)
    df = set_panel_index(long_panel(6, 5, seed=3), "county", "year").drop(index=[("c1", 2016)])
    df = df.iloc[rng.permutation(len(df))].sort_index()
    ent = pd.get_dummies(df.index.get_level_values(0)).to_numpy(float)
    tim = pd.get_dummies(df.index.get_level_values(1)).to_numpy(float)[:, 1:]
    d = np.column_stack([ent, tim])
    x = df["x"].to_numpy()
    resid = x - d @ np.linalg.lstsq(d, x, rcond=None)[0]
    ours = transform_design(df[["x"]], "twoway", tol=1e-13)["x"].to_numpy()
    np.testing.assert_allclose(ours, resid, atol=1e-9)


def test_prepare_panel_all_steps() -> None:
    df = long_panel()
    df.loc[2, "y"] = np.nan
    with pytest.warns(MissingValuesWarning), pytest.warns(UnbalancedPanelWarning):
        frame, info, n = prepare_panel(df, ["y", "x"], entity="county", time="year")
    assert n == 1 and info.nobs == 11 and list(frame.columns) == ["y", "x"]
