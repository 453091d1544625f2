"""The exchange side of the trading core: our orders resting in the replayed book, matched by
trades, by the book moving through them and by their queue position (queue models, exact L3
FIFO), and answered to the local side after the response latency.

Each function here is the plain-Python twin; :mod:`mmlab.backtest.engine._engine` compiles the family
from the same code (see its ``_compile``)."""

from __future__ import annotations

import math

from mmlab.backtest.core.externals import (
    queue_depth as _queue_depth,
)
from mmlab.backtest.core.externals import (
    queue_filled_qty as _queue_filled_qty,
)
from mmlab.backtest.core.externals import (
    queue_trade as _queue_trade,
)
from mmlab.backtest.core.layout import (
    C_BUY,
    C_KIND,
    K_ADD,
    K_CLEAR,
    K_DEPTH,
    K_EXEC,
    K_REDUCE,
    K_SNAPSHOT,
    K_TRADE,
    K_VTRADE,
    R_CANCEL,
    R_MODIFY,
    R_NEW,
    RNG_RESPONSE,
    S_ACK,
    S_CANCEL_REJECTED,
    S_CANCELLED,
    S_FILL,
    S_MODIFIED,
    S_MODIFY_REJECTED,
    S_REJECTED,
)
from mmlab.backtest.core.primitives import (
    book_fill as _book_fill,
)
from mmlab.backtest.core.primitives import (
    clear_event as _clear_event,
)
from mmlab.backtest.core.primitives import (
    draw as _draw,
)
from mmlab.backtest.core.primitives import (
    mid as _mid,
)
from mmlab.backtest.core.primitives import (
    push_resp as _push_resp,
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
from mmlab.backtest.engine._queue import QUEUE_FIFO


def _live_remove_python(live, sc, slot):
    n = sc["nlive"]
    for j in range(n):
        if live[j] == slot:
            live[j] = live[n - 1]
            sc["nlive"] = n - 1
            return


def _ex_fill_python(slot, qty, px, maker, t, orders, live, sc, acc, fills, rs, best, book,
                    cfg, lat_resp, mid):
    """The exchange fills ``qty`` of order ``slot`` at ``px``; response to local."""
    resp = _draw(lat_resp, sc, RNG_RESPONSE)
    side = orders[slot]["side"]
    _book_fill(acc, sc, fills, slot, orders, side, qty, px, maker, t, resp, mid, cfg)
    orders[slot]["leaves"] -= qty
    orders[slot]["filled"] += qty
    if orders[slot]["leaves"] <= cfg["lot"] * 1e-9:
        orders[slot]["leaves"] = 0.0
        if orders[slot]["ex_state"] == 1:
            _live_remove(live, sc, slot)
        orders[slot]["ex_state"] = 2
    _push_resp(rs, sc, t + resp, slot, S_FILL, orders[slot]["id"], qty)
    kf = sc["nfills"] - 1
    fills[kf]["local_ts"] = rs[sc["nresp"] - 1]["ts"]  # (its arrival, after any earlier one)
    rs[sc["nresp"] - 1]["cash"] = -side * qty * _value(
        fills[kf]["price"], cfg["mult"], cfg["inverse"]) - fills[kf]["fee"]


def _ex_cross_python(b, t, orders, live, sc, acc, fills, rs, best, book, cfg,
                     lat_resp):
    """After a best-price move on exchange side ``b`` (0 bid, 1 ask): fill our resting orders
    on the other side that the new best crosses (in full, at their own price, as makers)."""
    base = cfg["base"]
    tick = cfg["tick"]
    n = cfg["nticks"]
    j = 0
    while j < sc["nlive"]:
        slot = live[j]
        hit = False
        if b == 0:
            hit = orders[slot]["side"] == -1 and orders[slot]["tick"] - base <= best[0]
        else:
            hit = orders[slot]["side"] == 1 and orders[slot]["tick"] - base >= best[1]
        if hit:
            mid = _mid(best, 0, base, tick, n)
            _ex_fill(slot, orders[slot]["leaves"], orders[slot]["tick"] * tick, 1, t, orders, live, sc,
                     acc, fills, rs, best, book, cfg, lat_resp, mid)
            # the slot left `live` (swap with the last): look at index j again
        else:
            j += 1


def _ex_trade_python(tick_t, aggressor, tq, t, orders, live, sc, acc, fills, rs, best,
                     book, cfg, lat_resp):
    """A public trade at ``tick_t`` (absolute ticks), aggressor +1 buy / -1 sell, qty ``tq``."""
    base = cfg["base"]
    tick = cfg["tick"]
    n = cfg["nticks"]
    model = cfg["qmodel"]
    lot = cfg["lot"]
    j = 0
    while j < sc["nlive"]:
        slot = live[j]
        side = orders[slot]["side"]
        filled = False
        if side == -aggressor:
            ot = orders[slot]["tick"]
            through = (side == -1 and ot < tick_t) or (side == 1 and ot > tick_t)
            if through:
                mid = _mid(best, 0, base, tick, n)
                q = orders[slot]["leaves"]
                if cfg["partial"] == 1:
                    q = min(q, tq)
                _ex_fill(slot, q, ot * tick, 1, t, orders, live, sc, acc, fills, rs, best,
                         book, cfg, lat_resp, mid)
                filled = orders[slot]["ex_state"] == 2
            elif ot == tick_t:
                fr, cu = _queue_trade(model, orders[slot]["front"], orders[slot]["cum"], tq)
                orders[slot]["front"] = fr
                orders[slot]["cum"] = cu
                ex = _queue_filled_qty(fr, lot)
                if model == QUEUE_FIFO and fr <= lot * 1e-9:
                    ex = tq  # (hidden) execution at our price, nothing visible ahead: reaches us
                if ex > 0.0:
                    mid = _mid(best, 0, base, tick, n)
                    q = orders[slot]["leaves"]
                    if cfg["partial"] == 1:
                        q = min(q, ex, tq)
                        orders[slot]["front"] = 0.0
                    _ex_fill(slot, q, ot * tick, 1, t, orders, live, sc, acc, fills, rs,
                             best, book, cfg, lat_resp, mid)
                    filled = orders[slot]["ex_state"] == 2
        if not filled:
            j += 1


def _trade_hits_python(c, p, itick, orders, live, sc):
    """Whether a public trade (code ``c``, price ``p``) can touch one of our resting orders: one
    on the passive side at or through its price (else :func:`_ex_trade` would do nothing)."""
    nl = sc["nlive"]
    if nl == 0:
        return False
    tk = _tick(p, itick)
    buy_aggr = (c & C_BUY) != 0
    for j in range(nl):
        slot = live[j]
        if buy_aggr:
            if orders[slot]["side"] == -1 and orders[slot]["tick"] <= tk:
                return True
        elif orders[slot]["side"] == 1 and orders[slot]["tick"] >= tk:
            return True
    return False


def _ex_depth_q_python(b, idx, q, orders, live, sc, best, book, cfg):
    """An exchange L2 update of side ``b`` (0 bid, 1 ask) at level ``idx``: the book, then the
    queue position of our orders at that price. True when the new best crosses one of our
    resting orders on the other side (then :func:`_ex_cross` fills them)."""
    prev_best = best[b]
    prev = _set_level(book, best, b, idx, q)
    nl = sc["nlive"]
    if nl == 0:
        return False
    new = book[b, idx]
    side = 1 if b == 0 else -1
    tick_abs = idx + cfg["base"]
    for j in range(nl):
        slot = live[j]
        if orders[slot]["side"] == side and orders[slot]["tick"] == tick_abs:
            fr, cu = _queue_depth(cfg["qmodel"], cfg["qn"], orders[slot]["front"], orders[slot]["cum"],
                                  prev, new)
            orders[slot]["front"] = fr
            orders[slot]["cum"] = cu
            if cfg["qmodel"] == QUEUE_FIFO:
                sc["nl2q"] += 1
    base = cfg["base"]
    if b == 0 and best[0] > prev_best:
        for j in range(nl):
            slot = live[j]
            if orders[slot]["side"] == -1 and orders[slot]["tick"] - base <= best[0]:
                return True
    elif b == 1 and best[1] < prev_best:
        for j in range(nl):
            slot = live[j]
            if orders[slot]["side"] == 1 and orders[slot]["tick"] - base >= best[1]:
                return True
    return False


def _ex_l3_python(i, kind, b, idx, q, l3a, t, orders, live, sc, acc, fills, rs, best, book,
                  cfg, lat_resp):
    """An L3 record (``K_ADD``/``K_REDUCE``/``K_EXEC``) sets level ``idx`` of exchange side ``b``
    to its new total ``q``; then our orders.

    FIFO (``QUEUE_FIFO``): the order behind the record arrived at the exchange before ours when
    ``l3a[i]`` (its arrival: an exchange-event index, -1 for quantity resting before the data)
    is below our ``O_ARR``. A reduction of such an order lowers our queue ahead by exactly the
    level's decrease; an execution of it too, and what it takes beyond the queue ahead fills us;
    an execution of an order *behind* us passed through us first: beyond the queue ahead, it
    fills us; an execution at a price through ours (a lower bid, a higher ask) fills us. Other
    models treat the record as the L2 update ``prev -> q`` (:func:`_ex_depth_q`). Returns True
    when the new best crosses one of our orders on the other side (see :func:`_ex_cross`).
    """
    model = cfg["qmodel"]
    if model != QUEUE_FIFO:
        return _ex_depth_q(b, idx, q, orders, live, sc, best, book, cfg)
    prev_best = best[b]
    prev = _set_level(book, best, b, idx, q)
    if sc["nlive"] == 0:
        return False
    base = cfg["base"]
    tick = cfg["tick"]
    n = cfg["nticks"]
    lot = cfg["lot"]
    dq = prev - book[b, idx]
    side = 1 if b == 0 else -1
    tick_abs = idx + base
    arr = l3a[i]
    j = 0
    while j < sc["nlive"]:
        slot = live[j]
        ex = 0.0
        if orders[slot]["side"] == side and kind != K_ADD:
            ot = orders[slot]["tick"]
            if ot == tick_abs:
                ahead = arr < orders[slot]["arrival"]
                fr = orders[slot]["front"]
                if kind == K_REDUCE:
                    if ahead:
                        orders[slot]["front"] = max(fr - dq, 0.0)
                elif ahead:  # execution of an order ahead of ours
                    fr -= dq
                    if fr < 0.0:
                        ex = -fr
                        fr = 0.0
                    orders[slot]["front"] = fr
                else:  # execution of an order behind ours
                    ex = dq - max(fr, 0.0)
            elif kind == K_EXEC and ((side == 1 and ot > tick_abs) or
                                     (side == -1 and ot < tick_abs)):
                ex = dq
        if ex > lot * 1e-9:
            qf = orders[slot]["leaves"]
            if cfg["partial"] == 1:
                qf = min(qf, math.floor(ex / lot + 1e-9) * lot)
            if qf > 0.0:
                mid = _mid(best, 0, base, tick, n)
                _ex_fill(slot, qf, orders[slot]["tick"] * tick, 1, t, orders, live, sc, acc, fills,
                         rs, best, book, cfg, lat_resp, mid)
                if orders[slot]["ex_state"] == 2:
                    continue  # the slot left `live`: look at index j again
        j += 1
    if b == 0 and best[0] > prev_best:
        for j in range(sc["nlive"]):
            slot = live[j]
            if orders[slot]["side"] == -1 and orders[slot]["tick"] - base <= best[0]:
                return True
    elif b == 1 and best[1] < prev_best:
        for j in range(sc["nlive"]):
            slot = live[j]
            if orders[slot]["side"] == 1 and orders[slot]["tick"] - base >= best[1]:
                return True
    return False


def _ex_modify_python(slot, t, i_ex, orders, live, sc, acc, fills, rs, best, book, cfg, lat_resp):
    """A modify of order ``slot`` reaches the exchange: to tick ``mtick`` with the total
    quantity ``mtotal``, so leaves ``mtotal - filled`` (what filled while the modify was in
    flight is not bought again). Rejected (order unchanged) when the order is not resting,
    nothing would be left, the new price is off the book's range, or it would cross as a
    post-only order (or with no opposite side).
    The queue-priority rule: a new price or a larger size joins the back of the level's queue
    (the level's whole displayed size in front, a new FIFO arrival), a smaller size at the same
    price keeps its place. A non-post-only order modified through the opposite best takes it,
    in full, as a new order does."""
    oid = orders[slot]["id"]
    base = cfg["base"]
    tick = cfg["tick"]
    n = cfg["nticks"]
    side = orders[slot]["side"]
    nt = orders[slot]["mtick"]
    nq = orders[slot]["mtotal"] - orders[slot]["filled"]
    idx = nt - base
    resp = _draw(lat_resp, sc, RNG_RESPONSE)
    ok = orders[slot]["ex_state"] == 1 and 0 <= idx < n and nq > cfg["lot"] * 1e-9
    crosses = False
    if ok:
        crosses = (side == 1 and idx >= best[1]) or (side == -1 and idx <= best[0])
        no_opp = (side == 1 and best[1] >= n) or (side == -1 and best[0] < 0)
        if crosses and (orders[slot]["post_only"] == 1 or no_opp):
            ok = False
    if not ok:
        _push_resp(rs, sc, t + resp, slot, S_MODIFY_REJECTED, oid, 0.0)
        return
    lose = nt != orders[slot]["tick"] or nq > orders[slot]["leaves"] + cfg["lot"] * 1e-9
    orders[slot]["tick"] = nt
    orders[slot]["leaves"] = nq
    sc["nmodified"] += 1
    if lose:
        orders[slot]["arrival"] = i_ex
        orders[slot]["front"] = book[0 if side == 1 else 1, idx]
        orders[slot]["cum"] = 0.0
    _push_resp(rs, sc, t + resp, slot, S_MODIFIED, oid, nq)
    if crosses:  # takes the opposite best, in full
        mid = _mid(best, 0, base, tick, n)
        px = (best[1] + base) * tick if side == 1 else (best[0] + base) * tick
        _ex_fill(slot, nq, px, 0, t, orders, live, sc, acc, fills, rs, best, book, cfg, lat_resp, mid)


def _ex_request_python(r, rq, t, i_ex, orders, live, sc, acc, fills, rs, best, book, cfg, lat_resp):
    """A request (row ``r`` of ``rq``) reaches the exchange at ``t``, before exchange event
    ``i_ex``."""
    slot = rq[r]["slot"]
    kind = rq[r]["kind"]
    oid = rq[r]["order_id"]
    base = cfg["base"]
    tick = cfg["tick"]
    n = cfg["nticks"]
    if orders[slot]["id"] != oid:  # the order is not (any more) in this slot: unknown here
        if kind == R_CANCEL or kind == R_MODIFY:
            resp = _draw(lat_resp, sc, RNG_RESPONSE)
            _push_resp(rs, sc, t + resp, slot,
                       S_CANCEL_REJECTED if kind == R_CANCEL else S_MODIFY_REJECTED, oid, 0.0)
        return
    if kind == R_MODIFY:
        _ex_modify(slot, t, i_ex, orders, live, sc, acc, fills, rs, best, book, cfg, lat_resp)
    elif kind == R_NEW:
        side = orders[slot]["side"]
        idx = orders[slot]["tick"] - base
        crosses = (side == 1 and idx >= best[1]) or (side == -1 and idx <= best[0])
        if crosses:
            no_opp = (side == 1 and best[1] >= n) or (side == -1 and best[0] < 0)
            if orders[slot]["post_only"] == 1 or no_opp:
                orders[slot]["ex_state"] = 2
                sc["nreject"] += 1
                resp = _draw(lat_resp, sc, RNG_RESPONSE)
                _push_resp(rs, sc, t + resp, slot, S_REJECTED, oid, 0.0)
            else:  # takes the opposite best, in full (as hftbacktest)
                mid = _mid(best, 0, base, tick, n)
                px = (best[1] + base) * tick if side == 1 else (best[0] + base) * tick
                _ex_fill(slot, orders[slot]["leaves"], px, 0, t, orders, live, sc, acc, fills, rs, best, book, cfg, lat_resp, mid)
        else:
            orders[slot]["ex_state"] = 1
            orders[slot]["arrival"] = i_ex
            b = 0 if side == 1 else 1
            orders[slot]["front"] = book[b, idx]
            orders[slot]["cum"] = 0.0
            live[sc["nlive"]] = slot
            sc["nlive"] += 1
            resp = _draw(lat_resp, sc, RNG_RESPONSE)
            _push_resp(rs, sc, t + resp, slot, S_ACK, oid, 0.0)
    else:  # cancel
        resp = _draw(lat_resp, sc, RNG_RESPONSE)
        if orders[slot]["ex_state"] == 1:
            _live_remove(live, sc, slot)
            orders[slot]["ex_state"] = 2
            sc["ncancel"] += 1
            _push_resp(rs, sc, t + resp, slot, S_CANCELLED, oid, 0.0)
        else:
            _push_resp(rs, sc, t + resp, slot, S_CANCEL_REJECTED, oid, 0.0)


def _ex_event_python(i, t, code, px, qty, l3a, orders, live, sc, acc, fills, rs, best, book,
                     cfg, lat_resp):
    """Apply exchange event ``i`` (book update, trade matching, clear, L3 record)."""
    n = cfg["nticks"]
    base = cfg["base"]
    c = code[i]
    kind = c & C_KIND
    if kind == K_DEPTH or kind == K_SNAPSHOT:
        idx = _tick(px[i], cfg["itick"]) - base
        if 0 <= idx < n:
            b = 0 if (c & C_BUY) != 0 else 1
            if _ex_depth_q(b, idx, qty[i], orders, live, sc, best, book, cfg):
                _ex_cross(b, t, orders, live, sc, acc, fills, rs, best, book, cfg,
                          lat_resp)
    elif kind == K_TRADE or kind == K_VTRADE:
        # FIFO mode skips a trade whose execution the next L3 record reports
        if sc["nlive"] > 0 and (kind == K_TRADE or cfg["qmodel"] != QUEUE_FIFO):
            agg = 1 if (c & C_BUY) != 0 else -1
            _ex_trade(_tick(px[i], cfg["itick"]), agg, qty[i], t, orders, live, sc, acc, fills, rs, best, book, cfg, lat_resp)
    elif kind == K_ADD or kind == K_REDUCE or kind == K_EXEC:
        idx = _tick(px[i], cfg["itick"]) - base
        if 0 <= idx < n:
            b = 0 if (c & C_BUY) != 0 else 1
            if _ex_l3(i, kind, b, idx, qty[i], l3a, t, orders, live, sc, acc, fills, rs,
                      best, book, cfg, lat_resp):
                _ex_cross(b, t, orders, live, sc, acc, fills, rs, best, book, cfg,
                          lat_resp)
    elif kind == K_CLEAR:
        _clear_event(c, px[i], book, best, 0, base, cfg)


# the names the functions above call each other by, bound to the plain-Python twins (the
# compiled family binds its own: mmlab.backtest.engine._engine._compile)
_live_remove = _live_remove_python
_ex_fill = _ex_fill_python
_ex_cross = _ex_cross_python
_ex_trade = _ex_trade_python
_trade_hits = _trade_hits_python
_ex_depth_q = _ex_depth_q_python
_ex_l3 = _ex_l3_python
_ex_modify = _ex_modify_python
_ex_modify = _ex_modify_python
ex_request = _ex_request_python
_ex_event = _ex_event_python

# public names for the sibling modules (the import graph allows no private imports)
live_remove = _live_remove_python
ex_fill = _ex_fill_python
ex_cross = _ex_cross_python
ex_trade = _ex_trade_python
trade_hits = _trade_hits_python
ex_depth_q = _ex_depth_q_python
ex_l3 = _ex_l3_python
ex_request = _ex_request_python
ex_event = _ex_event_python
