"""The market-event format: a NumPy structured dtype compatible with hftbacktest.

Layout (64 bytes, aligned), as in hftbacktest 2.x ``event_dtype``:

====== ===== ==============================================================
field  type  meaning
====== ===== ==============================================================
ev     u8    event kind (low bits) | flags (EXCH/LOCAL side, BUY/SELL side)
exch_ts i8   exchange timestamp, UTC nanoseconds since the epoch
local_ts i8  local receive timestamp, UTC nanoseconds (clock offset corrected)
px     f8    price, in currency units (not ticks)
qty    f8    quantity; for DEPTH events the new total at the level (0 deletes it)
order_id u8  vendor order id (L3 events); 0 otherwise
ival   i8    mmlab: the 0-based vendor row/line the event came from (``src_row``)
fval   f8    free float value (unused by loaders; 0)
====== ===== ==============================================================

Flags and kinds follow hftbacktest so ``.npz`` files move both ways. An event carrying both
``EXCH_EVENT`` and ``LOCAL_EVENT`` is *one* event seen on both sides: consumers process it once
per side they simulate, never twice on the same side.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "ADD_ORDER_EVENT",
    "BUY_EVENT",
    "CANCEL_ORDER_EVENT",
    "DEPTH_BBO_EVENT",
    "DEPTH_CLEAR_EVENT",
    "DEPTH_EVENT",
    "DEPTH_SNAPSHOT_EVENT",
    "EVENT_DTYPE",
    "EVENT_KIND_MASK",
    "EXCH_EVENT",
    "FILL_EVENT",
    "LOCAL_EVENT",
    "MODIFY_ORDER_EVENT",
    "SELL_EVENT",
    "TRADE_EVENT",
    "empty_events",
    "event_kind",
    "is_buy",
    "is_sell",
]

#: hftbacktest-compatible event dtype (64 bytes, aligned).
EVENT_DTYPE = np.dtype(
    [
        ("ev", "u8"),
        ("exch_ts", "i8"),
        ("local_ts", "i8"),
        ("px", "f8"),
        ("qty", "f8"),
        ("order_id", "u8"),
        ("ival", "i8"),
        ("fval", "f8"),
    ],
    align=True,
)

# Event kinds (hftbacktest values).
DEPTH_EVENT = 1  #: L2: set the total quantity at a price level (0 removes it)
TRADE_EVENT = 2  #: a public trade; BUY/SELL flag = aggressor side
DEPTH_CLEAR_EVENT = 3  #: clear one side (BUY/SELL flag) of the L2 book
DEPTH_SNAPSHOT_EVENT = 4  #: one level of a snapshot (preceded by a clear)
DEPTH_BBO_EVENT = 5  #: best bid/offer update (e.g. Binance bookTicker)
ADD_ORDER_EVENT = 10  #: L3: a new order rests (order_id, px, qty)
CANCEL_ORDER_EVENT = 11  #: L3: an order is removed (full delete)
MODIFY_ORDER_EVENT = 12  #: L3: an order's new px/qty (a partial cancel keeps priority)
FILL_EVENT = 13  #: L3: a resting order traded qty (its remaining qty shrinks)

EVENT_KIND_MASK = 0xFF

# Flags (hftbacktest values).
EXCH_EVENT = 1 << 31
LOCAL_EVENT = 1 << 30
BUY_EVENT = 1 << 29
SELL_EVENT = 1 << 28


def empty_events(n: int) -> np.ndarray:
    """A zero-filled event array of length ``n``.

    Examples
    --------
    >>> ev = empty_events(3)
    >>> ev.dtype.itemsize, len(ev)
    (64, 3)
    """
    return np.zeros(n, dtype=EVENT_DTYPE)


def event_kind(ev: np.ndarray) -> np.ndarray:
    """The kind of each event (flags stripped).

    Examples
    --------
    >>> e = empty_events(1); e["ev"] = DEPTH_EVENT | EXCH_EVENT | LOCAL_EVENT | BUY_EVENT
    >>> int(event_kind(e["ev"])[0]) == DEPTH_EVENT
    True
    """
    return np.asarray(ev, dtype=np.uint64) & np.uint64(EVENT_KIND_MASK)


def is_buy(ev: np.ndarray) -> np.ndarray:
    """True where the BUY flag is set (bid side for depth, buyer-initiated for trades)."""
    return (np.asarray(ev, dtype=np.uint64) & np.uint64(BUY_EVENT)) != 0


def is_sell(ev: np.ndarray) -> np.ndarray:
    """True where the SELL flag is set (ask side for depth, seller-initiated for trades)."""
    return (np.asarray(ev, dtype=np.uint64) & np.uint64(SELL_EVENT)) != 0
