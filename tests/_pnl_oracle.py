"""A test oracle for the PnL split: the account's definitions written out plainly, apart from
the trading core (``mmlab/backtest/core/primitives.py``), to replay a run's marks, fills and
funding through and compare.

Definitions (value coordinate ``x(p) = m p``, or ``-m / p`` for an inverse contract):
spread = sum over fills of ``side x qty x (x(mark) - x(price))`` at the mark in force (the
fill's mid when given, else the last mark, else its own price); inventory = sum over marks of
``position x (x(new mark) - x(previous mark))``; fees = ``rate x |qty x x(price)| + per contract
x qty`` (or a given fee function); funding = ``-rate x position x |x(mark)|``; total = spread +
inventory - fees + funding.
"""

from __future__ import annotations

import math


class PnLOracle:
    """Replay marks, fills and funding; :meth:`parts` is the split (fees negative when paid)."""

    def __init__(self, multiplier=1.0, inverse=False, maker_fee=0.0, taker_fee=0.0,
                 fee_per_contract=0.0, fee=None):
        self.m, self.inverse = float(multiplier), bool(inverse)
        self.maker_fee, self.taker_fee, self.per_contract = maker_fee, taker_fee, fee_per_contract
        self.fee = fee  # fee(price, qty, maker) -> fee, replacing the rates
        self.position = self.spread = self.inventory = self.fees = self.funding = 0.0
        self.last = math.nan

    def x(self, p):
        return -self.m / p if self.inverse else self.m * p

    def mark(self, mid):
        if math.isfinite(self.last):
            self.inventory += self.position * (self.x(mid) - self.x(self.last))
        self.last = mid

    def fill(self, side, qty, price, *, maker, mid=None):
        if mid is not None:
            self.mark(mid)
        if not math.isfinite(self.last):
            self.mark(price)
        if self.fee is not None:
            fee = self.fee(price, qty, maker)
        else:
            fee = ((self.maker_fee if maker else self.taker_fee) * abs(qty * self.x(price))
                   + self.per_contract * qty)
        self.spread += side * qty * (self.x(self.last) - self.x(price))
        self.position += side * qty
        self.fees += fee

    def fund(self, rate, mark):
        self.funding += -rate * self.position * abs(self.x(mark))

    def parts(self):
        p = {"spread": self.spread, "inventory": self.inventory, "fees": -self.fees,
             "funding": self.funding}
        p["total"] = sum(p.values())
        return p
