"""L3 (order-by-order) event streams -> L2 (price-level) streams."""

from __future__ import annotations

import numpy as np

from mmlab.book import _kernel as K
from mmlab.book._state import BookState
from mmlab.data._events import BUY_EVENT, DEPTH_EVENT, EVENT_DTYPE, SELL_EVENT

__all__ = ["l3_to_l2"]

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
    kind = (ev["ev"] & np.uint64(0xFF)).astype(np.intp)
    keep = np.flatnonzero(sel & ~_L3[kind])
    rec = ev[out_i].copy()
    s = out_x >> 62
    x = out_x - (s << 62)
    flags = rec["ev"] & ~np.uint64(0xFF | BUY_EVENT | SELL_EVENT)
    rec["ev"] = flags | np.uint64(DEPTH_EVENT) | np.where(s == 0, np.uint64(BUY_EVENT),
                                                          np.uint64(SELL_EVENT))
    rec["px"] = grid.to_price(book.tab[x])
    rec["qty"] = out_q
    rec["order_id"] = 0
    merged = np.empty(len(keep) + k, dtype=EVENT_DTYPE)
    order = np.argsort(np.concatenate([keep, out_i]), kind="stable")
    merged[:] = np.concatenate([ev[keep], rec])[order]
    return merged
