"""Re-running after editing a user strategy: compile of the edited kernel + one backtest.

Run: ``.venv/bin/python bench/bench_user_strategy.py [--repeats 5] [--project-cache]``

Target (issue 10): re-running after editing a user strategy in a notebook takes <= 2 s (the
loop is not recompiled per strategy). What a notebook does is timed in a fresh ``python``
process whose numba disk cache is warm:

1. import :mod:`mmlab.backtest`, load the shipped Binance USD-M BTCUSDT day (converted once by
   the parent into an uncompressed ``.npz``), run the built-in :class:`GridStrategy` once (the
   loop's kernels load from the cache);
2. define a user quote function (the grid's quote: ``mid -+ half_spread - skew x position``),
   ``quote_kernel`` it, run it (clipped to the touch, as the grid: its fills must equal the
   grid's, checked);
3. ``--repeats`` times: define an **edited** function, a new function object from new source
   (the distance scaled by a factor that changes each time), ``quote_kernel`` it and run one
   backtest; the wall time of that edit-and-run is the figure (median), with its compile and
   run parts, side by side with the built-in grid's run in the same process (the reference:
   a backtest with nothing to compile).

By default the child's numba cache is a temporary directory (``NUMBA_CACHE_DIR``) warmed by a
first child process that runs the same script (its times are printed as the cold case): the
project's own cache is neither used nor touched. ``--project-cache`` uses the project's cache as
it is (no warming process).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = r'''
import json, statistics, sys, time
import numpy as np
np.seterr(all="ignore")
t0 = time.perf_counter()
from mmlab.backtest import MS_MID, MS_POSITION, GridStrategy, UserStrategy, quote_kernel, run
from mmlab.data import load_npz
t1 = time.perf_counter()
ev = load_npz(sys.argv[1])
repeats = int(sys.argv[2])
KW = dict(tick_size=0.1, lot_size=0.001, max_position=0.1, entry_latency=10_000_000,
          response_latency=10_000_000, maker_fee=0.0002, taker_fee=0.0005)
PARAMS = (2.0, 0.01, 100.0)
t2 = time.perf_counter()
grid = GridStrategy(half_spread=2.0, order_qty=0.01, skew=100.0)
ref = run(ev, grid, **KW)
t3 = time.perf_counter()
EDIT = """
def quote(state, params, out):
    r = state[MS_MID] - params[2] * state[MS_POSITION]
    out[0] = r - params[0] * {f!r}
    out[1] = params[1]
    out[2] = r + params[0] * {f!r}
    out[3] = params[1]
"""


def define(f):
    """A new function object from new source, as a re-run notebook cell makes one."""
    ns = {"MS_MID": MS_MID, "MS_POSITION": MS_POSITION}
    exec(compile(EDIT.format(f=f), f"<cell edit {f}>", "exec"), ns)
    return ns["quote"]


def edit_and_run(f, **extra):
    a = time.perf_counter()
    k = quote_kernel(define(f))
    b = time.perf_counter()
    res = run(ev, UserStrategy(k, PARAMS), **extra, **KW)
    c = time.perf_counter()
    return res, c - a, b - a, c - b


first, t_first, c_first, r_first = edit_and_run(1.0, clip="touch")
assert first.fills.equals(ref.fills) and first.pnl == ref.pnl, "user grid != built-in grid"
grid_runs, edits = [], []
for i in range(repeats):
    a = time.perf_counter()
    g = run(ev, grid, **KW)
    grid_runs.append(time.perf_counter() - a)
    res, t, c, r = edit_and_run(1.25 + 0.25 * i)
    assert not res.fills.equals(first.fills), "the edit did not take effect"
    assert len(res.fills) >= 50
    edits.append((t, c, r, len(res.fills)))
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "first_grid_run": t3 - t2,
                  "first_user": t_first, "first_user_compile": c_first,
                  "first_user_run": r_first, "grid_run": statistics.median(grid_runs),
                  "edit_total": statistics.median(e[0] for e in edits),
                  "edit_compile": statistics.median(e[1] for e in edits),
                  "edit_run": statistics.median(e[2] for e in edits),
                  "edit_totals": [e[0] for e in edits], "edit_fills": [e[3] for e in edits],
                  "grid_fills": len(ref.fills), "events": len(ev)}))
'''


def _child(path: Path, repeats: int, cache: str | None) -> dict:
    env = dict(os.environ)
    if cache is not None:
        env["NUMBA_CACHE_DIR"] = cache
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(repeats)], env=env,
                         cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if out.returncode != 0:
        sys.exit(f"child process failed:\n{out.stderr[-3000:]}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    r["wall"] = wall
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="edited strategies timed (median)")
    ap.add_argument("--project-cache", action="store_true",
                    help="use the project's numba cache as it is (no warming process)")
    a = ap.parse_args()
    if a.repeats < 1:
        ap.error("--repeats: at least 1")
    from mmlab.data import load_binance, save_npz

    with tempfile.TemporaryDirectory(prefix="mmlab-bench-user-") as tmp:
        npz = Path(tmp) / "usdm_btcusdt_20240808.npz"
        save_npz(npz, load_binance(ROOT / "data" / "binance" / "usdm_btcusdt_20240808.gz"),
                 compressed=False)
        if a.project_cache:
            cold, cache = None, None
        else:
            cache = str(Path(tmp) / "numba")
            cold = _child(npz, 1, cache)  # compiles the loop into the empty cache
        w = _child(npz, a.repeats, cache)
    ok = w["edit_total"] <= 2.0
    print(f"Editing a user strategy and re-running it (BTCUSDT USD-M day, {w['events']:,} events, "
          f"100 ms cadence); numba cache: {'project' if a.project_cache else 'temp, warmed'}")
    print(f"{'case (seconds)':<44}{'total':>8}{'compile':>9}{'run':>8}")
    if cold is not None:
        print(f"{'cold process: first grid run (compiles loop)':<44}"
              f"{cold['first_grid_run']:8.2f}{'':>9}{'':>8}")
    print(f"{'warm process: first grid run':<44}{w['first_grid_run']:8.2f}{'':>9}{'':>8}")
    print(f"{'warm process: first user strategy':<44}{w['first_user']:8.2f}"
          f"{w['first_user_compile']:9.2f}{w['first_user_run']:8.2f}")
    print(f"{'edited strategy, median of ' + str(a.repeats):<44}{w['edit_total']:8.2f}"
          f"{w['edit_compile']:9.2f}{w['edit_run']:8.2f}")
    print(f"{'built-in grid run, median (reference)':<44}{w['grid_run']:8.2f}{'':>9}"
          f"{w['grid_run']:8.2f}")
    print(f"fills: user grid = built-in grid ({w['grid_fills']}), edited {w['edit_fills']}")
    print(f"target: edit-and-re-run <= 2 s: {'met' if ok else 'NOT met'} "
          f"(edit / grid run: {w['edit_total'] / w['grid_run']:.1f}x)")
    print(json.dumps({"edit_rerun_s": w["edit_total"], "edit_compile_s": w["edit_compile"],
                      "edit_run_s": w["edit_run"], "grid_run_s": w["grid_run"],
                      "first_user_s": w["first_user"], "warm_first_grid_run_s":
                      w["first_grid_run"], "cold_first_grid_run_s":
                      cold["first_grid_run"] if cold else None,
                      "edit_runs_s": w["edit_totals"], "repeats": a.repeats,
                      "project_cache": a.project_cache}))


if __name__ == "__main__":
    main()
