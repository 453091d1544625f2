"""Bachelier (normal) model: options on a forward that may be zero or negative.

Notes
-----
With normal volatility ``sigma_n`` (price units per sqrt(year)), ``s = sigma_n sqrt(t)`` and
``d = (F - K) / s`` (Bachelier 1900; Haug 2007, sec. 1.1.5 / Schachermayer & Teichmann 2008):

    V = e^{-rt} (theta (F - K) N(theta d) + s n(d))

Greeks (forward fixed): delta = e^{-rt} theta N(theta d), gamma = e^{-rt} n(d) / s,
vega = e^{-rt} sqrt(t) n(d), theta = -e^{-rt} sigma_n n(d) / (2 sqrt t) + r V, rho = -t V,
vanna = -e^{-rt} n(d) d / sigma_n, volga = vega d^2 / sigma_n.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mmlab.errors import ConfigError
from mmlab.pricing._black_scholes import _check_invalid, _mask_invalid, _values
from mmlab.pricing._greeks import Greeks
from mmlab.pricing._inputs import as_flags, broadcast_inputs, flag_scalar, scalars
from mmlab.pricing._normal import norm_cdf, norm_pdf

__all__ = ["bachelier_greeks", "bachelier_greeks_kernel", "bachelier_greeks_python", "bachelier_price"]

_SQRT_2PI_INV = 0.3989422804014327


@njit(cache=True, error_model="numpy")
def _bachelier_one(th, F, K, t, r, sig, want):
    df = math.exp(-r * t)
    sqt = math.sqrt(t)
    s = sig * sqt
    nan = math.nan
    m = F - K
    if s > 0.0:
        d = m / s
        nd = norm_cdf(th * d)
        pd_ = norm_pdf(d)
        price = df * (th * m * nd + s * pd_)
        if not want:
            return price, nan, nan, nan, nan, nan, nan, nan, nan
        delta = df * th * nd
        gamma = df * pd_ / s
        vega = df * sqt * pd_
        theta = -df * sig * pd_ / (2.0 * sqt) + r * price
        rho = -t * price
        vanna = -df * pd_ * d / sig
        volga = vega * d * d / sig
        return price, delta, gamma, vega, theta, rho, nan, vanna, volga
    if th * m > 0.0:
        ind = 1.0
    elif th * m < 0.0:
        ind = 0.0
    elif m == 0.0:
        ind = 0.5
    else:
        ind = nan
    price = df * th * m * ind if m != 0.0 else 0.0
    if not want:
        return price, nan, nan, nan, nan, nan, nan, nan, nan
    atm = m == 0.0
    delta = df * th * ind
    gamma = math.inf if atm else 0.0
    vega = df * sqt * _SQRT_2PI_INV if atm else 0.0
    term1 = -math.inf if (atm and t == 0.0 and sig > 0.0) else 0.0
    theta = term1 + r * price
    rho = -t * price
    return price, delta, gamma, vega, theta, rho, nan, 0.0, 0.0


def bachelier_greeks_python(flag, F, K, t, r, sigma, want, out):
    """Loop over options (plain Python twin of :func:`bachelier_greeks_kernel`).

    Same layout as :func:`mmlab.pricing._black_scholes.bsm_greeks_python`; returns
    ``(code, index)`` of the first invalid argument (1: t < 0, 2: sigma_n < 0) or ``(0, -1)``.
    """
    n = out.shape[1]
    sf = 1 if flag.shape[0] > 1 else 0
    sF = 1 if F.shape[0] > 1 else 0
    sK = 1 if K.shape[0] > 1 else 0
    st = 1 if t.shape[0] > 1 else 0
    sr = 1 if r.shape[0] > 1 else 0
    sv = 1 if sigma.shape[0] > 1 else 0
    for i in range(n):
        t_ = t[i * st]
        v_ = sigma[i * sv]
        if t_ < 0.0:
            return 1, i
        if v_ < 0.0:
            return 2, i
        res = _bachelier_one(flag[i * sf], F[i * sF], K[i * sK], t_, r[i * sr], v_, want)
        if want:
            for j in range(9):
                out[j, i] = res[j]
        else:
            out[0, i] = res[0]
    return 0, -1


bachelier_greeks_kernel = njit(cache=True, error_model="numpy")(bachelier_greeks_python)


def _run(flag, F, K, t, r, sigma_n, want, invalid="raise"):
    _check_invalid(invalid)
    th = flag_scalar(flag)
    if th is not None and scalars(F, K, t, r, sigma_n):
        for name, v in (("t", t), ("sigma_n", sigma_n)):
            if v < 0.0:
                if invalid == "nan":
                    return (), (math.nan,) * 9
                raise ConfigError(f"{name} must be >= 0 (element 0 is {v!r})")
        res = _bachelier_one(th, float(F), float(K), float(t), float(r), float(sigma_n), want)
        return (), res
    fl = as_flags(flag)
    shape, arrs = broadcast_inputs(flag=fl, F=F, K=K, t=t, r=r, sigma_n=sigma_n)
    n = int(np.prod(shape))
    bad = _mask_invalid(arrs, ((3, False), (5, False)), n) if invalid == "nan" else None
    out = np.empty((9 if want else 1, n))
    code, idx = bachelier_greeks_kernel(*arrs, want, out)
    if code:
        name, arr = (("t", arrs[3]), ("sigma_n", arrs[5]))[code - 1]
        val = arr[idx if arr.shape[0] > 1 else 0]
        raise ConfigError(f"{name} must be >= 0 (element {idx} is {val!r})")
    if bad is not None and bad.any():
        out[:, bad] = np.nan
    return shape, out


def bachelier_price(flag, F, K, t, r, sigma_n, *, invalid="raise"):
    """Bachelier (normal-model) price of European options on a forward.

    Parameters
    ----------
    flag : str or array-like
        ``'c'`` or ``'p'``.
    F, K : float or array-like
        Forward and strike; any sign (zero and negative forwards are fine).
    t : float or array-like
        Time to expiry in years (>= 0, ACT/365F).
    r : float or array-like
        Continuously compounded discount rate.
    sigma_n : float or array-like
        Normal volatility in price units per sqrt(year) (>= 0); e.g. 0.0080 = 80 bp/yr for rates.
    invalid : {'raise', 'nan'}, default 'raise'
        Elements with t < 0 or sigma_n < 0: raise ``ConfigError`` or give NaN outputs.

    Returns
    -------
    numpy.ndarray or numpy.float64

    Raises
    ------
    ConfigError
        Bad flag or shapes, t < 0, sigma_n < 0.

    Examples
    --------
    A WTI-style negative forward (April 2020) prices fine:

    >>> round(float(bachelier_price("p", -5.0, 10.0, 0.1, 0.0, 20.0)), 4)
    15.0187
    """
    shape, out = _run(flag, F, K, t, r, sigma_n, False, invalid)
    return _values(out, shape)[0]


def bachelier_greeks(flag, F, K, t, r, sigma_n, *, invalid="raise") -> Greeks:
    """Bachelier price and Greeks with respect to the forward (vega per 1.00 of sigma_n).

    Parameters are those of :func:`bachelier_price`.

    Returns
    -------
    Greeks
        delta = dV/dF, gamma = d2V/dF2, vega per 1.00 of ``sigma_n``, theta per year, rho =
        -t V (forward fixed), dividend_rho NaN, vanna, volga.

    Examples
    --------
    >>> g = bachelier_greeks("c", 0.0, 0.0, 1.0, 0.0, 0.01)
    >>> round(float(g.price), 6), float(g.delta)
    (0.003989, 0.5)
    """
    shape, out = _run(flag, F, K, t, r, sigma_n, True, invalid)
    return Greeks("bachelier", *_values(out, shape))
