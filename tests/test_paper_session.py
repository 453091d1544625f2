"""The paper session is the one core on the event bus (issue 10): ``PaperSession`` feeds the
step driver vendor row by vendor row, publishes every fill and risk event, journals them, and
its result is the backtest's on the same events (the same code, not a second implementation).

Reference values: ``mmlab.backtest.run`` on the same events and settings.
"""

from __future__ import annotations

import math

import pandas as pd

from mmlab.backtest import GridStrategy, run
from mmlab.data import synthetic_l2_events
from mmlab.runtime import FillEvent, Journal, PaperSession, RiskEvent

MS = 1_000_000
KW = dict(tick_size=0.01, lot_size=1.0, max_position=5.0, entry_latency=2 * MS,
          response_latency=2 * MS)


def test_paper_session_is_the_backtest_on_the_bus(tmp_path):
    ev = synthetic_l2_events(session_seconds=60, seed=3)
    strat = GridStrategy(half_spread=0.01, order_qty=1.0, skew=0.002)
    end = int(ev["local_ts"].max())
    sess = PaperSession(strat, session_end=end, settings=dict(KW, end=end),
                        journal_path=str(tmp_path / "journal.sqlite"), symbol="SYN")
    seen = []
    sess.bus.subscribe(seen.append)
    res = sess.run(ev)
    ref = run(ev, strat, session_end=end, **KW)
    assert len(ref.fills) > 20
    pd.testing.assert_frame_equal(res.fills, ref.fills)
    assert res.pnl == ref.pnl
    fills = [e for e in seen if isinstance(e, FillEvent)]
    assert len(fills) == len(res.fills)
    # each published fill carries the position after it; the last is the final position
    assert math.isclose(fills[-1].position, res.counters["position"], abs_tol=1e-9)
    assert max(abs(f.position) for f in fills) <= 5.0 + 1e-9
    sess.close()
    j = Journal(tmp_path / "journal.sqlite")
    df = j.read()
    j.close()
    assert (df["type"] == "FillEvent").sum() == len(res.fills)


def test_kill_switch_is_published_and_journalled(tmp_path):
    ev = synthetic_l2_events(session_seconds=30, seed=4)
    sess = PaperSession(GridStrategy(half_spread=0.01, order_qty=1.0),
                        session_end=int(ev["local_ts"].max()), settings=KW,
                        journal_path=str(tmp_path / "j.sqlite"))
    risk = []
    sess.bus.subscribe(risk.append, types=(RiskEvent,))
    half = len(ev) // 2
    sess.feed(ev[:half])
    sent = sess.snapshot()["orders_sent"]
    sess.kill()
    sess.feed(ev[half:])
    res = sess.result()
    assert [e.kind for e in risk] == ["kill_switch"]
    assert res.counters["orders_sent"] == sent
    assert sess.snapshot()["working_orders"] == 0
    h = sess.history()
    assert len(h) > 100 and list(h.columns) == ["mid", "position", "equity"]
    sess.close()
    j = Journal(tmp_path / "j.sqlite")
    df = j.read()
    j.close()
    assert (df["type"] == "RiskEvent").sum() == 1
