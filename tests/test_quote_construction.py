"""Quote construction: layers, skews, microstructure offsets, rounding, edge filter, validation.

Reference values are hand-computed from the formulas documented in
``mmlab/quoting/_construction.py`` and ``_layers.py`` (each computation is written next to its
assert); tick/lot/fee figures are the shipped instrument master's (``mmlab/data/instruments.toml``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmlab.data import default_master, get_instrument
from mmlab.errors import ConfigError, QuoteValidationError
from mmlab.quoting import (
    AvellanedaStoikovConfig,
    AvellanedaStoikovStrategy,
    LayerConfig,
    LayeredQuoter,
    LayeredStrategy,
    MarketState,
    book_imbalance,
    build_ladder_kernel,
    build_ladder_kernel_python,
    edge_beats_fee,
    imbalance_offset,
    inventory_price_skew,
    inventory_size_factor,
    maker_fee_per_unit,
    maker_fee_terms,
    queue_offset,
    quote_violation,
    quote_violation_python,
    round_price_down,
    round_price_up,
    tick_arrays,
    validate_quotes,
    volatility_offset,
)

PERP = get_instrument("BINANCE_USDM:BTCUSDT")  # tick 0.1, lot 0.001, maker 2 bps
AAPL = get_instrument("NASDAQ:AAPL")  # tick 0.01, lot 1, maker rebate 0.002 USD/share
SPXW = default_master().option("SPXW", "2023-09-15", 4500, "C")  # ticks 0.05 < 3 <= 0.10, 0.65/contract
DERIBIT = default_master().option("BTC", "2020-05-22", 9250, "P")  # tick 0.0005, lot 0.1, 0.03 % underlying
INSTRUMENTS = [PERP, AAPL, SPXW, DERIBIT]

NOFEE = LayerConfig(size=100.0, fee_aware=False)


def book(mid, half, bq=math.nan, aq=math.nan, **kw):
    depth = None
    if math.isfinite(bq) or math.isfinite(aq):
        depth = (np.array([mid - half]), np.array([bq]), np.array([mid + half]), np.array([aq]))
    return MarketState(mid=mid, best_bid=mid - half, best_ask=mid + half, depth=depth, **kw)


# ------------------------------------------------------------------ the small formulas


def test_imbalance_is_the_microprice_shift():
    # Q_b = 30, Q_a = 10: I = 20/40 = 0.5; bid 99, ask 101: microprice (101*30 + 99*10)/40 = 100.5
    assert book_imbalance(30.0, 10.0) == 0.5
    assert imbalance_offset(30.0, 10.0, 99.0, 101.0, 1.0) == pytest.approx(100.5 - 100.0)
    assert imbalance_offset(10.0, 30.0, 99.0, 101.0, 0.5) == pytest.approx(-0.25)
    # unknown or empty book: no shift
    assert imbalance_offset(math.nan, 3.0, 99.0, 101.0, 1.0) == 0.0
    assert imbalance_offset(0.0, 0.0, 99.0, 101.0, 1.0) == 0.0
    assert imbalance_offset(1.0, 3.0, math.nan, 101.0, 1.0) == 0.0


def test_queue_volatility_and_inventory_formulas():
    # 1 - 25/100 = 0.75 of coef 2 ticks of 0.01 = 0.015
    assert queue_offset(25.0, 100.0, 0.01, 2.0) == pytest.approx(0.015)
    assert queue_offset(0.0, 100.0, 0.01, 2.0) == pytest.approx(0.02)
    assert queue_offset(150.0, 100.0, 0.01, 2.0) == 0.0
    # 0.5 * 0.2 * sqrt(4) = 0.2
    assert volatility_offset(0.2, 4.0, 0.5) == pytest.approx(0.2)
    assert volatility_offset(math.nan, 4.0, 0.5) == 0.0
    # -0.1 * 2 * 0.5 = -0.1; short inventory raises the centre
    assert inventory_price_skew(2.0, 0.5, 0.1) == pytest.approx(-0.1)
    assert inventory_price_skew(-2.0, 0.5, 0.1) == pytest.approx(0.1)
    # long 5 of 10: bids x (1 - 0.5)^2 = 0.25, asks untouched; short: the reverse
    assert inventory_size_factor(5.0, 10.0, 2.0, 1) == pytest.approx(0.25)
    assert inventory_size_factor(5.0, 10.0, 2.0, -1) == 1.0
    assert inventory_size_factor(-5.0, 10.0, 1.0, -1) == pytest.approx(0.5)
    assert inventory_size_factor(12.0, 10.0, 1.0, 1) == 0.0
    assert inventory_size_factor(5.0, math.inf, 1.0, 1) == 1.0


def test_fee_terms_from_the_instrument_master():
    # perp: 2 bps of notional -> 0.0002 * price per unit
    assert maker_fee_terms(PERP) == (pytest.approx(2e-4), 0.0, math.inf)
    assert maker_fee_per_unit(30000.0, *maker_fee_terms(PERP)) == pytest.approx(6.0)
    # AAPL: -0.002 USD per share rebate (multiplier 1)
    assert maker_fee_per_unit(190.0, *maker_fee_terms(AAPL)) == pytest.approx(-0.002)
    # SPXW: 0.65 USD per contract / multiplier 100 = 0.0065 per unit of premium
    assert maker_fee_per_unit(12.3, *maker_fee_terms(SPXW)) == pytest.approx(0.0065)
    # Deribit: 0.03 % of the underlying (0.0003 BTC per BTC of premium units), capped at 12.5 %
    terms = maker_fee_terms(DERIBIT)
    assert maker_fee_per_unit(0.02, *terms) == pytest.approx(3e-4)
    assert maker_fee_per_unit(0.001, *terms) == pytest.approx(0.125 * 0.001)
    # the per-unit fee times qty x multiplier is the instrument's own fee
    for inst, px, qty in ((PERP, 30000.0, 0.01), (SPXW, 12.3, 3.0), (DERIBIT, 0.02, 10.0), (AAPL, 190.0, 100.0)):
        per_unit = maker_fee_per_unit(px, *maker_fee_terms(inst))
        assert per_unit * qty * inst.multiplier == pytest.approx(inst.fee(px, qty, maker=True), rel=1e-9)


def test_edge_filter_counts_rebates():
    # 2 bps of 100 = 0.02 fee: an edge of 0.01 does not beat it, 0.03 does
    assert not edge_beats_fee(99.99, 100.0, 1, 2e-4, 0.0, math.inf, 0.0)
    assert edge_beats_fee(99.97, 100.0, 1, 2e-4, 0.0, math.inf, 0.0)
    assert edge_beats_fee(100.03, 100.0, -1, 2e-4, 0.0, math.inf, 0.0)
    # a 1 bp rebate (-0.01) lowers the hurdle below zero edge
    assert edge_beats_fee(100.0, 100.0, 1, -1e-4, 0.0, math.inf, 0.0)
    assert not edge_beats_fee(100.02, 100.0, 1, -1e-4, 0.0, math.inf, 0.0)
    # min_edge adds to the hurdle
    assert not edge_beats_fee(99.97, 100.0, 1, 2e-4, 0.0, math.inf, 0.02)


@settings(max_examples=500, deadline=None)
@given(inst=st.sampled_from(INSTRUMENTS), x=st.floats(0.0005, 50000.0, allow_nan=False))
def test_rounding_matches_the_instrument_master(inst, x):
    fr, tk, dec = tick_arrays(inst)
    assert round_price_down(x, fr, tk, dec) == inst.round_price(x, "bid")
    assert round_price_up(x, fr, tk, dec) == inst.round_price(x, "ask")


# ------------------------------------------------------------------ layers


def test_default_layers_are_1_2_4_with_40_35_25_percent():
    lq = LayeredQuoter(LayerConfig(size=100.0, fee_aware=False), AAPL)
    st_ = book(100.0, 0.005)
    lad = lq.ladder(100.0, 0.10, 0.10, st_)
    # distances 0.10, 0.20, 0.40 from 100; sizes 40, 35, 25 of 100 shares
    np.testing.assert_allclose(lad.bids, [99.90, 99.80, 99.60])
    np.testing.assert_allclose(lad.asks, [100.10, 100.20, 100.40])
    np.testing.assert_allclose(lad.bid_sizes, [40, 35, 25])
    np.testing.assert_allclose(lad.ask_sizes, [40, 35, 25])
    # two levels: 40/75 and 35/75 of 100 shares, rounded down to whole shares: 53 and 46
    lad2 = LayeredQuoter(LayerConfig(size=100.0, n_levels=2, fee_aware=False), AAPL).ladder(100.0, 0.1, 0.1, st_)
    np.testing.assert_allclose(lad2.bid_sizes, [53, 46])


def test_inventory_skews_price_and_size_the_right_way():
    cfg = LayerConfig(size=100.0, max_inventory=200.0, price_skew=0.01, size_skew=1.0, fee_aware=False)
    lq = LayeredQuoter(cfg, AAPL)
    flat = lq.ladder(100.0, 0.10, 0.10, book(100.0, 0.005, inventory=0.0))
    long = lq.ladder(100.0, 0.10, 0.10, book(100.0, 0.005, inventory=100.0))
    # centre shift -0.01 * 100 * 0.10 = -0.10: every price 0.10 lower
    np.testing.assert_allclose(long.bids, flat.bids - 0.10, atol=1e-9)
    np.testing.assert_allclose(long.asks, flat.asks - 0.10, atol=1e-9)
    # bids (growing the long) x (1 - 100/200) = 0.5: 20, 17.5 -> 17, 12.5 -> 12; asks unchanged
    np.testing.assert_allclose(long.bid_sizes, [20, 17, 12])
    np.testing.assert_allclose(long.ask_sizes, flat.ask_sizes)
    short = lq.ladder(100.0, 0.10, 0.10, book(100.0, 0.005, inventory=-100.0))
    np.testing.assert_allclose(short.ask_sizes, [20, 17, 12])
    assert short.bids[0] > flat.bids[0]


def test_inventory_cap_counts_every_layer_and_in_flight():
    cfg = LayerConfig(size=100.0, max_inventory=150.0, size_skew=0.0, fee_aware=False)
    lq = LayeredQuoter(cfg, AAPL)
    lad = lq.ladder(100.0, 0.1, 0.1, book(100.0, 0.005, inventory=90.0))
    # room to buy: 150 - 90 = 60 -> 40 then 20 then nothing
    np.testing.assert_allclose(lad.bid_sizes, [40, 20, 0])
    assert math.isnan(lad.bids[2])
    lad = lq.ladder(100.0, 0.1, 0.1, book(100.0, 0.005, inventory=90.0), pending_buy=30.0)
    np.testing.assert_allclose(lad.bid_sizes, [30, 0, 0])


def test_microstructure_offsets_move_quotes():
    base = LayeredQuoter(NOFEE, AAPL)
    st0 = book(100.0, 0.01, 50.0, 50.0)
    l0 = base.ladder(100.0, 0.05, 0.05, st0)
    # imbalance: bid queue 90 vs 10: I = 0.8, shift 0.8 * 0.01 = 0.008 -> bid 99.95 + 0.008 -> 99.95,
    # ask 100.05 + 0.008 = 100.058 -> 100.06
    imb = LayeredQuoter(LayerConfig(size=100.0, imbalance_coef=1.0, fee_aware=False), AAPL)
    l1 = imb.ladder(100.0, 0.05, 0.05, book(100.0, 0.01, 90.0, 10.0))
    assert (l1.bids[0], l1.asks[0]) == (99.95, 100.06) and (l0.bids[0], l0.asks[0]) == (99.95, 100.05)
    # thin bid queue (10 of ref 100): the bid backs off 3 * 0.9 = 2.7 ticks -> 99.95 - 0.027 -> 99.92
    que = LayeredQuoter(LayerConfig(size=100.0, queue_coef=3.0, queue_ref=100.0, fee_aware=False), AAPL)
    l2 = que.ladder(100.0, 0.05, 0.05, book(100.0, 0.01, 10.0, 500.0))
    assert (l2.bids[0], l2.asks[0]) == (99.92, 100.05)
    # volatility 0.1 per unit time, horizon 4, coef 0.5: both sides +0.1
    vol = LayeredQuoter(LayerConfig(size=100.0, vol_coef=0.5, vol_horizon=4.0, fee_aware=False), AAPL)
    l3 = vol.ladder(100.0, 0.05, 0.05, book(100.0, 0.01, volatility=0.1))
    assert (l3.bids[0], l3.asks[0]) == (99.85, 100.15)


def test_post_only_never_crosses_the_book():
    lq = LayeredQuoter(NOFEE, AAPL)
    # fair far above the book: the bid would be 100.45 but must stay below the ask 99.01
    lad = lq.ladder(100.5, 0.05, 0.05, book(99.0, 0.01))
    assert lad.bids[0] == 99.0 and lad.bids[0] < 99.01
    assert lad.asks[0] == 100.55
    # without post-only the bid takes the book
    lq2 = LayeredQuoter(LayerConfig(size=100.0, post_only=False, fee_aware=False), AAPL)
    assert lq2.ladder(100.5, 0.05, 0.05, book(99.0, 0.01)).bids[0] == 100.45


def test_spx_tick_ladder_and_fee_filter():
    lq = LayeredQuoter(LayerConfig(size=10.0), SPXW)
    st_ = MarketState(mid=3.0, best_bid=2.9, best_ask=3.1)
    lad = lq.ladder(3.0, 0.04, 0.04, st_)
    # bid 2.96 -> 2.95 (0.05 below 3), ask 3.04 -> 3.10 (0.10 above 3); edges 0.05 and 0.10 > 0.0065
    assert (lad.bids[0], lad.asks[0]) == (2.95, 3.1)
    # fair 2.996, no distance: the half-tick guard puts the targets at 2.996 -/+ 0.025 = 2.971 and
    # 3.021 -> bid 2.95 (0.05 grid below 3), ask 3.10 (0.10 grid above 3); edges 0.046 and 0.104
    lad = lq.ladder(2.996, 0.0, 0.0, MarketState(mid=2.996))
    assert (lad.bids[0], lad.asks[0]) == (2.95, 3.1)
    # min_edge 0.05 on top of the 0.0065 fee (0.65 USD / 100): the bid's 0.046 fails, the ask passes
    lq = LayeredQuoter(LayerConfig(size=10.0, n_levels=1, min_edge=0.05), SPXW)
    lad = lq.ladder(2.996, 0.0, 0.0, MarketState(mid=2.996))
    assert lad.bid_sizes[0] == 0.0 and math.isnan(lad.bids[0]) and lad.asks[0] == 3.1


def test_edge_filter_drops_levels_that_do_not_pay_the_fee_and_rebates_help():
    perp = LayeredQuoter(LayerConfig(size=0.01), PERP)
    st_ = MarketState(mid=30000.05, best_bid=30000.0, best_ask=30000.1)
    # 2 bps of 30,000 = 6 USDT: level 0 at 5 USDT is dropped, levels at 10 and 20 kept
    lad = perp.ladder(30000.05, 5.0, 5.0, st_)
    assert math.isnan(lad.bids[0]) and lad.bid_sizes[0] == 0.0 and lad.bid_sizes[1] > 0
    # AAPL pays 0.002 per share to makers: a quote half a tick from fair (edge 0.005) is fine,
    # and with 0 distance (edge 0.005 after the half-tick guard and rounding) still quoted
    aapl = LayeredQuoter(LayerConfig(size=100.0), AAPL)
    lad = aapl.ladder(100.005, 0.0, 0.0, MarketState(mid=100.005))
    assert (lad.bids[0], lad.asks[0]) == (100.0, 100.01)


def test_bands_and_min_size():
    lq = LayeredQuoter(LayerConfig(size=100.0, band_pct=0.003, fee_aware=False), AAPL)
    # band 100 * (1 -/+ 0.003) = [99.70, 100.30]: levels at 0.4 (99.60, 100.40) are dropped
    lad = lq.ladder(100.0, 0.1, 0.1, book(100.0, 0.005))
    np.testing.assert_allclose(lad.bids[:2], [99.9, 99.8])
    assert math.isnan(lad.bids[2]) and math.isnan(lad.asks[2])
    lq = LayeredQuoter(LayerConfig(size=100.0, min_size=30.0, fee_aware=False), AAPL)
    np.testing.assert_allclose(lq.ladder(100.0, 0.1, 0.1, book(100.0, 0.005)).bid_sizes, [40, 35, 0])


def test_bad_state_quotes_nothing():
    lq = LayeredQuoter(NOFEE, AAPL)
    lad = lq.ladder(math.nan, 0.1, 0.1, MarketState(mid=math.nan))
    assert lad.levels() == []
    lad = lq.ladder(100.0, math.nan, 0.1, MarketState(mid=100.0))
    assert all(s == -1 for s, _, _ in lad.levels())


def test_layered_strategy_wraps_avellaneda_stoikov():
    inner = AvellanedaStoikovStrategy(AvellanedaStoikovConfig(0.1, 2.0, 1.5))
    strat = LayeredStrategy(inner, LayeredQuoter(LayerConfig(size=10), AAPL))
    # A-S (2008) eq. (29)-(30) at q = 0, T - t = 0.5: spread 0.1*4*0.5 + 20 ln(1 + 0.1/1.5) = 1.4908,
    # half 0.7454 -> bid 99.2546 rounded down 99.25, ask 100.7454 rounded up 100.75
    lad = strat.ladder(MarketState(mid=100.0, inventory=0.0, time_left=0.5))
    assert (lad.bids[0], lad.asks[0]) == (99.25, 100.75)
    np.testing.assert_allclose(lad.bids[1:], [100 - 2 * 0.7454, 100 - 4 * 0.7454], atol=0.01)
    q = strat.quote(MarketState(mid=100.0, inventory=3.0, time_left=0.5))
    # reservation 100 - 3 * 0.1 * 4 * 0.5 = 99.4: both sides lower
    assert q.bid < 99.25 and q.ask < 100.75


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    "args,kw,reason",
    [
        (([100.0], [99.0], [1.0], [1.0]), {}, "crossed"),
        (([99.0], [101.0], [0.0], [-1.0]), {}, "size"),
        (([99.0], [101.0], [1.0], [math.nan]), {}, "size"),
        (([-1.0], [101.0], [1.0], [1.0]), {}, "price"),
        (([math.nan], [101.0], [1.0], [1.0]), {}, "price"),
        (([99.0], [101.0], [1.0], [1.0]), dict(band_lo=99.5), "band"),
        (([99.0], [101.0], [1.0], [1.0]), dict(band_hi=100.5), "band"),
        (([99.0], [101.0], [1.0], [1.0]), dict(post_only=True, best_ask=99.0), "post-only"),
        (([99.0], [101.0], [1.0], [1.0]), dict(post_only=True, best_bid=101.0), "post-only"),
        (([99.0, 98.0], [101.0], [3.0, 3.0], [1.0]), dict(inventory=5.0, max_inventory=10.0), "inventory"),
        (([99.0], [101.0], [1.0], [4.0]), dict(inventory=-5.0, max_inventory=10.0, pending_sell=2.0), "inventory"),
        (([99.0, 98.0], [101.0], [1.0], [1.0]), {}, "shapes"),
    ],
)
def test_validate_quotes_raises_with_the_reason(args, kw, reason):
    b, a, bs, as_ = args
    if reason == "shapes":
        bs = [1.0]
    with pytest.raises(QuoteValidationError, match=reason):
        validate_quotes(b, a, bs, as_, **kw)


def test_violation_kernel_and_twin_agree():
    rng = np.random.default_rng(5)
    for _ in range(400):
        b, a = rng.normal(100, 1, 3), rng.normal(101, 1, 3)
        bs, as_ = rng.choice([0.0, 1.0, 2.0, -1.0, np.nan], 3), rng.choice([0.0, 1.0, 3.0], 3)
        b[rng.random(3) < 0.1] = -1.0
        args = (b, a, bs, as_, float(rng.normal(100, 1)), float(rng.normal(101, 1)), bool(rng.random() < 0.5),
                99.0, 102.0, bool(rng.random() < 0.5), float(rng.normal(0, 3)), 5.0, 0.0, 1.0)
        assert quote_violation(*args) == quote_violation_python(*args)


def test_validate_quotes_accepts_good_and_unquoted_levels():
    validate_quotes([99.0, math.nan], [101.0, 102.0], [1.0, 0.0], [1.0, 2.0], best_bid=98.99,
                    best_ask=101.0 + 0.01, post_only=True, inventory=8.0, max_inventory=10.0)
    # beyond the limit already: a quote that only reduces the position is fine
    validate_quotes([math.nan], [101.0, 102.0], [0.0], [1.0, 2.0], inventory=12.0, max_inventory=10.0)


@pytest.mark.parametrize(
    "kw",
    [dict(n_levels=0), dict(n_levels=4), dict(spacing=(1.0, 1.0, 2.0)), dict(spacing=(0.5, 1, 2)),
     dict(weights=(0.5, 0.5)), dict(weights=(0.5, -0.1, 0.6)), dict(size=0.0), dict(max_inventory=-1),
     dict(price_skew=-0.1), dict(queue_ref=0.0), dict(band_pct=0.0), dict(post_only="yes"),
     dict(min_size=math.nan), dict(spacing="abc")],
)
def test_bad_config_raises(kw):
    with pytest.raises(ConfigError):
        LayerConfig(**kw)


def test_config_is_frozen():
    with pytest.raises(AttributeError):
        LayerConfig().size = 2.0  # type: ignore[misc]


# ------------------------------------------------------------------ kernel vs twin, properties


def _random_case(rng, inst):
    fair = float(rng.choice([0.02, 3.0, 100.0, 30000.0])) * float(rng.uniform(0.9, 1.1))
    tick = inst.tick_size
    half = float(rng.integers(1, 6)) * tick * 0.5
    cfg = LayerConfig(n_levels=int(rng.integers(1, 4)), size=float(rng.uniform(0.1, 50)),
                      max_inventory=float(rng.choice([math.inf, rng.uniform(0.5, 100)])),
                      price_skew=float(rng.uniform(0, 0.2)), size_skew=float(rng.uniform(0, 2)),
                      imbalance_coef=float(rng.uniform(0, 1)), queue_coef=float(rng.uniform(0, 3)),
                      queue_ref=float(rng.uniform(1, 50)), vol_coef=float(rng.uniform(0, 1)),
                      min_size=float(rng.uniform(0, 2)), post_only=bool(rng.integers(0, 2)),
                      band_pct=float(rng.choice([math.inf, rng.uniform(0.001, 0.2)])),
                      fee_aware=bool(rng.integers(0, 2)))
    st_ = MarketState(mid=fair, inventory=float(rng.uniform(-60, 60)), best_bid=fair - half,
                      best_ask=fair + half, volatility=float(rng.uniform(0, fair * 0.01)),
                      depth=(np.array([fair - half]), np.array([float(rng.uniform(0, 40))]),
                             np.array([fair + half]), np.array([float(rng.uniform(0, 40))])))
    d = float(rng.uniform(0, 10)) * tick
    return cfg, st_, fair, d


def test_kernel_and_python_twin_agree():
    rng = np.random.default_rng(11)
    for _ in range(300):
        inst = INSTRUMENTS[int(rng.integers(0, 4))]
        cfg, st_, fair, d = _random_case(rng, inst)
        lq = LayeredQuoter(cfg, inst)
        lo, hi = lq.bands(fair, st_)
        args = (fair, fair + float(rng.normal()) * d, d, d * 1.3, st_.inventory, st_.best_bid,
                st_.best_ask, float(st_.depth[1][0]), float(st_.depth[3][0]), st_.volatility, lo, hi,
                0.0, 0.0, lq._p)
        np.testing.assert_array_equal(build_ladder_kernel(*args), build_ladder_kernel_python(*args))


def _config_pool(n=256, seed=20231):
    """Random configurations spanning every parameter's range (Hypothesis picks among them: one
    draw instead of fourteen keeps 10k examples fast; the states are drawn freely)."""
    rng = np.random.default_rng(seed)
    pool = [LayerConfig(), LayerConfig(fee_aware=False, post_only=False)]
    while len(pool) < n:
        pool.append(LayerConfig(
            n_levels=int(rng.integers(1, 4)), size=float(10 ** rng.uniform(-3, 3)),
            max_inventory=math.inf if rng.random() < 0.2 else float(10 ** rng.uniform(-3, 3)),
            price_skew=float(rng.choice([0.0, rng.uniform(0, 1)])), size_skew=float(rng.uniform(0, 3)),
            imbalance_coef=float(rng.choice([0.0, rng.uniform(0, 2)])),
            queue_coef=float(rng.choice([0.0, rng.uniform(0, 5)])), queue_ref=float(rng.uniform(0.1, 100)),
            vol_coef=float(rng.choice([0.0, rng.uniform(0, 2)])), min_size=float(rng.choice([0.0, rng.uniform(0, 5)])),
            post_only=bool(rng.random() < 0.7),
            band_pct=math.inf if rng.random() < 0.5 else float(10 ** rng.uniform(-4, -0.3)),
            min_edge=float(rng.choice([0.0, rng.uniform(0, 1)])), fee_aware=bool(rng.random() < 0.7)))
    return pool


CONFIGS = _config_pool()
_QUOTERS = {}


def _tick(inst, p):
    """Tick at price p, read from the instrument's terms (plain Python, independent of the kernels)."""
    t = inst.tick_size
    for start, tick in inst.tick_ladder:
        if abs(p) >= start - 1e-12:
            t = tick
    return t


@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    inst=st.sampled_from(INSTRUMENTS),
    cfg=st.sampled_from(CONFIGS),
    fair=st.floats(1e-3, 1e5),
    skew=st.floats(-0.05, 0.05),
    dists=st.tuples(st.floats(0, 100), st.floats(0, 100)),
    book_off=st.tuples(st.floats(-0.05, 0.05), st.floats(0, 0.05), st.booleans()),
    qty=st.tuples(st.floats(0, 1e3), st.floats(0, 1e3)),
    inventory=st.floats(-2e3, 2e3),
    pending=st.tuples(st.floats(0, 50), st.floats(0, 50)),
    sigma=st.floats(0, 100),
)
def test_ladder_is_always_valid(inst, cfg, fair, skew, dists, book_off, qty, inventory, pending, sigma):
    """The key property: for any market state, inventory and parameters, the ladder is never
    crossed, never crosses the book when post-only, has positive prices and sizes on the tick and
    lot grids, stays inside the band, and all layers filling at once keep |q| <= Q."""
    key = (cfg, inst.key)
    lq = _QUOTERS.get(key)
    if lq is None:
        lq = _QUOTERS[key] = LayeredQuoter(cfg, inst)
    mid = fair * (1.0 + book_off[0])
    half = mid * book_off[1] + inst.tick_size
    bb, ba = (mid - half, mid + half) if book_off[2] else (math.nan, math.nan)
    st_ = MarketState(mid=mid, inventory=inventory, best_bid=bb, best_ask=ba, volatility=sigma,
                      depth=(np.array([bb]), np.array([qty[0]]), np.array([ba]), np.array([qty[1]])))
    lad = lq.ladder(fair, dists[0] * fair / 100, dists[1] * fair / 100, st_, center=fair * (1 + skew),
                    pending_buy=pending[0], pending_sell=pending[1], validate=False)
    # an independent re-check in plain Python (levels <= 3), then the shipped validator must agree
    Q = cfg.max_inventory
    lo, hi = lq.bands(fair, st_)
    lot = inst.lot_size
    quoted = {}
    for side, px, sz in ((1, lad.bids.tolist(), lad.bid_sizes.tolist()), (-1, lad.asks.tolist(), lad.ask_sizes.tolist())):
        levels = []
        for p, s in zip(px, sz, strict=True):
            assert s >= 0.0
            if s == 0.0:
                assert math.isnan(p)
                continue
            assert math.isfinite(p) and p > 0.0 and lo <= p <= hi
            t = _tick(inst, p)
            assert abs(p / t - round(p / t)) < 1e-6 + 1e-12 * p / t, (p, t)  # on the tick grid
            assert abs(s / lot - round(s / lot)) < 1e-6 and s >= cfg.min_size  # whole lots
            if levels:  # strictly behind the previous level of its side
                assert (p < levels[-1][0]) if side == 1 else (p > levels[-1][0])
            levels.append((p, s))
        quoted[side] = levels
    bids, asks = quoted[1], quoted[-1]
    if bids and asks:
        assert bids[0][0] < asks[0][0]  # never crossed
    if cfg.post_only and book_off[2]:
        assert not bids or bids[0][0] < ba
        assert not asks or asks[0][0] > bb
    if math.isfinite(Q):  # all layers filling at once, with in-flight quantity, stay within Q
        tol = 1e-9 * max(1.0, Q)
        assert not bids or inventory + pending[0] + sum(s for _, s in bids) <= Q + tol
        assert not asks or inventory - pending[1] - sum(s for _, s in asks) >= -Q - tol
    validate_quotes(lad.bids, lad.asks, lad.bid_sizes, lad.ask_sizes, best_bid=bb, best_ask=ba,
                    post_only=cfg.post_only, band_lo=lo, band_hi=hi, inventory=inventory,
                    max_inventory=Q, pending_buy=pending[0], pending_sell=pending[1])
    assert quote_violation_python(lad.bids, lad.asks, lad.bid_sizes, lad.ask_sizes, bb, ba, cfg.post_only,
                                  lo, hi, True, inventory, Q, pending[0], pending[1]) == (0, -1)
