"""Paper quoting desk: a strategy quoting a replayed feed against the simulated exchange, on screen.

The compute is :class:`DeskSession` (importable and tested without a browser): it wraps a
:class:`~mmlab.runtime.PaperSession` (the one trading core, the backtest's, fed a batch at a
time) over a feed (a seeded synthetic L2 stream, or an event data set from the catalog),
advances it vendor row by vendor row, and reports a snapshot of the desk (time, book, our
working quotes, position, PnL split, breakers).

``mmlab serve`` shows :class:`QuotingDesk`: pick a feed and the adaptive-spread strategy's
parameters, press *Start*; a periodic callback advances the feed (``rows_per_tick`` vendor rows
every 250 ms); *Kill switch* cancels every order and stops quoting until *Reset*. No order leaves
the machine: the venue is the paper venue.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mmlab.errors import ConfigError
from mmlab.quoting import renamed_keywords

__all__ = ["DeskConfig", "DeskSession", "QuotingDesk", "load_feed"]  # noqa: F822 -- QuotingDesk is built lazily by __getattr__

SYNTHETIC = "synthetic (seeded L2 stream)"
#: the desk redraws its charts and fills table at most this often (seconds of wall time); the
#: status line every tick: a redraw is large, and queued redraws would delay the kill switch
CHART_EVERY_S = 2.0


def load_feed(name: str, catalog=None) -> np.ndarray:
    """Events of a feed: the synthetic stream, or an event data set from the catalog."""
    if name == SYNTHETIC:
        from mmlab.data import synthetic_l2_events

        return synthetic_l2_events(session_seconds=900, seed=7, trade_rate=3.0)
    from mmlab.data import Catalog

    cat = catalog if isinstance(catalog, Catalog) else Catalog(catalog)
    ev = cat.load(name)
    if not (isinstance(ev, np.ndarray) and ev.dtype.names and "ev" in ev.dtype.names):
        raise ConfigError(f"feed: {name!r} is not an event data set")
    return ev


#: the desk's retired keywords (issue 10's one vocabulary: the engine's names, in ns)
_RENAMED = {
    "cadence_ms": "renamed interval (ns of feed time; 100 ms is interval=100_000_000)",
    "cadence_ns": "renamed interval (ns of feed time)",
    "latency_ms": "split into entry_latency and response_latency (ns; 1 ms is 1_000_000)",
}


@renamed_keywords(**_RENAMED)
@dataclass(frozen=True, slots=True)
class DeskConfig:
    """The desk's strategy and risk settings (the engine's names and units:
    :class:`mmlab.backtest.BacktestConfig`'s ``interval``, ``entry_latency``,
    ``response_latency`` in nanoseconds).

    Parameters
    ----------
    spread_bps : float
        Full quoted spread at reference conditions, in basis points of the first mid.
    order_size : float
        Quote size (instrument units).
    max_position : float
        Hard inventory limit (the risk ladder's 100 %).
    inventory_skew : float
        Adaptive-spread inventory skew kappa (0: symmetric).
    interval : int
        Time between strategy decisions, ns of feed time (default 100 ms).
    entry_latency, response_latency : int
        Paper-venue order entry and response latency, ns (default 1 ms each).

    Examples
    --------
    >>> DeskConfig(interval=50_000_000).interval
    50000000
    >>> DeskConfig(cadence_ms=50)
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: DeskConfig(cadence_ms=...): renamed interval (ns of feed time; 100 ms
    is interval=100_000_000)
    """

    spread_bps: float = 4.0
    order_size: float = 1.0
    max_position: float = 10.0
    inventory_skew: float = 0.5
    interval: int = 100_000_000
    entry_latency: int = 1_000_000
    response_latency: int = 1_000_000

    def __post_init__(self) -> None:
        for name in ("spread_bps", "order_size", "max_position"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ConfigError(f"{name}: must be finite and > 0, got {v!r}")
        if not self.inventory_skew >= 0:
            raise ConfigError(f"inventory_skew: must be >= 0, got {self.inventory_skew!r}")
        for name, low in (("interval", 1), ("entry_latency", 0), ("response_latency", 0)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < low:
                raise ConfigError(f"{name}: must be an integer >= {low} (ns), got {v!r}")


def _lot_and_tick(events: np.ndarray) -> tuple[float, float]:
    from mmlab.book import infer_tick_size

    tick = float(infer_tick_size(events["px"][events["px"] > 0]))
    q = events["qty"][events["qty"] > 0]
    lot = 1.0 if q.size == 0 or np.allclose(q, np.round(q)) else 0.001
    return tick, lot


@dataclass
class DeskSession:
    """A paper session advanced step by step (the desk's compute, no Panel needed).

    Examples
    --------
    >>> d = DeskSession(SYNTHETIC, DeskConfig())
    >>> d.step(2000)
    >>> s = d.snapshot()
    >>> s["rows_done"] == 2000 and s["halted"] is False
    True
    """

    feed: str
    config: DeskConfig = field(default_factory=DeskConfig)
    catalog: object = None

    def __post_init__(self) -> None:
        from mmlab.quoting import AdaptiveSpreadConfig
        from mmlab.runtime import PaperSession

        self.events = load_feed(self.feed, self.catalog)
        rows = self.events["ival"]
        self._cuts = np.concatenate([[0], np.flatnonzero(rows[1:] != rows[:-1]) + 1,
                                     [len(self.events)]])
        self._row = 0
        tick, lot = _lot_and_tick(self.events)
        c = self.config
        first = self.events[self.events["px"] > 0]["px"][0]
        spread = max(first * c.spread_bps / 1e4, 2 * tick)
        strategy = AdaptiveSpreadConfig(base_spread=spread, inventory_skew=c.inventory_skew,
                                        max_inventory=c.max_position, order_size=c.order_size)
        # the session's schedule: it ends with the recording (a live desk is given its close)
        end = int(self.events["local_ts"].max())
        self.session = PaperSession(
            strategy, session_end=end, symbol=self.feed,
            settings=dict(tick_size=tick, lot_size=lot, interval=int(c.interval),
                          entry_latency=int(c.entry_latency),
                          response_latency=int(c.response_latency),
                          max_position=c.max_position, record_every=1))

    @property
    def n_rows(self) -> int:
        """Vendor rows in the feed."""
        return len(self._cuts) - 1

    @property
    def done(self) -> bool:
        """True when the feed is exhausted."""
        return self._row >= self.n_rows

    def step(self, n_rows: int = 100) -> None:
        """Advance the feed by ``n_rows`` vendor rows."""
        stop = min(self._row + int(n_rows), self.n_rows)
        if stop > self._row:
            self.session.feed(self.events[self._cuts[self._row]:self._cuts[stop]])
        self._row = stop
        self._act_now()

    def _act_now(self) -> None:
        """Take every action due before the next row of the recording (its time is the feed's
        clock now), so a kill switch cancels at once instead of at the next row."""
        if self.done:
            return
        nxt = self.events[self._cuts[self._row]]
        self.session.advance_to(min(int(nxt["exch_ts"]), int(nxt["local_ts"])))

    def kill(self) -> None:
        """Engage the kill switch: cancel everything, quote nothing until reset."""
        self.session.kill()
        self._act_now()

    def reset_risk(self) -> None:
        """Clear the kill switch and the latched breakers."""
        self.session.reset()

    def snapshot(self) -> dict:
        """The desk's state now."""
        s = self.session.snapshot()
        pnl = s["pnl"]
        usage = abs(s["local_position"]) / self.config.max_position
        return {
            "time": pd.Timestamp(s["time"], unit="ns", tz="UTC"),
            "rows_done": self._row,
            "rows_total": self.n_rows,
            "best_bid": s["best_bid"],
            "best_ask": s["best_ask"],
            "our_bid": s["our_bids"][0][0] if s["our_bids"] else math.nan,
            "our_ask": s["our_asks"][0][0] if s["our_asks"] else math.nan,
            "working_orders": s["working_orders"],
            "orders_sent": s["orders_sent"],
            "position": s["local_position"],
            "usage": usage,
            "halted": bool(s["halted"] or s["paused"]),
            "halt_reasons": "; ".join(s["breakers"]),
            "fills": s["fills"],
            **{f"pnl_{k}": v for k, v in pnl.items()},
        }

    def history(self) -> pd.DataFrame:
        """Mid, position and marked equity after each step."""
        return self.session.history()

    def fills(self) -> pd.DataFrame:
        """Our fills so far (time as UTC timestamps)."""
        f = self.session.fills()
        if len(f):
            f = f.assign(ts=pd.to_datetime(f["ts"], unit="ns", utc=True))
        return f


def _px(v: float) -> str:
    """A price for the status line: an em dash for none (never 'nan')."""
    return f"{v:.6g}" if math.isfinite(v) else "\u2014"


def _status_markdown(s: dict) -> str:
    state = "**HALTED**: " + s["halt_reasons"] if s["halted"] else "quoting"
    return (
        f"### Desk status: {state}\n\n"
        f"| | |\n|---|---|\n"
        f"| feed time | {s['time']} |\n| progress | {s['rows_done']} / {s['rows_total']} rows |\n"
        f"| market | {_px(s['best_bid'])} / {_px(s['best_ask'])} |\n"
        f"| our quotes | {_px(s['our_bid'])} / {_px(s['our_ask'])} "
        f"({s['working_orders']} working) |\n"
        f"| position | {s['position']:.6g} (usage {s['usage']:.0%}) |\n"
        f"| fills | {s['fills']} (orders sent {s['orders_sent']}) |\n"
        f"| PnL total | {s['pnl_total']:.4f} (spread {s['pnl_spread']:.4f}, inventory "
        f"{s['pnl_inventory']:.4f}, fees {s['pnl_fees']:.4f}) |\n"
    )


#: the ns settings the desk's controls show in milliseconds: (parameter, label)
_MS_INPUTS = (("interval", "interval"), ("entry_latency", "entry latency"),
              ("response_latency", "response latency"))


def _make_desk():
    import hvplot.pandas  # noqa: F401
    import panel as pn
    import param

    class QuotingDesk(pn.viewable.Viewer):
        """Paper quoting desk (see the module docstring)."""

        feed = param.Selector(default=SYNTHETIC, objects=[SYNTHETIC], doc="Market-data feed")
        spread_bps = param.Number(default=4.0, bounds=(0.1, 100.0), doc="Quoted spread, bps")
        order_size = param.Number(default=1.0, bounds=(0.001, 1000.0), doc="Quote size")
        max_position = param.Number(default=10.0, bounds=(0.001, 1e6), doc="Hard limit")
        rows_per_tick = param.Integer(default=50, bounds=(1, 20_000),
                                      doc="Vendor rows replayed every 250 ms")
        # the engine's settings in its units (ns); the controls show them in ms (_MS_INPUTS)
        interval = param.Integer(default=100_000_000, bounds=(1_000_000, 60_000_000_000),
                                 precedence=-1, doc="Strategy interval, ns of feed time")
        entry_latency = param.Integer(default=1_000_000, bounds=(0, 10_000_000_000),
                                      precedence=-1, doc="Order entry latency, ns")
        response_latency = param.Integer(default=1_000_000, bounds=(0, 10_000_000_000),
                                         precedence=-1, doc="Order response latency, ns")

        def __init__(self, catalog=None, **params):
            super().__init__(**params)
            self._catalog = catalog
            try:
                from mmlab.data import Catalog

                cat = Catalog(catalog)
                names = [n for n, k in zip(cat.list()["name"], cat.list()["kind"], strict=True)
                         if k in ("binance", "lobster", "npz", "synthetic")]
            except Exception:  # an empty or missing catalog: the synthetic feed still works
                names = []
            self.param.feed.objects = [SYNTHETIC, *names]
            self.desk = None
            self._cb = None
            self._last_chart = 0.0
            self.status = pn.pane.Markdown("### Desk status: stopped", sizing_mode="stretch_width")
            self.chart = pn.pane.HoloViews(None, sizing_mode="stretch_width", height=420)
            self.table = pn.pane.DataFrame(pd.DataFrame(), sizing_mode="stretch_width", max_rows=15)
            self.start_btn = pn.widgets.Button(name="Start", button_type="primary")
            self.pause_btn = pn.widgets.Button(name="Pause")
            self.kill_btn = pn.widgets.Button(name="Kill switch", button_type="danger")
            self.reset_btn = pn.widgets.Button(name="Reset risk")
            self.start_btn.on_click(lambda e: self.start())
            self.pause_btn.on_click(lambda e: self.pause())
            self.kill_btn.on_click(lambda e: self.kill())
            self.reset_btn.on_click(lambda e: self.desk and self.desk.reset_risk())
            # ms on screen, ns in the API: converted here, at the boundary
            self.ms_inputs = {}
            for name, label in _MS_INPUTS:
                lo, hi = self.param[name].bounds
                w = pn.widgets.FloatInput(label=f"{label} (ms)", value=getattr(self, name) / 1e6,
                                          start=lo / 1e6, end=hi / 1e6, step=1.0, width=240,
                                          margin=(5, 10, 5, 18))
                w.param.watch(lambda e, n=name: setattr(self, n, round(e.new * 1e6)), "value")
                self.ms_inputs[name] = w

        def _new_desk(self):
            cfg = DeskConfig(spread_bps=self.spread_bps, order_size=self.order_size,
                             max_position=self.max_position, interval=self.interval,
                             entry_latency=self.entry_latency,
                             response_latency=self.response_latency)
            self.desk = DeskSession(self.feed, cfg, self._catalog)

        def start(self):
            if self.desk is None or self.desk.feed != self.feed:
                self._new_desk()
            if self._cb is None:
                self._cb = pn.state.add_periodic_callback(self.tick, period=250)

        def pause(self):
            if self._cb is not None:
                self._cb.stop()
                self._cb = None

        def kill(self):
            # the control path: engage the kill switch and show it at once; the charts (the
            # heavy part of a refresh) follow on the next slow refresh
            if self.desk is not None:
                self.desk.kill()
                self.status.object = _status_markdown(self.desk.snapshot())

        def tick(self):
            if self.desk is None:
                return
            self.desk.step(self.rows_per_tick)
            now = time.monotonic()
            if now - self._last_chart >= CHART_EVERY_S or self.desk.done:
                self.refresh()
            else:  # the status line only: small messages keep the control path responsive
                self.status.object = _status_markdown(self.desk.snapshot())
            if self.desk.done:
                self.pause()

        def refresh(self):
            self._last_chart = time.monotonic()
            s = self.desk.snapshot()
            self.status.object = _status_markdown(s)
            h = self.desk.history()
            if len(h) > 1:
                h = h.iloc[:: max(1, len(h) // 1500)]
                self.chart.object = (
                    h.hvplot.line(y="equity", title="equity", height=200, responsive=True,
                                  shared_axes=False)
                    + h.hvplot.step(y="position", title="position", height=200, responsive=True,
                                    shared_axes=False)
                ).cols(1)
            f = self.desk.fills()
            if len(f):
                self.table.object = f.tail(15)

        def __panel__(self):
            controls = pn.Column(
                pn.Param(self.param, width=280, name="Quoting desk (paper)"),
                *self.ms_inputs.values(),
                pn.Row(self.start_btn, self.pause_btn), pn.Row(self.kill_btn, self.reset_btn),
                width=300,
            )
            return pn.Row(controls, pn.Column(self.status, self.chart, self.table,
                                              sizing_mode="stretch_width"),
                          sizing_mode="stretch_width")

    return QuotingDesk


def __getattr__(name: str):
    if name == "QuotingDesk":  # built lazily: importing panel is slow
        cls = _make_desk()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


if __name__.startswith("bokeh"):  # `panel serve mmlab/dashboards/quoting_desk.py`
    import panel as _pn

    _pn.extension(sizing_mode="stretch_width")
    _make_desk()().servable(title="mmlab quoting desk (paper)")
