"""Research at scale: sweeps, walk-forward and seed campaigns on Dask agree with sequential
``run`` calls; gates on crafted results; walk-forward windows neither overlap nor leak; bad grids
raise ConfigError naming the argument."""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import pytest

from mmlab.backtest import (
    BacktestResult,
    Gates,
    GridStrategy,
    evaluate_gates,
    expand_grid,
    research_client,
    run,
    seed_campaign,
    sweep,
    tier_for,
    walk_forward,
    walk_forward_windows,
    window_events,
)
from mmlab.book import BookState, l3_to_l2
from mmlab.data import load_lobster, synthetic
from mmlab.errors import ConfigError

MS = 1_000_000
S = 1_000_000_000
DAY = 86_400 * S
# metrics compared between a sweep row and a direct run (run_seconds differs by nature)
METRICS = ["total_pnl", "spread_pnl", "inventory_pnl", "fee_pnl", "sharpe", "sortino",
           "max_drawdown", "n_fills", "orders_sent", "rejected", "turnover", "final_position"]


@pytest.fixture(scope="module")
def client():
    c = research_client(n_workers=2)  # LocalCluster: 2 processes x 1 thread, warmed
    yield c
    c.close()


@pytest.fixture(scope="module")
def ev():
    return synthetic.synthetic_l2_events(session_seconds=30, seed=5, trade_rate=4.0, sigma_px=0.03)


SETTINGS = dict(tick_size=0.01, lot_size=1.0, max_position=4.0, maker_fee=-0.0001,
                entry_latency=[1 * MS, 3 * MS, 8 * MS], response_latency=2 * MS)


def test_sweep_on_two_workers_equals_sequential_runs(client, ev):
    grid = {"half_spread": [0.0, 0.01, 0.02], "skew": [0.0, 0.004], "queue_model": ["power",
                                                                                    "log"]}
    base = GridStrategy(half_spread=0.01, order_qty=1.0, levels=2)
    res = sweep(ev, base, grid, client=client, progress=False, keep_results=True, **SETTINGS)
    f = res.to_frame()
    assert len(f) == 12 and res.info["workers"] == 2
    assert f["config"].tolist() == list(range(12))
    assert f["half_spread"].tolist() == [0.0] * 4 + [0.01] * 4 + [0.02] * 4  # last key fastest
    assert f["queue_model"].tolist()[:2] == ["power", "log"]
    for i, c in enumerate(res.configs):
        p = c["params"]
        strat = GridStrategy(half_spread=p["half_spread"], order_qty=1.0, levels=2, skew=p["skew"])
        ref = run(ev, strat, queue_model=p["queue_model"], **SETTINGS)
        got = res.results[i]
        pd.testing.assert_frame_equal(got.fills, ref.fills)
        pd.testing.assert_frame_equal(got.steps, ref.steps)
        assert got.pnl == ref.pnl and got.counters == ref.counters
        s = ref.summary()
        for m in METRICS:
            assert f[m].iloc[i] == s[m] or (math.isnan(s[m]) and math.isnan(f[m].iloc[i])), m
    assert (f["n_fills"] > 0).any()
    # the best row is the argmax of the objective (ties to the first configuration)
    assert res.best("total_pnl")["config"] == int(np.argmax(f["total_pnl"].to_numpy()))
    summ = res.summary("total_pnl")
    assert summ["configs"] == 12 and summ["passed"] == int(f["passed"].sum())


def test_sweep_in_process_and_by_address_match_the_cluster(client, ev, capsys):
    grid = {"half_spread": [0.0, 0.02], "entry_latency": [1 * MS, 20 * MS]}
    st = dict(SETTINGS)
    del st["entry_latency"]
    a = sweep(ev, GridStrategy(0.01, 1.0), grid, client="sync", progress=False, **st)
    assert capsys.readouterr().err == ""  # progress=False: nothing printed
    b = sweep(ev, GridStrategy(0.01, 1.0), grid, client=client.scheduler.address, progress=True,
              **st)
    err = capsys.readouterr().err
    assert "4/4" in err and err.endswith("\n")
    cols = [c for c in a.frame.columns if c not in ("run_seconds", "cpu_seconds")]
    pd.testing.assert_frame_equal(a.frame[cols], b.frame[cols])
    assert client.status == "running"  # a client reached by address is closed, not the cluster


def test_gates_on_crafted_results():
    # equity 0 -> 5 -> 2 -> 8: total PnL 8, largest fall from a peak 5 - 2 = 3
    steps = pd.DataFrame({"ts": np.arange(4) * S, "equity": [0.0, 5.0, 2.0, 8.0]})
    res = BacktestResult(steps, pd.DataFrame(), pd.DataFrame(), {"total": 8.0}, {}, {}, None)
    assert res.max_drawdown() == 3.0
    # Sharpe of the per-step changes [5, -3, 6]: mean 8/3, sample sd sqrt(73/3), x sqrt(steps/yr)
    sharpe = (8 / 3) / math.sqrt(73 / 3) * math.sqrt(365 * 86400)
    assert res.sharpe() == pytest.approx(sharpe, rel=1e-12)
    g = Gates()
    # drawdown budget 40 %: 3 <= 0.4 * 7.5 exactly; 3 > 0.4 * 7.4
    assert g.evaluate(res, budget=7.5) == {"pass_pnl": True, "pass_sharpe": True,
                                           "pass_drawdown": True, "passed": True,
                                           "tier": "micro"}
    assert g.evaluate(res, budget=7.4)["pass_drawdown"] is False
    assert g.evaluate(res, budget=7.4)["passed"] is False
    # a losing run with a flat stretch: Sharpe of 0 is not positive
    m = {"total_pnl": -0.01, "sharpe": 0.0, "max_drawdown": 0.0}
    assert evaluate_gates(m) == {"pass_pnl": False, "pass_sharpe": False, "pass_drawdown": True,
                                 "passed": False, "tier": "micro"}
    # NaN fails its gate; thresholds are configurable
    assert evaluate_gates({"total_pnl": 1.0, "sharpe": math.nan, "max_drawdown": 0.0})[
        "pass_sharpe"] is False
    assert Gates(min_pnl=10.0).evaluate({"total_pnl": 9.0, "sharpe": 1.0, "max_drawdown": 0.0})[
        "pass_pnl"] is False
    # tiers: 40 % of 1k, 10k, 100k, 1M, 10M
    assert [tier_for(x) for x in (400.0, 4_000.0, 4_000.5, 4e6, 4.1e6)] == [
        "micro", "small", "medium", "desk", "none"]
    assert g.evaluate(m, budget="medium")["pass_drawdown"] is True
    with pytest.raises(ConfigError, match="budget"):
        g.evaluate(m, budget="huge")
    with pytest.raises(ConfigError, match="max_drawdown_frac"):
        Gates(max_drawdown_frac=0.0)
    assert Gates().pass_rate_ok(0.5) and not Gates().pass_rate_ok(0.49)


def test_sweep_rows_carry_the_gates(ev):
    res = sweep(ev, GridStrategy(0.01, 1.0), {"half_spread": [0.0, 0.01, 0.05]}, client="sync",
                progress=False, budget=2.0, **SETTINGS)
    f = res.frame
    for _, row in f.iterrows():
        assert row["pass_pnl"] == (row["total_pnl"] > 0)
        assert row["pass_sharpe"] == (row["sharpe"] > 0)
        assert row["pass_drawdown"] == (row["max_drawdown"] <= 0.4 * 2.0)
        assert row["passed"] == (row["pass_pnl"] and row["pass_sharpe"] and row["pass_drawdown"])
        assert row["tier"] == tier_for(row["max_drawdown"])


@pytest.mark.parametrize("grid, match", [
    ({}, r"^grid: must be a non-empty mapping"),
    ({"half_spred": [0.1]}, r"^grid\['half_spred'\]: unknown parameter"),
    ({"half_spread": []}, r"^grid\['half_spread'\]: empty list"),
    ({"half_spread": "0.1"}, r"^grid\['half_spread'\]: must be a list"),
    ({"half_spread": 0.1}, r"^grid\['half_spread'\]: must be a list"),
    ({"half_spread": [0.01, -1.0]}, r"^grid\['half_spread'\] = -1.0: half_spread: must be"),
    ({"levels": [1, 0]}, r"^grid\['levels'\] = 0: levels"),
    ({"queue_model": ["power", "bogus"]}, r"^grid\['queue_model'\] = 'bogus'"),
    ({"interval": [0]}, r"^grid\['interval'\] = 0: interval"),
    ({"max_position": [1.0]}, r"^grid\['max_position'\]: also given as a fixed setting"),
])
def test_bad_grid_names_the_argument(grid, match):
    with pytest.raises(ConfigError, match=match):
        expand_grid(GridStrategy(0.01, 1.0), grid, {"max_position": 2.0})


def test_bad_arguments_raise_before_any_cluster_starts(ev):
    with pytest.raises(ConfigError, match="^grid"):
        sweep(ev, GridStrategy(0.01, 1.0), {"half_spread": []}, progress=False)
    with pytest.raises(ConfigError, match="^strategy"):
        sweep(ev, object(), {"half_spread": [0.1]}, progress=False)
    with pytest.raises(ConfigError, match="^client"):
        sweep(ev, GridStrategy(0.01, 1.0), {"half_spread": [0.1]}, client=3, progress=False)
    with pytest.raises(ConfigError, match="^n_workers"):
        sweep(ev, GridStrategy(0.01, 1.0), {"half_spread": [0.1]}, n_workers=0, progress=False)
    with pytest.raises(ConfigError, match="^start"):
        walk_forward(ev, GridStrategy(0.01, 1.0), {"half_spread": [0.1]}, train="10s",
                     test="10s", start=0, progress=False)
    with pytest.raises(ConfigError, match="^seed"):
        seed_campaign(ev, GridStrategy(0.01, 1.0), seeds=2, seed=3, progress=False)
    with pytest.raises(ConfigError, match="^seeds"):
        seed_campaign(ev, GridStrategy(0.01, 1.0), seeds=[1, 1], progress=False)


@pytest.mark.parametrize("train, test, step, anchored", [
    ("2D", "1D", None, False), ("3D", "1D", "2D", False), ("1D", "1D", None, True),
    ("45min", "20min", "20min", False), (7 * S, 3 * S, 3 * S, True),
])
def test_walk_forward_windows_do_not_overlap(train, test, step, anchored):
    t0 = 1_700_000_000 * S + 12_345
    w = walk_forward_windows(t0, t0 + 9 * DAY, train, test, step=step, anchored=anchored)
    assert len(w) >= 2
    assert (w["train_start"] < w["train_end"]).all()
    assert (w["train_end"] <= w["test_start"]).all()  # train precedes test
    assert (w["test_start"] < w["test_end"]).all()
    # test windows follow each other without overlapping
    assert (w["test_start"].to_numpy()[1:] >= w["test_end"].to_numpy()[:-1]).all()
    if anchored:
        assert (w["train_start"] == w["train_start"].iloc[0]).all()


def test_window_cut_keeps_the_book_and_reads_nothing_after(ev):
    t = int(ev["exch_ts"][0]) + 12 * S + 500
    end = t + 6 * S
    w = window_events(ev, t, end, tick_size=0.01)
    inside = w["exch_ts"] > t
    assert w["exch_ts"].min() >= t and w["exch_ts"].max() < end
    # the book replayed from the cut equals the book replayed over the whole history
    full = BookState(0.01).apply(ev[ev["exch_ts"] < end], check_crossed=False)
    cut = BookState(0.01).apply(w, check_crossed=False)
    pd.testing.assert_series_equal(cut.top(10), full.top(10))
    # no leak: changing everything from `end` on changes nothing in the window
    ev2 = ev.copy()
    later = ev2["exch_ts"] >= end
    ev2["qty"][later] += 7.0
    np.testing.assert_array_equal(window_events(ev2, t, end, tick_size=0.01), w)
    # nor does changing what lies inside the window change its opening snapshot
    ev3 = ev.copy()
    ev3["qty"][(ev3["exch_ts"] >= t) & (ev3["exch_ts"] < end)] += 3.0
    w3 = window_events(ev3, t, end, tick_size=0.01)
    np.testing.assert_array_equal(w3[~inside], w[~inside])


def test_walk_forward_multi_day_matches_sequential_selection(client):
    ev = synthetic.synthetic_l2_events(days=4, session_seconds=20, seed=9, trade_rate=4.0,
                                       sigma_px=0.03)
    grid = {"half_spread": [0.0, 0.01, 0.02], "skew": [0.0, 0.005]}
    # strategy steps of 1 s: the runs step through the overnight gaps of the 20 s sessions
    st = dict(tick_size=0.01, lot_size=1.0, max_position=3.0, entry_latency=2 * MS, interval=S)
    wf = walk_forward(ev, GridStrategy(0.01, 1.0), grid, train="2D", test="1D",
                      objective="total_pnl", client=client, progress=False, budget="micro", **st)
    w = wf.to_frame()
    assert w["window"].tolist() == [0, 1]
    day0 = pd.Timestamp("2024-01-02", tz="UTC")
    assert w["train_start"].tolist() == [day0, day0 + pd.Timedelta("1D")]
    assert w["test_start"].tolist() == [day0 + pd.Timedelta("2D"), day0 + pd.Timedelta("3D")]
    cfgs = expand_grid(GridStrategy(0.01, 1.0), grid, st)
    for _, row in w.iterrows():
        tr = window_events(ev, row["train_start"].value, row["train_end"].value, tick_size=0.01)
        te = window_events(ev, row["test_start"].value, row["test_end"].value, tick_size=0.01)
        assert tr["exch_ts"].max() < row["test_start"].value <= te["exch_ts"].min()
        pnl = [run(tr, c["strategy"], **c["settings"]).pnl["total"] for c in cfgs]
        assert row["config"] == int(np.argmax(pnl))  # chosen in sample only
        assert row["is_total_pnl"] == max(pnl)
        c = cfgs[int(row["config"])]
        oos = run(te, c["strategy"], **c["settings"])
        assert row["total_pnl"] == oos.pnl["total"]
        assert row["passed"] == Gates().evaluate(oos, "micro")["passed"]
    assert wf.pass_rate == w["passed"].mean()
    assert wf.passed == (wf.pass_rate >= 0.5)
    assert len(wf.in_sample) == 2 * len(cfgs)
    assert wf.summary()["windows"] == 2


def test_walk_forward_on_the_amzn_day_in_windows(data_dir):
    msg = (data_dir / "lobster" / "amzn_l1_full_day"
           / "AMZN_2012-06-21_34200000_57600000_message_1.csv")
    ev = l3_to_l2(load_lobster(msg))
    wf = walk_forward(ev, GridStrategy(0.01, 100.0), {"half_spread": [0.01, 0.05, 0.1]},
                      train="60min", test="30min", client="sync", progress=False,
                      tick_size=0.01, lot_size=1.0, max_position=500.0, interval=S,
                      entry_latency=1 * MS, response_latency=1 * MS)
    w = wf.windows
    # 09:30-16:00 New York (13:30-20:00 UTC): train 60 min then 11 test windows of 30 min
    assert len(w) == 11
    assert w["test_start"].iloc[0] == pd.Timestamp("2012-06-21 14:30", tz="UTC")
    assert w["test_end"].iloc[-1] == pd.Timestamp("2012-06-21 20:00", tz="UTC")
    assert (w["test_events"] > 100).all() and (w["n_fills"] >= 0).all()
    assert 0.0 <= wf.pass_rate <= 1.0 and wf.pass_rate == w["passed"].mean()


def test_seed_campaign_equals_seeded_runs(client, ev):
    strat = GridStrategy(0.0, 1.0, skew=0.002)
    lat = [1 * MS, 40 * MS, 90 * MS]
    st = dict(SETTINGS, entry_latency=lat, response_latency=lat)
    c = seed_campaign(ev, strat, seeds=[0, 1, 2, 3], client=client, progress=False, **st)
    f = c.to_frame()
    for s in range(4):
        ref = run(ev, strat, seed=s, **st)
        assert f["total_pnl"].iloc[s] == ref.pnl["total"]
        assert f["n_fills"].iloc[s] == len(ref.fills)
    # latency drawn from a distribution: the seeds give different runs
    assert f["total_pnl"].nunique() > 1 or f["n_fills"].nunique() > 1
    gen = functools.partial(synthetic.synthetic_l2_events, session_seconds=10, trade_rate=4.0)
    c2 = seed_campaign(gen, strat, seeds=3, client=client, progress=False, **st)
    for s in range(3):
        ref = run(gen(seed=s), strat, seed=s, **st)
        assert c2.frame["total_pnl"].iloc[s] == ref.pnl["total"]
    summ = c2.summary()
    p = c2.frame["total_pnl"]
    assert summ["mean_total_pnl"] == pytest.approx(p.mean(), rel=1e-12)
    # 95 % Student-t interval, t(0.975, 2 dof) = 4.302652729911275 (scipy.stats.t.ppf)
    half = 4.302652729911275 * p.std(ddof=1) / math.sqrt(3)
    assert summ["ci95_high"] - summ["mean_total_pnl"] == pytest.approx(half, rel=1e-9)


def test_results_plot_and_summarise(ev):
    import holoviews as hv

    st = dict(SETTINGS)
    del st["entry_latency"]
    grid = {"half_spread": [0.0, 0.01], "entry_latency": [[1 * MS, 5 * MS], [20 * MS]]}
    sw = sweep(ev, GridStrategy(0.01, 1.0), grid, client="sync", progress=False, **st)
    assert sw.frame["entry_latency"].tolist() == ["[1000000, 5000000]", "[20000000]"] * 2
    assert isinstance(sw.plot("total_pnl"), hv.core.Dimensioned)
    assert sw.summary()["configs"] == 4
    wf = walk_forward(ev, GridStrategy(0.01, 1.0), {"half_spread": [0.0, 0.01]}, train="10s",
                      test="5s", origin=int(ev["exch_ts"][0]), client="sync", progress=False,
                      **st)
    assert isinstance(wf.plot(), hv.core.Dimensioned)
    c = seed_campaign(ev, GridStrategy(0.0, 1.0), seeds=3, client="sync", progress=False, **st)
    assert isinstance(c.plot(), hv.core.Dimensioned)
