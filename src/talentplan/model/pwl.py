"""Piecewise-linear approximation of concave response curves, with its error bound."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def log_response(x: np.ndarray | float, beta: float, theta: float) -> np.ndarray:
    """Evaluate the saturating inflow curve ``beta * log(1 + x / theta)`` (persons per year)."""
    return beta * np.log1p(np.asarray(x, dtype=float) / theta)


@dataclass(frozen=True)
class PiecewiseLinear:
    """Chords of a concave curve between breakpoints.

    Attributes
    ----------
    breakpoints, values
        The breakpoints ``x_0 = 0 < ... < x_n`` and the curve's values there.
    max_error
        The largest vertical gap between the curve and its chords on ``[0, x_n]``
        (the chords lie below a concave curve, so the approximation never overstates).
    """

    breakpoints: np.ndarray
    values: np.ndarray
    max_error: float
    slopes: np.ndarray = field(init=False, repr=False)
    """Slope of each chord (computed once: the model reads it for every chord row)."""

    def __post_init__(self) -> None:
        """Compute the slope of each chord once."""
        object.__setattr__(self, "slopes", np.diff(self.values) / np.diff(self.breakpoints))

    def __call__(self, x: np.ndarray | float) -> np.ndarray:
        """Evaluate the chords at ``x`` (constant beyond the last breakpoint)."""
        return np.interp(x, self.breakpoints, self.values)


def log_pwl(beta: float, theta: float, upper: float, segments: int) -> PiecewiseLinear:
    """Chords of ``beta * log(1 + x / theta)`` on ``[0, upper]``.

    Breakpoints are equally spaced in ``log(1 + x / theta)``, which equalises the
    chord error across segments. The error of each chord is computed in closed form:
    the gap peaks where the curve's slope ``beta / (theta + x)`` equals the chord slope.

    Examples
    --------
    >>> pwl = log_pwl(10.0, 100.0, 1000.0, 8)
    >>> bool(pwl.max_error < 0.2)
    True
    """
    if upper <= 0 or beta == 0:
        return PiecewiseLinear(np.array([0.0, max(upper, 1.0)]), np.zeros(2), 0.0)
    return log_pwl_at(beta, theta, log_breakpoints(theta, upper, segments))


def log_breakpoints(theta: float, upper: float, segments: int) -> np.ndarray:
    """Return ``segments + 1`` breakpoints on ``[0, upper]``, even in ``log(1 + x/theta)``."""
    u = np.linspace(0.0, np.log1p(upper / theta), segments + 1)
    xs = theta * np.expm1(u)
    xs[-1] = upper
    return xs


def log_pwl_at(beta: float, theta: float, breakpoints: np.ndarray) -> PiecewiseLinear:
    """Chords of ``beta * log(1 + x / theta)`` between the given increasing breakpoints.

    Several curves of one program share breakpoints this way, so one convex combination
    of the breakpoints (:mod:`talentplan.model.competition`) evaluates all of them.
    """
    xs = np.asarray(breakpoints, dtype=float)
    if beta == 0:
        return PiecewiseLinear(xs, np.zeros(len(xs)), 0.0)
    ys = log_response(xs, beta, theta)
    slopes = np.diff(ys) / np.diff(xs)
    x_star = np.clip(beta / slopes - theta, xs[:-1], xs[1:])
    gaps = log_response(x_star, beta, theta) - (ys[:-1] + slopes * (x_star - xs[:-1]))
    return PiecewiseLinear(xs, ys, float(max(gaps.max(), 0.0)))
