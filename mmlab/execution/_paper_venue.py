"""A simulated exchange in plain Python, for paper trading (and small, exact replays).

It implements the order manager's venue protocol and matches our orders against a market-data
feed: the book is an :class:`mmlab.book.BookState` fed by the session, and the trades are the
feed's ``TRADE`` events.

Notes
-----
* **Latency.** A request sent at local time ``t`` reaches the exchange at ``t + entry_latency_ns``
  and is processed against the book as it stands then; every answer (ack, reject, fill, cancel
  ack...) reaches us ``response_latency_ns`` after the exchange produced it.
* **Entry.** A post-only (GTX) order that would cross the best opposite price is rejected. Any
  other crossing order trades at once as a taker, in full, at the best opposite price (no walk of
  the book). A non-crossing IOC/FOK order expires; any other order rests.
* **Queue position** (risk-averse, as hftbacktest's ``RiskAdverseQueueModel``): a resting order
  joins behind the whole displayed quantity at its price; trades at its price consume the
  quantity ahead first; a fall of the displayed quantity caps the quantity ahead at the new total
  (cancels are assumed to happen behind us otherwise).
* **Fills.** A resting order fills (as maker, at its own price) when a trade prints through its
  price (all of it), when trades at its price exceed the quantity ahead (the excess), or when the
  opposite best price reaches it (all of it).
* **No market impact.** Our fills do not consume or move the replayed liquidity: the book the
  strategy sees is the recorded one. This is the usual research assumption and is tested.
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from mmlab.data import BUY_EVENT, SELL_EVENT, TRADE_EVENT
from mmlab.errors import ConfigError

if TYPE_CHECKING:
    from mmlab.book import BookState

__all__ = ["PaperVenue"]


@dataclass
class _Resting:
    order_id: int
    side: int
    price: float
    leaves: float
    ahead: float


@dataclass
class PaperVenue:
    """Simulated exchange with latency, queue position, post-only and IOC/FOK handling.

    Parameters
    ----------
    book : mmlab.book.BookState
        The market's book, kept current by the caller (the paper session).
    entry_latency_ns, response_latency_ns : int
        Order-entry and response latency, constant.
    manager : OrderManager, optional
        Receives the answers (or :meth:`attach` later).
    """

    book: BookState
    entry_latency_ns: int = 0
    response_latency_ns: int = 0
    manager: object = None
    resting: dict[int, _Resting] = field(default_factory=dict, init=False, repr=False)
    _inbound: list = field(default_factory=list, init=False, repr=False)
    _outbound: list = field(default_factory=list, init=False, repr=False)
    _seq: itertools.count = field(default_factory=itertools.count, init=False, repr=False)
    n_fills: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        for name in ("entry_latency_ns", "response_latency_ns"):
            v = getattr(self, name)
            if not (isinstance(v, (int, np.integer)) and v >= 0):
                raise ConfigError(f"{name}: must be an integer >= 0, got {v!r}")

    def attach(self, manager) -> None:
        """Set the order manager that receives the answers."""
        self.manager = manager

    # -------------------------------------------------------------- requests (local side)
    def _send(self, now: int, action: str, *args) -> None:
        heapq.heappush(self._inbound, (now + self.entry_latency_ns, next(self._seq), action, args))

    def submit(self, order, now: int) -> None:
        """Send a new order."""
        self._send(now, "submit", order.order_id, order.side.value, order.price, order.qty,
                   order.tif.value, order.order_type.value)

    def modify(self, order, price: float, qty: float, now: int) -> None:
        """Send a modify (new price, new total size)."""
        self._send(now, "modify", order.order_id, price, qty - order.filled_qty, order.tif.value)

    def cancel(self, order, now: int) -> None:
        """Send a cancel."""
        self._send(now, "cancel", order.order_id)

    def _answer(self, t_exch: int, method: str, *args, **kw) -> None:
        heapq.heappush(self._outbound,
                       (t_exch + self.response_latency_ns, next(self._seq), method, args, kw))

    # -------------------------------------------------------------- the exchange
    def _best(self, side: int) -> float:
        v = self.book.best_bid if side > 0 else self.book.best_ask
        return v if v is not None and math.isfinite(v) else math.nan

    def _crosses(self, side: int, price: float) -> bool:
        opp = self._best(-side)
        return math.isfinite(opp) and (price >= opp if side > 0 else price <= opp)

    def _level_qty(self, side: int, price: float) -> float:
        return float(self.book.qty_at(price, "bid" if side > 0 else "ask"))

    def _fill(self, t: int, order_id: int, qty: float, price: float, maker: bool) -> None:
        self.n_fills += 1
        self._answer(t, "on_fill", order_id, qty, price, maker=maker)

    def _process_inbound(self, upto: int) -> None:
        while self._inbound and self._inbound[0][0] <= upto:
            t, _, action, args = heapq.heappop(self._inbound)
            if action == "submit":
                oid, side, price, qty, tif, otype = args
                if otype == "market" or (self._crosses(side, price)):
                    if tif == "gtx":
                        self._answer(t, "on_reject", oid, "post-only order would cross")
                        continue
                    opp = self._best(-side)
                    if not math.isfinite(opp):
                        self._answer(t, "on_reject", oid, "no liquidity on the other side")
                        continue
                    self._answer(t, "on_ack", oid)
                    self._fill(t, oid, qty, opp, maker=False)
                    continue
                if tif in ("ioc", "fok"):
                    self._answer(t, "on_ack", oid)
                    self._answer(t, "on_expire", oid, "IOC/FOK: nothing to take")
                    continue
                self.resting[oid] = _Resting(oid, side, price, qty, self._level_qty(side, price))
                self._answer(t, "on_ack", oid)
            elif action == "modify":
                oid, price, leaves, tif = args
                r = self.resting.get(oid)
                if r is None:
                    self._answer(t, "on_modify_reject", oid, "order not resting")
                    continue
                if tif == "gtx" and self._crosses(r.side, price):
                    self._answer(t, "on_modify_reject", oid, "post-only modify would cross")
                    continue
                keep_place = price == r.price and leaves <= r.leaves
                r.leaves = leaves
                if not keep_place:
                    r.price, r.ahead = price, self._level_qty(r.side, price)
                self._answer(t, "on_modify_ack", oid)
            else:  # cancel
                (oid,) = args
                if self.resting.pop(oid, None) is None:
                    self._answer(t, "on_cancel_reject", oid, "too late: order not resting")
                else:
                    self._answer(t, "on_cancel_ack", oid)

    def on_market(self, events: np.ndarray, now: int) -> None:
        """Match resting orders against a batch of market events the book has just applied.

        ``now`` is the exchange time of the batch; requests due by then are processed first.
        """
        self._process_inbound(now)
        if not self.resting:
            return
        ev = events["ev"]
        trades = events[(ev & np.uint64(0xFF)) == TRADE_EVENT]
        for tr in trades:
            flags = int(tr["ev"])
            aggressor = +1 if flags & BUY_EVENT else (-1 if flags & SELL_EVENT else 0)
            px, qty = float(tr["px"]), float(tr["qty"])
            for r in list(self.resting.values()):
                if aggressor == -r.side or aggressor == 0:  # buyers lift asks, sellers hit bids
                    through = px < r.price if r.side > 0 else px > r.price
                    if through:
                        self._fill(now, r.order_id, r.leaves, r.price, maker=True)
                        r.leaves = 0.0
                    elif px == r.price:
                        excess = qty - r.ahead
                        r.ahead = max(0.0, r.ahead - qty)
                        if excess > 0:
                            q = min(r.leaves, excess)
                            self._fill(now, r.order_id, q, r.price, maker=True)
                            r.leaves -= q
        for r in list(self.resting.values()):
            if r.leaves > 1e-12 and self._crosses(r.side, r.price):
                self._fill(now, r.order_id, r.leaves, r.price, maker=True)
                r.leaves = 0.0
            if r.leaves <= 1e-12:
                del self.resting[r.order_id]
            else:
                r.ahead = min(r.ahead, self._level_qty(r.side, r.price))

    def advance(self, now: int) -> None:
        """Process requests that reached the exchange and deliver answers due by ``now``."""
        self._process_inbound(now)
        while self._outbound and self._outbound[0][0] <= now:
            t, _, method, args, kw = heapq.heappop(self._outbound)
            self._deliver(method, t, args, kw)

    def _deliver(self, method: str, t: int, args: tuple, kw: dict) -> None:
        m = getattr(self.manager, method)
        if method == "on_fill":
            oid, qty, price = args
            m(oid, qty, price, t, **kw)
        elif method in ("on_ack", "on_modify_ack", "on_cancel_ack"):
            m(args[0], t)
        else:
            m(args[0], t, args[1])
