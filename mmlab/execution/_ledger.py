"""Position, balance and PnL accounting for one instrument, with an exact PnL split.

Notes
-----
Every amount is kept in the instrument's settlement currency. Prices enter through the *value
coordinate* :math:`x(p)` of one unit of position:

* linear contracts: :math:`x(p) = m\\,p` (multiplier :math:`m`), PnL in the quote currency;
* inverse (coin-margined) contracts: :math:`x(p) = -m / p`, so a long of :math:`q` contracts
  earns :math:`q\\,m\\,(1/p_0 - 1/p_1)` coins, the coin-margined PnL.

With fills :math:`(s_i, n_i, p_i)` (side :math:`s=\\pm1`, quantity, price), marks :math:`M_t` of the
mid, fees :math:`f` (rebates negative) and funding :math:`F`, the PnL split is

.. math::

    \\text{spread} &= \\sum_i s_i\\, n_i\\,(x(M_{t_i}) - x(p_i)) \\\\
    \\text{inventory} &= \\sum_t q_t\\,(x(M_{t+1}) - x(M_t)) \\\\
    \\text{total} &= \\text{spread} + \\text{inventory} - \\text{fees} + \\text{funding}

and summation by parts gives :math:`\\text{total} = \\text{cash} + q_T\\,x(M_T) - \\text{fees} +
\\text{funding}` exactly, where cash is the signed sum of :math:`-s_i n_i x(p_i)`: the parts add
up to the total by construction (tested to floating-point round-off).

Fees: ``rate x |n x(p)| + per_contract x n``: a maker rate may be negative (a rebate).
Funding (perpetuals): at each funding time a long pays ``rate x |q x(mark)|`` when the rate is
positive (receives when negative), as Binance and Deribit settle it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from mmlab.errors import ConfigError

__all__ = ["Fill", "Ledger"]


@dataclass(frozen=True, slots=True)
class Fill:
    """One fill as the ledger recorded it (amounts in the settlement currency)."""

    ts: int
    side: int
    qty: float
    price: float
    maker: bool
    mid: float
    fee: float
    spread_capture: float
    order_id: int = 0


@dataclass
class Ledger:
    """Accounting for one instrument: position, cash, fees, funding and the PnL split.

    Parameters
    ----------
    multiplier : float
        Contract multiplier (units of underlying or of quote currency per contract).
    inverse : bool
        True for coin-margined contracts (PnL in coin).
    maker_fee, taker_fee : float
        Fee rates on traded value (0.0002 = 2 bps); negative maker fee = rebate.
    fee_per_contract : float
        Fixed fee per contract traded (e.g. listed options), in the settlement currency.
    symbol : str
        For display.
    fee_model : callable, optional
        ``fee_model(price, qty, maker) -> fee`` replacing the rate-based fee (e.g. an instrument
        master's ``Instrument.fee``: Deribit option fees on the underlying, capped by premium).

    Examples
    --------
    >>> led = Ledger(maker_fee=-0.0001)          # a 1 bp maker rebate
    >>> led.mark(100.0, ts=0)
    >>> _ = led.on_fill(+1, 2.0, 99.9, maker=True, ts=1)   # bought 2 at 99.9, mid 100
    >>> led.mark(100.5, ts=2)
    >>> p = led.pnl_parts()
    >>> round(p["spread"], 6), round(p["inventory"], 6), round(p["fees"], 6), round(p["total"], 6)
    (0.2, 1.0, 0.01998, 1.21998)
    """

    multiplier: float = 1.0
    inverse: bool = False
    maker_fee: float = 0.0
    taker_fee: float = 0.0
    fee_per_contract: float = 0.0
    symbol: str = ""
    fee_model: Callable[[float, float, bool], float] | None = field(default=None, repr=False)
    position: float = field(default=0.0, init=False)
    cash: float = field(default=0.0, init=False)
    fees: float = field(default=0.0, init=False)
    funding: float = field(default=0.0, init=False)
    spread: float = field(default=0.0, init=False)
    inventory: float = field(default=0.0, init=False)
    volume: float = field(default=0.0, init=False)
    last_mid: float = field(default=math.nan, init=False)
    last_ts: int = field(default=0, init=False)
    fills: list[Fill] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.multiplier) and self.multiplier > 0):
            raise ConfigError(f"multiplier: must be finite and > 0, got {self.multiplier!r}")
        for name in ("maker_fee", "taker_fee", "fee_per_contract"):
            if not math.isfinite(getattr(self, name)):
                raise ConfigError(f"{name}: must be finite, got {getattr(self, name)!r}")
        if self.taker_fee < 0:
            raise ConfigError(f"taker_fee: must be >= 0, got {self.taker_fee!r}")

    @classmethod
    def from_instrument(cls, instrument, **overrides) -> Ledger:
        """A ledger configured from an instrument-master entry (:class:`mmlab.data.Instrument`).

        ``inverse`` is the instrument's ``inverse_pnl`` (coin-settled contracts quoted in USD, whose
        PnL is ``q m (1/p0 - 1/p1)``; options *premium-quoted* in the coin are linear in their
        premium), and fees come from the instrument's own ``fee(price, qty, maker=...)``.
        Keyword overrides win.
        """
        kw: dict = {}
        for name in ("multiplier", "symbol"):
            if hasattr(instrument, name):
                kw[name] = getattr(instrument, name)
        kw["inverse"] = bool(getattr(instrument, "inverse_pnl", getattr(instrument, "inverse", False)))
        if hasattr(instrument, "fee"):
            fee = instrument.fee
            kw["fee_model"] = lambda price, qty, maker: fee(price, qty, maker=maker)
        else:
            for name in ("maker_fee", "taker_fee", "fee_per_contract"):
                if hasattr(instrument, name):
                    kw[name] = getattr(instrument, name)
        kw.update(overrides)
        return cls(**kw)

    # ------------------------------------------------------------------ value coordinate
    def value(self, price: float) -> float:
        """Value coordinate x(p) of one contract at ``price`` (see the module notes)."""
        if self.inverse:
            if not price > 0:
                raise ConfigError(f"price: an inverse contract needs a price > 0, got {price!r}")
            return -self.multiplier / price
        return self.multiplier * price

    # ------------------------------------------------------------------ events
    def mark(self, mid: float, ts: int = 0) -> None:
        """Mark the position to a new mid; the move accrues to inventory PnL."""
        if not math.isfinite(mid):
            raise ConfigError(f"mid: must be finite, got {mid!r}")
        x_new = self.value(mid)
        if math.isfinite(self.last_mid):
            self.inventory += self.position * (x_new - self.value(self.last_mid))
        self.last_mid = mid
        self.last_ts = int(ts)

    def on_fill(self, side: int, qty: float, price: float, *, maker: bool, ts: int = 0,
                mid: float | None = None, order_id: int = 0) -> Fill:
        """Book a fill. ``mid`` (if given) marks the ledger first; otherwise the last mark is used."""
        if side not in (1, -1):
            raise ConfigError(f"side: must be +1 or -1, got {side!r}")
        if not (math.isfinite(qty) and qty > 0):
            raise ConfigError(f"qty: must be finite and > 0, got {qty!r}")
        if not math.isfinite(price):
            raise ConfigError(f"price: must be finite, got {price!r}")
        if mid is not None:
            self.mark(mid, ts)
        if not math.isfinite(self.last_mid):
            self.mark(price, ts)  # first event ever: the fill price is the only mark there is
        x_px = self.value(price)
        x_mid = self.value(self.last_mid)
        if self.fee_model is not None:
            fee = float(self.fee_model(price, qty, maker))
        else:
            rate = self.maker_fee if maker else self.taker_fee
            fee = rate * abs(qty * x_px) + self.fee_per_contract * qty
        capture = side * qty * (x_mid - x_px)
        self.position += side * qty
        self.cash -= side * qty * x_px
        self.fees += fee
        self.spread += capture
        self.volume += abs(qty * x_px)
        f = Fill(int(ts), side, float(qty), float(price), bool(maker), self.last_mid, fee, capture,
                 order_id)
        self.fills.append(f)
        return f

    def on_funding(self, rate: float, mark_price: float, ts: int = 0) -> float:
        """Settle a perpetual funding payment; returns the amount received (negative = paid)."""
        if not (math.isfinite(rate) and math.isfinite(mark_price)):
            raise ConfigError("rate, mark_price: must be finite")
        amount = -rate * self.position * abs(self.value(mark_price))
        self.funding += amount
        return amount

    # ------------------------------------------------------------------ results
    @property
    def balance(self) -> float:
        """Cash account: signed fill cash flows minus fees plus funding (value coordinate)."""
        return self.cash - self.fees + self.funding

    @property
    def equity(self) -> float:
        """Balance plus the position valued at the last mark: the run's PnL from a flat start."""
        mark = self.value(self.last_mid) if math.isfinite(self.last_mid) else 0.0
        return self.balance + self.position * mark

    def pnl_parts(self) -> dict[str, float]:
        """The PnL split: ``spread``, ``inventory``, ``fees`` (as a negative number when paid),
        ``funding`` and ``total`` (= their sum = :attr:`equity`)."""
        total = self.spread + self.inventory - self.fees + self.funding
        return {
            "spread": self.spread,
            "inventory": self.inventory,
            "fees": -self.fees,
            "funding": self.funding,
            "total": total,
        }
