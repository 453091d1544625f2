"""Black-Scholes-Merton prices and Greeks (continuous dividend yield), vectorised with numba.

Notes
-----
With forward ``F = S exp((r - q) t)``, ``d1 = (ln(S/K) + (r - q + sigma^2/2) t) / (sigma sqrt(t))``,
``d2 = d1 - sigma sqrt(t)`` and ``theta = +1`` (call) / ``-1`` (put) (Merton 1973; Haug 2007, ch. 1):

    V = theta (S e^{-qt} N(theta d1) - K e^{-rt} N(theta d2))

Greeks follow by differentiation (Haug 2007, sec. 2.1-2.3).  At zero volatility-time
``sigma sqrt(t) = 0`` the limits are used: the discounted forward intrinsic value, delta a step
(1/2 exactly at the forward), gamma 0 (``inf`` exactly at the forward).

The Black-76 model is the special case ``q = r`` with ``S`` the futures price, which is how
:mod:`mmlab.pricing._black76` reuses this kernel.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mmlab.errors import ConfigError
from mmlab.pricing._greeks import Greeks
from mmlab.pricing._inputs import as_flags, broadcast_inputs, flag_scalar, reshape_output, scalars
from mmlab.pricing._normal import norm_cdf, norm_pdf

__all__ = ["bsm_greeks", "bsm_greeks_kernel", "bsm_greeks_python", "bsm_price"]

_SQRT_2PI_INV = 0.3989422804014327

# argument codes returned by the kernels' validation (index into _ARG_RULES)
_ARG_RULES = ("", "must be > 0", "must be > 0", "must be >= 0 (years)", "must be >= 0")


@njit(cache=True, error_model="numpy")
def _bsm_one(th, S, K, t, r, q, sig, want):
    """Price and (if ``want``) Greeks of one option; returns a 9-tuple in GREEK_NAMES order."""
    dq = math.exp(-q * t)
    dr = math.exp(-r * t)
    sqt = math.sqrt(t)
    v = sig * sqt
    nan = math.nan
    if v > 0.0:
        d1 = (math.log(S / K) + (r - q) * t) / v + 0.5 * v
        d2 = d1 - v
        nd1 = norm_cdf(th * d1)
        nd2 = norm_cdf(th * d2)
        price = th * (S * dq * nd1 - K * dr * nd2)
        if not want:
            return price, nan, nan, nan, nan, nan, nan, nan, nan
        pd1 = norm_pdf(d1)
        delta = th * dq * nd1
        gamma = dq * pd1 / (S * v)
        vega = S * dq * pd1 * sqt
        theta = -S * dq * pd1 * sig / (2.0 * sqt) + th * (q * S * dq * nd1 - r * K * dr * nd2)
        rho = th * K * t * dr * nd2
        drho = -th * S * t * dq * nd1
        vanna = -dq * pd1 * d2 / sig
        volga = vega * d1 * d2 / sig
        return price, delta, gamma, vega, theta, rho, drho, vanna, volga
    # zero volatility-time: limits
    F = S * math.exp((r - q) * t)
    m = th * (F - K)
    if m > 0.0:
        ind = 1.0
    elif m < 0.0:
        ind = 0.0
    elif m == 0.0:
        ind = 0.5
    else:  # NaN input
        ind = nan
    price = th * (S * dq - K * dr) * ind if ind != 0.5 else 0.0
    if not want:
        return price, nan, nan, nan, nan, nan, nan, nan, nan
    delta = th * dq * ind
    atm = F == K
    gamma = math.inf if atm else 0.0
    vega = S * dq * _SQRT_2PI_INV * sqt if atm else 0.0
    term1 = -math.inf if (atm and t == 0.0 and sig > 0.0) else 0.0
    theta = term1 + th * (q * S * dq * ind - r * K * dr * ind)
    rho = th * K * t * dr * ind
    drho = -th * S * t * dq * ind
    vanna = dq * _SQRT_2PI_INV * sqt * 0.5 if atm else 0.0
    volga = 0.0
    return price, delta, gamma, vega, theta, rho, drho, vanna, volga


def bsm_greeks_python(flag, S, K, t, r, q, sigma, want, out):
    """Loop over the options: the plain Python twin of :func:`bsm_greeks_kernel`.

    Each argument is a 1-D float64 array of length 1 (broadcast) or n; ``out`` is (9, n) when
    ``want`` is true, else (1, n).  Returns ``(code, index)`` of the first invalid argument
    (``code`` 0 when all are valid; NaNs pass through to NaN outputs).
    """
    n = out.shape[1]
    sf = 1 if flag.shape[0] > 1 else 0
    sS = 1 if S.shape[0] > 1 else 0
    sK = 1 if K.shape[0] > 1 else 0
    st = 1 if t.shape[0] > 1 else 0
    sr = 1 if r.shape[0] > 1 else 0
    sq = 1 if q.shape[0] > 1 else 0
    sv = 1 if sigma.shape[0] > 1 else 0
    for i in range(n):
        s_ = S[i * sS]
        k_ = K[i * sK]
        t_ = t[i * st]
        v_ = sigma[i * sv]
        if s_ <= 0.0:
            return 1, i
        if k_ <= 0.0:
            return 2, i
        if t_ < 0.0:
            return 3, i
        if v_ < 0.0:
            return 4, i
        res = _bsm_one(flag[i * sf], s_, k_, t_, r[i * sr], q[i * sq], v_, want)
        if want:
            for j in range(9):
                out[j, i] = res[j]
        else:
            out[0, i] = res[0]
    return 0, -1


bsm_greeks_kernel = njit(cache=True, error_model="numpy")(bsm_greeks_python)


_F64 = np.float64
_FAST_FLAGS = {"c": 1.0, "p": -1.0, "C": 1.0, "P": -1.0, "call": 1.0, "put": -1.0}
_FAST_TYPES = (float, int, np.float64)


def _one_fast(flag, S, K, t, r, q, sigma, want, invalid):
    """Lean path for one valid option: the kernel's 9-tuple, or None for the general path.

    Taken only when ``flag`` is a plain ``'c'``/``'p'`` string, every number is a plain scalar
    and S, K > 0, t, sigma >= 0 (NaNs, bad values and ``invalid='nan'`` go the general way, which
    raises or masks exactly as before); the result is the same kernel call as :func:`_run`'s.
    """
    if type(flag) is not str or invalid != "raise":
        return None
    th = _FAST_FLAGS.get(flag)
    if th is None:
        return None
    ty = _FAST_TYPES
    if not (type(S) in ty and type(K) in ty and type(t) in ty and type(r) in ty and type(q) in ty
            and type(sigma) in ty):  # fmt: skip
        return None
    if not (S > 0.0 and K > 0.0 and t >= 0.0 and sigma >= 0.0):
        return None
    return _bsm_one(th, float(S), float(K), float(t), float(r), float(q), float(sigma), want)


def _check_invalid(invalid):
    if invalid not in ("raise", "nan"):
        raise ConfigError(f"invalid: expected 'raise' or 'nan', got {invalid!r}")


def _mask_invalid(arrs, rules, n):
    """For ``invalid='nan'``: mask of bad elements; bad inputs replaced by 1.0 in ``arrs``.

    ``rules`` holds ``(position in arrs, strict)``: strict means the value must be > 0, else
    >= 0.
    """
    bad = np.zeros(n, dtype=bool)
    for pos, strict in rules:
        a = arrs[pos]
        b = (a <= 0.0) if strict else (a < 0.0)
        if b.any():
            bad |= b
            arrs[pos] = np.where(b, 1.0, a)
    return bad


def _run(flag, S, K, t, r, q, sigma, want, names=("S", "K", "t", "sigma"), invalid="raise"):
    """Validate, broadcast and run the kernel; ``names`` label S, K, t, sigma in errors.

    ``invalid='nan'`` turns elements with an invalid S, K, t or sigma into NaN outputs instead
    of raising.
    """
    _check_invalid(invalid)
    th = flag_scalar(flag)
    if th is not None and scalars(S, K, t, r, q, sigma):
        # single option: call the scalar kernel directly (no array dispatch)
        for code, v in ((1, S), (2, K), (3, t), (4, sigma)):
            if (v <= 0.0 if code <= 2 else v < 0.0):
                if invalid == "nan":
                    return (), (math.nan,) * 9
                raise ConfigError(f"{names[code - 1]} {_ARG_RULES[code]} (element 0 is {v!r})")
        res = _bsm_one(th, float(S), float(K), float(t), float(r), float(q), float(sigma), want)
        return (), res
    fl = as_flags(flag)
    shape, arrs = broadcast_inputs(flag=fl, S=S, K=K, t=t, r=r, q=q, sigma=sigma)
    n = int(np.prod(shape))
    bad = None
    if invalid == "nan":
        bad = _mask_invalid(arrs, ((1, True), (2, True), (3, False), (6, False)), n)
    out = np.empty((9 if want else 1, n))
    code, idx = bsm_greeks_kernel(*arrs, want, out)
    if code:
        name = names[code - 1]
        arr = arrs[code]
        val = arr[idx if arr.shape[0] > 1 else 0]
        raise ConfigError(f"{name} {_ARG_RULES[code]} (element {idx} is {val!r})")
    if bad is not None and bad.any():
        out[:, bad] = np.nan
    return shape, out


def _values(out, shape):
    """Kernel output (a 9-tuple for one option, else a (k, n) array) -> k shaped values."""
    if shape == () and isinstance(out, tuple):
        return [np.float64(v) for v in out]
    return [reshape_output(out[j], shape) for j in range(out.shape[0])]


def bsm_price(flag, S, K, t, r, sigma, q=0.0, *, invalid="raise"):
    """Black-Scholes-Merton price of European options with a continuous dividend yield.

    Parameters
    ----------
    flag : str or array-like
        ``'c'`` or ``'p'`` per option.
    S : float or array-like
        Spot price (> 0).
    K : float or array-like
        Strike (> 0).
    t : float or array-like
        Time to expiry in years (>= 0; see :func:`year_fraction` for the ACT/365F day count).
    r : float or array-like
        Continuously compounded risk-free rate.
    sigma : float or array-like
        Black-Scholes volatility (>= 0), per sqrt(year).
    q : float or array-like, default 0
        Continuous dividend yield (or foreign rate, or borrow cost).
    invalid : {'raise', 'nan'}, default 'raise'
        What an element with S or K <= 0, t < 0 or sigma < 0 does: raise ``ConfigError``, or
        give NaN outputs (e.g. the already-expired rows of a chain snapshot).  NaN inputs always
        give NaN outputs.

    Returns
    -------
    numpy.ndarray or numpy.float64
        Prices with the broadcast shape of the arguments.

    Raises
    ------
    ConfigError
        Bad flag, shapes that do not broadcast, S or K <= 0, t < 0, sigma < 0 (unless
        ``invalid='nan'``).

    Notes
    -----
    ``t = 0`` or ``sigma = 0`` give the discounted intrinsic value of the forward.

    Examples
    --------
    Hull, *Options, Futures and Other Derivatives* (8th ed.), Example 15.6:

    >>> [round(float(v), 2) for v in bsm_price(["c", "p"], 42.0, 40.0, 0.5, 0.1, 0.2)]
    [4.76, 0.81]
    """
    res = _one_fast(flag, S, K, t, r, q, sigma, False, invalid)
    if res is not None:
        return _F64(res[0])
    shape, out = _run(flag, S, K, t, r, q, sigma, False, ("S", "K", "t", "sigma"), invalid)
    return _values(out, shape)[0]


def bsm_greeks(flag, S, K, t, r, sigma, q=0.0, *, invalid="raise") -> Greeks:
    """Black-Scholes-Merton price and Greeks (analytic).

    Parameters are those of :func:`bsm_price`.

    Returns
    -------
    Greeks
        ``price, delta, gamma, vega, theta, rho, dividend_rho, vanna, volga``: vega per 1.00 of
        vol, theta per year (``-dV/dt``), rho per 1.00 of rate with q fixed, dividend_rho = dV/dq.

    Examples
    --------
    >>> g = bsm_greeks("p", 100.0, 95.0, 0.5, 0.1, 0.2, q=0.05)
    >>> round(float(g.price), 4), round(float(g.delta), 4)
    (2.4648, -0.2642)
    """
    res = _one_fast(flag, S, K, t, r, q, sigma, True, invalid)
    if res is not None:
        return Greeks("bsm", *map(_F64, res))
    shape, out = _run(flag, S, K, t, r, q, sigma, True, ("S", "K", "t", "sigma"), invalid)
    return Greeks("bsm", *_values(out, shape))
