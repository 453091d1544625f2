"""The fixed-spread grid strategy written for hftbacktest: the oracle side of mmlab's comparisons.

Kept outside the package (``bench/``): it is the reference the tests and the benchmark share, not
part of mmlab. ``hbt_grid`` is the logic of :class:`mmlab.backtest.GridStrategy` (``clip='touch'``) as an
``@njit`` function driving an hftbacktest 2.x backtester, so the two tools run the same strategy
on the same events (``tests/test_backtest_vs_hftbacktest.py``, ``bench/vs_hftbacktest.py``).
It needs no hftbacktest import itself: the backtester object is passed in.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["hbt_grid"]


@njit
def _record_filled(hbt, rec, n):
    values = hbt.orders(0).values()
    while values.has_next():
        o = values.get()
        if o.status == 3 and n < rec.shape[0]:  # FILLED (no partial fills: once per order)
            rec[n, 0] = o.exch_timestamp
            rec[n, 1] = o.side
            rec[n, 2] = o.exec_price_tick
            rec[n, 3] = np.int64(np.round(o.exec_qty * 1e6))
            n += 1
    return n


@njit
def hbt_grid(hbt, tick, lot, qty, half_spread, skew, max_pos, interval, rec):
    """The fixed-spread strategy of mmlab's GridStrategy (clip='touch'), for hftbacktest; fills
    (exchange time, side, price tick, qty) go to ``rec``; returns their number."""
    n = 0
    while hbt.elapse(interval) == 0:
        n = _record_filled(hbt, rec, n)
        hbt.clear_inactive_orders(0)
        depth = hbt.depth(0)
        bbt = depth.best_bid_tick
        bat = depth.best_ask_tick
        if bbt <= -2147483647 or bat >= 2147483647 or bbt < 0:
            continue
        mid = 0.5 * (bbt + bat) * tick
        pos = hbt.position(0)
        r = mid - skew * pos
        bid_t = np.int64(np.floor((r - half_spread) / tick + 1e-9))
        ask_t = np.int64(np.ceil((r + half_spread) / tick - 1e-9))
        bid_t = min(bid_t, bbt)
        ask_t = max(ask_t, bat)
        orders = hbt.orders(0)
        # cancel acknowledged orders off the desired price
        values = orders.values()
        while values.has_next():
            o = values.get()
            if o.cancellable:
                off_bid = o.side == 1 and o.price_tick != bid_t
                if off_bid or (o.side == -1 and o.price_tick != ask_t):
                    hbt.cancel(0, o.order_id, False)
        for side in (1, -1):
            tk = bid_t if side == 1 else ask_t
            oid = np.uint64(tk * 2 + (0 if side == 1 else 1))
            if oid in orders:
                continue
            # exposure: position + live, pending and in-flight orders of the side
            expo = side * pos
            values = orders.values()
            while values.has_next():
                o = values.get()
                if o.side == side and o.status != 3 and o.status != 4 and o.status != 2:
                    expo += o.leaves_qty
            if expo + qty > max_pos + lot * 1e-9:
                continue
            if side == 1:
                hbt.submit_buy_order(0, oid, tk * tick, qty, 1, 0, False)
            else:
                hbt.submit_sell_order(0, oid, tk * tick, qty, 1, 0, False)
    return _record_filled(hbt, rec, n)
