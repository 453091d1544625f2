"""Vanilla fixed-vs-SOFR swap on a :class:`~mmlab.rates.Curve`: NPV, par rate, annuity, DV01.

The swap follows the curve's :class:`~mmlab.rates.Conventions` (the defaults if the curve is a
Treasury curve): fixed leg at ``fixed_frequency`` and ``day_count``, floating leg compounded SOFR
(Act/360) at the same frequency, accrual dates from ``start`` stepped back from ``start + tenor``
(``roll`` on the calendar), each payment ``payment_lag`` business days after its accrual end.
Single curve: SOFR is projected and discounted on the same curve, so the value of a floating
coupon is ``(P(s) / P(e) - 1) P(pay)``.

Formulas (per unit notional, payer = pay fixed ``K``)::

    annuity  A   = sum_i tau_i P(pay_i)                      (tau: fixed-leg accrual)
    float    F   = sum_j (P(s_j) / P(e_j) - 1) P(pay_j)
    par rate S   = F / A
    NPV          = N (F - K A)  for the payer,  -N (F - K A) for the receiver
    DV01 (analytic, "PV01")   = N A 1e-4  (payer; the value change if S moves by 1 bp)
    DV01 (bump-and-reprice)   = [NPV(quotes + 1 bp) - NPV(quotes - 1 bp)] / 2, each on a curve
                                re-bootstrapped from the bumped input quotes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import QuantLib as ql

from mmlab.errors import ConfigError
from mmlab.rates._conventions import (
    Conventions,
    evaluation_date,
    from_ql_date,
    parse_tenor,
    to_ql_date,
    to_timestamp,
)
from mmlab.rates._curve import Curve

__all__ = ["Swap"]

_BP = 1e-4


def _positive_number(value, name: str) -> float:
    number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not number or not np.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value!r}")
    return float(value)


class Swap:
    """A spot- or forward-starting fixed-vs-compounded-SOFR swap priced on ``curve``.

    Parameters
    ----------
    curve : Curve
        Discount and projection curve.
    tenor : str
        Length from ``start``: ``'2Y'``, ``'18M'``...
    fixed_rate : float, optional
        Fixed rate (decimal). Default: the par rate (the swap is then worth zero).
    notional : float, default 1,000,000
    payer : bool, default True
        True: pay fixed, receive SOFR (gains when rates rise).
    start : date-like, optional
        Accrual start. Default: the curve date's spot date (``settlement_days`` business days).

    Attributes
    ----------
    start, end : pandas.Timestamp
        First and last accrual dates (``end`` rolled on the calendar).
    fixed_rate : float

    Examples
    --------
    >>> from mmlab.rates import swap_curve
    >>> c = swap_curve("2023-10-19")
    >>> s = Swap(c, "10Y")            # at par: the 10Y quote
    >>> round(s.par_rate, 10), abs(s.npv) < 1e-6
    (0.0457, True)
    >>> round(Swap(c, "10Y", 0.04).npv, 2)   # pay 4 % where par is 4.57 %
    45337.87
    """

    def __init__(self, curve: Curve, tenor, fixed_rate=None, *, notional=1_000_000.0, payer: bool = True,
                 start=None):
        if not isinstance(curve, Curve):
            raise ConfigError(f"curve must be a Curve, got {type(curve).__name__}")
        self.curve = curve
        self.conventions = curve.conventions if isinstance(curve.conventions, Conventions) else Conventions()
        self.tenor = str(tenor)
        self._period = parse_tenor(tenor, "tenor")
        self.notional = _positive_number(notional, "notional")
        if not isinstance(payer, bool):
            raise ConfigError(f"payer must be a bool, got {payer!r}")
        self.payer = payer
        conv = self.conventions
        cal = conv.ql_calendar()
        if start is None:
            qs = to_ql_date(conv.spot_date(curve.date), "start")
        else:
            st = to_timestamp(start, "start")
            if st < curve.date:
                raise ConfigError(f"start: {st.date()} is before the curve date {curve.date.date()}")
            qs = cal.adjust(to_ql_date(st, "start"), conv.ql_roll())
        self._schedule = ql.Schedule(qs, qs + self._period, ql.Period(conv.ql_frequency()), cal, conv.ql_roll(),
                                     conv.ql_roll(), ql.DateGeneration.Backward, False)
        self.start = from_ql_date(self._schedule.startDate())
        self.end = from_ql_date(self._schedule.endDate())
        if self.end > curve.max_date:
            raise ConfigError(f"tenor: the swap ends {self.end.date()}, beyond the curve's last pillar "
                              f"{curve.max_date.date()}")
        if fixed_rate is None:
            self.fixed_rate = self._par_rate_on(curve)
        else:
            if isinstance(fixed_rate, bool) or not isinstance(fixed_rate, (int, float, np.floating)) \
                    or not np.isfinite(fixed_rate) or abs(float(fixed_rate)) >= 1.0:
                raise ConfigError(f"fixed_rate must be a finite decimal rate, got {fixed_rate!r}")
            self.fixed_rate = float(fixed_rate)

    # ------------------------------------------------------------------ QuantLib
    def _ql_swap(self, curve: Curve, rate: float) -> ql.OvernightIndexedSwap:
        conv = self.conventions
        kind = ql.Swap.Payer if self.payer else ql.Swap.Receiver
        swap = ql.OvernightIndexedSwap(kind, self.notional, self._schedule, rate, conv.ql_day_count(),
                                       ql.Sofr(curve.handle()), 0.0, conv.payment_lag, ql.Following,
                                       conv.ql_calendar())
        swap.setPricingEngine(ql.DiscountingSwapEngine(curve.handle()))
        return swap

    def _par_rate_on(self, curve: Curve) -> float:
        with evaluation_date(to_ql_date(curve.date, "date")):
            return float(self._ql_swap(curve, 0.0).fairRate())

    def npv_on(self, curve: Curve) -> float:
        """NPV of this swap (same dates and fixed rate) on another curve, e.g. a bumped one."""
        if not isinstance(curve, Curve):
            raise ConfigError(f"curve must be a Curve, got {type(curve).__name__}")
        with evaluation_date(to_ql_date(curve.date, "date")):
            return float(self._ql_swap(curve, self.fixed_rate).NPV())

    # ------------------------------------------------------------------ results
    @property
    def npv(self) -> float:
        """Net present value on :attr:`curve` (currency units)."""
        return self.npv_on(self.curve)

    @property
    def par_rate(self) -> float:
        """Fixed rate that makes the swap worth zero."""
        return self._par_rate_on(self.curve)

    @property
    def annuity(self) -> float:
        """``sum tau_i P(pay_i)`` over the fixed leg, per unit notional (years)."""
        with evaluation_date(to_ql_date(self.curve.date, "date")):
            bps = self._ql_swap(self.curve, self.fixed_rate).fixedLegBPS()
        return abs(float(bps)) / (self.notional * _BP)

    def dv01(self, method: str = "annuity", bp: float = 1.0) -> float:
        """Value change for a +1 bp move of rates (positive for a payer).

        Parameters
        ----------
        method : {'annuity', 'bump'}
            ``'annuity'``: ``+-N A 1e-4`` (the par rate moving 1 bp). ``'bump'``: central
            difference of the NPV on curves re-bootstrapped with every input quote moved by
            ``+-bp`` basis points, divided by ``2 bp``.
        bp : float, default 1.0
            Bump size in basis points (``'bump'`` only).

        Notes
        -----
        The two agree when the curve's instruments share the swap's conventions: on the SOFR
        curve par swaps match to about 1e-4 relative (exactly at pillars, where a 1 bp quote bump
        is a 1 bp par-rate move). On a Treasury curve a 1 bp move of semi-annual (bond-basis) par
        yields moves an annual Act/360 swap rate by about ``(1 + y/2) * 360/365``, i.e. 1.008 bp,
        so the bump DV01 comes out about 0.8 % larger than the annuity DV01.

        Examples
        --------
        >>> from mmlab.rates import swap_curve
        >>> s = Swap(swap_curve("2023-10-19"), "5Y")
        >>> a, b = s.dv01("annuity"), s.dv01("bump")
        >>> round(a, 2), abs(b / a - 1) < 0.01
        (441.5, True)
        """
        if method == "annuity":
            return (1.0 if self.payer else -1.0) * self.notional * self.annuity * _BP
        if method != "bump":
            raise ConfigError(f"method must be 'annuity' or 'bump', got {method!r}")
        step = _positive_number(bp, "bp")
        up = self.npv_on(self.curve.bumped(step))
        down = self.npv_on(self.curve.bumped(-step))
        return (up - down) / (2.0 * step)

    def cashflows(self) -> pd.DataFrame:
        """Both legs: ``leg, accrual_start, accrual_end, payment, accrual, rate, amount, discount, pv``
        (amounts signed from the holder's side: the payer pays the fixed leg)."""
        rows = []
        with evaluation_date(to_ql_date(self.curve.date, "date")):
            sw = self._ql_swap(self.curve, self.fixed_rate)
            for leg_no, leg_name in ((0, "fixed"), (1, "float")):
                sign = -1.0 if sw.payer(leg_no) else 1.0
                for cf in sw.leg(leg_no):
                    cp = ql.as_coupon(cf)
                    pay = from_ql_date(cf.date())
                    df = float(self.curve.discount(pay))
                    amt = sign * float(cf.amount())
                    rows.append({
                        "leg": leg_name, "accrual_start": from_ql_date(cp.accrualStartDate()),
                        "accrual_end": from_ql_date(cp.accrualEndDate()), "payment": pay,
                        "accrual": float(cp.accrualPeriod()), "rate": float(cp.rate()), "amount": amt,
                        "discount": df, "pv": amt * df,
                    })
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """Same as :meth:`cashflows`."""
        return self.cashflows()

    def summary(self) -> str:
        """One line per figure: dates, rates, NPV, annuity and both DV01s."""
        side = "payer" if self.payer else "receiver"
        return "\n".join([
            f"{self.tenor} {side} swap on {self.curve.name} {self.curve.date.date()}: "
            f"{self.start.date()} -> {self.end.date()}, notional {self.notional:,.0f}",
            f"  fixed {self.fixed_rate:.6%}  par {self.par_rate:.6%}  NPV {self.npv:,.2f}",
            f"  annuity {self.annuity:.6f}  DV01 analytic {self.dv01('annuity'):,.2f}  bump {self.dv01('bump'):,.2f}",
        ])

    def __repr__(self) -> str:
        return (f"Swap({self.tenor}, {'payer' if self.payer else 'receiver'}, fixed={self.fixed_rate:.6f}, "
                f"{self.start.date()} -> {self.end.date()})")
