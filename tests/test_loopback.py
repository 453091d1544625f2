"""The local side alone against the exchange side behind the venue-adapter interface
(``mmlab.backtest.LoopbackDriver``, ``SimulatedVenue``; ``replay(..., venue="loopback")``).

The local side and the venue share no order table: requests go out as ``REQUEST_DTYPE`` rows,
responses come back as ``RESPONSE_DTYPE`` rows, and the two sides advance in turn to each
other's horizon. The backtest (both sides merged) is the oracle: fills must be identical. The
BTCUSDT and AMZN parity cases are in ``tests/test_step_driver.py``; here: recorded (random)
latencies, the kill switch and the records themselves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmlab.backtest import (
    REQUEST_DTYPE,
    RESPONSE_DTYPE,
    GridStrategy,
    LoopbackDriver,
    SimulatedVenue,
    run,
)
from mmlab.data import synthetic
from mmlab.runtime import replay

MS = 1_000_000
KW = dict(tick_size=0.01, lot_size=1.0, max_position=5.0, roi=(90.0, 110.0))


@pytest.fixture(scope="module")
def ev():
    return synthetic.synthetic_l2_events(session_seconds=300, seed=11)


def _fills(res):
    return res.fills.drop(columns="seq").reset_index(drop=True)


def test_recorded_latencies_draw_the_same_on_each_side(ev):
    """Entry latencies drawn by the local side, response latencies by the exchange side, one
    generator each: merged or apart, each side draws the same sequence, so random latencies
    fill identically too."""
    kw = dict(KW, entry_latency=np.array([1, 3, 7, 20, 45]) * MS,
              response_latency=np.array([2, 5, 11, 30]) * MS, seed=7)
    strat = GridStrategy(half_spread=0.01, order_qty=1.0, skew=0.002, levels=2)
    ref = run(ev, strat, **kw)
    assert len(ref.fills) >= 50, len(ref.fills)
    for seed in (0, 1):
        paper = replay(ev, strat, batch_seed=seed, batch_rows=(1, 400), **kw)
        loop = replay(ev, strat, batch_seed=seed, batch_rows=(1, 400), venue="loopback", **kw)
        pd.testing.assert_frame_equal(_fills(paper), _fills(ref))
        pd.testing.assert_frame_equal(_fills(loop), _fills(ref))
        assert loop.pnl == ref.pnl
        assert loop.summary()["final_position"] == ref.summary()["final_position"]
    # the latencies were drawn: fills do not all answer in one constant time
    lat = ref.fills["local_ts"] - ref.fills["ts"]
    assert lat.nunique() > 1


def test_the_python_twin_runs_apart_too(ev):
    strat = GridStrategy(half_spread=0.01, order_qty=1.0)
    ref = run(ev[:6000], strat, **KW)
    res = replay(ev[:6000], strat, venue="loopback", engine="python", batch_rows=(1, 500), **KW)
    assert len(ref.fills) > 5
    pd.testing.assert_frame_equal(_fills(res), _fills(ref))


def test_kill_switch_cancels_through_the_wire_and_nothing_is_sent_after(ev):
    strat = GridStrategy(half_spread=0.01, order_qty=1.0, levels=2, grid_step=2)
    end = int(ev["local_ts"].max())
    d = LoopbackDriver(strat, session_end=end, **KW)
    half = len(ev) // 2
    d.feed(ev[:half])
    sent_before = d.n_requests
    assert sent_before > 0
    d.kill()
    d.feed(ev[half:])
    res = d.finish()
    k = res.risk_events
    assert list(k["kind"]) == ["kill_switch"]
    t_kill = int(k["ts"].iloc[0])
    assert d.halted
    # after the kill only cancels went out: no fill of an order first sent after it
    fills_after = res.fills[res.fills["ts"] > t_kill + 100 * MS]
    assert fills_after.empty, fills_after
    # every working order was cancelled at the first decision after the kill
    steps = res.steps[res.steps["ts"] > t_kill]
    assert steps["quote_bid"].isna().all() and steps["quote_ask"].isna().all()
    assert res.params["driver"] == "loopback"


def test_the_venue_speaks_records_only(ev):
    """The simulated venue takes REQUEST_DTYPE rows and gives RESPONSE_DTYPE rows: a new
    order is acknowledged, a cancel of it is answered cancelled, a cancel of an unknown order
    cancel_rejected; all at the modelled arrival + response latency."""
    end = int(ev["local_ts"].max())
    v = SimulatedVenue(GridStrategy(half_spread=0.01, order_qty=1.0), session_end=end,
                       response_latency=5 * MS, **KW)
    v.feed(ev[:2000])
    t0 = int(ev["exch_ts"][1500])
    v.advance(t0)
    bid = int(np.floor(ev["px"][1500] / 0.01 + 0.5)) - 50  # 50 ticks below: rests
    req = np.zeros(3, REQUEST_DTYPE)
    req[0] = (t0 + 1, 1, 901, 1, bid, 1.0, True, 0)
    req[1] = (t0 + 2 * MS, 2, 901, 0, 0, 0.0, False, 1)
    req[2] = (t0 + 3 * MS, 2, 999, 0, 0, 0.0, False, 2)
    v.submit(req)
    assert v.horizon() == t0 + 1
    v.advance(t0 + 10 * MS)
    out = v.responses()
    assert out.dtype == RESPONSE_DTYPE
    got = [(int(r["ts"]) - t0, int(r["kind"]), int(r["order_id"])) for r in np.sort(out, order="ts")]
    assert got == [(1 + 5 * MS, 1, 901), (7 * MS, 3, 901), (8 * MS, 5, 999)]
    assert len(v.responses()) == 0  # taken once
