"""American options through QuantLib: BAW, Bjerksund-Stensland, CRR binomial, finite differences.

Notes
-----
QuantLib measures time between *dates*.  To price with an exact year fraction ``t`` (minutes
matter for short-dated options) each option is priced on an equivalent problem over a fixed
horizon ``T_REF = 10`` years (3650 days, Actual/365F): with ``k = T_REF / t`` the Black-Scholes
PDE with early exercise is unchanged under ``tau -> k tau``, ``sigma -> sigma / sqrt(k)``,
``r -> r / k``, ``q -> q / k``, so prices (and spot Greeks) are identical, for every engine.
Discrete dividends at year fractions ``t_i`` land on day ``round(3650 t_i / t)`` of that horizon
(an error below 0.00014 of the option's life).

Engines (QuantLib 1.44):

* ``"baw"``: ``BaroneAdesiWhaleyApproximationEngine`` (Barone-Adesi & Whaley 1987),
* ``"bjs"``: ``BjerksundStenslandApproximationEngine`` (Bjerksund & Stensland 2002),
* ``"crr"``: ``BinomialVanillaEngine(process, "crr", steps)`` (Cox-Ross-Rubinstein, continuous
  yield ``q``),
* ``"fd"``: ``FdBlackScholesVanillaEngine`` (Crank-Nicolson/Douglas), the only one taking a
  schedule of discrete cash dividends (spot model: the spot drops by the amount on the
  ex-date).

Greeks: delta and gamma from the engine where it gives them (``crr``, ``fd``), otherwise, and for
vega, theta, rho, dividend rho, vanna and volga, by central bump-and-reprice (steps in
:data:`BUMPS`).
"""

from __future__ import annotations

import math

import numpy as np

from mmlab.errors import ConfigError
from mmlab.pricing._greeks import Greeks
from mmlab.pricing._implied_vol import ImpliedVolResult, IVCode
from mmlab.pricing._inputs import as_flags, broadcast_inputs, reshape_output

__all__ = ["AMERICAN_METHODS", "BUMPS", "american_greeks", "american_implied_vol", "american_price"]

AMERICAN_METHODS = ("baw", "bjs", "crr", "fd")
T_REF_DAYS = 3650
BUMPS = {"S": 1e-3, "sigma": 1e-3, "t": 1e-4, "r": 1e-4, "q": 1e-4}
"""Bump sizes: S relative (x S), sigma/r/q absolute, t relative (x t)."""

_REF_YMD = (1, 1, 2001)  # QuantLib evaluation date of the equivalent problem (any date works)


def _quantlib():
    """Import QuantLib on first use (keeps ``import mmlab.pricing`` light)."""
    import QuantLib

    return QuantLib


def _check_method(method, dividends, steps, grid):
    if method not in AMERICAN_METHODS:
        raise ConfigError(f"method: expected one of {AMERICAN_METHODS}, got {method!r}")
    if dividends and method != "fd":
        raise ConfigError("dividends: discrete dividends are supported by method='fd' only")
    if int(steps) < 10:
        raise ConfigError(f"steps must be >= 10, got {steps!r}")
    if len(grid) != 2 or min(grid) < 10:
        raise ConfigError(f"grid must be (time steps, space points) both >= 10, got {grid!r}")


def _dividends(dividends):
    out = []
    for item in dividends or ():
        try:
            td, amount = float(item[0]), float(item[1])
        except (TypeError, ValueError, IndexError):
            raise ConfigError(f"dividends: expected (t_ex_years, amount) pairs, got {item!r}") from None
        if not td > 0.0:
            raise ConfigError(f"dividends: ex-date must be in the future (t > 0), got {td!r}")
        if not amount >= 0.0:
            raise ConfigError(f"dividends: amount must be >= 0, got {amount!r}")
        out.append((td, amount))
    return out


def _price_one(th, S, K, t, r, q, sig, method, divs, steps, grid, want_spot_greeks=False):
    """Price (and engine delta/gamma or None) of one American option.

    QuantLib's global evaluation date is set for the computation and restored afterwards, so
    callers' curves and instruments are not disturbed.
    """
    if t == 0.0:
        return max(th * (S - K), 0.0), None, None
    ql = _quantlib()
    settings = ql.Settings.instance()
    previous = settings.evaluationDate
    ref = ql.Date(*_REF_YMD)
    settings.evaluationDate = ref
    try:
        return _price_on_ref_date(ql, ref, th, S, K, t, r, q, sig, method, divs, steps, grid,
                                  want_spot_greeks)
    finally:
        settings.evaluationDate = previous


def _price_on_ref_date(ql, ref, th, S, K, t, r, q, sig, method, divs, steps, grid,
                       want_spot_greeks):
    dc = ql.Actual365Fixed()
    k = T_REF_DAYS / 365.0 / t
    maturity = ref + T_REF_DAYS
    spot = ql.QuoteHandle(ql.SimpleQuote(S))
    rts = ql.YieldTermStructureHandle(ql.FlatForward(ref, r / k, dc))
    qts = ql.YieldTermStructureHandle(ql.FlatForward(ref, q / k, dc))
    vts = ql.BlackVolTermStructureHandle(
        ql.BlackConstantVol(ref, ql.NullCalendar(), sig / math.sqrt(k), dc)
    )
    proc = ql.BlackScholesMertonProcess(spot, qts, rts, vts)
    typ = ql.Option.Call if th > 0 else ql.Option.Put
    opt = ql.VanillaOption(ql.PlainVanillaPayoff(typ, K), ql.AmericanExercise(ref, maturity))
    if method == "baw":
        eng = ql.BaroneAdesiWhaleyApproximationEngine(proc)
    elif method == "bjs":
        eng = ql.BjerksundStenslandApproximationEngine(proc)
    elif method == "crr":
        eng = ql.BinomialVanillaEngine(proc, "crr", int(steps))
    else:
        sched = []
        for td, amount in divs:
            if td < t:
                day = max(1, round(T_REF_DAYS * td / t))
                if day < T_REF_DAYS:
                    sched.append(ql.FixedDividend(amount, ref + day))
        eng = ql.FdBlackScholesVanillaEngine(proc, ql.DividendSchedule(sched), int(grid[0]),
                                             int(grid[1]))
    opt.setPricingEngine(eng)
    value = opt.NPV()
    delta = gamma = None
    if want_spot_greeks and method in ("crr", "fd"):
        delta, gamma = opt.delta(), opt.gamma()
    return value, delta, gamma


def _loop(flag, S, K, t, r, sigma, q, method, dividends, steps, grid):
    _check_method(method, dividends, steps, grid)
    divs = _dividends(dividends)
    fl = as_flags(flag)
    shape, arrs = broadcast_inputs(flag=fl, S=S, K=K, t=t, r=r, q=q, sigma=sigma)
    n = int(np.prod(shape))
    names = ("flag", "S", "K", "t", "r", "q", "sigma")
    rules = {"S": lambda v: v > 0, "K": lambda v: v > 0, "t": lambda v: v >= 0,
             "sigma": lambda v: v > 0}
    for name, a in zip(names, arrs, strict=True):
        if name in rules:
            bad = ~rules[name](a)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                limit = ">= 0" if name == "t" else "> 0"
                raise ConfigError(f"{name} must be {limit} (element {i} is {a[i]!r})")
    rows = [tuple(float(a[i if a.shape[0] > 1 else 0]) for a in arrs) for i in range(n)]
    return shape, rows, divs


def american_price(flag, S, K, t, r, sigma, q=0.0, method="baw", *, dividends=None,
                   steps=801, grid=(200, 400)):
    """Price American options with a QuantLib engine.

    Parameters
    ----------
    flag, S, K, t, r, sigma, q : float or array-like
        As in :func:`bsm_price` (broadcast); ``sigma`` must be > 0.
    method : {'baw', 'bjs', 'crr', 'fd'}
        Barone-Adesi-Whaley, Bjerksund-Stensland (2002), CRR binomial tree, finite differences.
    dividends : sequence of (t_ex, amount), optional
        Discrete cash dividends, ex-dates as year fractions from now (ACT/365F, e.g.
        ``year_fraction(now, ex_date)``); ``method='fd'`` only.  Those after expiry are ignored.
    steps : int
        Tree steps for ``'crr'``.
    grid : (int, int)
        Time steps and spot points for ``'fd'``.

    Returns
    -------
    numpy.ndarray or numpy.float64

    Raises
    ------
    ConfigError
        Unknown method, dividends with a method other than 'fd', bad flag/shape/domain.

    Examples
    --------
    An American call on a non-dividend stock is worth the European call:

    >>> from mmlab.pricing import bsm_price
    >>> a = american_price("c", 100.0, 100.0, 0.5, 0.05, 0.2, method="baw")
    >>> round(float(a), 6) == round(float(bsm_price("c", 100.0, 100.0, 0.5, 0.05, 0.2)), 6)
    True
    """
    shape, rows, divs = _loop(flag, S, K, t, r, sigma, q, method, dividends, steps, grid)
    out = np.array([_price_one(*row, method, divs, steps, grid)[0] for row in rows])
    return reshape_output(out, shape)


def american_greeks(flag, S, K, t, r, sigma, q=0.0, method="baw", *, dividends=None,
                    steps=801, grid=(200, 400)) -> Greeks:
    """American price and Greeks (engine delta/gamma where available, else bump-and-reprice).

    Parameters are those of :func:`american_price`.  Units as in :class:`Greeks` (vega per 1.00
    vol, theta per year, rho per 1.00 rate with q and the dividend cash amounts fixed).

    Examples
    --------
    >>> g = american_greeks("p", 100.0, 100.0, 0.5, 0.05, 0.2, method="bjs")
    >>> bool(-1.0 < g.delta < 0.0 and g.gamma > 0.0 and g.vega > 0.0)
    True
    """
    shape, rows, divs = _loop(flag, S, K, t, r, sigma, q, method, dividends, steps, grid)
    out = np.empty((9, len(rows)))

    def P(th, S_, K_, t_, r_, q_, s_, shift=0.0):
        # shift: move expiry and every ex-date by the same time (the passage of time, for theta)
        d = [(td + shift, a) for td, a in divs if td + shift > 0.0]
        return _price_one(th, S_, K_, t_ + shift, r_, q_, s_, method, d, steps, grid)[0]

    for i, (th, S_, K_, t_, r_, q_, s_) in enumerate(rows):
        v, delta, gamma = _price_one(th, S_, K_, t_, r_, q_, s_, method, divs, steps, grid, True)
        hS = BUMPS["S"] * S_
        if delta is None:
            up, dn = P(th, S_ + hS, K_, t_, r_, q_, s_), P(th, S_ - hS, K_, t_, r_, q_, s_)
            delta = (up - dn) / (2 * hS)
            gamma = (up - 2 * v + dn) / (hS * hS)
        hv = BUMPS["sigma"]
        vu, vd = P(th, S_, K_, t_, r_, q_, s_ + hv), P(th, S_, K_, t_, r_, q_, max(s_ - hv, 1e-8))
        vega = (vu - vd) / (2 * hv)
        volga = (vu - 2 * v + vd) / (hv * hv)
        ht = BUMPS["t"] * t_
        if t_ > 0:
            up = P(th, S_, K_, t_, r_, q_, s_, ht)
            dn = P(th, S_, K_, t_, r_, q_, s_, -ht)
            theta = -(up - dn) / (2 * ht)
        else:
            theta = math.nan
        hr = BUMPS["r"]
        rho = (P(th, S_, K_, t_, r_ + hr, q_, s_) - P(th, S_, K_, t_, r_ - hr, q_, s_)) / (2 * hr)
        drho = (P(th, S_, K_, t_, r_, q_ + hr, s_) - P(th, S_, K_, t_, r_, q_ - hr, s_)) / (2 * hr)
        vanna = (
            P(th, S_ + hS, K_, t_, r_, q_, s_ + hv) - P(th, S_ + hS, K_, t_, r_, q_, s_ - hv)
            - P(th, S_ - hS, K_, t_, r_, q_, s_ + hv) + P(th, S_ - hS, K_, t_, r_, q_, s_ - hv)
        ) / (4 * hS * hv)
        out[:, i] = (v, delta, gamma, vega, theta, rho, drho, vanna, volga)
    vals = [reshape_output(out[j], shape) for j in range(9)]
    return Greeks(f"american_{method}", *vals)


def american_implied_vol(price, flag, S, K, t, r, q=0.0, method="baw", *, dividends=None,
                         steps=801, grid=(200, 400), vol_bounds=(1e-3, 5.0),
                         xtol=1e-10) -> ImpliedVolResult:
    """Implied volatility from American option prices (Brent's method on the engine's price).

    Parameters
    ----------
    price : float or array-like
        American option prices.
    flag, S, K, t, r, q, method, dividends, steps, grid
        As in :func:`american_price`.
    vol_bounds : (float, float)
        Search interval; prices outside the engine's prices at these vols get a reason code.
    xtol : float
        Absolute tolerance on the vol.

    Returns
    -------
    ImpliedVolResult
        Codes as :class:`IVCode`: BELOW_INTRINSIC (below immediate exercise value),
        AT_INTRINSIC (below the price at the lowest vol), ABOVE_UPPER_BOUND (call >= S, put >= K,
        or above the price at the highest vol), NONPOSITIVE_TIME, NONPOSITIVE_PRICE,
        INVALID_INPUT (NaN).

    Examples
    --------
    >>> p = american_price("p", 100.0, 110.0, 0.5, 0.05, 0.3, method="bjs")
    >>> iv, code = american_implied_vol(p, "p", 100.0, 110.0, 0.5, 0.05, method="bjs")
    >>> round(float(iv), 8), int(code)
    (0.3, 0)
    """
    from scipy.optimize import brentq

    lo, hi = (float(v) for v in vol_bounds)
    if not 0.0 < lo < hi:
        raise ConfigError(f"vol_bounds must satisfy 0 < low < high, got {vol_bounds!r}")
    _check_method(method, dividends, steps, grid)
    divs = _dividends(dividends)
    fl = as_flags(flag)
    shape, arrs = broadcast_inputs(price=price, flag=fl, S=S, K=K, t=t, r=r, q=q)
    n = int(np.prod(shape))
    iv = np.full(n, np.nan)
    code = np.zeros(n, dtype=np.int8)
    for i in range(n):
        p, th, S_, K_, t_, r_, q_ = (float(a[i if a.shape[0] > 1 else 0]) for a in arrs)
        if any(math.isnan(v) for v in (p, S_, K_, t_, r_, q_)) or S_ <= 0 or K_ <= 0:
            code[i] = IVCode.INVALID_INPUT
            continue
        if t_ <= 0:
            code[i] = IVCode.NONPOSITIVE_TIME
            continue
        if p <= 0:
            code[i] = IVCode.NONPOSITIVE_PRICE
            continue
        intrinsic = max(th * (S_ - K_), 0.0)
        if p < intrinsic:
            code[i] = IVCode.BELOW_INTRINSIC
            continue
        if p == intrinsic:
            code[i] = IVCode.AT_INTRINSIC
            continue
        if p >= (S_ if th > 0 else K_):
            code[i] = IVCode.ABOVE_UPPER_BOUND
            continue

        def f(s, th=th, S_=S_, K_=K_, t_=t_, r_=r_, q_=q_, p=p, intrinsic=intrinsic):
            try:
                return _price_one(th, S_, K_, t_, r_, q_, s, method, divs, steps, grid)[0] - p
            except RuntimeError:
                # QuantLib's approximations (BAW) fail at very low vols far out of the money
                # ("forward + displacement must be positive"); there the American price is the
                # larger of the intrinsic and the European value, which brackets the root the
                # same way.
                from mmlab.pricing._black_scholes import bsm_price

                euro = float(bsm_price("c" if th > 0 else "p", S_, K_, t_, r_, s, q_))
                return max(intrinsic, euro) - p

        f_lo, f_hi = f(lo), f(hi)
        if f_lo >= 0:
            code[i] = IVCode.AT_INTRINSIC
            continue
        if f_hi < 0:
            code[i] = IVCode.ABOVE_UPPER_BOUND
            continue
        try:
            iv[i] = brentq(f, lo, hi, xtol=xtol, rtol=4 * np.finfo(float).eps, maxiter=200)
        except (RuntimeError, ValueError):
            code[i] = IVCode.NOT_CONVERGED
    return ImpliedVolResult(reshape_output(iv, shape), reshape_output(code, shape),
                            f"american_{method}")
