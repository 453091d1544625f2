"""Portfolio view across underlyings: aggregate Greeks in dollars, and capital allocation.

Notes
-----
Dollar Greeks of a position of ``q`` contracts with multiplier ``m`` on an underlying at ``S``
(Greeks per unit as :mod:`mmlab.pricing` reports them: vega per 1.00 of volatility, theta per
year):

* dollar delta ``= q m Δ S`` (USD change for a 100 % move, i.e. the USD exposure);
* dollar gamma ``= q m Γ S² / 100`` (change of dollar delta for a 1 % move);
* vega per vol point ``= q m ν / 100``; theta per day ``= q m θ / 365``.

Capital allocation (``allocate_capital``): weights proportional to each underlying's share of
risk, with the correlation of their returns taken into account:

* ``"erc"`` — equal risk contribution (Maillard, Roncalli and Teïletche, "The properties of
  equally weighted risk contribution portfolios", J. Portfolio Management 36(4), 2010): each
  underlying contributes the same share of the portfolio variance, ``w_i (Σ w)_i = σ_p² / n``;
  solved by cyclical coordinate descent (Griveau-Billion, Richard and Roncalli, 2013);
* ``"inverse_vol"`` — ``w_i ∝ 1/σ_i`` (ERC when all correlations are equal);
* ``"min_variance"`` — long-only minimum variance (quadratic programme via SLSQP).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmlab.errors import ConfigError

__all__ = ["aggregate_greeks", "allocate_capital", "risk_contributions"]

_REQUIRED = ("underlying", "qty", "multiplier", "underlying_px", "delta")


def aggregate_greeks(positions: pd.DataFrame) -> pd.DataFrame:
    """Dollar Greeks per underlying, plus a ``TOTAL`` row.

    Parameters
    ----------
    positions : DataFrame
        One row per position: ``underlying, qty, multiplier, underlying_px, delta`` and optionally
        ``gamma, vega, theta`` (per unit; missing means 0, as for a future or the underlying).

    Examples
    --------
    >>> pos = pd.DataFrame({"underlying": ["SPX", "SPX"], "qty": [10, -5], "multiplier": [100, 100],
    ...                     "underlying_px": [4500.0, 4500.0], "delta": [0.5, 1.0],
    ...                     "gamma": [0.001, 0.0], "vega": [5.0, 0.0], "theta": [-3.65, 0.0]})
    >>> aggregate_greeks(pos).loc["SPX", ["dollar_delta", "dollar_gamma_1pct", "vega_per_point"]].tolist()
    [0.0, 202500.0, 50.0]
    """
    missing = [c for c in _REQUIRED if c not in positions.columns]
    if missing:
        raise ConfigError(f"positions: missing columns {missing}")
    df = positions.copy()
    for g in ("gamma", "vega", "theta"):
        if g not in df.columns:
            df[g] = 0.0
    num = ["qty", "multiplier", "underlying_px", "delta", "gamma", "vega", "theta"]
    vals = df[num].astype(float)
    if not np.isfinite(vals.to_numpy()).all():
        bad = int(np.where(~np.isfinite(vals.to_numpy()).all(axis=1))[0][0])
        raise ConfigError(f"positions: non-finite value in row {bad}")
    qm = vals["qty"] * vals["multiplier"]
    s = vals["underlying_px"]
    out = pd.DataFrame({
        "underlying": df["underlying"],
        "delta_units": qm * vals["delta"],
        "dollar_delta": qm * vals["delta"] * s,
        "dollar_gamma_1pct": qm * vals["gamma"] * s * s / 100.0,
        "vega_per_point": qm * vals["vega"] / 100.0,
        "theta_per_day": qm * vals["theta"] / 365.0,
    })
    agg = out.groupby("underlying", sort=True).sum()
    dollars = ["dollar_delta", "dollar_gamma_1pct", "vega_per_point", "theta_per_day"]
    agg.loc["TOTAL"] = agg[dollars].sum()
    agg.loc["TOTAL", "delta_units"] = np.nan  # units differ across underlyings
    return agg


def _cov(vols, corr) -> np.ndarray:
    v = np.asarray(vols, dtype=float)
    c = np.asarray(corr, dtype=float)
    n = v.size
    if v.ndim != 1 or n == 0 or not np.all(np.isfinite(v)) or np.any(v <= 0):
        raise ConfigError("vols: need a 1-d array of finite volatilities > 0")
    if c.shape != (n, n) or not np.allclose(c, c.T) or not np.allclose(np.diag(c), 1.0):
        raise ConfigError("corr: need a symmetric correlation matrix with unit diagonal")
    if np.any(np.abs(c) > 1 + 1e-12):
        raise ConfigError("corr: correlations must lie in [-1, 1]")
    cov = c * np.outer(v, v)
    if np.min(np.linalg.eigvalsh(cov)) <= 0:
        raise ConfigError("corr: the covariance matrix must be positive definite")
    return cov


def risk_contributions(weights, vols, corr) -> np.ndarray:
    """Each asset's share of portfolio variance, ``w_i (Σ w)_i / (w' Σ w)`` (sums to 1)."""
    cov = _cov(vols, corr)
    w = np.asarray(weights, dtype=float)
    return w * (cov @ w) / float(w @ cov @ w)


def allocate_capital(capital: float, vols, corr, method: str = "erc",
                     names=None) -> pd.Series:
    """Split ``capital`` across underlyings by risk (see the module notes).

    Examples
    --------
    >>> a = allocate_capital(1e6, [0.2, 0.4], [[1, 0], [0, 1]])
    >>> a.round(2).tolist()          # uncorrelated: inverse volatility
    [666666.67, 333333.33]
    """
    if not (np.isfinite(capital) and capital > 0):
        raise ConfigError(f"capital: must be finite and > 0, got {capital!r}")
    cov = _cov(vols, corr)
    n = cov.shape[0]
    v = np.sqrt(np.diag(cov))
    if method == "inverse_vol":
        w = 1.0 / v
    elif method == "erc":
        w = 1.0 / v
        w /= w.sum()
        for _ in range(10_000):
            w_old = w.copy()
            for i in range(n):
                # solve cov_ii w_i^2 + w_i (Σ_{j≠i} cov_ij w_j) - b_i (w' Σ w)... with b = 1/n in
                # the normalised form: cov_ii w_i^2 + c_i w_i - 1/n = 0 (scale-free, rescaled below)
                c_i = float(cov[i] @ w - cov[i, i] * w[i])
                w[i] = (-c_i + np.sqrt(c_i * c_i + 4.0 * cov[i, i] / n)) / (2.0 * cov[i, i])
            if np.max(np.abs(w - w_old)) < 1e-14 * max(1.0, np.max(np.abs(w))):
                break
    elif method == "min_variance":
        from scipy.optimize import minimize

        res = minimize(lambda x: float(x @ cov @ x), np.full(n, 1.0 / n), method="SLSQP",
                       bounds=[(0.0, 1.0)] * n,
                       constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1.0}],
                       options={"ftol": 1e-15, "maxiter": 500})
        if not res.success:
            raise ConfigError(f"min_variance allocation did not converge: {res.message}")
        w = np.clip(res.x, 0.0, None)
    else:
        raise ConfigError(f"method: expected 'erc', 'inverse_vol' or 'min_variance', got {method!r}")
    w = w / w.sum()
    idx = list(names) if names is not None else list(range(n))
    return pd.Series(capital * w, index=idx, name="capital")
