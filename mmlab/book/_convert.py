"""L3 (order-by-order) event streams -> L2 (price-level) streams."""

from __future__ import annotations

import numpy as np

from mmlab.book import _kernel as K
from mmlab.book._state import BookState
from mmlab.data import BUY_EVENT, DEPTH_EVENT, EVENT_DTYPE, SELL_EVENT

__all__ = ["l3_to_l2", "l3_to_l2_with_source"]

_L3 = np.zeros(256, dtype=bool)
_L3[10:14] = True


def l3_to_l2(
    events: np.ndarray, *, tick_size: float | None = None, side: str = "exch", engine: str = "numba"
) -> np.ndarray:
    """Replace each L3 event by ``DEPTH`` events carrying the new total at the level it changed.

    The result is what an L2-only consumer (hftbacktest's ``HashMapMarketDepthBacktest``, a
    Binance-style book) needs: the same book, level by level. ``ADD``/``CANCEL``/``FILL`` and a
    same-price ``MODIFY`` become one ``DEPTH`` event (0 when the level empties); a ``MODIFY`` to
    another price two. Each keeps the original timestamps, EXCH/LOCAL flags and ``ival``. Other
    events (L2, ``TRADE``, ``BBO``) pass through; events without ``side``'s flag are dropped.

    Examples
    --------
    >>> from mmlab._paths import shipped
    >>> from mmlab.data import load_lobster
    >>> from mmlab.book import rebuild
    >>> ev = load_lobster(shipped("lobster", "AAPL_2012-06-21_34200000_57600000_message_10.csv"))
    >>> l2 = l3_to_l2(ev)
    >>> a, b = rebuild(l2, 10, per="row").fillna(0), rebuild(ev, 10, per="row").fillna(0)
    >>> bool((a == b).all(axis=None))
    True
    """
    return l3_to_l2_with_source(events, tick_size=tick_size, side=side, engine=engine)[0]


def l3_to_l2_with_source(events: np.ndarray, *, tick_size: float | None = None,
                         side: str = "exch", engine: str = "numba"):
    """:func:`l3_to_l2` and, for each output record, the index of the input event it came from.

    The records are merged in input order (a record made from event ``i`` takes ``i``'s place;
    an event making two records keeps their order) column by column, so the peak memory is the
    output array plus a few index arrays, not copies of whole event arrays.

    Parameters
    ----------
    events : numpy.ndarray
        Events of ``EVENT_DTYPE`` (L3, L2 or both).
    tick_size, side, engine
        As in :func:`l3_to_l2`.

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray)
        ``(l2, src)``: the :func:`l3_to_l2` result and, per record, the ``int64`` index in
        ``events`` of the event it was made from (non-decreasing).

    Examples
    --------
    >>> import numpy as np
    >>> from mmlab.data import ADD_ORDER_EVENT, BUY_EVENT, EVENT_DTYPE, EXCH_EVENT, FILL_EVENT
    >>> from mmlab.data import LOCAL_EVENT
    >>> ev = np.zeros(3, dtype=EVENT_DTYPE)
    >>> ev["ev"] = np.array([ADD_ORDER_EVENT, ADD_ORDER_EVENT, FILL_EVENT], dtype=np.uint64)
    >>> ev["ev"] |= np.uint64(EXCH_EVENT | LOCAL_EVENT | BUY_EVENT)
    >>> ev["px"], ev["qty"], ev["order_id"] = 10.0, [2.0, 3.0, 2.0], [7, 8, 7]
    >>> l2, src = l3_to_l2_with_source(ev)
    >>> l2["qty"].tolist(), src.tolist()   # level totals 2, 5, then 3 once order 7 is filled
    ([2.0, 5.0, 3.0], [0, 1, 2])
    """
    book = BookState(tick_size=tick_size, side=side, engine=engine)
    ev, sel, grid = book._prepare(events)
    n = len(ev)
    out_i = np.empty(2 * n, dtype=np.int64)
    out_x = np.empty(2 * n, dtype=np.int64)
    out_q = np.empty(2 * n, dtype=np.float64)
    fn = K.l2_levels if engine == "numba" else K.l2_levels_python
    status, i, k = fn(
        ev, book._flag, book.tab, grid.mul, grid.div, book.lvl_q, book.lvl_i, book.ord_i,
        book.ord_q, book.ord_id, book.hkey, book.hval, book.meta, out_i, out_x, out_q,
    )
    if status != 0:
        book._raise(status, ev, i, None)
    out_i, out_x, out_q = out_i[:k], out_x[:k], out_q[:k]
    keep = np.flatnonzero(sel & ~_L3[(ev["ev"] & np.uint64(0xFF)).astype(np.intp)])
    if k > 1 and np.any(out_i[1:] < out_i[:-1]):  # the kernel emits in event order
        raise AssertionError("l2_levels: records out of event order")
    # places in the merged stream: a kept event before the records of later events, the
    # records of an event after the kept events up to it (stable, as one sort of both lists)
    pos_keep = np.arange(len(keep)) + np.searchsorted(out_i, keep, side="left")
    pos_rec = np.arange(k) + np.searchsorted(keep, out_i, side="right")
    merged = np.empty(len(keep) + k, dtype=EVENT_DTYPE)
    src = np.empty(len(keep) + k, dtype=np.int64)
    src[pos_keep] = keep
    src[pos_rec] = out_i
    merged[pos_keep] = ev[keep]
    s = out_x >> 62
    x = out_x - (s << 62)
    del out_x
    for name in EVENT_DTYPE.names or ():  # a structured dtype: names is never None
        col = merged[name]
        if name == "ev":
            flags = ev["ev"][out_i] & ~np.uint64(0xFF | BUY_EVENT | SELL_EVENT)
            col[pos_rec] = flags | np.uint64(DEPTH_EVENT) | np.where(
                s == 0, np.uint64(BUY_EVENT), np.uint64(SELL_EVENT))
            del flags
        elif name == "px":
            col[pos_rec] = grid.to_price(book.tab[x])
        elif name == "qty":
            col[pos_rec] = out_q
        elif name == "order_id":
            col[pos_rec] = 0
        else:
            col[pos_rec] = ev[name][out_i]
    return merged, src
