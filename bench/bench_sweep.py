"""A Dask sweep of 64 configurations on 1 and on 2 warm local workers, beside plain ``run`` calls.

Run: ``.venv/bin/python bench/bench_sweep.py [--repeat 5] [--session-seconds 3600]``

Target (issue 5): on 2 warm local workers (one thread each, the data scattered once, start-up
excluded) the sweep runs >= 1.6x faster than on 1 worker.

Set-up: one synthetic L2 session (``synthetic_l2_events``, ``--session-seconds`` long, seed 1),
``GridStrategy`` over a 4 x 4 x 4 grid (``half_spread`` x ``skew`` x ``queue_model``), 100 ms
strategy steps, 2 ms latencies. Two clusters, ``LocalCluster(n_workers,
threads_per_worker=1, processes=True)`` with 1 and with 2 workers, are started, every worker
warmed (the compiled engine loaded from numba's cache) and the events scattered once to each
(``client.scatter(broadcast=True)``); none of that is timed. Each timed repeat is one
``sweep(future, ...)`` call: submitting 64 tasks, running ``run(...).summary()`` on the workers,
gathering the 64 metric rows, computing the gates. Repeats alternate between the two clusters
(idle workers use no CPU), so both see the same load from other jobs; the figures are medians of
``--repeat`` repeats (default 5); the median of the paired ratios and the ratio of the best
times are printed too, since other jobs on a shared machine make single repeats noisy.

Reference row: the same 64 ``run(...).summary()`` calls one after another in this process (no
Dask), the cost a sweep parallelises. The machine's load average is printed: other jobs on the
2 cores lower the 2-worker figure.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mmlab.backtest import (  # noqa: E402
    GridStrategy,
    expand_grid,
    research_client,
    run,
    sweep,
    warm_worker,
)
from mmlab.data import synthetic  # noqa: E402

MS = 1_000_000
GRID = {"half_spread": [0.0, 0.01, 0.02, 0.04], "skew": [0.0, 0.001, 0.003, 0.01],
        "queue_model": ["power", "log", "risk_averse", "power3"]}
SETTINGS = dict(tick_size=0.01, lot_size=1.0, max_position=10.0, entry_latency=2 * MS,
                response_latency=2 * MS, interval=100 * MS)
BASE = GridStrategy(half_spread=0.01, order_qty=1.0, levels=2)


def timed_sweep(client, fut) -> tuple[float, object]:
    t0 = time.perf_counter()
    res = sweep(fut, BASE, GRID, client=client, progress=False, **SETTINGS)
    return time.perf_counter() - t0, res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--session-seconds", type=float, default=3600.0)
    a = ap.parse_args()
    logging.getLogger("distributed").setLevel(logging.CRITICAL)  # no shutdown chatter
    ev = synthetic.synthetic_l2_events(session_seconds=a.session_seconds, seed=1, trade_rate=3.0)
    cfgs = expand_grid(BASE, GRID, SETTINGS)
    print(f"data: synthetic L2, {len(ev):,} events ({ev.nbytes / 1e6:.1f} MB), "
          f"{a.session_seconds:.0f} s; {len(cfgs)} configurations; median of {a.repeat} repeats; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")

    warm_worker()
    t0 = time.perf_counter()
    seq = [run(ev, c["strategy"], **c["settings"]).summary() for c in cfgs]
    t_seq = time.perf_counter() - t0

    # both clusters started, warmed and given the data before any timing; then the repeats
    # alternate 1 worker / 2 workers so that both see the same load from other jobs
    c1, c2 = research_client(n_workers=1), research_client(n_workers=2)
    try:
        f1 = c1.scatter(ev, broadcast=True, hash=False)
        f2 = c2.scatter(ev, broadcast=True, hash=False)
        assert len(c2.scheduler_info()["workers"]) == 2
        times1, times2 = [], []
        for _ in range(a.repeat):
            t, r1 = timed_sweep(c1, f1)
            times1.append(t)
            t, r2 = timed_sweep(c2, f2)
            times2.append(t)
    finally:
        c1.close()
        c2.close()
    t1, t2 = statistics.median(times1), statistics.median(times2)
    same = (r1.frame["total_pnl"].tolist() == r2.frame["total_pnl"].tolist()
            == [s["total_pnl"] for s in seq])
    speed = t1 / t2
    pair = statistics.median(x / y for x, y in zip(times1, times2, strict=True))
    best = min(times1) / min(times2)
    hdr = f"{'set-up':<34} {'speedup vs 1 worker':>20} {'wall s':>8} {'runs/s':>7}  repeats (s)"
    print(hdr)
    print("-" * len(hdr))
    print(f"{'in-process run() loop (no Dask)':<34} {t1 / t_seq:20.2f} {t_seq:8.2f} "
          f"{len(cfgs) / t_seq:7.1f}  {t_seq:.2f}")
    for name, t, ts in (("Dask sweep, 1 worker", t1, times1), ("Dask sweep, 2 workers", t2,
                                                                times2)):
        print(f"{name:<34} {t1 / t:20.2f} {t:8.2f} {len(cfgs) / t:7.1f}  "
              + " ".join(f"{x:.2f}" for x in ts))
    print(f"speedup 2 workers / 1 worker: {speed:.2f}x median / median (target >= 1.6x: "
          f"{'met' if speed >= 1.6 else 'missed'}); median of paired ratios {pair:.2f}x; "
          f"best / best {best:.2f}x; identical PnL in all three: {same}")
    for name, r in (("1 worker", r1), ("2 workers", r2)):
        f = r.frame
        print(f"{name}: mean backtest {f['run_seconds'].mean():.3f} s wall, "
              f"{f['cpu_seconds'].mean():.3f} s CPU on the worker "
              f"(wall/CPU {f['run_seconds'].sum() / f['cpu_seconds'].sum():.2f}: > 1 = the core "
              "was shared)")
    print(f"load average now {os.getloadavg()[0]:.2f}; configurations passing all gates: "
          f"{int(r2.frame['passed'].sum())}/{len(cfgs)}")


if __name__ == "__main__":
    main()
