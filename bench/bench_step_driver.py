"""The step driver's cost when driven from Python: per event and per decision.

Run: ``.venv/bin/python bench/bench_step_driver.py [--repeats 5]``

Targets (issue 10): median cost per event <= 5 us when the events arrive in batches of 100, and
per decision <= 50 us. Side by side with the reference, the compiled backtest loop
(:func:`mmlab.backtest.run`) on the same events and settings, in the same run; the fills are
checked identical.

* **per event**: the wall time of feeding the shipped Binance USD-M BTCUSDT day (a grid at
  100 ms, 10 ms latencies) to a :class:`~mmlab.backtest.StepDriver` 100 rows at a time, plus
  ``finish()``, over the number of events; the backtest's the same over one ``run``.
* **per decision**: a driver fed the first half of the day, then advanced one strategy
  interval at a time past its last row with ``advance_to`` (a feed gone quiet: each call takes
  exactly one decision: quote, risk, reconcile, and the requests and responses due before it),
  the median wall time of a call over 2,000 calls.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MS = 1_000_000
KW = dict(tick_size=0.1, lot_size=0.001, max_position=0.1, entry_latency=10 * MS,
          response_latency=10 * MS, maker_fee=0.0002, taker_fee=0.0005)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--batch", type=int, default=100)
    a = ap.parse_args()
    from mmlab.backtest import GridStrategy, StepDriver, run
    from mmlab.data import load_binance

    ev = load_binance(ROOT / "data" / "binance" / "usdm_btcusdt_20240808.gz")
    strat = GridStrategy(half_spread=2.0, order_qty=0.01, skew=100.0)
    end = int(max(ev["exch_ts"].max(), ev["local_ts"].max()))
    last_local = int(ev["local_ts"].max())
    n = len(ev)
    batches = [ev[i: i + a.batch].copy() for i in range(0, n, a.batch)]
    ref = run(ev, strat, **KW)  # warm the compiled kernels
    t_run, t_drv, t_dec = [], [], []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        ref = run(ev, strat, **KW)
        t_run.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        d = StepDriver(strat, session_end=end, end=last_local, **KW)
        for b in batches:
            d.feed(b)
        res = d.finish()
        t_drv.append(time.perf_counter() - t0)
        assert res.fills.equals(ref.fills) and res.pnl == ref.pnl, "fills differ"
        # decisions: feed the first half, then advance the clock one interval at a time past
        # the last row fed (a feed that has gone quiet): each call takes exactly one decision
        d = StepDriver(strat, session_end=end + 1000 * 10**9, end=last_local + 500 * 10**9,
                       **KW)
        half = n // 2
        d.feed(ev[:half].copy())
        interval = 100 * MS
        step0 = int(d._job.settings["tstart"])  # first decision time
        t_last = int(max(ev["exch_ts"][:half].max(), ev["local_ts"][:half].max()))
        t = step0 + ((t_last - step0) // interval + 1) * interval
        d.advance_to(t + 1)  # everything due up to the first quiet decision, included
        calls = []
        k0 = int(d._job.state.pos[3])
        for _ in range(2000):
            t += interval
            t0 = time.perf_counter()
            d.advance_to(t + 1)
            calls.append(time.perf_counter() - t0)
        assert int(d._job.state.pos[3]) - k0 == len(calls), "one decision per call"
        if calls:
            t_dec.append(statistics.median(calls))
    per_run = statistics.median(t_run) / n * 1e6
    per_drv = statistics.median(t_drv) / n * 1e6
    per_dec = statistics.median(t_dec) * 1e6 if t_dec else float("nan")
    print(f"events {n}, batches of {a.batch}, repeats {a.repeats} (medians); "
          f"fills {len(ref.fills)} identical in both")
    print(f"{'':28}{'step driver':>14}{'backtest run':>14}{'ratio':>8}")
    print(f"{'us per event':28}{per_drv:14.3f}{per_run:14.3f}{per_drv / per_run:8.2f}")
    print(f"{'us per decision (advance_to)':28}{per_dec:14.1f}{'':>14}{'':>8}")
    print(f"targets: <= 5 us per event: {'met' if per_drv <= 5 else 'NOT met'}; "
          f"<= 50 us per decision: {'met' if per_dec <= 50 else 'NOT met'}")
    print(json.dumps({"us_per_event_driver": per_drv, "us_per_event_run": per_run,
                      "us_per_decision": per_dec, "decisions_timed": len(calls),
                      "events": n, "batch": a.batch, "repeats": a.repeats}))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
