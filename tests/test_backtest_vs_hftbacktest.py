"""Fill-by-fill agreement with hftbacktest 2.4 on a small synthetic stream.

Same events (``mmlab.data.synthetic``), the same fixed-spread strategy (mmlab's GridStrategy
kernel; the identical logic as an ``@njit`` function for hftbacktest), ``power_prob_queue_model
(2.0)``, constant 10 ms order latency, no partial fills, the same fees: every fill (exchange time,
side, price tick, quantity) must be the same in both tools — hftbacktest is the oracle.
"""

from __future__ import annotations

import numpy as np
import pytest

hftbacktest = pytest.importorskip("hftbacktest")

from numba import njit  # noqa: E402

from mmlab.backtest import GridStrategy, run  # noqa: E402
from mmlab.data import synthetic  # noqa: E402

LAT = 10_000_000
INTERVAL = 100_000_000

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


def test_fill_by_fill_agreement_with_hftbacktest():
    from hftbacktest import BacktestAsset, ROIVectorMarketDepthBacktest

    ev = synthetic.synthetic_l2_events(session_seconds=120.0, seed=4, trade_rate=3.0, sigma=0.03,
                                       latency_ms=2.0)
    tick, lot, qty, hs, skew, maxpos = 0.01, 1.0, 1.0, 0.01, 0.002, 5.0
    tp = ev["px"][(ev["ev"] & np.uint64(0xFF)) == 2]
    roi = (float(tp.min()) * 0.9, float(tp.max()) * 1.1)
    asset = (BacktestAsset().data([ev]).linear_asset(1.0).constant_order_latency(LAT, LAT)
             .power_prob_queue_model(2.0).no_partial_fill_exchange()
             .trading_value_fee_model(0.0002, 0.0005).tick_size(tick).lot_size(lot)
             .roi_lb(roi[0]).roi_ub(roi[1]))
    hbt = ROIVectorMarketDepthBacktest([asset])
    rec = np.zeros((10_000, 4), dtype=np.int64)
    n = hbt_grid(hbt, tick, lot, qty, hs, skew, maxpos, INTERVAL, rec)
    sv = hbt.state_values(0)
    ref_pos, ref_fee = float(sv.position), float(sv.fee)
    hbt.close()
    ref = sorted((int(t), int(s), int(p), int(q)) for t, s, p, q in rec[:n])

    res = run(ev, GridStrategy(half_spread=hs, order_qty=qty, skew=skew, clip="touch"),
              tick_size=tick, lot_size=lot, queue_model="power", queue_power=2.0,
              partial_fills=False, entry_latency=LAT, response_latency=LAT, interval=INTERVAL,
              maker_fee=0.0002, taker_fee=0.0005, max_position=maxpos, roi=roi)
    f = res.fills
    got = sorted((int(t), int(s), int(round(p / tick)), int(round(q * 1e6)))
                 for t, s, p, q in zip(f["ts"], f["side"], f["price"], f["qty"]))
    assert len(ref) > 50
    assert got == ref
    assert res.counters["position"] == pytest.approx(ref_pos, abs=1e-9)
    assert -res.pnl["fees"] == pytest.approx(ref_fee, rel=1e-9)
