"""Order-book update throughput: mmlab's numba book beside hftbacktest's own market depth.

Run: ``.venv/bin/python bench/bench_book.py [--repeat 7]``

For each shipped event stream (LOBSTER AAPL level-10 and AMZN level-1 as loaded, i.e. L3 with
anonymous seeds, plus their L2 form from ``mmlab.book.l3_to_l2``; the Binance USD-M BTCUSDT file if
``mmlab.data.load_binance`` is available) the table gives, as the median of ``--repeat`` warm runs:

* ``ratio`` = mmlab replay events/s / hftbacktest events/s on the same L2 events (> 1: mmlab
  faster). hftbacktest (2.4.2) exposes no stand-alone depth object to feed from Python, so its
  number is a whole ``HashMapMarketDepthBacktest`` (Rust) run to the end of the data
  (``_goto_end``), no orders: every EXCH|LOCAL event is applied to both its exchange-side and
  local-side depth. L3 streams have no hftbacktest column (its L2 backtest ignores L3 kinds).
* ``mmlab replay``: ``mmlab.book.replay(events, tick_size=...)``: preparation (tick grid, price
  range, table sizing) + the numba kernel, no snapshots.
* ``kernel``: the numba kernel alone on a prepared book.
* ``snapshots``: ``rebuild(events, levels=10)``, one top-10 row per event, timed separately
  (rows/s).

Two tables: wall-clock time, and the CPU time of this process (``time.process_time``; both tools
run single-threaded here), which stays meaningful when other jobs share the machine.

The final best bid/ask of both tools are compared and printed (``same top``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mmlab.book import BookState, l3_to_l2, rebuild, replay  # noqa: E402
from mmlab.book import _kernel as K  # noqa: E402
from mmlab.data import read_lobster  # noqa: E402

DATA = ROOT / "data"


def median_time(fn, repeat: int, clock=time.perf_counter) -> float:
    fn()  # warm-up (compilation, caches)
    times = []
    for _ in range(repeat):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return statistics.median(times)


def kernel_time(ev: np.ndarray, tick: float, repeat: int, clock=time.perf_counter) -> float:
    def once():
        b = BookState(tick_size=tick)
        e, _, grid = b._prepare(ev)
        out = np.empty((0, 4))
        t0 = clock()
        status, _ = K.apply_events(e, b._flag, b.tab, grid.mul, grid.div, b.lvl_q,
                                   b.lvl_i, b.ord_i, b.ord_q, b.ord_id, b.hkey, b.hval, b.meta,
                                   True, out, 1, False)
        dt = clock() - t0
        assert status == 0
        return dt

    once()
    return statistics.median(once() for _ in range(repeat))


def hftbacktest_time(ev: np.ndarray, tick: float, lot: float, repeat: int,
                     clock=time.perf_counter):
    try:
        from hftbacktest import BacktestAsset, HashMapMarketDepthBacktest
    except ImportError as exc:  # pragma: no cover
        return None, f"hftbacktest not importable: {exc}"

    top = {}

    def once():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            asset = (
                BacktestAsset().data(ev).tick_size(tick).lot_size(lot).linear_asset(1.0)
                .constant_order_latency(0, 0).no_partial_fill_exchange()
                .risk_adverse_queue_model().trading_value_fee_model(0.0, 0.0)
            )
        hbt = HashMapMarketDepthBacktest([asset])
        t0 = clock()
        hbt._goto_end()
        dt = clock() - t0
        depth = hbt.depth(0)
        top["bid"], top["ask"] = depth.best_bid, depth.best_ask
        hbt.close()
        return dt

    once()
    return statistics.median(once() for _ in range(repeat)), top


def streams():
    out = []
    for name, path in [
        ("AAPL lvl10", DATA / "lobster" / "AAPL_2012-06-21_34200000_57600000_message_10.csv"),
        ("AMZN lvl1", DATA / "lobster" / "amzn_l1_full_day"
         / "AMZN_2012-06-21_34200000_57600000_message_1.csv"),
    ]:
        ev = read_lobster(path).events
        out.append((f"{name} L3", ev, 0.01, 1.0, False))
        out.append((f"{name} L2", l3_to_l2(ev, tick_size=0.01), 0.01, 1.0, True))
    try:
        from mmlab.data import load_binance
    except ImportError:
        print("(skipped Binance: mmlab.data.load_binance is not available)")
    else:
        path = DATA / "binance" / "usdm_btcusdt_20240808.gz"
        try:
            ev = load_binance(path)
        except Exception as exc:  # another helper's loader: report, do not fail the bench
            print(f"(skipped Binance: load_binance failed: {exc!r})")
        else:
            out.append(("Binance usdm BTCUSDT L2", ev, 0.1, 0.001, True))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="timed warm runs per cell (median)")
    args = ap.parse_args(argv)
    rep = max(5, args.repeat)

    clocks = {"wall": time.perf_counter, "cpu": time.process_time}
    streams_ = streams()
    for label, clock in clocks.items():
        rows = []
        for name, ev, tick, lot, l2 in streams_:
            n = len(ev)
            t_replay = median_time(lambda ev=ev, tick=tick: replay(ev, tick_size=tick), rep, clock)
            t_kernel = kernel_time(ev, tick, rep, clock)
            t_snap = median_time(lambda ev=ev, tick=tick: rebuild(ev, 10, tick_size=tick), rep,
                                 clock)
            ours = replay(ev, tick_size=tick)
            t_hbt, top = hftbacktest_time(ev, tick, lot, rep, clock) if l2 else (None, None)
            same = "-"
            if t_hbt is not None:
                same = "yes" if (abs(top["bid"] - ours.best_bid) < tick / 2
                                 and abs(top["ask"] - ours.best_ask) < tick / 2) else "NO"
            rows.append((name, n, t_replay, t_kernel, t_hbt, t_snap, same))
        print_table(rows, label, rep)
    return 0


def print_table(rows, label: str, rep: int) -> None:
    what = ("wall-clock time" if label == "wall" else
            "CPU time of this process (robust to other load on the machine)")
    print(f"\nBook updates per second, {what}; median of {rep} warm runs")
    hdr = (f"{'stream':<26}{'events':>9} {'ratio':>7} {'mmlab replay':>13} {'kernel':>9} "
           f"{'hftbacktest':>12} {'snapshots':>10} {'same top':>9}")
    print(hdr)
    print(f"{'':<26}{'':>9} {'mm/hbt':>7} {'M ev/s':>13} {'M ev/s':>9} {'M ev/s':>12} "
          f"{'M rows/s':>10}")
    print("-" * len(hdr))
    for name, n, tr, tk, th, ts, same in rows:
        ratio = f"{th / tr:7.2f}" if th else f"{'-':>7}"
        hb = f"{n / th / 1e6:12.2f}" if th else f"{'-':>12}"
        print(f"{name:<26}{n:>9} {ratio} {n / tr / 1e6:13.2f} {n / tk / 1e6:9.2f} {hb} "
              f"{n / ts / 1e6:10.2f} {same:>9}")
    total_n = sum(r[1] for r in rows)
    total_t = sum(r[2] for r in rows)
    print("-" * len(hdr))
    print(f"all streams ({label}): mmlab replay {total_n / total_t / 1e6:.2f} M events/s "
          "(target >= 5 M/s warm)")


if __name__ == "__main__":
    raise SystemExit(main())
