"""Surface report: the per-expiry fit report plus arbitrage checks *between* fitted expiries.

:meth:`VolSurface.report` judges each fitted slice on its own domain.  :func:`surface_report`
adds the time-interpolated surface: between each pair of consecutive fitted expiries it
evaluates ``w(k, T)`` at ``n_between`` intermediate maturities on the overlap of the two
slices' domains and checks

* calendar: ``w`` non-decreasing in ``T`` at every grid ``k`` (by construction of the linear
  interpolation when the end slices are calendar-free; checked anyway);
* butterfly: Gatheral's ``g(k) >= 0`` with ``w'`` and ``w''`` from central finite differences
  of the interpolated total variance (linear interpolation of two butterfly-free slices is not
  butterfly-free in general, Gatheral & Jacquier 2014 sec. 5.3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mmlab.surface._arbitrage import G_TOL, W_RTOL, W_TOL

__all__ = ["SurfaceReport", "g_from_total_variance", "surface_report"]


def g_from_total_variance(k, w) -> np.ndarray:
    """Gatheral's ``g(k)`` from total variance sampled on an even grid ``k`` (central differences;
    the two end points are NaN).

    Examples
    --------
    A flat smile has ``g = 1`` exactly (``w' = w'' = 0``):

    >>> k = np.linspace(-1, 1, 5)
    >>> g_from_total_variance(k, np.full(5, 0.04)).tolist()
    [nan, 1.0, 1.0, 1.0, nan]
    """
    k = np.asarray(k, dtype=float)
    w = np.asarray(w, dtype=float)
    h = k[1] - k[0]
    g = np.full(k.shape, np.nan)
    w1 = (w[2:] - w[:-2]) / (2 * h)
    w2 = (w[2:] - 2 * w[1:-1] + w[:-2]) / (h * h)
    wm, km = w[1:-1], k[1:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        g[1:-1] = (1 - km * w1 / (2 * wm)) ** 2 - 0.25 * w1 * w1 * (1 / wm + 0.25) + 0.5 * w2
    g[1:-1] = np.where(wm > 0, g[1:-1], -np.inf)
    return g


@dataclass(frozen=True, slots=True)
class SurfaceReport:
    """Per-expiry fit report and the checks between expiries.

    Attributes
    ----------
    per_expiry : pandas.DataFrame
        :meth:`VolSurface.report`.
    between : pandas.DataFrame
        One row per consecutive pair of fitted expiries: ``T_lo, T_hi, min_g, min_dw``
        (smallest total-variance increment between consecutive interpolated maturities),
        ``butterfly_ok, calendar_ok``.
    """

    per_expiry: pd.DataFrame
    between: pd.DataFrame

    @property
    def arbitrage_free(self) -> bool:
        """True when every fitted slice and every interpolated maturity passes both checks."""
        pe = self.per_expiry[self.per_expiry["status"] == "fitted"]
        return bool(
            pe["butterfly_ok"].all() and pe["calendar_ok"].all()
            and self.between["butterfly_ok"].all() and self.between["calendar_ok"].all()
        )  # fmt: skip

    def to_frame(self) -> pd.DataFrame:
        """The per-expiry report."""
        return self.per_expiry

    def summary(self) -> str:
        """A short text verdict with the worst figures."""
        pe = self.per_expiry[self.per_expiry["status"] == "fitted"]
        big = pe[pe["n"] >= 10]
        below = big[big["inside"] < 0.8]
        return (
            f"{len(pe)} fitted expiries; share inside bid-ask (expiries with >= 10 quotes): min "
            f"{big['inside'].min():.1%}, {len(below)} below 80 %; arbitrage-free: {self.arbitrage_free} "
            f"(min g between expiries {self.between['min_g'].min():.3g})"
        )

    def plot(self):
        """Bar chart of the inside-the-spread share per expiry (matplotlib)."""
        import matplotlib.pyplot as plt

        pe = self.per_expiry[self.per_expiry["status"] == "fitted"]
        fig, ax = plt.subplots()
        ax.bar(np.arange(len(pe)), pe["inside"])
        ax.axhline(0.8, color="r", lw=1)
        ax.set_ylabel("share of fitted vols inside bid-ask")
        ax.set_xlabel("expiry index")
        return ax


def surface_report(surface, n_between: int = 4, n_k: int = 201) -> SurfaceReport:
    """Fit report plus checks of the interpolated surface between fitted expiries (module notes).

    Parameters
    ----------
    surface : VolSurface
    n_between : int, default 4
        Intermediate maturities per pair of consecutive expiries.
    n_k : int, default 201
        Grid points on the overlap of the pair's domains.

    Returns
    -------
    SurfaceReport

    Examples
    --------
    >>> from mmlab.data import load_option_chain
    >>> from mmlab._paths import shipped
    >>> from mmlab.surface import fit_surface
    >>> rep = surface_report(fit_surface(load_option_chain(shipped("options", "deribit_btc_2020-05-21.csv"))))
    >>> rep.arbitrage_free
    True
    """
    rows = []
    sl = surface.slices
    for a, b in zip(sl[:-1], sl[1:], strict=True):
        lo, hi = max(a.k_lo, b.k_lo), min(a.k_hi, b.k_hi)
        if hi <= lo or b.T <= a.T:
            rows.append({"T_lo": a.T, "T_hi": b.T, "min_g": np.nan, "min_dw": np.nan,
                         "butterfly_ok": True, "calendar_ok": True})  # fmt: skip
            continue
        k = np.linspace(lo, hi, n_k)
        Ts = np.linspace(a.T, b.T, n_between + 2)
        W = np.stack([surface.total_variance(k, T) for T in Ts])
        gmin = np.nanmin([np.nanmin(g_from_total_variance(k, w)) for w in W[1:-1]]) if n_between else np.nan
        d = np.diff(W, axis=0)
        dw = float(np.min(d))
        cal_ok = bool(np.all(d >= -(W_TOL + W_RTOL * np.abs(W[:-1]))))
        rows.append({
            "T_lo": a.T, "T_hi": b.T, "min_g": float(gmin), "min_dw": dw,
            "butterfly_ok": bool(not np.isfinite(gmin) or gmin >= -G_TOL),
            "calendar_ok": cal_ok,
        })  # fmt: skip
    between = pd.DataFrame(rows, columns=["T_lo", "T_hi", "min_g", "min_dw", "butterfly_ok", "calendar_ok"])
    return SurfaceReport(surface.report(), between)
