"""The step driver: the backtest's compiled core fed from Python, a batch of events at a time.

:func:`mmlab.backtest.run` hands the kernel (:mod:`mmlab.backtest.engine._engine`) the whole event
array at once. :class:`StepDriver` runs the *same* kernel, with the same state arrays, over the
rows received so far: ``feed(batch)`` appends rows and lets the kernel take every action
(exchange event, request arriving, response arriving, funding, strategy step) that no row still
to come can precede; ``advance_to(t)`` promises that no later row is stamped before ``t`` (a
live clock), so actions before ``t`` are taken without waiting for the next row; ``finish()``
says the stream is complete and returns the :class:`~mmlab.backtest.BacktestResult`. The order
of actions is the one a single call over the whole stream takes, so a backtest and a driven
session give identical fills (``tests/test_step_driver.py``).

Nothing is read off data the driver has not been fed: the tick and lot come from the
instrument (or the settings), the session's horizon from ``session_end``, the strategy clock
starts at the first row fed (or ``start``), and the dense book's price range starts around the
first price fed (``roi`` to fix it) and grows, levels kept, when a price near the market
leaves it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mmlab.backtest.engine import _engine as E
from mmlab.backtest.engine._config import config_from
from mmlab.backtest.engine._run import (
    _finish,
    _Job,
    _resolve_instrument,
    make_job,
    scan,
)
from mmlab.errors import ConfigError

__all__ = ["StepDriver"]

#: the dense book's first range: the first price fed +- this share (as the backtest's +- 10 %)
ROI_SHARE = 0.1
#: the widest dense book the driver grows to (ticks)
MAX_TICKS = 20_000_000


class StepDriver:
    """The trading core driven a batch of events at a time (paper: both sides simulated).

    Parameters
    ----------
    strategy
        Any strategy :func:`mmlab.backtest.run` takes.
    session_end : int
        The session's horizon (ns): A-S's ``time_left`` runs to it; nothing is taken after it.
    end : int, optional
        The strategy's last step time (ns; default ``session_end``).
    engine : {"numba", "python"}
    **settings
        :class:`~mmlab.backtest.BacktestConfig` fields; ``tick_size`` and ``lot_size`` (or an
        ``instrument``) are required: the driver does not infer them from data.

    Examples
    --------
    >>> from mmlab.data import synthetic
    >>> from mmlab.backtest import GridStrategy, run
    >>> ev = synthetic.synthetic_l2_events(session_seconds=20, seed=3)
    >>> kw = dict(tick_size=0.01, lot_size=1.0, max_position=5.0, roi=(90.0, 110.0))
    >>> d = StepDriver(GridStrategy(half_spread=0.01, order_qty=1.0),
    ...                session_end=int(ev["local_ts"].max()), **kw)
    >>> for i in range(0, len(ev), 500):
    ...     d.feed(ev[i:i + 500])
    >>> res = d.finish()
    >>> ref = run(ev, GridStrategy(half_spread=0.01, order_qty=1.0), **kw)
    >>> res.fills.equals(ref.fills), res.pnl == ref.pnl
    (True, True)
    """

    def __init__(self, strategy, *, session_end: int, end: int | None = None,
                 engine: str = "numba", **settings) -> None:
        if engine not in ("numba", "python"):
            raise ConfigError(f"engine: must be 'numba' or 'python', got {engine!r}")
        if isinstance(session_end, bool) or not isinstance(session_end, int | np.integer):
            raise ConfigError(f"session_end: must be an integer (ns), got {session_end!r}")
        settings = _resolve_instrument(dict(settings))
        if settings.get("record_every", "auto") == "auto":
            settings["record_every"] = 1
        self.cfg = config_from({**settings, "session_end": int(session_end)})
        if self.cfg.tick_size is None or self.cfg.lot_size is None:
            raise ConfigError("tick_size, lot_size: the step driver needs both (or an "
                              "instrument); it does not infer them from data")
        self.strategy = strategy
        self.engine = engine
        self.session_end = int(session_end)
        self.end = int(end) if end is not None else self.session_end
        self._job: _Job | None = None  # the kernel's run, started by the first rows fed
        self._n = 0
        self._ev: np.ndarray | None = None  # event buffer (capacity doubles)
        self._code: np.ndarray | None = None
        self._finished = False
        self._result = None
        self._wm = -int(E.BIG)
        self._l3a = np.zeros(1, dtype=np.int64)
        self._l3 = False
        self._fed_l2 = False
        self._p0 = math.nan
        self._kill_pending = False
        #: a portfolio (PortfolioDriver) pauses the core just before this strategy step
        self._k_stop = -1
        self._sides = E.SIDES_BOTH  # one side alone: mmlab.backtest.engine._loopback
        self._autorun = True  # False: feeding only appends; the owner runs the kernel
        self._max_position: float | None = None  # the hard limit as set by set_max_position

    # ---- feeding ---------------------------------------------------------------------------
    def feed(self, batch: np.ndarray) -> None:
        """Append ``batch`` (``EVENT_DTYPE`` rows, in stream order) and run the core as far as
        the rows received allow."""
        if self._finished:
            raise ConfigError("feed: the session is finished")
        if len(batch) == 0:
            return
        code, st = scan(batch, self.engine, source="batch")
        if st["n_l3"] > 0:
            raise ConfigError("batch: L3 order events (ADD/CANCEL/MODIFY/FILL): rewrite them "
                              "with mmlab.backtest.prepare_l3 and feed the records with "
                              "feed_l3")
        if self._l3:
            raise ConfigError("batch: this session is fed L3 records (feed_l3)")
        self._check_watermark(batch, code)
        self._append(batch, code, None)
        self._fed_l2 = True
        self._go(batch, code)

    def feed_l3(self, stream: np.ndarray, kinds: np.ndarray, l3a: np.ndarray) -> None:
        """Append L3 records rewritten by :func:`mmlab.backtest.prepare_l3` (a slice of its
        ``stream``, ``kinds`` and ``l3a``, in order from the first record; ``l3a`` holds record
        indices of the whole rewritten stream) and run the core as far as they allow. The
        rewrite is causal (a record depends on the events before it, and a ``TRADE`` on
        whether the next event is the ``FILL`` it caused), so feeding its records a batch at
        a time is feeding the market a batch at a time; ``queue_model='fifo'`` then tracks our
        place order by order."""
        if self._finished:
            raise ConfigError("feed_l3: the session is finished")
        if not (len(stream) == len(kinds) == len(l3a)):
            raise ConfigError("feed_l3: stream, kinds and l3a need the same length")
        if len(stream) == 0:
            return
        if self._fed_l2:
            raise ConfigError("feed_l3: this session is fed L2 events (feed)")
        code, st = scan(stream, self.engine, source="batch")
        kinds = np.asarray(kinds, dtype=np.uint8)
        over = kinds > 0
        code[over] = (code[over] & np.uint8(0xF0)) | kinds[over]
        self._check_watermark(stream, code)
        self._l3 = True
        self._append(stream, code, np.asarray(l3a, dtype=np.int64))
        self._go(stream, code)

    def _go(self, batch, code) -> None:
        if self._job is None and not self._start_job():
            return
        self._fit_range(batch, code)
        if self._autorun:
            self._run()

    def advance_to(self, t: int) -> None:
        """Promise that no row fed later has an exchange or local timestamp before ``t`` (ns),
        and take every action due before ``t``."""
        if self._finished:
            raise ConfigError("advance_to: the session is finished")
        t = int(t)
        if t > self._wm:
            self._wm = t
        if self._job is not None:
            self._job.state.pos["wm"] = self._wm
            if self._autorun:
                self._run()

    def finish(self):
        """The stream is complete: run to the end; returns the :class:`BacktestResult`."""
        if self._result is not None:
            return self._result
        if self._job is None:
            raise ConfigError("finish: no event with both an exchange and a local clock was fed")
        self._finished = True
        self._job.state.pos["fin"] = 1
        self._run()
        self._job.events = self._ev[: self._n]
        self._job.n_events = self._n
        self._result = _finish(self._job)
        return self._result

    # ---- state a session shows ---------------------------------------------------------------
    @property
    def n_events(self) -> int:
        """Rows fed so far."""
        return self._n

    @property
    def position(self) -> float:
        """The exchange's position (fills booked), 0 before the first row."""
        return 0.0 if self._job is None else float(self._job.state.acc["pos"])

    @property
    def n_fills(self) -> int:
        """Fills booked so far."""
        return 0 if self._job is None else int(self._job.state.sc["nfills"])

    @property
    def local_equity(self) -> float:
        """The local side's equity marked at its own mid at the last decision (NaN before)."""
        return math.nan if self._job is None else float(self._job.state.acc["leq"])

    @property
    def halted(self) -> bool:
        """True while a latched breaker (drawdown, daily loss, kill switch) holds."""
        return self._job is not None and int(self._job.state.sc["halt"]) != 0

    @property
    def risk_events(self):
        """The risk events so far (the table of :attr:`BacktestResult.risk_events`)."""
        from mmlab.backtest.engine._results import risk_frame

        if self._job is None:
            return risk_frame(np.zeros(0, dtype=E.RISK_EVENT_DTYPE))
        sc, rk = self._job.state.sc, self._job.state.rk
        n = min(int(sc["nrisk"]), rk.shape[0])
        return risk_frame(rk[:n])

    def fills_since(self, k: int):
        """The fills booked after the first ``k`` (the table of
        :attr:`BacktestResult.fills` without ``spread_capture`` and ``seq``): what a session
        publishes as it goes."""
        from mmlab.backtest.engine._results import fills_frame

        n = 0 if self._job is None else int(self._job.state.sc["nfills"])
        if n > k:
            assert self._job is not None  # fills were booked: the core started
            fills = self._job.fills[k:n]
        else:
            fills = np.zeros(0, dtype=E.FILL_DTYPE)
        return fills_frame(fills).drop(columns=["spread_capture", "seq"])

    def steps(self):
        """The step table so far (the columns of :attr:`BacktestResult.steps`, a copy)."""
        import pandas as pd

        if self._job is None:
            k = 0
            steps = np.zeros(0, dtype=E.STEP_DTYPE)
        else:
            job = self._job
            k = -(-int(job.state.pos["k"]) // int(job.settings["record"]))
            steps = job.steps[:k]
        cols = {"ts": steps["ts"].copy()}
        cols.update({name: steps[name].copy() for name in E.STEP_FLOATS})
        return pd.DataFrame(cols)

    def snapshot(self) -> dict:
        """The session now, as its local side sees it (a desk's status line): the local book's
        best bid and ask, our working orders (price, side, leaves), the position (local view and
        the exchange's), the PnL split at the last mark, the local marked equity, and the
        breakers that hold."""
        out: dict[str, Any] = {"events": self._n, "time": self._now() if self._n else 0,
               "best_bid": math.nan, "best_ask": math.nan, "our_bids": [], "our_asks": [],
               "working_orders": 0, "position": 0.0, "local_position": 0.0,
               "pnl": {"spread": 0.0, "inventory": 0.0, "fees": 0.0, "funding": 0.0,
                       "total": 0.0},
               "local_equity": math.nan, "halted": False, "paused": False, "breakers": [],
               "fills": self.n_fills, "orders_sent": 0}
        job = self._job
        if job is None:
            return out
        orders, sc, acc = job.state.orders, job.state.sc, job.state.acc
        best, tick, base, n = job.best, job.tick, job.base, job.n_ticks
        out["best_bid"] = (best[2] + base) * tick if best[2] >= 0 else math.nan
        out["best_ask"] = (best[3] + base) * tick if best[3] < n else math.nan
        for s in range(orders.shape[0]):
            lo = orders[s]["lo_state"]
            if lo in (E.LO_PNEW, E.LO_WORK, E.LO_PCANCEL, E.LO_PMODIFY):
                row = (round(float(orders[s]["ltick"] * tick), 12), float(orders[s]["lleaves"]),
                       "pending_cancel" if lo == E.LO_PCANCEL else
                       "pending_modify" if lo == E.LO_PMODIFY else
                       "pending_new" if lo == E.LO_PNEW else "working")
                (out["our_bids"] if orders[s]["side"] == 1 else out["our_asks"]).append(row)
        out["our_bids"].sort(reverse=True)
        out["our_asks"].sort()
        out["working_orders"] = len(out["our_bids"]) + len(out["our_asks"])
        out["position"] = float(acc["pos"])
        out["local_position"] = float(acc["lpos"])
        out["orders_sent"] = int(sc["nsent"])
        pnl = {"spread": float(acc["spread"]), "inventory": float(acc["inv"]),
               "fees": -float(acc["fees"]), "funding": float(acc["fund"])}
        pnl["total"] = sum(pnl.values())
        out["pnl"] = pnl
        out["local_equity"] = float(acc["leq"])
        halt, pause = int(sc["halt"]), int(sc["pause"])
        names = [nm for bit, nm in ((E.H_DRAWDOWN, "drawdown"), (E.H_DAILY, "daily_loss"),
                                    (E.H_KILL, "kill_switch"),
                                    (E.H_KERNEL, "quote_kernel_error"),
                                    (E.H_LIMIT, "hard_limit")) if halt & bit]
        names += [nm for bit, nm in ((E.B_STALE, "stale_feed"), (E.B_SPREAD, "abnormal_spread"),
                                     (E.B_VOL, "vol_surge")) if pause & bit]
        out.update(halted=halt != 0, paused=pause != 0, breakers=names)
        return out

    def kill(self) -> None:
        """The kill switch: latched; at the next decision every working order is cancelled
        and nothing more is sent until :meth:`reset`. Recorded at the latest time seen."""
        if self._job is None:  # before the first event: engaged when the core starts
            self._kill_pending = True
            return
        job = self._job
        sc = job.state.sc
        if not sc["halt"] & E.H_KILL:
            sc["halt"] |= E.H_KILL
            E._py["_risk_event"](job.state.rk, sc, self._now(), E.RK_KILL,
                                 float(job.state.acc["leq"]))

    def set_max_position(self, max_position: float) -> None:
        """Change the hard limit (quantity) from the next decision on. Lowered below the local
        position, it is a breach: at that decision every working order is cancelled, the
        position is flattened by one marketable order once the reducing side is clear, and
        quoting halts (``hard_limit`` in the risk events) until :meth:`reset`."""
        q = float(max_position)
        if not (q >= 0.0):
            raise ConfigError(f"max_position: must be >= 0, got {max_position!r}")
        self._max_position = q
        if self._job is not None:
            self._job.settings["maxpos"] = q
            self._job.settings["hardpos"] = q

    def reset(self) -> None:
        """Clear the latched breakers (drawdown, daily loss, kill switch); the drawdown's
        peak and the day's reference restart from the current marked equity."""
        if self._job is None:
            self._kill_pending = False
            return
        job = self._job
        sc, acc = job.state.sc, job.state.acc
        if sc["halt"]:
            E._py["_risk_event"](job.state.rk, sc, self._now(), E.RK_RESET,
                                 float(sc["halt"]))
            sc["halt"] = 0
            acc["lpeak"] = acc["leq"]
            acc["day0"] = acc["leq"]

    def _now(self) -> int:
        n = self._n
        t = int(self._ev["local_ts"][:n].max()) if n and self._ev is not None else 0
        return max(t, self._wm)

    # ---- internals ---------------------------------------------------------------------------
    def _check_watermark(self, batch, code) -> None:
        wm = self._wm
        if wm <= -int(E.BIG):
            return
        ex = (code & E.C_EXCH) != 0
        lo = (code & E.C_LOCAL) != 0
        bad = (ex & (batch["exch_ts"] < wm)) | (lo & (batch["local_ts"] < wm))
        if bad.any():
            i = int(np.argmax(bad))
            raise ConfigError(f"batch: row {int(batch['ival'][i])} is stamped before the time "
                              f"already advanced to ({wm} ns)")

    def _append(self, batch, code, l3a) -> None:
        n, m = self._n, len(batch)
        if self._ev is None or self._code is None or n + m > len(self._ev):
            cap = max(1024, 2 * (n + m))
            ev = np.zeros(cap, dtype=batch.dtype)
            cd = np.zeros(cap, dtype=np.uint8)
            la = np.full(cap if l3a is not None else 1, -1, dtype=np.int64)
            if self._ev is not None and self._code is not None:
                ev[:n] = self._ev[:n]
                cd[:n] = self._code[:n]
                if l3a is not None:
                    la[:n] = self._l3a[:n]
            self._ev, self._code, self._l3a = ev, cd, la
        self._ev[n: n + m] = batch
        self._code[n: n + m] = code
        if l3a is not None:
            self._l3a[n: n + m] = l3a
        self._n = n + m

    def _start_job(self) -> bool:
        """Build the kernel's state once a row of each clock has been fed."""
        n = self._n
        assert self._ev is not None and self._code is not None  # rows were appended
        code = self._code[:n]
        ex = np.flatnonzero((code & E.C_EXCH) != 0)
        lo = np.flatnonzero((code & E.C_LOCAL) != 0)
        kind = code & 15
        px_rows = np.flatnonzero((kind == E.K_DEPTH) | (kind == E.K_SNAPSHOT)
                                 | (kind == E.K_TRADE) | (kind >= E.K_ADD))
        if ex.size == 0 or lo.size == 0 or px_rows.size == 0:
            return False
        cfg = self.cfg
        assert cfg.tick_size is not None and cfg.lot_size is not None  # checked by __init__
        tick = float(cfg.tick_size)
        self._p0 = float(self._ev["px"][px_rows[0]])  # the first price fed
        if cfg.start is not None:
            start = int(cfg.start)
        else:  # as the backtest: the earliest of the first local and first exchange stamps
            start = min(int(self._ev["local_ts"][lo[0]]), int(self._ev["exch_ts"][ex[0]]))
        if cfg.roi is not None:
            lo_px, hi_px = cfg.roi
        else:
            lo_px, hi_px = self._p0 * (1.0 - ROI_SHARE), self._p0 * (1.0 + ROI_SHARE)
        base = int(math.floor(lo_px / tick + 0.5))
        n_ticks = int(math.floor(hi_px / tick + 0.5)) - base + 1
        interval = int(cfg.interval)
        n_steps = max(0, (self.end - start - interval) // interval + 1)
        self._job = make_job(cfg, self.strategy, self.engine, tick=tick,
                             lot=float(cfg.lot_size), base=base, n_ticks=n_ticks, start=start,
                             session_end=self.session_end, n_steps=n_steps,
                             record=int(cfg.record_every), shared=False)
        self._job.data_hashes = {}
        self._job.fifo = self.cfg.queue_model == "fifo"
        if self._job.fifo and not self._l3:
            raise ConfigError("queue_model: 'fifo' needs L3 records (feed_l3)")
        self._job.params["l3"] = self._l3
        if self._kill_pending:
            self.kill()
        pos = self._job.state.pos
        pos["fin"] = 0
        pos["wm"] = self._wm
        self._job.params["driver"] = "step"
        self._job.settings["sides"] = self._sides
        if self._max_position is not None:  # set before the first row
            self._job.settings["maxpos"] = self._job.settings["hardpos"] = self._max_position
        return True

    def _fit_range(self, batch, code) -> None:
        """Grow the dense book when a price fed falls outside it: a trade or a new best
        anywhere, or a depth price within ``ROI_SHARE`` of the range, widens the range to that price
        +- ``ROI_SHARE`` (repeated, so a market walking away within one batch is followed).
        Levels are kept; order ticks are absolute, so only the book, its best indices and the
        base move. As in the backtest, whose range is the traded range +- 10 %, depth levels
        far from the market are ignored: they cannot touch our orders."""
        if self.cfg.roi is not None:
            return
        job = self._job
        assert job is not None  # _go started the core before fitting the range
        kind = code & 15
        use = ((kind == E.K_DEPTH) | (kind == E.K_SNAPSHOT) | (kind == E.K_TRADE)
               | (kind >= E.K_ADD))
        if not use.any():
            return
        px = batch["px"][use]
        tick = job.tick
        base, n = job.base, job.n_ticks
        lo_p, hi_p = base * tick, (base + n - 1) * tick
        grown = False
        # the market wherever it goes (a jump), always followed: a trade, or a depth level
        # that would be a new best (a bid above the best bid, an ask below the best ask)
        best = job.best
        bb = (best[0] + base) * tick if best[0] >= 0 else -math.inf
        ba = (best[1] + base) * tick if best[1] < n else math.inf
        is_depth = (kind == E.K_DEPTH) | (kind == E.K_SNAPSHOT)
        buy = (code & E.C_BUY) != 0
        bp = batch["px"]
        top = is_depth & (batch["qty"] > 0) & ((buy & (bp > bb)) | (~buy & (bp < ba)))
        trades = bp[(kind == E.K_TRADE) | (kind == E.K_VTRADE) | (kind == E.K_EXEC) | top]
        if trades.size:
            t_lo, t_hi = float(trades.min()), float(trades.max())
            if t_lo < lo_p:
                lo_p, grown = t_lo * (1.0 - ROI_SHARE), True
            if t_hi > hi_p:
                hi_p, grown = t_hi * (1.0 + ROI_SHARE), True
        while True:  # prices within ROI_SHARE of the range, outside it, widen it (chained)
            near = px[(px >= lo_p * (1.0 - ROI_SHARE)) & (px <= hi_p * (1.0 + ROI_SHARE))]
            out = near[(near < lo_p) | (near > hi_p)]
            if out.size == 0:
                break
            lo_p = min(lo_p, float(out.min()) * (1.0 - ROI_SHARE))
            hi_p = max(hi_p, float(out.max()) * (1.0 + ROI_SHARE))
            grown = True
        if not grown:
            return
        new_lo = min(base, int(math.floor(lo_p / tick + 0.5)))
        new_hi = max(base + n - 1, int(math.floor(hi_p / tick + 0.5)))
        p_lo, p_hi = lo_p, hi_p
        new_n = new_hi - new_lo + 1
        if new_n > MAX_TICKS:
            raise ConfigError(f"batch: prices from {p_lo} to {p_hi} need a book of {new_n} "
                              "ticks; pass roi=(lo, hi)")
        off = base - new_lo
        book = np.zeros((4, new_n), dtype=np.float64)
        book[:, off: off + n] = job.book
        best = job.best
        for b in range(4):
            empty = best[b] < 0 if b % 2 == 0 else best[b] >= n
            if empty:
                best[b] = -1 if b % 2 == 0 else new_n
            else:
                best[b] += off
        job.book = book
        job.base, job.n_ticks = new_lo, new_n
        job.settings["base"] = new_lo
        job.settings["nticks"] = new_n
        job.params["roi_used"] = (new_lo * tick, new_hi * tick)

    def _run(self, one_step: bool = False) -> None:
        job = self._job
        assert job is not None and self._ev is not None and self._code is not None
        n = self._n
        ev = self._ev[:n]
        job.args = (self._code[:n], ev["exch_ts"], ev["local_ts"], ev["px"], ev["qty"],
                    self._l3a[:n] if self._l3 else self._l3a[:1])
        kern = E.kernel_for(self.engine, job.settings, self._l3)
        pos = job.state.pos
        pos["kstop"] = -1 if one_step else self._k_stop
        pos["one"] = int(one_step)
        job.fills, job.bh = kern(*job.args, job.bh, *E.rows(job.args_b), job.steps, job.fills,
                                  job.fund_out, job.book, job.best, *E.rows(job.state))
