"""Order-book kernels: pure functions over arrays, each with a plain-Python twin.

The book is dense in price: level ``x`` of side ``s`` (0 = bid, 1 = ask) is the integer tick
``origin + x``. Per level: total quantity ``lvl_q[s, 0, x]`` and the quantity of the *known* (L3)
orders resting there ``lvl_q[s, 1, x]``; the difference is *anonymous* quantity (from L2 updates,
snapshots, or orders that rested before the stream began), which sits at the front of the queue.
Known orders form a FIFO doubly-linked list per level (``lvl_i[s, 0, x]`` head, ``lvl_i[s, 1, x]``
tail). Order slot ``o``: ``ord_i[o] = (live, side, x, prev, next)`` and remaining ``ord_q[o]``.
``meta = (best bid x or -1, best ask x or -1, bid level count, ask level count)``.

Event codes (``op``) are the hftbacktest kinds; 0 means "no book effect" (trades, BBO). Side codes:
0 bid (BUY flag), 1 ask (SELL flag), 2 both (a CLEAR with neither flag), -1 none.

Every function here is written once in plain Python (``*_python``); the numba versions are built
from the same code with the helper names rebound to their compiled versions (see ``_compile``),
so the twin runs the identical algorithm without numba.
"""

from __future__ import annotations

import types

import numpy as np
from numba import njit

__all__ = [
    "ERR_CROSSED",
    "ERR_DUPLICATE",
    "ERR_NO_PRICE",
    "ERR_NO_SIDE",
    "ERR_OVERFILL",
    "ERR_UNKNOWN_ORDER",
    "ERROR_TEXT",
    "QTY_EPS",
    "apply_events",
    "apply_events_python",
    "queue_ahead",
    "queue_ahead_python",
    "top_levels",
    "top_levels_python",
]

#: Quantities at or below this are zero (an emptied level is removed).
QTY_EPS = 1e-10

OK = 0
ERR_CROSSED = 1
ERR_DUPLICATE = 2
ERR_UNKNOWN_ORDER = 3
ERR_OVERFILL = 4
ERR_NO_SIDE = 5
ERR_NO_PRICE = 6

ERROR_TEXT = {
    ERR_CROSSED: "crossed book after the update: best bid >= best ask",
    ERR_DUPLICATE: "ADD of an order id that is already resting",
    ERR_UNKNOWN_ORDER: "MODIFY of an order id the book does not hold",
    ERR_OVERFILL: "cancel/fill of more quantity than rests (order or anonymous quantity)",
    ERR_NO_SIDE: "book event without a BUY or SELL flag",
    ERR_NO_PRICE: "cancel/fill of an order the book does not hold, without a usable price",
}


def _scan_best_python(lvl_q, s, start):
    """Best non-empty level of side ``s`` at or beyond ``start`` (away from the spread)."""
    n = lvl_q.shape[2]
    if s == 0:
        x = min(start, n - 1)
        while x >= 0:
            if lvl_q[0, 0, x] > 0.0:
                return x
            x -= 1
        return -1
    x = max(start, 0)
    while x < n:
        if lvl_q[1, 0, x] > 0.0:
            return x
        x += 1
    return -1


def _level_opened_python(meta, s, x):
    meta[2 + s] += 1
    b = meta[s]
    if b < 0 or (s == 0 and x > b) or (s == 1 and x < b):
        meta[s] = x


def _level_closed_python(lvl_q, meta, s, x):
    """Bookkeeping after level ``x`` of side ``s`` became empty."""
    lvl_q[s, 0, x] = 0.0
    lvl_q[s, 1, x] = 0.0
    meta[2 + s] -= 1
    if meta[s] == x:
        meta[s] = _scan_best(lvl_q, s, x - 1 if s == 0 else x + 1)


def _unlink_python(lvl_i, ord_i, o):
    s, x, p, nx = ord_i[o, 1], ord_i[o, 2], ord_i[o, 3], ord_i[o, 4]
    if p >= 0:
        ord_i[p, 4] = nx
    else:
        lvl_i[s, 0, x] = nx
    if nx >= 0:
        ord_i[nx, 3] = p
    else:
        lvl_i[s, 1, x] = p
    ord_i[o, 0] = 0
    ord_i[o, 3] = -1
    ord_i[o, 4] = -1


def _link_python(lvl_i, ord_i, o, s, x):
    tail = lvl_i[s, 1, x]
    ord_i[o, 0] = 1
    ord_i[o, 1] = s
    ord_i[o, 2] = x
    ord_i[o, 3] = tail
    ord_i[o, 4] = -1
    if tail >= 0:
        ord_i[tail, 4] = o
    else:
        lvl_i[s, 0, x] = o
    lvl_i[s, 1, x] = o


def _wipe_level_python(lvl_q, lvl_i, ord_i, meta, s, x):
    """Remove level ``x`` of side ``s`` with every known order resting there."""
    o = lvl_i[s, 0, x]
    while o >= 0:
        nx = ord_i[o, 4]
        ord_i[o, 0] = 0
        ord_i[o, 3] = -1
        ord_i[o, 4] = -1
        o = nx
    lvl_i[s, 0, x] = -1
    lvl_i[s, 1, x] = -1
    if lvl_q[s, 0, x] > 0.0:
        _level_closed(lvl_q, meta, s, x)


def _set_level_python(lvl_q, lvl_i, ord_i, ord_q, meta, s, x, q):
    """L2 update: the total at level ``x`` becomes ``q`` (0 deletes the level).

    If ``q`` is below the known (L3) quantity there, the newest known orders shrink first.
    """
    if q <= QTY_EPS:
        if lvl_q[s, 0, x] > 0.0 or lvl_i[s, 0, x] >= 0:
            _wipe_level(lvl_q, lvl_i, ord_i, meta, s, x)
        return
    if lvl_q[s, 0, x] <= 0.0:
        lvl_q[s, 0, x] = q
        _level_opened(meta, s, x)
        return
    known = lvl_q[s, 1, x]
    while known > q + QTY_EPS:
        o = lvl_i[s, 1, x]
        cut = known - q
        if ord_q[o] <= cut + QTY_EPS:
            known -= ord_q[o]
            ord_q[o] = 0.0
            _unlink(lvl_i, ord_i, o)
        else:
            ord_q[o] -= cut
            known = q
    lvl_q[s, 1, x] = known
    lvl_q[s, 0, x] = q


def _take_python(lvl_q, lvl_i, ord_i, meta, s, x, q, known_part):
    """Remove ``q`` from level ``x`` (``known_part``: it came off a known order)."""
    left = lvl_q[s, 0, x] - q
    if left <= QTY_EPS:
        _wipe_level(lvl_q, lvl_i, ord_i, meta, s, x)
    else:
        lvl_q[s, 0, x] = left
        if known_part:
            lvl_q[s, 1, x] -= q


def _add_order_python(lvl_q, lvl_i, ord_i, ord_q, meta, o, s, x, q):
    _link(lvl_i, ord_i, o, s, x)
    ord_q[o] = q
    if lvl_q[s, 0, x] <= 0.0:
        lvl_q[s, 0, x] = q
        lvl_q[s, 1, x] = q
        _level_opened(meta, s, x)
    else:
        lvl_q[s, 0, x] += q
        lvl_q[s, 1, x] += q


def _clear_python(lvl_q, lvl_i, ord_i, meta, s, bound):
    """Clear side ``s``: bids at x >= bound, asks at x <= bound (hftbacktest's clear-up-to)."""
    n = lvl_q.shape[2]
    if s == 0:
        x = meta[0]
        while x >= bound and x >= 0:
            if lvl_q[0, 0, x] > 0.0 or lvl_i[0, 0, x] >= 0:
                _wipe_level(lvl_q, lvl_i, ord_i, meta, 0, x)
            x -= 1
            if meta[0] < x:
                x = meta[0]
    else:
        x = meta[1]
        while 0 <= x <= bound and x < n:
            if lvl_q[1, 0, x] > 0.0 or lvl_i[1, 0, x] >= 0:
                _wipe_level(lvl_q, lvl_i, ord_i, meta, 1, x)
            x += 1
            if meta[1] < 0:
                break
            if meta[1] > x:
                x = meta[1]


def top_levels_python(lvl_q, meta, levels, origin, tick_mul, tick_div, out, j):
    """Write the top ``levels`` of the book into row ``j`` of ``out`` (ask px, ask qty, bid px,
    bid qty per level; empty levels NaN price, 0 qty)."""
    for s in range(2):
        col = 0 if s == 1 else 2
        x = meta[s]
        k = 0
        left = meta[2 + s]
        n = lvl_q.shape[2]
        while k < levels and left > 0 and 0 <= x < n:
            q = lvl_q[s, 0, x]
            if q > 0.0:
                out[j, 4 * k + col] = (origin + x) * tick_mul / tick_div
                out[j, 4 * k + col + 1] = q
                k += 1
                left -= 1
            x = x - 1 if s == 0 else x + 1
        while k < levels:
            out[j, 4 * k + col] = np.nan
            out[j, 4 * k + col + 1] = 0.0
            k += 1


def apply_events_python(
    op, side, x, qty, slot, row, lvl_q, lvl_i, ord_i, ord_q, meta,
    check_crossed, out, levels, per_row, origin, tick_mul, tick_div,
):
    """Apply prepared events to the book state in place.

    Parameters
    ----------
    op, side, x, qty, slot, row : arrays, one entry per event
        Event code, side code, level index (for a CLEAR: the clear-up-to bound), quantity,
        order slot (-1 if none), vendor row (``ival``).
    lvl_q, lvl_i, ord_i, ord_q, meta : arrays
        The book state (see the module notes); updated in place.
    check_crossed : bool
        Check best bid < best ask after the last event of each vendor row.
    out : 2-D float array
        Snapshot rows (``0`` rows for no snapshots).
    levels : int
        Levels per side written to ``out``.
    per_row : bool
        One snapshot row per vendor row (after its last event) instead of one per event.
    origin : int
        Tick of level 0.
    tick_mul, tick_div : float
        Prices in ``out`` are ``(origin + x) * tick_mul / tick_div`` (exact for ticks ``1/k``).

    Returns
    -------
    status, index : int, int
        ``0, n`` on success, else an error code and the index of the offending event.
    """
    n = op.shape[0]
    snap = out.shape[0] > 0
    j = 0
    for i in range(n):
        k = op[i]
        if k != 0:
            s = side[i]
            o = slot[i]
            if k == 1 or k == 4:  # DEPTH, DEPTH_SNAPSHOT
                if s < 0 or s > 1:
                    return ERR_NO_SIDE, i
                _set_level(lvl_q, lvl_i, ord_i, ord_q, meta, s, x[i], qty[i])
            elif k == 3:  # DEPTH_CLEAR
                if s == 0 or s == 2:
                    _clear(lvl_q, lvl_i, ord_i, meta, 0, x[i] if s == 0 else 0)
                if s == 1 or s == 2:
                    _clear(lvl_q, lvl_i, ord_i, meta, 1, x[i] if s == 1 else lvl_q.shape[2])
            elif k == 10:  # ADD
                if s < 0 or s > 1:
                    return ERR_NO_SIDE, i
                if ord_i[o, 0] != 0:
                    return ERR_DUPLICATE, i
                _add_order(lvl_q, lvl_i, ord_i, ord_q, meta, o, s, x[i], qty[i])
            elif o >= 0 and ord_i[o, 0] != 0:  # CANCEL / MODIFY / FILL of a resting order
                os_ = ord_i[o, 1]
                ox = ord_i[o, 2]
                q = qty[i]
                if k == 11 or (k == 12 and q <= QTY_EPS):
                    take = ord_q[o]
                    _unlink(lvl_i, ord_i, o)
                    ord_q[o] = 0.0
                    _take(lvl_q, lvl_i, ord_i, meta, os_, ox, take, True)
                elif k == 13:
                    if q > ord_q[o] + QTY_EPS:
                        return ERR_OVERFILL, i
                    ord_q[o] -= q
                    if ord_q[o] <= QTY_EPS:
                        ord_q[o] = 0.0
                        _unlink(lvl_i, ord_i, o)
                    _take(lvl_q, lvl_i, ord_i, meta, os_, ox, q, True)
                else:  # MODIFY: a shrink in place keeps priority, anything else re-queues
                    if x[i] == ox and q <= ord_q[o] + QTY_EPS:
                        cut = ord_q[o] - q
                        ord_q[o] = q
                        lvl_q[os_, 0, ox] -= cut
                        lvl_q[os_, 1, ox] -= cut
                    else:
                        take = ord_q[o]
                        _unlink(lvl_i, ord_i, o)
                        ord_q[o] = 0.0
                        _take(lvl_q, lvl_i, ord_i, meta, os_, ox, take, True)
                        _add_order(lvl_q, lvl_i, ord_i, ord_q, meta, o, os_, x[i], q)
            elif k == 12:
                return ERR_UNKNOWN_ORDER, i
            else:  # CANCEL / FILL of quantity resting before the stream: anonymous
                if s < 0 or s > 1:
                    return ERR_NO_SIDE, i
                xi = x[i]
                q = qty[i]
                if xi < 0 or xi >= lvl_q.shape[2]:
                    return ERR_NO_PRICE, i
                if q > lvl_q[s, 0, xi] - lvl_q[s, 1, xi] + QTY_EPS:
                    return ERR_OVERFILL, i
                _take(lvl_q, lvl_i, ord_i, meta, s, xi, q, False)
        boundary = i == n - 1 or row[i + 1] != row[i]
        if check_crossed and boundary:
            if meta[0] >= 0 and meta[1] >= 0 and meta[0] >= meta[1]:
                return ERR_CROSSED, i
        if snap and (boundary or not per_row):
            top_levels(lvl_q, meta, levels, origin, tick_mul, tick_div, out, j)
            j += 1
    return OK, n


def queue_ahead_python(lvl_q, lvl_i, ord_i, ord_q, o):
    """Quantity ahead of resting order slot ``o`` at its price (anonymous quantity first, then
    the known orders before it); -1 if the order is not resting."""
    if ord_i[o, 0] == 0:
        return -1.0
    s, x = ord_i[o, 1], ord_i[o, 2]
    ahead = lvl_q[s, 0, x] - lvl_q[s, 1, x]
    p = ord_i[o, 3]
    while p >= 0:
        ahead += ord_q[p]
        p = ord_i[p, 3]
    return ahead


_FAMILY = (
    "_scan_best",
    "_level_opened",
    "_level_closed",
    "_unlink",
    "_link",
    "_wipe_level",
    "_set_level",
    "_take",
    "_add_order",
    "_clear",
    "top_levels",
    "apply_events",
    "queue_ahead",
)


def _compile(jit):
    """Build the family of functions with helper names bound in a private namespace.

    ``jit=None`` gives the plain-Python family; ``jit=njit(cache=True)`` the compiled one.
    """
    ns = dict(globals())
    out = {}
    for name in _FAMILY:
        f = ns[name + "_python"]
        g = types.FunctionType(f.__code__, ns, name, f.__defaults__)
        g.__doc__ = f.__doc__
        g.__module__ = f.__module__
        g.__qualname__ = name
        g = g if jit is None else jit(g)
        ns[name] = g
        out[name] = g
    return out


_py = _compile(None)
_nb = _compile(njit(cache=True))
apply_events_python = _py["apply_events"]
top_levels_python = _py["top_levels"]
queue_ahead_python = _py["queue_ahead"]
apply_events = _nb["apply_events"]
top_levels = _nb["top_levels"]
queue_ahead = _nb["queue_ahead"]
