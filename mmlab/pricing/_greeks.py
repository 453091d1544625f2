"""The :class:`Greeks` result object and the unit conventions of every sensitivity.

Conventions (all models)
------------------------
==============  ==========================================================================
``price``       present value, in the units of the underlying's price
``delta``       dV/dS (dV/dF for Black-76 and Bachelier)
``gamma``       d2V/dS2
``vega``        dV/dsigma **per 1.00 of volatility** (0.20 -> 1.20); for Bachelier, per 1.00
                of normal (absolute) volatility
``theta``       dV/d(calendar time) **per year** = -dV/dt, t in years (ACT/365F, see
                :func:`mmlab.pricing.year_fraction`)
``rho``         dV/dr **per 1.00 of rate**; for BSM the dividend yield q is held fixed (the
                forward moves with r); for Black-76 and Bachelier the forward is held fixed
                (rho = -t V)
``dividend_rho`` dV/dq per 1.00 of yield (BSM only; NaN for the forward models)
``vanna``       d2V/dS dsigma (per 1.00 of vol)
``volga``       d2V/dsigma2 (per 1.00 of vol, squared)
==============  ==========================================================================

Helpers convert to the market's quoting units: :meth:`Greeks.vega_per_pct`,
:meth:`Greeks.rho_per_pct` (per 1 percentage point, i.e. x 0.01) and :meth:`Greeks.theta_per_day`
(per calendar day, i.e. / 365).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["GREEK_NAMES", "Greeks"]

GREEK_NAMES = ("price", "delta", "gamma", "vega", "theta", "rho", "dividend_rho", "vanna", "volga")


@dataclass(frozen=True, slots=True)
class Greeks:
    """Prices and Greeks of a batch of options (arrays of the broadcast shape, or scalars).

    Access by attribute (``g.delta``) or key (``g["delta"]``); see the module docstring for the
    units.  ``model`` names the pricing model.

    Examples
    --------
    >>> from mmlab.pricing import bsm_greeks
    >>> g = bsm_greeks("c", 100.0, 100.0, 1.0, 0.05, 0.2)
    >>> round(float(g.vega), 4), round(float(g.vega_per_pct()), 6)
    (37.524, 0.37524)
    >>> round(float(g["theta"]), 4), round(float(g.theta_per_day()), 6)
    (-6.414, -0.017573)
    """

    model: str
    price: np.ndarray | np.floating
    delta: np.ndarray | np.floating
    gamma: np.ndarray | np.floating
    vega: np.ndarray | np.floating
    theta: np.ndarray | np.floating
    rho: np.ndarray | np.floating
    dividend_rho: np.ndarray | np.floating
    vanna: np.ndarray | np.floating
    volga: np.ndarray | np.floating

    def keys(self) -> tuple[str, ...]:
        """Names of the quantities, in column order."""
        return GREEK_NAMES

    def __getitem__(self, name: str):
        if name not in GREEK_NAMES:
            raise KeyError(name)
        return getattr(self, name)

    def vega_per_pct(self):
        """Vega per 1 volatility point (0.01), the convention of most screens and py_vollib."""
        return self.vega * 0.01

    def rho_per_pct(self):
        """Rho per 1 percentage point of rate (0.01)."""
        return self.rho * 0.01

    def theta_per_day(self, days_per_year: float = 365.0):
        """Theta per calendar day (``theta / 365``, consistent with the ACT/365F year fraction).

        Pass ``days_per_year=252`` for theta per trading day under a business-day clock.
        """
        return self.theta / days_per_year

    def to_frame(self) -> pd.DataFrame:
        """One row per option, one column per quantity (flattened to 1-D)."""
        return pd.DataFrame({k: np.ravel(getattr(self, k)) for k in GREEK_NAMES})

    def summary(self) -> str:
        """A short text table (first rows) with the units spelled out."""
        df = self.to_frame()
        head = df.head(10).to_string(float_format=lambda v: f"{v:.6g}")
        return (
            f"{self.model} Greeks for {len(df)} option(s): vega per 1.00 vol, theta per year, "
            f"rho per 1.00 rate\n{head}"
        )

    def plot(self, x=None):
        """Plot each Greek against ``x`` (e.g. the strikes); returns the matplotlib axes."""
        import matplotlib.pyplot as plt

        df = self.to_frame()
        xs = np.arange(len(df)) if x is None else np.ravel(x)
        fig, axes = plt.subplots(3, 3, figsize=(10, 8), sharex=True)
        for ax, k in zip(axes.ravel(), GREEK_NAMES, strict=True):
            ax.plot(xs, df[k])
            ax.set_title(k)
        fig.tight_layout()
        return axes
