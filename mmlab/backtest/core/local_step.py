"""The local side of the trading core, decisions: the breakers on marked equity, the risk
ladder's zones, levels (user kernels, layering) reconciled side by side, the strategy step and
its record, and the local copy of the book.

Each function here is the plain-Python twin; :mod:`mmlab.backtest.engine._engine` compiles the family
from the same code (see its ``_compile``)."""

from __future__ import annotations

import math

import numpy as np

from mmlab.backtest.core.externals import (
    call_user as _call_user,
)
from mmlab.backtest.core.layout import (
    B_SPREAD,
    B_STALE,
    B_VOL,
    H_DAILY,
    H_DRAWDOWN,
    H_KERNEL,
    H_LIMIT,
    LO_PCANCEL,
    LO_PMODIFY,
    LO_PNEW,
    LO_WORK,
    R_CANCEL,
    RK_DAILY_LOSS,
    RK_DAY_RESET,
    RK_DRAWDOWN,
    RK_KERNEL_ERROR,
    RK_LIMIT,
    RK_RESUME,
    RK_SPREAD,
    RK_STALE,
    RK_VOL,
    RNG_ENTRY,
    STRAT_SCRIPT,
    STRAT_USER,
)
from mmlab.backtest.core.local_orders import (
    crosses_own as _crosses_own,
)
from mmlab.backtest.core.local_orders import (
    flatten as _flatten,
)
from mmlab.backtest.core.local_orders import (
    modify as _modify,
)
from mmlab.backtest.core.local_orders import (
    new_order as _new_order,
)
from mmlab.backtest.core.local_orders import (
    order_tick as _order_tick,
)
from mmlab.backtest.core.local_orders import (
    own_bound as _own_bound,
)
from mmlab.backtest.core.local_orders import (
    present as _present,
)
from mmlab.backtest.core.local_orders import (
    quote as _quote,
)
from mmlab.backtest.core.local_orders import (
    reconcile as _reconcile,
)
from mmlab.backtest.core.local_orders import (
    script as _script,
)
from mmlab.backtest.core.primitives import (
    draw as _draw,
)
from mmlab.backtest.core.primitives import (
    mid as _mid,
)
from mmlab.backtest.core.primitives import (
    push_req as _push_req,
)
from mmlab.backtest.core.primitives import (
    risk_event as _risk_event,
)
from mmlab.backtest.core.primitives import (
    value as _value,
)
from mmlab.backtest.engine._user import (
    DEPTH_LEVELS,
    MAX_LEVELS,
    MS_ASK_DEPTH,
    MS_ASK_QTY,
    MS_BEST_ASK,
    MS_BEST_BID,
    MS_BID_DEPTH,
    MS_BID_QTY,
    MS_EQUITY,
    MS_ERROR,
    MS_LOT,
    MS_MAX_POSITION,
    MS_MID,
    MS_POSITION,
    MS_STEP,
    MS_TICK,
    MS_TIME,
    MS_TIME_LEFT,
    N_OUT,
)


def _risk_python(t, lmid, best, acc, sc, cfg, rk):
    """The breakers, at every decision, on the local side's own view: its equity (cash of the
    fills it has heard of, funding, its position) marked at its own mid. Returns 1 when quoting
    is allowed.

    Latched until reset: drawdown (fall from the peak of that equity above ``cfg["maxdd"]``), daily
    loss (fall from the trading day's first decision above ``cfg["maxdl"]``; cleared at the next
    day's start) and the kill switch (set from outside). Self-clearing: stale feed (no local
    market event for ``cfg["stale"]`` ns), abnormal spread (local ask - bid above ``cfg["maxspread"]``),
    vol surge (|local mid change| since the previous decision above ``cfg["maxmove"]``); quoting
    resumes ``cfg["cooldown"]`` ns after the last decision at which one held."""
    tick = cfg["tick"]
    if math.isfinite(lmid):
        acc["lmark"] = lmid
    mk = acc["lmark"]
    eq = acc["lcash"] + acc["fund"]
    if math.isfinite(mk):
        eq += acc["lpos"] * _value(mk, cfg["mult"], cfg["inverse"])
    acc["leq"] = eq
    day = t // cfg["dayns"]
    if day != sc["day"]:
        if sc["day"] >= 0 and (sc["halt"] & H_DAILY) != 0:
            sc["halt"] &= ~H_DAILY
            _risk_event(rk, sc, t, RK_DAY_RESET, eq)
        sc["day"] = day
        acc["day0"] = eq
    if not (acc["lpeak"] >= eq):  # NaN before the first decision
        acc["lpeak"] = eq
    if (sc["halt"] & H_DRAWDOWN) == 0 and acc["lpeak"] - eq > cfg["maxdd"]:
        sc["halt"] |= H_DRAWDOWN
        _risk_event(rk, sc, t, RK_DRAWDOWN, eq)
    if (sc["halt"] & H_DAILY) == 0 and acc["day0"] - eq > cfg["maxdl"]:
        sc["halt"] |= H_DAILY
        _risk_event(rk, sc, t, RK_DAILY_LOSS, eq)
    if (sc["halt"] & H_LIMIT) == 0 and \
            abs(acc["lpos"]) > cfg["hardpos"] + cfg["lot"] * 1e-9:
        sc["halt"] |= H_LIMIT  # (the limit lowered below the position, e.g. by the desk)
        _risk_event(rk, sc, t, RK_LIMIT, acc["lpos"])
    trip = np.int64(0)
    stale = cfg["stale"]
    if stale > 0 and t - sc["tfeed"] > stale:
        trip |= B_STALE
    spread = math.nan
    move = math.nan
    if math.isfinite(lmid):
        spread = (best[3] - best[2]) * tick
        if spread > cfg["maxspread"]:
            trip |= B_SPREAD
        move = abs(lmid - acc["lmidprev"])
        if move > cfg["maxmove"]:  # False while the previous mid is NaN
            trip |= B_VOL
        acc["lmidprev"] = lmid
    new = trip & ~sc["pause"]
    if (new & B_STALE) != 0:
        _risk_event(rk, sc, t, RK_STALE, float(t - sc["tfeed"]))
    if (new & B_SPREAD) != 0:
        _risk_event(rk, sc, t, RK_SPREAD, spread)
    if (new & B_VOL) != 0:
        _risk_event(rk, sc, t, RK_VOL, move)
    if trip != 0:
        sc["pause"] |= trip
        sc["pause_until"] = t + cfg["cooldown"]
    elif sc["pause"] != 0 and t >= sc["pause_until"]:
        _risk_event(rk, sc, t, RK_RESUME, float(sc["pause"]))
        sc["pause"] = 0
    return 1 if sc["halt"] == 0 and sc["pause"] == 0 else 0


def _zone_python(side, lpos, cfg):
    """The risk ladder's soft zones for one side: ``(size factor, spread multiplier)`` from the
    side's usage ``max(0, side x position) / max_position`` (:mod:`mmlab.risk`'s ladder: 1, 1 in
    green; shrinking to ``cfg["ymin"]`` and widening to ``cfg["ywiden"]`` across yellow; 0 in red)."""
    use = max(0.0, side * lpos)
    if cfg["maxpos"] > 0.0:
        u = use / cfg["maxpos"]
    else:  # no room (a portfolio cap at 0): a side that adds is red, one that reduces green
        u = math.inf if use > 0.0 else 0.0
    # a threshold reached within 1e-9 (whole lots summed in binary land a hair below their
    # level; mmlab.risk.zone_of's USAGE_TOL)
    if u + 1e-9 >= cfg["red"]:
        return 0.0, 1.0
    if u + 1e-9 >= cfg["yellow"]:
        frac = (u - cfg["yellow"]) / (cfg["red"] - cfg["yellow"])
        return 1.0 - frac * (1.0 - cfg["ymin"]), 1.0 + frac * (cfg["ywiden"] - 1.0)
    return 1.0, 1.0


def _reconcile_levels_python(side, qo, t, orders, rq, sc, acc, best, cfg, lat_entry):
    """Make our orders on ``side`` match the levels in ``qo`` (``MAX_LEVELS`` a side, level
    ``j``: price ``qo[4 j]`` / size ``qo[4 j + 1]`` for bids, ``qo[4 j + 2]`` / ``qo[4 j + 3]``
    for asks; NaN price or size <= 0: none). Prices go to the tick (bids down, asks up, then the
    strategy's clip to the touch), sizes down to the lot; a level at a tick already taken by a
    nearer level, or that would cross one of our own live orders of the other side, is
    dropped. Working orders not wanted (other tick or size) are cancelled; missing levels are
    sent nearest first while the side's exposure (position + working + in-flight) stays
    within the hard limit."""
    maxord = cfg["maxord"]
    tick = cfg["tick"]
    lot = cfg["lot"]
    base = cfg["base"]
    n = cfg["nticks"]
    clip = cfg["clip"]
    off = 0 if side == 1 else 2
    # the nearest own live order of the other side: never cross it
    lim = _own_bound(orders, side, maxord)
    ticks = np.full(MAX_LEVELS, -1, dtype=np.int64)
    qtys = np.zeros(MAX_LEVELS)
    m = 0
    for j in range(MAX_LEVELS):
        px = qo[4 * j + off]
        q = qo[4 * j + off + 1]
        if not (math.isfinite(px) and q > 0.0):
            continue
        q = math.floor(q / lot + 1e-9) * lot
        if q <= 0.0:
            continue
        if side == 1:
            tk = np.int64(math.floor(px / tick + 1e-9))
            if clip == 1:
                tk = min(tk, best[2] + base)
            elif clip == 2:
                tk = min(tk, best[3] + base - 1)
            if _crosses_own(side, tk, lim, sc, cfg):
                continue
        else:
            tk = np.int64(math.ceil(px / tick - 1e-9))
            if clip == 1:
                tk = max(tk, best[3] + base)
            elif clip == 2:
                tk = max(tk, best[2] + base + 1)
            if _crosses_own(side, tk, lim, sc, cfg):
                continue
        if tk < base or tk >= base + n or tk <= 0:
            continue
        dup = False
        for i in range(m):
            if ticks[i] == tk:
                dup = True
        if dup:
            continue
        ticks[m] = tk
        qtys[m] = q
        m += 1
    # cancel acknowledged orders not wanted (an order pending its ack waits for the next step)
    for s in range(maxord):
        if orders[s]["side"] != side or orders[s]["lo_state"] != LO_WORK:
            continue
        keep = False
        for i in range(m):
            if orders[s]["ltick"] == ticks[i] and abs(orders[s]["qty"] - qtys[i]) <= lot * 1e-9:
                keep = True
        if not keep and cfg["modify"] == 1:
            # re-price / re-size it to the nearest wanted level without an order, if any
            for i in range(m):
                if not _present(orders, side, ticks[i], maxord):
                    keep = _modify(s, ticks[i], qtys[i], t, orders, rq, sc, acc, cfg,
                                   lat_entry) == 1
                    break
        if not keep:
            orders[s]["lo_state"] = LO_PCANCEL
            lat = _draw(lat_entry, sc, RNG_ENTRY)
            _push_req(rq, sc, t + lat, s, R_CANCEL, orders[s]["id"])
    for i in range(m):
        tk = ticks[i]
        qty = qtys[i]
        if _present(orders, side, tk, maxord):
            continue
        if _new_order(side, tk, qty, t, orders, rq, sc, acc, cfg, lat_entry) == 0:
            break


def _levels_step_python(t, row, lmid, orders, rq, sc, acc, best, cfg, lat_entry, steps,
                        qo):
    """Levels in ``qo`` (a user kernel's, or a layered strategy's): the risk ladder's zones and
    the toxicity response on each, then reconcile both sides and record the top quotes."""
    zb, wb = _zone(1, acc["lpos"], cfg)
    za, wa = _zone(-1, acc["lpos"], cfg)
    for j in range(MAX_LEVELS):
        if zb != 1.0 or wb != 1.0:
            qo[4 * j] = lmid - (lmid - qo[4 * j]) * wb
            qo[4 * j + 1] *= zb
        if za != 1.0 or wa != 1.0:
            qo[4 * j + 2] = lmid + (qo[4 * j + 2] - lmid) * wa
            qo[4 * j + 3] *= za
    if sc["toxic"] == 1:
        wd = cfg["toxwiden"]
        for j in range(MAX_LEVELS):
            qo[4 * j] = lmid - (lmid - qo[4 * j]) * wd
            qo[4 * j + 2] = lmid + (qo[4 * j + 2] - lmid) * wd
            qo[4 * j + 1] *= cfg["toxsize"]
            qo[4 * j + 3] *= cfg["toxsize"]
    _reconcile_levels(1, qo, t, orders, rq, sc, acc, best, cfg, lat_entry)
    _reconcile_levels(-1, qo, t, orders, rq, sc, acc, best, cfg, lat_entry)
    tick = cfg["tick"]
    bb = -1
    aa = 9_000_000_000_000_000_000
    for s in range(cfg["maxord"]):
        if orders[s]["lo_state"] == LO_PNEW or orders[s]["lo_state"] == LO_WORK or orders[s]["lo_state"] == LO_PMODIFY:
            if orders[s]["side"] == 1:
                bb = max(bb, _order_tick(orders, s))
            else:
                aa = min(aa, _order_tick(orders, s))
    if bb >= 0:
        steps[row]["quote_bid"] = bb * tick
    if aa < 9_000_000_000_000_000_000:
        steps[row]["quote_ask"] = aa * tick


def _user_step_python(t, k, row, lmid, bb_px, ba_px, orders, rq, sc, acc, best, book, cfg, up,
                      lat_entry, steps, rk, qf, qs, qo):
    """A user quote kernel's decision: fill the market-state record (with the local book's
    depth), call the kernel through its function pointer, then the levels step."""
    base = cfg["base"]
    tick = cfg["tick"]
    n = cfg["nticks"]
    lot = cfg["lot"]
    qs[MS_MID] = lmid
    qs[MS_BEST_BID] = bb_px
    qs[MS_BEST_ASK] = ba_px
    qs[MS_POSITION] = acc["lpos"]
    qs[MS_TIME] = (t - cfg["tstart"] + cfg["interval"]) * 1e-9
    qs[MS_TIME_LEFT] = (cfg["tend"] - t) / cfg["tunit"]
    qs[MS_TICK] = tick
    qs[MS_LOT] = lot
    qs[MS_MAX_POSITION] = cfg["maxpos"]
    qs[MS_EQUITY] = acc["leq"]
    qs[MS_STEP] = k
    qs[MS_BID_QTY] = book[2, best[2]] if best[2] >= 0 else 0.0
    qs[MS_ASK_QTY] = book[3, best[3]] if best[3] < n else 0.0
    ib = best[2]  # the depth: the first DEPTH_LEVELS non-empty levels a side from the touch
    ia = best[3]
    for j in range(DEPTH_LEVELS):
        while ib >= 0 and book[2, ib] <= 0.0:
            ib -= 1
        while ia < n and book[3, ia] <= 0.0:
            ia += 1
        qs[MS_BID_DEPTH + 2 * j] = (ib + base) * tick if ib >= 0 else math.nan
        qs[MS_BID_DEPTH + 2 * j + 1] = book[2, ib] if ib >= 0 else 0.0
        qs[MS_ASK_DEPTH + 2 * j] = (ia + base) * tick if ia < n else math.nan
        qs[MS_ASK_DEPTH + 2 * j + 1] = book[3, ia] if ia < n else 0.0
        ib -= 1
        ia += 1
    for j in range(N_OUT):
        qo[j] = math.nan
    _call_user(qf, qs, up, qo)
    if qs[MS_ERROR] != 0.0:  # the kernel raised: halt (latched), cancel everything
        sc["halt"] |= H_KERNEL
        _risk_event(rk, sc, t, RK_KERNEL_ERROR, float(k))
        for j in range(N_OUT):
            qo[j] = math.nan
    _levels_step(t, row, lmid, orders, rq, sc, acc, best, cfg, lat_entry, steps, qo)


def _step_python(t, k, orders, rq, sc, acc, best, book, cfg, qp, script, up, lat_entry, steps,
                 rk, qf, qs, qo):
    """The strategy wakes at local time ``t``: quote from the local book and reconcile."""
    base = cfg["base"]
    tick = cfg["tick"]
    n = cfg["nticks"]
    lot = cfg["lot"]
    lmid = _mid(best, 2, base, tick, n)
    row = k // cfg["record"]
    steps[row]["quote_bid"] = math.nan
    steps[row]["quote_ask"] = math.nan
    if _risk(t, lmid, best, acc, sc, cfg, rk) == 0:
        # a breaker holds: cancel every working order, send nothing (a hard-limit breach:
        # then flatten the position)
        _reconcile(1, -1, 0.0, t, orders, rq, sc, acc, cfg, lat_entry)
        _reconcile(-1, -1, 0.0, t, orders, rq, sc, acc, cfg, lat_entry)
        if (sc["halt"] & H_LIMIT) != 0:
            _flatten(t, orders, rq, sc, acc, cfg, lat_entry)
        return
    if cfg["strat"] == STRAT_SCRIPT and cfg["halt"] == 0:
        _script(t, k, orders, rq, sc, acc, cfg, script, lat_entry)
        return
    if not math.isfinite(lmid) or cfg["halt"] == 1:
        _reconcile(1, -1, 0.0, t, orders, rq, sc, acc, cfg, lat_entry)
        _reconcile(-1, -1, 0.0, t, orders, rq, sc, acc, cfg, lat_entry)
        return
    bb_px = (best[2] + base) * tick
    ba_px = (best[3] + base) * tick
    if cfg["strat"] == STRAT_USER:  # the user's kernel, through its function pointer
        _user_step(t, k, row, lmid, bb_px, ba_px, orders, rq, sc, acc, best, book, cfg,
                   up, lat_entry, steps, rk, qf, qs, qo)
        return
    bid, ask, bq, aq = _quote(cfg["strat"], qp, lmid, acc["lpos"], t, cfg["tend"], bb_px,
                              ba_px, tick)
    nl = cfg["nlayers"]
    if nl > 0:  # layering: the top quote's distance and size spread over nl levels
        for j in range(MAX_LEVELS):
            d = cfg["layer_dist"][j]
            w = cfg["layer_share"][j]
            if j < nl:
                qo[4 * j] = lmid - (lmid - bid) * d
                qo[4 * j + 1] = bq * w
                qo[4 * j + 2] = lmid + (ask - lmid) * d
                qo[4 * j + 3] = aq * w
            else:
                qo[4 * j] = math.nan
                qo[4 * j + 2] = math.nan
        _levels_step(t, row, lmid, orders, rq, sc, acc, best, cfg, lat_entry, steps, qo)
        return
    zb, wb = _zone(1, acc["lpos"], cfg)  # the risk ladder's soft zones
    za, wa = _zone(-1, acc["lpos"], cfg)
    if zb != 1.0 or wb != 1.0:
        bid = lmid - (lmid - bid) * wb
        bq *= zb
    if za != 1.0 or wa != 1.0:
        ask = lmid + (ask - lmid) * wa
        aq *= za
    if sc["toxic"] == 1:  # toxic flow: widen from the mid and size down
        wd = cfg["toxwiden"]
        bid = lmid - (lmid - bid) * wd
        ask = lmid + (ask - lmid) * wd
        bq *= cfg["toxsize"]
        aq *= cfg["toxsize"]
    clip = cfg["clip"]
    btick = np.int64(-1)
    atick = np.int64(-1)
    if math.isfinite(bid) and bq > 0.0:
        btick = np.int64(math.floor(bid / tick + 1e-9))
        if clip == 1:
            btick = min(btick, best[2] + base)
        elif clip == 2:
            btick = min(btick, best[3] + base - 1)
        if btick < 0:
            btick = np.int64(-1)
    if math.isfinite(ask) and aq > 0.0:
        atick = np.int64(math.ceil(ask / tick - 1e-9))
        if clip == 1:
            atick = max(atick, best[3] + base)
        elif clip == 2:
            atick = max(atick, best[2] + base + 1)
    bq = math.floor(bq / lot + 1e-9) * lot
    aq = math.floor(aq / lot + 1e-9) * lot
    if btick >= 0:
        steps[row]["quote_bid"] = btick * tick
    if atick >= 0:
        steps[row]["quote_ask"] = atick * tick
    _reconcile(1, btick, bq, t, orders, rq, sc, acc, cfg, lat_entry)
    _reconcile(-1, atick, aq, t, orders, rq, sc, acc, cfg, lat_entry)


# the names the functions above call each other by, bound to the plain-Python twins (the
# compiled family binds its own: mmlab.backtest.engine._engine._compile)
_risk = _risk_python
_zone = _zone_python
_reconcile_levels = _reconcile_levels_python
_levels_step = _levels_step_python
_user_step = _user_step_python
_step = _step_python

# public names for the sibling modules (the import graph allows no private imports)
risk = _risk_python
zone = _zone_python
reconcile_levels = _reconcile_levels_python
levels_step = _levels_step_python
user_step = _user_step_python
step = _step_python
