"""Properties of the one trading core (issue 10) at every decision, over 10,000 generated
sessions that trade (about 83 % with fills, 43 % with 5 or more: ``--hypothesis-show-statistics``
lists the ``event`` counts).

Each case is a seeded synthetic L2 stream (spread, volatility and trade rate drawn), a
strategy with aggressive random parameters (grid ladders, A-S, GLFT, adaptive, depth; clip to
the touch or not; post-only or taking), layers, risk zones, ``modify_orders``, an order-rate
throttle (``max_order_rate`` / ``order_burst``), a funding schedule, linear or inverse
contracts with multipliers and fees, constant entry and response latencies, queue model, fill
rules and hard limit; the local side runs against the simulated venue over the wire
(:class:`~mmlab.backtest.LoopbackDriver`: both halves of the core), fed in random batches,
with the kill switch pulled at a random batch.

The wire is recorded (every request the local side sends, every response it takes) and the
local side's view is rebuilt from it (:class:`Shadow`: position from the fills heard, working
and in-flight orders from the requests and their answers), independently of the core's
order states. Checked:

* at every request sent (a decision): a new order, or a modify that grows an order, keeps the
  side's position + working + in-flight within the hard limit, and its price does not cross
  any live order of ours on the other side (working, in flight, being modified or cancelled);
* the throttle: in any window of send times ``[t_i, t_j]`` at most ``order_burst +
  max_order_rate x (t_j - t_i)`` new orders and modifies go out;
* nothing but cancels is sent after the kill switch;
* at every fill: the position (the running sum of the fills) within the hard limit;
* after every batch: the local side's own view (its snapshot) within the limit, uncrossed,
  and nothing more sent after the kill;
* at every recorded step: the venue's position equals the sum of the fills booked before it,
  the local side's the sum of the fills it has heard; the PnL components add up to the
  equity, and the equity equals cash + position x value(mark) - fees + funding computed from
  the fills alone (fees re-computed from the fee schedule, funding from the schedule and the
  position) within 1e-9, absolute; the same at the end for the result's total.

Findings of this test, fixed in the core and kept as explicit examples below: A, one-level
strategies sent orders onto our own order of the other side; B, responses overtaking each
other under a recorded response latency lost fills on the local side (requests and
responses now arrive in the order sent); C, a modify in flight with partial fills over-filled
the hard limit (a modify now carries the order's new total quantity).

Amounts are in the settlement currency through the value coordinate of one contract
(:mod:`mmlab.backtest.core.primitives`: ``x(p) = m p`` linear, ``-m / p`` inverse).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, event, example, given, settings
from hypothesis import strategies as st

from mmlab.backtest import (
    REQUEST_DTYPE,
    RESPONSE_DTYPE,
    GridStrategy,
    LoopbackDriver,
    SimulatedVenue,
)
from mmlab.data import synthetic
from mmlab.quoting import (
    AdaptiveSpreadConfig,
    AvellanedaStoikovConfig,
    DepthConfig,
    GLFTConfig,
)
from mmlab.risk import RiskLimits

MS = 1_000_000
N_CASES = 10_000
TOL = 1e-9
# request and response kinds on the wire (mmlab.backtest.REQUEST_KINDS / RESPONSE_KINDS)
NEW, CANCEL, MODIFY = 1, 2, 3
ACK, FILL, CANCELLED, REJECTED, CANCEL_REJECTED, MODIFIED, MODIFY_REJECTED = range(1, 8)


def value(px, mult, inverse):
    """One contract's value coordinate (the core's definition, primitives' docstring)."""
    return -mult / px if inverse else mult * px


class Recorder(SimulatedVenue):
    """The simulated venue, keeping every request handed to it and every response taken."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.requests: list[np.ndarray] = []
        self.replies: list[np.ndarray] = []
        self.turn = 0  # request and response chunks in the order they crossed the wire
        self.req_turn: list[np.ndarray] = []
        self.resp_turn: list[np.ndarray] = []

    def submit(self, requests):
        if len(requests):
            self.turn += 1
            self.requests.append(requests.copy())
            self.req_turn.append(np.full(len(requests), self.turn))
        super().submit(requests)

    def responses(self):
        out = super().responses()
        if len(out):
            self.turn += 1
            self.replies.append(out.copy())
            self.resp_turn.append(np.full(len(out), self.turn))
        return out

    def n_requests(self):
        return sum(len(r) for r in self.requests)


def wire(chunks, dtype):
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype)


class Shadow:
    """The local side's view rebuilt from the wire alone: the position from the fills heard,
    each live order's side, tick and leaves (a modify in flight: its old and new tick, and
    the larger of its old and new leaves), an order live until it is filled, cancelled or
    rejected."""

    def __init__(self, lot):
        self.pos = 0.0
        self.live: dict[int, list] = {}  # id -> [side, tick, leaves, mtick, mqty]
        self.side: dict[int, int] = {}
        self.filled: dict[int, float] = {}
        self.eps = lot * 1e-9

    def exposure(self, side):
        tot = side * self.pos
        for s, _tk, lv, _mt, mq in self.live.values():
            if s == side:
                tot += max(lv, mq) if mq is not None else lv
        return tot

    def ticks(self, side):
        out = []
        for s, tk, _lv, mt, _mq in self.live.values():
            if s == side:
                out.append(tk)
                if mt is not None:
                    out.append(mt)
        return out

    def hear(self, r):
        oid, kind = int(r["order_id"]), int(r["kind"])
        o = self.live.get(oid)
        if kind == FILL:
            self.pos += self.side[oid] * float(r["qty"])
            self.filled[oid] = self.filled.get(oid, 0.0) + float(r["qty"])
            if o is not None:
                o[2] -= float(r["qty"])
                if o[2] <= self.eps:
                    del self.live[oid]
        elif o is None:
            return
        elif kind in (CANCELLED, REJECTED):
            del self.live[oid]
        elif kind == MODIFIED:
            o[1], o[2], o[3], o[4] = o[3], float(r["qty"]), None, None
        elif kind == MODIFY_REJECTED:
            o[3], o[4] = None, None

    def send(self, q, limit):
        """Apply request ``q``; returns what it breaks (an empty list when nothing)."""
        oid, kind, side = int(q["order_id"]), int(q["kind"]), int(q["side"])
        tk, qty = int(q["price_tick"]), float(q["qty"])
        bad = []
        if kind == NEW:
            if self.exposure(side) + qty > limit + self.eps:
                bad.append("hard limit")
            other = self.ticks(-side)
            if other and (tk >= min(other) if side == 1 else tk <= max(other)):
                bad.append("cross")
            self.side[oid] = side
            self.live[oid] = [side, tk, qty, None, None]
        elif kind == MODIFY and oid in self.live:
            o = self.live[oid]
            # a modify's qty is the order's new total quantity (mmlab.backtest.REQUEST_KINDS'
            # note): its new leaves are that less what the local side has heard filled
            qty -= self.filled.get(oid, 0.0)
            grow = qty - o[2]
            if grow > 0 and self.exposure(side) + grow > limit + self.eps:
                bad.append("hard limit")
            other = self.ticks(-side)
            if other and (tk >= min(other) if side == 1 else tk <= max(other)):
                bad.append("cross")
            o[3], o[4] = tk, qty
        return bad


def replay_wire(req, resp, req_turn, resp_turn, entry, limit, lot, kill_at):
    """Walk the wire in the local side's order: a decision at ``t`` has heard the responses
    arriving at or before ``t`` that crossed the wire before its requests did (``*_turn``);
    a decision's requests in their sending order. Returns the breaches found at each request
    sent and the position heard."""
    sh = Shadow(lot)
    sent = req["ts"] - entry
    ev = [(int(t), int(k), 0, int(r["seq"]), i)
          for i, (t, k, r) in enumerate(zip(resp["ts"], resp_turn, resp, strict=True))]
    ev += [(int(t), int(k), 1, int(r["seq"]), i)
           for i, (t, k, r) in enumerate(zip(sent, req_turn, req, strict=True))]
    ev.sort()
    breaches = []
    for t, _turn, who, _seq, i in ev:
        if who == 0:
            sh.hear(resp[i])
        else:
            for b in sh.send(req[i], limit):
                breaches.append((b, t, int(req[i]["order_id"])))
            if kill_at is not None and i >= kill_at and req[i]["kind"] != CANCEL:
                breaches.append(("sent after the kill", t, int(req[i]["order_id"])))
    return breaches, sh.pos


def throttle_excess(t_ns, rate, burst):
    """The largest ``count(t_i..t_j) - burst - rate x (t_j - t_i)`` over windows of the
    sorted send times ``t_ns`` (<= 0: the bucket's bound holds)."""
    if len(t_ns) == 0 or not math.isfinite(rate):
        return -math.inf
    t = (np.sort(t_ns) - t_ns.min()) * 1e-9
    a = np.arange(len(t)) - rate * t  # count(i..j) - rate (t_j - t_i) = a_j - a_i + 1
    return float((a - np.minimum.accumulate(a)).max() + 1.0 - burst)


def _strategy(c, tick):
    kind, a, b, qty, limit = c["kind"], c["a"], c["b"], c["qty"], c["limit"]
    if kind == "grid":
        return GridStrategy(half_spread=tick * a, order_qty=qty, skew=0.02 * b,
                            levels=c["levels"], grid_step=1 + int(3 * b) % 2,
                            clip=c["clip"] or "touch")
    if kind == "as":
        return AvellanedaStoikovConfig(gamma=0.05 + a, sigma_px=0.02, k=60.0 + 200 * b,
                                       order_size=qty, max_inventory=limit)
    if kind == "glft":
        return GLFTConfig(gamma=0.01 + a, sigma_px=0.02, A=1.0 + b, k=60.0 + 200 * a,
                          order_size=qty, max_inventory=limit)
    if kind == "depth":
        return DepthConfig(target_depth=1.0 + 20 * a, tick=tick, improve_ticks=int(3 * b),
                           skew_ticks=b, max_inventory=limit, order_size=qty)
    return AdaptiveSpreadConfig(base_spread=0.005 + 0.02 * a, vol_ref=0.02,
                                inventory_skew=b, order_size=qty, max_inventory=limit)


session = st.fixed_dictionaries({
    "seed": st.integers(0, 10_000),
    "seconds": st.floats(1.0, 4.0),
    "trade_rate": st.floats(10.0, 40.0),
    "spread_ticks": st.sampled_from([1, 1, 2, 3]),
    "sigma": st.floats(0.01, 0.1),
    "kind": st.sampled_from(["grid", "grid", "as", "glft", "adaptive", "depth"]),
    "a": st.floats(0.0, 1.0), "b": st.floats(0.0, 1.0),
    "levels": st.integers(1, 3),
    "clip": st.sampled_from([None, "none", "touch", "passive"]),
    "lot": st.sampled_from([1.0, 1.0, 0.1]),
    "qty": st.sampled_from([1, 1, 2, 3]),
    "limit": st.sampled_from([1, 2, 3, 5, 8]),
    "interval": st.sampled_from([20, 50, 100]),
    "entry": st.integers(0, 5), "resp": st.integers(0, 5), "resp_jitter": st.booleans(),
    "queue": st.sampled_from(["risk_averse", "power", "log", "power3"]),
    "partial": st.booleans(), "post_only": st.booleans(),
    "layers": st.sampled_from([None, None, True, ((1.0, 3.0), (0.6, 0.4))]),
    "zones": st.sampled_from([None, None, True, "tight"]),
    "modify": st.booleans(),
    "rate": st.sampled_from([math.inf, 2.0, 5.0, 20.0, 80.0]),
    "burst": st.sampled_from([None, 1.0, 2.5, 6.0]),
    "funding": st.booleans(),
    "inverse": st.booleans(),
    "mult": st.sampled_from([1.0, 10.0, 100.0]),
    "fees": st.sampled_from([(0.0, 0.0, 0.0), (-0.0001, 0.0005, 0.0), (0.0002, 0.0004, 0.01)]),
    "batch_hi": st.integers(10, 400), "batch_seed": st.integers(0, 1_000),
    "kill_at": st.floats(0.3, 2.5),
})


def _settings(c, ev, limit, lot):
    kw = dict(tick_size=0.01, lot_size=lot, max_position=limit,
              entry_latency=c["entry"] * MS, interval=c["interval"] * MS,
              queue_model=c["queue"], partial_fills=c["partial"], post_only=c["post_only"],
              modify_orders=c["modify"], max_order_rate=c["rate"], order_burst=c["burst"],
              inverse=c["inverse"], multiplier=c["mult"], maker_fee=c["fees"][0],
              taker_fee=c["fees"][1], fee_per_contract=c["fees"][2], record_every=1,
              seed=c["seed"])
    if c.get("resp_jitter"):  # a recorded distribution: responses may overtake each other
        kw["response_latency"] = np.array([0, 1, 2, 5, 9]) * MS + c["resp"] * MS
    else:
        kw["response_latency"] = c["resp"] * MS
    if layered(c):
        kw["layers"] = c["layers"]
    if c["zones"] == "tight":
        kw["zones"] = RiskLimits(max_position=limit, yellow=0.2, red=0.5,
                                 yellow_min_size=0.3, yellow_max_widen=3.0)
    else:
        kw["zones"] = c["zones"]
    if c["clip"] is not None and c["kind"] != "grid":
        kw["clip"] = c["clip"]
    if c["funding"]:
        t0, t1 = int(ev["exch_ts"].min()), int(ev["exch_ts"].max())
        ts = np.linspace(t0, t1, 6)[1:-1].astype(np.int64)
        kw["funding"] = (ts, np.array([0.01, -0.02, 0.003, -0.0005]))
    return kw


def independent_equity(f, fund, fees_of, mult, inverse, upto_seq, mark):
    """Cash + position x value(mark) - fees + funding after the fills and funding payments
    booked before each of ``upto_seq`` (the venue's sequence of actions), from the fills and
    the funding rows alone; and the position."""
    x = value(f["price"], mult, inverse)
    k = np.searchsorted(f["seq"], upto_seq)
    cash = np.concatenate([[0.0], np.cumsum(-(f["side"] * f["qty"] * x))])[k]
    pos = np.concatenate([[0.0], np.cumsum(f["side"] * f["qty"])])[k]
    fees = np.concatenate([[0.0], np.cumsum(fees_of)])[k]
    j = np.searchsorted(fund["seq"], upto_seq)
    fu = np.concatenate([[0.0], np.cumsum(fund["amount"])])[j]
    ok = np.isfinite(mark)
    xm = np.where(ok, value(np.where(ok, mark, 1.0), mult, inverse), 0.0)
    return cash + pos * xm - fees + fu, pos


def layered(c):
    """Whether the case's layering applies (a one-level quoting strategy)."""
    return c["layers"] is not None and (c["kind"] in ("as", "glft", "adaptive") or (
        c["kind"] == "grid" and c["levels"] == 1))


def check_session(c):
    """Run the session ``c`` over the wire and check every property (module docstring)."""
    lot = c["lot"]
    q = min(c["qty"], c["limit"])
    if layered(c):  # 40 / 35 / 25 % (or 60 / 40 %) of the size: at least a lot a level
        q *= 5
    qty, limit = q * lot, max(c["limit"], q) * lot
    c = dict(c, qty=qty, limit=limit)
    ev = synthetic.synthetic_l2_events(session_seconds=c["seconds"], seed=c["seed"],
                                       trade_rate=c["trade_rate"], latency_ms=1.0,
                                       spread_ticks=c["spread_ticks"], sigma_px=c["sigma"],
                                       lot=lot)
    strat = _strategy(c, 0.01)
    kw = _settings(c, ev, limit, lot)
    end = int(ev["local_ts"].max())
    venue = Recorder(strat, session_end=end, **kw)
    d = LoopbackDriver(strat, session_end=end, venue=venue, **kw)
    rng = np.random.default_rng(c["batch_seed"])
    n = len(ev)
    kill_row = int(c["kill_at"] * n)  # beyond the stream for kill_at > 1: never pulled
    i, kill_at, sent_at_kill = 0, None, None
    while i < n:
        m = int(rng.integers(1, c["batch_hi"] + 1))
        d.feed(ev[i: i + m].copy())
        i += m
        if kill_at is None and i >= kill_row and kill_row < n:
            d.kill()
            kill_at = venue.n_requests()
            sent_at_kill = d.local.snapshot()["orders_sent"]
        s = d.local.snapshot()
        lpos = s["local_position"]
        assert lpos + sum(q for _, q, _ in s["our_bids"]) <= limit + lot * 1e-9, s
        assert -lpos + sum(q for _, q, _ in s["our_asks"]) <= limit + lot * 1e-9, s
        if s["our_bids"] and s["our_asks"]:
            assert s["our_bids"][0][0] < s["our_asks"][0][0], s
        if sent_at_kill is not None:
            assert s["orders_sent"] == sent_at_kill
    res = d.finish()
    req = wire(venue.requests, REQUEST_DTYPE)
    resp = wire(venue.replies, RESPONSE_DTYPE)
    breaches, heard_pos = replay_wire(req, resp, wire(venue.req_turn, np.int64),
                                      wire(venue.resp_turn, np.int64), c["entry"] * MS,
                                      limit, lot, kill_at)
    crosses = [b for b in breaches if b[0] == "cross"]
    others = [b for b in breaches if b[0] != "cross"]
    assert not others, others[:5]
    assert not crosses, crosses[:5]
    # the throttle, on the wire: new orders and modifies by send time
    if len(req):
        t = req["ts"][req["kind"] != CANCEL] - c["entry"] * MS
        burst = c["burst"] if c["burst"] is not None else max(1.0, c["rate"])
        assert throttle_excess(t, c["rate"], burst) <= 1e-9
    f = {k: res.fills[k].to_numpy() for k in ("ts", "side", "qty", "price", "maker", "fee",
                                               "seq")}
    assert (np.diff(f["seq"]) > 0).all()
    # the position: the sum of the fills, at every fill within the limit
    run_pos = np.cumsum(f["side"] * f["qty"])
    assert (np.abs(run_pos) <= limit + lot * 1e-9).all(), (run_pos.min(), run_pos.max())
    pos = float(run_pos[-1]) if len(run_pos) else 0.0
    assert abs(pos - res.counters["position"]) <= TOL
    st_ = res.steps
    step_ts = st_["ts"].to_numpy()
    # the local side's position at each step: the fills it has heard of by then
    side_of = dict(zip(req["order_id"][req["kind"] == NEW].tolist(),
                       req["side"][req["kind"] == NEW].tolist(), strict=True))
    rf = np.sort(resp[resp["kind"] == FILL], order=["ts", "seq"])
    heard = np.array([side_of[int(o)] for o in rf["order_id"]], dtype=float) * rf["qty"]
    cum = np.concatenate([[0.0], np.cumsum(heard)])
    # (a response arriving at a step's time is heard before it unless its request was sent
    # then: either count)
    lp = st_["local_position"].to_numpy()
    after = np.abs(cum[np.searchsorted(rf["ts"], step_ts, side="right")] - lp)
    before = np.abs(cum[np.searchsorted(rf["ts"], step_ts, side="left")] - lp)
    gap = np.minimum(after, before)
    assert gap.max(initial=0.0) <= TOL, (int(gap.argmax()), step_ts[gap.argmax()],
                                         lp[gap.argmax()], cum, rf, step_ts)
    assert abs(cum[-1] - heard_pos) <= TOL
    # PnL: fees from the schedule, funding from the schedule and the position
    mult, inv = c["mult"], c["inverse"]
    xf = value(f["price"], mult, inv)
    rate = np.where(f["maker"], kw["maker_fee"], kw["taker_fee"])
    fees_of = rate * np.abs(f["qty"] * xf) + kw["fee_per_contract"] * f["qty"]
    assert np.abs(fees_of - f["fee"]).max(initial=0.0) <= TOL
    fu = {k: res.funding[k].to_numpy() for k in ("ts", "rate", "mark", "amount", "seq")}
    k = np.searchsorted(f["seq"], fu["seq"])
    qpos = np.concatenate([[0.0], run_pos])[k]
    amount = -fu["rate"] * qpos * np.abs(value(fu["mark"], mult, inv))
    assert np.abs(amount - fu["amount"]).max(initial=0.0) <= TOL
    mid = st_["mid"].to_numpy()
    ok = np.isfinite(mid)
    eq, spos = independent_equity(f, fu, fees_of, mult, inv, st_["seq"].to_numpy()[ok],
                                  mid[ok])
    split = (st_["spread_pnl"] + st_["inventory_pnl"] - st_["fees"] + st_["funding"]).to_numpy()
    assert np.abs(split - st_["equity"].to_numpy()).max(initial=0.0) <= TOL
    gap = np.abs(eq - st_["equity"].to_numpy()[ok])
    assert gap.max(initial=0.0) <= TOL, (gap.max(), int(gap.argmax()), eq[gap.argmax()],
                                         st_[ok].iloc[int(gap.argmax())].to_dict())
    assert np.abs(spos - st_["position"].to_numpy()[ok]).max(initial=0.0) <= TOL
    p = res.pnl
    assert abs(p["spread"] + p["inventory"] + p["fees"] + p["funding"] - p["total"]) <= TOL
    mark = res.counters["last_mark"]
    total, _ = independent_equity(f, fu, fees_of, mult, inv,
                                  np.array([np.iinfo(np.int64).max]), np.array([mark]))
    assert abs(float(total[0]) - p["total"]) <= TOL
    nf = len(run_pos)
    event(f"fills: {'0' if nf == 0 else '1-4' if nf < 5 else '5-19' if nf < 20 else '20+'}")
    event(f"strategy: {c['kind']}{' layered' if layered(c) else ''}")
    event(f"contract: {'inverse' if c['inverse'] else 'linear'}")
    event(f"risk zones: {'on' if c['zones'] else 'off'}")
    event(f"modifies sent: {'yes' if (req['kind'] == MODIFY).any() else 'no'}")
    event(f"throttle held orders back: {'yes' if res.counters['throttled'] else 'no'}")
    event(f"kill switch pulled: {'yes' if kill_at is not None else 'no'}")
    event(f"funding paid: {'yes' if np.any(fu['amount'] != 0) else 'no'}")
    full = nf > 0 and np.abs(run_pos).max() >= limit - lot * 1e-9
    event(f"position reached the hard limit: {'yes' if full else 'no'}")


@settings(max_examples=N_CASES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(session)
def test_core_invariants_at_every_decision(c):
    check_session(c)


def test_the_checks_catch_planted_breaches():
    """Each check fails on a breach planted by hand: an order over the limit, a bid on our
    own ask, a burst beyond the bucket, an order after the kill."""
    req = np.zeros(3, REQUEST_DTYPE)
    req["kind"], req["order_id"], req["side"] = NEW, [1, 2, 3], [1, -1, 1]
    req["price_tick"], req["qty"], req["seq"] = [100, 101, 101], [2.0, 1.0, 1.0], [0, 1, 2]
    req["ts"] = 1_000
    resp = np.zeros(0, RESPONSE_DTYPE)
    turns = np.ones(3, np.int64)
    found, _ = replay_wire(req, resp, turns, turns[:0], 0, 3.0, 1.0, None)
    # order 3: position 0 + working bids 2 + 1 = 3 is within 3, but 101 is on our ask at 101
    assert found == [("cross", 1_000, 3)]
    found, _ = replay_wire(req, resp, turns, turns[:0], 0, 2.5, 1.0, 2)
    assert sorted(b[0] for b in found) == ["cross", "hard limit", "sent after the kill"]
    t = np.array([0, 0, 0, 500_000_000], np.int64)  # 3 at once, then 1 after 0.5 s
    assert throttle_excess(t, 2.0, 3.0) <= 0.0  # 3 <= 3; 4 <= 3 + 2 x 0.5
    assert throttle_excess(t, 2.0, 2.0) == pytest.approx(1.0)  # 3 at once with a burst of 2
    assert throttle_excess(t, 1.0, 3.0) == pytest.approx(0.5)  # 4 > 3 + 1 x 0.5


# ------------------------------------------------------------------------- findings (issue 10)
# the sessions as found, and what the core did there before the fix (each now passes every check)
#: A1: GridStrategy(half_spread=0, clip="passive") on a book 99.99 / 100.01 (the mid on a
#: tick) sends a bid and an ask both at 100.00: our own orders lock at the first decision
FINDING_A1 = {'seed': 0, 'seconds': 1.0, 'trade_rate': 5.0, 'spread_ticks': 2, 'sigma': 0.005, 'kind': 'grid', 'a': 0.0, 'b': 0.0, 'levels': 1, 'clip': 'passive', 'lot': 1.0, 'qty': 1, 'limit': 1, 'interval': 100, 'entry': 0, 'resp': 0, 'resp_jitter': False, 'queue': 'risk_averse', 'partial': False, 'post_only': True, 'layers': None, 'zones': None, 'modify': False, 'rate': math.inf, 'burst': None, 'funding': False, 'inverse': False, 'mult': 1.0, 'fees': (0.0, 0.0, 0.0), 'batch_hi': 1, 'batch_seed': 0, 'kill_at': 2.5}
#: A2: a one-level ladder (grid, 2 levels, clip "none", skew) whose quotes jump after a fill:
#: at t0 + 1 s order 13, a bid at 100.04, is sent while our ask 8 at 100.01 is still live (its
#: cancel is sent after the bid, in the same decision): the bid crosses our own ask
FINDING_A2 = {'b': 0.8748132083688878, 'trade_rate': 2.00001, 'resp': 3, 'spread_ticks': 1, 'inverse': True, 'zones': True, 'layers': None, 'funding': True, 'kind': 'grid', 'batch_seed': 160, 'fees': (0.0002, 0.0004, 0.01), 'levels': 2, 'burst': 2.5, 'lot': 1.0, 'modify': False, 'seed': 54, 'clip': 'none', 'mult': 100.0, 'resp_jitter': True, 'limit': 8, 'partial': True, 'queue': 'power', 'sigma': 0.03699350982861103, 'rate': math.inf, 'kill_at': 1.6539232273089284, 'entry': 5, 'post_only': False, 'seconds': 1.1, 'interval': 100, 'batch_hi': 101, 'a': 0.6489004303967264, 'qty': 3}
#: B: responses out of order (a recorded response-latency distribution): order 7, a bid of 3
#: at 99.99, is cancelled at t0 + 0.300 s; the exchange fills 2 of it first (response 27,
#: arriving at t0 + 305.012 ms), then cancels the rest (response 28, arriving first, at t0 +
#: 304.001 ms); the local side frees the order on the cancel and drops the fill: from then
#: on its position is 2 short of the fills
FINDING_B = {'kind': 'grid', 'trade_rate': 24.151811688385727, 'fees': (-0.0001, 0.0005, 0.0), 'partial': True, 'kill_at': 0.3, 'resp': 0, 'batch_seed': 357, 'funding': False, 'levels': 2, 'modify': False, 'mult': 10.0, 'post_only': False, 'qty': 3, 'seed': 92, 'b': 0.0, 'sigma': 0.05968528306185002, 'queue': 'power', 'seconds': 1.0, 'a': 4.912094780840957e-284, 'interval': 50, 'lot': 1.0, 'inverse': False, 'entry': 4, 'layers': ((1.0, 3.0), (0.6, 0.4)), 'batch_hi': 92, 'spread_ticks': 3, 'rate': 80.0, 'burst': 2.5, 'zones': 'tight', 'resp_jitter': True, 'limit': 8, 'clip': 'none'}
#: C: modify_orders with partial fills: order 1, a bid of 0.6 at 99.99 (limit 1.0), is
#: modified at t0 + 0.200 s to 99.98 with leaves 0.6; 0.5 of it fills before the modify
#: reaches the exchange, which then sets its leaves to 0.6: position 0.5 + working 0.6 = 1.1
#: exceeds the hard limit (the local side counted max(leaves, new leaves) = 0.6 on top of 0)
FINDING_C = {'post_only': False, 'layers': ((1.0, 3.0), (0.6, 0.4)), 'seconds': 1.1718290814571095, 'inverse': True, 'trade_rate': 26.406130866396573, 'resp_jitter': False, 'queue': 'power3', 'mult': 100.0, 'spread_ticks': 2, 'kind': 'adaptive', 'interval': 100, 'lot': 0.1, 'burst': 1.0, 'a': 0.0, 'batch_seed': 184, 'partial': True, 'zones': True, 'batch_hi': 99, 'entry': 1, 'fees': (0.0002, 0.0004, 0.01), 'levels': 1, 'resp': 0, 'clip': 'touch', 'limit': 5, 'modify': True, 'qty': 2, 'kill_at': 0.5250849508462563, 'funding': True, 'sigma': 0.06484067774516276, 'rate': 20.0, 'b': 0.6738686782768201, 'seed': 0}


@example(FINDING_A1)
@settings(phases=[Phase.explicit], database=None, deadline=None)
@given(session)
def test_finding_a_grid_at_zero_spread_does_not_lock_own_orders(c):
    check_session(c)


@example(FINDING_A2)
@settings(phases=[Phase.explicit], database=None, deadline=None)
@given(session)
def test_finding_a_a_new_bid_waits_while_our_ask_is_live(c):
    check_session(c)


@example(FINDING_B)
@settings(phases=[Phase.explicit], database=None, deadline=None)
@given(session)
def test_finding_b_fills_before_the_cancel_answer_are_heard(c):
    check_session(c)


@example(FINDING_C)
@settings(phases=[Phase.explicit], database=None, deadline=None)
@given(session)
def test_finding_c_a_modify_in_flight_does_not_overfill(c):
    check_session(c)
