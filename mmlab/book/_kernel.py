"""Order-book kernels: applying events to the book state, each kernel with its plain-Python twin.

Events are read straight from the ``EVENT_DTYPE`` array; only those carrying ``flag`` (EXCH or
LOCAL) are applied, each once. ``apply_events`` applies them (optionally writing top-N
snapshots), ``l2_levels`` applies an L3 stream and records the level each event changed; both
return a status code (``ERROR_TEXT``) and the offending event's index. The state arrays are
described in :mod:`mmlab.book._kernel_base`; the hash table and price ranks are in
:mod:`mmlab.book._kernel_index`, the levels and queues in :mod:`mmlab.book._kernel_levels`. The
numba kernels and their twins (``*_python``) are built from the same code by
:func:`~mmlab.book._kernel_base.compile_family`, with the helpers of those modules bound to the
same family.
"""

from __future__ import annotations

import numpy as np

from mmlab.book import _kernel_index as KI
from mmlab.book import _kernel_levels as KL
from mmlab.book._kernel_base import GRID_TOL, QTY_EPS, cached_njit, compile_family
from mmlab.book._kernel_index import _find, _hdel, _hput, _lower, hash_get
from mmlab.book._kernel_levels import (
    _clear,
    _free,
    _level_closed,
    _level_opened,
    _link,
    _queue_order,
    _set_level,
    _take,
    _unlink,
    top_levels,
)

__all__ = [
    "ERROR_TEXT",
    "ERR_CROSSED",
    "apply_events",
    "apply_events_python",
    "l2_levels",
    "l2_levels_python",
]

OK = 0
ERR_CROSSED = 1
ERR_DUPLICATE = 2
ERR_UNKNOWN_ORDER = 3
ERR_OVERFILL = 4
ERR_NO_SIDE = 5
ERR_NO_PRICE = 6
ERR_KIND = 7
ERR_PRICE = 8
ERR_QTY = 9
ERR_GRID = 10
ERR_RANGE = 11

ERROR_TEXT = {
    ERR_CROSSED: "crossed book after the update: best bid >= best ask",
    ERR_DUPLICATE: "ADD of an order id that is already resting",
    ERR_UNKNOWN_ORDER: "MODIFY of an order id the book does not hold",
    ERR_OVERFILL: "cancel/fill of more quantity than rests (order or anonymous quantity)",
    ERR_NO_SIDE: "book event without exactly one of the BUY/SELL flags",
    ERR_NO_PRICE: "cancel/fill of an order the book does not hold, without a usable price",
    ERR_KIND: "unknown event kind",
    ERR_PRICE: "book event with a missing or non-finite price",
    ERR_QTY: "book event with a missing, negative or non-finite quantity",
    ERR_GRID: "price is not on the tick grid",
    ERR_RANGE: "price outside the book's allocated range (internal error)",
}

_KIND_MASK = np.uint64(0xFF)
_BUY = np.uint64(1 << 29)
_SELL = np.uint64(1 << 28)


def _book_event_python(
    code, px, q, oid, tab, tick_mul, tick_div, lvl_q, lvl_i, ord_i, ord_q, ord_id, hkey, hval,
    meta,
):
    """Apply one L2/L3 event (kind 1, 3, 4, 10-13); returns an error code (0: fine).

    The common cases stay in this one function: a call passing a dozen arrays costs more than
    the work of most updates.
    """
    kind = int(code & _KIND_MASK)
    buy = (code & _BUY) != 0
    sell = (code & _SELL) != 0
    s = 0 if (buy and not sell) else (1 if (sell and not buy) else -1)
    n = lvl_q.shape[2]
    if kind == 3:  # DEPTH_CLEAR (clear up to px; px 0/NaN or no side flag: everything)
        full = not np.isfinite(px) or px == 0.0
        tf = 0.0 if full else px * tick_div / tick_mul
        if s != 1:  # bids at prices >= px
            b = 0 if (full or s == -1) else _lower(tab, int(np.ceil(tf - GRID_TOL)))
            _clear(lvl_q, lvl_i, ord_i, ord_q, ord_id, hkey, hval, meta, 0, b)
        if s != 0:  # asks at prices <= px
            b = n - 1 if (full or s == -1) else _lower(tab, int(np.floor(tf + GRID_TOL)) + 1) - 1
            _clear(lvl_q, lvl_i, ord_i, ord_q, ord_id, hkey, hval, meta, 1, b)
        return OK
    if not np.isfinite(q) or q < 0.0:
        return ERR_QTY
    x = -1
    if np.isfinite(px) and not ((kind == 11 or kind == 13) and px == 0.0):
        tf = px * tick_div / tick_mul
        t = np.floor(tf + 0.5)
        if abs(tf - t) > GRID_TOL:
            return ERR_GRID
        x = _find(tab, int(t))
        if x < 0:
            return ERR_RANGE
    elif kind != 11 and kind != 13:
        return ERR_PRICE
    if kind == 1 or kind == 4:  # DEPTH, DEPTH_SNAPSHOT: set the level total
        if s < 0:
            return ERR_NO_SIDE
        tot = lvl_q[s, 0, x]
        if lvl_i[s, 0, x] >= 0:  # known orders rest there: the general case
            _set_level(lvl_q, lvl_i, ord_i, ord_q, ord_id, hkey, hval, meta, s, x, q)
        elif q <= QTY_EPS:
            if tot > 0.0:
                _level_closed(lvl_q, meta, s, x)
        else:
            lvl_q[s, 0, x] = q
            if tot <= 0.0:
                _level_opened(meta, s, x)
        return OK
    o = hash_get(hkey, hval, oid)
    if kind == 10:  # ADD
        if s < 0:
            return ERR_NO_SIDE
        if o >= 0:
            return ERR_DUPLICATE
        if q <= QTY_EPS:
            return ERR_QTY
        o = meta[4]
        if o >= 0:
            meta[4] = ord_i[o, 4]
        else:
            o = meta[5]
            meta[5] += 1
        ord_id[o] = oid
        _hput(hkey, hval, oid, o)
        _link(lvl_i, ord_i, o, s, x)
        ord_q[o] = q
        if lvl_q[s, 0, x] <= 0.0:
            lvl_q[s, 0, x] = q
            lvl_q[s, 1, x] = q
            _level_opened(meta, s, x)
        else:
            lvl_q[s, 0, x] += q
            lvl_q[s, 1, x] += q
        return OK
    if o >= 0:  # CANCEL / MODIFY / FILL of a resting order
        os_ = ord_i[o, 1]
        ox = ord_i[o, 2]
        if kind == 13 and q > ord_q[o] + QTY_EPS:
            return ERR_OVERFILL
        if kind == 12 and q > QTY_EPS and (x != ox or q > ord_q[o] + QTY_EPS):
            # MODIFY to another price or a larger size: back of the queue
            take = ord_q[o]
            _unlink(lvl_i, ord_i, o)
            _take(lvl_q, lvl_i, meta, os_, ox, take, True)
            _queue_order(lvl_q, lvl_i, ord_i, ord_q, meta, o, os_, x, q)
            return OK
        if kind == 13:
            take = q
        elif kind == 12:
            take = ord_q[o] - q  # MODIFY smaller at the same price: keeps its place
        else:
            take = ord_q[o]
        left = ord_q[o] - take
        if left <= QTY_EPS:
            _unlink(lvl_i, ord_i, o)
            _hdel(hkey, hval, oid)
            _free(ord_i, ord_q, meta, o)
        else:
            ord_q[o] = left
        _take(lvl_q, lvl_i, meta, os_, ox, take, True)
        return OK
    if kind == 12:
        return ERR_UNKNOWN_ORDER
    # CANCEL / FILL of an order the book does not hold: anonymous quantity at px
    if s < 0:
        return ERR_NO_SIDE
    if x < 0:
        return ERR_NO_PRICE
    if q > lvl_q[s, 0, x] - lvl_q[s, 1, x] + QTY_EPS:
        return ERR_OVERFILL
    _take(lvl_q, lvl_i, meta, s, x, q, False)
    return OK


def apply_events_python(
    events, flag, tab, tick_mul, tick_div, lvl_q, lvl_i, ord_i, ord_q, ord_id, hkey, hval,
    meta, check_crossed, out, levels, per_row,
):
    """Apply the events carrying ``flag`` to the book state, in place.

    Parameters
    ----------
    events : EVENT_DTYPE array
        Events in time order.
    flag : numpy.uint64
        ``EXCH_EVENT`` or ``LOCAL_EVENT``: events without it are skipped.
    tab, tick_mul, tick_div : int64 array, float, float
        Sorted ticks of the levels (every book price of ``events`` must be there); a price is
        ``ticks * tick_mul / tick_div``.
    lvl_q, lvl_i, ord_i, ord_q, ord_id, hkey, hval, meta : arrays
        The book state (see the module notes).
    check_crossed : bool
        Check best bid < best ask after the last event of each vendor row (``ival``).
    out : 2-D float array
        Snapshot rows (no rows: no snapshots).
    levels : int
        Levels per side written to ``out``.
    per_row : bool
        One snapshot per vendor row (after its last event) instead of one per applied event.

    Returns
    -------
    status, index : int, int
        ``0, len(events)`` on success, else an error code and the index of the offending event
        (for a crossed book: the last event of the crossed row).
    """
    n = events.shape[0]
    snap = out.shape[0] > 0
    j = 0
    prev_i = -1
    prev_row = 0
    for i in range(n):
        e = events[i]
        code = e["ev"]
        if (code & flag) == 0:
            continue
        r = e["ival"]
        if prev_i >= 0 and r != prev_row:
            if check_crossed and meta[0] >= 0 and meta[1] >= 0 and meta[0] >= meta[1]:
                return ERR_CROSSED, prev_i
            if snap and per_row:
                top_levels(lvl_q, meta, levels, tab, tick_mul, tick_div, out, j)
                j += 1
        kind = int(code & _KIND_MASK)
        if kind == 1 or kind == 3 or kind == 4 or (kind >= 10 and kind <= 13):
            err = _book_event(
                code, e["px"], e["qty"], e["order_id"], tab, tick_mul, tick_div, lvl_q, lvl_i,
                ord_i, ord_q, ord_id, hkey, hval, meta,
            )
            if err != 0:
                return err, i
            meta[7] += 1
        elif kind != 2 and kind != 5:  # TRADE and BBO do not change the book
            return ERR_KIND, i
        meta[6] += 1
        if snap and not per_row:
            top_levels(lvl_q, meta, levels, tab, tick_mul, tick_div, out, j)
            j += 1
        prev_i = i
        prev_row = r
    if prev_i >= 0:
        if check_crossed and meta[0] >= 0 and meta[1] >= 0 and meta[0] >= meta[1]:
            return ERR_CROSSED, prev_i
        if snap and per_row:
            top_levels(lvl_q, meta, levels, tab, tick_mul, tick_div, out, j)
    return OK, n


def l2_levels_python(
    events, flag, tab, tick_mul, tick_div, lvl_q, lvl_i, ord_i, ord_q, ord_id, hkey, hval,
    meta, out_i, out_x, out_q,
):
    """Apply the L3 events carrying ``flag`` and record, per event, the level(s) it changed.

    For each applied L3 event ``i`` (ADD/CANCEL/MODIFY/FILL) writes up to two records
    ``(i, side * 2**62 + x)`` / new total into ``out_i``/``out_x``/``out_q`` (a MODIFY to another
    price changes two levels). Other kinds are applied without a record. Returns
    ``(status, index, n_records)``.
    """
    n = events.shape[0]
    k = 0
    for i in range(n):
        e = events[i]
        code = e["ev"]
        if (code & flag) == 0:
            continue
        kind = int(code & _KIND_MASK)
        s_old = -1
        x_old = -1
        if kind >= 10 and kind <= 13:
            o = hash_get(hkey, hval, e["order_id"])
            if o >= 0:
                s_old = ord_i[o, 1]
                x_old = ord_i[o, 2]
            else:
                buy = (code & _BUY) != 0
                s_old = 0 if buy else 1
                x_old = -1
                if np.isfinite(e["px"]):
                    x_old = _find(tab, int(np.floor(e["px"] * tick_div / tick_mul + 0.5)))
        if kind == 1 or kind == 3 or kind == 4 or (kind >= 10 and kind <= 13):
            err = _book_event(
                code, e["px"], e["qty"], e["order_id"], tab, tick_mul, tick_div, lvl_q, lvl_i,
                ord_i, ord_q, ord_id, hkey, hval, meta,
            )
            if err != 0:
                return err, i, k
            meta[7] += 1
        elif kind != 2 and kind != 5:
            return ERR_KIND, i, k
        meta[6] += 1
        if s_old >= 0:
            out_i[k] = i
            out_x[k] = s_old * 2**62 + x_old
            out_q[k] = lvl_q[s_old, 0, x_old]
            k += 1
            if kind == 12:
                o = hash_get(hkey, hval, e["order_id"])
                if o >= 0 and ord_i[o, 2] != x_old:
                    out_i[k] = i
                    out_x[k] = s_old * 2**62 + ord_i[o, 2]
                    out_q[k] = lvl_q[s_old, 0, ord_i[o, 2]]
                    k += 1
    return OK, n, k



_FAMILY = ("_book_event", "apply_events", "l2_levels")
#: inlined into its callers at compile time (inlining the hot helpers gains ~10-15 % on L3
#: streams for a similar compile time)
_INLINE = frozenset({"_book_event"})

_py = compile_family(globals(), _FAMILY, {**KI._py, **KL._py}, None)
_nb = compile_family(globals(), _FAMILY, {**KI._nb, **KL._nb}, cached_njit, _INLINE)
apply_events_python = _py["apply_events"]  # noqa: F811 -- the twin bound in its own namespace replaces the source def
l2_levels_python = _py["l2_levels"]  # noqa: F811 -- the twin bound in its own namespace replaces the source def
apply_events = _nb["apply_events"]
l2_levels = _nb["l2_levels"]

# the plain-Python helper under the name the kernels call, bound here for readers and linters
_book_event = _py["_book_event"]
