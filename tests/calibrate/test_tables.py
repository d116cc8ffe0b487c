"""Paper-ready output: the tidy vocabulary, summary objects and the multi-model table.

The stored LaTeX table ``data/compare_three_estimators.tex`` was written once from
``compare(...).as_latex()`` and checked by eye before it was stored: its coefficients and
standard errors equal the rounded numbers of each result's own ``params`` and
``std_errors`` (asserted again below from the results, independently of the file), the
stars follow the p-values, every row has one cell per model, the special characters
(``_``) are escaped and the stars and ``R^2`` are in math mode, so the tabular compiles in
a bare ``\\documentclass{article}``. The test then guards the layout against changes.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import talentplan.calibrate as cal
from talentplan.calibrate import DynamicPanelGMM, PanelRegression, StaggeredDiD
from talentplan.calibrate.shared.tables import TIDY_COLUMNS, Comparison, Summary, compare
from talentplan.errors import CalibrationError
from tests.calibrate.helpers import quiet

EXPECTED = Path(__file__).parent / "data" / "compare_three_estimators.tex"


@pytest.fixture(scope="module")
def three(simulated_panel: pd.DataFrame) -> dict[str, object]:
    """Two-way FE and RE of the outflow rate, difference GMM of the stock: one panel."""
    kw = {"entity": "county", "time": "year"}
    fe = PanelRegression(
        simulated_panel, "log_outflow_rate", ["centre", "wage"], estimator="twfe", **kw
    ).fit(cov_type="clustered")
    re_ = PanelRegression(
        simulated_panel, "log_outflow_rate", ["centre", "wage"], estimator="re", **kw
    ).fit()
    gmm = quiet(
        lambda: DynamicPanelGMM(simulated_panel, "log_stock", lags=1, exog=["centre"], **kw).fit(
            steps=2
        )
    )
    return {"FE": fe, "RE": re_, "GMM": gmm}


def test_latex_table_matches_the_checked_file(three: dict[str, object]) -> None:
    latex = compare(three).as_latex()
    assert latex == EXPECTED.read_text()


def test_latex_table_is_well_formed(three: dict[str, object]) -> None:
    latex = compare(three).as_latex()
    assert latex.startswith("\\begin{tabular}{lccc}") and latex.rstrip().endswith("\\end{tabular}")
    assert latex.count("{") == latex.count("}")
    for line in latex.splitlines():
        if line.endswith("\\\\") and "multicolumn" not in line:
            assert line.count("&") == 3, line  # one cell per model plus the label
    body = re.sub(r"\$[^$]*\$", "", latex)  # outside math mode no bare _ * ^ < %
    assert not re.search(r"(?<!\\)[_%&#^<]", body.replace(" & ", " ")), body
    assert "L1.log\\_stock" in latex and "$R^2$" in latex and "$^{***}$" in latex


def test_cells_equal_each_results_own_numbers_and_stars_follow_p(
    three: dict[str, object],
) -> None:
    table = compare(three, digits=3).table
    for label, res in three.items():
        params, se, p = res.params, res.std_errors, res.pvalues  # type: ignore[attr-defined]
        for term in params.index:
            cell = table.loc[(str(term), "estimate"), label]
            number, stars = re.fullmatch(r"(-?[0-9.]+)(\**)", cell).groups()  # type: ignore[union-attr]
            assert number == f"{params[term]:.3f}"
            assert table.loc[(str(term), "std_error"), label] == f"({se[term]:.3f})"
            assert len(stars) == sum(bool(p[term] < t) for t in (0.1, 0.05, 0.01))
        assert table.loc[("N", ""), label] == str(res.nobs)  # type: ignore[attr-defined]
    gmm = three["GMM"]
    assert table.loc[("Hansen J (p)", ""), "GMM"] == f"{gmm.hansen.pvalue:.3f}"  # type: ignore[attr-defined]
    assert table.loc[("AR(2) (p)", ""), "GMM"] == f"{gmm.ar2.pvalue:.3f}"  # type: ignore[attr-defined]
    assert table.loc[("R²", ""), "FE"] == f"{three['FE'].rsquared:.3f}"  # type: ignore[attr-defined]
    assert table.loc[("R²", ""), "GMM"] == ""  # not defined for GMM
    assert table.loc[("Entity effects", ""), :].tolist() == ["Yes", "No", "Yes"]
    assert table.loc[("Time effects", ""), :].tolist() == ["Yes", "No", "No"]


def test_other_formats_and_inputs(three: dict[str, object]) -> None:
    comp = compare(list(three.values()), names=list(three), stars=(0.05,))
    assert isinstance(comp, Comparison)
    assert "0.05" in comp.notes[0] and "**" not in comp.as_text().split("\n-")[0]
    md = comp.as_markdown()
    assert md.splitlines()[0] == "|  | FE | RE | GMM |" and "\\*" in md
    assert "<table>" in comp.as_html() and comp._repr_html_() == comp.as_html()
    assert str(comp) == comp.as_text()
    with pytest.raises(CalibrationError, match="names"):
        compare(three["FE"], names=["a", "b"])
    with pytest.raises(CalibrationError, match="thresholds"):
        compare(three["FE"], stars=(5,))


def test_not_available_statistics_carry_their_reason() -> None:
    from types import SimpleNamespace

    gmm_like = SimpleNamespace(
        params=pd.Series({"x": 1.0}),
        std_errors=pd.Series({"x": np.nan}),
        pvalues=pd.Series({"x": np.nan}),
        nobs=5,
        hansen=SimpleNamespace(pvalue=np.nan, df=0),
    )
    comp = compare({"A": gmm_like})
    assert comp.table.loc[("Hansen J (p)", ""), "A"] == "n/a"
    text = comp.as_text()
    assert "nan" not in text
    assert "no overidentifying restrictions" in text and "not identified" in text


def test_tidy_has_the_shared_columns(three: dict[str, object]) -> None:
    for res in three.values():
        tidy = res.tidy()  # type: ignore[attr-defined]
        assert tuple(tidy.columns) == TIDY_COLUMNS
        np.testing.assert_allclose(tidy["estimate"], res.params)  # type: ignore[attr-defined]
        np.testing.assert_allclose(tidy["p_value"], res.pvalues)  # type: ignore[attr-defined]
        ci = res.conf_int()  # type: ignore[attr-defined]
        np.testing.assert_allclose(tidy["ci_lower"], ci.iloc[:, 0])
        z = tidy["estimate"] / tidy["std_error"]
        np.testing.assert_allclose(tidy["statistic"], z, rtol=1e-10)
        # the printed summary table uses the same words
        assert {"estimate", "std_error", "p_value"} <= set(res.summary.tables[0].columns)  # type: ignore[attr-defined]


def test_summary_object(three: dict[str, object]) -> None:
    gmm = three["GMM"]
    s = gmm.summary  # type: ignore[attr-defined]
    assert isinstance(s, Summary)
    assert s.as_text() == str(s) == repr(s) == str(gmm)
    assert "Hansen J" in s and "AR(2)" in s
    assert s.as_html() == gmm._repr_html_()  # type: ignore[attr-defined]
    latex = s.as_latex()
    assert latex.count("\\begin{tabular}") == 2 and "std\\_error" in latex
    assert "L1.log\\_stock" in latex


@pytest.fixture(scope="module")
def did(simulated_panel: pd.DataFrame):
    return quiet(
        lambda: StaggeredDiD(
            simulated_panel, "log_outflow_rate", entity="county", time="year", group="centre_year"
        ).fit()
    )


def test_staggered_pretrend_prints_its_reason_not_nan(did) -> None:
    pt = did.pretrend_test
    # the pre-treatment cells' covariance really is singular: its rank, computed here
    # from the covariance the results expose, is below the number of cells
    cells = did.att_gt
    pre = ((cells["group"] > cells["time"]) & cells["se"].notna()).to_numpy()
    v = did.cov.to_numpy()[np.ix_(pre, pre)]
    assert np.linalg.matrix_rank(v) < pre.sum() == pt.df
    assert np.isnan(pt.stat) and "singular" in pt.reason
    text = str(did.summary)
    assert "nan" not in text.split("\n\n")[0]  # the header
    assert "Pre-trend test: not computed: the covariance" in text
    agg = did.aggregate("dynamic")
    assert tuple(agg.tidy().columns) == TIDY_COLUMNS
    assert isinstance(agg.summary, Summary)


def test_compare_is_exported() -> None:
    assert cal.compare is compare
    assert "compare" in cal.__all__ and "Summary" in cal.__all__


def test_gmm_tests_that_cannot_be_computed_say_why() -> None:
    # one lag of y instrumented by its second lag alone (collapsed): one instrument for
    # one coefficient, so no overidentifying restriction; four periods leave two
    # differenced residuals per county, never two periods apart, so no AR(2) statistic
    rng = np.random.default_rng(0)
    rows = []
    for i in range(60):
        mu = rng.normal()
        y = mu + rng.normal()
        for t in range(4):
            y = 0.5 * y + mu + rng.normal()
            rows.append((i, 2000 + t, y))
    df = pd.DataFrame(rows, columns=["c", "t", "y"])
    res = quiet(
        lambda: DynamicPanelGMM(
            df,
            "y",
            lags=1,
            entity="c",
            time="t",
            constant=False,
            collapse=True,
            max_instrument_lag=2,
        ).fit()
    )
    assert res.n_instruments == len(res.params) == 1
    assert res.obs_per_group[2] == 2
    text = str(res.summary)
    assert "nan" not in text
    assert "Hansen J: not computed: exactly identified" in text
    assert "AR(2): not computed" in text and "residuals 2 apart" in text
    comp = compare(res).as_text()
    assert "nan" not in comp and "n/a: Sargan: exactly identified" in comp


def test_staggered_summaries_without_standard_errors_say_why() -> None:
    # one county adopting in 2002 and one never adopting, with noiseless outcomes: every
    # influence function is zero, so no standard error exists anywhere
    rows = [
        (i, t, g, float(t - 2000) + float(bool(g) and t >= g))
        for i, g in ((0, 2002), (1, 0))
        for t in range(2000, 2004)
    ]
    df = pd.DataFrame(rows, columns=["id", "year", "first", "y"])
    res = quiet(lambda: StaggeredDiD(df, "y", "id", "year", "first").fit())
    agg = quiet(lambda: res.aggregate("simple"))
    assert np.isnan(agg.se) and agg.att == pytest.approx(1.0)
    assert "Std. error: not computed: the influence function" in str(agg.summary)
    header = str(res.summary).split("\n\n")[0]
    assert "nan" not in header
    assert "Pre-trend test: not computed: no pre-treatment cell has a standard error" in header
