"""Circuit breakers (latching until reset), the kill switch, and the research failure gate.

A breaker watches one figure and *trips* when it crosses its threshold; once tripped it stays
tripped until :meth:`Breaker.reset` is called by a person (or a test). Tripping any breaker halts
quoting; the kill switch additionally cancels everything.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from mmlab.errors import ConfigError

__all__ = [
    "AbnormalSpreadBreaker",
    "Breaker",
    "DailyLossBreaker",
    "DrawdownBreaker",
    "KillSwitch",
    "StaleDataBreaker",
    "VolatilitySurgeBreaker",
    "failure_gate",
]

NS_PER_DAY = 86_400 * 1_000_000_000


@dataclass
class Breaker:
    """Base: a latching flag with the reason and the time it tripped."""

    tripped: bool = field(default=False, init=False)
    reason: str = field(default="", init=False)
    tripped_ts: int = field(default=-1, init=False)

    def _trip(self, ts: int, reason: str) -> bool:
        if not self.tripped:
            self.tripped, self.reason, self.tripped_ts = True, reason, int(ts)
        return True

    def reset(self) -> None:
        """Clear the breaker (a deliberate act: breakers never clear themselves)."""
        self.tripped, self.reason, self.tripped_ts = False, "", -1


@dataclass
class DrawdownBreaker(Breaker):
    """Trips when equity falls ``max_drawdown`` x ``capital`` below its running peak.

    Examples
    --------
    >>> b = DrawdownBreaker(capital=100_000.0)          # default 2 % of allocated capital
    >>> b.update(100_000.0, ts=0), b.update(101_000.0, ts=1), b.update(99_100.0, ts=2)
    (False, False, False)
    >>> b.update(98_999.0, ts=3), b.tripped
    (True, True)
    >>> b.update(120_000.0, ts=4)                       # latched until reset
    True
    """

    capital: float = 0.0
    max_drawdown: float = 0.02
    peak: float = field(default=-math.inf, init=False)

    def __post_init__(self) -> None:
        if not (self.capital > 0 and math.isfinite(self.capital)):
            raise ConfigError(f"capital: must be a finite number > 0, got {self.capital!r}")
        if not (0 < self.max_drawdown < 1):
            raise ConfigError(f"max_drawdown: must be in (0, 1), got {self.max_drawdown!r}")

    def update(self, equity: float, ts: int = 0) -> bool:
        """Feed the current equity; return whether the breaker is tripped."""
        if not math.isfinite(equity):
            return self._trip(ts, f"equity is not finite ({equity!r})")
        self.peak = max(self.peak, equity)
        if self.peak - equity >= self.max_drawdown * self.capital:
            return self._trip(ts, f"drawdown {self.peak - equity:.2f} >= "
                                  f"{self.max_drawdown:.2%} of capital {self.capital:.2f}")
        return self.tripped


@dataclass
class DailyLossBreaker(Breaker):
    """Trips when the day's PnL falls below ``-max_loss`` x ``capital`` (days in UTC, or shifted)."""

    capital: float = 0.0
    max_loss: float = 0.01
    day_offset_ns: int = 0
    _day: int = field(default=-1, init=False)
    _start_equity: float = field(default=math.nan, init=False)

    def __post_init__(self) -> None:
        if not (self.capital > 0 and math.isfinite(self.capital)):
            raise ConfigError(f"capital: must be a finite number > 0, got {self.capital!r}")
        if not (0 < self.max_loss < 1):
            raise ConfigError(f"max_loss: must be in (0, 1), got {self.max_loss!r}")

    def update(self, equity: float, ts: int) -> bool:
        """Feed equity at time ``ts`` (UTC ns); the first update of a day sets its start."""
        day = (int(ts) + self.day_offset_ns) // NS_PER_DAY
        if day != self._day:
            self._day, self._start_equity = day, equity
        loss = self._start_equity - equity
        if not math.isfinite(equity) or loss >= self.max_loss * self.capital:
            return self._trip(ts, f"daily loss {loss:.2f} >= {self.max_loss:.2%} of capital")
        return self.tripped


@dataclass
class VolatilitySurgeBreaker(Breaker):
    """Trips when short-window realised volatility exceeds ``ratio`` x the long-window one.

    Fed mid prices at a regular cadence; volatility is the RMS of log returns over each window.
    """

    short_window: int = 20
    long_window: int = 500
    ratio: float = 4.0
    _rets: deque = field(default_factory=deque, init=False, repr=False)
    _last: float = field(default=math.nan, init=False)

    def __post_init__(self) -> None:
        if not (2 <= self.short_window < self.long_window):
            raise ConfigError("short_window, long_window: need 2 <= short_window < long_window")
        if not self.ratio > 1:
            raise ConfigError(f"ratio: must be > 1, got {self.ratio!r}")
        self._rets = deque(maxlen=self.long_window)

    def update(self, mid: float, ts: int = 0) -> bool:
        """Feed a mid price; return whether the breaker is tripped."""
        if not (math.isfinite(mid) and mid > 0):
            return self.tripped
        if math.isfinite(self._last):
            self._rets.append(math.log(mid / self._last))
        self._last = mid
        if len(self._rets) >= self.long_window // 2:
            r = np.fromiter(self._rets, dtype=float)
            long_vol = math.sqrt(float(np.mean(r * r)))
            short_vol = math.sqrt(float(np.mean(r[-self.short_window:] ** 2)))
            if long_vol > 0 and short_vol > self.ratio * long_vol:
                return self._trip(ts, f"short vol {short_vol:.3g} > {self.ratio} x long vol "
                                      f"{long_vol:.3g}")
        return self.tripped


@dataclass
class AbnormalSpreadBreaker(Breaker):
    """Trips when the market's bid-ask spread exceeds ``max_spread_bps`` of the mid (or is crossed)."""

    max_spread_bps: float = 50.0

    def update(self, bid: float, ask: float, ts: int = 0) -> bool:
        """Feed the best bid and ask."""
        if not (math.isfinite(bid) and math.isfinite(ask)):
            return self._trip(ts, "one side of the book is empty")
        if ask <= bid:
            return self._trip(ts, f"crossed or locked market (bid {bid}, ask {ask})")
        mid = 0.5 * (bid + ask)
        spread_bps = (ask - bid) / abs(mid) * 1e4 if mid != 0 else math.inf
        if spread_bps > self.max_spread_bps:
            return self._trip(ts, f"spread {spread_bps:.1f} bps > {self.max_spread_bps} bps")
        return self.tripped


@dataclass
class StaleDataBreaker(Breaker):
    """Trips when no market data (or no heartbeat from the venue) arrived for ``max_age_ns``."""

    max_age_ns: int = 5_000_000_000
    last_ts: int = field(default=-1, init=False)

    def on_data(self, ts: int) -> None:
        """Record that data arrived at ``ts``."""
        self.last_ts = max(self.last_ts, int(ts))

    def check(self, now: int) -> bool:
        """Check the age of the last data at time ``now``."""
        if self.last_ts >= 0 and now - self.last_ts > self.max_age_ns:
            return self._trip(now, f"no data for {(now - self.last_ts) / 1e9:.3f} s")
        return self.tripped


@dataclass
class KillSwitch(Breaker):
    """The big red button: once engaged, every order is cancelled and none is emitted until reset."""

    def engage(self, ts: int = 0, reason: str = "kill switch") -> None:
        """Engage the kill switch."""
        self._trip(ts, reason)


def failure_gate(equity: np.ndarray, budget: float, threshold: float = 0.40) -> dict:
    """The research failure gate: is the run's max drawdown worse than ``threshold`` x ``budget``?

    A verdict on a finished run (not a breaker). Returns ``{"max_drawdown", "limit", "passed"}``.

    Examples
    --------
    >>> failure_gate(np.array([100.0, 110.0, 60.0, 90.0]), budget=100.0)
    {'max_drawdown': 50.0, 'limit': 40.0, 'passed': False}
    """
    eq = np.asarray(equity, dtype=float)
    if eq.size == 0 or not np.all(np.isfinite(eq)):
        raise ConfigError("equity: need a non-empty, finite equity curve")
    if not budget > 0:
        raise ConfigError(f"budget: must be > 0, got {budget!r}")
    dd = float(np.max(np.maximum.accumulate(eq) - eq))
    limit = threshold * budget
    return {"max_drawdown": dd, "limit": limit, "passed": bool(dd <= limit)}
