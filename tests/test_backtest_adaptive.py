"""The adaptive-spread strategy as an engine kernel.

Reference: :func:`mmlab.quoting.adaptive_quote_kernel_python` (the quoting issue's formula)
fed with a volatility recomputed here, independently of the engine, from the step table's local
mids (EWMA of squared changes, half-life ``ADAPTIVE_VOL_HALFLIFE`` steps, per second); prices
rounded like every engine strategy (bid down, ask up to the tick; never crossing the local book).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mmlab.backtest import run
from mmlab.backtest.engine._strategies import ADAPTIVE_VOL_HALFLIFE, ADAPTIVE_VOL_MIN_STEPS
from mmlab.data import synthetic
from mmlab.quoting import AdaptiveSpreadConfig, AdaptiveSpreadStrategy, adaptive_quote_kernel_python

TICK = 0.01
INTERVAL = 100_000_000
CFG = AdaptiveSpreadConfig(base_spread=0.04, vol_ref=0.03, inventory_skew=0.5,
                           competition_weight=0.5, max_inventory=5.0, order_size=1.0)


@pytest.fixture(scope="module")
def result():
    # no feed latency: the step table's exchange best bid/ask is the local book the kernel saw
    ev = synthetic.synthetic_l2_events(session_seconds=60.0, seed=5, trade_rate=6.0, sigma_px=0.03,
                                       latency_ms=0.0)
    return run(ev, CFG, tick_size=TICK, lot_size=1.0, interval=INTERVAL)


def test_quotes_follow_the_formula_with_an_independent_volatility(result):
    st = result.steps
    assert len(st) > 500 and len(result.fills) > 20
    lam = 1.0 - 0.5 ** (1.0 / ADAPTIVE_VOL_HALFLIFE)
    dt = INTERVAL / 1e9
    p = CFG.params()
    prev, ew, n = math.nan, 0.0, 0
    checked = 0
    for row in st.itertuples():
        m = row.local_mid
        if not math.isfinite(m):
            continue
        if math.isfinite(prev):
            d = m - prev
            ew = d * d if n == 0 else (1 - lam) * ew + lam * d * d
            n += 1
        prev = m
        vol = math.sqrt(ew / dt) if n >= ADAPTIVE_VOL_MIN_STEPS else math.nan
        b, a, bq, aq = adaptive_quote_kernel_python(m, row.local_position, 0.0, row.best_bid,
                                                    row.best_ask, vol, p)
        bt = math.floor(b / TICK + 1e-9) if math.isfinite(b) and bq > 0 else None
        at = math.ceil(a / TICK - 1e-9) if math.isfinite(a) and aq > 0 else None
        # 'passive' clip: never at or through the opposite local best
        if bt is not None:
            bt = min(bt, round(row.best_ask / TICK) - 1)
            assert row.quote_bid == pytest.approx(bt * TICK, abs=1e-9), row
        else:
            assert math.isnan(row.quote_bid), row
        if at is not None:
            at = max(at, round(row.best_bid / TICK) + 1)
            assert row.quote_ask == pytest.approx(at * TICK, abs=1e-9), row
        else:
            assert math.isnan(row.quote_ask), row
        checked += 1
    assert checked > 500


def test_volatility_widens_and_inventory_skews(result):
    st = result.steps.dropna(subset=["quote_bid", "quote_ask"])
    # the first ADAPTIVE_VOL_MIN_STEPS steps quote with vol_mult_max: wider than later on average
    early = (st.quote_ask - st.quote_bid).iloc[:ADAPTIVE_VOL_MIN_STEPS].mean()
    late = (st.quote_ask - st.quote_bid).iloc[ADAPTIVE_VOL_MIN_STEPS:].mean()
    assert early >= late
    long_ = st[st.local_position >= 2]
    assert len(long_) > 20
    # a long book bids further below the mid than it offers above it (on average: single rows
    # are moved by tick rounding and the passive clip at the opposite best)
    assert (long_.local_mid - long_.quote_bid).mean() > (long_.quote_ask - long_.local_mid).mean()


def test_strategy_object_numba_and_python_twin_agree():
    ev = synthetic.synthetic_l2_events(session_seconds=8.0, seed=2, trade_rate=6.0, sigma_px=0.03)
    kw = dict(tick_size=TICK, lot_size=1.0, entry_latency=2_000_000, response_latency=2_000_000)
    a = run(ev, AdaptiveSpreadStrategy(CFG), **kw)
    b = run(ev, CFG, engine="python", **kw)
    pd.testing.assert_frame_equal(a.fills, b.fills)
    pd.testing.assert_frame_equal(a.steps, b.steps)
    assert a.pnl == b.pnl
    assert a.params["strategy"] == "adaptive"
    np.testing.assert_allclose(a.pnl["total"], sum(v for k, v in a.pnl.items() if k != "total"))
