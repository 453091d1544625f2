"""What a live adapter needs to know of the contract it trades: tick, lot, value and fees."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mmlab.data import Instrument
from mmlab.errors import ConfigError

__all__ = ["ContractSpec", "as_spec"]


@dataclass(frozen=True, slots=True)
class ContractSpec:
    """The contract terms a venue adapter turns wire records into orders and fills with.

    Parameters
    ----------
    tick, lot : float
        Price increment (a request's price is ``price_tick x tick``) and quantity increment.
    multiplier : float
        Units of underlying per contract (USD face value for inverse contracts).
    inverse : bool
        Inverse contract: a contract's value at price ``p`` is ``-multiplier / p`` (in the coin),
        else ``multiplier x p`` (the core's ``value``, :mod:`mmlab.backtest.core.primitives`).
    maker_fee, taker_fee : float
        Fee rates (fractions of ``|qty x value(price)|``, as the core's fee model), used when the
        venue does not report a fee in ``settle_ccy``.
    fee_per_contract : float
        A fixed fee per contract traded (added to the rate's).
    settle_ccy : str
        The currency fills' cash is in; a fee the venue reports in another currency (or when
        this is empty) is replaced by the modelled one.

    Examples
    --------
    >>> s = ContractSpec(tick=0.1, lot=0.001)
    >>> s.price(599_999), s.amount(0.0120000001)
    (59999.9, 0.012)
    >>> ContractSpec(tick=0.5, lot=1, multiplier=100, inverse=True).value(50_000.0)
    -0.002
    """

    tick: float
    lot: float
    multiplier: float = 1.0
    inverse: bool = False
    maker_fee: float = 0.0
    taker_fee: float = 0.0
    fee_per_contract: float = 0.0
    settle_ccy: str = ""

    def __post_init__(self) -> None:
        for name in ("tick", "lot", "multiplier"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (
                    math.isfinite(v) and v > 0):
                raise ConfigError(f"{name}: expected a finite number > 0, got {v!r}")
        for name in ("maker_fee", "taker_fee", "fee_per_contract"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ConfigError(f"{name}: expected a finite number, got {v!r}")
        if not isinstance(self.inverse, bool):
            raise ConfigError(f"inverse: expected a bool, got {self.inverse!r}")

    @classmethod
    def from_instrument(cls, inst: Instrument) -> ContractSpec:
        """The terms of an instrument-master entry (its fee schedule's notional rates)."""
        f = inst.fees
        if f.basis != "notional" or f.premium_cap is not None:
            raise ConfigError(f"instrument {inst.key}: a live adapter models notional fees only "
                              f"(basis={f.basis!r}, premium_cap={f.premium_cap!r})")
        return cls(tick=float(inst.tick_size), lot=float(inst.lot_size),
                   multiplier=float(inst.multiplier), inverse=bool(inst.inverse),
                   maker_fee=f.maker_bps / 1e4, taker_fee=f.taker_bps / 1e4,
                   fee_per_contract=f.taker_fixed, settle_ccy=inst.settle_ccy)

    def price(self, price_tick: int) -> float:
        """``price_tick x tick``, exact in decimal (no ``59999.900000000001``)."""
        return float(Decimal(int(price_tick)) * Decimal(repr(float(self.tick))))

    def amount(self, qty: float) -> float:
        """``qty`` on the lot grid (the nearest multiple of ``lot``; 0 below half a lot)."""
        n = round(float(qty) / self.lot)
        return float(Decimal(n) * Decimal(repr(float(self.lot))))

    def value(self, price: float) -> float:
        """One contract's value at ``price`` (the core's ``value``)."""
        return -self.multiplier / price if self.inverse else self.multiplier * price

    def fee(self, price: float, qty: float, maker: bool) -> float:
        """The modelled fee of a fill (the core's: ``rate x |qty x value| + fixed x qty``)."""
        rate = self.maker_fee if maker else self.taker_fee
        return rate * abs(qty * self.value(price)) + self.fee_per_contract * qty

    def cash(self, side: int, qty: float, price: float, fee: float) -> float:
        """What a fill moves cash by: ``-side x qty x value(price) - fee``."""
        return -side * qty * self.value(price) - fee


def as_spec(spec: Any) -> ContractSpec:
    """A :class:`ContractSpec` from itself or an :class:`~mmlab.data.Instrument`."""
    if isinstance(spec, ContractSpec):
        return spec
    if isinstance(spec, Instrument):
        return ContractSpec.from_instrument(spec)
    raise ConfigError("spec: expected a ContractSpec (tick, lot, ...) or an mmlab.data "
                      f"Instrument, got {type(spec).__name__}")
