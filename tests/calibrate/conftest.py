"""Panels shared by the calibration tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from talentplan.calibrate import simulate_panel


@pytest.fixture(scope="module")
def shocked() -> pd.DataFrame:
    """y_it = 0.5 y_i,t-1 + mu_i + 2 d_t + e_it with common shocks d_t; 300 x 8, seed 7.

    Each series runs 20 periods before the 8 kept, so it starts near its stationary mean
    (the initial condition system GMM assumes).
    """
    rng = np.random.default_rng(7)
    n, t, burn = 300, 8, 20
    shocks = rng.normal(0.0, 1.0, t + burn)
    rows = []
    for i in range(n):
        mu = rng.normal()
        y = mu / 0.5 + rng.normal()
        for s in range(t + burn):
            y = 0.5 * y + mu + 2.0 * shocks[s] + rng.normal()
            if s >= burn:
                rows.append((i, 2000 + s - burn, y))
    return pd.DataFrame(rows, columns=["county", "year", "y"])


@pytest.fixture(scope="module")
def simulated_panel() -> pd.DataFrame:
    """A simulated county-year panel: 40 counties x 8 years, seed 21."""
    return simulate_panel(40, 8, seed=21).data
