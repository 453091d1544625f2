"""Trading fees of a backtest: maker/taker rates on traded value and a fixed fee per contract."""

from __future__ import annotations

import math
from dataclasses import dataclass

from mmlab.errors import ConfigError

__all__ = ["FeeModel"]


@dataclass(frozen=True, slots=True)
class FeeModel:
    """Fee rates as the trading core's account applies them (:mod:`mmlab.backtest.core.primitives`).

    ``fee = rate * |qty * x(price)| + per_contract * qty`` with ``rate = maker`` for resting
    fills and ``taker`` for crossing ones; a negative maker rate is a rebate.

    Examples
    --------
    >>> FeeModel(maker=-0.0001, taker=0.0005).maker
    -0.0001
    >>> FeeModel.from_instrument("BINANCE_USDM:BTCUSDT").taker   # 5 bps (instruments.toml)
    0.0005
    """

    maker: float = 0.0
    taker: float = 0.0
    per_contract: float = 0.0

    def __post_init__(self) -> None:
        for name in ("maker", "taker", "per_contract"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v)):
                raise ConfigError(f"{name}: fee must be a finite number, got {v!r}")
        if self.taker < 0:
            raise ConfigError(f"taker: must be >= 0, got {self.taker!r}")

    @classmethod
    def from_instrument(cls, instrument) -> FeeModel:
        """The fees of an instrument-master entry (or its ``VENUE:SYMBOL`` key)."""
        if isinstance(instrument, str):
            from mmlab.data import get_instrument

            instrument = get_instrument(instrument)
        f = instrument.fees
        return cls(maker=f.maker_bps * 1e-4, taker=f.taker_bps * 1e-4,
                   per_contract=float(f.maker_fixed))
