"""The step driver (``mmlab.backtest.StepDriver``, ``mmlab.runtime.replay``) is the backtest's
core fed a batch at a time: on the same data and settings it gives the fills, position and PnL
of ``mmlab.backtest.run`` exactly, whatever the batch sizes; it never reads a row before it is
fed; it refuses what it cannot know (tick and lot) and rows stamped before a promised time.

Reference values: ``mmlab.backtest.run`` on the same inputs (the backtest is itself checked
fill by fill against hftbacktest in tests/test_backtest_vs_hftbacktest.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmlab.backtest import GridStrategy, StepDriver, run
from mmlab.data import load_binance, synthetic
from mmlab.errors import ConfigError
from mmlab.quoting import AdaptiveSpreadConfig, AvellanedaStoikovConfig, GLFTConfig
from mmlab.runtime import replay

MS = 1_000_000
# Binance USD-M VIP 0 maker/taker (instruments.toml), 10 ms order latency each way
BTC = dict(tick_size=0.1, lot_size=0.001, max_position=0.1, entry_latency=10 * MS,
           response_latency=10 * MS, maker_fee=0.0002, taker_fee=0.0005)
# the BTCUSDT-PERP presets of mmlab.manager (sigma_px in USDT per sqrt(s))
STRATEGIES = {
    "grid": GridStrategy(half_spread=2.0, order_qty=0.01, skew=100.0),
    "as": AvellanedaStoikovConfig(gamma=0.001, sigma_px=8.0, k=0.3, order_size=0.01,
                                  max_inventory=0.1),
    "glft": GLFTConfig(gamma=10.0, sigma_px=8.0, A=1.0, k=0.3, order_size=0.01, max_inventory=0.1),
    "adaptive": AdaptiveSpreadConfig(base_spread=1.0, vol_ref=8.0, maker_fee=0.0,
                                     inventory_skew=1.0, order_size=0.01, max_inventory=0.1),
    "grid-layered": GridStrategy(half_spread=1.0, order_qty=0.01, skew=100.0, levels=3,
                                 grid_step=5),
    # GLFT on the 1x / 2x / 4x, 40 / 35 / 25 % ladder (the layers setting, below)
    "glft-layered": GLFTConfig(gamma=10.0, sigma_px=8.0, A=1.0, k=0.3, order_size=0.01,
                               max_inventory=0.1),
}
#: settings a case adds to BTC
EXTRA = {"glft-layered": {"layers": True}}


@pytest.fixture(scope="module")
def btc(data_dir):
    return load_binance(data_dir / "binance" / "usdm_btcusdt_20240808.gz")


@pytest.fixture(scope="module")
def references(btc):
    return {name: run(btc, s, **BTC, **EXTRA.get(name, {})) for name, s in STRATEGIES.items()}


def _same(res, ref):
    if res.params["driver"] == "loopback":  # ``seq`` orders the venue's own actions only
        pd.testing.assert_frame_equal(res.fills.drop(columns="seq"), ref.fills.drop(columns="seq"))
        wire = res.params["wire"]  # every order went out as a request, every fill came back
        assert wire["requests"] >= res.fills["order_id"].nunique()
        assert wire["responses"] >= len(res.fills)
    else:
        pd.testing.assert_frame_equal(res.fills, ref.fills)
    assert res.pnl == ref.pnl
    assert res.summary()["final_position"] == ref.summary()["final_position"]


@pytest.mark.parametrize("venue", ["paper", "loopback"])
@pytest.mark.parametrize("name", list(STRATEGIES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_replay_equals_backtest_on_btcusdt(btc, references, name, seed, venue):
    ref = references[name]
    assert len(ref.fills) >= 50, len(ref.fills)
    res = replay(btc, STRATEGIES[name], batch_seed=seed, venue=venue, **BTC,
                 **EXTRA.get(name, {}))
    assert res.params["driver"] == ("step" if venue == "paper" else "loopback")
    _same(res, ref)


def test_batches_of_one_row_and_the_python_twin():
    ev = synthetic.synthetic_l2_events(session_seconds=30, seed=5)
    kw = dict(tick_size=0.01, lot_size=1.0, max_position=5.0, entry_latency=3 * MS,
              response_latency=2 * MS)
    strat = GridStrategy(half_spread=0.01, order_qty=1.0, skew=0.002)
    ref = run(ev, strat, **kw)
    assert len(ref.fills) >= 20
    _same(replay(ev, strat, batch_rows=(1, 1), **kw), ref)
    _same(replay(ev[:4000], strat, batch_rows=(1, 300), engine="python",
                 session_end=int(ev["local_ts"].max()), end=int(ev["local_ts"].max()), **kw),
          run(ev[:4000], strat, engine="python", session_end=int(ev["local_ts"].max()),
              end=int(ev["local_ts"].max()), **kw))


def test_advance_to_takes_actions_before_the_next_row(btc):
    """With rows fed one batch at a time the core waits for the next row before acting after
    the last one; a promise of the clock (advance_to) lets the strategy step without it."""
    head = btc[:2000]
    t_last = int(head["local_ts"][-1])
    d = StepDriver(STRATEGIES["grid"], session_end=t_last + 10_000 * MS, **BTC)
    d.feed(head.copy())
    k0 = int(d._job.state.pos[3])  # strategy steps taken (P_K)
    d.advance_to(t_last + 1_000 * MS)  # one second later: ten more 100 ms steps are due
    assert int(d._job.state.pos[3]) - k0 >= 9
    with pytest.raises(ConfigError, match="stamped before"):
        d.feed(head[-5:].copy())


def test_the_driver_reads_nothing_it_was_not_fed(btc):
    """Fills up to a time depend only on the rows before it: a session cut short by a crash
    (the rest of the day never fed) has the fills of the full run up to the cut."""
    full = replay(btc, STRATEGIES["grid"], **BTC)
    cut = len(btc) // 3
    t_cut = int(btc["local_ts"][cut])
    d = StepDriver(STRATEGIES["grid"], session_end=int(btc["local_ts"].max()),
                   end=int(btc["local_ts"].max()), **BTC)
    d.feed(btc[:cut].copy())
    part = d.finish()
    early = full.fills[full.fills["ts"] < t_cut - 50 * MS]
    assert len(early) > 10
    pd.testing.assert_frame_equal(part.fills.iloc[: len(early)], early)


def test_refusals():
    ev = synthetic.synthetic_l2_events(session_seconds=2, seed=1)
    with pytest.raises(ConfigError, match="tick_size, lot_size"):
        StepDriver(GridStrategy(0.01, 1.0), session_end=10)
    with pytest.raises(ConfigError, match="session_end"):
        StepDriver(GridStrategy(0.01, 1.0), session_end=1.5, tick_size=0.01, lot_size=1.0)
    with pytest.raises(ConfigError, match="batch_rows"):
        replay(ev, GridStrategy(0.01, 1.0), batch_rows=(0, 5), tick_size=0.01, lot_size=1.0)
    with pytest.raises(ConfigError, match="venue"):
        replay(ev, GridStrategy(0.01, 1.0), venue="moon", tick_size=0.01, lot_size=1.0)
    d = StepDriver(GridStrategy(0.01, 1.0), session_end=int(ev["local_ts"].max()),
                   tick_size=0.01, lot_size=1.0)
    with pytest.raises(ConfigError, match="no event"):
        d.finish()
    bad = ev[:10].copy()
    bad["px"][3] = np.nan
    with pytest.raises(Exception, match="row"):
        d.feed(bad)


# the AMZN preset of mmlab/manager/presets.toml (sigma_px in USD per sqrt(s)), with the exact FIFO
# queue on the LOBSTER 2012-06-21 L3 day
AMZN = dict(tick_size=0.01, lot_size=1.0, queue_model="fifo", entry_latency=MS,
            response_latency=MS, max_position=300.0)
AMZN_GLFT = GLFTConfig(gamma=0.001, sigma_px=0.03, A=1.0, k=30.0, order_size=100.0,
                       max_inventory=300.0)


@pytest.fixture(scope="module")
def amzn(data_dir):
    from mmlab.backtest import prepare_l3
    from mmlab.data import load_lobster

    return prepare_l3(load_lobster(
        data_dir / "lobster" / "amzn_l1_full_day" /
        "AMZN_2012-06-21_34200000_57600000_message_1.csv"))


@pytest.fixture(scope="module")
def amzn_ref(amzn):
    return run(amzn, AMZN_GLFT, **AMZN)


@pytest.mark.parametrize("venue", ["paper", "loopback"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_replay_equals_backtest_fifo_on_the_amzn_l3_day(amzn, amzn_ref, seed, venue):
    ref = amzn_ref
    assert len(ref.fills) >= 50, len(ref.fills)
    assert ref.params["l3"] and ref.params["queue_model"] == "fifo"
    res = replay(amzn, AMZN_GLFT, batch_seed=seed, venue=venue, **AMZN)
    _same(res, ref)
