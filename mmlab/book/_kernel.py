"""Order-book kernels: pure functions over arrays, each with a plain-Python twin.

State layout (all NumPy arrays, updated in place):

* Levels are indexed by rank in ``tab``, the sorted integer ticks of every price the book has
  seen: level ``x`` of side ``s`` (0 = bid, 1 = ask) is the price ``tab[x] * tick``. (Real feeds
  carry far-away prices -- Binance diffs span 560 to 621,000 USDT -- so a dense tick array would
  be huge; ranks keep the arrays as small as the set of prices and still ordered.)
  ``lvl_q[s, 0, x]`` is the total quantity there, ``lvl_q[s, 1, x]`` the part held by *known*
  (L3) orders; the rest is *anonymous* (L2 updates, snapshots, orders resting before the stream
  began) and sits at the front of the queue. Known orders form a FIFO doubly-linked list
  per level: ``lvl_i[s, 0, x]`` head, ``lvl_i[s, 1, x]`` tail (-1: none).
* Order slot ``o``: ``ord_i[o] = (live, side, x, prev, next)``, remaining ``ord_q[o]``, id
  ``ord_id[o]``. Dead slots are recycled through a free list (threaded through ``next``).
* Order id -> slot: an open-addressing hash table (linear probing, backward-shift deletion):
  ``hkey`` ids, ``hval`` slots (-1 empty); its size is a power of two kept at least twice the
  number of resting orders by the caller.
* ``meta = (best bid x, best ask x, #bid levels, #ask levels, free-list head, slots used,
  events applied, book events applied)``; best is -1 when a side is empty.

Events are read straight from the ``EVENT_DTYPE`` array; only those carrying ``flag`` (EXCH or
LOCAL) are applied, each once. The functions are written once in plain Python (``*_python``); the
numba versions are compiled from the same code with the helper names bound to their compiled
versions (see ``_compile``), so the twin runs the identical algorithm without numba.
"""

from __future__ import annotations

import types

import numpy as np
from numba import njit

__all__ = [
    "ERROR_TEXT",
    "ERR_CROSSED",
    "QTY_EPS",
    "apply_events",
    "apply_events_python",
    "hash_get",
    "hash_get_python",
    "l2_levels",
    "l2_levels_python",
    "queue_ahead",
    "queue_ahead_python",
    "rehash",
    "top_levels",
    "top_levels_python",
]

#: Quantities at or below this are zero (an emptied level is removed).
QTY_EPS = 1e-10
#: Prices further than this (in ticks) from a whole tick are off the grid.
GRID_TOL = 1e-6

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
_M32 = np.uint64(0xFFFFFFFF)
_C1 = np.uint64(0x9E3779B1)  # odd 32-bit multipliers: 32 x 32-bit products never overflow
_C2 = np.uint64(0x85EBCA77)
_S32 = np.uint64(32)
_S15 = np.uint64(15)


# -- order-id hash table ------------------------------------------------------------------------


def _hhome_python(key, mask):
    """Home bucket of an order id: both 32-bit halves multiplied by odd constants, high bits
    folded down (ids whose low bits are all zero still spread)."""
    h = ((key & _M32) * _C1) ^ ((key >> _S32) * _C2)
    h = h ^ (h >> _S32)
    h = h ^ (h >> _S15)
    return np.int64(h & mask)


def hash_get_python(hkey, hval, key):
    """Slot of order id ``key``, or -1."""
    mask = np.uint64(hval.shape[0] - 1)
    i = _hhome(key, mask)
    while hval[i] >= 0:
        if hkey[i] == key:
            return hval[i]
        i = (i + 1) & (hval.shape[0] - 1)
    return -1


def _hput_python(hkey, hval, key, slot):
    mask = np.uint64(hval.shape[0] - 1)
    i = _hhome(key, mask)
    while hval[i] >= 0:
        i = (i + 1) & (hval.shape[0] - 1)
    hkey[i] = key
    hval[i] = slot


def _hdel_python(hkey, hval, key):
    n = hval.shape[0]
    mask = np.uint64(n - 1)
    i = _hhome(key, mask)
    while hval[i] >= 0 and hkey[i] != key:
        i = (i + 1) & (n - 1)
    if hval[i] < 0:
        return
    j = i
    while True:  # backward-shift deletion keeps probe chains intact
        j = (j + 1) & (n - 1)
        if hval[j] < 0:
            break
        k = _hhome(hkey[j], mask)
        if (i <= j and (k <= i or k > j)) or (i > j and k <= i and k > j):
            hkey[i] = hkey[j]
            hval[i] = hval[j]
            i = j
    hval[i] = -1


def rehash_python(ord_i, ord_id, hkey, hval):
    """Fill an empty table (``hval`` all -1) with every live order."""
    for o in range(ord_i.shape[0]):
        if ord_i[o, 0] != 0:
            _hput(hkey, hval, ord_id[o], o)


# -- price ranks ---------------------------------------------------------------------------------


def _lower_python(tab, v):
    """First index ``i`` with ``tab[i] >= v`` (``len(tab)`` if none)."""
    lo = 0
    hi = tab.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if tab[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _find_python(tab, v):
    """Index of tick ``v`` in ``tab``, or -1."""
    i = _lower(tab, v)
    if i < tab.shape[0] and tab[i] == v:
        return i
    return -1


# -- levels and queues ---------------------------------------------------------------------------


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
    """Bookkeeping once level ``x`` of side ``s`` is empty."""
    lvl_q[s, 0, x] = 0.0
    lvl_q[s, 1, x] = 0.0
    meta[2 + s] -= 1
    if meta[2 + s] <= 0:
        meta[2 + s] = 0
        meta[s] = -1
    elif meta[s] == x:
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


def _free_python(ord_i, ord_q, meta, o):
    """Recycle order slot ``o`` (already unlinked, id already removed from the hash table)."""
    ord_i[o, 0] = 0
    ord_q[o] = 0.0
    ord_i[o, 3] = -1
    ord_i[o, 4] = meta[4]
    meta[4] = o


def _wipe_level_python(lvl_q, lvl_i, ord_i, ord_q, ord_id, hkey, hval, meta, s, x):
    """Remove level ``x`` of side ``s`` with every known order resting there."""
    o = lvl_i[s, 0, x]
    while o >= 0:
        nx = ord_i[o, 4]
        _hdel(hkey, hval, ord_id[o])
        _free(ord_i, ord_q, meta, o)
        o = nx
    lvl_i[s, 0, x] = -1
    lvl_i[s, 1, x] = -1
    if lvl_q[s, 0, x] > 0.0:
        _level_closed(lvl_q, meta, s, x)


def _set_level_python(lvl_q, lvl_i, ord_i, ord_q, ord_id, hkey, hval, meta, s, x, q):
    """L2 update: the total at level ``x`` becomes ``q`` (0 deletes the level).

    If ``q`` is below the known (L3) quantity there, the newest known orders shrink first.
    """
    if q <= QTY_EPS:
        if lvl_q[s, 0, x] > 0.0 or lvl_i[s, 0, x] >= 0:
            _wipe_level(lvl_q, lvl_i, ord_i, ord_q, ord_id, hkey, hval, meta, s, x)
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
            _unlink(lvl_i, ord_i, o)
            _hdel(hkey, hval, ord_id[o])
            _free(ord_i, ord_q, meta, o)
        else:
            ord_q[o] -= cut
            known = q
    lvl_q[s, 1, x] = max(known, 0.0)
    lvl_q[s, 0, x] = q


def _take_python(lvl_q, lvl_i, meta, s, x, q, known_part):
    """Remove ``q`` from level ``x`` (``known_part``: it came off a known order, already
    unlinked). A level whose total reaches zero holds no known order any more: it closes."""
    left = lvl_q[s, 0, x] - q
    if left <= QTY_EPS:
        lvl_i[s, 0, x] = -1
        lvl_i[s, 1, x] = -1
        _level_closed(lvl_q, meta, s, x)
    else:
        lvl_q[s, 0, x] = left
        if known_part:
            lvl_q[s, 1, x] = max(lvl_q[s, 1, x] - q, 0.0)


def _queue_order_python(lvl_q, lvl_i, ord_i, ord_q, meta, o, s, x, q):
    _link(lvl_i, ord_i, o, s, x)
    ord_q[o] = q
    if lvl_q[s, 0, x] <= 0.0:
        lvl_q[s, 0, x] = q
        lvl_q[s, 1, x] = q
        _level_opened(meta, s, x)
    else:
        lvl_q[s, 0, x] += q
        lvl_q[s, 1, x] += q


def _clear_python(lvl_q, lvl_i, ord_i, ord_q, ord_id, hkey, hval, meta, s, bound):
    """Clear side ``s``: bids at x >= bound, asks at x <= bound (hftbacktest's clear-up-to)."""
    if s == 0:
        x = meta[0]
        while x >= 0 and x >= bound:
            _wipe_level(lvl_q, lvl_i, ord_i, ord_q, ord_id, hkey, hval, meta, 0, x)
            x = meta[0]
    else:
        x = meta[1]
        while x >= 0 and x <= bound:
            _wipe_level(lvl_q, lvl_i, ord_i, ord_q, ord_id, hkey, hval, meta, 1, x)
            x = meta[1]


def top_levels_python(lvl_q, meta, levels, tab, tick_mul, tick_div, out, j):
    """Write the top ``levels`` into row ``j`` of ``out`` (ask px, ask qty, bid px, bid qty per
    level; an empty level has price NaN and quantity 0)."""
    n = lvl_q.shape[2]
    for s in range(2):
        col = 0 if s == 1 else 2
        x = meta[s]
        k = 0
        left = meta[2 + s]
        while k < levels and left > 0 and 0 <= x < n:
            q = lvl_q[s, 0, x]
            if q > 0.0:
                out[j, 4 * k + col] = tab[x] * tick_mul / tick_div
                out[j, 4 * k + col + 1] = q
                k += 1
                left -= 1
            x = x - 1 if s == 0 else x + 1
        while k < levels:
            out[j, 4 * k + col] = np.nan
            out[j, 4 * k + col + 1] = 0.0
            k += 1


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


def queue_ahead_python(lvl_q, ord_i, ord_q, o):
    """Quantity ahead of resting order slot ``o`` at its price: the anonymous quantity there, then
    the known orders queued before it; -1 if the slot is not live."""
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
    "_lower",
    "_find",
    "_hhome",
    "hash_get",
    "_hput",
    "_hdel",
    "rehash",
    "_scan_best",
    "_level_opened",
    "_level_closed",
    "_unlink",
    "_link",
    "_free",
    "_wipe_level",
    "_set_level",
    "_take",
    "_queue_order",
    "_clear",
    "top_levels",
    "_book_event",
    "apply_events",
    "l2_levels",
    "queue_ahead",
)


#: Helpers inlined into their callers at compile time (a call passing arrays costs more than
#: the work these do; inlining them gains ~10-15 % on L3 streams for a similar compile time).
_INLINE = frozenset({"_book_event", "_hhome", "hash_get", "_link", "_unlink", "_free"})


def _compile(jit):
    """The family of functions with helper names bound in a private namespace.

    ``jit=None`` gives the plain-Python family; ``jit=njit(cache=True)`` the compiled one.
    """
    ns = dict(globals())
    fam = {}
    for name in _FAMILY:
        f = ns[name + "_python"]
        g = types.FunctionType(f.__code__, ns, name, f.__defaults__)
        g.__doc__ = f.__doc__
        g.__module__ = f.__module__
        g.__qualname__ = name
        if jit is not None:
            g = jit(inline="always")(g) if name in _INLINE else jit(g)
        ns[name] = g
        fam[name] = g
    return fam


_py = _compile(None)
_nb = _compile(lambda f=None, **kw: njit(cache=True, **kw) if f is None else njit(cache=True)(f))
apply_events_python = _py["apply_events"]  # noqa: F811 -- the twin bound in its own namespace replaces the source def
top_levels_python = _py["top_levels"]  # noqa: F811 -- the twin bound in its own namespace replaces the source def
queue_ahead_python = _py["queue_ahead"]  # noqa: F811 -- the twin bound in its own namespace replaces the source def
hash_get_python = _py["hash_get"]  # noqa: F811 -- the twin bound in its own namespace replaces the source def
rehash_python = _py["rehash"]  # noqa: F811 -- the twin bound in its own namespace replaces the source def
l2_levels_python = _py["l2_levels"]  # noqa: F811 -- the twin bound in its own namespace replaces the source def
apply_events = _nb["apply_events"]
l2_levels = _nb["l2_levels"]
top_levels = _nb["top_levels"]
queue_ahead = _nb["queue_ahead"]
hash_get = _nb["hash_get"]
rehash = _nb["rehash"]

# the plain-Python family under the names the kernels call, bound here for readers and
# linters; each family (Python and compiled) calls through its own namespace (_compile)
_lower = _py["_lower"]
_find = _py["_find"]
_hhome = _py["_hhome"]
_hput = _py["_hput"]
_hdel = _py["_hdel"]
_scan_best = _py["_scan_best"]
_level_opened = _py["_level_opened"]
_level_closed = _py["_level_closed"]
_unlink = _py["_unlink"]
_link = _py["_link"]
_free = _py["_free"]
_wipe_level = _py["_wipe_level"]
_set_level = _py["_set_level"]
_take = _py["_take"]
_queue_order = _py["_queue_order"]
_clear = _py["_clear"]
_book_event = _py["_book_event"]
