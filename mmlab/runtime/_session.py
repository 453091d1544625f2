"""The paper-trading session: a market-data feed, a strategy, the order manager and the paper venue.

A session replays an event feed (a recorded one, as fast as possible or paced to real time) or is
fed live batches (:meth:`PaperSession.feed`). At each batch the book is updated, the paper venue
matches our resting orders and delivers its answers, and at the strategy's cadence the strategy is
asked for a quote which the order manager reconciles with the working orders under risk. Every
step publishes typed events on the session's bus; a :class:`~mmlab.runtime.Journal` can record
them. No order leaves the machine: the venue is simulated.

The strategy sees the book as of each batch's *local* receive time; the paper venue matches at the
same instants (feed latency is not modelled here: that is the backtest engine's job).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mmlab.book import BookState
from mmlab.errors import ConfigError
from mmlab.execution import Ledger, OrderManager
from mmlab.execution._paper_venue import PaperVenue
from mmlab.quoting import MarketState
from mmlab.risk import RiskLimits, RiskManager
from mmlab.runtime._bus import EventBus
from mmlab.runtime._events import FillEvent
from mmlab.runtime._journal import Journal

__all__ = ["PaperSession", "SessionResult"]


@dataclass
class SessionResult:
    """What a paper session produced: equity curve, fills and the PnL split."""

    equity: pd.DataFrame
    fills: pd.DataFrame
    pnl: dict
    n_events: int
    n_decisions: int

    def summary(self) -> dict:
        """Headline figures."""
        eq = self.equity["equity"].to_numpy() if len(self.equity) else np.zeros(1)
        dd = float(np.max(np.maximum.accumulate(eq) - eq)) if eq.size else 0.0
        return {"events": self.n_events, "decisions": self.n_decisions, "fills": len(self.fills),
                "final_position": float(self.equity["position"].iloc[-1]) if len(self.equity) else 0.0,
                "max_drawdown": dd, **{f"pnl_{k}": v for k, v in self.pnl.items()}}

    def to_frame(self) -> pd.DataFrame:
        """The equity curve (time-indexed)."""
        return self.equity

    def plot(self):
        """Equity and position over time (hvPlot)."""
        import hvplot.pandas  # noqa: F401

        return (self.equity.hvplot.line(y="equity", title="paper session equity", height=250)
                + self.equity.hvplot.step(y="position", title="position", height=200)).cols(1)


def _default_state(t: int, book: BookState, om: OrderManager, t_end: int) -> MarketState:
    bid, ask = book.best_bid, book.best_ask
    mid = 0.5 * (bid + ask) if math.isfinite(bid) and math.isfinite(ask) else math.nan
    return MarketState(mid=mid, inventory=om.position, time_left=max(0.0, (t_end - t) / 1e9),
                       best_bid=bid, best_ask=ask)


@dataclass
class PaperSession:
    """Run a strategy on a feed against the paper venue.

    Parameters
    ----------
    strategy : object
        Anything with ``quote(MarketState) -> Quote`` (see :mod:`mmlab.quoting`).
    limits : RiskLimits
        Risk limits (the order manager's risk manager is built from them unless ``risk`` is given).
    ledger : Ledger, optional
        Accounting (e.g. ``Ledger.from_instrument(...)``); default a plain linear ledger.
    tick_size, lot_size : float
        Rounding for the order manager.
    cadence_ns : int
        Time between strategy decisions (local time), default 100 ms.
    entry_latency_ns, response_latency_ns : int
        Paper-venue latencies.
    state_fn : callable, optional
        ``state_fn(t, book, manager, t_end) -> MarketState``; default: mid from the top of book,
        inventory, time left to the end of the feed in seconds.
    journal_path : str, optional
        Record every event in an SQLite journal there.
    risk : RiskManager, optional
        A ready risk manager (breakers, throttle...).
    """

    strategy: object
    limits: RiskLimits
    ledger: Ledger | None = None
    tick_size: float = 0.0
    lot_size: float = 0.0
    cadence_ns: int = 100_000_000
    entry_latency_ns: int = 0
    response_latency_ns: int = 0
    state_fn: Callable | None = None
    journal_path: str | None = None
    risk: RiskManager | None = None
    symbol: str = ""
    bus: EventBus = field(default_factory=EventBus)

    def __post_init__(self) -> None:
        if not hasattr(self.strategy, "quote"):
            raise ConfigError("strategy: needs a quote(MarketState) -> Quote method")
        if not (isinstance(self.cadence_ns, int) and self.cadence_ns > 0):
            raise ConfigError(f"cadence_ns: must be an integer > 0, got {self.cadence_ns!r}")
        self.book = BookState(tick_size=self.tick_size or None)
        self.venue = PaperVenue(self.book, self.entry_latency_ns, self.response_latency_ns)
        self.om = OrderManager(self.venue, self.risk or RiskManager(self.limits),
                               self.ledger or Ledger(symbol=self.symbol), symbol=self.symbol,
                               tick_size=self.tick_size, lot_size=self.lot_size, bus=self.bus)
        self.venue.attach(self.om)
        self.journal = Journal(self.journal_path) if self.journal_path else None
        if self.journal is not None:
            self.bus.subscribe(self.journal.record)
        self._fills: list[FillEvent] = []
        self.bus.subscribe(self._fills.append, types=(FillEvent,))
        self._curve: list[tuple] = []
        self._next_decision: int | None = None
        self._n_events = 0
        self._t_end = 0

    def feed(self, events: np.ndarray) -> None:
        """Apply one batch of market events (one vendor row or a live message) and act on it."""
        if len(events) == 0:
            return
        self.book.apply(events, check_crossed=False)
        self._n_events += len(events)
        t = int(events["local_ts"][-1])
        self.venue.on_market(events, t)
        self.venue.advance(t)
        if self._next_decision is None:
            self._next_decision = t
        if t >= self._next_decision:
            state = (self.state_fn or _default_state)(t, self.book, self.om, self._t_end)
            if math.isfinite(state.mid):
                q = self.strategy.quote(state)
                self.om.update(q, t, mid=state.mid, best_bid=state.best_bid,
                               best_ask=state.best_ask)
                led = self.om.ledger
                self._curve.append((t, state.mid, led.position, led.equity))
            self._next_decision = t - (t - self._next_decision) % self.cadence_ns + self.cadence_ns

    def run(self, events: np.ndarray, *, realtime: bool = False, speed: float = 1.0,
            max_seconds: float | None = None) -> SessionResult:
        """Replay ``events`` vendor row by vendor row (``ival``), as fast as possible or paced.

        ``realtime=True`` sleeps so that feed time advances ``speed`` times faster than the wall
        clock (a replayed feed standing in for a live one); ``max_seconds`` bounds the wall time.
        """
        if len(events) == 0:
            raise ConfigError("events: the feed is empty")
        if not speed > 0:
            raise ConfigError(f"speed: must be > 0, got {speed!r}")
        self._t_end = int(events["local_ts"][-1])
        rows = events["ival"]
        cuts = np.flatnonzero(rows[1:] != rows[:-1]) + 1
        start_wall, t0 = time.monotonic(), int(events["local_ts"][0])
        for batch in np.split(events, cuts):
            if realtime:
                due = (int(batch["local_ts"][-1]) - t0) / 1e9 / speed
                lag = due - (time.monotonic() - start_wall)
                if lag > 0:
                    time.sleep(lag)
            if max_seconds is not None and time.monotonic() - start_wall > max_seconds:
                break
            self.feed(batch)
        self.venue.advance(self._t_end + self.response_latency_ns)
        return self.result()

    def result(self) -> SessionResult:
        """The session so far."""
        eq = pd.DataFrame(self._curve, columns=["ts", "mid", "position", "equity"])
        eq.index = pd.to_datetime(eq.pop("ts"), unit="ns", utc=True)
        fills = pd.DataFrame([{"ts": f.ts, "order_id": f.order_id, "side": f.side, "qty": f.qty,
                               "price": f.price, "maker": f.maker, "fee": f.fee,
                               "position": f.position} for f in self._fills])
        return SessionResult(eq, fills, self.om.ledger.pnl_parts(), self._n_events, len(self._curve))

    def close(self) -> None:
        """Cancel everything and close the journal."""
        self.om.cancel_all(self._t_end)
        if self.journal is not None:
            self.journal.close()
