"""Fill-by-fill agreement with hftbacktest 2.4 on a small synthetic stream.

Same events (``mmlab.data.synthetic``), the same fixed-spread strategy (mmlab's GridStrategy
kernel; the identical logic as an ``@njit`` function for hftbacktest), ``power_prob_queue_model
(2.0)``, constant 10 ms order latency, no partial fills, the same fees: every fill (exchange time,
side, price tick, quantity) must be the same in both tools — hftbacktest is the oracle.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

hftbacktest = pytest.importorskip("hftbacktest")

from mmlab.backtest import GridStrategy, run  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))  # the reference strategy
from hbt_reference import hbt_grid  # noqa: E402  (bench/hbt_reference.py, shared with the bench)

from mmlab.data import synthetic  # noqa: E402

LAT = 10_000_000
INTERVAL = 100_000_000


def test_fill_by_fill_agreement_with_hftbacktest():
    from hftbacktest import BacktestAsset, ROIVectorMarketDepthBacktest

    ev = synthetic.synthetic_l2_events(session_seconds=120.0, seed=4, trade_rate=3.0, sigma_px=0.03,
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
              maker_fee=0.0002, taker_fee=0.0005, max_position=maxpos, roi=roi,
              # hftbacktest has no toxicity response and no self-trade prevention
              toxicity_window=0, self_trade_prevention=False)
    f = res.fills
    got = sorted((int(t), int(s), int(round(p / tick)), int(round(q * 1e6)))
                 for t, s, p, q in zip(f["ts"], f["side"], f["price"], f["qty"], strict=True))
    assert len(ref) > 50
    assert got == ref
    assert res.counters["position"] == pytest.approx(ref_pos, abs=1e-9)
    assert -res.pnl["fees"] == pytest.approx(ref_fee, rel=1e-9)
