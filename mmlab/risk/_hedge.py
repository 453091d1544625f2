"""Delta hedging: when the book's delta leaves its band, trade the hedge instrument back inside."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from mmlab.errors import ConfigError

__all__ = ["DeltaHedgeConfig", "DeltaHedger", "HedgeOrder"]


@dataclass(frozen=True, slots=True)
class DeltaHedgeConfig:
    """When and how much to hedge.

    Parameters
    ----------
    threshold : float
        Hedge when ``|delta| > threshold`` (delta in units of the underlying, e.g. shares or coins).
    delta_per_unit : float
        Delta of one unit of the hedge instrument in the same units (1 for the underlying itself,
        the multiplier for a future on it: 1000 for a CL contract against barrels).
    lot_size : float
        The hedge instrument's lot; hedge sizes are rounded to whole lots toward zero.
    to_zero : bool
        Hedge back to zero delta (default) or only back to the band edge (``threshold``).
    min_interval_ns : int
        Smallest time between two hedges (avoid hedging every tick in a noisy market).

    Examples
    --------
    >>> h = DeltaHedger(DeltaHedgeConfig(threshold=100.0, lot_size=1.0))
    >>> h.decide(portfolio_delta=250.4, now=0)
    HedgeOrder(side=-1, qty=250.0, reason='delta 250.4 beyond +/-100')
    >>> h.decide(portfolio_delta=50.0, now=1) is None
    True
    """

    threshold: float
    delta_per_unit: float = 1.0
    lot_size: float = 1.0
    to_zero: bool = True
    min_interval_ns: int = 0

    def __post_init__(self) -> None:
        for name in ("threshold", "delta_per_unit", "lot_size"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ConfigError(f"{name}: must be a finite number > 0, got {v!r}")
        if not (isinstance(self.min_interval_ns, int) and self.min_interval_ns >= 0):
            raise ConfigError(f"min_interval_ns: must be an integer >= 0, got {self.min_interval_ns!r}")


@dataclass(frozen=True, slots=True)
class HedgeOrder:
    """A hedge to send: side (+1 buy, -1 sell) and quantity of the hedge instrument."""

    side: int
    qty: float
    reason: str


@dataclass
class DeltaHedger:
    """Decides hedge trades from the portfolio delta (see :class:`DeltaHedgeConfig`)."""

    config: DeltaHedgeConfig
    last_hedge_ts: int = field(default=-(2**62), init=False)

    def decide(self, portfolio_delta: float, now: int) -> HedgeOrder | None:
        """The hedge to send now, or None."""
        if not math.isfinite(portfolio_delta):
            raise ConfigError(f"portfolio_delta: must be finite, got {portfolio_delta!r}")
        c = self.config
        if abs(portfolio_delta) <= c.threshold or now - self.last_hedge_ts < c.min_interval_ns:
            return None
        target = 0.0 if c.to_zero else math.copysign(c.threshold, portfolio_delta)
        units = (portfolio_delta - target) / c.delta_per_unit
        qty = math.floor(abs(units) / c.lot_size + 1e-9) * c.lot_size
        if qty <= 0:
            return None
        self.last_hedge_ts = int(now)
        return HedgeOrder(-1 if units > 0 else +1, qty,
                          f"delta {portfolio_delta:g} beyond +/-{c.threshold:g}")
