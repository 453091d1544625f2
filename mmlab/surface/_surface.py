"""The volatility surface object and the surface fit (raw SVI per expiry, or SSVI).

:func:`fit_surface` turns a loaded chain (or its :class:`ChainAnalytics`) into a
:class:`VolSurface`:

1. chain analytics (parity forwards, Black-76 bid/mid/ask vols, filters; American quotes are
   de-Americanised first, :mod:`mmlab.surface._deamericanize`);
2. per expiry with at least ``min_points`` usable out-of-the-money quotes (two-sided, passing the
   filters, both vols solved): a raw SVI fit by the quasi-explicit method (``model='svi'``), or
   one global SSVI surface (``model='ssvi'``, :class:`SSVIFit`);
3. arbitrage checks and repair, shortest expiry first, on each slice's **domain**: its fitted
   log-moneyness range widened by ``domain_margin`` (10 %) of its span each side
   (:func:`check_grid`).  ``g(k) >= 0`` on the domain, and ``w_i(k) >= w_{i-1}(k)`` against
   the previous slice on the overlap of both domains.  A slice with only a calendar violation is first lifted (``a`` raised just
   above the shorter slice) when that keeps it butterfly-free and costs at most 2 % of its
   quotes inside the bid-ask; otherwise, and for butterfly violations, it is re-fitted under
   those constraints (:func:`repair_svi`).
   Beyond its domain a slice is an extrapolation (SVI wings are linear in ``k``) and is not
   checked: fitting a short expiry on a narrow range says nothing about its far wings.  SSVI
   surfaces are arbitrage-free by construction of their parameter conditions (still checked).

Interpolation and extrapolation in time
---------------------------------------
At fixed log-moneyness ``k = ln(K/F(T))``, total variance is **linear in T** between two
fitted expiries: ``w(k, T) = (1 - a) w_i(k) + a w_{i+1}(k)``, ``a = (T - T_i)/(T_{i+1} - T_i)``,
which keeps ``w`` non-decreasing in ``T`` when the slices are (no calendar arbitrage).  Before
the first expiry ``w(k, T) = w_1(k) T/T_1`` and after the last ``w(k, T) = w_n(k) T/T_n``
(constant implied vol at fixed k).  The forward ``F(T)`` is interpolated linearly in ``T`` on
``ln F`` between expiries (from the spot at ``T = 0`` when the chain has one) and held flat
beyond the ends.  For SSVI the time interpolation is on ``theta`` (ATM total variance), linear
in ``T``, and ``w = w_SSVI(k, theta(T))``.  Linear interpolation of total variance preserves
calendar monotonicity but not, in general, the butterfly condition between expiries
(Gatheral & Jacquier 2014, sec. 5.3, interpolate prices for that); the checks are made on the
fitted expiries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mmlab.errors import ConfigError, DataError
from mmlab.surface._arbitrage import (
    CAL_MARGIN,
    butterfly_check,
    calendar_check,
    check_grid,
    repair_svi,
)
from mmlab.surface._chain import ChainAnalytics, ChainFilter, analyze_chain
from mmlab.surface._ssvi import SSVIFit
from mmlab.surface._svi import SVIParams, SVISlice

__all__ = ["VolSurface", "fit_surface"]

_REPORT_COLUMNS = [
    "root", "expiry", "T", "forward", "status", "n", "rmse", "max_abs_err", "inside",
    "butterfly_ok", "min_g", "calendar_ok", "min_calendar_gap", "repaired",
    "a", "b", "rho", "m", "sigma",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Slice:
    root: str
    expiry: pd.Timestamp
    T: float
    forward: float
    params: SVIParams
    k_lo: float
    k_hi: float


class VolSurface:
    """An implied-volatility surface: fitted slices, time interpolation, fit and arbitrage report.

    Built by :func:`fit_surface`; see the module notes for the interpolation rules.

    Parameters
    ----------
    slices : list of _Slice
        Fitted expiries, ascending ``T``.
    report : pandas.DataFrame
        Per-expiry fit report (every expiry of the chain, fitted or not).
    valuation_time : pandas.Timestamp
        The chain's quote time (``T`` is measured from it, ACT/365F).
    model : {'svi', 'ssvi'}
    spot : float
        Spot at ``T = 0`` for the forward interpolation (NaN if unknown).
    ssvi : SSVIFit, optional
        The global SSVI fit (``model='ssvi'``).
    analytics : ChainAnalytics, optional
        The chain analytics the surface was fitted to.

    Examples
    --------
    >>> from mmlab.data import load_option_chain
    >>> from mmlab._paths import shipped
    >>> ch = load_option_chain(shipped("options", "deribit_btc_2020-05-21.csv"))
    >>> surf = fit_surface(ch)
    >>> round(float(surf.iv(9000.0, 0.1)), 2)  # mid vol at 9000 of the 26 Jun 2020 expiry (T=0.097): 0.844
    0.85
    >>> bool(surf.report()["butterfly_ok"].all() and surf.report()["calendar_ok"].all())
    True
    """

    def __init__(self, slices, report, valuation_time, model="svi", spot=np.nan, ssvi=None, analytics=None):
        if not slices:
            raise DataError("no expiry could be fitted (too few usable quotes)")
        self.slices = list(slices)
        self._report = report
        self.valuation_time = valuation_time
        self.model = model
        self.spot = float(spot)
        self.ssvi = ssvi
        self.analytics = analytics
        self._T = np.array([s.T for s in self.slices])
        self._lnF = np.log([s.forward for s in self.slices])

    # ------------------------------------------------------------------ evaluation
    @property
    def expiries(self) -> np.ndarray:
        """Year fractions of the fitted expiries."""
        return self._T.copy()

    def forward(self, T):
        """Forward ``F(T)`` (log-linear in ``T``, module notes)."""
        T = np.asarray(T, dtype=float)
        xs, ys = self._T, self._lnF
        if np.isfinite(self.spot) and self.spot > 0:
            xs = np.concatenate([[0.0], xs])
            ys = np.concatenate([[np.log(self.spot)], ys])
        out = np.exp(np.interp(T, xs, ys))
        return out[()] if out.ndim == 0 else out

    def total_variance(self, k, T):
        """Total implied variance ``w(k, T)`` at log-moneyness ``k = ln(K/F(T))``, broadcast."""
        k, T = np.broadcast_arrays(np.asarray(k, dtype=float), np.asarray(T, dtype=float))
        if np.any(T <= 0):
            raise ConfigError("T: must be > 0 (year fraction from the valuation time)")
        if self.model == "ssvi":
            theta = self.ssvi.theta(T)
            out = self.ssvi.total_variance(k, theta)
            return out[()] if out.ndim == 0 else out
        Ts = self._T
        out = np.empty(k.shape)
        W = np.stack([s.params.total_variance(k) for s in self.slices])  # (n_slices, ...)
        j = np.searchsorted(Ts, T, side="right")  # T in [Ts[j-1], Ts[j])
        before = j == 0
        after = j >= len(Ts)
        mid = ~(before | after)
        if before.any():
            out[before] = W[0][before] * T[before] / Ts[0]
        if after.any():
            out[after] = W[-1][after] * T[after] / Ts[-1]
        if mid.any():
            jm = j[mid]
            a = (T[mid] - Ts[jm - 1]) / (Ts[jm] - Ts[jm - 1])
            flat = np.flatnonzero(mid.ravel())
            w0 = W.reshape(len(Ts), -1)[jm - 1, flat]
            w1 = W.reshape(len(Ts), -1)[jm, flat]
            out[mid] = (1 - a) * w0 + a * w1
        return out[()] if out.ndim == 0 else out

    def iv_k(self, k, T):
        """Implied vol at log-moneyness ``k`` and year fraction ``T``."""
        w = np.asarray(self.total_variance(k, T), dtype=float)
        with np.errstate(invalid="ignore"):
            out = np.sqrt(np.where(w >= 0, w, np.nan) / np.asarray(T, dtype=float))
        return out[()] if np.ndim(out) == 0 else out

    def iv(self, K, T):
        """Implied vol at strike ``K`` and year fraction ``T`` (arrays broadcast).

        Examples
        --------
        See :class:`VolSurface`.
        """
        K, T = np.broadcast_arrays(np.asarray(K, dtype=float), np.asarray(T, dtype=float))
        if np.any(K <= 0):
            raise ConfigError("K: strikes must be > 0")
        return self.iv_k(np.log(K / self.forward(T)), T)

    # ------------------------------------------------------------------ reports
    def report(self) -> pd.DataFrame:
        """Per-expiry fit report: ``n`` points, vol RMSE and max error (vol units: 0.01 = 1 vol
        point), share of fitted vols inside the bid-ask vol interval, arbitrage flags
        (``min_g`` on the slice grid, ``min_calendar_gap`` against the previous slice), whether
        the slice was repaired, and the raw SVI parameters."""
        return self._report.copy()

    def to_frame(self) -> pd.DataFrame:
        """The fitted expiries' parameters (rows of :meth:`report` with ``status == 'fitted'``)."""
        r = self._report
        return r[r["status"] == "fitted"].reset_index(drop=True)

    def summary(self) -> str:
        """One-paragraph text summary."""
        r = self.to_frame()
        return (
            f"{self.model.upper()} surface, {len(r)} fitted expiries (T {r['T'].min():.4f} to "
            f"{r['T'].max():.3f} y); inside bid-ask: median {r['inside'].median():.1%}, min "
            f"{r['inside'].min():.1%}; vol RMSE median {r['rmse'].median():.4f}; butterfly-free "
            f"{int(r['butterfly_ok'].sum())}/{len(r)}, calendar-free {int(r['calendar_ok'].sum())}/{len(r)}"
        )

    def plot(self, n_k: int = 41):
        """Heatmap of implied vol over log-moneyness and the fitted expiries (matplotlib)."""
        import matplotlib.pyplot as plt

        k = np.linspace(min(s.k_lo for s in self.slices), max(s.k_hi for s in self.slices), n_k)
        Ts = self._T
        z = self.iv_k(k[None, :], Ts[:, None])
        fig, ax = plt.subplots()
        m = ax.pcolormesh(k, np.arange(len(Ts)), z, shading="auto")
        fig.colorbar(m, ax=ax, label="implied vol")
        ax.set_xlabel("ln(K/F)")
        ax.set_ylabel("expiry index")
        return ax


def _clean(p: SVIParams, grid, lower, cal_grid) -> bool:
    """Whether ``p`` passes the butterfly check on ``grid`` and the calendar check on ``cal_grid``."""
    if not butterfly_check(p, grid)[0]:
        return False
    return lower is None or cal_grid is None or calendar_check(lower, p.total_variance, cal_grid)[0]


def _overlap(grid: np.ndarray, prev: _Slice, n: int = 201) -> np.ndarray | None:
    """Grid on the overlap of a slice's domain and the previous slice's (None if disjoint)."""
    lo, hi = max(grid[0], prev.k_lo), min(grid[-1], prev.k_hi)
    return np.linspace(lo, hi, n) if hi > lo else None


def _weights_for(points: dict, T: float, fitter: SVISlice) -> tuple[np.ndarray, np.ndarray]:
    """Target total variance and weights exactly as :class:`SVISlice` builds them."""
    mid = points["mid_iv"]
    bid = points["bid_iv"]
    ask = points["ask_iv"]
    wt = mid * mid * T
    hw = np.maximum(0.5 * (ask - bid), fitter.min_half_width)
    if fitter.weights == "spread":
        om = 1.0 / (2.0 * mid * T * hw) ** 2
    elif fitter.weights == "vega":
        from mmlab.surface._svi import _black_vega_w

        om = (_black_vega_w(points["k"], wt) * np.sqrt(T) / (2.0 * mid * T)) ** 2
    else:
        om = np.ones_like(wt) / (2.0 * mid * T) ** 2
    return wt, om / om.mean()


def _score(params: SVIParams, pts: dict, T: float) -> tuple[float, float, float]:
    fv = np.asarray(params.implied_vol(pts["k"], T), dtype=float)
    err = fv - pts["mid_iv"]
    inside = (fv >= pts["bid_iv"] - 1e-9) & (fv <= pts["ask_iv"] + 1e-9)
    return float(np.sqrt(np.nanmean(err**2))), float(np.nanmax(np.abs(err))), float(np.mean(inside))


def fit_surface(
    chain,
    model: str = "svi",
    discount=0.0,
    filters: ChainFilter | None = None,
    weights: str = "spread",
    min_points: int = 5,
    min_abs_delta: float = 0.1,
    domain_margin: float = 0.1,
    repair: bool = True,
    roots=None,
    forward: str = "auto",
    american="auto",
    dividends=None,
) -> VolSurface:
    """Fit a volatility surface to an option chain.

    Parameters
    ----------
    chain : pandas.DataFrame or ChainAnalytics
        A table from :func:`mmlab.data.load_option_chain`, or its :func:`analyze_chain` result.
    model : {'svi', 'ssvi'}
        Raw SVI per expiry (quasi-explicit fit, then arbitrage repair), or one SSVI surface.
    discount, filters, forward, american, dividends
        Passed to :func:`analyze_chain` when ``chain`` is a table (``american``/``dividends``:
        de-Americanisation of American quotes).
    weights : {'spread', 'vega', 'uniform'}
        Residual weights of the SVI fits (:class:`SVISlice`).
    min_points : int, default 5
        Expiries with fewer usable out-of-the-money quotes are reported as ``too_few_points``.
    min_abs_delta : float, default 0.1
        Fit range: only quotes with ``|delta| >= min_abs_delta`` (Black-76 forward delta at the
        mid vol), i.e. the 10-delta put to the 10-delta call by default, the range a raw SVI
        slice (5 parameters) fits to within SPX bid-ask spreads; far wings are extrapolated.
        ``0`` fits every usable out-of-the-money quote.
    domain_margin : float, default 0.1
        Each slice's checked domain is its fitted log-moneyness range widened by this fraction
        of its span on each side.
    repair : bool, default True
        Re-fit slices with butterfly or calendar arbitrage under constraints.
    roots : list of str, optional
        Only these option roots (e.g. ``['SPXW']``).

    Returns
    -------
    VolSurface

    Raises
    ------
    ConfigError
        Unknown model, bad arguments.
    DataError
        No expiry has enough quotes.

    Examples
    --------
    The shipped Deribit BTC chain (forwards from Deribit's futures, no discounting):

    >>> from mmlab.data import load_option_chain
    >>> from mmlab._paths import shipped
    >>> ch = load_option_chain(shipped("options", "deribit_btc_2020-05-21.csv"))
    >>> surf = fit_surface(ch)
    >>> surf.report()["status"].value_counts().to_dict()   # the next-day expiry: 3 usable quotes
    {'fitted': 6, 'too_few_points': 1}
    >>> round(float(surf.iv(9000.0, 0.25)), 2), fit_surface(ch, model="ssvi").model
    (0.87, 'ssvi')
    """
    if model not in ("svi", "ssvi"):
        raise ConfigError(f"model: expected 'svi' or 'ssvi', got {model!r}")
    if not (isinstance(min_points, int) and min_points >= 5):
        raise ConfigError(f"min_points: must be an int >= 5, got {min_points!r}")
    an = chain if isinstance(chain, ChainAnalytics) else analyze_chain(
        chain, discount=discount, filters=filters, forward=forward, american=american, dividends=dividends
    )
    ex = an.expiries
    if roots is not None:
        ex = ex[ex["root"].isin(list(roots))]
    ex = ex[(ex["t"] > 0) & np.isfinite(ex["forward"])].sort_values("t", kind="stable").reset_index(drop=True)
    if not (0 <= min_abs_delta < 0.5):
        raise ConfigError(f"min_abs_delta: must be in [0, 0.5), got {min_abs_delta!r}")
    fitter = SVISlice(weights=weights, min_half_width=0.0005, a_lower=None)
    rows: list[dict] = []
    pts_by: dict[int, dict] = {}
    smiles = an.smile_arrays()
    empty = {c: np.empty(0) for c in ("k", "bid_iv", "mid_iv", "ask_iv", "delta")}
    for i, (root, expiry, t_e, f_e) in enumerate(zip(ex["root"], ex["expiry"], ex["t"], ex["forward"], strict=True)):
        sm = smiles.get((root, expiry), empty)
        keep = np.abs(sm["delta"]) >= min_abs_delta
        pts = {c: sm[c][keep] for c in ("k", "bid_iv", "mid_iv", "ask_iv")}
        n_pts = int(keep.sum())
        base = {"root": root, "expiry": expiry, "T": float(t_e), "forward": float(f_e), "n": n_pts}
        if n_pts < min_points:
            rows.append({**base, "status": "too_few_points"})
            continue
        pts_by[i] = pts
        rows.append({**base, "status": "fitted"})

    slices: list[_Slice] = []
    checks: list = []
    ssvi = None
    if model == "ssvi":
        fitted = [i for i in pts_by]
        data = [(float(ex.loc[i, "t"]), pd.DataFrame(pts_by[i])) for i in fitted]
        ssvi = SSVIFit(weights=weights).fit([d[0] for d in data], [d[1] for d in data])
        for i in fitted:
            T = float(ex.loc[i, "t"])
            p = ssvi.slice_params(T)
            pts = pts_by[i]
            slices.append(_Slice(ex.loc[i, "root"], ex.loc[i, "expiry"], T, float(ex.loc[i, "forward"]), p,
                                 float(pts["k"].min()), float(pts["k"].max())))  # fmt: skip
            checks.append(None)
    else:
        prev: _Slice | None = None
        T_arr = ex["t"].to_numpy(dtype=float)
        F_arr = ex["forward"].to_numpy(dtype=float)
        for i in pts_by:
            pts = pts_by[i]
            T = float(T_arr[i])
            fit = fitter.fit(pts["k"], T, pts["bid_iv"], pts["ask_iv"], pts["mid_iv"])
            p = p_fit = fit.params_
            kq = pts["k"]
            grid = check_grid(kq, margin=domain_margin)
            repaired = False
            bf = cal = None
            if repair:
                bf = butterfly_check(p, grid)
                bf_ok = bf[0]
                cal_ok, cal_grid = True, None
                if prev is not None:
                    cal_grid = _overlap(grid, prev)
                    if cal_grid is not None:
                        cal = calendar_check(prev.params.total_variance, p.total_variance, cal_grid)
                        cal_ok = cal[0]
                lower = None if (prev is None or cal_grid is None) else prev.params.total_variance
                if bf_ok and not cal_ok:
                    # cheapest repair first: lift the level a just above the shorter slice, kept
                    # when it stays butterfly-free and loses no more than 2 % of the quotes
                    gap = calendar_check(lower, p.total_variance, cal_grid)[1]
                    lift = -gap + CAL_MARGIN * float(np.max(np.abs(p.total_variance(cal_grid))))
                    pl = SVIParams(p.a + lift, p.b, p.rho, p.m, p.sigma)
                    if _clean(pl, grid, lower, cal_grid) and _score(pl, pts, T)[2] >= _score(p, pts, T)[2] - 0.02:
                        p, repaired, cal_ok = pl, True, True
                if not (bf_ok and cal_ok):
                    wt, om = _weights_for(pts, T, fitter)
                    p2, ok = repair_svi(p, kq, wt, om, grid[::4], w_lower=lower, k_cal=None if cal_grid is None else cal_grid[::4])
                    if not ok or not _clean(p2, grid, lower, cal_grid):
                        # second try: every grid point, a wider margin on g, from the first result
                        p3, ok3 = repair_svi(p2, kq, wt, om, grid, w_lower=lower, k_cal=cal_grid, margin=1e-3, maxiter=300)
                        if ok3 or _clean(p3, grid, lower, cal_grid):
                            p2 = p3
                    p, repaired = p2, True
            rows[i]["repaired"] = repaired
            s = _Slice(rows[i]["root"], rows[i]["expiry"], T, float(F_arr[i]), p,
                       float(grid[0]), float(grid[-1]))  # fmt: skip
            slices.append(s)
            # the report below re-uses the checks of an unrepaired slice (same params, same grids)
            checks.append((grid, bf, cal) if p is p_fit else None)
            prev = s

    # ---------------------------------------------------------------- report
    prev = None
    for s, i, chk in zip(slices, list(pts_by), checks, strict=True):
        pts = pts_by[i]
        if chk is not None:
            grid, bf, cal = chk
        else:
            grid, bf, cal = check_grid(pts["k"], margin=domain_margin), None, None
        rmse, mx, inside = _score(s.params, pts, s.T)
        bf_ok, gmin, _ = bf if bf is not None else butterfly_check(s.params, grid)
        cal_grid = None if prev is None else _overlap(grid, prev)
        if cal_grid is None or prev is None:
            cal_ok, gap = True, np.nan
        else:
            cal_ok, gap, _ = cal if cal is not None else calendar_check(prev.params.total_variance, s.params.total_variance, cal_grid)
        rows[i].update(
            rmse=rmse, max_abs_err=mx, inside=inside, butterfly_ok=bf_ok, min_g=gmin,
            calendar_ok=cal_ok, min_calendar_gap=gap, a=s.params.a, b=s.params.b,
            rho=s.params.rho, m=s.params.m, sigma=s.params.sigma,
        )  # fmt: skip
        rows[i].setdefault("repaired", False)
        prev = s
    rep = pd.DataFrame(rows).reindex(columns=_REPORT_COLUMNS)
    for c in ("butterfly_ok", "calendar_ok", "repaired"):
        rep[c] = rep[c].astype("boolean")
    spot = float(ex["spot"].median()) if "spot" in ex and np.isfinite(ex["spot"]).any() else np.nan
    vt = pd.Timestamp(an.quotes["ts"].max())
    return VolSurface(slices, rep, vt, model=model, spot=spot, ssvi=ssvi, analytics=an)
