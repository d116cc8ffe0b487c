"""The chords of the concave response curve: below it, exact at breakpoints, error as stated.

Reference: the curve itself, ``beta * log(1 + x / theta)`` evaluated with numpy on a dense
grid of 100,001 points. A chord of a concave function lies below it between its ends
(definition of concavity), so the largest gap on the grid is a lower bound on the true
largest gap and, for a fine grid, equal to it to far better than 1e-6 relative: near the
peak the gap falls off quadratically, by ``(grid step / segment width)^2`` of its size.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from talentplan.model.pwl import log_pwl, log_response

GRID = 100_001

betas = st.floats(0.1, 100.0)
thetas = st.floats(0.1, 1000.0)
ratios = st.floats(0.01, 1e4)  # upper / theta: from nearly linear to strongly saturated
segments = st.integers(1, 40)


def _grid_gaps(beta: float, theta: float, upper: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    pwl = log_pwl(beta, theta, upper, n)
    x = np.linspace(0.0, upper, GRID)
    return x, log_response(x, beta, theta) - pwl(x)


@settings(max_examples=60, deadline=None)
@given(betas, thetas, ratios, segments)
def test_chords_lie_below_the_curve(beta, theta, ratio, n):
    _x, gaps = _grid_gaps(beta, theta, ratio * theta, n)
    scale = beta * np.log1p(ratio)
    assert gaps.min() >= -1e-12 * scale


@settings(max_examples=60, deadline=None)
@given(betas, thetas, ratios, segments)
def test_chords_touch_the_curve_at_breakpoints(beta, theta, ratio, n):
    upper = ratio * theta
    pwl = log_pwl(beta, theta, upper, n)
    xs = pwl.breakpoints
    assert len(xs) == n + 1
    assert xs[0] == 0.0
    assert xs[-1] == upper
    assert np.all(np.diff(xs) > 0)
    np.testing.assert_allclose(pwl.values, log_response(xs, beta, theta), rtol=1e-14, atol=0)
    np.testing.assert_allclose(pwl(xs), log_response(xs, beta, theta), rtol=1e-14, atol=0)


@settings(max_examples=60, deadline=None)
@given(betas, thetas, ratios, segments)
def test_max_error_is_the_largest_gap(beta, theta, ratio, n):
    upper = ratio * theta
    pwl = log_pwl(beta, theta, upper, n)
    _x, gaps = _grid_gaps(beta, theta, upper, n)
    assert pwl.max_error > 0
    assert gaps.max() == pytest.approx(pwl.max_error, rel=1e-6)
    # the grid can only miss the peak, never exceed the true maximum
    assert gaps.max() <= pwl.max_error * (1 + 1e-9)


@settings(max_examples=40, deadline=None)
@given(betas, thetas, ratios)
def test_more_segments_never_increase_the_error(beta, theta, ratio):
    errors = [log_pwl(beta, theta, ratio * theta, n).max_error for n in range(1, 41)]
    assert all(b <= a * (1 + 1e-12) for a, b in itertools.pairwise(errors))
    assert errors[-1] < errors[0]


def test_single_chord_error_in_closed_form():
    # one chord of log(1 + x) on [0, e - 1]: slope 1 / (e - 1), the gap peaks where
    # 1 / (1 + x) = 1 / (e - 1), i.e. x = e - 2, with gap log(e - 1) - (e - 2) / (e - 1)
    e = np.e
    pwl = log_pwl(1.0, 1.0, e - 1.0, 1)
    assert pwl.max_error == pytest.approx(np.log(e - 1) - (e - 2) / (e - 1), rel=1e-12)


@pytest.mark.parametrize("beta, upper", [(0.0, 10.0), (3.0, 0.0)])
def test_degenerate_curve_is_exact_zero(beta, upper):
    pwl = log_pwl(beta, 5.0, upper, 8)
    assert pwl.max_error == 0.0
    assert np.all(pwl.values == 0.0)
    assert float(pwl(upper)) == 0.0
