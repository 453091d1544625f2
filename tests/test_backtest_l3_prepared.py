"""``prepare_l3``: an L3 day rewritten once for the engine replays exactly as the raw events.

Reference: the same backtest on the raw LOBSTER events (the engine then rewrites them itself);
fills, PnL and the step table must be identical, for the FIFO and an L2 queue model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmlab.backtest import GridStrategy, L3Events, prepare_l3, run, sweep
from mmlab.backtest.engine._l3 import l3_stream
from mmlab.book import l3_to_l2
from mmlab.data import load_lobster, synthetic
from mmlab.errors import ConfigError

MS = 1_000_000


@pytest.fixture(scope="module")
def aapl(data_dir):
    return load_lobster(data_dir / "lobster" / "AAPL_2012-06-21_34200000_57600000_message_10.csv")


@pytest.mark.parametrize("model", ["fifo", "power"])
def test_prepared_replays_as_the_raw_events(aapl, model):
    kw = dict(tick_size=0.01, lot_size=1.0, queue_model=model, entry_latency=MS,
              response_latency=MS, interval=50 * MS, max_position=300.0)
    strat = GridStrategy(half_spread=0.02, order_qty=100.0)
    prepared = prepare_l3(aapl)
    a, b = run(aapl, strat, **kw), run(prepared, strat, **kw)
    assert len(a.fills) > 10
    pd.testing.assert_frame_equal(a.fills, b.fills)
    pd.testing.assert_frame_equal(a.steps, b.steps)
    assert a.pnl == b.pnl and a.counters == b.counters
    assert b.params["l3"] is True


def test_prepared_arrays(aapl):
    p = prepare_l3(aapl)
    assert isinstance(p, L3Events) and p.n_source == len(aapl) and len(p) >= len(aapl)
    s, k, a = l3_stream(aapl)
    assert np.array_equal(p.stream, s) and np.array_equal(p.kinds, k) and np.array_equal(p.l3a, a)
    assert p.nbytes == s.nbytes + k.nbytes + a.nbytes
    # the rewritten levels are mmlab.book.l3_to_l2's (the merge keeps the input order)
    l2 = l3_to_l2(aapl)
    assert np.array_equal(l2, p.stream)


def test_prepared_in_a_sweep(aapl):
    p = prepare_l3(aapl)
    kw = dict(tick_size=0.01, lot_size=1.0, queue_model="fifo", entry_latency=MS,
              response_latency=MS, interval=50 * MS, max_position=300.0)
    res = sweep(p, GridStrategy(half_spread=0.02, order_qty=100.0),
                {"half_spread": [0.01, 0.02]}, client="sync", progress=False, **kw)
    direct = run(aapl, GridStrategy(half_spread=0.01, order_qty=100.0), **kw)
    row = res.frame.sort_values("half_spread").iloc[0]
    assert row["total_pnl"] == pytest.approx(direct.pnl["total"], abs=0.0)


def test_prepare_l3_refuses_l2_data():
    with pytest.raises(ConfigError, match="no L3 order event"):
        prepare_l3(synthetic.synthetic_l2_events(session_seconds=2))
    with pytest.raises(ConfigError, match="EVENT_DTYPE"):
        prepare_l3(np.zeros(3))
