"""European options on a chosen CL contract month: Black-76 (F > 0) and Bachelier (any F).

The underlying is the contract's settle on the curve's date; time runs ACT/365F from that settle
instant (14:30 New York) to the option's expiry, by default the futures' own expiry instant
(:func:`mmlab.data.cl_expiry`). Listed NYMEX options (LO) stop trading a few business days before
their future: pass ``expiry`` to price one of those.

Black-76 is a lognormal model and is undefined for ``F <= 0``: like
:func:`mmlab.pricing.black76_price` it then raises :class:`~mmlab.errors.ConfigError` (or, with
``invalid='nan'``, gives NaN). Bachelier's normal model prices any sign of ``F`` and ``K``; its
volatility is in USD/bbl per square-root year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmlab.commodities._curve import FuturesCurve
from mmlab.errors import ConfigError
from mmlab.pricing import bachelier_price, black76_price, to_ns, year_fraction

__all__ = ["FUTURES_OPTION_MODELS", "futures_option_price"]

FUTURES_OPTION_MODELS = ("bachelier", "black76")


def futures_option_price(
    curve: FuturesCurve,
    contract: str | int,
    strike,
    right,
    vol,
    *,
    model: str = "black76",
    rate: float = 0.0,
    expiry=None,
    invalid: str = "raise",
):
    """Price European options on one contract month of a futures curve.

    Parameters
    ----------
    curve : FuturesCurve
        From :func:`futures_curve`.
    contract : str or int
        Contract code (``'CLZ23'``) or rank (1 = front).
    strike : float or array-like
        Strikes in USD/bbl (may be negative for Bachelier).
    right : str or array-like
        ``'c'``/``'p'``.
    vol : float or array-like
        Lognormal vol (decimal) for Black-76; normal vol (USD/bbl per sqrt year) for Bachelier.
    model : {'black76', 'bachelier'}
    rate : float
        Continuously compounded discount rate to the premium date.
    expiry : str or Timestamp, optional
        Option expiry instant (UTC if naive); default the future's expiry, 14:30 New York on its
        last trading day. Must not be after the future's expiry nor before the settle.
    invalid : {'raise', 'nan'}
        What Black-76 does with ``F <= 0`` or ``K <= 0``: raise ``ConfigError`` or give NaN.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        Price per barrel (times the contract multiplier, 1,000 bbl, for a contract's premium).

    Raises
    ------
    ConfigError
        Unknown model or contract; Black-76 with ``F <= 0`` (message names the contract, date and
        settle and points to Bachelier); expiry out of range.

    Examples
    --------
    >>> from mmlab.commodities import futures_curve
    >>> c = futures_curve("2020-04-20")
    >>> round(float(futures_option_price(c, "CLK20", -37.63, "c", 50.0, model="bachelier")), 4)
    1.0441
    >>> futures_option_price(c, "CLK20", 10.0, "c", 0.8)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: black76: CLK20 settled at -37.63 on 2020-04-20; ...
    """
    if model not in FUTURES_OPTION_MODELS:
        raise ConfigError(f"model: expected one of {FUTURES_OPTION_MODELS}, got {model!r}")
    if invalid not in ("raise", "nan"):
        raise ConfigError(f"invalid: expected 'raise' or 'nan', got {invalid!r}")
    row = curve.row(contract)
    F = float(row["settle"])
    fut_exp = pd.Timestamp(row["expiry"])
    val = int(curve.valuation.value)
    exp_ns = int(fut_exp.value) if expiry is None else int(to_ns(expiry, "expiry"))
    if exp_ns > int(fut_exp.value):
        raise ConfigError(f"expiry: {pd.Timestamp(exp_ns, tz='UTC')} is after {row.name}'s expiry {fut_exp}")
    if exp_ns < val:
        raise ConfigError(f"expiry: {pd.Timestamp(exp_ns, tz='UTC')} is before the settle {curve.valuation}")
    t = float(year_fraction(val, exp_ns))
    if model == "bachelier":
        return bachelier_price(right, F, strike, t, rate, vol)
    if F <= 0.0:
        if invalid == "nan":
            shape = np.broadcast_shapes(np.shape(strike), np.shape(right), np.shape(vol))
            return np.float64(np.nan) if shape == () else np.full(shape, np.nan)
        raise ConfigError(
            f"black76: {row.name} settled at {F} on {curve.date.date()}; the lognormal model needs F > 0 "
            "(use model='bachelier' for zero or negative futures prices)"
        )
    return black76_price(right, F, strike, t, rate, vol, invalid=invalid)
