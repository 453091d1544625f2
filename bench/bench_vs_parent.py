"""The engine's speed against an earlier commit's, measured interleaved in the same run.

Run: ``.venv/bin/python bench/bench_vs_parent.py [--rev <commit>] [--repeats 10]`` (default
``--rev dfb6b67``, the engine before the one trading core of issue 10)

Each round runs the current tree and the other commit (a ``git worktree`` in a temporary
folder, its numba cache compiled once before timing) in fresh child processes, one after the
other, on the shipped Binance USD-M BTCUSDT and ETHUSDT days with the settings of
``bench/vs_hftbacktest.py`` (grid, 10 ms latencies, power-2 queue, no partial fills, 2/5 bps; no
toxicity response and no self-trade prevention on the current tree, which the earlier engine
does not have); a child times
``run`` three times after a warm-up and reports its median. The table gives the medians over
rounds of events per second and the ratio (current / earlier): issue 10 asks >= 0.95.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = r"""
import json, sys, time, statistics, inspect
import numpy as np
from mmlab.backtest import GridStrategy, run, BacktestConfig
from mmlab.data import load_binance
out = {}
for sym, tick, lot, qty, hs, skew, maxpos in [("btcusdt", 0.1, 0.001, 0.01, 2.0, 100.0, 0.1),
                                              ("ethusdt", 0.01, 0.001, 0.1, 0.2, 1.0, 1.0)]:
    ev = load_binance("{root}/data/binance/usdm_%s_20240808.gz" % sym)
    ev = ev[(ev["ev"] & np.uint64(0xFF)) != 5]  # no bookTicker, as vs_hftbacktest
    tp = ev["px"][(ev["ev"] & np.uint64(0xFF)) == 2]
    kw = dict(tick_size=tick, lot_size=lot, queue_model="power", queue_power=2.0,
              partial_fills=False, entry_latency=10_000_000, response_latency=10_000_000,
              interval=100_000_000, maker_fee=0.0002, taker_fee=0.0005, max_position=maxpos,
              roi=(float(tp.min()) * 0.9, float(tp.max()) * 1.1))
    if "toxicity_window" in BacktestConfig.__dataclass_fields__:
        kw["toxicity_window"] = 0
    if "self_trade_prevention" in BacktestConfig.__dataclass_fields__:
        kw["self_trade_prevention"] = False  # the earlier engine has none
    s = GridStrategy(half_spread=hs, order_qty=qty, skew=skew, clip="touch")
    res = run(ev, s, **kw)
    ts = []
    for _ in range(3):
        t0 = time.perf_counter(); res = run(ev, s, **kw); ts.append(time.perf_counter() - t0)
    out[sym] = {"ev_per_s": len(ev) / statistics.median(ts), "fills": len(res.fills),
                "pnl": res.pnl["total"]}
print(json.dumps(out))
"""


def child(src_root: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(src_root))
    code = CHILD.replace("{root}", str(ROOT))
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       cwd=str(src_root), timeout=1800)
    if p.returncode != 0:
        raise RuntimeError(p.stderr[-2000:])
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", default="dfb6b67",
                    help="the earlier commit (default: the last before the one trading core)")
    ap.add_argument("--repeats", type=int, default=10)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wt = Path(tmp) / "earlier"
        subprocess.run(["git", "worktree", "add", "--detach", str(wt), a.rev], cwd=ROOT,
                       check=True, capture_output=True)
        try:
            child(wt)  # compile the earlier engine's cache once
            child(ROOT)
            rounds = []
            for _ in range(a.repeats):
                rounds.append((child(ROOT), child(wt)))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(wt)], cwd=ROOT,
                           capture_output=True)
    print(f"rounds: {a.repeats} (current then {a.rev[:10]}, fresh processes; medians)")
    print(f"{'symbol':8}{'current ev/s':>16}{'earlier ev/s':>16}{'ratio':>8}  fills  pnl")
    res = {}
    for sym in ("btcusdt", "ethusdt"):
        cur = statistics.median(r[0][sym]["ev_per_s"] for r in rounds)
        old = statistics.median(r[1][sym]["ev_per_s"] for r in rounds)
        f = (rounds[0][0][sym]["fills"], rounds[0][1][sym]["fills"])
        p = (rounds[0][0][sym]["pnl"], rounds[0][1][sym]["pnl"])
        print(f"{sym:8}{cur:16,.0f}{old:16,.0f}{cur / old:8.3f}  {f[0]}={f[1]}  "
              f"{p[0]:.4f}={p[1]:.4f}")
        res[sym] = {"current": cur, "earlier": old, "ratio": cur / old, "fills": f, "pnl": p}
    print(json.dumps(res))


if __name__ == "__main__":
    main()
