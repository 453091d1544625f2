"""Risk ladder, breakers, throttle and kill switch.

Reference values are worked by hand from the ladder's definition (issue 4 / mmlab/risk/_ladder.py):
u = |position + working + in-flight on the growing side| / limit; green < 30 %, yellow 30-70 %,
red 70-100 % (reduce-only), hard >= 100 %.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmlab.errors import ConfigError
from mmlab.risk import (
    AbnormalSpreadBreaker,
    DailyLossBreaker,
    DrawdownBreaker,
    OrderThrottle,
    RiskLimits,
    RiskManager,
    StaleDataBreaker,
    VolatilitySurgeBreaker,
    Zone,
    failure_gate,
    ladder_decision,
    side_usage,
)

LIM = RiskLimits(max_position=10.0)


@pytest.mark.parametrize(
    ("side", "pos", "work", "infl", "usage"),
    [
        (+1, 0.0, 0.0, 0.0, 0.0),
        (+1, 2.0, 0.5, 0.5, 0.3),     # (2 + 0.5 + 0.5) / 10
        (-1, 2.0, 0.5, 0.5, 0.0),     # selling reduces a long: max(0, -2 + 1) = 0
        (-1, -6.0, 1.0, 0.0, 0.7),    # (6 + 1) / 10
        (+1, -6.0, 1.0, 0.0, 0.0),
        (+1, 9.0, 2.0, 0.0, 1.1),     # working orders alone can push usage past 1
    ],
)
def test_side_usage(side, pos, work, infl, usage):
    assert side_usage(side, pos, work, infl, 10.0) == pytest.approx(usage)


@pytest.mark.parametrize(
    ("pos", "zone", "size", "spread"),
    [
        (0.0, Zone.GREEN, 2.0, 1.0),
        (2.9, Zone.GREEN, 2.0, 1.0),
        (3.0, Zone.YELLOW, 2.0, 1.0),   # bottom of yellow: factors start at 1
        (5.0, Zone.YELLOW, 1.5, 1.5),   # halfway: size x (1 - 0.5*0.5), spread x (1 + 0.5*1)
        (6.9, Zone.YELLOW, 2.0 * (1 - 0.975 * 0.5), 1.975),
        (7.0, Zone.RED, 0.0, 1.0),      # reduce-only on the growing (buy) side
        (9.99, Zone.RED, 0.0, 1.0),
    ],
)
def test_ladder_zones_on_growing_side(pos, zone, size, spread):
    d = ladder_decision(+1, 2.0, pos, 0.0, 0.0, LIM)
    assert d.zone is zone and not d.halt
    assert d.size == pytest.approx(size)
    assert d.spread_mult == pytest.approx(spread)


def test_reducing_side_keeps_quoting_in_red():
    d = ladder_decision(-1, 2.0, 8.0, 0.0, 0.0, LIM)
    assert d.zone is Zone.GREEN and d.size == 2.0


def test_hard_limit_halts_both_sides():
    for side in (+1, -1):
        d = ladder_decision(side, 1.0, 10.0, 0.0, 0.0, LIM)
        assert d.halt and d.zone is Zone.HARD and d.size == 0.0


@pytest.mark.parametrize("greek", ["delta", "gamma", "vega", "theta"])
def test_greek_limit_breach_halts(greek):
    lim = RiskLimits(max_position=10.0, **{f"max_{greek}": 100.0})
    ok = ladder_decision(+1, 1.0, 0.0, 0.0, 0.0, lim, greeks={greek: 99.0})
    bad = ladder_decision(+1, 1.0, 0.0, 0.0, 0.0, lim, greeks={greek: -100.5})
    assert not ok.halt and bad.halt and greek in bad.reason


def test_notional_limit_breach_halts():
    lim = RiskLimits(max_position=10.0, max_notional=1e6)
    assert ladder_decision(+1, 1.0, 1.0, 0, 0, lim, notional=1.2e6).halt


def test_clip_to_headroom_counts_working_and_in_flight():
    # position 1, working buys 1, in flight 0.5 -> usage 0.25 (green), headroom 10 - 2.5 = 7.5
    d = ladder_decision(+1, 9.0, 1.0, 1.0, 0.5, LIM)
    assert d.zone is Zone.GREEN and d.size == pytest.approx(7.5)


@pytest.mark.parametrize("kw", [dict(max_position=0), dict(max_position=math.inf),
                                dict(max_position=1, yellow=0.8, red=0.7),
                                dict(max_position=1, yellow_min_size=0.0),
                                dict(max_position=1, max_delta=-1.0)])
def test_bad_limits_raise(kw):
    with pytest.raises(ConfigError):
        RiskLimits(**kw)


def test_bad_side_raises():
    with pytest.raises(ConfigError, match="side"):
        ladder_decision(0, 1.0, 0.0, 0.0, 0.0, LIM)


# ----------------------------------------------------------------------------- breakers
def test_drawdown_breaker_latches_at_two_percent():
    b = DrawdownBreaker(capital=1_000_000.0)
    assert not b.update(1_000_000.0) and not b.update(1_010_000.0)
    assert not b.update(990_001.0)          # 19,999 below peak < 20,000
    assert b.update(990_000.0)              # exactly 2 % of capital below the peak
    assert b.update(2_000_000.0) and b.tripped  # latched
    b.reset()
    assert not b.tripped


def test_daily_loss_breaker_resets_its_start_each_day():
    day = 86_400 * 10**9
    b = DailyLossBreaker(capital=100_000.0)  # 1 % = 1,000
    assert not b.update(100_000.0, ts=0)
    assert not b.update(99_100.0, ts=day - 1)
    assert not b.update(99_100.0, ts=day)     # new day starts at 99,100
    assert not b.update(98_200.0, ts=day + 5)  # 900 lost today
    assert b.update(98_100.0, ts=day + 6)     # 1,000 lost today


def test_volatility_surge_breaker():
    rng = np.random.default_rng(0)
    b = VolatilitySurgeBreaker(short_window=20, long_window=400, ratio=4.0)
    mid = 100.0
    for i in range(400):
        mid *= math.exp(1e-4 * rng.standard_normal())
        assert not b.update(mid, ts=i)
    for i in range(20):
        mid *= math.exp(2e-3 * rng.standard_normal())  # 20x the volatility
        b.update(mid, ts=400 + i)
    assert b.tripped and "short vol" in b.reason


def test_spread_and_stale_breakers():
    s = AbnormalSpreadBreaker(max_spread_bps=10)
    assert not s.update(99.99, 100.01)        # 2 bps
    assert s.update(99.9, 100.1)              # 20 bps
    s2 = AbnormalSpreadBreaker()
    assert s2.update(100.0, 100.0) and "crossed" in s2.reason
    st_ = StaleDataBreaker(max_age_ns=5 * 10**9)
    st_.on_data(10**9)
    assert not st_.check(6 * 10**9)
    assert st_.check(6 * 10**9 + 1)


def test_failure_gate():
    eq = np.array([0.0, 10.0, -25.0, 5.0])  # drawdown 35
    assert failure_gate(eq, budget=100.0)["passed"]
    assert not failure_gate(eq, budget=80.0)["passed"]  # limit 32


# ----------------------------------------------------------------------------- manager
def test_any_breaker_halts_the_manager_until_reset():
    dd = DrawdownBreaker(capital=100.0)
    rm = RiskManager(LIM, breakers=[dd])
    assert rm.approve(+1, 1.0, 0.0, 0.0, 0.0, now=0) == 1.0
    dd.update(100.0)
    dd.update(97.0)
    assert rm.halted and rm.approve(+1, 1.0, 0.0, 0.0, 0.0, now=1) == 0.0
    assert "DrawdownBreaker" in rm.halt_reasons()[0]
    rm.reset()
    assert rm.approve(+1, 1.0, 0.0, 0.0, 0.0, now=2) == 1.0


state = st.fixed_dictionaries(
    {
        "side": st.sampled_from([1, -1]),
        "size": st.floats(0, 50, allow_nan=False),
        "position": st.floats(-15, 15, allow_nan=False),
        "working": st.floats(0, 15, allow_nan=False),
        "in_flight": st.floats(0, 15, allow_nan=False),
        "max_position": st.floats(0.5, 20, allow_nan=False),
        "yellow": st.floats(0.05, 0.5),
        "gap": st.floats(0.05, 0.45),
        "delta": st.floats(-200, 200, allow_nan=False),
    }
)


@settings(max_examples=10_000, deadline=None, derandomize=True)
@given(state)
def test_no_approved_order_breaches_a_hard_limit(s):
    lim = RiskLimits(max_position=s["max_position"], yellow=s["yellow"],
                     red=s["yellow"] + s["gap"], max_delta=150.0)
    d = ladder_decision(s["side"], s["size"], s["position"], s["working"], s["in_flight"], lim,
                        greeks={"delta": s["delta"]})
    assert 0.0 <= d.size <= s["size"]
    exposure_after = s["side"] * s["position"] + s["working"] + s["in_flight"] + d.size
    if d.size > 0:
        assert exposure_after <= lim.max_position + 1e-9   # hard limit never passed
        assert abs(s["position"]) < lim.max_position and abs(s["delta"]) <= 150.0
        assert d.zone < Zone.RED                           # red and beyond never grow
    if abs(s["delta"]) > 150.0 or abs(s["position"]) >= lim.max_position:
        assert d.halt and d.size == 0.0


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.integers(0, 3 * 10**9), st.integers(0, 30)), max_size=80),
       st.integers(0, 40))
def test_throttle_and_kill_switch_hold(actions, kill_at):
    rm = RiskManager(RiskLimits(max_position=100.0),
                     throttle=OrderThrottle(max_orders_per_sec=5, max_in_flight=10))
    sent: list[int] = []
    now = 0
    for i, (dt, in_flight) in enumerate(actions):
        now += dt // 10
        if i == kill_at:
            rm.kill_switch.engage(now)
        size = rm.approve(+1, 1.0, 0.0, 0.0, 0.0, now=now, orders_in_flight=in_flight)
        if size > 0:
            assert i < kill_at, "an order was emitted after the kill switch"
            assert in_flight < 10
            sent.append(now)
    sent_arr = np.array(sent, dtype=np.int64)
    for t in sent_arr:  # no 1-second window holds more than 5 sends
        assert np.sum((sent_arr > t - 10**9) & (sent_arr <= t)) <= 5
