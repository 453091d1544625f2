"""L3 (order-by-order) data for the backtest engine: level totals plus each order's arrival.

The engine keeps a dense L2 book, so :func:`l3_stream` rewrites each L3 event (``ADD``,
``CANCEL``, ``MODIFY``, ``FILL``; e.g. from :func:`mmlab.data.load_lobster`) as a record carrying
the **new total at the level it changed** (computed by :mod:`mmlab.book`'s L3 book, so the
engine's book is exactly :func:`mmlab.book.l3_to_l2`'s), a record kind, and the **arrival** of the
order concerned: the index, in the rewritten stream, of the record where that order joined its
level's queue (-1 for quantity resting before the data began: anonymous, at the front).

Record kinds (the engine's ``K_*`` codes):

=========  ====================================================================================
K_ADD      an order joins the back of the level (an ``ADD``; a ``MODIFY`` to another price or
           to a larger size: it loses its place and re-joins, after a ``K_REDUCE`` at the old
           place)
K_REDUCE   an order is cancelled or reduced (``CANCEL``; a ``MODIFY`` to a smaller size keeps
           its place)
K_EXEC     a resting order is executed (``FILL``)
K_VTRADE   a ``TRADE`` immediately followed by the ``FILL`` of the same order at the same time
           (a visible execution: the FIFO queue model takes it from the ``FILL``; the L2 models
           see an ordinary trade)
=========  ====================================================================================

With ``queue_model='fifo'`` the engine gives our order, when it reaches the exchange, the
exact quantity ahead (the level's total then: every order resting there arrived before ours)
and lowers it only for records of orders whose arrival is earlier than ours (see
:func:`mmlab.backtest.engine._engine._ex_l3_python`). Exactness holds while our level is described by
L3 records only; an L2 record at our level (e.g. LOBSTER's view of a level leaving or entering
the top ``N``) falls back to the risk-averse rule and is counted in the result's
``counters["fifo_l2_updates"]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from mmlab.errors import ConfigError

__all__ = ["L3Events", "arrivals", "arrivals_python", "l3_stream", "prepare_l3"]

_ADD, _CANCEL, _MODIFY, _FILL, _TRADE = 10, 11, 12, 13, 2
_EXCH = np.uint64(1 << 31)
_LOCAL = np.uint64(1 << 30)


def arrivals_python(kind, oid, px, qty, arr, cls, old_q):
    """One pass over the source events (``oid``: dense order ids, -1 none).

    For each L3 event ``i``, ``arr[i]`` is the source index of the event where the order had
    joined its queue *before* this event (its ``ADD`` or its last re-queueing ``MODIFY``; for an
    ``ADD``: ``i``; -1 for an order never seen joining: anonymous). For a ``MODIFY``, ``cls[i]``
    is 0 for a smaller size at the same price (it keeps its place), 1 for another price and 2 for
    a larger size (it re-joins at the back: its new arrival is ``i``), ``old_q[i]`` its size
    before.
    """
    m = 0
    for i in range(kind.shape[0]):
        if oid[i] >= m:
            m = oid[i] + 1
    o_arr = np.full(m, -1, dtype=np.int64)
    o_q = np.zeros(m, dtype=np.float64)
    o_px = np.zeros(m, dtype=np.float64)
    for i in range(kind.shape[0]):
        k = kind[i]
        arr[i] = -1
        cls[i] = 0
        old_q[i] = 0.0
        if k < 10 or k > 13 or oid[i] < 0:
            continue
        o = oid[i]
        if k == 10:
            o_arr[o] = i
            o_q[o] = qty[i]
            o_px[o] = px[i]
            arr[i] = i
            continue
        arr[i] = o_arr[o]
        if o_arr[o] < 0:
            continue
        if k == 11:
            o_arr[o] = -1
        elif k == 13:
            o_q[o] -= qty[i]
            if o_q[o] <= 1e-10:
                o_arr[o] = -1
        else:
            old_q[i] = o_q[o]
            if px[i] != o_px[o]:
                cls[i] = 1
                o_arr[o] = i
            elif qty[i] > o_q[o] + 1e-10:
                cls[i] = 2
                o_arr[o] = i
            if qty[i] <= 1e-10:
                o_arr[o] = -1
            o_q[o] = qty[i]
            o_px[o] = px[i]
    return 0


arrivals = njit(cache=True)(arrivals_python)


def l3_stream(events: np.ndarray, *, engine: str = "numba"):
    """Rewrite an event array holding L3 events for the engine.

    Returns ``None`` when there is no L3 event, else ``(stream, kinds, l3a)``: the rewritten
    ``EVENT_DTYPE`` array (L3 events replaced by ``DEPTH`` records with the level's new total,
    same timestamps, flags and ``ival``; other events unchanged), the engine kind of each record
    (0: keep the kind of the ``ev`` field) and each record's order arrival (see the module notes).

    Raises
    ------
    ConfigError
        L3 data with events lacking the ``EXCH`` flag, or L3 events lacking ``LOCAL``.

    Examples
    --------
    >>> from mmlab.data import EVENT_DTYPE, ADD_ORDER_EVENT, FILL_EVENT, EXCH_EVENT, LOCAL_EVENT
    >>> from mmlab.data import BUY_EVENT
    >>> ev = np.zeros(3, EVENT_DTYPE)
    >>> ev["ev"] = [ADD_ORDER_EVENT, ADD_ORDER_EVENT, FILL_EVENT]
    >>> ev["ev"] |= EXCH_EVENT | LOCAL_EVENT | BUY_EVENT
    >>> ev["px"], ev["qty"], ev["order_id"] = 10.0, [2.0, 3.0, 2.0], [7, 8, 7]
    >>> s, kinds, l3a = l3_stream(ev)
    >>> s["qty"].tolist(), kinds.tolist(), l3a.tolist()   # the fill of order 7, which joined at 0
    ([2.0, 5.0, 3.0], [10, 10, 13], [0, 1, 0])
    """
    from mmlab.book import l3_to_l2_with_source

    code = events["ev"]
    kind = (code & np.uint64(0xFF)).astype(np.int64)
    is_l3 = (kind >= 10) & (kind <= 13)
    if not is_l3.any():
        return None
    if not np.all((code & _EXCH) != 0):
        raise ConfigError("data: L3 data must flag every event EXCH (the engine replays the "
                          "exchange book from it)")
    if not np.all((code[is_l3] & _LOCAL) != 0):
        raise ConfigError("data: L3 events must carry both EXCH and LOCAL flags")
    n = len(events)
    conv, src = l3_to_l2_with_source(events, engine=engine)
    # dense order ids of the L3 events, then the arrivals
    oid = np.full(n, -1, dtype=np.int64)
    _, inv = np.unique(events["order_id"][is_l3], return_inverse=True)
    oid[is_l3] = inv
    arr = np.empty(n, dtype=np.int64)
    cls = np.empty(n, dtype=np.int64)
    old_q = np.empty(n, dtype=np.float64)
    f = arrivals if engine == "numba" else arrivals_python
    f(kind, oid, np.ascontiguousarray(events["px"]), np.ascontiguousarray(events["qty"]), arr,
      cls, old_q)
    # a MODIFY to a larger size at the same price: its one record becomes a reduction (the
    # order leaves its place) then an addition (it re-joins at the back)
    skind = kind[src]
    split = np.flatnonzero((skind == _MODIFY) & (cls[src] == 2))
    if split.size:
        conv = np.insert(conv, split, conv[split])
        src = np.insert(src, split, src[split])
        first = split + np.arange(split.size)  # the inserted copies come first
        i = src[first]
        conv["qty"][first] = conv["qty"][first + 1] - events["qty"][i]
        skind = kind[src]
    m = len(conv)
    kinds = np.zeros(m, dtype=np.uint8)
    l3a = np.full(m, -1, dtype=np.int64)
    rec_l3 = (skind >= 10) & (skind <= 13)
    # which records are arrivals: ADDs, and the second record of a re-queueing MODIFY
    left = np.searchsorted(src, src, side="left")
    second = np.arange(m) > left
    requeue = (skind == _MODIFY) & (cls[src] > 0)
    is_arrival = rec_l3 & ((skind == _ADD) | (requeue & second))
    kinds[rec_l3 & (skind == _ADD)] = 10
    kinds[rec_l3 & (skind == _CANCEL)] = 11
    kinds[rec_l3 & (skind == _FILL)] = 13
    kinds[rec_l3 & (skind == _MODIFY)] = 11
    kinds[is_arrival] = 10
    # arrival record index of each arrival source event (last record of that source)
    arr_rec = np.full(n, -1, dtype=np.int64)
    idx = np.flatnonzero(is_arrival)
    arr_rec[src[idx]] = idx
    # the order's arrival for every L3 record: its own index when it is an arrival, else the
    # arrival record of the source event where it had joined (-1: anonymous); for the leaving
    # record of a re-queueing MODIFY that is its previous place
    a = arr[src]
    l3a[rec_l3] = np.where(a[rec_l3] >= 0, arr_rec[np.maximum(a[rec_l3], 0)], -1)
    l3a[is_arrival] = idx
    # a TRADE whose execution the next event (a FILL of the same order, same time) reports
    tr = np.flatnonzero(kind[:-1] == _TRADE)
    vis = tr[(kind[tr + 1] == _FILL) & (events["order_id"][tr] == events["order_id"][tr + 1])
             & (events["order_id"][tr] != 0)
             & (events["exch_ts"][tr] == events["exch_ts"][tr + 1])]
    if vis.size:
        isv = np.zeros(n, dtype=bool)
        isv[vis] = True
        kinds[isv[src] & ~rec_l3] = 12
    return conv, kinds, l3a


@dataclass(frozen=True, slots=True)
class L3Events:
    """An L3 event array rewritten once for the engine (:func:`prepare_l3`); pass it to
    :func:`mmlab.backtest.run` (or a sweep) in place of the events to skip the rewrite.

    Attributes
    ----------
    stream : numpy.ndarray
        ``EVENT_DTYPE`` records (L3 events as level totals, see :func:`l3_stream`).
    kinds : numpy.ndarray
        uint8 engine kind of each record (0: the kind of its ``ev`` field).
    l3a : numpy.ndarray
        int64 arrival record of each record's order (-1: none or anonymous).
    n_source : int
        Number of events in the L3 array it was made from.
    """

    stream: np.ndarray
    kinds: np.ndarray
    l3a: np.ndarray
    n_source: int

    @property
    def nbytes(self) -> int:
        """Bytes of the three arrays (what a backtest replays)."""
        return int(self.stream.nbytes + self.kinds.nbytes + self.l3a.nbytes)

    def __len__(self) -> int:
        return len(self.stream)


def prepare_l3(events: np.ndarray, *, engine: str = "numba") -> L3Events:
    """Rewrite an L3 event array for the engine once (:func:`l3_stream`), e.g. before a sweep
    or a series of FIFO backtests on the same day: each run then replays it directly instead
    of rewriting the events again (time, and memory: the rewrite holds a second event array).

    Raises :class:`~mmlab.errors.ConfigError` when the array has no L3 event.

    Examples
    --------
    >>> from mmlab._paths import shipped
    >>> from mmlab.data import load_lobster
    >>> ev = load_lobster(shipped("lobster", "AAPL_2012-06-21_34200000_57600000_message_10.csv"))
    >>> l3 = prepare_l3(ev)
    >>> len(l3) >= len(ev), l3.n_source == len(ev), l3.kinds.dtype.name
    (True, True, 'uint8')
    """
    from mmlab.data import EVENT_DTYPE

    if not isinstance(events, np.ndarray) or events.dtype != EVENT_DTYPE:
        raise ConfigError("events: expected an EVENT_DTYPE array")
    out = l3_stream(events, engine=engine)
    if out is None:
        raise ConfigError("events: no L3 order event (ADD/CANCEL/MODIFY/FILL) to prepare")
    stream, kinds, l3a = out
    return L3Events(stream, kinds, l3a, len(events))

