"""A structural simulator of county-year talent panels with known true parameters.

No county-level talent panel for the plan area is public, so calibration is tested on
panels drawn from the talent model itself (DESIGN sections 2 and 3). The panel has
county and year effects, a persistent stock, a service program rolled out in a
staggered way and placed where talent is weak, a cash subsidy with a concave response
and an instrument for it, and a spatial siphon toward the core city and neighbours.

Counties are indexed ``i = 1..N``, panel years ``t = 1..T`` (calendar years from
``start_year``). All draws come from one ``numpy.random.default_rng(seed)`` in a fixed
order, so a seed gives the same panel on every machine with the same numpy.

Geography
    Counties lie uniformly in a ``box_km x box_km`` square; the core city is at the
    middle of the square's western edge, ``(0, box_km/2)``. ``d_i`` is the distance to
    the core (km). Spatial weights ``W`` are exponential-decay weights
    ``exp(-d_ij / weights_bandwidth_km)``, zero diagonal, row-standardised
    (:func:`~talentplan.calibrate.spatial.weights.distance_weights`).

County effects (unobserved; :attr:`SimulatedPanel.county_effects`)
    ``mu_i ~ N(0, sigma_mu^2)``: talent strength. The attrition effect is
    ``lambda_i = -kappa_attrition * mu_i + N(0, 0.1^2)`` (weak counties lose more) and the
    inflow effect ``m_i = inflow_base + kappa_inflow * mu_i`` persons per year.

Wages (observed covariates)
    ``wage_it = w_i + g_i t + N(0, 0.15^2)`` with ``w_i = -0.3 d_i / box_km +
    N(0, 0.1^2)`` (log wage index, higher near the core) and county wage growth
    ``g_i ~ N(0.02, 0.02^2)``; ``W_wage_it = (W wage)_it`` is
    the neighbours' wage. The core city's wage premium over the area is a year series
    ``core_gap_t = 0.5 + 0.05 t + N(0, 0.05^2)``; its pull on a county decays with
    distance: ``core_pull_it = core_gap_t * exp(-d_i / core_decay_km)``.

(1) Service program (retention; program ``centre``), staggered and endogenous
    From the second panel year on, a county not yet served adopts with probability
    ``logistic(adopt_intercept - adopt_slope * mu_i / sigma_mu)`` each year: programs go
    where talent is weak. Adoption is absorbing: ``centre_it = 1{t >= G_i}``;
    ``centre_year`` holds ``G_i`` (0 if never adopted within the panel).

(2) Attrition and the siphon (outflow)
    ``log r_it = log(a0) + lambda_i + tau_t + log(1 - rho * centre_it)
    - psi_wage * wage_it + phi_neighbour * W_wage_it + phi_core * core_pull_it + e_it``,
    ``e_it ~ N(0, sigma_rate^2)``, ``tau_t ~ N(0, 0.05^2)``. ``r_it`` is the yearly
    outflow rate (``outflow_rate``), ``outflow_it = r_it * stock_i,t-1`` persons. ``rho``
    is the model's ``retention`` effect: the share of baseline attrition avoided while
    the program is active. A fixed-effects regression of ``log_outflow_rate`` on
    ``centre`` estimates ``log(1 - rho)``; pooled OLS is biased because ``centre`` is
    correlated with ``lambda_i`` through ``mu_i``.

(3) Subsidy (inflow; program ``subsidy``), concave response, endogenous spend
    ``inflow_it = m_i + g_t + beta * log(1 + subsidy_it / theta) + u_it + v_it`` persons
    per year, ``g_t ~ N(0, 1)``, ``u_it ~ N(0, sigma_shock^2)``,
    ``v_it ~ N(0, sigma_inflow^2)``. Spend (10k yuan) is
    ``subsidy_it = max(0, spend_base - spend_mu * mu_i / sigma_mu + spend_pairing *
    pairing_it - spend_shock * u_it + N(0, 3^2))``: weak counties and counties hit by a
    bad inflow shock spend more, so OLS (pooled or fixed effects) is biased downward.
    ``pairing_it`` is counterpart-assistance pairing: a county is paired from a year
    drawn at random (a share ``pairing_share`` ever is), absorbing, independently of
    every talent shock; it shifts spend but not inflow directly, so it instruments
    ``log_subsidy = log(1 + subsidy / theta)``. ``beta`` is the model's ``inflow_log``
    ``value``; ``theta`` its ``scale``.

(4) Persistent stock (path dependence, the Matthew effect)
    ``log S_it = alpha * log S_i,t-1 + gamma_centre * centre_it + mu_i + c_S + s_t +
    eps_it``, ``eps_it ~ N(0, sigma_stock^2)``, ``s_t ~ N(0, 0.03^2)``, with
    ``c_S = (1 - alpha) * log(stock_level)``, started from the stationary distribution
    and run ``burn_in`` years before the panel. The stock is the reduced form of the
    stock dynamics; the flows (2) and (3) are separate gross-flow measurements that
    scale with it, so ``stock`` is not the running sum of ``inflow - outflow``.

The default true values are in :data:`DEFAULT_TRUTH`; pass ``truth={...}`` to change
any of them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from talentplan._display import DisplayMixin
from talentplan.calibrate.spatial.weights import distance_weights
from talentplan.data.parameters import ResponseParameters
from talentplan.data.provenance import Provenance, panel_hash
from talentplan.errors import CalibrationError

__all__ = ["DEFAULT_TRUTH", "SimulatedPanel", "simulate_panel"]

DEFAULT_TRUTH: Mapping[str, float] = MappingProxyType(
    {
        # (4) stock
        "alpha": 0.6,
        "gamma_centre": 0.05,
        "sigma_mu": 0.3,
        "stock_level": 200.0,
        "sigma_stock": 0.1,
        # (1) placement
        "adopt_intercept": -2.2,
        "adopt_slope": 1.5,
        # (2) attrition and siphon
        "a0": 0.12,
        "rho": 0.5,
        "kappa_attrition": 1.0,
        "psi_wage": 0.8,
        "phi_neighbour": 0.6,
        "phi_core": 0.5,
        "core_decay_km": 100.0,
        "sigma_rate": 0.15,
        # (3) subsidy and inflow
        "beta": 6.0,
        "theta": 10.0,
        "inflow_base": 20.0,
        "kappa_inflow": 10.0,
        "sigma_shock": 1.5,
        "sigma_inflow": 1.5,
        "spend_base": 10.0,
        "spend_mu": 6.0,
        "spend_pairing": 20.0,
        "spend_shock": 4.0,
        "pairing_share": 0.6,
    }
)
"""True parameters of the simulator (see the module docstring for the equations)."""

_POSITIVE = (
    "sigma_mu",
    "stock_level",
    "sigma_stock",
    "a0",
    "core_decay_km",
    "sigma_rate",
    "theta",
    "sigma_shock",
    "sigma_inflow",
)


def _logistic(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


class SimulatedPanel(DisplayMixin):
    """An immutable simulated county-year panel with its true parameters.

    Attributes are read-only; :attr:`data`, :attr:`weights` and
    :attr:`county_effects` return copies.
    """

    __slots__ = ("_data", "_effects", "_keys", "_meta", "_truth", "_weights")
    _data: pd.DataFrame
    _truth: Mapping[str, float]
    _weights: pd.DataFrame
    _effects: pd.DataFrame
    _keys: Mapping[str, str]
    _meta: Mapping[str, Any]

    def __init__(
        self,
        data: pd.DataFrame,
        truth: Mapping[str, float],
        weights: pd.DataFrame,
        county_effects: pd.DataFrame,
        keys: Mapping[str, str],
        meta: Mapping[str, Any],
    ) -> None:
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_truth", MappingProxyType(dict(truth)))
        object.__setattr__(self, "_weights", weights)
        object.__setattr__(self, "_effects", county_effects)
        object.__setattr__(self, "_keys", MappingProxyType(dict(keys)))
        object.__setattr__(self, "_meta", MappingProxyType(dict(meta)))

    def __setattr__(self, name: str, value: Any) -> None:
        """Refuse every assignment: a simulated panel never changes."""
        raise AttributeError("SimulatedPanel is immutable; simulate a new one instead.")

    @property
    def data(self) -> pd.DataFrame:
        """The panel, one row per county and year (a copy).

        Columns: ``county``, ``year``, ``x_km``, ``y_km``, ``core_distance_km``,
        ``stock`` (persons, end of year), ``log_stock``, ``outflow`` (persons/yr),
        ``outflow_rate``, ``log_outflow_rate``, ``inflow`` (persons/yr), ``centre``
        (0/1), ``centre_year`` (first year, 0 = never), ``subsidy`` (10k yuan/yr),
        ``log_subsidy`` (``log(1 + subsidy/theta)``), ``pairing`` (0/1), ``wage``,
        ``W_wage``, ``core_gap``, ``core_pull``.
        """
        return self._data.copy()

    @property
    def truth(self) -> Mapping[str, float]:
        """The true parameters (read-only mapping)."""
        return self._truth

    @property
    def weights(self) -> pd.DataFrame:
        """Spatial weights ``W`` labelled by county (a copy)."""
        return self._weights.copy()

    @property
    def county_effects(self) -> pd.DataFrame:
        """Unobserved county effects ``mu``, ``lambda`` (attrition) and ``m`` (inflow)."""
        return self._effects.copy()

    @property
    def core_distance(self) -> pd.Series:
        """Distance of each county to the core city (km), indexed by county."""
        first = self._data.drop_duplicates("county").set_index("county")
        return first["core_distance_km"].rename("core_distance_km")

    @property
    def meta(self) -> dict[str, Any]:
        """How the panel was simulated (a copy).

        Keys: ``n_counties``, ``n_years``, ``seed``, ``start_year``, ``box_km``,
        ``weights_bandwidth_km``, ``burn_in``, ``truth_overrides`` (the ``truth``
        argument), ``service_program``, ``subsidy_program``, ``talent_type`` and
        ``panel_hash`` (:func:`~talentplan.data.provenance.panel_hash` of :attr:`data`).
        """
        return copy.deepcopy(dict(self._meta))

    @property
    def response_keys(self) -> Mapping[str, str]:
        """Which true parameter is which allocation-model key (``rho``, ``beta``)."""
        return self._keys

    def true_parameters(self) -> ResponseParameters:
        """Return the true response parameters as model keys, with zero covariance.

        ``rho`` is the service program's ``retention`` and ``beta`` the subsidy's
        ``inflow_log`` value (its ``scale`` is ``theta``).
        """
        keys = [self._keys["rho"], self._keys["beta"]]
        est = pd.Series([self._truth["rho"], self._truth["beta"]], index=keys)
        cov = pd.DataFrame(0.0, index=keys, columns=keys)
        prov = Provenance(
            data_hash=None, estimator="truth", options={"simulator": dict(self._meta)}
        )
        return ResponseParameters(est, cov, prov)

    def __repr__(self) -> str:
        """Name the panel's size and seed."""
        m = self._meta
        return (
            f"SimulatedPanel({m['n_counties']} counties x {m['n_years']} years, seed={m['seed']})"
        )

    def _summary_tables(self) -> tuple[str, list[tuple[str, str]], list[pd.DataFrame]]:
        m = self._meta
        d = self._data
        head = [
            ("Counties x years", f"{m['n_counties']} x {m['n_years']}"),
            ("Seed", str(m["seed"])),
            ("Ever served by the program", f"{int((d.groupby('county')['centre'].max()).sum())}"),
            ("Mean subsidy (10k yuan)", f"{d['subsidy'].mean():.2f}"),
        ]
        truth = pd.DataFrame({"value": pd.Series(dict(self._truth))})
        return "Simulated talent panel", head, [truth]


def _check_truth(truth: Mapping[str, float] | None) -> dict[str, float]:
    out = dict(DEFAULT_TRUTH)
    for k, v in (truth or {}).items():
        if k not in DEFAULT_TRUTH:
            raise CalibrationError(
                f"truth: unknown parameter {k!r}; known parameters are {sorted(DEFAULT_TRUTH)}."
            )
        try:
            out[k] = float(v)
        except (TypeError, ValueError):
            raise CalibrationError(f"truth[{k!r}] must be a number, got {v!r}.") from None
        if not np.isfinite(out[k]):
            raise CalibrationError(f"truth[{k!r}] must be finite, got {v!r}.")
    for k in _POSITIVE:
        if out[k] <= 0:
            raise CalibrationError(f"truth[{k!r}] must be positive, got {out[k]}.")
    if not 0 <= out["rho"] < 1:
        raise CalibrationError(f"truth['rho'] must be in [0, 1), got {out['rho']}.")
    if not -1 < out["alpha"] < 1:
        raise CalibrationError(f"truth['alpha'] must be in (-1, 1), got {out['alpha']}.")
    if not 0 <= out["pairing_share"] <= 1:
        raise CalibrationError("truth['pairing_share'] must be in [0, 1].")
    return out


def simulate_panel(
    n_counties: int = 100,
    n_years: int = 12,
    *,
    seed: int = 0,
    truth: Mapping[str, float] | None = None,
    start_year: int = 2011,
    box_km: float = 300.0,
    weights_bandwidth_km: float = 40.0,
    burn_in: int = 20,
    service_program: str = "centre",
    subsidy_program: str = "subsidy",
    talent_type: str = "eng",
) -> SimulatedPanel:
    """Simulate a county-year talent panel from the structural model.

    Parameters
    ----------
    n_counties, n_years
        Panel size (at least 10 counties and 4 years).
    seed
        Seed of the random generator; the same seed gives the same panel.
    truth
        Overrides of :data:`DEFAULT_TRUTH` (unknown names raise).
    start_year
        Calendar year of the first panel year.
    box_km
        Side of the square the counties lie in (km).
    weights_bandwidth_km
        Decay distance of the exponential spatial weights (km).
    burn_in
        Years the stock runs before the panel starts (no program yet).
    service_program, subsidy_program, talent_type
        Allocation-model names the true ``rho`` and ``beta`` map to
        (``service_program:talent_type:retention``,
        ``subsidy_program:talent_type:inflow_log``).

    Returns
    -------
    SimulatedPanel

    Examples
    --------
    >>> sim = simulate_panel(20, 6, seed=1)
    >>> sim.data.shape[0]
    120
    >>> sim.truth["rho"]
    0.5
    >>> sorted(sim.true_parameters().keys)
    ['centre:eng:retention', 'subsidy:eng:inflow_log']
    """
    if int(n_counties) != n_counties or n_counties < 10:
        raise CalibrationError(f"n_counties must be an integer >= 10, got {n_counties!r}.")
    if int(n_years) != n_years or n_years < 4:
        raise CalibrationError(f"n_years must be an integer >= 4, got {n_years!r}.")
    if int(burn_in) != burn_in or burn_in < 0:
        raise CalibrationError(f"burn_in must be a non-negative integer, got {burn_in!r}.")
    if not box_km > 0 or not weights_bandwidth_km > 0:
        raise CalibrationError("box_km and weights_bandwidth_km must be positive.")
    p = _check_truth(truth)
    n, T = int(n_counties), int(n_years)
    rng = np.random.default_rng(seed)
    ids = [f"C{i:03d}" for i in range(1, n + 1)]
    years = np.arange(start_year, start_year + T)

    # geography
    xy = rng.uniform(0.0, box_km, size=(n, 2))
    dist_core = np.hypot(xy[:, 0], xy[:, 1] - box_km / 2)
    coords = pd.DataFrame(xy, index=ids, columns=["x_km", "y_km"])
    w = distance_weights(coords, kind="exponential", bandwidth=weights_bandwidth_km)
    wm = w.to_numpy()

    # county effects
    mu = rng.normal(0.0, p["sigma_mu"], n)
    lam = -p["kappa_attrition"] * mu + rng.normal(0.0, 0.1, n)
    m_in = p["inflow_base"] + p["kappa_inflow"] * mu

    # wages and the core city's pull
    w_i = -0.3 * dist_core / box_km + rng.normal(0.0, 0.1, n)
    tt = np.arange(1, T + 1)
    g_i = rng.normal(0.02, 0.02, n)
    wage = w_i[:, None] + g_i[:, None] * tt[None, :] + rng.normal(0.0, 0.15, (n, T))
    w_wage = wm @ wage
    core_gap = 0.5 + 0.05 * tt + rng.normal(0.0, 0.05, T)
    core_pull = core_gap[None, :] * np.exp(-dist_core / p["core_decay_km"])[:, None]

    # (1) staggered, endogenous placement of the service program
    adopt_p = _logistic(p["adopt_intercept"] - p["adopt_slope"] * mu / p["sigma_mu"])
    draws = rng.uniform(size=(n, T))
    first = np.zeros(n, dtype=int)
    for t in range(1, T):
        new = (first == 0) & (draws[:, t] < adopt_p)
        first[new] = years[t]
    centre = ((first[:, None] > 0) & (years[None, :] >= first[:, None])).astype(float)

    # counterpart-assistance pairing: random start year, absorbing
    paired = rng.uniform(size=n) < p["pairing_share"]
    pair_year = np.where(paired, rng.integers(start_year + 1, start_year + T, size=n), 0)
    pairing = ((pair_year[:, None] > 0) & (years[None, :] >= pair_year[:, None])).astype(float)

    # (3) subsidy spend and inflow
    g_t = rng.normal(0.0, 1.0, T)
    u = rng.normal(0.0, p["sigma_shock"], (n, T))
    v = rng.normal(0.0, p["sigma_inflow"], (n, T))
    spend = np.maximum(
        0.0,
        p["spend_base"]
        - p["spend_mu"] * (mu / p["sigma_mu"])[:, None]
        + p["spend_pairing"] * pairing
        - p["spend_shock"] * u
        + rng.normal(0.0, 3.0, (n, T)),
    )
    log_subsidy = np.log1p(spend / p["theta"])
    inflow = m_in[:, None] + g_t[None, :] + p["beta"] * log_subsidy + u + v

    # (4) persistent stock
    alpha = p["alpha"]
    c_s = (1 - alpha) * np.log(p["stock_level"])
    sd_stat = np.sqrt(p["sigma_stock"] ** 2 / (1 - alpha**2))
    log_s = (c_s + mu) / (1 - alpha) + rng.normal(0.0, sd_stat, n)
    for _ in range(int(burn_in)):
        log_s = alpha * log_s + c_s + mu + rng.normal(0.0, p["sigma_stock"], n)
    s_t = rng.normal(0.0, 0.03, T)
    eps = rng.normal(0.0, p["sigma_stock"], (n, T))
    log_stock = np.empty((n, T))
    prev_stock = np.empty((n, T))
    for t in range(T):
        prev_stock[:, t] = np.exp(log_s)
        log_s = alpha * log_s + p["gamma_centre"] * centre[:, t] + c_s + mu + s_t[t] + eps[:, t]
        log_stock[:, t] = log_s

    # (2) attrition and siphon
    tau = rng.normal(0.0, 0.05, T)
    e_r = rng.normal(0.0, p["sigma_rate"], (n, T))
    log_rate = (
        np.log(p["a0"])
        + lam[:, None]
        + tau[None, :]
        + np.log1p(-p["rho"] * centre)
        - p["psi_wage"] * wage
        + p["phi_neighbour"] * w_wage
        + p["phi_core"] * core_pull
        + e_r
    )
    rate = np.exp(log_rate)
    if (rate >= 1).any():
        raise CalibrationError(
            "The simulated outflow rate reached 1; lower a0 or the siphon parameters."
        )

    def long(a: np.ndarray) -> np.ndarray:
        return np.asarray(a).reshape(-1)

    data = pd.DataFrame(
        {
            "county": np.repeat(ids, T),
            "year": np.tile(years, n),
            "x_km": np.repeat(xy[:, 0], T),
            "y_km": np.repeat(xy[:, 1], T),
            "core_distance_km": np.repeat(dist_core, T),
            "stock": long(np.exp(log_stock)),
            "log_stock": long(log_stock),
            "outflow": long(rate * prev_stock),
            "outflow_rate": long(rate),
            "log_outflow_rate": long(log_rate),
            "inflow": long(inflow),
            "centre": long(centre),
            "centre_year": np.repeat(first, T),
            "subsidy": long(spend),
            "log_subsidy": long(log_subsidy),
            "pairing": long(pairing),
            "wage": long(wage),
            "W_wage": long(w_wage),
            "core_gap": np.tile(core_gap, n),
            "core_pull": long(core_pull),
        }
    )
    effects = pd.DataFrame({"mu": mu, "lambda": lam, "m": m_in}, index=pd.Index(ids, name="county"))
    keys = {
        "rho": f"{service_program}:{talent_type}:retention",
        "beta": f"{subsidy_program}:{talent_type}:inflow_log",
    }
    meta = {
        "n_counties": n,
        "n_years": T,
        "seed": seed,
        "start_year": start_year,
        "box_km": box_km,
        "weights_bandwidth_km": weights_bandwidth_km,
        "burn_in": int(burn_in),
        "truth_overrides": {str(k): float(v) for k, v in (truth or {}).items()},
        "service_program": service_program,
        "subsidy_program": subsidy_program,
        "talent_type": talent_type,
        "panel_hash": panel_hash(data),
    }
    return SimulatedPanel(data, p, w, effects, keys, meta)
