"""Benchmark: load + convert a Binance USD-M websocket dump, mmlab vs hftbacktest's converter.

Same file, same process, same run; each tool is run once to warm up (numba compilation / caches),
then the tools run round-robin ``--repeat`` times; the table shows the median wall time, the
ratio to hftbacktest (first column; < 1 means mmlab is faster) and the number of events produced.

What each row does:

* ``hftbacktest binancefutures.convert``: gunzip + json per line, depth/trade events (no snapshot
  reconciliation, no sequence checks, no bookTicker), clock correction, exch/local order split.
* ``mmlab load_binance``: gunzip + numba line scanner (orjson for other lines), Binance's
  snapshot/diff reconciliation with a sequence check on every diff, clock-offset correction,
  depth/trade/bookTicker events in local order, crossed-book check after every message, tidy tables.
* ``mmlab load_binance + to_hftbacktest_order``: the same, then hftbacktest's exch/local order
  split, i.e. an array hftbacktest's backtester can replay (it then also holds the DEPTH_BBO rows).

Run: ``.venv/bin/python bench/bench_data.py [--repeat 5] [--file PATH]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mmlab.data import load_binance, to_hftbacktest_order  # noqa: E402


def _time_interleaved(fns, repeat: int) -> list[tuple[float, int, list[float]]]:
    """Warm each tool once, then run them round-robin ``repeat`` times (a load spike on the
    shared machine then hits every tool alike); median wall time per tool."""
    counts = [len(fn()) for fn in fns]  # warm-up (compilation, page cache)
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            out = fn()
            times[k].append(time.perf_counter() - t0)
            counts[k] = len(out)
    return [(statistics.median(t), n, t) for t, n in zip(times, counts)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--file", default=str(ROOT / "data" / "binance" / "usdm_btcusdt_20240808.gz"))
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per tool (>= 3)")
    args = ap.parse_args(argv)
    if args.repeat < 3:
        ap.error("--repeat must be >= 3")
    path = args.file

    from hftbacktest.data.utils import binancefutures

    def hbt():
        with contextlib.redirect_stdout(io.StringIO()):  # it prints progress messages
            return binancefutures.convert(path)

    rows = [
        ("hftbacktest binancefutures.convert", hbt),
        ("mmlab load_binance", lambda: load_binance(path)),
        ("mmlab load_binance + to_hftbacktest_order",
         lambda: to_hftbacktest_order(load_binance(path))),
    ]
    timed = _time_interleaved([fn for _, fn in rows], args.repeat)
    results = [(name, *t) for (name, _), t in zip(rows, timed)]
    ref = results[0][1]
    print(f"load+convert of {Path(path).name}: median of {args.repeat} warm runs, interleaved, "
          "same process")
    print()
    print(f"| {'ratio vs hftbacktest':>20} | {'tool':<44} | {'median s':>9} | {'events':>9} |"
          f" {'runs (s)':<40} |")
    print(f"|{'-' * 22}|{'-' * 46}|{'-' * 11}|{'-' * 11}|{'-' * 42}|")
    for name, med, n, times in results:
        runs = ", ".join(f"{t:.3f}" for t in times)
        print(f"| {med / ref:>20.3f} | {name:<44} | {med:>9.3f} | {n:>9,} | {runs:<40} |")
    print()
    print("events differ by design: hftbacktest keeps pre-snapshot diffs and no bookTicker, and "
          "splits rows into EXCH/LOCAL copies; mmlab drops diffs older than the snapshot and emits "
          "bookTicker as DEPTH_BBO rows (2 per message).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
