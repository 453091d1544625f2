"""A user strategy in the one core (issue 10): a plain quote function of the fixed signature
``quote(state, params, out)``, compiled once into a cfunc that the loop calls through a function
pointer; it runs in the backtest, the step driver and its Python twin with the same results,
and a layered built-in strategy (1x / 2x / 4x, 40 / 35 / 25 %) runs through the same levels.

Reference values: the built-in grid (a user kernel quoting the same prices and sizes must
fill identically); ``mmlab.backtest.run`` for the driver's parity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmlab.backtest import (
    MS_MAX_POSITION,
    MS_MID,
    MS_POSITION,
    MS_STEP,
    GridStrategy,
    UserStrategy,
    quote_kernel,
    run,
)
from mmlab.data import load_binance, synthetic
from mmlab.errors import ConfigError
from mmlab.quoting import GLFTConfig
from mmlab.runtime import replay

MS = 1_000_000
BTC = dict(tick_size=0.1, lot_size=0.001, max_position=0.1, entry_latency=10 * MS,
           response_latency=10 * MS, maker_fee=0.0002, taker_fee=0.0005)


def grid_like(state, params, out):
    """The built-in grid's quote: mid -+ half_spread - skew x position, size each side."""
    r = state[MS_MID] - params[2] * state[MS_POSITION]
    out[0] = r - params[0]
    out[1] = params[1]
    out[2] = r + params[0]
    out[3] = params[1]


def ladder(state, params, out):
    """Three levels a side, 1 / 2 / 3 half-spreads away, the outer ones larger; nothing on
    the side whose limit the position has reached."""
    m = state[MS_MID]
    for j in range(3):
        d = params[0] * (j + 1)
        q = params[1] * (1.0 + j)
        if state[MS_POSITION] < state[MS_MAX_POSITION]:
            out[4 * j] = m - d
            out[4 * j + 1] = q
        if state[MS_POSITION] > -state[MS_MAX_POSITION]:
            out[4 * j + 2] = m + d
            out[4 * j + 3] = q


@pytest.fixture(scope="module")
def btc(data_dir):
    return load_binance(data_dir / "binance" / "usdm_btcusdt_20240808.gz")


def test_a_user_kernel_quoting_as_the_grid_fills_as_the_grid(btc):
    ref = run(btc, GridStrategy(half_spread=2.0, order_qty=0.01, skew=100.0), **BTC)
    user = UserStrategy(quote_kernel(grid_like), (2.0, 0.01, 100.0))
    res = run(btc, user, clip="touch", **BTC)  # the grid's clip to the touch
    assert len(ref.fills) >= 50
    pd.testing.assert_frame_equal(res.fills, ref.fills)
    assert res.pnl == ref.pnl
    assert res.params["strategy"] == "user:grid_like"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_user_ladder_replays_as_it_backtests(btc, seed):
    user = UserStrategy(ladder, (1.5, 0.005))
    ref = run(btc, user, **BTC)
    assert len(ref.fills) >= 50
    # levels at several distances: fills at prices 1, 2 and 3 half-spreads from the mid
    assert ref.fills["qty"].round(6).nunique() >= 2
    res = replay(btc, user, batch_seed=seed, **BTC)
    pd.testing.assert_frame_equal(res.fills, ref.fills)
    assert res.pnl == ref.pnl


def test_python_twin_of_a_user_kernel():
    ev = synthetic.synthetic_l2_events(session_seconds=20, seed=11, trade_rate=5.0)
    user = UserStrategy(ladder, (0.01, 1.0))
    kw = dict(tick_size=0.01, lot_size=1.0, max_position=4.0, entry_latency=MS,
              response_latency=MS)
    a = run(ev, user, **kw)
    b = run(ev, user, engine="python", **kw)
    assert len(a.fills) > 5
    pd.testing.assert_frame_equal(a.fills, b.fills)
    assert a.pnl == b.pnl


def test_layered_glft_replays_as_it_backtests_and_stays_in_limits(btc):
    glft = GLFTConfig(gamma=10.0, sigma_px=8.0, A=1.0, k=0.3, order_size=0.03, max_inventory=0.1)
    ref = run(btc, glft, layers=True, **BTC)
    one = run(btc, glft, **BTC)
    assert len(ref.fills) >= 50
    assert ref.summary()["max_abs_position"] <= 0.1 + 1e-12
    assert not ref.fills.equals(one.fills)
    # the ladder on the book: up to 3 levels a side, 40 / 35 / 25 % of 0.03 rounded down to
    # the 0.001 lot (0.012 / 0.010 / 0.007; less once partly filled)
    from mmlab.backtest import StepDriver

    d = StepDriver(glft, session_end=int(btc["local_ts"].max()), layers=True, **BTC)
    most = 0
    for i in range(0, 60_000, 500):
        d.feed(btc[i: i + 500].copy())
        snap = d.snapshot()
        for side in (snap["our_bids"], snap["our_asks"]):
            book = [o for o in side if o[2] != "pending_cancel"]
            most = max(most, len(book))
            assert all(q <= 0.012 + 1e-12 for _, q, _ in book)
            if len(book) == 3:
                sizes = sorted((q for _, q, state in book if state == "pending_new"),
                               reverse=True)
                assert all(q in (0.012, 0.010, 0.007) for q in sizes), sizes
    assert most == 3
    for seed in (0, 1, 2):
        res = replay(btc, glft, layers=True, batch_seed=seed, **BTC)
        pd.testing.assert_frame_equal(res.fills, ref.fills)
        assert res.pnl == ref.pnl


def test_refusals():
    with pytest.raises(ConfigError, match="quote"):
        quote_kernel(42)

    def bad(state, params, out):
        out[0] = undefined_name  # noqa: F821

    with pytest.raises(ConfigError, match="does not compile"):
        quote_kernel(bad)
    with pytest.raises(ConfigError, match="finite"):
        UserStrategy(grid_like, (np.nan,))
    ev = synthetic.synthetic_l2_events(session_seconds=2, seed=1)
    with pytest.raises(ConfigError, match="layers"):
        run(ev, GridStrategy(0.01, 1.0), layers=((1.0, 0.5), (0.5, 0.5)), tick_size=0.01)
    with pytest.raises(ConfigError, match="layers"):
        run(ev, UserStrategy(ladder, (0.01, 1.0)), layers=True, tick_size=0.01)


def out_of_bounds(state, params, out):
    """A bug: writes level 8 (out has levels 0-7) from step 20 on."""
    if state[MS_STEP] >= 20:
        out[4 * 8] = state[MS_MID]
    out[0] = state[MS_MID] - 0.05
    out[1] = 1.0


def ewma_mid(state, params, out):
    """Memory between decisions in the params slots after its own: an EWMA of the mid, quoted
    around (params[0] the half-spread, params[1] the size, params[2] the weight; params[10] the
    EWMA, params[11] its count)."""
    m = state[MS_MID]
    if params[11] == 0.0:
        params[10] = m
    else:
        params[10] = (1.0 - params[2]) * params[10] + params[2] * m
    params[11] += 1.0
    out[0] = min(params[10], m) - params[0]
    out[1] = params[1]
    out[2] = max(params[10], m) + params[0]
    out[3] = params[1]


def test_a_kernel_that_raises_halts_and_run_says_where():
    ev = synthetic.synthetic_l2_events(session_seconds=10, seed=3)
    kw = dict(tick_size=0.01, lot_size=1.0, max_position=5.0)
    for engine in ("numba", "python"):
        with pytest.raises(ConfigError, match=r"quote kernel raised.*\(step 20\)"):
            run(ev, UserStrategy(out_of_bounds, ()), engine=engine, **kw)
    from mmlab.backtest import StepDriver

    d = StepDriver(UserStrategy(out_of_bounds, ()), session_end=int(ev["local_ts"].max()), **kw)
    d.feed(ev.copy())
    snap = d.snapshot()
    assert snap["halted"] and "quote_kernel_error" in snap["breakers"]
    res = d.finish()
    assert list(res.risk_events["kind"]) == ["quote_kernel_error"]
    assert res.counters["cancelled"] >= 0 and d.snapshot()["working_orders"] == 0


def test_memory_in_params_is_the_same_compiled_and_in_python():
    ev = synthetic.synthetic_l2_events(session_seconds=60, seed=8, trade_rate=8.0)
    kw = dict(tick_size=0.01, lot_size=1.0, max_position=4.0)
    user = UserStrategy(ewma_mid, (0.0, 1.0, 0.2))
    a = run(ev, user, **kw)
    b = run(ev, user, engine="python", **kw)
    c = replay(ev, user, batch_rows=(1, 40), **kw)
    assert len(a.fills) > 5
    pd.testing.assert_frame_equal(a.fills, b.fills)
    pd.testing.assert_frame_equal(a.fills, c.fills)
    # each run starts from zeroed memory: the same strategy object runs twice identically
    pd.testing.assert_frame_equal(run(ev, user, **kw).fills, a.fills)
