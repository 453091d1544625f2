"""Order books rebuilt from events: L2 by price and L3 by order (FIFO within a price).

``rebuild`` materialises top-N snapshots (one row per event or per vendor row); ``replay`` is the
fast path that applies every event and returns the final :class:`BookState` (top of book, L3
queue queries). ``l3_to_l2`` turns an L3 stream into the L2 one (``l3_to_l2_with_source`` also
gives each record's source event). The numba kernels and their plain-Python twins live in
``_kernel`` (event application), ``_kernel_levels``, ``_kernel_index`` and ``_kernel_base``.
"""

from __future__ import annotations

from mmlab.book._convert import l3_to_l2, l3_to_l2_with_source
from mmlab.book._kernel import apply_events, apply_events_python
from mmlab.book._kernel_base import QTY_EPS
from mmlab.book._rebuild import rebuild, replay
from mmlab.book._state import BookState, book_columns
from mmlab.book._ticks import TickGrid, infer_tick_size

__all__ = [
    "BookState",
    "QTY_EPS",
    "TickGrid",
    "apply_events",
    "apply_events_python",
    "book_columns",
    "infer_tick_size",
    "l3_to_l2",
    "l3_to_l2_with_source",
    "rebuild",
    "replay",
]
