"""The local side alone against a venue adapter: the live shape of the trading core, run on a
recording with the core's own exchange side as the venue.

:class:`SimulatedVenue` is the core's exchange side run apart (``SIDES_EXCH``), behind the
:class:`~mmlab.backtest.VenueAdapter` interface: it is fed the market's rows, takes
:data:`~mmlab.backtest.REQUEST_DTYPE` rows and gives :data:`~mmlab.backtest.RESPONSE_DTYPE`
rows, keeps the fills, the account and the funding, and marks the account at the strategy
clock (the step table's exchange columns). It knows the local side only through the records:
its own order slots, found by order id.

:class:`LoopbackDriver` is the local side run apart (``SIDES_LOCAL``, a
:class:`~mmlab.backtest.StepDriver` that does not run the exchange) wired to an adapter. The two
advance in turn: the venue up to the local side's next decision (the only actions that send
requests), then the local side strictly before the venue's horizon (its next market row or
request arrival: the only actions that answer). At equal times every exchange-side action
precedes every local-side one in the merged timeline, so the turns take the merged timeline's
actions in its order, and a loopback session fills exactly as the backtest
(``tests/test_loopback.py``). A live adapter replaces the venue: its horizon is the wall clock.
"""

from __future__ import annotations

import math

import numpy as np

from mmlab.backtest.engine import _engine as E
from mmlab.backtest.engine._driver import StepDriver
from mmlab.backtest.engine._run import _finish
from mmlab.backtest.engine._wire import REQUEST_DTYPE, RESPONSE_DTYPE, VenueAdapter
from mmlab.errors import ConfigError

__all__ = ["LoopbackDriver", "SimulatedVenue"]

BIG = int(E.BIG)
# the local side's slots of the account (acc) and scalars (sc); the rest is the exchange's
_LOCAL_ACC = ("lpos", "lcash", "lpeak", "day0", "lmark", "lmidprev", "leq", "tokens")
_LOCAL_SC = ("nextid", "nsent", "halt", "pause", "pause_until", "day", "nrisk", "tfeed", "toxn",
             "toxhead", "toxbuy", "toxic", "toxclean", "tokt", "nthrottled", "rng_entry",
             "nmodify", "nbanded", "tox_ring")
# the step table's columns the local side records (its mid, position and quotes)
_LOCAL_STF = ("local_mid", "local_position", "quote_bid", "quote_ask")


class SimulatedVenue:
    """The core's simulated exchange side behind the venue-adapter interface.

    Parameters
    ----------
    strategy, session_end, end, engine, **settings
        As :class:`~mmlab.backtest.StepDriver` (the strategy fixes the clock at which the
        venue marks the account; it makes no decision here).
    """

    def __init__(self, strategy, *, session_end: int, end: int | None = None,
                 engine: str = "numba", **settings) -> None:
        self._d = StepDriver(strategy, session_end=session_end, end=end, engine=engine,
                             **settings)
        self._d._sides = E.SIDES_EXCH
        self._d._autorun = False
        self._slot_of: dict[int, int] = {}  # order id -> slot of ours

    # ---- the market ------------------------------------------------------------------------
    def feed(self, batch: np.ndarray) -> None:
        """Append market rows (the exchange clock's are used)."""
        self._d.feed(batch)

    def feed_l3(self, stream, kinds, l3a) -> None:
        """Append L3 records (:meth:`StepDriver.feed_l3`)."""
        self._d.feed_l3(stream, kinds, l3a)

    def advance_watermark(self, t: int) -> None:
        """No row fed later is stamped before ``t``."""
        d = self._d
        d._wm = max(d._wm, int(t))
        if d._job is not None:
            d._job.state.pos["wm"] = d._wm

    def end_of_stream(self) -> None:
        """Every row has been fed."""
        self._d._finished = True
        if self._d._job is not None:
            self._d._job.state.pos["fin"] = 1

    @property
    def started(self) -> bool:
        return self._d._job is not None

    # ---- the adapter interface ---------------------------------------------------------------
    def submit(self, requests: np.ndarray) -> None:
        """Requests arrive at their ``ts``: new orders take a free slot, cancels find theirs."""
        if len(requests) == 0:
            return
        job = self._need_job()
        orders, rq, sc = job.state.orders, job.state.rq, job.state.sc
        for r in np.sort(requests, order=["ts", "seq"]):
            oid = int(r["order_id"])
            if r["kind"] == E.R_NEW:
                s = self._free_slot(orders)
                orders[s]["id"], orders[s]["side"] = oid, int(r["side"])
                orders[s]["tick"], orders[s]["ex_state"] = int(r["price_tick"]), 0
                orders[s]["lo_state"], orders[s]["post_only"] = E.LO_PNEW, int(bool(r["post_only"]))
                orders[s]["qty"] = orders[s]["leaves"] = orders[s]["lleaves"] = float(r["qty"])
                orders[s]["front"] = orders[s]["cum"] = orders[s]["filled"] = 0.0
                self._slot_of[oid] = s
            elif r["kind"] == E.R_CANCEL or r["kind"] == E.R_MODIFY:
                s = self._slot_of.get(oid, 0)  # unknown: the exchange answers ..._rejected
                if r["kind"] == E.R_MODIFY and orders[s]["id"] == oid:
                    orders[s]["mtick"] = int(r["price_tick"])
                    orders[s]["mtotal"] = float(r["qty"])  # the order's new total quantity
            else:
                raise ConfigError(f"requests: kind {int(r['kind'])} of order {oid} is not "
                                  "new (1), cancel (2) or modify (3)")
            n = int(sc["nreq"])
            if n >= rq.shape[0]:
                raise ConfigError("requests: more in flight than the venue's queue holds")
            rq[n] = (int(r["ts"]), s, int(r["kind"]), oid, int(r["seq"]))
            sc["nreq"] = n + 1

    def advance(self, until: int) -> None:
        """Act up to and including ``until`` (``BIG``: the local side is done)."""
        d = self._d
        if d._job is None:
            return
        d._job.state.pos["hor"] = BIG if until >= BIG else int(until) + 1
        d._run()

    def responses(self) -> np.ndarray:
        if self._d._job is None:
            return np.zeros(0, RESPONSE_DTYPE)
        job = self._d._job
        orders, rs, sc = job.state.orders, job.state.rs, job.state.sc
        n = int(sc["nresp"])
        out = np.zeros(n, RESPONSE_DTYPE)
        out["ts"], out["kind"], out["order_id"], out["seq"] = (
            rs[:n]["ts"], rs[:n]["kind"], rs[:n]["order_id"], rs[:n]["seq"])
        out["qty"], out["cash"] = rs[:n]["qty"], rs[:n]["cash"]
        sc["nresp"] = 0
        for s in rs[:n]["slot"]:  # orders gone here free their slot's id
            if orders[s]["ex_state"] == 2:
                self._slot_of.pop(int(orders[s]["id"]), None)
        return out

    def horizon(self) -> int:
        """The venue's next action that may answer: its next market row or request arrival."""
        job = self._d._job
        if job is None:
            return -BIG
        d = self._d
        assert d._ev is not None and d._code is not None  # the core started on rows fed
        pos, sc, rq = job.state.pos, job.state.sc, job.state.rq
        if pos["done"]:
            return BIG
        code = d._code[: d._n]
        i = int(pos["iex"])
        while i < d._n and (code[i] & E.C_EXCH) == 0:
            i += 1
        t = int(d._ev["exch_ts"][i]) if i < d._n else (BIG if pos["fin"] else d._wm)
        n = int(sc["nreq"])
        if n:
            t = min(t, int(rq[:n]["ts"].min()))
        return t

    @property
    def done(self) -> bool:
        return self._d._job is not None and bool(self._d._job.state.pos["done"])

    # ---- internals ---------------------------------------------------------------------------
    def _need_job(self):
        if self._d._job is None:
            raise ConfigError("requests: the venue has no market yet (feed it first)")
        return self._d._job

    def _free_slot(self, orders) -> int:
        active = set(self._slot_of.values())
        for s in range(orders.shape[0]):
            if s not in active and (orders[s]["id"] == 0 or orders[s]["ex_state"] == 2):
                return s
        raise ConfigError("requests: more working orders than the venue's order slots")


class LoopbackDriver:
    """The local side alone, wired to a venue adapter (default: a :class:`SimulatedVenue` on
    the same settings): the live shape of a session, on a recording.

    Same feeding interface as :class:`~mmlab.backtest.StepDriver` (``feed``, ``feed_l3``,
    ``advance_to``, ``kill``, ``reset``, ``finish``); the result's fills, account and funding
    are the venue's, its decisions, risk events and local columns the local side's.
    """

    def __init__(self, strategy, *, session_end: int, end: int | None = None,
                 engine: str = "numba", venue: SimulatedVenue | VenueAdapter | None = None,
                 **settings) -> None:
        self.local = StepDriver(strategy, session_end=session_end, end=end, engine=engine,
                                **settings)
        self.local._sides = E.SIDES_LOCAL
        self.local._autorun = False
        self.venue = venue if venue is not None else SimulatedVenue(
            strategy, session_end=session_end, end=end, engine=engine, **settings)
        self._result = None
        self.n_requests = 0
        self.n_responses = 0
        # a live venue (any other VenueAdapter) sees the market itself: it is fed nothing,
        # it is always started, and it keeps the session's fills and account on its side
        self._sim = isinstance(self.venue, SimulatedVenue)

    def feed(self, batch: np.ndarray) -> None:
        self.local.feed(batch)
        if isinstance(self.venue, SimulatedVenue):
            self.venue.feed(batch.copy())
        self._pump()

    def feed_l3(self, stream, kinds, l3a) -> None:
        self.local.feed_l3(stream, kinds, l3a)
        if isinstance(self.venue, SimulatedVenue):
            self.venue.feed_l3(stream.copy(), kinds.copy(), l3a.copy())
        self._pump()

    def advance_to(self, t: int) -> None:
        self.local.advance_to(t)  # (with autorun off it only records the watermark)
        if isinstance(self.venue, SimulatedVenue):
            self.venue.advance_watermark(t)
        self._pump()

    def kill(self) -> None:
        self.local.kill()

    def reset(self) -> None:
        self.local.reset()

    def set_max_position(self, max_position: float) -> None:
        """The local side's hard limit (:meth:`StepDriver.set_max_position`)."""
        self.local.set_max_position(max_position)

    def finish(self):
        """Every row has been fed: run both sides to the end; the
        :class:`~mmlab.backtest.BacktestResult`."""
        if self._result is not None:
            return self._result
        if not self._sim:
            raise ConfigError("finish: a live venue keeps the session's fills and account; "
                              "the local side's state is on LoopbackDriver.local")
        if self.local._job is None or not self.venue.started:
            raise ConfigError("finish: no event with both an exchange and a local clock was fed")
        self.local._finished = True
        self.local._job.state.pos["fin"] = 1
        self.venue.end_of_stream()
        self._pump()
        if not (self.venue.done and self.local._job.state.pos["done"]):
            raise RuntimeError("loopback: the two sides stopped before the end (a bug)")
        self._result = self._assemble()
        return self._result

    # ---- the turns -----------------------------------------------------------------------------
    def _pump(self) -> None:
        lo = self.local
        if lo._job is None or (isinstance(self.venue, SimulatedVenue)
                               and not self.venue.started):
            return
        pos = lo._job.state.pos
        while True:
            before = self._progress()
            # 1. the venue, up to the local side's next decision (the only sender)
            self.venue.advance(self._next_decision())
            self._receive(self.venue.responses())
            # 2. the local side, strictly before the venue may answer next
            pos["hor"] = self.venue.horizon()
            lo._run()
            self.venue.submit(self._take_requests())
            if self._progress() == before:
                return

    def _next_decision(self) -> int:
        job = self.local._job
        assert job is not None  # the local core started
        pos = job.state.pos
        if pos["done"]:
            return BIG
        k = int(pos["k"])
        if k >= int(job.settings["nsteps"]):
            return BIG
        return int(job.settings["tstart"]) + int(job.settings["interval"]) * k

    def _progress(self):
        job = self.local._job
        assert job is not None  # the local core started
        lp = job.state.pos
        if not self._sim:
            return (int(lp["ilo"]), int(lp["k"]), int(lp["done"]), self.n_requests,
                    self.n_responses, int(job.state.sc["nresp"]))
        vj = self.venue._d._job
        vp = vj.state.pos
        return (int(lp["ilo"]), int(lp["k"]), int(lp["done"]), int(vp["iex"]),
                int(vp["k"]), int(vp["done"]), self.n_requests, self.n_responses,
                int(vj.state.sc["nreq"]), int(job.state.sc["nresp"]))

    def _take_requests(self) -> np.ndarray:
        job = self.local._job
        assert job is not None  # the local core started
        orders, rq, sc = job.state.orders, job.state.rq, job.state.sc
        n = int(sc["nreq"])
        out = np.zeros(n, REQUEST_DTYPE)
        if n == 0:
            return out
        slots = rq[:n]["slot"]
        for name in ("ts", "kind", "order_id", "seq"):
            out[name] = rq[:n][name]
        # a modify carries the order's new tick and its new total quantity (filled included)
        mod = rq[:n]["kind"] == E.R_MODIFY
        out["side"], out["post_only"] = orders[slots]["side"], orders[slots]["post_only"] == 1
        out["price_tick"] = np.where(mod, orders[slots]["mtick"], orders[slots]["ltick"])
        out["qty"] = np.where(mod, orders[slots]["mtotal"], orders[slots]["qty"])
        sc["nreq"] = 0
        self.n_requests += n
        return out

    def _receive(self, resp: np.ndarray) -> None:
        if len(resp) == 0:
            return
        job = self.local._job
        assert job is not None  # the local core started
        orders, rs, sc = job.state.orders, job.state.rs, job.state.sc
        ids = orders["id"]
        n = int(sc["nresp"])
        if n + len(resp) > rs.shape[0]:
            raise RuntimeError("loopback: more responses in flight than the local queue holds")
        for r in resp:
            hit = np.flatnonzero(ids == r["order_id"])
            s = int(hit[0]) if hit.size else 0  # not ours any more: the local side ignores it
            rs[n] = (int(r["ts"]), s, int(r["kind"]), int(r["order_id"]), int(r["seq"]),
                     float(r["qty"]), float(r["cash"]))
            n += 1
        sc["nresp"] = n
        self.n_responses += len(resp)

    def _assemble(self):
        """The venue's job (fills, account, funding, marks) with the local side's decisions,
        risk events, counters and columns."""
        vd, ld = self.venue._d, self.local
        job, lj = vd._job, ld._job
        vsc, vacc, lsc, lacc = job.state.sc, job.state.acc, lj.state.sc, lj.state.acc
        for a in _LOCAL_ACC:
            vacc[a] = lacc[a]
        for s in _LOCAL_SC:
            vsc[s] = lsc[s]
        k = min(len(job.steps), len(lj.steps))
        for c in _LOCAL_STF:
            job.steps[c][:k] = lj.steps[c][:k]
        job.state.rk[:] = lj.state.rk
        job.events = vd._ev[: vd._n]
        job.n_events = vd._n
        job.params["driver"] = "loopback"
        job.params["wire"] = {"requests": self.n_requests, "responses": self.n_responses}
        return _finish(job)

    # ---- what a session shows ------------------------------------------------------------------
    @property
    def local_equity(self) -> float:
        return self.local.local_equity

    @property
    def halted(self) -> bool:
        return self.local.halted

    @property
    def position(self) -> float:
        """The position the local side has heard of."""
        j = self.local._job
        return 0.0 if j is None else float(j.state.acc["lpos"])

    def __repr__(self) -> str:
        return (f"LoopbackDriver(events={self.local.n_events}, requests={self.n_requests}, "
                f"responses={self.n_responses}, local_equity={self.local_equity:.6g})"
                if not math.isnan(self.local_equity) else
                f"LoopbackDriver(events={self.local.n_events}, requests={self.n_requests})")
