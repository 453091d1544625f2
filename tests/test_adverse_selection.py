"""VPIN, markouts, one-sided ratio and the toxicity response."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmlab.errors import ConfigError
from mmlab.risk import ToxicityMonitor, markouts, one_sided_ratio, vpin, vpin_python


def test_vpin_extremes():
    # all buyer-initiated: every bucket fully imbalanced -> VPIN = 1 (definition, EL-P-O'H 2012)
    assert np.allclose(vpin(np.ones(100), np.ones(100, int), 10.0, 5)[4:], 1.0)
    # alternating sides with even bucket size: each bucket balanced -> VPIN = 0
    sides = np.tile([1, -1], 50)
    assert np.allclose(vpin(np.ones(100), sides, 10.0, 5)[4:], 0.0)


def test_vpin_splits_trades_across_buckets():
    # one buy of 3 then one sell of 3, V = 2: buckets [B2], [B1 S1], [S2]
    out = vpin([3.0, 3.0], [1, -1], bucket_volume=2.0, n_buckets=1)
    assert np.allclose(out, [1.0, 0.0, 1.0])
    out3 = vpin([3.0, 3.0], [1, -1], bucket_volume=2.0, n_buckets=3)
    assert np.isnan(out3[:2]).all() and out3[2] == pytest.approx(4.0 / 6.0)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(0.01, 5.0), st.sampled_from([1, -1])), min_size=1,
                max_size=200), st.floats(0.5, 10.0), st.integers(1, 10))
def test_vpin_kernel_matches_python_twin(trades, V, n):
    q = np.array([t[0] for t in trades])
    s = np.array([t[1] for t in trades])
    a, b = vpin(q, s, V, n), vpin_python(q, s.astype(np.int64), V, n)
    assert a.shape == b.shape
    assert np.allclose(a, b, equal_nan=True)
    assert np.all((a[~np.isnan(a)] >= -1e-12) & (a[~np.isnan(a)] <= 1 + 1e-12))


def test_vpin_bad_input():
    with pytest.raises(ConfigError):
        vpin([1.0, -1.0], [1, 1], 1.0)
    with pytest.raises(ConfigError):
        vpin([1.0], [0], 1.0)


def test_markouts_hand_computed():
    s = 1_000_000_000
    mid_ts = np.array([0, 1, 5, 30, 40]) * s
    mid_px = np.array([100.0, 100.2, 99.5, 101.0, 101.0])
    # we bought at 99.9 at t=0 and sold at 100.3 at t=1 s
    m = markouts([0, s], [1, -1], [99.9, 100.3], mid_ts, mid_px)
    # buy: +1 s mid 100.2 -> 0.3; +5 s 99.5 -> -0.4; +30 s 101 -> 1.1
    # sell at 1 s: +1 s (t=2 s) mid 100.2 -> 0.1; +5 s (t=6 s) 99.5 -> 0.8; +30 s (t=31 s) 101 -> -0.7
    assert np.allclose(m, [[0.3, -0.4, 1.1], [0.1, 0.8, -0.7]])
    late = markouts([35 * s], [1], [100.0], mid_ts, mid_px)
    # +1 s (36 s) and +5 s (40 s) are known (mid 101); +30 s (65 s) is past the data: NaN
    assert np.allclose(late[0, :2], [1.0, 1.0]) and np.isnan(late[0, 2])


def test_one_sided_ratio():
    assert one_sided_ratio([1, -1]) == 0.5
    assert one_sided_ratio([-1, -1, -1]) == 1.0
    assert np.isnan(one_sided_ratio([]))


def test_toxicity_widen_then_recover():
    m = ToxicityMonitor(window=10, threshold=0.8, recover_after=5)
    for _ in range(9):
        m.on_fill(+1)
    assert not m.toxic  # window not full yet
    m.on_fill(+1)
    assert m.toxic and m.spread_mult == 2.0 and m.size_mult == 0.5
    m.on_fill(-1)  # window 9 buys / 1 sell: 0.9 > 0.8, still one-sided, streak stays 0
    assert m.toxic and m.clean_streak == 0
    for _ in range(4):  # ratios 0.8, 0.7, 0.6, 0.5: clean fills 1..4
        m.on_fill(-1)
    assert m.toxic and m.clean_streak == 4
    m.on_fill(-1)  # 5th clean fill: recovered
    assert not m.toxic and m.spread_mult == 1.0 and m.size_mult == 1.0
