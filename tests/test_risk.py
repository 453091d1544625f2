"""The risk ladder's definition (:func:`mmlab.risk.ladder_decision`, the reference the core's
zones are tested against in ``tests/test_risk_zones_core.py``).

Reference values are worked by hand from the ladder's definition (issue 4 / mmlab/risk/_ladder.py):
u = |position + working + in-flight on the growing side| / limit; green < 30 %, yellow 30-70 %,
red 70-100 % (reduce-only), hard >= 100 %. The breakers, kill switch and throttle run in the
trading core: ``tests/test_breakers_on_marks.py``, ``tests/test_core_risk.py``,
``tests/test_throttle_core.py`` and ``tests/test_core_properties.py``.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmlab.errors import ConfigError
from mmlab.risk import RiskLimits, Zone, ladder_decision, side_usage

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


# ----------------------------------------------------------------------------- property
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
