"""``run(data, strategy, **settings)``: the event-replay backtest on a market-event array.

Assumptions (stated in every result's ``assumptions``):

* **no market impact** — our fills never consume or move the replayed liquidity, and our
  resting orders never show in the replayed book;
* queue position from L2 data with the chosen queue model (hftbacktest's definitions);
* crossing non-post-only orders fill in full at the opposite best (no walking the book);
* ``DEPTH_BBO`` events are not used; L3 order events (e.g. LOBSTER) become level updates
  (:mod:`mmlab.backtest.engine._l3`), and ``queue_model='fifo'`` tracks our order's place in the
  queue order by order.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from mmlab.backtest.core.loop import RunState
from mmlab.backtest.engine import _engine as E
from mmlab.backtest.engine._config import BacktestConfig, config_from, layer_spec, zone_spec
from mmlab.backtest.engine._fees import FeeModel
from mmlab.backtest.engine._latency import latency_array
from mmlab.backtest.engine._queue import QUEUE_FIFO, queue_model_code
from mmlab.backtest.engine._strategies import strategy_spec
from mmlab.errors import ConfigError, FormatError

__all__ = ["ASSUMPTIONS", "BacktestConfig", "load_events", "prepare_events", "run", "scan"]

#: use the engine's shared-book mode when the data allows it (see ``run_kernel``); tests switch
#: it off to check that both modes give identical results
_SHARED_BOOK = True

ASSUMPTIONS = (
    "no market impact: our fills do not consume or move the replayed liquidity",
    "queue position estimated from L2 quantities (queue model), trades at our price advance it",
    "crossing (non post-only) orders fill in full at the opposite best price",
    "post-only orders that would cross on arrival are rejected",
    "DEPTH_BBO events are ignored; L3 order events update the levels they change",
)
FIFO_ASSUMPTION = (
    "queue_model='fifo': the queue ahead is the exact size of the orders that reached the "
    "exchange before ours; executions beyond it, or of orders behind ours, fill us; an order "
    "of the other side resting at or through our price fills us in full (as for L2)")


STEP_ROW_BYTES = E.STEP_DTYPE.itemsize  # one row of the step table (136 bytes)
AUTO_RECORD_SHARE = 0.6  # record_every="auto": the table's bytes <= this share of the events'


def auto_record_every(n_steps: int, event_bytes: int) -> int:
    """The ``record_every`` of ``"auto"``: 1 while ``n_steps`` rows of the step table fit in
    ``AUTO_RECORD_SHARE`` of ``event_bytes``, else the smallest value that makes them fit.

    Examples
    --------
    >>> auto_record_every(23_400, 94_050 * 64)   # LOBSTER AMZN day, 1 s steps: every step
    1
    >>> auto_record_every(234_000, 94_050 * 64)  # the same day at 100 ms: one row in 9
    9
    """
    rows = max(1, int(AUTO_RECORD_SHARE * float(event_bytes)) // STEP_ROW_BYTES)
    return max(1, -(-int(n_steps) // rows))


def _resolve_instrument(settings: dict) -> dict:
    inst = settings.get("instrument")
    if inst is None:
        return settings
    if isinstance(inst, str):
        from mmlab.data import get_instrument

        inst = get_instrument(inst)
    fees = FeeModel.from_instrument(inst)
    out: dict[str, Any] = {"tick_size": float(inst.tick_size), "lot_size": float(inst.lot_size),
           "multiplier": float(inst.multiplier), "inverse": bool(inst.inverse),
           "maker_fee": fees.maker, "taker_fee": fees.taker,
           "fee_per_contract": fees.per_contract}
    out.update({k: v for k, v in settings.items() if k != "instrument"})
    out["instrument"] = inst
    return out


def load_events(data) -> np.ndarray:
    """The event array of ``data``: an ``EVENT_DTYPE`` array as it is, or a file
    :func:`run` reads (Binance dump, ``.npz``, LOBSTER message file)."""
    ev = _load(data)[0]
    from mmlab.backtest.engine._l3 import L3Events

    return ev.stream if isinstance(ev, L3Events) else ev


def _load(data):
    from mmlab.backtest.engine._l3 import L3Events

    if isinstance(data, np.ndarray | L3Events):
        return data, {}
    p = Path(data)
    if not p.exists():
        raise ConfigError(f"data: no such file {str(p)!r}")
    from mmlab.provenance import file_sha256

    if p.suffix == ".npz":
        from mmlab.data import load_npz

        ev = load_npz(p)
    elif "_message_" in p.name:
        from mmlab.data import load_lobster

        ev = load_lobster(p)
    else:
        from mmlab.data import load_binance

        ev = load_binance(p)
    return ev, {p.name: file_sha256(p)}


def scan(events: np.ndarray, engine: str = "numba", source: str = "events", l3_ok: bool = False):
    """Validate the events and compute the kernel's per-event codes in one compiled pass.

    Returns ``(code, stats)`` (the SCAN_DTYPE record; see :func:`mmlab.backtest.engine._engine.scan_events`). Raises
    :class:`~mmlab.errors.FormatError` (naming the vendor row, ``ival``) for an unknown kind or a
    non-finite / non-positive price or negative quantity of a depth or trade event, and for data
    with L3 order events only.
    """
    from mmlab.data import EVENT_DTYPE

    if not isinstance(events, np.ndarray) or events.dtype != EVENT_DTYPE:
        raise FormatError(f"{source}: expected an EVENT_DTYPE array")
    code = np.empty(len(events), dtype=np.uint8)
    st = E.record(E.SCAN_DTYPE)
    f = E.scan_events if engine == "numba" else E.scan_events_python
    f(events["ev"], events["px"], events["qty"], events["exch_ts"], events["local_ts"], code,
      E.row(st))
    if st["bad_row"] >= 0:
        i = int(st["bad_row"])
        row = int(events["ival"][i])
        if st["bad_reason"] == 1:
            raise FormatError(f"{source}: row {row}: unknown event kind {int(code[i] & 15)}")
        raise FormatError(f"{source}: row {row}: non-finite or invalid price/quantity "
                          f"(px={events['px'][i]!r}, qty={events['qty'][i]!r})")
    if st["n_l2"] == 0 and st["n_l3"] > 0 and not l3_ok:
        raise FormatError(f"{source}: L3 order events only; the L2 engine needs DEPTH/TRADE events "
                          "(rebuild the L2 book with mmlab.book first)")
    return code, st


def prepare_events(events: np.ndarray, source: str = "events") -> np.ndarray:
    """Per-event codes (uint8: kind | BUY 16 | SELL 32 | EXCH 64 | LOCAL 128) for the kernel,
    after validation (see :func:`scan`).

    Examples
    --------
    >>> from mmlab.data import synthetic
    >>> c = prepare_events(synthetic.synthetic_l2_events(session_seconds=1))
    >>> int(c[0] & 15), bool(c[0] & 64)   # a DEPTH_CLEAR seen on the exchange side
    (3, True)
    """
    return scan(events, source=source)[0]


def pd_timestamp(ns: int) -> str:
    """An instant in UTC, for messages."""
    import pandas as pd

    return str(pd.Timestamp(ns, unit="ns", tz="UTC"))


def _infer_lot(q: np.ndarray) -> float:
    q = q[(q > 0) & np.isfinite(q)]
    if q.size == 0:
        return 1.0
    for d in range(0, 9):
        lot = 10.0 ** -d
        if np.all(np.abs(q / lot - np.round(q / lot)) < 1e-6):
            return lot
    return 1e-9


def run(data, strategy, *, engine: str = "numba", **settings):
    """Backtest ``strategy`` on a market-event stream; returns a :class:`BacktestResult`.

    Parameters
    ----------
    data : numpy.ndarray, path or dict
        ``EVENT_DTYPE`` events (hftbacktest-compatible), L3 events rewritten once by
        :func:`mmlab.backtest.prepare_l3`, or a Binance dump / ``.npz`` /
        LOBSTER message file; a dict ``{name: data}`` runs the instruments together
        (:func:`mmlab.backtest.run_portfolio`, returns a ``PortfolioResult``).
    strategy : GridStrategy, an A-S / GLFT / adaptive-spread config or strategy, or ScriptedOrders
        Runs as a numba kernel every ``interval`` ns of local time.
    engine : {"numba", "python"}
        The compiled loop or its plain-Python twin (identical results; slow, for tests).
    **settings
        :class:`BacktestConfig` fields, e.g. ``entry_latency``, ``queue_model``,
        ``partial_fills``, ``maker_fee``, ``max_position``, ``instrument``.

    Returns
    -------
    BacktestResult

    Examples
    --------
    >>> from mmlab.data import synthetic
    >>> from mmlab.backtest import GridStrategy
    >>> ev = synthetic.synthetic_l2_events(session_seconds=20, seed=3)
    >>> res = run(ev, GridStrategy(half_spread=0.01, order_qty=1.0), max_position=5.0)
    >>> s = res.summary()
    >>> abs(s["spread_pnl"] + s["inventory_pnl"] + s["fee_pnl"] + s["funding_pnl"]
    ...     - s["total_pnl"]) < 1e-9
    True
    """
    if isinstance(data, dict):
        from mmlab.backtest.engine._portfolio import run_portfolio

        return run_portfolio(data, strategy, engine=engine, **settings)
    job = _prepare(data, strategy, engine, settings)
    _execute(job)
    res = _finish(job)
    sc, rk = job.state.sc, job.state.rk
    if sc["halt"] & E.H_KERNEL:
        n = min(int(sc["nrisk"]), rk.shape[0])
        j = int(np.flatnonzero(rk[:n]["kind"] == E.RK_KERNEL_ERROR)[0])
        raise ConfigError(f"strategy: the quote kernel raised at the decision of "
                          f"{pd_timestamp(int(rk[j]['ts']))} (step {int(rk[j]['value'])}), e.g. an index "
                          "outside state, params or out; quoting was halted there")
    return res


class _Job:
    """Everything one kernel run needs (arrays, state) and what the result needs after it."""

    __slots__ = ("args", "args_b", "bh", "state", "fills", "cfg", "settings", "events",
                 "n_events",
                 "data_hashes", "params", "base", "tick", "n_ticks", "engine", "n_steps",
                 "book", "best", "steps", "fund_out", "fifo")

    args: tuple[np.ndarray, ...]  # code, exch_ts, local_ts, px, qty, l3a
    args_b: tuple[Any, ...]  # settings, strategy params, script, user params, latencies, funding, quote kernel
    bh: np.ndarray  # the shared book's history ring
    state: RunState  # see core.loop.new_state
    fills: np.ndarray  # FILL_DTYPE
    cfg: BacktestConfig
    settings: np.void  # the core's settings record (core.layout.SETTINGS_DTYPE)
    events: np.ndarray
    n_events: int
    data_hashes: dict[str, str]
    params: dict[str, Any]
    base: int
    tick: float
    n_ticks: int
    engine: str
    n_steps: int
    book: np.ndarray
    best: np.ndarray
    steps: np.ndarray  # STEP_DTYPE
    fund_out: np.ndarray
    fifo: bool


def _prepare(data, strategy, engine, settings) -> _Job:
    from mmlab.backtest.engine._l3 import L3Events, l3_stream

    if engine not in ("numba", "python"):
        raise ConfigError(f"engine: must be 'numba' or 'python', got {engine!r}")
    cfg = config_from(_resolve_instrument(dict(settings)))
    events, data_hashes = _load(data)
    if len(events) == 0:
        raise ConfigError("data: no events")
    fifo = queue_model_code(cfg.queue_model) == QUEUE_FIFO
    l3: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    if isinstance(events, L3Events):  # rewritten once by prepare_l3
        l3 = (events.stream, events.kinds, events.l3a)
        events = events.stream
    else:
        code, st = scan(events, engine, l3_ok=True)
        l3 = l3_stream(events, engine=engine) if st["n_l3"] > 0 else None
    if l3 is None:
        if fifo:
            raise ConfigError("queue_model: 'fifo' needs L3 order events (ADD/CANCEL/MODIFY/"
                              "FILL with order ids, e.g. mmlab.data.load_lobster)")
        stream, l3a = events, np.zeros(1, dtype=np.int64)
    else:
        stream, kinds, l3a = l3
        code, st = scan(stream, engine)
        over = kinds > 0
        code[over] = (code[over] & np.uint8(0xF0)) | kinds[over]
    if st["n_l2"] == 0:
        raise ConfigError("data: no depth or trade events")
    kind = code & 15
    used = (kind == E.K_DEPTH) | (kind == E.K_SNAPSHOT) | (kind == E.K_TRADE) | (kind >= 10)
    if cfg.tick_size is None:
        from mmlab.book import infer_tick_size

        tick = float(infer_tick_size(stream["px"][used]))
    else:
        tick = float(cfg.tick_size)
    if cfg.lot_size is not None:
        lot = float(cfg.lot_size)
    else:
        lot = _infer_lot(stream["qty"][used])
    if cfg.roi is not None:
        lo, hi = cfg.roi
    else:
        # the traded range (the quoted range without trades) +- 10 %: wide enough that no
        # quote near the market is ever outside it (a narrower book would drop them; the step
        # driver's range, grown from the first price, is as wide)
        if math.isfinite(st["min_trade_px"]):
            lo, hi = st["min_trade_px"] * 0.9, st["max_trade_px"] * 1.1
        else:
            lo, hi = st["min_px"] * 0.9, st["max_px"] * 1.1
    base = int(math.floor(lo / tick + 0.5))
    n_ticks = int(math.floor(hi / tick + 0.5)) - base + 1
    if n_ticks > 20_000_000:
        raise ConfigError(f"roi: {n_ticks} ticks is too wide for the dense book; pass roi=(lo, hi)")
    exch_ts = stream["exch_ts"]
    local_ts = stream["local_ts"]
    if st["n_exch"] == 0 or st["n_local"] == 0:
        raise ConfigError("data: need events flagged both EXCH and LOCAL")
    # the clock starts at the earliest timestamp of the data (as hftbacktest's)
    t_first = min(int(st["first_local_ts"]), int(exch_ts[int(np.argmax((code & E.C_EXCH) != 0))]))
    t_end = int(cfg.session_end) if cfg.session_end is not None else int(max(st["last_exch_ts"], st["last_local_ts"]))
    start = int(cfg.start) if cfg.start is not None else t_first
    end = int(cfg.end) if cfg.end is not None else int(st["last_local_ts"])
    n_steps = max(0, (end - start - int(cfg.interval)) // int(cfg.interval) + 1)
    record = auto_record_every(n_steps, events.nbytes) if cfg.record_every == "auto" \
        else int(cfg.record_every)
    shared = _SHARED_BOOK and int(st["n_ordered"]) == len(stream)
    job = make_job(cfg, strategy, engine, tick=tick, lot=lot, base=base, n_ticks=n_ticks,
                   start=start, session_end=t_end, n_steps=n_steps, record=record,
                   shared=shared)
    job.args = (code, exch_ts, local_ts, stream["px"], stream["qty"], l3a)
    job.events, job.n_events, job.data_hashes = events, len(events), data_hashes
    job.fifo = fifo
    job.params["l3"] = l3 is not None
    return job


def make_job(cfg: BacktestConfig, strategy, engine: str, *, tick: float, lot: float, base: int,
             n_ticks: int, start: int, session_end: int, n_steps: int, record: int,
             shared: bool) -> _Job:
    """The kernel's configuration and a fresh run state for ``strategy`` under ``cfg``, from
    explicit values only (no event array): the instrument's ``tick`` and ``lot``, the dense
    book's range (``base`` and ``n_ticks`` in ticks), the clock's ``start`` (the strategy first
    runs at ``start + interval``), the ``session_end`` horizon (A-S's time left; the run stops
    after it), the number of strategy steps and the step table's ``record`` rate. The backtest
    derives them from its data; the step driver takes them from its settings."""
    from mmlab.backtest.engine._strategies import ScriptedOrders, script_params

    spec = strategy_spec(strategy, time_unit_ns=cfg.time_unit_ns, clip=cfg.clip,
                         interval=int(cfg.interval))
    sid, levels, gstep, clip, sdesc = (spec.code, spec.levels, spec.grid_step, spec.clip,
                                       spec.description)
    # a user kernel reads the local book's depth (rows 2/3), which the shared mode leaves empty
    shared = shared and sid != E.STRAT_USER
    t_start = start + int(cfg.interval)
    script = np.zeros(0, dtype=E.SCRIPT_DTYPE)
    if isinstance(getattr(strategy, "config", strategy), ScriptedOrders):
        script = script_params(getattr(strategy, "config", strategy), t_start,
                               int(cfg.interval), tick)
    if cfg.funding is not None:
        fts = np.ascontiguousarray(np.asarray(cfg.funding[0], dtype=np.int64))
        frate = np.ascontiguousarray(np.asarray(cfg.funding[1], dtype=np.float64))
        if fts.shape != frate.shape or fts.ndim != 1 or np.any(np.diff(fts) < 0) \
                or not np.all(np.isfinite(frate)):
            raise ConfigError(
                "funding: need (times, rates), equal 1-d arrays, times non-decreasing")
    else:
        fts = np.zeros(0, np.int64)
        frate = np.zeros(0, np.float64)
    settings = E.record(E.SETTINGS_DTYPE)
    settings["sides"] = E.SIDES_BOTH
    settings["nticks"] = n_ticks
    settings["qmodel"] = queue_model_code(cfg.queue_model)
    settings["partial"] = int(bool(cfg.partial_fills))
    settings["inverse"] = int(bool(cfg.inverse))
    settings["interval"] = int(cfg.interval)
    settings["tstart"] = t_start
    settings["strat"] = sid
    settings["levels"] = levels
    settings["gridstep"] = gstep
    settings["postonly"] = int(bool(cfg.post_only))
    settings["clip"] = clip
    settings["seed"] = int(cfg.seed)
    settings["maxord"] = int(cfg.max_orders)
    settings["record"] = record
    settings["tend"] = session_end
    settings["nsteps"] = n_steps
    settings["base"] = base
    settings["shared"] = int(shared)
    settings["stale"] = int(cfg.stale_after)
    settings["cooldown"] = int(cfg.breaker_cooldown)
    settings["dayns"] = 86_400_000_000_000
    lay = layer_spec(cfg.layers)
    if lay is not None:
        if sid in (E.STRAT_SCRIPT, E.STRAT_USER) or levels != 1:
            raise ConfigError("layers: for a one-level quoting strategy (a user kernel sets "
                              "its own levels; a grid has levels and grid_step)")
        settings["nlayers"] = len(lay[0])
    settings["toxwin"] = int(cfg.toxicity_window)
    settings["toxrec"] = int(cfg.toxicity_recovery)
    settings["modify"] = int(bool(cfg.modify_orders))
    settings["stp"] = int(cfg.self_trade_prevention)
    settings["tick"] = tick
    settings["lot"] = lot
    settings["maker"] = cfg.maker_fee
    settings["taker"] = cfg.taker_fee
    settings["perc"] = cfg.fee_per_contract
    settings["mult"] = cfg.multiplier
    settings["maxpos"] = cfg.max_position
    settings["hardpos"] = cfg.max_position
    # (scripted orders are instructions, sent as written: the band checks what a strategy computes)
    settings["band"] = math.inf if sid == E.STRAT_SCRIPT else cfg.price_band
    settings["qn"] = cfg.queue_power
    settings["itick"] = 1.0 / tick
    settings["maxdd"] = cfg.max_drawdown
    settings["maxdl"] = cfg.max_daily_loss
    settings["maxspread"] = cfg.max_spread
    settings["maxmove"] = cfg.max_mid_move
    settings["toxthr"] = cfg.toxicity_threshold
    settings["toxwiden"] = cfg.toxicity_widen
    settings["toxsize"] = cfg.toxicity_size
    settings["tunit"] = cfg.time_unit_ns
    settings["rate"] = cfg.max_order_rate
    settings["burst"] = cfg.order_burst if cfg.order_burst is not None else (
        max(1.0, cfg.max_order_rate) if math.isfinite(cfg.max_order_rate) else math.inf)
    zs = zone_spec(cfg.zones)
    settings["yellow"], settings["red"], settings["ymin"], settings["ywiden"] = \
        zs if zs is not None else (math.inf, math.inf, 1.0, 1.0)
    if lay is not None:
        for j, (d, w) in enumerate(zip(*lay, strict=True)):
            settings["layer_dist"][j] = d
            settings["layer_share"][j] = w
    job = _Job()
    n_rows = -(-n_steps // record)
    job.steps = np.zeros(n_rows, dtype=E.STEP_DTYPE)
    for name in E.STEP_FLOATS:
        job.steps[name] = np.nan
    cap = 1024
    job.fills = np.zeros(cap, dtype=E.FILL_DTYPE)
    job.fund_out = np.zeros(fts.size, dtype=E.FUNDING_DTYPE)
    job.book = np.zeros((4, n_ticks), dtype=np.float64)
    job.best = np.zeros(4, dtype=np.int64)
    # the shared book's history: a ring of 2**k rows (the kernel doubles it when needed)
    job.bh = np.empty((1024 if shared else 1, 2), dtype=np.int32)
    from mmlab.backtest.engine._strategies import strategy_kernel

    qk = strategy_kernel(strategy)
    job.args_b = (settings, spec.params, script, spec.user_params,
                  latency_array(cfg.entry_latency, "entry_latency"),
                  latency_array(cfg.response_latency, "response_latency"), fts, frate,
                  qk.python if engine == "python" else qk.cfunc)
    job.state = E.new_state(settings)
    job.cfg, job.settings = cfg, settings
    job.base, job.tick, job.n_ticks, job.engine, job.n_steps = base, tick, n_ticks, engine, n_steps
    job.fifo = False
    roi_used = (base * tick, (base + n_ticks - 1) * tick)
    job.params = {**cfg.public(), **sdesc, "engine": engine, "tick_size_used": tick,
                  "lot_size_used": lot, "roi_used": roi_used, "l3": False,
                  "record_every_used": record, "session_end_used": int(session_end),
                  "shared_book": bool(shared)}
    return job


def _execute(job: _Job, k_stop: int = -1, one_step: bool = False) -> bool:
    """Run (or resume) the kernel until just before strategy step ``k_stop`` (-1: the end), or
    only through the next strategy step (``one_step``); True when the run is finished."""
    kern = E.kernel_for(job.engine, job.settings, bool(job.params.get("l3")))
    job.state.pos["kstop"] = k_stop
    job.state.pos["one"] = int(one_step)
    job.fills, job.bh = kern(*job.args, job.bh, *E.rows(job.args_b), job.steps, job.fills,
                             job.fund_out, job.book, job.best, *E.rows(job.state))
    return bool(job.state.pos["done"])


def _finish(job: _Job):
    from mmlab.backtest.engine._results import BacktestResult

    orders, live, rq, rs, sc, acc, rk, qs, qo, pos = job.state
    nf = int(sc["nfills"])
    k_done = -(-int(pos["k"]) // int(job.settings["record"]))  # rows of the step table
    # the run ends after the last event on both sides: a shared book is the local one too
    top = _final_top(job.book, job.best, job.base, job.tick, job.n_ticks,
                     bool(job.settings["shared"]))
    params = dict(job.params)
    assumptions: tuple[str, ...] = ASSUMPTIONS
    if job.fifo:
        params["fifo_l2_updates"] = int(sc["nl2q"])
        assumptions = ASSUMPTIONS + (FIFO_ASSUMPTION,)
    cfg = job.cfg
    return BacktestResult._from_kernel(
        job.steps[:k_done], job.fills[:nf],
        job.fund_out[: int(sc["nfund"])], sc, acc, n_events=job.n_events, params=params,
        data_hashes=job.data_hashes, multiplier=cfg.multiplier, inverse=bool(cfg.inverse),
        max_position=cfg.max_position, final_book=top, assumptions=assumptions,
        seed=int(cfg.seed), events=None if job.data_hashes else job.events,
        risk=rk[: min(int(sc["nrisk"]), rk.shape[0])])


def _final_top(book, best, base, tick, n, shared=False):
    out = {}
    for name, b in (("exch", 0), ("local", 0 if shared else 2)):
        bb, ba = int(best[b]), int(best[b + 1])
        out[name] = (
            (bb + base) * tick if bb >= 0 else math.nan, float(book[b, bb]) if bb >= 0 else 0.0,
            (ba + base) * tick if ba < n else math.nan, float(book[b + 1, ba]) if ba < n else 0.0,
        )
    return out
