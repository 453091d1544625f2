"""The engine ``seed`` and latencies drawn from a recorded distribution.

A seed campaign on fixed events once gave the same result for every seed with
``entry_latency`` drawn from a few milliseconds. Not a bug: the seed reaches the kernel and the
draws differ by seed, but on ``synthetic_l2_events`` the book only changes in bursts every
``step_ms`` (100 ms) and the strategy steps (every 100 ms, just after a burst is seen locally)
send orders that reach the exchange in the same quiet gap whatever the draw below ~97 ms: same
queue position, same fills. On the Binance BTCUSDT file (events spaced by micro- to
milliseconds) the same distribution gives different fills per seed. These tests pin both.
"""

from __future__ import annotations

import numpy as np
import pytest

from mmlab.backtest import GridStrategy, run, seed_campaign
from mmlab.backtest.engine import _engine as E
from mmlab.data import load_binance, synthetic

MS = 1_000_000


@pytest.fixture(scope="module")
def btc(data_dir):
    return load_binance(data_dir / "binance" / "usdm_btcusdt_20240808.gz")


@pytest.fixture(scope="module")
def syn():
    return synthetic.synthetic_l2_events(session_seconds=30, seed=5, trade_rate=4.0, sigma_px=0.03)


BTC = dict(max_position=0.05, response_latency=2 * MS)
BTC_GRID = GridStrategy(0.0, 0.001)
SYN = dict(tick_size=0.01, lot_size=1.0, max_position=4.0, maker_fee=-0.0001,
           response_latency=2 * MS)
SYN_GRID = GridStrategy(0.0, 1.0, skew=0.002)


def _fill_ts(res) -> np.ndarray:
    return res.fills["ts"].to_numpy(dtype=np.int64)


def test_draws_are_minstd_seeded_by_the_run_seed():
    # the kernel's generators (one a side: S_RNG entry, S_RNG2 response; seeded alike):
    # state = seed % (2**31 - 2) + 1, x <- 48271 x mod (2**31 - 1),
    # draw = lat[x % len(lat)] (MINSTD, Park, Miller & Stockmeyer 1993). Seed 0 is state 1, the
    # default seed of C++ std::minstd_rand: its 10000th value is 399268537 (C++ standard,
    # [rand.predef]).
    lat = np.arange(1, 1001, dtype=np.int64) * MS
    sc = E.record(E.SCALARS_DTYPE)
    sc["rng_entry"] = 0 % 2147483646 + 1
    draws = np.array([E._py["_draw"](lat, sc, E.RNG_ENTRY) for _ in range(10000)])
    assert sc["rng_entry"] == 399268537
    assert draws[-1] == lat[399268537 % 1000]
    # all 1000 values drawn, each about 10 times (uniform: 10 +- 3 sd)
    counts = np.bincount(draws // MS - 1, minlength=1000)
    assert counts.min() >= 1 and abs(counts.mean() - 10.0) < 1e-12 and counts.std() < 4.5
    # another seed, another sequence; a constant latency draws nothing
    sc2 = E.record(E.SCALARS_DTYPE)
    sc2["rng_entry"] = 1 % 2147483646 + 1
    draws2 = np.array([E._py["_draw"](lat, sc2, E.RNG_ENTRY) for _ in range(100)])
    assert np.mean(draws2 != draws[:100]) > 0.9
    one = np.array([5 * MS], dtype=np.int64)
    state = int(sc2["rng_entry"])
    assert E._py["_draw"](one, sc2, E.RNG_ENTRY) == 5 * MS and sc2["rng_entry"] == state


def test_spread_entry_latency_changes_fills_by_seed_on_btcusdt(btc):
    lat = [1 * MS, 3 * MS, 8 * MS]
    runs = {s: run(btc, BTC_GRID, seed=s, entry_latency=lat, **BTC) for s in range(4)}
    ts = {s: _fill_ts(r) for s, r in runs.items()}
    assert all(len(t) > 100 for t in ts.values())
    # every pair of seeds: different fill times (measured: 552, 552, 554, 557 fills)
    for a in range(4):
        for b in range(a + 1, 4):
            assert not np.array_equal(ts[a], ts[b]), (a, b)
    assert len({r.pnl["total"] for r in runs.values()}) >= 3
    # the seed is recorded, and the same seed reproduces the run exactly
    again = run(btc, BTC_GRID, seed=2, entry_latency=lat, **BTC)
    assert again.params["seed"] == 2
    assert np.array_equal(_fill_ts(again), ts[2])
    assert again.pnl["total"] == runs[2].pnl["total"]


def test_constant_latency_ignores_the_seed(btc):
    runs = [run(btc, BTC_GRID, seed=s, entry_latency=5 * MS, **BTC) for s in (0, 1, 7)]
    for r in runs[1:]:
        assert np.array_equal(_fill_ts(r), _fill_ts(runs[0]))
        assert r.pnl["total"] == runs[0].pnl["total"]


def test_campaign_passes_the_seed_through(btc):
    # fixed events: only the latency draws vary, and the campaign rows are the seeded runs
    lat = [1 * MS, 3 * MS, 8 * MS]
    c = seed_campaign(btc, BTC_GRID, seeds=[0, 1, 2], client="sync", progress=False,
                      keep_results=True, entry_latency=lat, **BTC)
    f = c.to_frame()
    assert f["total_pnl"].nunique() == 3
    for i, s in enumerate([0, 1, 2]):
        ref = run(btc, BTC_GRID, seed=s, entry_latency=lat, **BTC)
        assert f["total_pnl"].iloc[i] == ref.pnl["total"]
        assert c.results[i].params["seed"] == s
        assert np.array_equal(_fill_ts(c.results[i]), _fill_ts(ref))
    k = seed_campaign(btc, BTC_GRID, seeds=[0, 1, 2], client="sync", progress=False,
                      entry_latency=3 * MS, **BTC)
    assert k.to_frame()["total_pnl"].nunique() == 1


def test_synthetic_bursts_hide_draws_shorter_than_the_quiet_gap(syn):
    ts = syn["exch_ts"]
    gaps = np.diff(ts)
    # the synthetic book changes in bursts (events 1 us apart) every step_ms = 100 ms
    # (mmlab.data.synthetic_l2_events): the quiet gaps are ~100 ms
    quiet = gaps[gaps > MS]
    assert quiet.min() > 95 * MS and np.all(gaps[gaps <= MS] <= 10_000)
    # every draw below the gap minus the feed latency (~2.6 ms): the orders always reach the
    # exchange before the next burst, so nothing depends on the draw
    short = [[1 * MS, 40 * MS, 90 * MS], [1 * MS, 3 * MS, 8 * MS]]
    for lat in short:
        r = [run(syn, SYN_GRID, seed=s, entry_latency=lat, **SYN) for s in range(3)]
        assert len(r[0].fills) > 20
        for x in r[1:]:
            assert np.array_equal(_fill_ts(x), _fill_ts(r[0])), lat
    # draws on both sides of the next burst: the seed matters
    r = [run(syn, SYN_GRID, seed=s, entry_latency=[1 * MS, 150 * MS], **SYN) for s in range(3)]
    assert not np.array_equal(_fill_ts(r[0]), _fill_ts(r[1]))
    assert not np.array_equal(_fill_ts(r[1]), _fill_ts(r[2]))


def test_python_twin_draws_the_same_latencies(syn):
    # both latencies drawn from one generator; the numba kernel and its Python twin agree
    lat = [1 * MS, 60 * MS, 150 * MS]
    for s in (0, 3):
        a = run(syn, SYN_GRID, seed=s, entry_latency=lat, **dict(SYN, response_latency=lat))
        b = run(syn, SYN_GRID, seed=s, entry_latency=lat, engine="python",
                **dict(SYN, response_latency=lat))
        assert np.array_equal(_fill_ts(a), _fill_ts(b))
        assert np.array_equal(a.fills["local_ts"].to_numpy(), b.fills["local_ts"].to_numpy())
        assert a.pnl["total"] == b.pnl["total"]
