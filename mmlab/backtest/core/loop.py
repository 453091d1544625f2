"""The trading core's event loop (both sides, one merged timeline) and its run state; the
backtest runs it over a whole recording, the step driver over the rows fed so far.

Each function here is the plain-Python twin; :mod:`mmlab.backtest.engine._engine` compiles the family
from the same code (see its ``_compile``)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from mmlab.backtest.core.exchange import (
    ex_cross as _ex_cross,
)
from mmlab.backtest.core.exchange import (
    ex_depth_q as _ex_depth_q,
)
from mmlab.backtest.core.exchange import (
    ex_event as _ex_event,
)
from mmlab.backtest.core.exchange import (
    ex_request as _ex_request,
)
from mmlab.backtest.core.exchange import (
    trade_hits as _trade_hits,
)
from mmlab.backtest.core.layout import (
    ACCOUNT_DTYPE,
    BIG,
    C_BUY,
    C_EXCH,
    C_KIND,
    C_LOCAL,
    CURSOR_DTYPE,
    K_DEPTH,
    K_SNAPSHOT,
    K_TRADE,
    ORDER_DTYPE,
    REQUEST_QUEUE_DTYPE,
    RESPONSE_QUEUE_DTYPE,
    RISK_CAP,
    RISK_EVENT_DTYPE,
    SCALARS_DTYPE,
    SIDES_EXCH,
    SIDES_LOCAL,
    record,
)
from mmlab.backtest.core.local_orders import (
    lo_response as _lo_response,
)
from mmlab.backtest.core.local_step import (
    step as _step,
)
from mmlab.backtest.core.primitives import (
    first as _first,
)
from mmlab.backtest.core.primitives import (
    lo_event as _lo_event,
)
from mmlab.backtest.core.primitives import (
    mid as _mid,
)
from mmlab.backtest.core.primitives import (
    pop as _pop,
)
from mmlab.backtest.core.primitives import (
    record_step as _record_step,
)
from mmlab.backtest.core.primitives import (
    set_level as _set_level,
)
from mmlab.backtest.core.primitives import (
    tick as _tick,
)
from mmlab.backtest.core.primitives import (
    value as _value,
)
from mmlab.backtest.engine._user import N_OUT, N_STATE


def _grow_ring_python(bh, lo, hi):
    """The shared book's history ring twice as long, rows ``lo - 1`` to ``hi - 1`` kept."""
    m1 = bh.shape[0] - 1
    out = np.empty((2 * bh.shape[0], 2), dtype=np.int32)
    m2 = out.shape[0] - 1
    for r in range(max(lo - 1, 0), hi):
        out[r & m2, 0] = bh[r & m1, 0]
        out[r & m2, 1] = bh[r & m1, 1]
    return out


class RunState(NamedTuple):
    """The run state of :func:`run_kernel`, a named record of its arrays (the kernel takes them
    unpacked, in this order)."""

    orders: np.ndarray  #: order slots (ORDER_DTYPE)
    live: np.ndarray  #: slots resting at the exchange
    rq: np.ndarray  #: requests in flight to the exchange (REQUEST_QUEUE_DTYPE)
    rs: np.ndarray  #: responses in flight to the local side (RESPONSE_QUEUE_DTYPE)
    sc: np.void  #: scalars and counters (SCALARS_DTYPE)
    acc: np.void  #: the accounts, exchange and local (ACCOUNT_DTYPE)
    rk: np.ndarray  #: risk events (RISK_EVENT_DTYPE)
    qs: np.ndarray  #: the market-state record a user quote kernel reads (MS_*)
    qo: np.ndarray  #: the levels it writes
    pos: np.void  #: the run's cursor: positions in the streams, pause, horizon (CURSOR_DTYPE)


def new_state(cfg):
    """Fresh :class:`RunState` for :func:`run_kernel` (``rk``: the risk events; ``qs`` /
    ``qo``: the market-state record and the levels of a user quote kernel's call)."""
    maxord = cfg["maxord"]
    orders = np.zeros(maxord, dtype=ORDER_DTYPE)
    live = np.zeros(maxord, dtype=np.int64)
    rq = np.zeros(4 * maxord + 16, dtype=REQUEST_QUEUE_DTYPE)
    rs = np.zeros(8 * maxord + 16, dtype=RESPONSE_QUEUE_DTYPE)
    sc = record(SCALARS_DTYPE)
    acc = record(ACCOUNT_DTYPE)
    acc["elast"] = np.nan
    acc["lpeak"] = np.nan
    acc["lmark"] = np.nan
    acc["lmidprev"] = np.nan
    acc["leq"] = np.nan
    acc["tokens"] = np.nan
    sc["day"] = -1
    sc["tfeed"] = cfg["tstart"] - cfg["interval"]
    rk = np.zeros(RISK_CAP, dtype=RISK_EVENT_DTYPE)
    qs = np.zeros(N_STATE, dtype=np.float64)  # the market-state record a quote kernel reads
    qo = np.full(N_OUT, np.nan)  # ... and the levels it writes
    pos = record(CURSOR_DTYPE)
    pos["kstop"] = -1
    pos["fin"] = 1
    pos["wm"] = -BIG
    pos["hor"] = BIG
    return RunState(orders, live, rq, rs, sc, acc, rk, qs, qo, pos)


def run_kernel_python(code, exch_ts, local_ts, px, qty, l3a, bh, cfg_row, qp_row, script, up,
                      lat_entry, lat_resp, fund_ts, fund_rate, qf, steps, fills, fund_out, book,
                      best, orders, live, rq, rs, sc_row, acc_row, rk, qs, qo, pos_row):
    """Replay the events; fill the step table ``steps`` (STEP_DTYPE), the fills ``fills``
    (FILL_DTYPE) and the funding rows ``fund_out`` (FUNDING_DTYPE); returns ``(fills, bh)`` (the
    fills and the history ring are reallocated when they fill up).

    The run state (``orders``/``live``, request and response queues, scalars ``sc``,
    accounts ``acc``, books, and the positions ``pos`` in the streams) lives in the arguments
    (:func:`new_state`), so a run can pause and resume: with ``pos["kstop"] = k`` the call
    returns just before strategy step ``k`` (every event due before it applied); calling again
    with a later ``pos["kstop"]`` continues exactly where it stopped; with ``pos["one"] = 1`` it
    returns right after the next strategy step. ``pos["done"]`` is 1 at the end.

    Streaming (the step driver, :class:`mmlab.backtest.StepDriver`): with ``pos["fin"] = 0`` the
    arrays are the rows received so far and more may be appended between calls. The kernel then
    takes an action (event, request, response, funding, strategy step) only when it knows that
    no row still to come precedes it: while a clock's next row is known its time is exact; once
    a clock has run out of rows, only actions strictly before the watermark ``pos["wm"]`` (no
    later row has a timestamp below it; ``-BIG``: nothing is promised) are taken, and the call
    returns, to be resumed after more rows are appended. The actions taken, and their order, are
    those of one call over the whole stream: the backtest and the step driver agree by
    construction.

    Shared book (``cfg["shared"] = 1``; allowed when every event carries both EXCH and LOCAL
    and ``exch_ts <= local_ts`` on every row): both sides apply the same updates in the same
    order, the local side later, so the local book after row ``i`` is the exchange book after
    row ``i``. The exchange side then records its best bid/ask after each row in ``bh`` (a ring
    of a power-of-two rows, doubled when the exchange side runs further ahead of the last row
    read; returned) and the strategy's view at a step is read from it (the last row with
    ``local_ts <= t``) instead of maintaining a second book: the same quotes, half the book
    work.
    """
    # the records (settings, strategy parameters, scalars, accounts, cursor) come as the one-row
    # arrays they are views of (core.layout.rows): fast to dispatch; [0] is the record itself
    cfg = cfg_row[0]
    qp = qp_row[0]
    sc = sc_row[0]
    acc = acc_row[0]
    pos = pos_row[0]
    n_ev = code.shape[0]
    n = cfg["nticks"]
    base = cfg["base"]
    tick = cfg["tick"]
    itick = cfg["itick"]
    maxord = cfg["maxord"]
    n_steps = cfg["nsteps"]
    interval = cfg["interval"]
    t_end = cfg["tend"]
    n_fund = fund_ts.shape[0]
    if pos["init"] == 0:
        acc["mark"] = math.nan
        sc["nextid"] = 1
        sc["rng_entry"] = (cfg["seed"] % 2147483646) + 1
        sc["rng_response"] = sc["rng_entry"]
        for b in range(4):
            best[b] = -1 if b % 2 == 0 else n
        i_ex = 0
        i_lo = 0
        while i_ex < n_ev and (code[i_ex] & C_EXCH) == 0:
            i_ex += 1
        while i_lo < n_ev and (code[i_lo] & C_LOCAL) == 0:
            i_lo += 1
        pos["iex"] = i_ex
        pos["ilo"] = i_lo
        pos["ifu"] = 0
        pos["k"] = 0
        pos["init"] = 1
    if pos["done"] == 1:
        return fills, bh
    xs = (cfg["sides"] & SIDES_EXCH) != 0  # the exchange side runs here
    ls = (cfg["sides"] & SIDES_LOCAL) != 0  # the local side runs here
    hor = pos["hor"]
    i_ex = pos["iex"] if xs else n_ev
    i_lo = pos["ilo"] if ls else n_ev
    while i_ex < n_ev and (code[i_ex] & C_EXCH) == 0:  # rows appended since the last call
        i_ex += 1
    while i_lo < n_ev and (code[i_lo] & C_LOCAL) == 0:
        i_lo += 1
    i_fu = pos["ifu"]
    k = pos["k"]
    k_stop = pos["kstop"]
    shared = cfg["shared"]
    fin = pos["fin"]
    t_wm = BIG if fin == 1 else pos["wm"]  # the time of a clock's next row once it ran out
    t_wx = t_wm if xs else BIG  # ... of the exchange clock (BIG: not run here)
    t_wl = t_wm if ls else BIG  # ... of the local clock
    msk = bh.shape[0] - 1
    while True:
        # grow the fill arrays so that one more event cannot overflow them
        if sc["nfills"] + maxord + 1 > fills.shape[0]:
            cap = 2 * fills.shape[0] + maxord + 1
            grown = np.zeros(cap, dtype=fills.dtype)
            for r in range(fills.shape[0]):  # (element loops: no broadcasting machinery to compile)
                grown[r] = fills[r]
            fills = grown
        r_req = _first(rq, sc["nreq"])
        t_req = rq[r_req]["ts"] if r_req >= 0 else BIG
        h = hor  # one side alone: act only strictly before h (BIG: no bound)
        if not xs:  # requests wait for the venue adapter; their arrival bounds this side
            h = min(h, t_req)
            t_req = BIG
        r_resp = _first(rs, sc["nresp"])
        t_resp = rs[r_resp]["ts"] if r_resp >= 0 and ls else BIG
        t_step = interval * k + cfg["tstart"] if k < n_steps else BIG
        t_fu = fund_ts[i_fu] if i_fu < n_fund and xs else BIG
        # fast path: market data alone until a request, response, funding or step is due (or
        # until our orders are touched); same priorities as below
        t_o1 = min(t_req, t_resp, t_fu, t_end + 1)
        t_o = min(t_o1, t_step, h - 1)
        seq0 = sc["seq"]
        while shared == 1 and i_ex < n_ev:  # shared book: exchange rows only (history in bh)
            t_ex = exch_ts[i_ex]
            if t_ex > t_o:
                break
            c = code[i_ex]
            kind = c & C_KIND
            if kind == K_DEPTH or kind == K_SNAPSHOT:
                idx = _tick(px[i_ex], itick) - base
                if 0 <= idx < n:
                    b = 0 if (c & C_BUY) != 0 else 1
                    if _ex_depth_q(b, idx, qty[i_ex], orders, live, sc, best, book, cfg):
                        _ex_cross(b, t_ex, orders, live, sc, acc, fills, rs, best, book,
                                  cfg, lat_resp)
            elif kind != K_TRADE or _trade_hits(c, px[i_ex], itick, orders, live, sc):
                _ex_event(i_ex, t_ex, code, px, qty, l3a, orders, live, sc, acc, fills, rs, best, book, cfg, lat_resp)
            if k < n_steps:
                if i_ex - i_lo + 1 > msk:  # the ring would overwrite a row still to be read
                    bh = _grow_ring(bh, i_lo, i_ex)
                    msk = bh.shape[0] - 1
                bh[i_ex & msk, 0] = best[0]
                bh[i_ex & msk, 1] = best[1]
            i_ex += 1
            if sc["seq"] != seq0:
                break
        while shared == 0:
            t_ex = exch_ts[i_ex] if i_ex < n_ev else t_wx
            t_lo = local_ts[i_lo] if i_lo < n_ev else t_wl
            if t_ex <= t_lo:
                if t_ex > t_o or i_ex >= n_ev:
                    break
                c = code[i_ex]
                kind = c & C_KIND
                if kind == K_DEPTH or kind == K_SNAPSHOT:
                    idx = _tick(px[i_ex], itick) - base
                    if 0 <= idx < n:
                        b = 0 if (c & C_BUY) != 0 else 1
                        if _ex_depth_q(b, idx, qty[i_ex], orders, live, sc, best, book, cfg):
                            _ex_cross(b, t_ex, orders, live, sc, acc, fills, rs, best, book,
                                      cfg, lat_resp)
                elif kind != K_TRADE or _trade_hits(c, px[i_ex], itick, orders, live, sc):
                    _ex_event(i_ex, t_ex, code, px, qty, l3a, orders, live, sc, acc, fills, rs, best, book, cfg, lat_resp)
                i_ex += 1
                while i_ex < n_ev and (code[i_ex] & C_EXCH) == 0:
                    i_ex += 1
                if sc["seq"] != seq0:
                    break
            else:
                if t_lo >= t_o1 or t_lo >= h or t_lo > t_step or i_lo >= n_ev:
                    break
                c = code[i_lo]
                kind = c & C_KIND
                if kind == K_DEPTH or kind == K_SNAPSHOT:
                    idx = _tick(px[i_lo], itick) - base
                    if 0 <= idx < n:
                        _set_level(book, best, 2 if (c & C_BUY) != 0 else 3, idx, qty[i_lo])
                elif kind != K_TRADE:
                    _lo_event(i_lo, code, px, qty, best, book, cfg)
                sc["tfeed"] = t_lo
                i_lo += 1
                while i_lo < n_ev and (code[i_lo] & C_LOCAL) == 0:
                    i_lo += 1
        if sc["seq"] != seq0:
            continue  # a fill was booked: re-read the queues
        t_ex = exch_ts[i_ex] if i_ex < n_ev else t_wx
        t_lo = BIG
        if shared == 0:
            t_lo = local_ts[i_lo] if i_lo < n_ev else t_wl
        t = min(t_ex, t_lo, t_req, t_resp, t_step, t_fu)
        if fin == 0 and t >= t_wm and ((xs and i_ex >= n_ev)
                                       or (ls and shared == 0 and i_lo >= n_ev)):
            break  # a row still to come may precede this action: wait for more rows
        if t == BIG or t > t_end:
            # one side alone: done once the other side cannot act by t_end any more either
            # (the exchange side's horizon is the local side's next decision + 1)
            if h > (t_end if ls else t_end + 1):
                pos["done"] = 1
            break
        if t >= h:
            break  # the other side may still act first: it runs next
        if t_ex == t:
            _ex_event(i_ex, t_ex, code, px, qty, l3a, orders, live, sc, acc, fills, rs,
                      best, book, cfg, lat_resp)
            if shared == 1 and k < n_steps:
                if i_ex - i_lo + 1 > msk:
                    bh = _grow_ring(bh, i_lo, i_ex)
                    msk = bh.shape[0] - 1
                bh[i_ex & msk, 0] = best[0]
                bh[i_ex & msk, 1] = best[1]
            i_ex += 1
            while i_ex < n_ev and (code[i_ex] & C_EXCH) == 0:
                i_ex += 1
        elif t_req == t:
            _ex_request(r_req, rq, t, i_ex, orders, live, sc, acc, fills, rs, best, book,
                        cfg, lat_resp)
            _pop(rq, sc["nreq"], r_req)
            sc["nreq"] -= 1
        elif t_fu == t:
            mid = _mid(best, 0, base, tick, n)
            mk = mid if math.isfinite(mid) else acc["mark"]
            amount = 0.0
            if math.isfinite(mk):
                amount = -fund_rate[i_fu] * acc["pos"] * abs(
                    _value(mk, cfg["mult"], cfg["inverse"]))
            acc["fund"] += amount
            fund_out[i_fu]["ts"] = t
            fund_out[i_fu]["rate"] = fund_rate[i_fu]
            fund_out[i_fu]["mark"] = mk
            fund_out[i_fu]["amount"] = amount
            fund_out[i_fu]["seq"] = sc["seq"]
            sc["seq"] += 1
            sc["nfund"] += 1
            i_fu += 1
        elif t_resp == t:
            _lo_response(r_resp, rs, orders, acc, sc, cfg, rk)
            _pop(rs, sc["nresp"], r_resp)
            sc["nresp"] -= 1
        elif t_lo == t:
            _lo_event(i_lo, code, px, qty, best, book, cfg)
            sc["tfeed"] = t_lo
            i_lo += 1
            while i_lo < n_ev and (code[i_lo] & C_LOCAL) == 0:
                i_lo += 1
        else:  # strategy step
            if shared == 1:  # the local book: the exchange's after the last row seen locally
                while i_lo < n_ev and local_ts[i_lo] <= t:
                    i_lo += 1
                if i_lo > 0:
                    best[2] = bh[(i_lo - 1) & msk, 0]
                    best[3] = bh[(i_lo - 1) & msk, 1]
                    sc["tfeed"] = local_ts[i_lo - 1]
            if k == k_stop:
                break  # pause: the caller resumes with a later pos["kstop"]
            _record_step(k // cfg["record"], t, i_ex, acc, sc, best, cfg, steps)
            if ls and sc["nreq"] + 2 * maxord < rq.shape[0] and \
                    sc["nresp"] + 4 * maxord < rs.shape[0]:
                _step(t, k, orders, rq, sc, acc, best, book, cfg, qp, script, up, lat_entry, steps,
                      rk, qf, qs, qo)
            k += 1
            if pos["one"] == 1:
                break
    pos["iex"] = i_ex
    pos["ilo"] = i_lo
    pos["ifu"] = i_fu
    pos["k"] = k
    return fills, bh


# the names the functions above call each other by, bound to the plain-Python twins (the
# compiled family binds its own: mmlab.backtest.engine._engine._compile)
_grow_ring = _grow_ring_python
run_kernel = run_kernel_python

# public names for the sibling modules (the import graph allows no private imports)
grow_ring = _grow_ring_python
