"""Start-up of a backtest: a second process with a warm disk cache vs a cold compile.

Run: ``.venv/bin/python bench/bench_startup.py [--repeats 5] [--rev dfb6b67] [--cold-rounds 2]``
(``--rev ''``: the current tree only)

Target (issue 5): a second process with a warm disk cache starts its first run, compilation
included, in <= 3 s; the cold compile time is reported separately. Each figure is the wall time of
a fresh ``python`` process, timed from the parent: interpreter start, ``import mmlab.backtest``,
reading the event array (the shipped Binance USD-M BTCUSDT day, converted once by the parent into
an uncompressed hftbacktest ``.npz``, as a catalog or a converted file would hold it), and one
``run`` at 100 ms cadence with the numba kernels loaded from the on-disk cache or compiled; the
child's own split is printed beside it. The cold case points numba at
an empty cache directory (``NUMBA_CACHE_DIR``), so it compiles everything, then the warm cases
reuse that directory: the project's own cache is neither used nor touched.

With ``--rev`` (by default dfb6b67; issue 10: the cold compile of what one backtest needs no slower than the parent
commit's), the cold compile of that commit (a ``git worktree`` in a temporary folder, the same
interpreter and data) is timed too, alternating with the current tree's for ``--cold-rounds``
rounds, each in its own empty cache; the table gives the medians side by side and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = r"""
import json, time
t0 = time.perf_counter()
from mmlab.backtest import GridStrategy, run
from mmlab.data import load_npz
t1 = time.perf_counter()
ev = load_npz("{path}")
t2 = time.perf_counter()
res = run(ev, GridStrategy(half_spread=2.0, order_qty=0.01, skew=100.0), tick_size=0.1,
          lot_size=0.001, entry_latency=10_000_000, response_latency=10_000_000,
          max_position=0.1)
s = res.summary()
t3 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "load": t2 - t1, "first_run": t3 - t2,
                   "fills": s["n_fills"]}}))
"""


def _child(cache: str, path: Path, root: Path = ROOT) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(root)}
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD.format(path=path)], env=env, cwd=root,
                         capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t
    r = json.loads(out.stdout.strip().splitlines()[-1])
    r["wall"] = wall
    return r


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--rev", default="dfb6b67",
                    help="also time this commit's cold compile ('': skip); default: the engine "
                         "before the one trading core of issue 10")
    ap.add_argument("--cold-rounds", type=int, default=2)
    a = ap.parse_args()
    from mmlab.data import load_binance, save_npz

    with tempfile.TemporaryDirectory(prefix="mmlab-numba-") as cache:
        npz = Path(cache) / "usdm_btcusdt_20240808.npz"
        save_npz(npz, load_binance(ROOT / "data" / "binance" / "usdm_btcusdt_20240808.gz"),
                 compressed=False)
        cold = _child(cache, npz)
        warm = [_child(cache, npz) for _ in range(a.repeats)]
        line = _compare_cold(a.rev, a.cold_rounds, npz, cold) if a.rev else ""
    med = {k: statistics.median(w[k] for w in warm) for k in ("wall", "import", "load", "first_run")}
    print("Backtest start-up, fresh process each (BTCUSDT USD-M day as .npz, 100 ms cadence)")
    print(f"{'case':<28} {'wall s':>7} {'import s':>9} {'load s':>7} {'run s':>7}  target")
    print(f"{'cold (empty numba cache)':<28} {cold['wall']:7.2f} {cold['import']:9.2f} "
          f"{cold['load']:7.2f} {cold['first_run']:7.2f}  (reported)")
    ok = med["wall"] <= 3.0
    print(f"{'warm, median of ' + str(a.repeats):<28} {med['wall']:7.2f} {med['import']:9.2f} "
          f"{med['load']:7.2f} {med['first_run']:7.2f}  <= 3 s: {'met' if ok else 'missed'}")
    assert cold["fills"] == warm[0]["fills"]
    if line:
        print(line)
    print(json.dumps({"cold_s": cold["wall"], "warm_s": med["wall"], "warm_runs": [w["wall"] for w in warm]}))


def _compare_cold(rev: str, rounds: int, npz: Path, first: dict) -> str:
    """Cold compiles of the current tree and of ``rev``, alternating, each in an empty cache."""
    with tempfile.TemporaryDirectory(prefix="mmlab-rev-") as tmp:
        wt = Path(tmp) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", str(wt), rev], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            cur, old = [first["wall"]], []
            for r in range(rounds):
                with tempfile.TemporaryDirectory(prefix="mmlab-numba-") as c:
                    old.append(_child(c, npz, wt)["wall"])
                if r + 1 < rounds:
                    with tempfile.TemporaryDirectory(prefix="mmlab-numba-") as c:
                        cur.append(_child(c, npz)["wall"])
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(wt)], cwd=ROOT,
                           capture_output=True)
    mc, mo = statistics.median(cur), statistics.median(old)
    return (f"cold compile, median of {rounds} rounds: current {mc:.2f} s, {rev} {mo:.2f} s, "
            f"ratio {mc / mo:.3f} (issue 10: <= 1 and <= 30 s: "
            f"{'met' if mc <= mo and mc <= 30 else 'missed'}); current "
            f"{[round(x, 2) for x in cur]}, {rev} {[round(x, 2) for x in old]}")


if __name__ == "__main__":
    main()
