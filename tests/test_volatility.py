"""Volatility estimators: analytic checks on simulated paths and figures on the real S&P 500 file."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mmlab.data import load_sp500_daily
from mmlab.errors import ConfigError
from mmlab.volatility import (
    GARCH11,
    EWMAVol,
    close_to_close_vol,
    ewma_variance,
    ewma_variance_python,
    garman_klass_vol,
    parkinson_vol,
    realized_variance,
    realized_vol,
)

SIGMA = 0.2


@pytest.fixture(scope="module")
def gbm_ohlc():
    """1,000 days of a constant-vol GBM (sigma 20 %, 252 days a year), 400 steps a day."""
    rng = np.random.default_rng(42)
    nd, ns = 1000, 400
    dt = 1.0 / (252 * ns)
    z = rng.standard_normal((nd, ns)) * SIGMA * math.sqrt(dt) - 0.5 * SIGMA**2 * dt
    lp = math.log(100.0) + np.cumsum(z.ravel()).reshape(nd, ns)
    open_ = np.exp(np.concatenate([[math.log(100.0)], lp[:-1, -1]]))
    path = np.concatenate([np.log(open_)[:, None], lp], axis=1)
    return open_, np.exp(path.max(1)), np.exp(path.min(1)), np.exp(lp[:, -1])


@pytest.fixture(scope="module")
def sp500(data_dir):
    return load_sp500_daily(data_dir / "equity" / "sp500_daily_1999-2018.csv.gz")


def test_estimators_recover_constant_vol(gbm_ohlc):
    o, h, lo, c = gbm_ohlc
    closes = np.concatenate([[100.0], c])
    # close-to-close: standard error sigma / sqrt(2 n) = 0.0045; measured 0.1983
    assert close_to_close_vol(closes) == pytest.approx(SIGMA, abs=3 * SIGMA / math.sqrt(2 * 1000))
    # range estimators read high/low from 400 points a day: biased low by a few % (discrete
    # monitoring), much less noisy; measured Parkinson 0.1917, Garman-Klass 0.1892
    for est in (parkinson_vol(h, lo), garman_klass_vol(o, h, lo, c)):
        assert 0.93 * SIGMA < est < 1.0 * SIGMA
    # rolling versions: the last window equals the one-shot estimate on that window
    roll = parkinson_vol(pd.Series(h), pd.Series(lo), window=250)
    assert roll.iloc[-1] == pytest.approx(parkinson_vol(h[-250:], lo[-250:]), rel=1e-12)
    assert roll.iloc[:249].isna().all()
    cc = close_to_close_vol(pd.Series(closes), window=60, demean=False)
    r = np.diff(np.log(closes))[-60:]
    assert cc.iloc[-1] == pytest.approx(math.sqrt(np.mean(r * r) * 252), rel=1e-12)


def test_realized_vol_from_ticks():
    rng = np.random.default_rng(5)
    n, sig = 86_400, 0.5  # one day of 1-second mids, 50 % annual vol (ACT/365F calendar time)
    ts = np.arange(n + 1, dtype=np.int64) * 1_000_000_000
    p = 100 * np.exp(np.concatenate([[0.0], np.cumsum(rng.standard_normal(n) * sig / math.sqrt(365 * 86_400))]))
    # relative standard error sqrt(1/(2n)): 0.24 % at 1 s, 4 % on the 5-minute grid (288 returns)
    assert realized_vol(p, ts) == pytest.approx(sig, rel=0.01)
    assert realized_vol(p, ts, every="5min") == pytest.approx(sig, rel=0.15)
    # previous-tick sampling: grid 0, 60, 120 s reads the ticks of 0, 10 and 70 s
    rv = realized_variance([100.0, 101.0, 102.0, 100.0], ts=np.array([0, 10, 70, 130]) * 10**9, every="60s")
    assert rv == pytest.approx(math.log(101 / 100) ** 2 + math.log(102 / 101) ** 2)
    with pytest.raises(ConfigError):
        realized_variance([100.0, -1.0])
    with pytest.raises(ConfigError):
        realized_variance([100.0, 101.0], ts=np.array([5, 1]), every="1s")


def test_bad_ohlc_raises():
    with pytest.raises(ConfigError):
        parkinson_vol([99.0], [100.0])
    with pytest.raises(ConfigError):
        garman_klass_vol([100.0], [100.5], [99.0], [101.0])  # close above high
    with pytest.raises(ConfigError):
        close_to_close_vol([100.0, np.nan, 101.0])
    with pytest.raises(ConfigError):
        close_to_close_vol([100.0, 101.0, 102.0], window=1)


def test_ewma_kernel_twin_and_constant_vol():
    rng = np.random.default_rng(1)
    r = rng.normal(0, 0.01, 5000)
    a, b = np.empty(r.size + 1), np.empty(r.size + 1)
    ewma_variance(r, 0.94, 1e-4, a)
    ewma_variance_python(r, 0.94, 1e-4, b)
    np.testing.assert_allclose(a, b, rtol=1e-14)
    m = EWMAVol().fit(r)
    # the EWMA variance is an unbiased (noisy) estimate of the constant variance 1e-4
    assert m.variance_.iloc[100:].mean() == pytest.approx(1e-4, rel=0.03)
    f = m.forecast(5)
    assert np.allclose(f, f[0]) and f[0] == pytest.approx(math.sqrt(m.forecast_variance_ * 252))
    with pytest.raises(ConfigError):
        EWMAVol(lam=1.0).fit(r)


def test_garch_recovers_simulated_parameters():
    rng = np.random.default_rng(3)
    a, b, w = 0.08, 0.90, 2e-6  # long-run daily vol 1 % (15.9 % a year)
    n = 4000
    x = np.empty(n)
    v = w / (1 - a - b)
    for t in range(n):
        x[t] = math.sqrt(v) * rng.standard_normal()
        v = w + a * x[t] ** 2 + b * v
    m = GARCH11(mean="zero").fit(x)
    assert m is not None and m.mu_ == 0.0
    # measured: alpha 0.080, beta 0.893 (4,000 observations: standard errors ~0.01-0.02)
    assert m.alpha_ == pytest.approx(a, abs=0.03)
    assert m.beta_ == pytest.approx(b, abs=0.04)
    assert m.long_run_vol_ == pytest.approx(math.sqrt(w / (1 - a - b) * 252), rel=0.15)
    f = m.forecast(500)
    assert f[-1] == pytest.approx(m.long_run_vol_, rel=0.02)  # forecasts revert to the long run


def test_sp500_estimators(sp500):
    d = sp500
    c2c = close_to_close_vol(d["close"])
    park = parkinson_vol(d["high"], d["low"])
    gk = garman_klass_vol(d["open"], d["high"], d["low"], d["close"])
    print(f"\nS&P 500 1999-2018 annualised vol: close-to-close {c2c:.4f}, Parkinson {park:.4f}, Garman-Klass {gk:.4f}")
    # measured 0.1911 / 0.1591 / 0.1484; the range estimators miss the overnight gap
    assert c2c == pytest.approx(0.1911, abs=5e-4)
    assert park == pytest.approx(0.1591, abs=5e-4)
    assert gk == pytest.approx(0.1484, abs=5e-4)
    assert gk < park < c2c
    r = np.log(d["close"]).diff().dropna()
    e = EWMAVol().fit(r)
    # October 2008 crash above 60 % (measured 79 %); calm 2017 below 10 % (measured 6.8 %)
    assert e.volatility_.loc["2008-10"].max() > 0.6
    assert e.volatility_.loc["2017"].mean() < 0.10
    g = GARCH11().fit(r)
    print(g.summary().to_string())
    # measured: alpha 0.102, beta 0.885, persistence 0.987, long-run vol 18.7 %
    assert 0.97 < g.persistence_ < 1.0
    assert 0.15 < g.long_run_vol_ < 0.23
    assert g.conditional_volatility_.loc["2008-10"].max() > 0.6
