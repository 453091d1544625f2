"""The toxicity response in the one core (issue 10): when more than 80 % of our last 50 fills
are on one side, the quotes widen 2x from the mid and sizes halve; after 100 consecutive clean
fills they recover. On the shipped BTCUSDT perpetual day a symmetric grid (no skew) is run over
by the morning's one-way flow: the core's state changes must be exactly those of
:class:`mmlab.risk.ToxicityMonitor` (the reference rule, defaults 50 / 0.8 / 2x / 0.5x / 100)
replayed over the fills in the order the local side heard of them, and the quotes and sizes
must show the response.
"""

from __future__ import annotations

import numpy as np
import pytest

from mmlab.backtest import GridStrategy, run
from mmlab.data import load_binance
from mmlab.risk import ToxicityMonitor
from mmlab.runtime import replay

MS = 1_000_000
KW = dict(tick_size=0.1, lot_size=0.001, entry_latency=10 * MS, response_latency=10 * MS,
          maker_fee=0.0002, taker_fee=0.0005, max_position=1.0, record_every=1)
GRID = GridStrategy(half_spread=1.0, order_qty=0.01, skew=0.0)


@pytest.fixture(scope="module")
def res(data_dir):
    ev = load_binance(data_dir / "binance" / "usdm_btcusdt_20240808.gz")
    return ev, run(ev, GRID, **KW)


def test_state_changes_are_the_reference_monitors(res):
    _, r = res
    k = r.risk_events
    assert list(k["kind"]) == ["toxic_flow", "toxic_flow_end"]
    f = r.fills.sort_values(["local_ts", "seq"], kind="stable")
    mon = ToxicityMonitor()  # the defaults: window 50, threshold 0.8, x2, x0.5, 100 clean fills
    changes = []
    for t, side in zip(f["local_ts"], f["side"], strict=True):
        was = mon.toxic
        mon.on_fill(int(side))
        if mon.toxic != was:
            changes.append((int(t), "toxic_flow" if mon.toxic else "toxic_flow_end", mon.ratio))
    assert [(t, kd) for t, kd, _ in changes] == list(zip(k["ts"], k["kind"], strict=True))
    assert k["value"].iloc[0] > 0.8
    assert k["value"].iloc[0] == pytest.approx(changes[0][2], abs=1e-12)


def test_quotes_widen_and_sizes_halve_while_toxic(res):
    _, r = res
    t_on, t_off = (int(v) for v in r.risk_events["ts"])
    st = r.steps
    half = np.minimum(st["local_mid"] - st["quote_bid"], st["quote_ask"] - st["local_mid"])
    before = half[(st["ts"] < t_on)].dropna()
    during = half[(st["ts"] > t_on) & (st["ts"] <= t_off)].dropna()
    after = half[st["ts"] > t_off].dropna()
    assert len(before) > 100 and len(during) > 100 and len(after) > 100
    # half-spread 1.0 from the mid, rounded outwards to the 0.1 tick: in [1.0, 1.1) outside,
    # twice that while toxic (a few steps differ: a side clipped to a wide touch)
    assert before.between(1.0 - 1e-9, 1.1).mean() > 0.99
    assert after.between(1.0 - 1e-9, 1.1).mean() > 0.99
    assert during.between(2.0 - 1e-9, 2.1).mean() > 0.99
    # orders sent while toxic are 0.005 (0.5 x 0.01): fills from 200 ms after the state change
    # (one decision and the round trip) to the recovery are of those orders
    f = r.fills
    mid = f[(f["ts"] > t_on + 200 * MS) & (f["ts"] < t_off)]
    assert len(mid) > 10 and (mid["qty"] <= 0.005 + 1e-12).all()
    late = f[f["ts"] > t_off + 200 * MS]
    assert len(late) > 10 and (late["qty"] > 0.005 + 1e-12).any()


def test_the_step_driver_sees_the_same(res):
    ev, r = res
    got = replay(ev, GRID, batch_seed=7, **KW)
    assert got.risk_events.equals(r.risk_events)
    assert got.fills.equals(r.fills)


def test_off_switch():
    from mmlab.data import synthetic

    ev = synthetic.synthetic_l2_events(session_seconds=30, seed=2)
    on = run(ev, GridStrategy(half_spread=0.01, order_qty=1.0), max_position=5.0,
             toxicity_window=2, toxicity_threshold=0.5, toxicity_recovery=1)
    off = run(ev, GridStrategy(half_spread=0.01, order_qty=1.0), max_position=5.0,
              toxicity_window=0)
    assert (on.risk_events["kind"] == "toxic_flow").any()
    assert off.risk_events.empty
