"""Order throttles: orders per second (sliding window) and orders in flight."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from mmlab.errors import ConfigError

__all__ = ["OrderThrottle"]

NS = 1_000_000_000


@dataclass
class OrderThrottle:
    """At most ``max_orders_per_sec`` order actions in any 1-second window, and at most
    ``max_in_flight`` orders sent and not yet answered.

    Examples
    --------
    >>> t = OrderThrottle(max_orders_per_sec=2, max_in_flight=10)
    >>> [t.try_send(ts, in_flight=0) for ts in (0, 1, 2, NS + 1)]
    [True, True, False, True]
    """

    max_orders_per_sec: int = 10
    max_in_flight: int = 20
    window_ns: int = NS
    _sent: deque = field(default_factory=deque, init=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("max_orders_per_sec", "max_in_flight", "window_ns"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v > 0):
                raise ConfigError(f"{name}: must be an integer > 0, got {v!r}")

    def _expire(self, now: int) -> None:
        while self._sent and self._sent[0] <= now - self.window_ns:
            self._sent.popleft()

    def headroom(self, now: int, in_flight: int) -> int:
        """How many more order actions may be sent at ``now``."""
        self._expire(now)
        return max(0, min(self.max_orders_per_sec - len(self._sent), self.max_in_flight - in_flight))

    def try_send(self, now: int, in_flight: int) -> bool:
        """Record one order action at ``now`` if allowed; return whether it was."""
        if self.headroom(now, in_flight) <= 0:
            return False
        self._sent.append(int(now))
        return True
