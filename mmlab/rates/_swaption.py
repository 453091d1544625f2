"""European swaptions on a :class:`~mmlab.rates.Curve` under Black (lognormal) and Bachelier (normal).

A payer swaption is a call on the forward swap rate ``S`` of the underlying swap starting
``settlement_days`` after expiry; with the annuity ``A = sum tau_i P(pay_i)`` as numeraire::

    payer    = N A Black76('c', S, K, T, r=0, sigma)      or   N A Bachelier('c', S, K, T, 0, sigma_n)
    receiver = the same with 'p'

``T`` is Act/365F years from the curve date to expiry, ``r = 0`` because the annuity already
discounts (the pricers are :func:`mmlab.pricing.black76_price` and
:func:`mmlab.pricing.bachelier_price`). :meth:`Swaption.quantlib_price` prices the same contract
with QuantLib's ``BlackSwaptionEngine`` / ``BachelierSwaptionEngine`` as a cross-check.
"""

from __future__ import annotations

import numpy as np
import QuantLib as ql

from mmlab.errors import ConfigError
from mmlab.pricing import bachelier_price, black76_price
from mmlab.rates._conventions import (
    _TENOR,
    Conventions,
    evaluation_date,
    from_ql_date,
    parse_tenor,
    to_ql_date,
)
from mmlab.rates._curve import Curve
from mmlab.rates._swap import Swap

__all__ = ["Swaption"]

_MODELS = ("black", "bachelier")


class Swaption:
    """European swaption on a fixed-vs-SOFR swap (physical settlement).

    Parameters
    ----------
    curve : Curve
    expiry : str or date-like
        ``'1Y'`` (from the curve date, rolled on the calendar) or an expiry date.
    tenor : str
        Length of the underlying swap, which starts ``settlement_days`` business days after expiry.
    strike : float, optional
        Fixed rate; default at the money (the forward swap rate).
    notional : float, default 1,000,000
    payer : bool, default True
        Right to pay fixed (a call on the swap rate).

    Attributes
    ----------
    expiry_date : pandas.Timestamp
    t : float
        Act/365F years to expiry.
    underlying : Swap
    forward, annuity, strike : float
        Forward swap rate, annuity (per unit notional), strike.

    Examples
    --------
    >>> from mmlab.rates import swap_curve
    >>> sw = Swaption(swap_curve("2023-10-19"), "1Y", "5Y")  # 1Y x 5Y ATM payer
    >>> round(sw.price(0.20, "black"), 2), round(sw.price(0.0090, "bachelier"), 2)
    (14780.94, 15232.42)
    """

    def __init__(self, curve: Curve, expiry, tenor, strike=None, *, notional=1_000_000.0, payer: bool = True):
        if not isinstance(curve, Curve):
            raise ConfigError(f"curve must be a Curve, got {type(curve).__name__}")
        conv = curve.conventions if isinstance(curve.conventions, Conventions) else Conventions()
        cal = conv.ql_calendar()
        qd = to_ql_date(curve.date, "date")
        if isinstance(expiry, str) and _TENOR.match(expiry):
            qe = cal.advance(qd, parse_tenor(expiry, "expiry"), conv.ql_roll())
        else:
            qe = cal.adjust(to_ql_date(expiry, "expiry"), ql.Following)
        self.expiry_date = from_ql_date(qe)
        if self.expiry_date <= curve.date:
            raise ConfigError(f"expiry: {self.expiry_date.date()} is not after the curve date {curve.date.date()}")
        if not isinstance(payer, bool):
            raise ConfigError(f"payer must be a bool, got {payer!r}")
        self.curve = curve
        self.payer = payer
        self.t = float((self.expiry_date - curve.date).days) / 365.0
        start = from_ql_date(cal.advance(qe, conv.settlement_days, ql.Days))
        self.underlying = Swap(curve, tenor, strike, notional=notional, payer=payer, start=start)
        self.forward = self.underlying.par_rate
        self.annuity = self.underlying.annuity
        self.strike = self.underlying.fixed_rate
        self.notional = self.underlying.notional

    def _model(self, model: str) -> str:
        if model not in _MODELS:
            raise ConfigError(f"model must be one of {list(_MODELS)}, got {model!r}")
        return model

    def price(self, vol, model: str = "black"):
        """Premium (currency units) for a lognormal (``'black'``) or normal (``'bachelier'``)
        volatility ``vol`` (decimal; e.g. 0.20 = 20 %, or 0.0090 = 90 bp a year).

        ``vol`` may be an array; the result broadcasts. Black needs a positive forward and strike
        (:class:`~mmlab.errors.ConfigError` otherwise).
        """
        flag = "c" if self.payer else "p"
        scale = self.notional * self.annuity
        if self._model(model) == "black":
            v = black76_price(flag, self.forward, self.strike, self.t, 0.0, vol)
        else:
            v = bachelier_price(flag, self.forward, self.strike, self.t, 0.0, vol)
        return scale * v if np.ndim(v) else float(scale * v)

    def quantlib_price(self, vol: float, model: str = "black") -> float:
        """The same premium from QuantLib's ``BlackSwaptionEngine`` / ``BachelierSwaptionEngine``
        (flat volatility, Act/365F, discount-curve annuity): an independent implementation."""
        model = self._model(model)
        if isinstance(vol, bool) or not isinstance(vol, (int, float, np.floating)) or not vol > 0:
            raise ConfigError(f"vol must be a positive number, got {vol!r}")
        curve = self.curve
        with evaluation_date(to_ql_date(curve.date, "date")):
            swap = self.underlying._ql_swap(curve, self.strike)
            opt = ql.Swaption(swap, ql.EuropeanExercise(to_ql_date(self.expiry_date, "expiry")))
            q = ql.QuoteHandle(ql.SimpleQuote(float(vol)))
            if model == "black":
                eng = ql.BlackSwaptionEngine(curve.handle(), q, ql.Actual365Fixed())
            else:
                eng = ql.BachelierSwaptionEngine(curve.handle(), q, ql.Actual365Fixed())
            opt.setPricingEngine(eng)
            return float(opt.NPV())

    def summary(self) -> str:
        """Dates, forward, strike and annuity."""
        side = "payer" if self.payer else "receiver"
        u = self.underlying
        return (f"{side} swaption on {self.curve.name} {self.curve.date.date()}: expiry {self.expiry_date.date()} "
                f"(t={self.t:.4f}) into {u.tenor} ({u.start.date()} -> {u.end.date()}); forward {self.forward:.6%}, "
                f"strike {self.strike:.6%}, annuity {self.annuity:.6f}, notional {self.notional:,.0f}")

    def __repr__(self) -> str:
        return (f"Swaption({'payer' if self.payer else 'receiver'}, expiry={self.expiry_date.date()}, "
                f"tenor={self.underlying.tenor}, strike={self.strike:.6f})")
