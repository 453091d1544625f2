"""The crossed-book check over an event array: numba kernel and its plain-Python twin (see
:mod:`mmlab.data._binance`)."""

from __future__ import annotations

import numpy as np
from numba import njit

from mmlab.data._events import (
    BUY_EVENT,
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    EXCH_EVENT,
    LOCAL_EVENT,
    SELL_EVENT,
)

__all__ = ['first_crossed_event', 'first_crossed_event_python']

_BOTH = EXCH_EVENT | LOCAL_EVENT
_MS = 1_000_000


def first_crossed_event_python(ev, px, qty, ival) -> int:
    """Index of the last event of the first message after which the L2 book is crossed, or -1.

    Applies ``DEPTH``/``DEPTH_SNAPSHOT`` (set level; qty 0 deletes) and ``DEPTH_CLEAR`` (the
    whole flagged side; both sides when neither BUY nor SELL is set); ignores trades and
    ``DEPTH_BBO``. Messages are runs of equal ``ival``.

    Examples
    --------
    >>> from mmlab.data import DEPTH_EVENT, BUY_EVENT, SELL_EVENT
    >>> ev = np.array([DEPTH_EVENT | BUY_EVENT, DEPTH_EVENT | SELL_EVENT,
    ...                DEPTH_EVENT | BUY_EVENT], dtype=np.uint64)
    >>> first_crossed_event_python(ev, np.array([100.0, 101.0, 101.0]),
    ...                            np.array([1.0, 1.0, 2.0]), np.array([0, 0, 1]))
    2
    """
    bids = {0.0: 0.0}
    asks = {0.0: 0.0}
    bids.clear()
    asks.clear()
    best_bid = -np.inf
    best_ask = np.inf
    bid_dirty = False
    ask_dirty = False
    n = ev.shape[0]
    for i in range(n):
        e = np.int64(ev[i])
        k = e & 0xFF
        buy = (e & BUY_EVENT) != 0
        p = px[i]
        if k == DEPTH_EVENT or k == DEPTH_SNAPSHOT_EVENT:
            q = qty[i]
            if buy:
                if q > 0:
                    bids[p] = q
                    if p > best_bid:
                        best_bid = p
                elif p in bids:
                    del bids[p]
                    if p == best_bid:
                        bid_dirty = True
            else:
                if q > 0:
                    asks[p] = q
                    if p < best_ask:
                        best_ask = p
                elif p in asks:
                    del asks[p]
                    if p == best_ask:
                        ask_dirty = True
        elif k == DEPTH_CLEAR_EVENT:
            sell = (e & SELL_EVENT) != 0
            if buy or not sell:
                bids.clear()
                best_bid = -np.inf
                bid_dirty = False
            if sell or not buy:
                asks.clear()
                best_ask = np.inf
                ask_dirty = False
        if i == n - 1 or ival[i + 1] != ival[i]:
            if bid_dirty:
                best_bid = -np.inf
                for b in bids:
                    if b > best_bid:
                        best_bid = b
                bid_dirty = False
            if ask_dirty:
                best_ask = np.inf
                for a in asks:
                    if a < best_ask:
                        best_ask = a
                ask_dirty = False
            if best_bid >= best_ask:
                return i
    return -1


first_crossed_event = njit(cache=True)(first_crossed_event_python)

