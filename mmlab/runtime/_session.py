"""The paper-trading session: the trading core fed a live (or replayed) feed, on the event bus.

A :class:`PaperSession` is a view over :class:`mmlab.backtest.StepDriver`, the one trading core
(strategy kernel, the risk ladder: the hard position limit counting working and in-flight
orders and, with ``zones``, its soft zones; breakers on marked equity, the kill switch, the
throttle, toxicity response, order state machine, account, and the simulated exchange with its
queue, latency and fee models) fed a batch of events at a time. It holds no order, risk or
accounting logic of its own; it adds what a running session needs around the core: it publishes every fill and risk event (breaker trips,
kill switch, cooldown ends) on the session's :class:`~mmlab.runtime.EventBus` (a
:class:`~mmlab.runtime.Journal` can record them), keeps the equity curve at each batch, and
paces a recorded feed to the wall clock. The quotes, orders and fills are those of
:func:`mmlab.backtest.run` on the same events: there is no second implementation. No order
leaves the machine: the exchange side is simulated.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mmlab.backtest import StepDriver
from mmlab.errors import ConfigError
from mmlab.runtime._bus import EventBus
from mmlab.runtime._events import FillEvent, RiskEvent
from mmlab.runtime._journal import Journal

__all__ = ["PaperSession"]


@dataclass
class PaperSession:
    """Run a core strategy on a feed against the simulated exchange, publishing as it goes.

    Parameters
    ----------
    strategy
        Any strategy :func:`mmlab.backtest.run` takes (grid, A-S, GLFT, adaptive configs...).
    session_end : int
        The session's horizon (ns, local time).
    settings : dict
        :class:`~mmlab.backtest.BacktestConfig` fields (``tick_size`` and ``lot_size`` or an
        ``instrument`` required; ``interval``, latencies, fees, ``max_position``, the breakers'
        ``max_drawdown``, ``max_daily_loss``, ``stale_after``...).
    symbol : str
        Name on the published events.
    journal_path : str, optional
        Record every published event in an SQLite journal there.

    Examples
    --------
    >>> from mmlab.data import synthetic
    >>> from mmlab.backtest import GridStrategy
    >>> ev = synthetic.synthetic_l2_events(session_seconds=20, seed=3)
    >>> s = PaperSession(GridStrategy(half_spread=0.01, order_qty=1.0),
    ...                  session_end=int(ev["local_ts"].max()),
    ...                  settings=dict(tick_size=0.01, lot_size=1.0, max_position=5.0))
    >>> seen = []
    >>> _ = s.bus.subscribe(seen.append)
    >>> res = s.run(ev)
    >>> len(seen) == len(res.fills) > 0
    True
    """

    strategy: object
    session_end: int
    settings: dict = field(default_factory=dict)
    symbol: str = ""
    journal_path: str | None = None
    bus: EventBus = field(default_factory=EventBus)

    def __post_init__(self) -> None:
        self.driver = StepDriver(self.strategy, session_end=self.session_end,
                                 **dict(self.settings))
        self.journal = Journal(self.journal_path) if self.journal_path else None
        if self.journal is not None:
            self.bus.subscribe(self.journal.record)
        self._n_fills = 0
        self._n_risk = 0

    # ---- feeding ----------------------------------------------------------------------------
    def feed(self, events: np.ndarray) -> None:
        """Apply one batch of market events (a vendor row or a live message) and publish what
        the core did with it."""
        self.driver.feed(events)
        self._publish()

    def feed_l3(self, stream: np.ndarray, kinds: np.ndarray, l3a: np.ndarray) -> None:
        """Apply L3 records rewritten by :func:`mmlab.backtest.prepare_l3` (see
        :meth:`mmlab.backtest.StepDriver.feed_l3`) and publish what the core did with them."""
        self.driver.feed_l3(stream, kinds, l3a)
        self._publish()

    def advance_to(self, t: int) -> None:
        """The feed's clock says no event before ``t`` (ns) is still to come: act up to it."""
        self.driver.advance_to(t)
        self._publish()

    def kill(self) -> None:
        """The kill switch: latched; every working order is cancelled at the next decision and
        nothing more is sent until :meth:`reset`."""
        self.driver.kill()
        self._publish()

    def reset(self) -> None:
        """Clear the latched breakers and the kill switch."""
        self.driver.reset()
        self._publish()

    def run(self, events: np.ndarray, *, realtime: bool = False, speed: float = 1.0,
            max_seconds: float | None = None):
        """Replay ``events`` vendor row by vendor row (``ival``), as fast as possible or paced
        (``realtime``: feed time advances ``speed`` times faster than the wall clock;
        ``max_seconds`` bounds the wall time); returns :meth:`result`. L3 order events are
        rewritten first (:func:`mmlab.backtest.prepare_l3`, a causal rewrite) and fed as
        records."""
        if len(events) == 0:
            raise ConfigError("events: the feed is empty")
        if not speed > 0:
            raise ConfigError(f"speed: must be > 0, got {speed!r}")
        from mmlab.backtest import prepare_l3

        kind = events["ev"] & np.uint64(0xFF)
        l3 = prepare_l3(events) if ((kind >= 10) & (kind <= 13)).any() else None
        stream = events if l3 is None else l3.stream
        rows = stream["ival"]
        cuts = np.concatenate([[0], np.flatnonzero(rows[1:] != rows[:-1]) + 1, [len(stream)]])
        start_wall, t0 = time.monotonic(), int(stream["local_ts"][0])
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            if realtime:
                due = (int(stream["local_ts"][b - 1]) - t0) / 1e9 / speed
                lag = due - (time.monotonic() - start_wall)
                if lag > 0:
                    time.sleep(lag)
            if max_seconds is not None and time.monotonic() - start_wall > max_seconds:
                break
            if l3 is None:
                self.feed(stream[a:b])
            else:
                self.feed_l3(stream[a:b], l3.kinds[a:b], l3.l3a[a:b])
        return self.result()

    def result(self):
        """End the session (the stream is complete) and return the
        :class:`~mmlab.backtest.BacktestResult`, the backtest's result type."""
        res = self.driver.finish()
        self._publish()
        return res

    # ---- what a desk shows ------------------------------------------------------------------
    def snapshot(self) -> dict:
        """The session now (see :meth:`mmlab.backtest.StepDriver.snapshot`)."""
        return self.driver.snapshot()

    def history(self) -> pd.DataFrame:
        """Mid, position and equity at each strategy decision so far, time-indexed (the
        backtest's step table: the exchange mid and position, equity marked there)."""
        st = self.driver.steps()
        eq = st[["mid", "position", "equity"]].copy()
        eq.index = pd.to_datetime(st["ts"].to_numpy(), unit="ns", utc=True)
        return eq

    def fills(self) -> pd.DataFrame:
        """Our fills so far."""
        return self.driver.fills_since(0)

    def close(self) -> None:
        """Close the journal."""
        if self.journal is not None:
            self.journal.close()
            self.journal = None

    # ---- internals -----------------------------------------------------------------------------
    def _publish(self) -> None:
        d = self.driver
        if d.n_fills > self._n_fills:
            new = d.fills_since(self._n_fills)
            pos = d.position - float((new["side"] * new["qty"]).sum())
            for r in new.itertuples(index=False):
                pos += int(r.side) * float(r.qty)
                self.bus.publish(FillEvent(ts=int(r.ts), order_id=int(r.order_id),
                                           symbol=self.symbol, side=int(r.side),
                                           qty=float(r.qty), price=float(r.price),
                                           maker=bool(r.maker), fee=float(r.fee),
                                           position=pos, mid=float(r.mid)))
            self._n_fills = d.n_fills
        risk = d.risk_events
        for r in risk.iloc[self._n_risk:].itertuples(index=False):
            self.bus.publish(RiskEvent(ts=int(r.ts), symbol=self.symbol, kind=str(r.kind),
                                       detail=f"{r.value:.6g}"))
        self._n_risk = len(risk)
