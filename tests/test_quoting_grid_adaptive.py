"""Grid and adaptive-spread strategies: formulas, bounds, never-crossed, kernel twins."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmlab.errors import ConfigError
from mmlab.quoting import (
    AdaptiveSpreadConfig,
    AdaptiveSpreadStrategy,
    GridConfig,
    GridStrategy,
    MarketState,
    QuotingStrategy,
    adaptive_quote_kernel,
    adaptive_quote_kernel_python,
    grid_ladder_kernel,
    grid_ladder_kernel_python,
)

# ------------------------------------------------------------------------------------ grid


def test_grid_levels_by_hand():
    strat = GridStrategy(GridConfig(step=0.25, n_levels=3, order_qty=2.0, anchor=0.1))
    lad = strat.ladder(MarketState(mid=10.0))
    # grid 0.1 + 0.25 j: ... 9.35, 9.6, 9.85 | 10.1, 10.35, 10.6
    np.testing.assert_allclose(lad.bids, [9.85, 9.6, 9.35])
    np.testing.assert_allclose(lad.asks, [10.1, 10.35, 10.6])
    assert lad.bid_sizes.tolist() == [2.0] * 3 == lad.ask_sizes.tolist()
    assert isinstance(strat, QuotingStrategy)
    assert strat.quote(MarketState(mid=10.0)) == lad.top()
    assert len(lad.levels()) == 6


def test_grid_mid_on_a_level_is_not_quoted_at_the_mid():
    lad = GridStrategy(GridConfig(step=0.1, n_levels=1)).ladder(MarketState(mid=100.0))
    assert lad.bids[0] < 100.0 < lad.asks[0]
    assert math.isclose(lad.bids[0], 99.9) and math.isclose(lad.asks[0], 100.1)


def test_grid_inventory_skew_and_size_decay():
    cfg = GridConfig(step=0.1, n_levels=2, order_qty=1.0, skew=2.0, max_inventory=10)
    flat = GridStrategy(cfg).ladder(MarketState(mid=100.05, inventory=0.0))
    long_ = GridStrategy(cfg).ladder(MarketState(mid=100.05, inventory=3.0))
    # long 3 -> centre 100.05 - 0.6 = 99.45: bids move down 6 steps, asks stay just above mid
    np.testing.assert_allclose(long_.bids, [99.4, 99.3])
    np.testing.assert_allclose(long_.asks, flat.asks)
    np.testing.assert_allclose(long_.bid_sizes, [0.7, 0.7])  # 1 - 3/10
    np.testing.assert_allclose(long_.ask_sizes, [1.0, 1.0])


def test_grid_bound_counts_every_resting_level():
    cfg = GridConfig(step=1.0, n_levels=5, order_qty=3.0, max_inventory=10)
    lad = GridStrategy(cfg).ladder(MarketState(mid=50.5, inventory=6.0))
    # room 4, size factor 0.4 -> 1.2 per level: 1.2, 1.2, 1.2, 0.4, 0
    np.testing.assert_allclose(lad.bid_sizes, [1.2, 1.2, 1.2, 0.4, 0.0], atol=1e-12)
    assert math.isnan(lad.bids[4])
    full = GridStrategy(cfg).ladder(MarketState(mid=50.5, inventory=10.0))
    assert not full.bid_sizes.any() and np.isnan(full.bids).all() and full.ask_sizes.sum() > 0


@settings(max_examples=200, deadline=None)
@given(mid=st.floats(1.0, 1e4), q=st.floats(-30, 30), step=st.floats(1e-3, 5.0),
       n=st.integers(1, 6), size=st.floats(0.1, 5.0), anchor=st.floats(-10, 10),
       skew=st.floats(0, 3), qmax=st.one_of(st.just(math.inf), st.floats(1.0, 25.0)))
def test_grid_properties(mid, q, step, n, size, anchor, skew, qmax):
    a = grid_ladder_kernel(mid, q, step, n, size, anchor, skew, qmax)
    b = grid_ladder_kernel_python(mid, q, step, n, size, anchor, skew, qmax)
    np.testing.assert_allclose(a, b, rtol=1e-12, equal_nan=True)
    bids, asks, bs, az = a.T
    qb, qa = bs > 0, az > 0
    assert np.all(bids[qb] < mid) and np.all(asks[qa] > mid)          # never crossed, post-only
    assert np.all(np.isnan(bids[~qb])) and np.all(np.isnan(asks[~qa]))
    assert q + bs.sum() <= max(qmax, q) + 1e-9 and q - az.sum() >= min(-qmax, q) - 1e-9
    j = (bids[qb] - anchor) / step                                      # on the grid
    np.testing.assert_allclose(j, np.round(j), atol=1e-6 * max(1.0, abs(mid) / step))
    assert np.all(np.diff(bids[qb]) < 0) and np.all(np.diff(asks[qa]) > 0)


@pytest.mark.parametrize("kw", [dict(step=0.0), dict(step=1.0, n_levels=1.5), dict(step=1.0, skew=-1.0),
                                dict(step=1.0, order_qty=0.0), dict(step=1.0, anchor=math.nan)])
def test_grid_config_validation(kw):
    with pytest.raises(ConfigError):
        GridConfig(**kw)


@pytest.mark.parametrize("old", ["level_size", "order_size"])
def test_grid_config_old_size_keyword_names_order_qty(old):
    # issue 10's one vocabulary: the per-level size is order_qty, as on mmlab.backtest.GridStrategy
    with pytest.raises(ConfigError, match=rf"GridConfig\({old}=\.\.\.\): renamed order_qty"):
        GridConfig(step=1.0, **{old: 2.0})
    assert GridConfig(step=1.0, order_qty=2.0).order_qty == 2.0


# -------------------------------------------------------------------------------- adaptive


def test_adaptive_by_hand_all_factors():
    cfg = AdaptiveSpreadConfig(base_spread=0.4, maker_fee=0.0001, min_edge=0.005, vol_ref=0.5,
                               inventory_skew=0.8, competition_weight=1.0, competition_min=0.5,
                               max_inventory=20, order_size=2.0)
    strat = AdaptiveSpreadStrategy(cfg)
    q = strat.quote(MarketState(mid=100.0, inventory=5.0, best_bid=99.85, best_ask=100.15,
                                volatility=0.75))
    # m_vol = 1.5 -> half 0.3; market half 0.15 -> c = 0.5 -> 0.15; u = 0.25
    # bid half 0.15 * 1.2 = 0.18, ask half 0.15 * 0.8 = 0.12 (floor 100*1e-4 + 0.005 = 0.015)
    assert math.isclose(100.0 - q.bid, 0.18, rel_tol=1e-12)
    assert math.isclose(q.ask - 100.0, 0.12, rel_tol=1e-12)
    assert q.bid_size == 2.0 == q.ask_size


def test_adaptive_fee_floor_and_unknown_volatility():
    cfg = AdaptiveSpreadConfig(base_spread=0.02, maker_fee=0.0002, vol_ref=1.0, vol_mult_max=3.0,
                               inventory_skew=1.0, max_inventory=10)
    strat = AdaptiveSpreadStrategy(cfg)
    q = strat.quote(MarketState(mid=100.0, inventory=10.0 - 1.0, volatility=1.0))
    assert math.isclose(q.ask - 100.0, 0.02, rel_tol=1e-12)  # floor 100 * 2e-4 wins over 0.001
    unknown = strat.quote(MarketState(mid=100.0, inventory=0.0))
    assert math.isclose(unknown.ask - 100.0, 0.01 * 3.0, rel_tol=1e-12)  # widest when NaN vol
    rebate = AdaptiveSpreadStrategy(AdaptiveSpreadConfig(base_spread=0.02, maker_fee=-0.0002,
                                                         inventory_skew=1.0, max_inventory=10))
    r = rebate.quote(MarketState(mid=100.0, inventory=9.0))
    assert r.ask - 100.0 >= 0.0 and r.bid < r.ask


def test_adaptive_competition_only_tightens():
    cfg = AdaptiveSpreadConfig(base_spread=0.2, competition_weight=1.0, competition_min=0.25)
    s = AdaptiveSpreadStrategy(cfg)
    wide = s.quote(MarketState(mid=100.0, best_bid=99.0, best_ask=101.0))
    tight = s.quote(MarketState(mid=100.0, best_bid=99.999, best_ask=100.001))
    assert math.isclose(wide.ask - 100.0, 0.1) and math.isclose(tight.ask - 100.0, 0.025)


@settings(max_examples=200, deadline=None)
@given(mid=st.floats(1.0, 1e5), q=st.floats(-40, 40), base=st.floats(1e-4, 10.0),
       fee=st.floats(-1e-3, 1e-3), edge=st.floats(0, 1.0), vol=st.one_of(st.just(math.nan), st.floats(0, 10)),
       kappa=st.floats(0, 3), w=st.floats(0, 1), spread=st.one_of(st.just(math.nan), st.floats(1e-6, 10)),
       qmax=st.one_of(st.just(math.inf), st.floats(1.0, 30.0)))
def test_adaptive_properties(mid, q, base, fee, edge, vol, kappa, w, spread, qmax):
    cfg = AdaptiveSpreadConfig(base_spread=base, maker_fee=fee, min_edge=edge, vol_ref=1.0,
                               inventory_skew=kappa, competition_weight=w, max_inventory=qmax)
    p = cfg.params()
    bb, ba = mid - spread / 2, mid + spread / 2
    a = adaptive_quote_kernel(mid, q, 0.0, bb, ba, vol, p)
    b = adaptive_quote_kernel_python(mid, q, 0.0, bb, ba, vol, p)
    np.testing.assert_allclose(a, b, rtol=1e-12, equal_nan=True)
    bid, ask, bs, az = a
    floor = max(mid * fee + edge, 0.0)
    if bs > 0:
        assert mid - bid >= floor - 1e-12 * mid and q + bs <= qmax
    if az > 0:
        assert ask - mid >= floor - 1e-12 * mid and q - az >= -qmax
    if bs > 0 and az > 0:
        assert bid < ask
    assert (bs > 0) == (not math.isnan(bid)) and (az > 0) == (not math.isnan(ask))


def test_adaptive_quote_many_matches_quote():
    cfg = AdaptiveSpreadConfig(base_spread=0.3, vol_ref=1.0, inventory_skew=0.5, competition_weight=0.5,
                               max_inventory=5)
    s = AdaptiveSpreadStrategy(cfg)
    rng = np.random.default_rng(0)
    n = 200
    m, q, v = 100 + rng.normal(size=n), rng.integers(-6, 7, n).astype(float), rng.random(n) * 2
    many = s.quote_many(m, q, 0.0, m - 0.05, m + 0.05, v)
    one = np.array([tuple(s.quote(MarketState(m[i], q[i], 0.0, m[i] - 0.05, m[i] + 0.05, v[i])))
                    for i in range(n)])
    np.testing.assert_allclose(many, one, rtol=1e-13, equal_nan=True)


@pytest.mark.parametrize("kw", [dict(base_spread=0.0), dict(base_spread=1.0, maker_fee=1.5),
                                dict(base_spread=1.0, vol_ref=0.0), dict(base_spread=1.0, competition_min=0.0),
                                dict(base_spread=1.0, vol_mult_min=5.0, vol_mult_max=2.0),
                                dict(base_spread=1.0, min_edge=-0.1)])
def test_adaptive_config_validation(kw):
    with pytest.raises(ConfigError):
        AdaptiveSpreadConfig(**kw)


# ------------------------------------------------------------- bad state -> no quote


def test_every_strategy_quotes_nothing_on_a_bad_state():
    from mmlab.quoting import (
        AvellanedaStoikovConfig,
        AvellanedaStoikovInfiniteConfig,
        AvellanedaStoikovInfiniteStrategy,
        AvellanedaStoikovStrategy,
        GLFTConfig,
        GLFTStrategy,
    )

    strategies = [
        AvellanedaStoikovStrategy(AvellanedaStoikovConfig(0.1, 2.0, 1.5)),
        AvellanedaStoikovInfiniteStrategy(AvellanedaStoikovInfiniteConfig(0.1, 2.0, 1.5, max_inventory=5)),
        GLFTStrategy(GLFTConfig(0.01, 0.3, 0.9, 0.3)),
        AdaptiveSpreadStrategy(AdaptiveSpreadConfig(base_spread=0.1)),
        GridStrategy(GridConfig(step=0.1)),
    ]
    bad = [MarketState(math.nan, 0.0, 0.5), MarketState(100.0, math.inf, 0.5),
           MarketState(100.0, math.nan, 0.5)]
    for strat in strategies:
        for state in bad:
            q = strat.quote(state)
            assert q.bid_size == 0.0 == q.ask_size and not q.has_bid and not q.has_ask
    nan_tau = strategies[0].quote(MarketState(100.0, 0.0, math.nan))
    assert not nan_tau.has_bid and not nan_tau.has_ask
    past = strategies[0].quote(MarketState(100.0, 0.0, -1.0))  # past the horizon: T - t = 0
    assert past.has_bid and math.isclose(past.ask - past.bid, 20 * math.log(1 + 0.1 / 1.5))


# ----------------------------------------------------------------------------------- depth

from mmlab.errors import DataError  # noqa: E402
from mmlab.quoting import DepthConfig, DepthStrategy, depth_quote_kernel, depth_quote_kernel_python  # noqa: E402

BOOK = ([99.9, 99.8, 99.7, 99.6], [1.0, 2.0, 5.0, 9.0], [100.1, 100.2, 100.3], [4.0, 1.0, 1.0])


def test_depth_by_hand():
    s = DepthStrategy(DepthConfig(target_depth=6.0, tick=0.1, order_size=2.0))
    q = s.quote(MarketState(mid=100.0, depth=BOOK))
    assert math.isclose(q.bid, 99.7) and math.isclose(q.ask, 100.3) and q.bid_size == 2.0
    deep = DepthStrategy(DepthConfig(target_depth=50.0, tick=0.1)).quote(MarketState(100.0, depth=BOOK))
    assert not deep.has_bid and not deep.has_ask  # not enough resting size on either side


def test_depth_skew_and_post_only():
    s = DepthStrategy(DepthConfig(target_depth=1.0, tick=0.1, skew_ticks=1.0, max_inventory=10))
    long_ = s.quote(MarketState(mid=100.0, inventory=3.0, depth=BOOK))
    # best levels 99.9 / 100.1 shifted down 3 ticks; ask 99.8 <= best bid -> best bid + tick
    assert math.isclose(long_.bid, 99.6) and math.isclose(long_.ask, 100.0)
    short = s.quote(MarketState(mid=100.0, inventory=-3.0, depth=BOOK))
    assert math.isclose(short.bid, 100.0) and math.isclose(short.ask, 100.4)
    assert not s.quote(MarketState(100.0, inventory=10.0, depth=BOOK)).has_bid


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 6), m=st.integers(0, 6), spread=st.integers(1, 5), target=st.floats(0.1, 20),
       improve=st.integers(0, 6), skew=st.floats(0, 3), q=st.floats(-8, 8), seed=st.integers(0, 1000))
def test_depth_properties(n, m, spread, target, improve, skew, q, seed):
    rng = np.random.default_rng(seed)
    tick = 0.5
    bp = 100.0 - tick * np.arange(n)
    ap = 100.0 + spread * tick + tick * np.arange(m)
    bq, aq = rng.uniform(0.1, 5, n), rng.uniform(0.1, 5, m)
    args = (q, target, tick, improve, skew, 5.0, 1.0)
    a = depth_quote_kernel(bp, bq, ap, aq, *args)
    b = depth_quote_kernel_python(bp, bq, ap, aq, *args)
    np.testing.assert_allclose(a, b, equal_nan=True)
    bid, ask, bs, az = a
    if bs > 0:
        assert (m == 0 or bid < ap[0]) and q + bs <= 5.0 and np.cumsum(bq)[-1] >= target
        j = (bid - 100.0) / tick
        assert abs(j - round(j)) < 1e-9  # on the tick grid
    if az > 0:
        assert (n == 0 or ask > bp[0]) and q - az >= -5.0
    if bs > 0 and az > 0:
        assert bid < ask


def test_depth_bad_book():
    s = DepthStrategy(DepthConfig(target_depth=1.0, tick=0.1))
    with pytest.raises(DataError, match="depth"):
        s.quote(MarketState(mid=100.0))
    with pytest.raises(DataError, match="row 1"):
        s.quote(MarketState(100.0, depth=([99.9, 99.8], [1.0, -1.0], [100.1], [1.0])))
    with pytest.raises(DataError, match="lengths"):
        s.quote(MarketState(100.0, depth=([99.9, 99.8], [1.0], [100.1], [1.0])))
    with pytest.raises(ConfigError):
        DepthConfig(target_depth=1.0, tick=0.1, improve_ticks=-1)
