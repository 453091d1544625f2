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
    ev = synthetic.synthetic_l2_events(session_seconds=60.0, seed=11, trade_rate=6.0, sigma_px=0.03)
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


def _table_stats(res):
    """The statistics recomputed from a full step table (the reference for the kernel's)."""
    e = res.steps["equity"].to_numpy()
    d = np.diff(e)
    pos = np.abs(res.steps["position"].to_numpy())
    peak = np.maximum.accumulate(np.maximum(e, 0.0))
    return {"mean": d.mean(), "sd": d.std(ddof=1), "down": np.sqrt(np.mean(np.minimum(d, 0) ** 2)),
            "mdd": np.max(peak - e), "mean_abs": pos.mean(), "max_abs": pos.max(), "n": len(e)}


def test_kernel_statistics_equal_the_full_tables(runs):
    # reference: numpy over the full table (record_every=1); the kernel keeps running sums
    # (Welford) over every step, so thin and full runs report the same figures
    full, thin = runs
    ref = _table_stats(full)
    for res in (full, thin):
        st = res.step_stats
        assert st["steps"] == ref["n"] and st["pnl_changes"] == ref["n"] - 1
        assert st["mean_change"] == pytest.approx(ref["mean"], rel=1e-9, abs=1e-15)
        assert st["sd_change"] == pytest.approx(ref["sd"], rel=1e-9)
        assert st["downside_dev"] == pytest.approx(ref["down"], rel=1e-9)
        assert st["max_drawdown"] == pytest.approx(ref["mdd"], rel=1e-12)
        assert st["mean_abs_position"] == pytest.approx(ref["mean_abs"], rel=1e-12)
        assert st["max_abs_position"] == ref["max_abs"]
        s = res.summary()
        assert s["steps"] == ref["n"]
        assert s["sharpe"] == pytest.approx(full.summary()["sharpe"], rel=1e-12)
    assert thin.summary()["step_rows"] == -(-ref["n"] // 7)
    sharpe = ref["mean"] / ref["sd"] * np.sqrt(365 * 86400 * 10)  # 100 ms steps a year
    assert full.sharpe() == pytest.approx(sharpe, rel=1e-9)
    assert full.max_drawdown() > 0 and full.step_stats["mean_abs_position"] > 0


def test_kernel_statistics_survive_parquet(runs, tmp_path):
    from mmlab.backtest import read_result

    _, thin = runs
    back = read_result(thin.to_parquet(tmp_path / "thin.parquet"))
    assert back.step_stats == thin.step_stats
    assert back.summary()["sharpe"] == thin.summary()["sharpe"]


def test_auto_thins_only_when_the_table_outgrows_the_events():
    from mmlab.backtest.engine._run import AUTO_RECORD_SHARE, STEP_ROW_BYTES, auto_record_every

    # a sparse stream (book updates once a second for 60 s) replayed at 1 ms steps: 60,000
    # rows of 136 bytes against a few thousand events of 64 bytes; "auto" keeps the rows
    # within 60 % of the events' bytes
    ev = synthetic.synthetic_l2_events(session_seconds=60.0, seed=3, step_ms=1000,
                                       trade_rate=0.5)
    kw = dict(tick_size=0.01, lot_size=1.0, interval=1_000_000)
    res = run(ev, GridStrategy(0.01, 1.0), **kw)
    r = res.params["record_every_used"]
    steps = res.summary()["steps"]
    assert r == auto_record_every(steps, ev.nbytes) > 1
    assert len(res.steps) == -(-steps // r)
    assert len(res.steps) * STEP_ROW_BYTES <= AUTO_RECORD_SHARE * ev.nbytes
    # and r is the smallest that fits: one less would not
    assert -(-steps // (r - 1)) * STEP_ROW_BYTES > AUTO_RECORD_SHARE * ev.nbytes
    full = run(ev, GridStrategy(0.01, 1.0), record_every=1, **kw)
    assert len(full.steps) == steps and full.params["record_every_used"] == 1
    assert full.pnl == res.pnl and full.step_stats == res.step_stats
    # a dense stream at 100 ms keeps every step
    dense = synthetic.synthetic_l2_events(session_seconds=20.0, seed=3)
    assert run(dense, GridStrategy(0.01, 1.0), tick_size=0.01).params["record_every_used"] == 1


def test_auto_record_every_rule():
    from mmlab.backtest.engine._run import AUTO_RECORD_SHARE, auto_record_every

    assert auto_record_every(0, 0) == 1 and auto_record_every(1, 0) == 1
    assert AUTO_RECORD_SHARE == 0.6  # the documented share
    assert auto_record_every(100, 100 * 136 / 0.6) == 1   # exactly fits
    assert auto_record_every(101, 100 * 136 / 0.6) == 2
    assert auto_record_every(201, 100 * 136 / 0.6) == 3  # ceil(201 / 3) = 67 rows <= 100
    assert auto_record_every(1000, 64) == 1000  # never a budget below one row
