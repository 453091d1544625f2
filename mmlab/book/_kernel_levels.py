"""Order-book kernels: price levels and their FIFO queues of known orders, each with its
plain-Python twin.

``lvl_q[s, 0, x]`` is the total quantity at level ``x`` of side ``s`` (0 = bid, 1 = ask),
``lvl_q[s, 1, x]`` the part held by known (L3) orders, the rest anonymous and at the front of the
queue; known orders form a doubly-linked FIFO list per level (``lvl_i`` head and tail, ``ord_i``
links) and dead order slots a free list (see :mod:`mmlab.book._kernel_base` for the whole state
layout). The helpers open, close, set, take from and clear levels and (un)link orders for the
event kernels (:mod:`mmlab.book._kernel`); ``top_levels`` (the top-N snapshot) and
``queue_ahead`` (the queue ahead of an order) are the numba kernels read from Python, with their
twins ``top_levels_python`` and ``queue_ahead_python``.
"""

from __future__ import annotations

import numpy as np

from mmlab.book import _kernel_index as KI
from mmlab.book._kernel_base import QTY_EPS, cached_njit, compile_family
from mmlab.book._kernel_index import _hdel

__all__ = ["queue_ahead", "queue_ahead_python", "top_levels", "top_levels_python"]


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
    "queue_ahead",
)
#: inlined into their callers at compile time
_INLINE = frozenset({"_link", "_unlink", "_free"})

_py = compile_family(globals(), _FAMILY, KI._py, None)
_nb = compile_family(globals(), _FAMILY, KI._nb, cached_njit, _INLINE)
top_levels_python = _py["top_levels"]  # noqa: F811 -- the twin bound in its own namespace replaces the source def
queue_ahead_python = _py["queue_ahead"]  # noqa: F811 -- the twin bound in its own namespace replaces the source def
top_levels = _nb["top_levels"]
queue_ahead = _nb["queue_ahead"]

# the plain-Python family under the names the functions call, bound here for readers and
# linters; each family (Python and compiled) calls through its own namespace (compile_family)
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
