"""The local side of the trading core, orders: the responses it hears (acks, fills, cancels) and
the toxicity response they feed, the strategy call, and the reconciliation of our orders with
the quotes (the hard limit counting working and in-flight orders, the throttle, scripted
orders).

Each function here is the plain-Python twin; :mod:`mmlab.backtest.engine._engine` compiles the family
from the same code (see its ``_compile``)."""

from __future__ import annotations

import math

import numpy as np

from mmlab.backtest.core.externals import (
    adaptive_quote as _adaptive_quote,
)
from mmlab.backtest.core.externals import (
    as_inf_quote as _as_inf_quote,
)
from mmlab.backtest.core.externals import (
    as_quote as _as_quote,
)
from mmlab.backtest.core.externals import (
    glft_quote as _glft_quote,
)
from mmlab.backtest.core.layout import (
    LO_FREE,
    LO_PCANCEL,
    LO_PMODIFY,
    LO_PNEW,
    LO_WORK,
    R_CANCEL,
    R_MODIFY,
    R_NEW,
    RK_TOXIC,
    RK_TOXIC_END,
    RNG_ENTRY,
    S_ACK,
    S_CANCELLED,
    S_FILL,
    S_MODIFIED,
    S_MODIFY_REJECTED,
    S_REJECTED,
    STRAT_ADAPTIVE,
    STRAT_AS,
    STRAT_AS_INF,
    STRAT_GRID,
)
from mmlab.backtest.core.primitives import (
    draw as _draw,
)
from mmlab.backtest.core.primitives import (
    push_req as _push_req,
)
from mmlab.backtest.core.primitives import (
    risk_event as _risk_event,
)


def _toxicity_python(side, t, sc, cfg, rk):
    """The toxicity response's state after one of our fills (heard of locally): over the last
    ``cfg["toxwin"]`` fills, a one-sided share above ``cfg["toxthr"]`` makes the flow toxic; it recovers
    after ``cfg["toxrec"]`` consecutive clean fills (after which the share is at or below it)."""
    w = cfg["toxwin"]
    if w <= 0:
        return
    h = sc["toxhead"]
    if sc["toxn"] == w:  # the ring is full: the oldest side leaves
        if sc["tox_ring"][h] > 0:
            sc["toxbuy"] -= 1
    else:
        sc["toxn"] += 1
    sc["tox_ring"][h] = side
    if side > 0:
        sc["toxbuy"] += 1
    sc["toxhead"] = (h + 1) % w
    n = sc["toxn"]
    ratio = max(sc["toxbuy"], n - sc["toxbuy"]) / n
    if n >= w and ratio > cfg["toxthr"]:
        if sc["toxic"] == 0:
            _risk_event(rk, sc, t, RK_TOXIC, ratio)
        sc["toxic"] = 1
        sc["toxclean"] = 0
    elif sc["toxic"] == 1:
        sc["toxclean"] += 1
        if sc["toxclean"] >= cfg["toxrec"]:
            sc["toxic"] = 0
            sc["toxclean"] = 0
            _risk_event(rk, sc, t, RK_TOXIC_END, ratio)


def _lo_response_python(r, rs, orders, acc, sc, cfg, rk):
    slot = rs[r]["slot"]
    kind = rs[r]["kind"]
    if orders[slot]["id"] != rs[r]["order_id"] or orders[slot]["lo_state"] == LO_FREE:
        return
    if kind == S_ACK:
        if orders[slot]["lo_state"] == LO_PNEW:
            orders[slot]["lo_state"] = LO_WORK
    elif kind == S_FILL:
        q = rs[r]["qty"]
        acc["lpos"] += orders[slot]["side"] * q
        acc["lcash"] += rs[r]["cash"]
        orders[slot]["lfilled"] += q
        _toxicity(orders[slot]["side"], rs[r]["ts"], sc, cfg, rk)
        orders[slot]["lleaves"] -= q
        if orders[slot]["lleaves"] <= orders[slot]["qty"] * 1e-9:
            orders[slot]["lleaves"] = 0.0
            orders[slot]["lo_state"] = LO_FREE
        elif orders[slot]["lo_state"] == LO_PNEW:
            orders[slot]["lo_state"] = LO_WORK
    elif kind == S_CANCELLED or kind == S_REJECTED:
        orders[slot]["lo_state"] = LO_FREE
    elif kind == S_MODIFIED:
        if orders[slot]["lo_state"] == LO_PMODIFY:
            orders[slot]["ltick"] = orders[slot]["mtick"]
            orders[slot]["qty"] = orders[slot]["mqty"]
            orders[slot]["lleaves"] = rs[r]["qty"]
            orders[slot]["lo_state"] = LO_WORK
    elif kind == S_MODIFY_REJECTED:
        if orders[slot]["lo_state"] == LO_PMODIFY:
            orders[slot]["lo_state"] = LO_WORK  # the order stays as it was
    # S_CANCEL_REJECTED: the order was already gone (its fill response is on its way or arrived)


def _quote_python(strat, qp, mid, pos, t, t_end, bb_px, ba_px, tick):
    """Strategy kernel: ``(bid, ask, bid_qty, ask_qty)`` (NaN price: no quote) from the
    strategy's parameter record ``qp`` (QUOTE_PARAMS_DTYPE)."""
    if strat == STRAT_GRID:
        r = mid - qp["skew"] * pos
        return r - qp["half_spread"], r + qp["half_spread"], qp["order_qty"], qp["order_qty"]
    if strat == STRAT_AS:
        tl = (t_end - t) / qp["time_unit_ns"]
        return _as_quote(mid, pos, tl, qp["gamma"], qp["sigma_px"], qp["k"],
                         qp["max_inventory"], qp["order_size"])
    if strat == STRAT_AS_INF:
        return _as_inf_quote(mid, pos, qp["gamma"], qp["sigma_px"], qp["k"], qp["omega"],
                             qp["max_inventory"], qp["order_size"])
    if strat == STRAT_ADAPTIVE:
        # the volatility: EWMA of the squared local mid change between steps, per time unit
        # (unknown, so the strategy's vol_mult_max applies, before vol_min_steps changes)
        if qp["last_mid"] == qp["last_mid"]:
            d = mid - qp["last_mid"]
            w = qp["vol_weight"]
            qp["vol_ewma"] = d * d if qp["vol_n"] == 0.0 else (1.0 - w) * qp["vol_ewma"] + w * d * d
            qp["vol_n"] += 1.0
        qp["last_mid"] = mid
        vol = math.nan
        if qp["vol_n"] >= qp["vol_min_steps"]:
            vol = math.sqrt(qp["vol_ewma"] / qp["step_units"])
        return _adaptive_quote(mid, pos, 0.0, bb_px, ba_px, vol, qp["adaptive"])
    return _glft_quote(mid, pos, qp["gamma"], qp["sigma_px"], qp["A"], qp["k"], qp["xi"],
                       qp["order_size"], qp["max_inventory"])


def _side_exposure_python(orders, side, maxord):
    """Unsigned quantity of our live orders on ``side`` (pending new, working, pending cancel;
    pending modify: the larger of its leaves before and after)."""
    tot = 0.0
    for s in range(maxord):
        lo = orders[s]["lo_state"]
        if lo != LO_FREE and orders[s]["side"] == side:
            if lo == LO_PMODIFY:
                tot += max(orders[s]["lleaves"], orders[s]["mqty"])
            else:
                tot += orders[s]["lleaves"]
    return tot


def _out_of_band_python(tk, acc, sc, cfg):
    """1 (counted) when a price at tick ``tk`` lies further from the local mid than the price
    band (``cfg["band"]`` x mid: a fat-finger check on what a strategy asks for); 0 otherwise, and
    while no local mid is known."""
    mk = acc["lmark"]
    if math.isfinite(cfg["band"]) and math.isfinite(mk) and \
            abs(tk * cfg["tick"] - mk) > cfg["band"] * abs(mk):
        sc["nbanded"] += 1
        return 1
    return 0


def _order_tick_python(orders, s):
    """The tick order ``s`` is wanted at, as the local side sees it (a pending modify's new
    tick)."""
    if orders[s]["lo_state"] == LO_PMODIFY:
        return orders[s]["mtick"]
    return orders[s]["ltick"]


def _own_bound_python(orders, side, maxord):
    """The nearest tick of our own live orders on the other side of ``side`` (working, in
    flight, being cancelled or modified: at either tick): a bid must stay below it, an ask
    above it, or our orders would lock or cross (-1 / BIG: none)."""
    lim = np.int64(-1) if side == -1 else np.int64(9_000_000_000_000_000_000)
    for s in range(maxord):
        if orders[s]["lo_state"] != LO_FREE and orders[s]["side"] == -side:
            if side == 1:
                lim = min(lim, orders[s]["ltick"], _order_tick(orders, s))
            else:
                lim = max(lim, orders[s]["ltick"], _order_tick(orders, s))
    return lim


def _crosses_own_python(side, tk, lim, sc, cfg):
    """Whether tick ``tk`` on ``side`` would lock or cross our own order at ``lim`` under
    self-trade prevention (counted)."""
    if cfg["stp"] == 1 and ((side == 1 and tk >= lim) or (side == -1 and tk <= lim)):
        sc["nselfcross"] += 1
        return True
    return False


def _present_python(orders, side, tk, maxord):
    """Whether one of our live orders on ``side`` is at (or being modified to) tick ``tk``."""
    for s in range(maxord):
        if orders[s]["lo_state"] != LO_FREE and orders[s]["side"] == side and _order_tick(orders, s) == tk:
            return True
    return False


def _modify_python(s, tk, qty, t, orders, rq, sc, acc, cfg, lat_entry):
    """Send a modify of working order ``s`` to tick ``tk`` with leaves ``qty`` (sent as the
    new total quantity, what the local side has heard filled plus ``qty``) when the hard
    limit (a larger size counts), the request queue and the throttle allow it; 1 if sent."""
    side = orders[s]["side"]
    inc = qty - orders[s]["lleaves"]
    if inc > 0.0:
        expo = side * acc["lpos"] + _side_exposure(orders, side, cfg["maxord"])
        if expo + inc > cfg["maxpos"] + cfg["lot"] * 1e-9:
            return 0
    if _out_of_band(tk, acc, sc, cfg) == 1:
        return 0
    if sc["nreq"] >= rq.shape[0] or _throttle(t, sc, acc, cfg) == 0:
        return 0
    orders[s]["mtick"] = tk
    orders[s]["mqty"] = qty
    orders[s]["mtotal"] = orders[s]["lfilled"] + qty
    orders[s]["lo_state"] = LO_PMODIFY
    sc["nmodify"] += 1
    lat = _draw(lat_entry, sc, RNG_ENTRY)
    _push_req(rq, sc, t + lat, s, R_MODIFY, orders[s]["id"])
    return 1


def _throttle_python(t, sc, acc, cfg):
    """1 when a new order may be sent now (a token is taken), 0 when the throttle holds it back
    (counted): a token bucket refilled at ``cfg["rate"]`` per second up to ``cfg["burst"]``, so at most
    ``cfg["burst"] + cfg["rate"] x s`` new orders go out in any ``s`` seconds. Cancels are never
    throttled."""
    rate = cfg["rate"]
    if not rate < math.inf:
        return 1
    if not acc["tokens"] == acc["tokens"]:  # NaN: the first order, a full bucket
        acc["tokens"] = cfg["burst"]
        sc["tokt"] = t
    acc["tokens"] = min(cfg["burst"], acc["tokens"] + (t - sc["tokt"]) * 1e-9 * rate)
    sc["tokt"] = t
    if acc["tokens"] >= 1.0 - 1e-12:
        acc["tokens"] -= 1.0
        return 1
    sc["nthrottled"] += 1
    return 0


def _new_order_python(side, tk, qty, t, orders, rq, sc, acc, cfg, lat_entry):
    """Send a new order of ``qty`` at absolute tick ``tk`` on ``side`` when the hard limit
    (position + working + in-flight orders of the side, the local view), a free order slot,
    the request queue and the throttle allow it; its order id, or 0 when it is not sent."""
    maxord = cfg["maxord"]
    expo = side * acc["lpos"] + _side_exposure(orders, side, maxord)
    if expo + qty > cfg["maxpos"] + cfg["lot"] * 1e-9:
        return 0
    if _out_of_band(tk, acc, sc, cfg) == 1:
        return 0
    free = -1
    for s in range(maxord):
        if orders[s]["lo_state"] == LO_FREE:
            free = s
            break
    if free < 0 or sc["nreq"] >= rq.shape[0] or _throttle(t, sc, acc, cfg) == 0:
        return 0
    return _open_order(free, side, tk, qty, cfg["postonly"], t, orders, rq, sc, lat_entry)


def _open_order_python(free, side, tk, qty, post, t, orders, rq, sc, lat_entry):
    """Write a new order into slot ``free`` and send it; its order id."""
    oid = sc["nextid"]
    sc["nextid"] = oid + 1
    orders[free]["id"] = oid
    orders[free]["side"] = side
    orders[free]["tick"] = tk
    orders[free]["ltick"] = tk
    orders[free]["ex_state"] = 0
    orders[free]["lo_state"] = LO_PNEW
    orders[free]["post_only"] = post
    orders[free]["qty"] = qty
    orders[free]["leaves"] = qty
    orders[free]["front"] = 0.0
    orders[free]["cum"] = 0.0
    orders[free]["filled"] = 0.0
    orders[free]["lleaves"] = qty
    orders[free]["lfilled"] = 0.0
    sc["nsent"] += 1
    lat = _draw(lat_entry, sc, RNG_ENTRY)
    _push_req(rq, sc, t + lat, free, R_NEW, oid)
    return oid


def _flatten_python(t, orders, rq, sc, acc, cfg, lat_entry):
    """After a hard-limit breach: once no order of ours is left on the reducing side, send one
    marketable order (not post-only, at the far end of the book's range, so it takes the
    opposite best) for the whole local position, past the throttle (it only reduces)."""
    lot = cfg["lot"]
    pos = acc["lpos"]
    if abs(pos) <= lot * 1e-9:
        return
    side = -1 if pos > 0.0 else 1
    maxord = cfg["maxord"]
    free = -1
    for s in range(maxord):
        lo = orders[s]["lo_state"]
        if lo != LO_FREE and orders[s]["side"] == side:
            return  # wait for it (a flatten in flight, or a cancel not yet answered)
        if lo == LO_FREE and free < 0:
            free = s
    qty = math.floor(abs(pos) / lot + 1e-9) * lot
    if free < 0 or qty <= 0.0 or sc["nreq"] >= rq.shape[0]:
        return
    tk = cfg["base"] if side == -1 else cfg["base"] + cfg["nticks"] - 1
    _open_order(free, side, tk, qty, 0, t, orders, rq, sc, lat_entry)


def _reconcile_python(side, tick0, qty, t, orders, rq, sc, acc, cfg, lat_entry):
    """Make our orders on ``side`` match the desired ladder: ``levels`` prices from ``tick0``
    (absolute ticks, -1: none) stepping away by ``grid_step`` ticks, ``qty`` each."""
    maxord = cfg["maxord"]
    levels = cfg["levels"]
    step = cfg["gridstep"]
    lot = cfg["lot"]
    # cancel acknowledged orders not on the ladder (or of another size); an order still
    # pending its ack is left until the next step (as hftbacktest: not cancellable yet)
    for s in range(maxord):
        if orders[s]["side"] != side:
            continue
        lo = orders[s]["lo_state"]
        if lo == LO_WORK:
            keep = False
            if tick0 >= 0 and qty > 0.0:
                d = (tick0 - orders[s]["ltick"]) * side
                if d >= 0 and d % step == 0 and d // step < levels and \
                        abs(orders[s]["qty"] - qty) <= lot * 1e-9:
                    keep = True
            if not keep and cfg["modify"] == 1 and tick0 >= 0 and qty > 0.0:
                # re-price it to the nearest ladder level without an order, if any (never
                # onto our own order of the other side)
                lim = _own_bound(orders, side, maxord)
                for lv in range(levels):
                    tk = tick0 - side * lv * step
                    if tk < cfg["base"] or tk >= cfg["base"] + cfg["nticks"]:
                        continue
                    if _crosses_own(side, tk, lim, sc, cfg):
                        continue
                    if not _present(orders, side, tk, maxord):
                        keep = _modify(s, tk, qty, t, orders, rq, sc, acc, cfg,
                                       lat_entry) == 1
                        break
            if not keep:
                orders[s]["lo_state"] = LO_PCANCEL
                lat = _draw(lat_entry, sc, RNG_ENTRY)
                _push_req(rq, sc, t + lat, s, R_CANCEL, orders[s]["id"])
    if tick0 < 0 or qty <= 0.0:
        return
    # place missing levels, within the position limit, never onto our own order of the other
    # side (working, in flight or being cancelled: the venue may still hold it)
    lim = _own_bound(orders, side, maxord)
    for lv in range(levels):
        tk = tick0 - side * lv * step
        if tk < cfg["base"] or tk >= cfg["base"] + cfg["nticks"]:
            continue
        if _present(orders, side, tk, maxord):
            continue
        if _crosses_own(side, tk, lim, sc, cfg):
            continue
        if _new_order(side, tk, qty, t, orders, rq, sc, acc, cfg, lat_entry) == 0:
            break


def _script_python(t, k, orders, rq, sc, acc, cfg, script, lat_entry):
    """Scripted orders (``STRAT_SCRIPT``; ``script``: SCRIPT_DTYPE rows): send the rows due at
    step ``k``, cancel those whose cancel step is ``k`` (an order not acknowledged yet is
    cancelled at the next step)."""
    maxord = cfg["maxord"]
    for r in range(script.shape[0]):
        row = script[r]
        if row["cancel_step"] == k and row["order_id"] > 0:
            oid = row["order_id"]
            for s in range(maxord):
                if orders[s]["id"] == oid:
                    if orders[s]["lo_state"] == LO_WORK:
                        orders[s]["lo_state"] = LO_PCANCEL
                        lat = _draw(lat_entry, sc, RNG_ENTRY)
                        _push_req(rq, sc, t + lat, s, R_CANCEL, oid)
                    elif orders[s]["lo_state"] == LO_PNEW:
                        row["cancel_step"] = k + 1
                    break
        if row["step"] != k or row["order_id"] != 0:
            continue
        row["order_id"] = -1
        oid = _new_order(row["side"], row["tick"], row["qty"], t, orders, rq, sc, acc, cfg,
                         lat_entry)
        if oid > 0:
            row["order_id"] = oid


# the names the functions above call each other by, bound to the plain-Python twins (the
# compiled family binds its own: mmlab.backtest.engine._engine._compile)
_toxicity = _toxicity_python
_lo_response = _lo_response_python
_quote = _quote_python
_side_exposure = _side_exposure_python
_out_of_band = _out_of_band_python
_order_tick = _order_tick_python
_present = _present_python
_own_bound = _own_bound_python
_crosses_own = _crosses_own_python
_modify = _modify_python
_throttle = _throttle_python
_open_order = _open_order_python
_new_order = _new_order_python
_flatten = _flatten_python
_reconcile = _reconcile_python
_script = _script_python

# public names for the sibling modules (the import graph allows no private imports)
toxicity = _toxicity_python
lo_response = _lo_response_python
quote = _quote_python
side_exposure = _side_exposure_python
out_of_band = _out_of_band_python
order_tick = _order_tick_python
present = _present_python
own_bound = _own_bound_python
crosses_own = _crosses_own_python
modify = _modify_python
throttle = _throttle_python
open_order = _open_order_python
new_order = _new_order_python
flatten = _flatten_python
reconcile = _reconcile_python
script = _script_python
