"""GARCH(1,1) through the ``arch`` package, with the scikit-learn estimator contract.

``r_t = mu + e_t``, ``e_t = sigma_t z_t``, ``sigma_t^2 = omega + alpha e_{t-1}^2 + beta
sigma_{t-1}^2`` (Bollerslev 1986), fitted by maximum likelihood in ``arch.arch_model``.  Returns
are passed to ``arch`` in percent (x 100, its recommended scaling for the optimiser) and every
learned quantity is converted back to decimals: ``omega_`` is a per-period variance in decimal
units, ``mu_`` a decimal return.  Long-run (unconditional) variance ``omega / (1 - alpha -
beta)``; the h-step variance forecast reverts to it geometrically at rate ``alpha + beta``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from mmlab.errors import ConfigError

__all__ = ["GARCH11"]


class GARCH11:
    """GARCH(1,1) volatility model (module notes).

    Parameters
    ----------
    mean : {'constant', 'zero'}, default 'constant'
    dist : {'normal', 't'}, default 'normal'
        Innovation distribution.
    periods_per_year : float, default 252

    Attributes
    ----------
    mu_, omega_, alpha_, beta_ : float
        Parameters in decimal units (``mu_`` is 0 for ``mean='zero'``).
    nu_ : float
        Student-t degrees of freedom (NaN for 'normal').
    persistence_ : float
        ``alpha + beta``.
    long_run_vol_ : float
        Annualised ``sqrt(omega / (1 - alpha - beta))`` (NaN if persistence >= 1).
    conditional_volatility_ : pandas.Series
        Annualised in-sample ``sigma_t``.
    loglikelihood_ : float
        Of the percent-scaled returns, as reported by ``arch``.
    result_ : arch.univariate.base.ARCHModelResult
        The raw ``arch`` result.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> m = GARCH11(mean="zero").fit(rng.normal(0, 0.01, 1000))
    >>> bool(abs(m.long_run_vol_ - 0.01 * np.sqrt(252)) < 0.02)
    True
    """

    def __init__(self, mean: str = "constant", dist: str = "normal", periods_per_year: float = 252.0) -> None:
        self.mean = mean
        self.dist = dist
        self.periods_per_year = periods_per_year

    def fit(self, returns) -> GARCH11:
        """Fit by maximum likelihood to per-period decimal returns."""
        from arch import arch_model

        if self.mean not in ("constant", "zero"):
            raise ConfigError(f"mean: expected 'constant' or 'zero', got {self.mean!r}")
        if self.dist not in ("normal", "t"):
            raise ConfigError(f"dist: expected 'normal' or 't', got {self.dist!r}")
        if not (self.periods_per_year > 0):
            raise ConfigError(f"periods_per_year: must be > 0, got {self.periods_per_year!r}")
        r = returns if isinstance(returns, pd.Series) else pd.Series(np.asarray(returns, dtype=float))
        r = r.astype(float)
        if r.ndim != 1 or len(r) < 100:
            raise ConfigError("returns: need a 1-D series of at least 100 returns")
        if not np.all(np.isfinite(r.to_numpy())):
            i = int(np.flatnonzero(~np.isfinite(r.to_numpy()))[0])
            raise ConfigError(f"returns: element {i} is not finite")
        am = arch_model(
            r * 100.0, mean="Constant" if self.mean == "constant" else "Zero", vol="GARCH", p=1, q=1,
            dist="normal" if self.dist == "normal" else "t",
        )  # fmt: skip
        res = am.fit(disp="off")
        p = res.params
        self.result_ = res
        self.mu_ = float(p.get("mu", 0.0)) / 100.0
        self.omega_ = float(p["omega"]) / 1e4
        self.alpha_ = float(p["alpha[1]"])
        self.beta_ = float(p["beta[1]"])
        self.nu_ = float(p["nu"]) if "nu" in p else np.nan
        self.persistence_ = self.alpha_ + self.beta_
        self.long_run_vol_ = (
            math.sqrt(self.omega_ / (1.0 - self.persistence_) * self.periods_per_year) if self.persistence_ < 1 else np.nan
        )
        cond = pd.Series(res.conditional_volatility)  # a Series on a Series input (arch's union type)
        self.conditional_volatility_ = (cond / 100.0 * math.sqrt(self.periods_per_year)).rename("volatility")
        self.loglikelihood_ = float(res.loglikelihood)
        return self

    def forecast(self, horizon: int = 1) -> np.ndarray:
        """Annualised vol forecasts for steps ``1..horizon`` after the sample (``arch``'s analytic
        multi-step variance forecast)."""
        if not hasattr(self, "result_"):
            raise ConfigError("GARCH11: call fit() first")
        if not (isinstance(horizon, int) and horizon >= 1):
            raise ConfigError(f"horizon: must be an int >= 1, got {horizon!r}")
        f = self.result_.forecast(horizon=horizon, reindex=False)
        var = f.variance.to_numpy()[-1] / 1e4
        return np.sqrt(var * self.periods_per_year)

    def summary(self) -> pd.Series:
        """The fitted parameters and derived figures."""
        return pd.Series(
            {"mu": self.mu_, "omega": self.omega_, "alpha": self.alpha_, "beta": self.beta_, "nu": self.nu_,
             "persistence": self.persistence_, "long_run_vol": self.long_run_vol_}
        )  # fmt: skip
