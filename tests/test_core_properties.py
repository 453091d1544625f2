"""Properties of the one trading core (issue 10) on the paper driver (both sides in one
:class:`~mmlab.backtest.StepDriver`), checked by Hypothesis over generated sessions: a seeded
synthetic L2 stream, a strategy with random parameters (grid ladders, A-S, GLFT, adaptive),
random latencies, queue model, fill rules and limit, fed in random batches, with the kill
switch pulled at a random batch. After every batch:

* no side's exposure (position + working + in-flight orders of that side, the local side's
  view, which is what it limits) exceeds the hard limit;
* our own orders never cross (best own bid < best own ask);
* nothing is sent after the kill switch;

and at the end: the position equals the sum of the fills, and the PnL components add up to a
total computed independently from the fills (cash + position x mark - fees + funding) within
1e-9 (absolute). 1,000 generated sessions (``derandomize``: the same cases on every run).

The 10,000-case run of the acceptance, checked at every decision on the wire (hard limit,
own-order crosses, the throttle, the kill switch, position and PnL at every step) with
throttles, modifies, layers, zones, funding and inverse contracts drawn, is
``tests/test_core_properties_more.py``.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmlab.backtest import GridStrategy, StepDriver
from mmlab.data import synthetic
from mmlab.quoting import AdaptiveSpreadConfig, AvellanedaStoikovConfig, GLFTConfig

MS = 1_000_000
N_CASES = 1_000


def _strategy(kind, a, b, qty, limit):
    if kind == "grid":
        return GridStrategy(half_spread=0.005 + 0.03 * a, order_qty=qty, skew=0.01 * b,
                            levels=1 + int(3 * b) % 3, grid_step=1 + int(7 * a) % 3)
    if kind == "as":
        return AvellanedaStoikovConfig(gamma=0.05 + a, sigma_px=0.02, k=20.0 + 80 * b,
                                       order_size=qty, max_inventory=limit)
    if kind == "glft":
        return GLFTConfig(gamma=0.01 + a, sigma_px=0.02, A=1.0 + b, k=30.0 + 50 * a,
                          order_size=qty, max_inventory=limit)
    return AdaptiveSpreadConfig(base_spread=0.01 + 0.05 * a, vol_ref=0.02,
                                inventory_skew=b, order_size=qty, max_inventory=limit)


session = st.fixed_dictionaries({
    "seed": st.integers(0, 10_000),
    "seconds": st.floats(1.0, 5.0),
    "trade_rate": st.floats(1.0, 8.0),
    "kind": st.sampled_from(["grid", "as", "glft", "adaptive"]),
    "a": st.floats(0.0, 1.0), "b": st.floats(0.0, 1.0),
    "qty": st.sampled_from([1.0, 2.0, 3.0]),
    "limit": st.sampled_from([1.0, 2.0, 3.0, 5.0, 8.0]),
    "entry": st.integers(0, 5), "resp": st.integers(0, 5),
    "queue": st.sampled_from(["risk_averse", "power", "log"]),
    "partial": st.booleans(), "post_only": st.booleans(),
    "batch_hi": st.integers(1, 80), "batch_seed": st.integers(0, 1_000),
    "kill_at": st.floats(0.0, 1.5),
})


def _check_batch(d, limit, sent_at_kill):
    s = d.snapshot()
    lpos = s["local_position"]
    bids = s["our_bids"]
    asks = s["our_asks"]
    buy = lpos + sum(q for _, q, _ in bids)
    sell = -lpos + sum(q for _, q, _ in asks)
    assert buy <= limit + 1e-9 and sell <= limit + 1e-9, (lpos, bids, asks)
    if bids and asks:
        assert bids[0][0] < asks[0][0], (bids, asks)
    if sent_at_kill is not None:
        assert s["orders_sent"] == sent_at_kill


@settings(max_examples=N_CASES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(session)
def test_core_invariants(c):
    ev = synthetic.synthetic_l2_events(session_seconds=c["seconds"], seed=c["seed"],
                                       trade_rate=c["trade_rate"], latency_ms=1.0)
    strat = _strategy(c["kind"], c["a"], c["b"], c["qty"], c["limit"])
    d = StepDriver(strat, session_end=int(ev["local_ts"].max()), tick_size=0.01, lot_size=1.0,
                   max_position=c["limit"], entry_latency=c["entry"] * MS,
                   response_latency=c["resp"] * MS, queue_model=c["queue"],
                   partial_fills=c["partial"], post_only=c["post_only"], record_every=1)
    rng = np.random.default_rng(c["batch_seed"])
    n = len(ev)
    kill_row = int(c["kill_at"] * n)  # beyond the stream for kill_at > 1: never pulled
    i, sent_at_kill = 0, None
    while i < n:
        m = int(rng.integers(1, c["batch_hi"] + 1))
        d.feed(ev[i: i + m].copy())
        i += m
        if sent_at_kill is None and i >= kill_row and kill_row < n:
            d.kill()
            sent_at_kill = d.snapshot()["orders_sent"]
        _check_batch(d, c["limit"], sent_at_kill)
    res = d.finish()
    f = res.fills
    pos = float((f["side"] * f["qty"]).sum())
    assert math.isclose(pos, res.counters["position"], abs_tol=1e-9)
    if sent_at_kill is not None:
        assert res.counters["orders_sent"] == sent_at_kill
    p = res.pnl
    assert abs(p["spread"] + p["inventory"] + p["fees"] + p["funding"] - p["total"]) < 1e-9
    mark = res.counters["last_mark"]
    cash = -float((f["side"] * f["qty"] * f["price"]).sum())
    indep = cash + (pos * mark if math.isfinite(mark) else 0.0) - float(f["fee"].sum())
    assert abs(indep - p["total"]) <= 1e-9
