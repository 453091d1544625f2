"""The order-book state: L2 by price and L3 by order (FIFO per price), fed with event arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mmlab.book import _kernel as K
from mmlab.book import _kernel_index as KI
from mmlab.book import _kernel_levels as KL
from mmlab.book._kernel_base import QTY_EPS
from mmlab.book._ticks import TickGrid, infer_tick_size
from mmlab.data import (
    ADD_ORDER_EVENT,
    CANCEL_ORDER_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    EVENT_DTYPE,
    EXCH_EVENT,
    FILL_EVENT,
    LOCAL_EVENT,
    MODIFY_ORDER_EVENT,
)
from mmlab.errors import ConfigError, CrossedBookError, DataError

__all__ = ["BookState", "book_columns"]

_L2_KINDS = (DEPTH_EVENT, DEPTH_SNAPSHOT_EVENT)
_L3_KINDS = (ADD_ORDER_EVENT, CANCEL_ORDER_EVENT, MODIFY_ORDER_EVENT, FILL_EVENT)


def _table(kinds) -> np.ndarray:
    t = np.zeros(256, dtype=bool)
    t[list(kinds)] = True
    return t


_PRICED = _table(_L2_KINDS + _L3_KINDS)
#: Tick spans up to this use a bitmap (no sort) to find a batch's distinct prices.
_BITMAP_SPAN = 1 << 26


def book_columns(levels: int) -> list[str]:
    """Snapshot column names: ``ask_px_1, ask_qty_1, bid_px_1, bid_qty_1, ..., bid_qty_N``.

    Examples
    --------
    >>> book_columns(1)
    ['ask_px_1', 'ask_qty_1', 'bid_px_1', 'bid_qty_1']
    """
    return [f"{c}_{k}" for k in range(1, levels + 1) for c in ("ask_px", "ask_qty", "bid_px", "bid_qty")]


class BookState:
    """An order book fed with ``EVENT_DTYPE`` arrays, L2 (by price) and L3 (by order) at once.

    Parameters
    ----------
    tick_size : float, optional
        Price grid. Default: inferred from the first batch of events (:func:`infer_tick_size`).
    side : {"exch", "local"}
        Which events to apply: those carrying ``EXCH_EVENT`` (default) or ``LOCAL_EVENT``. An event
        with both flags is applied once.
    engine : {"numba", "python"}
        The compiled kernel or its plain-Python twin (same algorithm).

    Notes
    -----
    * **L2 kinds.** ``DEPTH`` and ``DEPTH_SNAPSHOT`` set the total quantity at a price (0 removes
      the level). ``DEPTH_CLEAR`` with the BUY (SELL) flag clears bids (asks); with a price ``px``
      it clears only from the best level to ``px`` inclusive (hftbacktest's ``clear_depth``
      "clear up to"), with ``px`` 0 or NaN the whole side (hftbacktest also clears a whole side
      for a non-finite price; for an ask clear at 0 it would clear nothing); with neither flag
      (or both) both sides, whatever ``px``. ``TRADE`` and ``DEPTH_BBO``
      do not change the book.
    * **L3 kinds.** ``ADD`` queues an order at the back of its price (FIFO). ``CANCEL`` removes it.
      ``MODIFY`` sets its new price/quantity: a size reduction at the same price keeps its place,
      anything else re-queues it at the back. ``FILL`` reduces it by ``qty``.
    * **Anonymous quantity.** Quantity not attributed to a known order (from L2 updates and
      snapshots, or from orders that rested before the stream began) is anonymous and sits at the
      *front* of the queue. ``CANCEL``/``FILL`` of an order id the book does not hold take ``qty``
      from the anonymous quantity at ``px`` on the flagged side (this is how a LOBSTER file's
      pre-existing orders are handled). An L2 update setting a total below the known quantity
      shrinks the newest known orders first.
    * **Prices** are integer ticks ``round(px / tick_size)`` internally (no float keys). Levels are
      arrays indexed by the rank of the tick among every price seen so far (the sorted table
      ``tab``, extended as new prices arrive), so far-away prices cost one entry each.
    * **Crossed books** are checked (``check_crossed=True``) after the last event of each vendor
      row (``ival``), since one vendor message can produce several events that are transiently
      crossed in between.

    Examples
    --------
    >>> from mmlab.data import EVENT_DTYPE, EXCH_EVENT, LOCAL_EVENT, BUY_EVENT, SELL_EVENT
    >>> from mmlab.data import ADD_ORDER_EVENT, DEPTH_EVENT
    >>> ev = np.zeros(3, EVENT_DTYPE)
    >>> f = EXCH_EVENT | LOCAL_EVENT
    >>> ev["ev"] = [DEPTH_EVENT | f | BUY_EVENT, ADD_ORDER_EVENT | f | BUY_EVENT,
    ...             DEPTH_EVENT | f | SELL_EVENT]
    >>> ev["px"] = [99.0, 99.0, 101.0]; ev["qty"] = [5, 2, 3]; ev["order_id"] = [0, 42, 0]
    >>> ev["ival"] = [0, 1, 2]
    >>> b = BookState(tick_size=1.0).apply(ev)
    >>> b.best_bid, b.best_bid_qty, b.best_ask, b.queue_ahead(42)
    (99.0, 7.0, 101.0, 5.0)
    """

    def __init__(self, tick_size: float | None = None, side: str = "exch", engine: str = "numba"):
        if side not in ("exch", "local"):
            raise ConfigError(f"side must be 'exch' or 'local', got {side!r}")
        if engine not in ("numba", "python"):
            raise ConfigError(f"engine must be 'numba' or 'python', got {engine!r}")
        self.side = side
        self.engine = engine
        self._flag = np.uint64(EXCH_EVENT if side == "exch" else LOCAL_EVENT)
        self.grid = None if tick_size is None else TickGrid(tick_size)
        self.tab = np.zeros(0, dtype=np.int64)  # sorted ticks of the levels
        self.lvl_q = np.zeros((2, 2, 0), dtype=np.float64)
        self.lvl_i = np.full((2, 2, 0), -1, dtype=np.int64)
        self.ord_i = np.zeros((0, 5), dtype=np.int64)
        self.ord_q = np.zeros(0, dtype=np.float64)
        self.ord_id = np.zeros(0, dtype=np.uint64)
        self.hkey = np.zeros(16, dtype=np.uint64)
        self.hval = np.full(16, -1, dtype=np.int64)
        # best bid x, best ask x, #bid levels, #ask levels, free slot head, slots used,
        # events applied, book events applied
        self.meta = np.array([-1, -1, 0, 0, -1, 0, 0, 0], dtype=np.int64)
        self.n_skipped = 0  # events without this side's flag

    @property
    def n_events(self) -> int:
        """Events applied so far (those carrying this book's side flag)."""
        return int(self.meta[6])

    @property
    def n_book_events(self) -> int:
        """Applied events of a book-changing kind (L2/L3; not TRADE/BBO)."""
        return int(self.meta[7])

    @property
    def tick_size(self) -> float | None:
        """The tick size in use (None until known)."""
        return None if self.grid is None else self.grid.tick

    def _add_ticks(self, ticks: np.ndarray) -> None:
        """Make room for the distinct prices among ``ticks`` (int64), keeping ranks sorted."""
        lo, hi = int(ticks.min()), int(ticks.max())
        if hi - lo < _BITMAP_SPAN:
            mark = np.zeros(hi - lo + 1, dtype=bool)
            mark[ticks - lo] = True
            uniq = np.flatnonzero(mark).astype(np.int64) + lo
        else:
            uniq = np.unique(ticks)
        tab = self.tab
        if len(tab):
            pos = np.minimum(np.searchsorted(tab, uniq), len(tab) - 1)
            new = uniq[tab[pos] != uniq]
            if not len(new):
                return
            merged = np.union1d(tab, new)
        else:
            merged = uniq
        remap = np.searchsorted(merged, tab)  # old rank -> new rank
        q = np.zeros((2, 2, len(merged)), dtype=np.float64)
        li = np.full((2, 2, len(merged)), -1, dtype=np.int64)
        if len(tab):
            q[:, :, remap] = self.lvl_q
            li[:, :, remap] = self.lvl_i
            live = self.ord_i[:, 0] != 0
            self.ord_i[live, 2] = remap[self.ord_i[live, 2]]
            for s in (0, 1):
                if self.meta[s] >= 0:
                    self.meta[s] = remap[self.meta[s]]
        self.tab, self.lvl_q, self.lvl_i = merged, q, li

    def _rank(self, px: float) -> int:
        """Rank of a price in the level table, or -1 if the book never saw it."""
        if self.grid is None or not len(self.tab):
            return -1
        t = int(self.grid.to_ticks(np.array([px]))[0])
        i = int(np.searchsorted(self.tab, t))
        return i if i < len(self.tab) and self.tab[i] == t else -1

    def _reserve_orders(self, n_new: int) -> None:
        used = int(self.meta[5])
        need = used + n_new
        if need > len(self.ord_q):
            cap = max(need, int(len(self.ord_q) * 1.5) + 16)
            oi = np.zeros((cap, 5), dtype=np.int64)
            oi[:, 3:] = -1
            oi[:used] = self.ord_i[:used]
            oq = np.zeros(cap, dtype=np.float64)
            oq[:used] = self.ord_q[:used]
            oid = np.zeros(cap, dtype=np.uint64)
            oid[:used] = self.ord_id[:used]
            self.ord_i, self.ord_q, self.ord_id = oi, oq, oid
        live = int(np.count_nonzero(self.ord_i[:used, 0])) if used else 0
        size = len(self.hval)
        if 2 * (live + n_new) > size:
            while 2 * (live + n_new) > size:
                size *= 2
            self.hkey = np.zeros(size, dtype=np.uint64)
            self.hval = np.full(size, -1, dtype=np.int64)
            fn = KI.rehash if self.engine == "numba" else KI.rehash_python
            fn(self.ord_i[:used], self.ord_id[:used], self.hkey, self.hval)

    def apply(
        self,
        events: np.ndarray,
        *,
        check_crossed: bool = True,
        snapshot_levels: int = 0,
        per_row: bool = False,
        source: str | Path | None = None,
        _return_snapshots: bool = False,
    ):
        """Apply events (in order) to the book; returns ``self``.

        Parameters
        ----------
        events : numpy.ndarray
            ``EVENT_DTYPE`` events. Those without this book's side flag are skipped.
        check_crossed : bool
            Raise :class:`~mmlab.CrossedBookError` if the book is crossed after the last event of
            a vendor row (``ival``).
        source : str or Path, optional
            File name used in error messages.

        Raises
        ------
        DataError
            An event the book cannot apply (unknown kind, missing side flag, NaN or negative
            quantity, price off the tick grid, cancel/fill of more than rests...), naming its
            ``ival`` as the row.
        CrossedBookError
            Best bid >= best ask after a vendor row.

        Notes
        -----
        On an error the events before the offending one stay applied (the book is left as it was
        at that point, for inspection).
        """
        ev, sel, grid = self._prepare(events)
        n_sel = int(np.count_nonzero(sel))
        if snapshot_levels:
            if per_row:
                r = ev["ival"][sel]
                n_out = int(np.count_nonzero(r[1:] != r[:-1])) + 1 if len(r) else 0
            else:
                n_out = n_sel
            out = np.empty((n_out, 4 * snapshot_levels), dtype=np.float64)
        else:
            out = np.empty((0, 4), dtype=np.float64)
        fn = K.apply_events if self.engine == "numba" else K.apply_events_python
        status, i = fn(
            ev, self._flag, self.tab, grid.mul, grid.div, self.lvl_q, self.lvl_i,
            self.ord_i, self.ord_q, self.ord_id, self.hkey, self.hval, self.meta,
            bool(check_crossed), out, int(max(snapshot_levels, 1)), bool(per_row),
        )
        if status != 0:
            self._raise(status, ev, i, source)
        self.n_skipped += len(ev) - n_sel
        if _return_snapshots:
            return out, ev[sel] if n_sel < len(ev) else ev
        return self

    def _raise(self, status: int, ev: np.ndarray, i: int, source) -> None:
        row = int(ev["ival"][i])
        msg = K.ERROR_TEXT[status]
        if status == K.ERR_CROSSED:
            raise CrossedBookError(f"{msg} ({self.best_bid!r} >= {self.best_ask!r})",
                                   path=source, row=row)
        raise DataError(
            f"{msg} (event {i}: kind {int(ev['ev'][i] & np.uint64(0xFF))}, order id "
            f"{int(ev['order_id'][i])}, px {float(ev['px'][i])!r}, qty {float(ev['qty'][i])!r})",
            path=source, row=row,
        )

    def _prepare(self, events: np.ndarray):
        """Check the dtype, fix the tick grid, size the price range and the order tables."""
        ev = np.asarray(events)
        if ev.dtype != EVENT_DTYPE:
            raise ConfigError(f"events must have EVENT_DTYPE, got {ev.dtype}")
        ev = np.ascontiguousarray(ev)
        code = ev["ev"]
        sel = (code & self._flag) != 0
        kind = (code & np.uint64(0xFF)).astype(np.intp)
        px = ev["px"]
        # CANCEL/FILL may omit the price (0) when they name a resting order.
        optional_px = (kind == CANCEL_ORDER_EVENT) | (kind == FILL_EVENT)
        pmask = sel & _PRICED[kind] & np.isfinite(px) & ~(optional_px & (px == 0))
        if pmask.any():
            if self.grid is None:
                self.grid = TickGrid(infer_tick_size(px[pmask]))
            t = np.floor(self.grid.to_ticks_float(px[pmask]) + 0.5).astype(np.int64)
            self._add_ticks(t)
        grid = self.grid if self.grid is not None else TickGrid(1.0)
        self._reserve_orders(int(np.count_nonzero(sel & (kind == ADD_ORDER_EVENT))))
        return ev, sel, grid

    # -- queries -----------------------------------------------------------------------------

    def _best(self, s: int):
        x = int(self.meta[s])
        if x < 0 or self.grid is None:  # no level (a level implies a grid)
            return float("nan"), 0.0
        return float(self.grid.to_price(self.tab[x])), float(self.lvl_q[s, 0, x])

    @property
    def best_bid(self) -> float:
        """Best bid price (NaN if no bids)."""
        return self._best(0)[0]

    @property
    def best_ask(self) -> float:
        """Best ask price (NaN if no asks)."""
        return self._best(1)[0]

    @property
    def best_bid_qty(self) -> float:
        """Quantity at the best bid (0 if none)."""
        return self._best(0)[1]

    @property
    def best_ask_qty(self) -> float:
        """Quantity at the best ask (0 if none)."""
        return self._best(1)[1]

    @property
    def n_levels(self) -> tuple[int, int]:
        """Number of non-empty (bid, ask) levels."""
        return int(self.meta[2]), int(self.meta[3])

    def top(self, levels: int = 10) -> pd.Series:
        """The top ``levels`` per side in :func:`rebuild`'s column layout (empty: NaN, 0)."""
        if levels < 1:
            raise ConfigError(f"levels must be >= 1, got {levels}")
        out = np.empty((1, 4 * levels))
        if self.lvl_q.shape[2] == 0 or self.grid is None:
            out[0, 0::2] = np.nan
            out[0, 1::2] = 0.0
        else:
            KL.top_levels(self.lvl_q, self.meta, levels, self.tab, self.grid.mul,
                          self.grid.div, out, 0)
        return pd.Series(out[0], index=book_columns(levels))

    def levels_frame(self, levels: int = 10) -> pd.DataFrame:
        """The top ``levels`` as a table: one row per depth, bid/ask price and quantity."""
        t = self.top(levels).to_numpy().reshape(levels, 4)
        return pd.DataFrame(
            {"bid_px": t[:, 2], "bid_qty": t[:, 3], "ask_px": t[:, 0], "ask_qty": t[:, 1]},
            index=pd.RangeIndex(1, levels + 1, name="level"),
        )

    def qty_at(self, px: float, side: str) -> float:
        """Total quantity resting at ``px`` on ``side`` ('bid' or 'ask')."""
        s = _side_index(side)
        x = self._rank(px)
        return 0.0 if x < 0 else float(self.lvl_q[s, 0, x])

    def _slot(self, order_id: int) -> int | None:
        fn = KI.hash_get if self.engine == "numba" else KI.hash_get_python
        s = int(fn(self.hkey, self.hval, np.uint64(order_id)))
        return s if s >= 0 and self.ord_i[s, 0] != 0 else None

    def order(self, order_id: int) -> dict | None:
        """``{'side', 'px', 'qty'}`` of a resting known order, or None."""
        s = self._slot(order_id)
        if s is None or self.grid is None:  # not resting (a resting order implies a grid)
            return None
        return {
            "side": "bid" if self.ord_i[s, 1] == 0 else "ask",
            "px": float(self.grid.to_price(self.tab[self.ord_i[s, 2]])),
            "qty": float(self.ord_q[s]),
        }

    def queue_ahead(self, order_id: int) -> float:
        """Quantity ahead of a resting order at its price: the anonymous quantity there plus the
        known orders queued before it (FIFO). NaN if the order is not resting."""
        s = self._slot(order_id)
        if s is None:
            return float("nan")
        fn = KL.queue_ahead if self.engine == "numba" else KL.queue_ahead_python
        return float(fn(self.lvl_q, self.ord_i, self.ord_q, s))

    def queue_position(self, order_id: int) -> tuple[int, float] | None:
        """``(number of known orders ahead, quantity ahead)`` of a resting order, or None."""
        s = self._slot(order_id)
        if s is None:
            return None
        k, p = 0, int(self.ord_i[s, 3])
        while p >= 0:
            k += 1
            p = int(self.ord_i[p, 3])
        return k, self.queue_ahead(order_id)

    def orders_at(self, px: float, side: str) -> pd.DataFrame:
        """The FIFO queue at a price: anonymous quantity first (order_id NaN), then known orders."""
        s = _side_index(side)
        x = self._rank(px)
        ids: list = []
        qs: list = []
        if x >= 0 and self.lvl_q[s, 0, x] > 0:
            anon = self.lvl_q[s, 0, x] - self.lvl_q[s, 1, x]
            if anon > QTY_EPS:
                ids.append(None)
                qs.append(float(anon))
            o = int(self.lvl_i[s, 0, x])
            while o >= 0:
                ids.append(int(self.ord_id[o]))
                qs.append(float(self.ord_q[o]))
                o = int(self.ord_i[o, 4])
        return pd.DataFrame({"order_id": pd.array(ids, dtype="UInt64"), "qty": qs})

    def summary(self) -> str:
        """One line: best bid/ask, level counts and events applied."""
        nb, na = self.n_levels
        return (f"book: bid {self.best_bid_qty:g} @ {self.best_bid:g} | ask {self.best_ask_qty:g} @ "
                f"{self.best_ask:g}; {nb} bid / {na} ask levels; {self.n_events} events applied "
                f"({self.n_book_events} book), {self.n_skipped} skipped (other side)")

    def to_frame(self, levels: int = 10) -> pd.DataFrame:
        """Same as :meth:`levels_frame`."""
        return self.levels_frame(levels)

    def __repr__(self) -> str:
        return f"BookState({self.summary()})"


def _side_index(side: str) -> int:
    if side in ("bid", "buy"):
        return 0
    if side in ("ask", "sell"):
        return 1
    raise ConfigError(f"side must be 'bid' or 'ask', got {side!r}")
