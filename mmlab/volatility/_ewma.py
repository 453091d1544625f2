"""EWMA (RiskMetrics) volatility.

RiskMetrics (J.P. Morgan/Reuters, *RiskMetrics Technical Document*, 4th ed. 1996, sec. 5.2):
``sigma_t^2 = lambda sigma_{t-1}^2 + (1 - lambda) r_{t-1}^2`` with ``lambda = 0.94`` for daily
data; zero-mean returns.  ``sigma_t^2`` is the forecast for day ``t`` made with returns up to
``t - 1``; the forecast for the day after the sample is ``lambda sigma_T^2 + (1 - lambda) r_T^2``
and, the model having no mean reversion, the same for every horizon.  The recursion starts from
the mean of the first ``init`` squared returns (default 20).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from numba import njit

from mmlab.errors import ConfigError

__all__ = ["EWMAVol", "ewma_variance", "ewma_variance_python"]


def ewma_variance_python(r, lam, var0, out):
    """EWMA variance recursion (plain twin): ``out[t] = lam out[t-1] + (1 - lam) r[t-1]^2``,
    ``out[0] = var0``; ``out`` has ``len(r) + 1`` entries (the last is the next-day forecast)."""
    out[0] = var0
    for t in range(1, r.shape[0] + 1):
        out[t] = lam * out[t - 1] + (1.0 - lam) * r[t - 1] * r[t - 1]
    return out


ewma_variance = njit(cache=True)(ewma_variance_python)


class EWMAVol:
    """RiskMetrics EWMA volatility estimator (module notes).

    Parameters
    ----------
    lam : float, default 0.94
        Decay, ``0 < lam < 1``.
    periods_per_year : float, default 252
        Annualisation of the per-period variance.
    init : int, default 20
        Returns averaged for the starting variance.

    Attributes
    ----------
    variance_ : pandas.Series
        Per-period conditional variance ``sigma_t^2`` for each return date (made before it).
    volatility_ : pandas.Series
        Annualised ``sqrt(variance_ * periods_per_year)``.
    forecast_variance_ : float
        Per-period variance forecast for the period after the sample.

    Examples
    --------
    >>> r = np.array([0.01, -0.02, 0.015, 0.0, -0.01])
    >>> m = EWMAVol(init=2).fit(r)
    >>> round(float(m.variance_.iloc[-1]), 8), round(m.forecast_variance_, 8)
    (0.00023407, 0.00022602)
    """

    def __init__(self, lam: float = 0.94, periods_per_year: float = 252.0, init: int = 20) -> None:
        self.lam = lam
        self.periods_per_year = periods_per_year
        self.init = init

    def fit(self, returns) -> EWMAVol:
        """Run the recursion over ``returns`` (decimal log or simple returns, per period)."""
        if not (0.0 < self.lam < 1.0):
            raise ConfigError(f"lam: must be in (0, 1), got {self.lam!r}")
        if not (self.periods_per_year > 0):
            raise ConfigError(f"periods_per_year: must be > 0, got {self.periods_per_year!r}")
        if not (isinstance(self.init, int) and self.init >= 1):
            raise ConfigError(f"init: must be an int >= 1, got {self.init!r}")
        idx = returns.index if isinstance(returns, pd.Series) else None
        r = np.asarray(returns, dtype=float)
        if r.ndim != 1 or r.size < self.init:
            raise ConfigError(f"returns: need a 1-D series of at least init={self.init} values")
        if not np.all(np.isfinite(r)):
            i = int(np.flatnonzero(~np.isfinite(r))[0])
            raise ConfigError(f"returns: element {i} is not finite")
        out = np.empty(r.size + 1)
        ewma_variance(r, float(self.lam), float(np.mean(r[: self.init] ** 2)), out)
        self.variance_ = pd.Series(out[:-1], index=idx, name="variance")
        self.volatility_ = np.sqrt(self.variance_ * self.periods_per_year).rename("volatility")
        self.forecast_variance_ = float(out[-1])
        return self

    def forecast(self, horizon: int = 1) -> np.ndarray:
        """Annualised vol forecasts for steps ``1..horizon`` (flat: EWMA has no mean reversion)."""
        if not hasattr(self, "forecast_variance_"):
            raise ConfigError("EWMAVol: call fit() first")
        return np.full(int(horizon), math.sqrt(self.forecast_variance_ * self.periods_per_year))
