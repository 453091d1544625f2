"""The depth strategy in the compiled core (issue 10): ``mmlab.backtest.run(events,
DepthConfig(...))`` quotes as :func:`mmlab.quoting.depth_quote_kernel_python` on the local
book's depth (the market-state record's first ``DEPTH_LEVELS`` levels a side), and replays on
BTCUSDT with the fills, PnL and final position of the backtest, through the paper step driver
and the loopback venue alike.

Reference values: computed by hand from the module docstring of ``mmlab.quoting._depth`` (the
walk to the cumulative ``target_depth``, ``improve_ticks`` towards the spread, post-only pull)
and checked against ``depth_quote_kernel_python``; ``mmlab.backtest.run`` for the replay's
parity (as tests/test_step_driver.py).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mmlab.backtest import DEPTH_LEVELS, STRATEGY_CLASSES, run, strategy_class
from mmlab.data import (
    BUY_EVENT,
    DEPTH_EVENT,
    EVENT_DTYPE,
    EXCH_EVENT,
    LOCAL_EVENT,
    SELL_EVENT,
    load_binance,
)
from mmlab.quoting import DepthConfig, DepthStrategy, depth_quote_kernel_python
from mmlab.runtime import replay

MS = 1_000_000
T0 = 1_700_000_000_000_000_000
# Binance USD-M VIP 0 maker/taker, 10 ms order latency each way (as tests/test_step_driver.py)
BTC = dict(tick_size=0.1, lot_size=0.001, max_position=0.1, entry_latency=10 * MS,
           response_latency=10 * MS, maker_fee=0.0002, taker_fee=0.0005)
HAND = dict(tick_size=0.1, lot_size=1.0, max_position=10.0, record_every=1)


def _book(bids, asks):
    """Events setting ``bids`` / ``asks`` ((price, qty) rows) at T0, then one more row at
    350 ms (so the strategy wakes at 100, 200 and 300 ms on an unchanged book)."""
    rows = [(0, BUY_EVENT, p, q) for p, q in bids] + [(0, SELL_EVENT, p, q) for p, q in asks]
    rows.append((350, BUY_EVENT, bids[0][0], bids[0][1]))
    ev = np.zeros(len(rows), EVENT_DTYPE)
    for i, (ms, flag, p, q) in enumerate(rows):
        ev[i] = (DEPTH_EVENT | EXCH_EVENT | LOCAL_EVENT | flag, T0 + ms * MS, T0 + ms * MS, p, q,
                 0, i, 0.0)
    return ev


def _reference(bids, asks, c: DepthConfig):
    """depth_quote_kernel_python on the book, best levels first, position 0."""
    bids = sorted(bids, key=lambda r: -r[0])
    asks = sorted(asks)
    b, a, _, _ = depth_quote_kernel_python(
        np.array([p for p, _ in bids]), np.array([q for _, q in bids]),
        np.array([p for p, _ in asks]), np.array([q for _, q in asks]), 0.0, c.target_depth,
        c.tick, c.improve_ticks, c.skew_ticks, c.max_inventory, c.order_size)
    return b, a


BOOK = ([(99.9, 1.0), (99.8, 2.0), (99.7, 5.0)], [(100.1, 4.0), (100.2, 1.0), (100.3, 1.0)])
SPARSE = ([(99.0, 1.0), (98.0, 1.0)], [(101.0, 2.0), (103.0, 5.0)])
CASES = [
    # cumulative bids 1, 3 -> 99.8; asks 4 >= 3 at the touch -> 100.1
    (BOOK, DepthConfig(target_depth=3.0, tick=0.1), (99.8, 100.1)),
    # one tick in front: 99.8 + 0.1 = 99.9 (still below the best ask), 100.1 - 0.1 = 100.0
    (BOOK, DepthConfig(target_depth=3.0, tick=0.1, improve_ticks=1), (99.9, 100.0)),
    # bids 1, 3, 8 -> 99.7; asks 4, 5, 6 < 7 -> no ask
    (BOOK, DepthConfig(target_depth=7.0, tick=0.1), (99.7, math.nan)),
    # empty ticks between levels: bids 1, 2 -> 98.0 + 2 ticks = 98.2; asks 2 -> 101.0 - 0.2
    (SPARSE, DepthConfig(target_depth=2.0, tick=0.1, improve_ticks=2), (98.2, 100.8)),
    # 25 ticks in front of the touch: the bid 99.0 + 2.5 = 101.5 is at or above the best ask,
    # pulled to 101.0 - 0.1 = 100.9; the ask 101.0 - 2.5 = 98.5 at or below the best bid, pushed
    # to 99.0 + 0.1 = 99.1; then the bid >= ask is pulled to 99.1 - 0.1 = 99.0
    (SPARSE, DepthConfig(target_depth=1.0, tick=0.1, improve_ticks=25), (99.0, 99.1)),
]


@pytest.mark.parametrize("engine", ["numba", "python"])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_the_core_quotes_as_the_depth_kernel_on_hand_built_books(case, engine):
    (bids, asks), cfg, (hb, ha) = CASES[case]
    rb, ra = _reference(bids, asks, cfg)
    assert rb == pytest.approx(hb, abs=1e-9, nan_ok=True)  # the hand values are the kernel's
    assert ra == pytest.approx(ha, abs=1e-9, nan_ok=True)
    res = run(_book(bids, asks), cfg, engine=engine, **HAND)
    assert res.params["strategy"] == "depth"
    st = res.steps
    assert len(st) >= 2
    np.testing.assert_allclose(st["quote_bid"], hb, atol=1e-9)  # NaN where not quoted
    np.testing.assert_allclose(st["quote_ask"], ha, atol=1e-9)
    # the same through the DepthStrategy object
    res2 = run(_book(bids, asks), DepthStrategy(cfg), engine=engine, **HAND)
    pd.testing.assert_frame_equal(res2.steps, st)


def test_the_record_carries_depth_levels_a_side():
    """25 bid levels of 1 each (99.9 down to 97.5): a target of DEPTH_LEVELS (20) stands
    behind the 20th level, 99.9 - 1.9 = 98.0; one more is beyond the carried depth (no bid),
    though the full book has it (the Python kernel on 25 levels quotes 97.9)."""
    assert DEPTH_LEVELS == 20
    bids = [(round(99.9 - 0.1 * i, 1), 1.0) for i in range(25)]
    asks = [(100.1, 50.0)]
    st = run(_book(bids, asks), DepthConfig(target_depth=20.0, tick=0.1), **HAND).steps
    np.testing.assert_allclose(st["quote_bid"], 98.0, atol=1e-9)
    np.testing.assert_allclose(st["quote_ask"], 100.1, atol=1e-9)
    deep = DepthConfig(target_depth=21.0, tick=0.1)
    assert _reference(bids, asks, deep)[0] == pytest.approx(97.9)
    st = run(_book(bids, asks), deep, **HAND).steps
    assert st["quote_bid"].isna().all()
    np.testing.assert_allclose(st["quote_ask"], 100.1, atol=1e-9)


def test_depth_is_a_registered_strategy():
    assert STRATEGY_CLASSES["depth"] == ("mmlab.quoting", "DepthConfig")
    assert strategy_class("depth") is DepthConfig


# the depth quote behind 2 BTC of resting size, one tick in front, skewed 50 ticks per BTC
DEPTH = DepthConfig(target_depth=2.0, tick=0.1, improve_ticks=1, skew_ticks=50.0,
                    order_size=0.01, max_inventory=0.1)


@pytest.fixture(scope="module")
def btc(data_dir):
    return load_binance(data_dir / "binance" / "usdm_btcusdt_20240808.gz")


@pytest.fixture(scope="module")
def reference(btc):
    return run(btc, DEPTH, **BTC)


def _same(res, ref):
    if res.params["driver"] == "loopback":  # ``seq`` orders the venue's own actions only
        pd.testing.assert_frame_equal(res.fills.drop(columns="seq"), ref.fills.drop(columns="seq"))
    else:
        pd.testing.assert_frame_equal(res.fills, ref.fills)
    assert res.pnl == ref.pnl
    assert res.summary()["final_position"] == ref.summary()["final_position"]


@pytest.mark.parametrize("venue", ["paper", "loopback"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_depth_replays_as_it_backtests_on_btcusdt(btc, reference, seed, venue):
    assert len(reference.fills) >= 50, len(reference.fills)
    assert reference.params["strategy"] == "depth"
    res = replay(btc, DEPTH, batch_seed=seed, venue=venue, **BTC)
    assert res.params["driver"] == ("step" if venue == "paper" else "loopback")
    _same(res, reference)
