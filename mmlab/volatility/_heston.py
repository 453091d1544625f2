"""Heston (1993) stochastic volatility calibrated to implied-vol slices through QuantLib.

``dS/S = mu dt + sqrt(v) dW1``, ``dv = kappa (theta - v) dt + sigma sqrt(v) dW2``,
``d<W1, W2> = rho dt``; ``v0`` is today's variance. Calibration uses QuantLib's ``HestonModel``,
``AnalyticHestonEngine`` (Gauss-Laguerre integration of the characteristic function) and
``LevenbergMarquardt``, minimising implied-vol errors (``ImpliedVolError``): each residual is the
model's Black vol minus the quote's mid vol, so ``rmse_`` is in vol units.

Conventions
-----------
* **Forward space.** Heston prices are homogeneous of degree one in (forward, strike), so every
  quote is calibrated as an undiscounted option on a forward of 1 at strike ``K / F`` with
  zero rates: slices with different forwards (dividends, rates) share one model and the discount
  curve never enters the fit. :meth:`HestonCalibration.price` multiplies back by ``F`` and
  discounts with the ``rate`` given.
* **Whole days.** QuantLib's maturities are dates, so a slice's ``t`` (mmlab's ACT/365F of exact
  instants) is rounded to ``n`` whole days; the quote's vol is rescaled to keep its Black total
  variance (``iv * sqrt(t / (n / 365))``), so prices are matched exactly and model vols are mapped
  back the same way. Slices shorter than half a day are refused.
* **Bounds and Feller.** The optimiser is held inside :attr:`HestonCalibration.bounds` (QuantLib's
  ``NonhomogeneousBoundaryConstraint``); a parameter that ends within 0.1 % of its bound is
  listed in ``at_bound_``. Feller's condition ``2 kappa theta > sigma^2`` (variance stays away
  from 0) is reported, not imposed: equity-index fits usually violate it.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from mmlab.errors import ConfigError, DataError
from mmlab.pricing import implied_vol

__all__ = ["HESTON_PARAMS", "HestonCalibration", "heston_price_ql"]

HESTON_PARAMS = ("v0", "kappa", "theta", "sigma", "rho")
"""Heston parameter names, in mmlab's order."""

_QL_ORDER = ("theta", "kappa", "sigma", "rho", "v0")  # QuantLib's HestonModel.params() order
_DEFAULT_BOUNDS = {
    "v0": (1e-4, 4.0),
    "kappa": (1e-3, 30.0),
    "theta": (1e-4, 4.0),
    "sigma": (1e-3, 5.0),
    "rho": (-0.999, 0.999),
}
_REF_DATE = (15, 1, 2001)  # QuantLib's evaluation date during a call; only day counts matter


@contextlib.contextmanager
def _ql_today():
    """Set QuantLib's global evaluation date for the block and restore it afterwards."""
    import QuantLib as ql

    settings = ql.Settings.instance()
    old = settings.evaluationDate
    today = ql.Date(*_REF_DATE)
    settings.evaluationDate = today
    try:
        yield ql, today
    finally:
        settings.evaluationDate = old


def _days(t: np.ndarray) -> np.ndarray:
    n = np.rint(np.asarray(t, dtype=float) * 365.0).astype(np.int64)
    if (np.asarray(t) * 365.0 < 0.5).any():
        raise ConfigError("t: Heston slices need at least half a day to expiry (QuantLib maturities are whole days)")
    return np.maximum(n, 1)


def _flat(ql, today):
    return ql.YieldTermStructureHandle(ql.FlatForward(today, 0.0, ql.Actual365Fixed()))


def _unit_model(ql, today, p: Mapping[str, float]):
    curve = _flat(ql, today)
    proc = ql.HestonProcess(curve, curve, ql.QuoteHandle(ql.SimpleQuote(1.0)),
                            p["v0"], p["kappa"], p["theta"], p["sigma"], p["rho"])  # fmt: skip
    return ql.HestonModel(proc)


def heston_price_ql(params: Mapping[str, float], moneyness, days, right="c", integration_order: int = 144):
    """Undiscounted Heston prices on a unit forward: ``C(1, K/F) = C(F, K) / F`` (QuantLib).

    Parameters
    ----------
    params : mapping
        ``v0, kappa, theta, sigma, rho``.
    moneyness : float or array-like
        Strikes over forwards, ``K / F`` (> 0).
    days : int or array-like
        Whole days to expiry (ACT/365F, ``t = days / 365``).
    right : str or array-like
        ``'c'``/``'p'``.
    integration_order : int
        Gauss-Laguerre order of ``AnalyticHestonEngine``.

    Examples
    --------
    With ``sigma -> 0`` and ``v0 = theta`` Heston is Black with vol ``sqrt(theta)``:

    >>> from mmlab.pricing import black76_price
    >>> p = dict(v0=0.04, kappa=1.0, theta=0.04, sigma=1e-4, rho=0.0)
    >>> round(float(heston_price_ql(p, 1.0, 365)), 5), round(float(black76_price("c", 1.0, 1.0, 1.0, 0.0, 0.2)), 5)
    (0.07966, 0.07966)
    """
    k, d, r = np.broadcast_arrays(np.asarray(moneyness, dtype=float), np.asarray(days), np.asarray(right))
    out = np.empty(k.shape)
    with _ql_today() as (ql, today):
        model = _unit_model(ql, today, params)
        engine = ql.AnalyticHestonEngine(model, int(integration_order))
        for i in np.ndindex(k.shape):
            typ = ql.Option.Call if str(r[i]).lower().startswith("c") else ql.Option.Put
            opt = ql.VanillaOption(ql.PlainVanillaPayoff(typ, float(k[i])),
                                   ql.EuropeanExercise(today + int(d[i])))  # fmt: skip
            opt.setPricingEngine(engine)
            out[i] = opt.NPV()
    return out[()] if out.ndim == 0 else out


def _slice_frame(slice_) -> pd.DataFrame:
    if isinstance(slice_, Mapping):
        slice_ = list(slice_.values())
    if isinstance(slice_, list | tuple):
        if not slice_:
            raise ConfigError("slice: an empty list of slices")
        slice_ = pd.concat([pd.DataFrame(s) for s in slice_], ignore_index=True)
    if not isinstance(slice_, pd.DataFrame):
        raise ConfigError(f"slice: expected a DataFrame (ChainAnalytics.smile) or a list of them, got {type(slice_).__name__}")
    df = slice_.copy()
    if "mid_iv" not in df.columns and "iv" in df.columns:
        df["mid_iv"] = df["iv"]
    missing = [c for c in ("strike", "t", "forward", "mid_iv") if c not in df.columns]
    if missing:
        raise DataError(f"slice: missing columns {missing} (expected ChainAnalytics.smile() output)")
    for c in ("strike", "t", "forward", "mid_iv"):
        v = df[c].to_numpy(dtype=float)
        bad = ~np.isfinite(v) | (v <= 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"slice: column {c!r} row {i} is {v[i]!r} (must be finite and > 0)")
    return df.reset_index(drop=True)


class HestonCalibration:
    """Heston model fitted to one or more implied-vol slices (module notes).

    Parameters
    ----------
    v0, kappa, theta, sigma, rho : float
        Starting point of the optimiser. ``v0=None`` starts from the squared at-the-money mid
        vol of the shortest slice, ``theta=None`` from that of the longest.
    min_abs_delta : float, default 0.0
        Drop quotes with ``|delta| < min_abs_delta`` (if the slice has a ``delta`` column).
    bounds : mapping, optional
        ``{name: (low, high)}`` overriding the defaults (``v0, theta`` in [1e-4, 4], ``kappa`` in
        [1e-3, 30], ``sigma`` in [1e-3, 5], ``rho`` in [-0.999, 0.999]).
    max_iterations : int, default 500
    integration_order : int, default 144
        Gauss-Laguerre order of ``AnalyticHestonEngine``.

    Attributes
    ----------
    v0_, kappa_, theta_, sigma_, rho_ : float
        Fitted parameters (variances are annualised decimals).
    rmse_, max_abs_error_ : float
        Root-mean-square and worst model-minus-mid implied-vol error (decimal vol).
    n_points_ : int
    feller_ : bool
        Whether ``2 kappa theta > sigma^2``.
    feller_ratio_ : float
        ``2 kappa theta / sigma^2``.
    at_bound_ : tuple of str
        Parameters that ended at a bound.
    end_criteria_ : str
        QuantLib's reason for stopping (e.g. ``'StationaryFunctionValue'``).
    residuals_ : pandas.DataFrame
        Per quote: ``t, days, strike, forward, moneyness, mid_iv, model_iv, error`` and
        ``in_spread`` (model vol within bid/ask vols, if those columns were given).

    Examples
    --------
    Calibrating to a Black-Scholes smile (flat 20 % vol) gives a flat Heston fit:

    >>> k = np.linspace(0.8, 1.2, 9)
    >>> sl = pd.DataFrame({"strike": 100 * k, "t": 0.5, "forward": 100.0, "mid_iv": 0.2})
    >>> h = HestonCalibration().fit(sl)
    >>> bool(h.rmse_ < 1e-4), round(float(h.iv(100.0)), 4)
    (True, 0.2)
    """

    def __init__(
        self,
        v0: float | None = None,
        kappa: float = 2.0,
        theta: float | None = None,
        sigma: float = 0.6,
        rho: float = -0.6,
        *,
        min_abs_delta: float = 0.0,
        bounds: Mapping[str, tuple[float, float]] | None = None,
        max_iterations: int = 500,
        integration_order: int = 144,
    ) -> None:
        self.v0 = v0
        self.kappa = kappa
        self.theta = theta
        self.sigma = sigma
        self.rho = rho
        self.min_abs_delta = min_abs_delta
        self.bounds = bounds
        self.max_iterations = max_iterations
        self.integration_order = integration_order

    # ------------------------------------------------------------------ configuration
    def _bounds(self) -> dict[str, tuple[float, float]]:
        b = dict(_DEFAULT_BOUNDS)
        for name, lohi in (self.bounds or {}).items():
            if name not in b:
                raise ConfigError(f"bounds: unknown parameter {name!r} (known: {HESTON_PARAMS})")
            lo, hi = (float(x) for x in lohi)
            if not lo < hi:
                raise ConfigError(f"bounds: {name} needs low < high, got {lohi!r}")
            b[name] = (lo, hi)
        if b["v0"][0] <= 0 or b["theta"][0] <= 0 or b["kappa"][0] <= 0 or b["sigma"][0] <= 0:
            raise ConfigError("bounds: v0, theta, kappa and sigma must stay > 0")
        if b["rho"][0] < -1 or b["rho"][1] > 1:
            raise ConfigError("bounds: rho must stay within [-1, 1]")
        return b

    def _start(self, bounds, df: pd.DataFrame) -> dict[str, float]:
        atm = df.assign(dist=np.abs(np.log(df["strike"] / df["forward"]))).sort_values(["t", "dist"])
        atm = atm.groupby("t")["mid_iv"].first()
        p = {}
        for n in HESTON_PARAMS:
            v = getattr(self, n)
            if v is None and n in ("v0", "theta"):
                v = float(atm.iloc[0 if n == "v0" else -1]) ** 2
            p[n] = float(v)
        for n, v in p.items():
            lo, hi = bounds[n]
            if not (lo <= v <= hi):
                raise ConfigError(f"{n}: start {v!r} outside its bounds [{lo}, {hi}]")
        return p

    # ------------------------------------------------------------------ fit
    def fit(self, slice_) -> HestonCalibration:
        """Calibrate to quotes: a ``ChainAnalytics.smile()`` table, or a list/dict of them.

        Needs columns ``strike, t, forward, mid_iv`` (``iv`` accepted for ``mid_iv``);
        ``bid_iv, ask_iv`` and ``delta`` are used when present.
        """
        if not (isinstance(self.max_iterations, int) and self.max_iterations >= 10):
            raise ConfigError(f"max_iterations: must be an int >= 10, got {self.max_iterations!r}")
        if not (0.0 <= self.min_abs_delta < 0.5):
            raise ConfigError(f"min_abs_delta: must be in [0, 0.5), got {self.min_abs_delta!r}")
        bounds = self._bounds()
        df = _slice_frame(slice_)
        if self.min_abs_delta > 0 and "delta" in df.columns:
            df = df[np.abs(df["delta"].to_numpy(dtype=float)) >= self.min_abs_delta].reset_index(drop=True)
        if len(df) < len(HESTON_PARAMS):
            raise DataError(f"slice: {len(df)} usable quotes, need at least {len(HESTON_PARAMS)} for 5 parameters")
        start = self._start(bounds, df)
        self.start_ = start
        t = df["t"].to_numpy(dtype=float)
        days = _days(t)
        t_ql = days / 365.0
        F = df["forward"].to_numpy(dtype=float)
        K = df["strike"].to_numpy(dtype=float)
        m = K / F
        iv_mkt = df["mid_iv"].to_numpy(dtype=float)
        iv_ql = iv_mkt * np.sqrt(t / t_ql)

        with _ql_today() as (ql, today):
            model = _unit_model(ql, today, start)
            engine = ql.AnalyticHestonEngine(model, int(self.integration_order))
            zero = _flat(ql, today)
            quotes, helpers = [], []
            for mi, di, vi in zip(m, days, iv_ql, strict=True):
                q = ql.SimpleQuote(float(vi))
                h = ql.HestonModelHelper(ql.Period(int(di), ql.Days), ql.NullCalendar(), 1.0, float(mi),
                                         ql.QuoteHandle(q), zero, zero, ql.BlackCalibrationHelper.ImpliedVolError)  # fmt: skip
                h.setPricingEngine(engine)
                quotes.append(q)
                helpers.append(h)
            lo = ql.Array([bounds[n][0] for n in _QL_ORDER])
            hi = ql.Array([bounds[n][1] for n in _QL_ORDER])
            lm = ql.LevenbergMarquardt(1e-10, 1e-10, 1e-10)
            end = ql.EndCriteria(self.max_iterations, 100, 1e-10, 1e-10, 1e-10)
            model.calibrate(helpers, lm, end, ql.NonhomogeneousBoundaryConstraint(lo, hi))
            vals = dict(zip(_QL_ORDER, (float(x) for x in model.params()), strict=True))
            crit = int(model.endCriteria())
            names = {int(getattr(ql.EndCriteria, n)): n for n in dir(ql.EndCriteria)
                     if n[0].isupper() and isinstance(getattr(ql.EndCriteria, n), int)}  # fmt: skip
            model_px = np.array([h.modelValue() for h in helpers])

        for n in HESTON_PARAMS:
            setattr(self, f"{n}_", vals[n])
        self.end_criteria_ = names.get(crit, str(crit))
        flag = np.where(m >= 1.0, "c", "p")  # QuantLib's helpers price the out-of-the-money side
        iv_model_ql = implied_vol(model_px, flag, 1.0, m, t_ql, 0.0, model="black76").iv
        iv_model = iv_model_ql * np.sqrt(t_ql / t)
        err = iv_model - iv_mkt
        res = pd.DataFrame({
            "t": t, "days": days, "strike": K, "forward": F, "moneyness": m,
            "mid_iv": iv_mkt, "model_iv": iv_model, "error": err,
        })  # fmt: skip
        if {"bid_iv", "ask_iv"} <= set(df.columns):
            res["in_spread"] = (iv_model >= df["bid_iv"].to_numpy(dtype=float) - 1e-12) & (
                iv_model <= df["ask_iv"].to_numpy(dtype=float) + 1e-12
            )
        self.residuals_ = res
        ok = np.isfinite(err)
        self.n_points_ = int(len(err))
        self.rmse_ = float(np.sqrt(np.mean(err[ok] ** 2))) if ok.all() else math.nan
        self.max_abs_error_ = float(np.max(np.abs(err[ok]))) if ok.any() else math.nan
        self.feller_ratio_ = 2.0 * vals["kappa"] * vals["theta"] / vals["sigma"] ** 2
        self.feller_ = bool(self.feller_ratio_ > 1.0)
        at = []
        for n in HESTON_PARAMS:
            lo, hi = bounds[n]
            tol = 1e-3 * (hi - lo)
            if vals[n] - lo <= tol or hi - vals[n] <= tol:
                at.append(n)
        self.at_bound_ = tuple(at)
        self.bounds_ = bounds
        self._curve = res.groupby("t")["forward"].median()
        return self

    # ------------------------------------------------------------------ use
    @property
    def params_(self) -> dict[str, float]:
        """Fitted parameters by name."""
        self._check()
        return {n: getattr(self, f"{n}_") for n in HESTON_PARAMS}

    def _check(self) -> None:
        if not hasattr(self, "residuals_"):
            raise ConfigError("HestonCalibration: call fit() first")

    def _t_forward(self, t, forward):
        ts = self._curve.index.to_numpy(dtype=float)
        if t is None:
            if len(ts) != 1:
                raise ConfigError(f"t: required, the fit spans {len(ts)} expiries")
            t = ts[0]
        t = np.asarray(t, dtype=float)
        if forward is None:  # log-linear interpolation of the fitted forwards, flat beyond them
            forward = np.exp(np.interp(t, ts, np.log(self._curve.to_numpy(dtype=float))))
        return t, np.asarray(forward, dtype=float)

    def price(self, strike, t=None, right="c", forward=None, rate: float = 0.0):
        """Model prices of European options (QuantLib ``AnalyticHestonEngine``).

        Parameters
        ----------
        strike : float or array-like
        t : float or array-like, optional
            Years to expiry (ACT/365F); default the fitted slice's (one-slice fits).
        right : str or array-like
            ``'c'``/``'p'``.
        forward : float or array-like, optional
            Default: the fitted slices' forwards, log-linear in ``t`` between them.
        rate : float
            Discount rate: the price is ``exp(-rate t) F C(1, K/F)``.
        """
        self._check()
        t, F = self._t_forward(t, forward)
        K = np.asarray(strike, dtype=float)
        t_b, F_b, K_b, r_b = np.broadcast_arrays(t, F, K, np.asarray(right))
        if (F_b <= 0).any() or (K_b <= 0).any():
            raise ConfigError("strike, forward: Heston needs positive strikes and forwards")
        unit = heston_price_ql(self.params_, K_b / F_b, _days(t_b), r_b, self.integration_order)
        out = np.exp(-float(rate) * t_b) * F_b * unit
        return out[()] if out.ndim == 0 else out

    def iv(self, strike, t=None, forward=None):
        """Model Black-76 implied vols (total variance kept across the whole-day rounding)."""
        self._check()
        t, F = self._t_forward(t, forward)
        K = np.asarray(strike, dtype=float)
        t_b, F_b, K_b = np.broadcast_arrays(t, F, K)
        flag = np.where(K_b >= F_b, "c", "p")
        px = self.price(K_b, t_b, flag, F_b)
        out = implied_vol(px, flag, F_b, K_b, t_b, 0.0, model="black76").iv
        return out[()] if np.ndim(out) == 0 else out

    def summary(self) -> pd.Series:
        """Parameters, Feller ratio, fit errors (vol points) and the stopping reason."""
        self._check()
        return pd.Series({
            **self.params_, "feller_ratio": self.feller_ratio_, "feller": self.feller_,
            "at_bound": ",".join(self.at_bound_), "n_points": self.n_points_,
            "rmse_vol_pts": 100 * self.rmse_, "max_abs_error_vol_pts": 100 * self.max_abs_error_,
            "end_criteria": self.end_criteria_,
        })  # fmt: skip

    def to_frame(self) -> pd.DataFrame:
        """Per-quote market and model vols (``residuals_``)."""
        self._check()
        return self.residuals_.copy()

    def plot(self, ax=None):
        """Market mid vols and the Heston smile per expiry against ``ln(K/F)`` (matplotlib)."""
        import matplotlib.pyplot as plt

        self._check()
        if ax is None:
            _, ax = plt.subplots()
        for t, g in self.residuals_.groupby("t"):
            k = np.log(g["moneyness"].to_numpy())
            line = ax.plot(k, g["mid_iv"], ".", label=f"mid, t={t:.3f}")[0]
            ax.plot(k, g["model_iv"], "-", color=line.get_color(), label=f"Heston, t={t:.3f}")
        ax.set_xlabel("log-moneyness ln(K/F)")
        ax.set_ylabel("implied vol")
        ax.legend(fontsize=7)
        return ax
