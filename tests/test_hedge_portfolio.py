"""Delta hedger, dollar Greeks aggregation and correlation-aware capital allocation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmlab.errors import ConfigError
from mmlab.risk import (
    DeltaHedgeConfig,
    DeltaHedger,
    aggregate_greeks,
    allocate_capital,
    risk_contributions,
)


def test_hedger_to_zero_and_to_band_with_future_multiplier():
    # options book long 12,340 barrels of delta; hedge with CL futures (1000 bbl each)
    h = DeltaHedger(DeltaHedgeConfig(threshold=5_000.0, delta_per_unit=1000.0, lot_size=1.0))
    o = h.decide(12_340.0, now=0)
    assert (o.side, o.qty) == (-1, 12.0)  # 12 contracts, toward zero, whole lots
    band = DeltaHedger(DeltaHedgeConfig(threshold=5_000.0, delta_per_unit=1000.0, to_zero=False))
    o2 = band.decide(-12_340.0, now=0)
    assert (o2.side, o2.qty) == (+1, 7.0)  # back to -5,000: 7.34 -> 7 lots


def test_hedger_respects_min_interval_and_threshold():
    h = DeltaHedger(DeltaHedgeConfig(threshold=1.0, lot_size=0.001, min_interval_ns=10))
    assert h.decide(0.5, now=0) is None
    assert h.decide(2.0, now=0).qty == pytest.approx(2.0)
    assert h.decide(2.0, now=5) is None  # too soon
    assert h.decide(2.0, now=10) is not None
    with pytest.raises(ConfigError):
        DeltaHedgeConfig(threshold=0.0)


def test_aggregate_greeks_across_underlyings():
    pos = pd.DataFrame({
        "underlying": ["SPX", "SPX", "BTC"],
        "qty": [10, -5, 2],
        "multiplier": [100, 100, 1],
        "underlying_px": [4500.0, 4500.0, 30_000.0],
        "delta": [0.5, 1.0, 1.0],
    })
    agg = aggregate_greeks(pos)
    # SPX: 10 x 100 x 0.5 x 4500 - 5 x 100 x 1 x 4500 = 0; BTC: 2 x 30,000 = 60,000
    assert agg.loc["SPX", "dollar_delta"] == pytest.approx(0.0)
    assert agg.loc["BTC", "dollar_delta"] == pytest.approx(60_000.0)
    assert agg.loc["TOTAL", "dollar_delta"] == pytest.approx(60_000.0)
    with pytest.raises(ConfigError, match="missing"):
        aggregate_greeks(pos.drop(columns="delta"))


def test_erc_equals_inverse_vol_when_uncorrelated_and_equal_when_symmetric():
    vols = [0.1, 0.2, 0.4]
    a = allocate_capital(1.0, vols, np.eye(3))
    b = allocate_capital(1.0, vols, np.eye(3), method="inverse_vol")
    assert np.allclose(a, b, atol=1e-10)
    c = allocate_capital(1.0, [0.3, 0.3, 0.3], [[1, .5, .2], [.5, 1, .5], [.2, .5, 1]])
    assert c.iloc[0] == pytest.approx(c.iloc[2], rel=1e-10)  # symmetric pair gets equal weight
    assert c.iloc[1] < c.iloc[0]  # the asset correlated with both gets less


def test_min_variance_two_assets_closed_form():
    # w1 = (s2^2 - rho s1 s2) / (s1^2 + s2^2 - 2 rho s1 s2)   (two-asset minimum variance)
    s1, s2, rho = 0.2, 0.3, 0.25
    w1 = (s2**2 - rho * s1 * s2) / (s1**2 + s2**2 - 2 * rho * s1 * s2)
    a = allocate_capital(1.0, [s1, s2], [[1, rho], [rho, 1]], method="min_variance")
    assert a.iloc[0] == pytest.approx(w1, abs=1e-6)


def test_bad_correlation_matrix():
    with pytest.raises(ConfigError):
        allocate_capital(1.0, [0.1, 0.2], [[1, 2], [2, 1]])
    with pytest.raises(ConfigError):
        allocate_capital(1.0, [0.1, 0.2], [[1, 0.5], [0.4, 1]])
    with pytest.raises(ConfigError, match="method"):
        allocate_capital(1.0, [0.1, 0.2], np.eye(2), method="magic")


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 6).flatmap(lambda n: st.tuples(
    st.lists(st.floats(0.05, 1.0), min_size=n, max_size=n),
    st.lists(st.floats(-0.3, 0.9), min_size=n * n, max_size=n * n))))
def test_erc_equalises_risk_contributions(args):
    vols, raw = args
    n = len(vols)
    a = np.array(raw).reshape(n, n)
    corr = (a + a.T) / 2
    np.fill_diagonal(corr, 1.0)
    if np.min(np.linalg.eigvalsh(corr)) < 0.05:
        return  # not a usable correlation matrix
    w = allocate_capital(1.0, vols, corr).to_numpy()
    rc = risk_contributions(w, vols, corr)
    assert np.allclose(rc, 1.0 / n, atol=1e-7)
    assert np.all(w > 0) and w.sum() == pytest.approx(1.0)
