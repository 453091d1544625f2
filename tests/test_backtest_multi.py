"""Several instruments in one backtest (``run_portfolio`` / ``run({name: data, ...})``): the
shipped Binance USD-M BTCUSDT and ETHUSDT perpetuals together.

* limits that never bind: each instrument's result equals its single-instrument run, fill by
  fill and step by step (same ``start``);
* an aggregate notional limit that binds *across* instruments (BTCUSDT trades differently beside
  ETHUSDT than alone under the same limit) and is never breached by a step;
* the shared drawdown breaker latches and stops every instrument;
* the PnL parts add up exactly, per instrument and for the portfolio.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmlab.backtest import GridStrategy, PortfolioResult, run, run_portfolio
from mmlab.data import load_binance, synthetic
from mmlab.errors import ConfigError

MS = 1_000_000
SETTINGS = {"BTCUSDT": dict(tick_size=0.1, lot_size=0.001, max_position=0.1),
            "ETHUSDT": dict(tick_size=0.01, lot_size=0.001, max_position=1.0)}
STRATS = {"BTCUSDT": GridStrategy(half_spread=2.0, order_qty=0.01, skew=100.0),
          "ETHUSDT": GridStrategy(half_spread=0.2, order_qty=0.1, skew=1.0)}
# Binance USD-M VIP 0 maker/taker (instruments.toml), 10 ms order latency each way
COMMON = dict(entry_latency=10 * MS, response_latency=10 * MS, maker_fee=0.0002,
              taker_fee=0.0005, interval=100 * MS)


@pytest.fixture(scope="module")
def perps(data_dir):
    return {"BTCUSDT": load_binance(data_dir / "binance" / "usdm_btcusdt_20240808.gz"),
            "ETHUSDT": load_binance(data_dir / "binance" / "usdm_ethusdt_20240808.gz")}


@pytest.fixture(scope="module")
def free(perps):
    return run_portfolio(perps, STRATS, settings=SETTINGS, **COMMON)


def _parts_add_up(pnl):
    assert pnl["spread"] + pnl["inventory"] + pnl["fees"] + pnl["funding"] == pytest.approx(
        pnl["total"], abs=1e-9)


def test_unbound_portfolio_equals_single_runs(perps, free):
    assert isinstance(free, PortfolioResult)
    for name, ev in perps.items():
        single = run(ev, STRATS[name], start=free.start, **SETTINGS[name], **COMMON)
        joint = free.results[name]
        assert len(joint.fills) > 100
        pd.testing.assert_frame_equal(joint.fills, single.fills)
        pd.testing.assert_frame_equal(joint.steps, single.steps)
        assert joint.pnl == single.pnl
        _parts_add_up(joint.pnl)
    # the portfolio: sums of the instruments, parts adding up; equity = sum of equities
    p = free.pnl
    _parts_add_up(p)
    assert p["total"] == pytest.approx(sum(r.pnl["total"] for r in free.results.values()),
                                       abs=1e-12)
    f = free.portfolio
    assert np.allclose(f["equity"], f["equity_BTCUSDT"] + f["equity_ETHUSDT"], atol=1e-9)
    # the equity at each check is the one each instrument records at that step
    eq = free.results["ETHUSDT"].steps["equity"].to_numpy()
    assert np.allclose(f["equity_ETHUSDT"].to_numpy()[: len(eq)], eq, atol=1e-9)
    # without a limit the two perps together carry more than the limit used below
    assert f["notional_after"].max() > 5000.0
    # checks every 10 steps: the same runs, one row per check
    sparse = run_portfolio(perps, STRATS, settings=SETTINGS, check_every=10, **COMMON)
    for name in perps:
        pd.testing.assert_frame_equal(sparse.results[name].fills, free.results[name].fills)
    assert len(sparse.portfolio) == (len(f) + 9) // 10
    assert np.array_equal(sparse.portfolio["equity"].to_numpy(), f["equity"].to_numpy()[::10])


def test_notional_limit_binds_across_instruments(perps, free):
    limit = 3000.0
    both = run_portfolio(perps, STRATS, settings=SETTINGS, max_notional=limit, **COMMON)
    f = both.portfolio
    # no step takes the aggregate gross exposure above the limit (at the marks of the step)
    assert np.all(f["notional_after"] <= np.maximum(limit, f["notional_before"]) + 1e-6)
    assert f["notional_after"].max() <= limit + 1e-6
    # it binds: the result differs from the free run ...
    assert not both.results["BTCUSDT"].fills.equals(free.results["BTCUSDT"].fills)
    # ... and across instruments: BTCUSDT alone under the same limit trades differently
    alone = run_portfolio({"BTCUSDT": perps["BTCUSDT"]}, STRATS["BTCUSDT"],
                          settings={"BTCUSDT": SETTINGS["BTCUSDT"]}, max_notional=limit,
                          start=both.start, **COMMON)
    assert not alone.results["BTCUSDT"].fills.equals(both.results["BTCUSDT"].fills)
    _parts_add_up(both.pnl)
    for r in both.results.values():
        _parts_add_up(r.pnl)


def test_drawdown_breaker_stops_every_instrument(perps):
    dd = 5.0  # USDT
    res = run({"BTCUSDT": perps["BTCUSDT"], "ETHUSDT": perps["ETHUSDT"]}, STRATS,
              settings=SETTINGS, max_drawdown=dd, **COMMON)
    assert res.halted_at is not None
    f = res.portfolio
    at = f.index[f["ts"] == res.halted_at][0]
    drawdown = f["equity"].cummax() - f["equity"]
    assert drawdown.iloc[at] > dd
    assert drawdown.iloc[:at].max() <= dd  # not earlier
    for name, r in res.results.items():
        s = r.steps
        after = s["ts"] >= res.halted_at
        assert after.sum() > 100
        assert s.loc[after, "quote_bid"].isna().all() and s.loc[after, "quote_ask"].isna().all()
        # working orders are cancelled at the halt: nothing fills after the cancel arrives
        assert (r.fills["ts"] <= res.halted_at + COMMON["entry_latency"]).all(), name
        _parts_add_up(r.pnl)
    _parts_add_up(res.pnl)


def test_python_twin_and_errors():
    a = synthetic.synthetic_l2_events(session_seconds=20, seed=1, latency_ms=2.0, sigma_px=0.03)
    b = synthetic.synthetic_l2_events(session_seconds=20, seed=2, latency_ms=2.0, sigma_px=0.03)
    kw = dict(max_notional=400.0, max_position=5.0, entry_latency=MS, response_latency=MS)
    x = run_portfolio({"A": a, "B": b}, GridStrategy(0.01, 1.0), **kw)
    y = run_portfolio({"A": a, "B": b}, GridStrategy(0.01, 1.0), engine="python", **kw)
    for n in ("A", "B"):
        assert len(x.results[n].fills) > 0
        pd.testing.assert_frame_equal(x.results[n].fills, y.results[n].fills)
    pd.testing.assert_frame_equal(x.portfolio, y.portfolio)
    with pytest.raises(ConfigError, match="inverse"):
        run_portfolio({"A": a}, GridStrategy(0.01, 1.0), inverse=True)
    with pytest.raises(ConfigError, match="interval"):
        run_portfolio({"A": a}, GridStrategy(0.01, 1.0), settings={"A": {"interval": 5 * MS}})
    with pytest.raises(ConfigError, match="strategy"):
        run_portfolio({"A": a, "B": b}, {"A": GridStrategy(0.01, 1.0)})
    with pytest.raises(ConfigError, match="max_notional"):
        run_portfolio({"A": a}, GridStrategy(0.01, 1.0), max_notional=-1.0)
