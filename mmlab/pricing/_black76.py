"""Black-76: European options on futures and forwards (lognormal forward).

Notes
-----
``V = e^{-rt} theta (F N(theta d1) - K N(theta d2))``, ``d1 = ln(F/K)/(sigma sqrt t) + sigma sqrt(t)/2``
(Black 1976; Haug 2007, sec. 1.1.2).  It is Black-Scholes-Merton with ``S = F`` and ``q = r``, so
it reuses that kernel; rho is taken with the *forward held fixed*, ``rho = -t V``.  Black-76 needs
``F > 0`` and ``K > 0``: for zero or negative forwards (WTI in April 2020, rates) use Bachelier.
"""

from __future__ import annotations

import numpy as np

from mmlab.pricing._black_scholes import _F64, _one_fast, _run, _values
from mmlab.pricing._greeks import Greeks

__all__ = ["black76_greeks", "black76_price"]

_NAMES = ("F", "K", "t", "sigma")


def black76_price(flag, F, K, t, r, sigma, *, invalid="raise"):
    """Black-76 price of European options on a futures or forward price.

    Parameters
    ----------
    flag : str or array-like
        ``'c'`` or ``'p'``.
    F : float or array-like
        Futures/forward price (> 0).
    K : float or array-like
        Strike (> 0).
    t : float or array-like
        Time to expiry in years (>= 0, ACT/365F, see :func:`year_fraction`).
    r : float or array-like
        Continuously compounded discount rate to the premium payment date.
    sigma : float or array-like
        Lognormal volatility (>= 0).
    invalid : {'raise', 'nan'}, default 'raise'
        Elements with F or K <= 0, t < 0 or sigma < 0: raise ``ConfigError`` or give NaN.

    Returns
    -------
    numpy.ndarray or numpy.float64

    Raises
    ------
    ConfigError
        Bad flag or shapes, F or K <= 0 (use :func:`bachelier_price`), t < 0, sigma < 0.

    Examples
    --------
    Haug, *The Complete Guide to Option Pricing Formulas* (2nd ed.), sec. 1.1.2 example:

    >>> [round(float(v), 4) for v in black76_price(["c", "p"], 19.0, 19.0, 0.75, 0.1, 0.28)]
    [1.7011, 1.7011]
    """
    res = _one_fast(flag, F, K, t, r, r, sigma, False, invalid)
    if res is not None:
        return _F64(res[0])
    shape, out = _run(flag, F, K, t, r, r, sigma, False, _NAMES, invalid)
    return _values(out, shape)[0]


def black76_greeks(flag, F, K, t, r, sigma, *, invalid="raise") -> Greeks:
    """Black-76 price and Greeks with respect to the forward.

    Parameters are those of :func:`black76_price`.

    Returns
    -------
    Greeks
        delta = dV/dF, gamma = d2V/dF2, vega per 1.00 vol, theta per year, rho = -t V (forward
        fixed), dividend_rho NaN, vanna, volga.

    Examples
    --------
    >>> g = black76_greeks("c", 19.0, 19.0, 0.75, 0.1, 0.28)
    >>> round(float(g.rho), 6) == round(-0.75 * float(g.price), 6)
    True
    """
    res = _one_fast(flag, F, K, t, r, r, sigma, True, invalid)
    if res is not None:
        vals = [_F64(v) for v in res]
    else:
        shape, out = _run(flag, F, K, t, r, r, sigma, True, _NAMES, invalid)
        vals = _values(out, shape)
    with np.errstate(invalid="ignore"):  # inf - inf at absurd inputs is NaN, as it should be
        vals[5] = vals[5] + vals[6]  # d/dr with q = r tied: forward fixed, only discounting moves
    vals[6] = vals[6] * np.nan
    return Greeks("black76", *vals)
