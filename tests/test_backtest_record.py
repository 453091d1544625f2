"""``record_every``: the step table keeps one row per group of strategy steps (memory bound).

Reference: the same run with ``record_every=1``; thinning the table must not change any fill,
PnL part or counter, and each kept row must equal the full table's row for the last step of
its group (the group's final state).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmlab.backtest import GridStrategy, run
from mmlab.data import synthetic
from mmlab.errors import ConfigError


@pytest.fixture(scope="module")
def runs():
    ev = synthetic.synthetic_l2_events(session_seconds=60.0, seed=11, trade_rate=6.0, sigma=0.03)
    kw = dict(tick_size=0.01, lot_size=1.0, interval=100_000_000, entry_latency=2_000_000,
              response_latency=2_000_000)
    strat = GridStrategy(half_spread=0.0, order_qty=1.0, skew=0.002)
    return run(ev, strat, **kw), run(ev, strat, record_every=7, **kw)


def test_thinning_changes_no_fill_or_pnl(runs):
    full, thin = runs
    assert len(full.fills) > 10
    pd.testing.assert_frame_equal(full.fills, thin.fills)
    assert full.pnl == thin.pnl
    assert full.counters == thin.counters


def test_kept_rows_are_each_groups_last_step(runs):
    full, thin = runs
    n = len(full.steps)
    assert n > 100  # 60 s at 100 ms
    last = np.r_[np.arange(6, n, 7), [n - 1]]
    last = np.unique(last)
    assert len(thin.steps) == len(last) == -(-n // 7)
    pd.testing.assert_frame_equal(full.steps.iloc[last].reset_index(drop=True),
                                  thin.steps.reset_index(drop=True))
    assert thin.steps["equity"].iloc[-1] == full.steps["equity"].iloc[-1]


@pytest.mark.parametrize("bad", [0, -3, 1.5, True])
def test_bad_record_every_names_the_argument(bad):
    ev = synthetic.synthetic_l2_events(session_seconds=5.0, seed=1)
    with pytest.raises(ConfigError, match="record_every"):
        run(ev, GridStrategy(0.01, 1.0), tick_size=0.01, record_every=bad)
