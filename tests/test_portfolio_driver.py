"""The portfolio driver (``mmlab.backtest.PortfolioDriver``, ``mmlab.runtime.replay({name: data})``)
is ``run_portfolio`` fed a batch at a time: on the shipped Binance USD-M BTCUSDT and ETHUSDT
perpetuals, fed merged in arrival order in seeded random batches, it gives the fills, positions,
PnL and portfolio table of ``run_portfolio`` exactly, with a binding notional limit and a
drawdown breaker that trips; a quiet instrument holds the checks back until ``advance_to``;
the kill switch stops every instrument.

Reference values: ``mmlab.backtest.run_portfolio`` on the same inputs (itself checked against
single-instrument ``run`` in tests/test_backtest_multi.py, and ``run`` against hftbacktest in
tests/test_backtest_vs_hftbacktest.py). The limits (3000 / 4000 USDT notional, 10 USDT
drawdown) were chosen from ``run_portfolio``'s table without limits on this data: the two
perps carry up to 6,882 USDT gross and draw down 63.6 USDT, so each limit binds.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mmlab.backtest import GridStrategy, PortfolioDriver, PortfolioResult, run_portfolio
from mmlab.data import load_binance, synthetic
from mmlab.errors import ConfigError, FormatError
from mmlab.runtime import replay

MS = 1_000_000
SETTINGS = {"BTCUSDT": dict(tick_size=0.1, lot_size=0.001, max_position=0.1),
            "ETHUSDT": dict(tick_size=0.01, lot_size=0.001, max_position=1.0)}
STRATS = {"BTCUSDT": GridStrategy(half_spread=2.0, order_qty=0.01, skew=100.0),
          "ETHUSDT": GridStrategy(half_spread=0.2, order_qty=0.1, skew=1.0)}
# Binance USD-M VIP 0 maker/taker (instruments.toml), 10 ms order latency each way
COMMON = dict(entry_latency=10 * MS, response_latency=10 * MS, maker_fee=0.0002,
              taker_fee=0.0005, interval=100 * MS)
LIMITS = {"notional": dict(max_notional=3000.0),
          "notional+drawdown": dict(max_notional=4000.0, max_drawdown=10.0),
          "notional, checks every 7 steps": dict(max_notional=3000.0, check_every=7)}
BATCHES = {0: (1, 1000), 1: (1, 200), 2: (500, 5000)}


@pytest.fixture(scope="module")
def perps(data_dir):
    return {"BTCUSDT": load_binance(data_dir / "binance" / "usdm_btcusdt_20240808.gz"),
            "ETHUSDT": load_binance(data_dir / "binance" / "usdm_ethusdt_20240808.gz")}


@pytest.fixture(scope="module")
def references(perps):
    out = {name: run_portfolio(perps, STRATS, settings=SETTINGS, **lim, **COMMON)
           for name, lim in LIMITS.items()}
    out["free"] = run_portfolio(perps, STRATS, settings=SETTINGS, **COMMON)
    return out


def _same(res, ref):
    assert isinstance(res, PortfolioResult)
    assert list(res.results) == list(ref.results)
    for name, r in ref.results.items():
        got = res.results[name]
        # every fill: ts, local_ts, side, price, qty, maker, fee, mid, order id
        pd.testing.assert_frame_equal(got.fills, r.fills)
        assert got.pnl == r.pnl
        assert got.summary()["final_position"] == r.summary()["final_position"]
        assert got.params["portfolio"] == r.params["portfolio"]
    pd.testing.assert_frame_equal(res.portfolio, ref.portfolio)
    assert res.halted_at == ref.halted_at and res.start == ref.start
    assert res.pnl == ref.pnl


@pytest.mark.parametrize("seed", sorted(BATCHES))
@pytest.mark.parametrize("case", list(LIMITS))
def test_replay_equals_run_portfolio(perps, references, case, seed):
    ref = references[case]
    for name, r in ref.results.items():
        assert len(r.fills) >= 50, (name, len(r.fills))
    lim = LIMITS[case]
    # the limits bind: the notional cap is reached (within 5 %) and no step at a check takes
    # the exposure above it (or above where fills between checks left it), and the run
    # differs from the one without limits
    f = ref.portfolio
    cap = lim["max_notional"]
    assert np.all(f["notional_after"] <= np.maximum(cap, f["notional_before"]) + 1e-6)
    if lim.get("check_every", 1) == 1:
        assert f["notional_after"].max() <= cap + 1e-6
    assert f["notional_after"].max() >= 0.95 * cap
    assert not ref.results["BTCUSDT"].fills.equals(references["free"].results["BTCUSDT"].fills)
    if "max_drawdown" in lim:  # the breaker latched: every instrument stops quoting there
        assert ref.halted_at is not None
        assert f["halted"].any() and not f["halted"].all()
        dd = f["equity"].cummax() - f["equity"]
        assert dd[f["ts"] == ref.halted_at].iloc[0] > lim["max_drawdown"]
        for r in ref.results.values():
            after = r.steps["ts"] >= ref.halted_at
            assert after.sum() > 100 and r.steps.loc[after, "quote_bid"].isna().all()
    res = replay(perps, STRATS, settings=SETTINGS, batch_rows=BATCHES[seed], batch_seed=seed,
                 **lim, **COMMON)
    _same(res, ref)


def _pair(seconds=20):
    a = synthetic.synthetic_l2_events(session_seconds=seconds, seed=1, latency_ms=2.0,
                                      sigma_px=0.03)
    b = synthetic.synthetic_l2_events(session_seconds=seconds, seed=2, latency_ms=2.0,
                                      sigma_px=0.03)
    return {"A": a, "B": b}


KW = dict(max_position=5.0, entry_latency=MS, response_latency=MS, tick_size=0.01,
          lot_size=1.0)


def _driver(data, **kw):
    sched = {n: {"session_end": int(max(e["exch_ts"].max(), e["local_ts"].max())),
                 "end": int(e["local_ts"].max())} for n, e in data.items()}
    t0 = min(int(min(e["exch_ts"].min(), e["local_ts"].min())) for e in data.values())
    return PortfolioDriver({n: (sched[n], GridStrategy(0.01, 1.0)) for n in data}, start=t0,
                           **kw)


def test_one_row_batches_and_an_instrument_that_ends_early():
    """Batches of one row (every row a pause decision), and B's recording ending 12 s before
    A's: the checks past B's last step see B at its end, in both runs."""
    data = _pair(30)
    b = data["B"]
    data["B"] = b[b["local_ts"] <= b["local_ts"][0] + 18_000 * MS]
    ref = run_portfolio(data, GridStrategy(0.01, 1.0), max_notional=400.0, **KW)
    n_a, n_b = (len(ref.results[k].steps) for k in "AB")
    assert n_b < n_a - 100 and len(ref.portfolio) == n_a
    assert all(len(r.fills) >= 10 for r in ref.results.values())
    assert ref.portfolio["notional_after"].max() >= 0.95 * 400.0  # the cap binds
    _same(replay(data, GridStrategy(0.01, 1.0), max_notional=400.0, batch_rows=(1, 1), **KW),
          ref)


def test_quiet_instrument_holds_checks_until_advance_to():
    data = _pair()
    ref = run_portfolio(data, GridStrategy(0.01, 1.0), max_notional=400.0, **KW)
    a, b = data["A"], data["B"]
    d = _driver(data, max_notional=400.0, **KW)
    d.feed("A", a)  # A's whole day, B not yet: no check can be taken without B's state
    assert d.snapshot()["checks"] == 0
    half = len(b) // 2
    d.feed("B", b[:half])
    t_fed = int(b["local_ts"][half - 1])
    t_next = int(min(b["exch_ts"][half:].min(), b["local_ts"][half:].min()))
    interval = int(ref.results["A"].params["interval"])
    checks = d.snapshot()["checks"]
    # the checks taken reach B's last row fed (not beyond the next row's time)
    assert 0 < checks and ref.portfolio["ts"].iloc[checks - 1] <= t_next
    assert ref.portfolio["ts"].iloc[checks - 1] >= t_fed - 2 * interval - 2 * MS
    d.advance_to(t_next)  # a live clock: no row of any instrument before t_next is to come
    assert d.snapshot()["checks"] >= checks
    assert ref.portfolio["ts"].iloc[d.snapshot()["checks"] - 1] < t_next
    with pytest.raises(ConfigError, match="before the time already advanced"):
        d.feed("B", b[:5])
    d.feed("B", b[half:])
    _same(d.finish(), ref)
    assert d.finish() is d.finish()
    with pytest.raises(ConfigError, match="finished"):
        d.feed("A", a[:5])


def test_snapshot_and_kill_switch():
    data = _pair()
    a, b = data["A"], data["B"]
    d = _driver(data, max_notional=400.0, **KW)
    n = len(a) // 2
    d.feed("A", a[:n])
    d.feed("B", b[:n])
    s = d.snapshot()
    assert set(s["instruments"]) == {"A", "B"} and s["checks"] > 0
    assert s["notional"] <= 400.0 + 1e-6 and math.isfinite(s["equity"])
    legs = s["instruments"]
    assert s["pnl"]["total"] == pytest.approx(sum(x["pnl"]["total"] for x in legs.values()),
                                              abs=1e-12)
    assert sum(len(d.fills_since(k, 0)) for k in "AB") > 0
    d.kill()
    m = n + (len(a) - n) // 2
    d.feed("A", a[n:m])
    d.feed("B", b[n:m])
    s2 = d.snapshot()
    assert s2["halted"]
    for x in s2["instruments"].values():
        assert "kill_switch" in x["breakers"]
        assert x["working_orders"] == 0  # every working order cancelled
    d.feed("A", a[m:])
    d.feed("B", b[m:])
    s3 = d.snapshot()
    for k, x in s3["instruments"].items():  # nothing sent after the cancels
        assert x["orders_sent"] == s2["instruments"][k]["orders_sent"]
    res = d.finish()
    for r in res.results.values():
        assert (r.risk_events["kind"] == "kill_switch").sum() == 1
        after = r.steps["ts"] > int(r.risk_events["ts"].iloc[0])
        assert after.sum() > 10 and r.steps.loc[after, "quote_bid"].isna().all()


def test_python_twin():
    data = {k: v[:3000] for k, v in _pair(10).items()}
    ref = run_portfolio(data, GridStrategy(0.01, 1.0), max_notional=300.0, engine="python",
                        **KW)
    assert sum(len(r.fills) for r in ref.results.values()) > 0
    res = replay(data, GridStrategy(0.01, 1.0), max_notional=300.0, engine="python",
                 batch_rows=(1, 400), batch_seed=4, **KW)
    _same(res, ref)


def test_errors():
    g = GridStrategy(0.01, 1.0)
    tl = dict(tick_size=0.01, lot_size=1.0)
    with pytest.raises(ConfigError, match="instruments"):
        PortfolioDriver({}, session_end=10)
    with pytest.raises(ConfigError, match="session_end"):
        PortfolioDriver({"A": (tl, g)})
    with pytest.raises(ConfigError, match="interval is shared"):
        PortfolioDriver({"A": ({**tl, "interval": 5 * MS}, g)}, session_end=10)
    with pytest.raises(ConfigError, match=r"instruments\['A'\]: tick_size"):
        PortfolioDriver({"A": ({}, g)}, session_end=10)
    with pytest.raises(ConfigError, match="inverse"):
        PortfolioDriver({"A": ({**tl, "inverse": True}, g)}, session_end=10)
    with pytest.raises(ConfigError, match="max_notional"):
        PortfolioDriver({"A": (tl, g)}, session_end=10, max_notional=0.0)
    d = PortfolioDriver({"A": (tl, g), "B": (tl, g)}, session_end=10**18)
    with pytest.raises(ConfigError, match="no instrument 'C'"):
        d.feed("C", np.zeros(0))
    with pytest.raises(FormatError, match="EVENT_DTYPE"):
        d.feed("A", np.zeros(3))
    bad = _pair(2)["A"][:10].copy()
    bad["px"][4] = np.nan
    with pytest.raises(FormatError, match="non-finite"):
        d.feed("A", bad)
    assert d.start is None  # a refused first batch fixes nothing
    d.feed("A", _pair(2)["A"])
    with pytest.raises(ConfigError, match="instrument 'B': no event"):
        d.finish()
    with pytest.raises(ConfigError, match="loopback"):
        replay({"A": _pair(2)["A"]}, g, venue="loopback", **tl)


def test_start_from_the_first_batch_and_reset_of_the_drawdown_latch():
    data = _pair(30)
    a, b = data["A"], data["B"]
    sched = {n: {"session_end": int(e["local_ts"].max()), "end": int(e["local_ts"].max())}
             for n, e in data.items()}
    d = PortfolioDriver({n: (sched[n], GridStrategy(0.01, 1.0)) for n in data},
                        max_drawdown=0.5, **KW)
    d.feed("B", b[:300])
    assert d.start == int(min(b["exch_ts"][:300].min(), b["local_ts"][:300].min()))
    n = len(a) // 2
    d.feed("A", a[:n])
    d.feed("B", b[300:n])
    s = d.snapshot()
    assert d.halted_at is not None and s["halted"]  # 0.5 of drawdown: latched
    assert s["peak"] - s["equity"] > 0.0
    d.reset()
    s = d.snapshot()
    assert d.halted_at is None and not s["halted"] and s["peak"] == s["equity"]
    t_reset = int(d.portfolio["ts"].iloc[-1])
    d.feed("A", a[n:])
    d.feed("B", b[n:])
    res = d.finish()
    f = res.portfolio
    assert f["halted"].any()
    for r in res.results.values():  # quoting stopped at the latch and resumed after the reset
        st = r.steps
        stopped = (st["ts"] > int(f["ts"][f["halted"]].iloc[0])) & (st["ts"] <= t_reset)
        assert stopped.sum() > 0 and st.loc[stopped, "quote_bid"].isna().all()
        assert st.loc[st["ts"] > t_reset + 100 * MS, "quote_bid"].notna().any()


def test_built_from_the_instrument_master():
    from mmlab.data import get_instrument

    g = GridStrategy(0.01, 1.0)
    eth = get_instrument("BINANCE_USDM:ETHUSDT")
    d = PortfolioDriver({"BTCUSDT": ("BINANCE_USDM:BTCUSDT", g), "ETHUSDT": (eth, g)},
                        session_end=10**18, max_notional=1e4)
    # tick and lot from the instrument master (instruments.toml, Binance USD-M: BTCUSDT
    # 0.1 / 0.001, ETHUSDT 0.01 / 0.001)
    btc, e = d.drivers["BTCUSDT"].cfg, d.drivers["ETHUSDT"].cfg
    assert (btc.tick_size, btc.lot_size, e.tick_size, e.lot_size) == (0.1, 0.001, 0.01, 0.001)
    assert d.names == ["BTCUSDT", "ETHUSDT"]
    with pytest.raises(ConfigError, match="inverse"):
        PortfolioDriver({"BTC": ("DERIBIT:BTC-PERPETUAL", g)}, session_end=10**18)
