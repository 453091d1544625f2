"""Peak resident memory one backtest adds beyond its loaded event array, against that array's size.

Run: ``.venv/bin/python bench/bench_memory.py [--cases synthetic-2h,amzn-1s]``

Target (issue 5): the peak resident memory a backtest adds beyond its loaded event array is at
most the size of that array (``ratio = added / array <= 1``).

How it is measured, per case, in a fresh Python process (one subprocess each, so one case's
allocations cannot hide another's):

1. load the events (``EVENT_DTYPE``, 64 bytes an event) and keep only the array (for the L3
   FIFO case: the day rewritten once by ``prepare_l3``, the arrays a sweep would scatter; the
   ``amzn-fifo-raw`` case shows, outside the verdict, a run that rewrites raw L3 events itself);
2. warm the compiled engine on a tiny synthetic stream (numba loads its on-disk cache: a fixed
   cost per process, not per backtest), ``gc.collect()`` and glibc's ``malloc_trim(0)`` (free
   heap left by the loading goes back to the system, so the run cannot reuse it unseen);
3. read ``VmRSS`` from ``/proc/self/status`` (the baseline, which holds the array), then reset the
   kernel's high-water mark by writing ``5`` to ``/proc/self/clear_refs`` (Linux >= 4.0);
4. run the backtest as a sweep task does: ``run(events, strategy, **settings).summary()``,
   keeping the result alive;
5. read ``VmHWM`` (the peak resident set since the reset): ``added = VmHWM - baseline``.

The table prints the ratio first, then the figures (MB = 10^6 bytes); ``steps`` are the strategy
steps run, ``rows`` those the step table kept (``rec`` = ``record_every`` used: ``"auto"`` by
default keeps every step unless the table would outgrow 60 % of the event array).
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MS = 1_000_000
AMZN = (ROOT / "data" / "lobster" / "amzn_l1_full_day"
        / "AMZN_2012-06-21_34200000_57600000_message_1.csv")

# name -> (description, loader kwargs, engine settings)
CASES = {
    "synthetic-2h": ("synthetic L2, 1 session of 2 h, 100 ms strategy steps",
                     {"kind": "synthetic", "days": 1, "session_seconds": 7200},
                     {"interval": 100 * MS}),
    "synthetic-3d": ("synthetic L2, 3 days x 1 h sessions, 1 s steps (through the nights)",
                     {"kind": "synthetic", "days": 3, "session_seconds": 3600},
                     {"interval": 1000 * MS}),
    "amzn-1s": ("LOBSTER AMZN full day as L2 (l3_to_l2), 1 s steps",
                {"kind": "amzn"}, {"interval": 1000 * MS}),
    "amzn-100ms": ("LOBSTER AMZN full day as L2 (l3_to_l2), 100 ms steps (record_every auto)",
                   {"kind": "amzn"}, {"interval": 100 * MS}),
    "amzn-100ms-r10": ("the same, step table thinned to one row a second (record_every=10)",
                       {"kind": "amzn"}, {"interval": 100 * MS, "record_every": 10}),
    "amzn-fifo-1s": ("LOBSTER AMZN full day, L3 prepared once (prepare_l3), exact FIFO queue, "
                     "1 s steps", {"kind": "amzn-l3-prepared"},
                     {"interval": 1000 * MS, "queue_model": "fifo"}),
    "amzn-fifo-raw": ("the same on the raw L3 events (the run rewrites them itself: holds a "
                      "second event array; not counted in the verdict)", {"kind": "amzn-l3"},
                      {"interval": 1000 * MS, "queue_model": "fifo"}),
    "btcusdt-100ms": ("Binance USD-M BTCUSDT (the vs_hftbacktest input), 100 ms steps",
                      {"kind": "binance", "file": "usdm_btcusdt_20240808.gz"},
                      {"interval": 100 * MS}),
    "ethusdt-100ms": ("Binance USD-M ETHUSDT (the vs_hftbacktest input), 100 ms steps",
                      {"kind": "binance", "file": "usdm_ethusdt_20240808.gz"},
                      {"interval": 100 * MS}),
    "portfolio-100ms": ("BTCUSDT + ETHUSDT perpetuals in one run_portfolio (lock-step, notional "
                        "cap), 100 ms steps", {"kind": "portfolio"}, {"interval": 100 * MS}),
}


def _status() -> dict:
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                k, v = line.split(":")
                out[k] = int(v.split()[0]) * 1024  # kB -> bytes
    return out


def _trim() -> None:
    """Give the heap's free pages back to the system (glibc ``malloc_trim(0)``), so that memory
    freed while loading cannot be reused silently by the backtest and hide its allocations."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the baseline may then include free heap
        pass


def _load(spec: dict):
    if spec["kind"] == "synthetic":
        from mmlab.data import synthetic

        return synthetic.synthetic_l2_events(days=spec["days"], session_seconds=spec[
            "session_seconds"], seed=1, trade_rate=3.0), 0.01, 1.0
    if spec["kind"] == "portfolio":
        from mmlab.data import load_binance

        return {s: load_binance(ROOT / "data" / "binance" / f"usdm_{s.lower()}_20240808.gz")
                for s in ("BTCUSDT", "ETHUSDT")}, None, None
    if spec["kind"] == "binance":
        from mmlab.data import load_binance

        tick = 0.1 if "btc" in spec["file"] else 0.01
        return load_binance(ROOT / "data" / "binance" / spec["file"]), tick, 0.001
    from mmlab.book import l3_to_l2
    from mmlab.data import load_lobster

    if spec["kind"] == "amzn-l3":
        return load_lobster(AMZN), 0.01, 1.0
    if spec["kind"] == "amzn-l3-prepared":
        from mmlab.backtest import prepare_l3

        return prepare_l3(load_lobster(AMZN)), 0.01, 1.0
    return l3_to_l2(load_lobster(AMZN)), 0.01, 1.0


def measure(name: str) -> dict:
    """Run in a child process: the figures of one case."""
    from mmlab.backtest import GridStrategy, run, warm_worker

    _, spec, extra = CASES[name]
    events, tick, lot = _load(spec)
    if isinstance(events, np.ndarray):
        events = events.copy()  # only the array itself stays referenced
    elif isinstance(events, dict):
        events = {k: v.copy() for k, v in events.items()}
    gc.collect()
    warm_worker()
    gc.collect()
    _trim()
    base = _status()["VmRSS"]
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset VmHWM to the current resident set
    if spec["kind"] == "portfolio":
        from mmlab.backtest import run_portfolio

        res = run_portfolio(events, GridStrategy(half_spread=2.0, order_qty=0.01, skew=1e-7),
                            max_notional=2_000.0, entry_latency=2 * MS, response_latency=2 * MS,
                            settings={"BTCUSDT": {"tick_size": 0.1, "lot_size": 0.001,
                                                  "max_position": 0.05},
                                      "ETHUSDT": {"tick_size": 0.01, "lot_size": 0.001,
                                                  "max_position": 0.05}},
                            **extra)
        s = res.summary()
        peak = _status()["VmHWM"]
        r0 = next(iter(res.results.values()))
        return {"case": name, "events": sum(len(v) for v in events.values()),
                "array": int(sum(v.nbytes for v in events.values())), "baseline": base,
                "peak": peak, "added": peak - base, "steps": r0.summary()["steps"],
                "rows": len(res.portfolio), "record": r0.params["record_every_used"],
                "fills": sum(x["n_fills"] for x in s["instruments"].values())}
    qty = 100.0 if spec["kind"].startswith("amzn") else 0.01 if spec["kind"] == "binance" else 1.0
    half = 20 * tick if spec["kind"] == "binance" else 0.01
    res = run(events, GridStrategy(half_spread=half, order_qty=qty, skew=0.001 * qty / 100),
              tick_size=tick, lot_size=lot, max_position=5 * qty, entry_latency=2 * MS,
              response_latency=2 * MS, **extra)
    s = res.summary()
    peak = _status()["VmHWM"]
    return {"case": name, "events": len(events), "array": int(events.nbytes), "baseline": base,
            "peak": peak, "added": peak - base, "steps": s["steps"], "rows": s["step_rows"],
            "record": res.params["record_every_used"], "fills": s["n_fills"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(measure(a.child)))
        return
    names = [c for c in a.cases.split(",") if c]
    for c in names:
        if c not in CASES:
            raise SystemExit(f"--cases: unknown case {c!r}; cases: {list(CASES)}")
    print("Peak RSS one backtest adds beyond its event array (fresh process per case; "
          "VmHWM after a clear_refs reset minus VmRSS before the run)")
    hdr = (f"{'case':<14} {'ratio':>6} {'target':>7} {'added MB':>9} {'array MB':>9} "
           f"{'events':>9} {'steps':>8} {'rows':>8} {'rec':>4} {'fills':>6}  description")
    print(hdr)
    print("-" * len(hdr))
    worst = 0.0
    informative = {"amzn-fifo-raw"}
    for c in names:
        out = subprocess.run([sys.executable, __file__, "--child", c], capture_output=True,
                             text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        ratio = r["added"] / r["array"]
        if c not in informative:
            worst = max(worst, ratio)
        print(f"{c:<14} {ratio:6.2f} {'<= 1':>7} {r['added'] / 1e6:9.1f} {r['array'] / 1e6:9.1f} "
              f"{r['events']:9d} {r['steps']:8d} {r['rows']:8d} {r['record']:4d} {r['fills']:6d}  "
              f"{CASES[c][0]}")
    print(f"largest ratio {worst:.2f} ({'meets' if worst <= 1 else 'misses'} the <= 1 target)")


if __name__ == "__main__":
    main()
