"""A small synchronous event bus: publishers call :meth:`EventBus.publish`, subscribers get
every event (or those of the types they asked for) in publication order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["EventBus"]


@dataclass
class EventBus:
    """Synchronous publish/subscribe.

    Examples
    --------
    >>> from mmlab.runtime import EventBus, RiskEvent
    >>> bus, seen = EventBus(), []
    >>> bus.subscribe(seen.append, types=(RiskEvent,))
    >>> bus.publish(RiskEvent(0, "BTCUSDT", "kill", "desk"))
    >>> bus.publish("ignored: not a RiskEvent")
    >>> [e.kind for e in seen]
    ['kill']
    """

    _subs: list[tuple[Callable, tuple]] = field(default_factory=list, init=False, repr=False)

    def subscribe(self, callback: Callable, types: tuple = ()) -> None:
        """Call ``callback(event)`` for each event (only for ``types`` when given)."""
        self._subs.append((callback, tuple(types)))

    def unsubscribe(self, callback: Callable) -> None:
        """Stop calling ``callback``."""
        self._subs = [(c, t) for c, t in self._subs if c is not callback]

    def publish(self, event) -> None:
        """Deliver ``event`` to the subscribers."""
        for callback, types in self._subs:
            if not types or isinstance(event, types):
                callback(event)
