"""The wire between the local side and a venue: request and response records, and the adapter
protocol a venue implements.

The trading core's local side (decisions, risk, order states) talks to a venue only through
these records: it sends :data:`REQUEST_DTYPE` rows (new orders and cancels) and hears back
:data:`RESPONSE_DTYPE` rows (acknowledgements, fills, cancels, rejects). A venue is anything
that implements :class:`VenueAdapter`: the core's own simulated exchange side run apart
(:class:`mmlab.backtest.SimulatedVenue`, the ``"loopback"`` venue of
:func:`mmlab.runtime.replay`), or an adapter that turns requests into real orders and the
venue's answers into responses.

Units: times in ns; ``price_tick`` in ticks of the instrument (price = ``price_tick`` x tick);
``qty`` in the instrument's quantity; ``cash`` in the quote currency: what a fill moves the
account's cash by, fees included (``-side x qty x value(price) - fee``, the contract's value
as :mod:`mmlab.backtest` computes it for linear and inverse contracts).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

__all__ = ["REQUEST_DTYPE", "RESPONSE_DTYPE", "REQUEST_KINDS", "RESPONSE_KINDS", "VenueAdapter"]

#: a request the local side sends: ``ts`` the time it reaches the venue as the core's
#: entry-latency model has it (a live adapter sends at once and ignores it), ``seq`` the
#: sending order (ties at one ``ts``)
REQUEST_DTYPE = np.dtype([
    ("ts", np.int64), ("kind", np.int8), ("order_id", np.int64), ("side", np.int8),
    ("price_tick", np.int64), ("qty", np.float64), ("post_only", np.bool_), ("seq", np.int64),
])
#: a response the venue sends: ``ts`` the time it reaches the local side, ``seq`` the order in
#: which the venue produced it (ties at one ``ts``); ``qty`` and ``cash`` of a fill, ``qty``
#: the order's new leaves of a ``modified`` (0 else). A venue answers in order: an order's
#: fills before its ``cancelled`` (the local side frees the order on it)
RESPONSE_DTYPE = np.dtype([
    ("ts", np.int64), ("kind", np.int8), ("order_id", np.int64), ("qty", np.float64),
    ("cash", np.float64), ("seq", np.int64),
])
#: request kinds (``kind`` column). A modify carries the order's new ``price_tick`` and its new
#: total quantity ``qty`` (filled included, as venues take it: what fills while the modify is
#: in flight is not bought again); the venue's queue-priority rule: a price change or a size
#: increase sends the order to the back of its level's queue, a size decrease keeps its place
REQUEST_KINDS = {1: "new", 2: "cancel", 3: "modify"}
#: response kinds (``modified``: the modify took effect; ``modify_rejected``: the order was
#: gone (filled, cancelled) or the new price would cross a post-only order; it stays as it was)
RESPONSE_KINDS = {1: "ack", 2: "fill", 3: "cancelled", 4: "rejected", 5: "cancel_rejected",
                  6: "modified", 7: "modify_rejected"}


class VenueAdapter(Protocol):
    """What the local side needs of a venue: requests out, responses in, and how far the
    venue has got (so the local side never acts before an answer that may precede it)."""

    def submit(self, requests: np.ndarray) -> None:
        """Hand the venue ``requests`` (:data:`REQUEST_DTYPE` rows)."""

    def advance(self, until: int) -> None:
        """Let the venue act up to and including time ``until`` (ns; :data:`BIG`: to the end
        of what it knows)."""

    def responses(self) -> np.ndarray:
        """Take the responses produced so far (:data:`RESPONSE_DTYPE` rows; each once)."""

    def horizon(self) -> int:
        """The earliest time a response not yet taken may reach the local side (ns): the local
        side acts only strictly before it."""
