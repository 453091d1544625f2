"""Properties of the one trading core (issue 10), checked by Hypothesis over generated
sessions: a seeded synthetic L2 stream, a strategy with random parameters (grid ladders, A-S,
GLFT, adaptive), random latencies, queue model, fill rules and limit, fed to the step driver in
random batches, with the kill switch pulled at a random batch. After every batch:

* no side's exposure (position + working + in-flight orders of that side, the local side's
  view, which is what it limits) exceeds the hard limit;
* our own orders never cross (best own bid < best own ask);
* nothing is sent after the kill switch;

and at the end: the position equals the sum of the fills, and the PnL components add up to a
total computed independently from the fills (cash + position x mark - fees + funding) within
1e-9. 10,000 generated sessions (``derandomize``: the same cases on every run).

The throttle (``max_order_rate`` / ``order_burst``, a token bucket on new orders) is checked
on the wire: 300 sessions of the local side alone against the simulated venue, where no window
of send times holds more order actions than the bucket allows.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmlab.backtest import GridStrategy, LoopbackDriver, SimulatedVenue, StepDriver
from mmlab.data import synthetic
from mmlab.quoting import AdaptiveSpreadConfig, AvellanedaStoikovConfig, GLFTConfig

MS = 1_000_000
N_CASES = 10_000


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
    assert abs(indep - p["total"]) < 1e-9 * max(1.0, abs(cash))


# ----------------------------------------------------------------------------- the throttle
class _Recorder(SimulatedVenue):
    """The core's exchange side behind the wire, keeping the requests it is handed."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.requests: list[tuple[int, int]] = []

    def submit(self, requests):
        self.requests += [(int(r["ts"]), int(r["kind"])) for r in requests]
        super().submit(requests)


throttled = st.fixed_dictionaries({
    "seed": st.integers(0, 10_000),
    "seconds": st.floats(1.0, 4.0),
    "half": st.floats(0.0, 0.03), "skew": st.floats(0.0, 0.02),
    "levels": st.integers(1, 3), "interval": st.integers(5, 100),
    "rate": st.floats(0.5, 40.0), "burst": st.floats(1.0, 8.0),
    "entry": st.integers(0, 5), "limit": st.sampled_from([2.0, 5.0]),
    "batch_hi": st.integers(1, 200), "batch_seed": st.integers(0, 1_000),
    "kill_at": st.floats(0.3, 1.5),
})


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(throttled)
def test_the_throttle_is_never_exceeded(c):
    """Order actions (new orders and modifies) the local side sends, seen on the wire: in any
    window ``[t_i, t_j]`` of send times no more than ``order_burst + max_order_rate x (t_j -
    t_i)`` go out (the token bucket's bound: at most ``burst`` tokens at ``t_i``, refilled at
    ``rate`` per second), cancels are never held back, and nothing goes out after the kill."""
    ev = synthetic.synthetic_l2_events(session_seconds=c["seconds"], seed=c["seed"],
                                       trade_rate=4.0, latency_ms=1.0)
    strat = GridStrategy(half_spread=c["half"], order_qty=1.0, skew=c["skew"],
                         levels=c["levels"])
    kw = dict(tick_size=0.01, lot_size=1.0, max_position=c["limit"],
              entry_latency=c["entry"] * MS, interval=c["interval"] * MS,
              max_order_rate=c["rate"], order_burst=c["burst"])
    end = int(ev["local_ts"].max())
    venue = _Recorder(strat, session_end=end, **kw)
    d = LoopbackDriver(strat, session_end=end, venue=venue, **kw)
    rng = np.random.default_rng(c["batch_seed"])
    n = len(ev)
    kill_row = int(c["kill_at"] * n)
    i, sent_at_kill = 0, None
    while i < n:
        m = int(rng.integers(1, c["batch_hi"] + 1))
        d.feed(ev[i: i + m].copy())
        i += m
        if sent_at_kill is None and i >= kill_row and kill_row < n:
            d.kill()
            sent_at_kill = d.local.snapshot()["orders_sent"]
        _check_batch(d.local, c["limit"], sent_at_kill)
    res = d.finish()
    # send time = arrival at the venue - the (constant) entry latency
    t = np.array(sorted(ts for ts, kind in venue.requests if kind != 2), dtype=np.int64)
    t -= c["entry"] * MS
    assert len(t) == res.counters["orders_sent"] + res.counters.get("modifies_sent", 0)
    if len(t) > 1:
        span = (t[None, :] - t[:, None]) * 1e-9  # t_j - t_i (s)
        count = np.arange(len(t))[None, :] - np.arange(len(t))[:, None] + 1
        upper = np.triu(np.ones((len(t), len(t)), dtype=bool))
        bound = c["burst"] + c["rate"] * span + 1e-9
        assert (count[upper] <= bound[upper]).all(), (c, t)
    if sent_at_kill is not None:
        assert res.counters["orders_sent"] == sent_at_kill
