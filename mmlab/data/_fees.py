"""Trading fees of an instrument: :class:`FeeSchedule`.

Fees are positive when paid, negative when received (rebates), in the settlement currency; a
rate in basis points of the traded notional (or of the underlying amount), a fixed amount per
contract, and an optional cap as a fraction of the premium (options).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mmlab.errors import ConfigError

__all__ = ["FeeSchedule"]


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Trading fees of one instrument, in its settlement currency (positive = paid).

    Parameters
    ----------
    maker_bps, taker_bps : float
        Rate in basis points of traded notional (or of the underlying amount with
        ``basis='underlying'``). A negative maker rate is a rebate.
    maker_fixed, taker_fixed : float
        Fixed amount per contract (share) traded; negative = rebate.
    basis : {'notional', 'underlying'}
        What the bps apply to: the traded notional (``qty * multiplier * price``, in coin
        ``qty * multiplier / price`` for inverse-PnL contracts) or the underlying amount
        ``qty * multiplier`` (Deribit options: 0.03 % of 1 BTC per contract).
    premium_cap : float, optional
        Cap on a positive fee as a fraction of the premium traded (Deribit options: 0.125).
    source : str
        Where the figures come from (tier, date).

    Examples
    --------
    >>> FeeSchedule(maker_bps=-1.0, taker_bps=5.0).maker_rate
    -0.0001
    """

    maker_bps: float = 0.0
    taker_bps: float = 0.0
    maker_fixed: float = 0.0
    taker_fixed: float = 0.0
    basis: str = "notional"
    premium_cap: float | None = None
    source: str = ""

    def __post_init__(self) -> None:
        for name in ("maker_bps", "taker_bps", "maker_fixed", "taker_fixed"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ConfigError(f"fees.{name}: must be a finite number, got {v!r}")
        if self.taker_bps < 0 or self.taker_fixed < 0:
            raise ConfigError("fees: taker fees must be >= 0 (only makers get rebates)")
        if self.basis not in ("notional", "underlying"):
            raise ConfigError(f"fees.basis: must be 'notional' or 'underlying', got {self.basis!r}")
        if self.premium_cap is not None and not (0 < self.premium_cap <= 1):
            raise ConfigError(f"fees.premium_cap: must be in (0, 1], got {self.premium_cap!r}")

    @property
    def maker_rate(self) -> float:
        """Maker rate as a decimal (``maker_bps / 1e4``)."""
        return self.maker_bps / 1e4

    @property
    def taker_rate(self) -> float:
        """Taker rate as a decimal (``taker_bps / 1e4``)."""
        return self.taker_bps / 1e4
