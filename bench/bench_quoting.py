"""Benchmark: quoting decisions per second of each strategy, three ways, beside the targets.

For each strategy of :mod:`mmlab.quoting` (A-S finite and infinite horizon, GLFT, adaptive
spread, grid), on the same random states (mid, inventory, time left, book, volatility):

* ``quote(state)``: the Python call a Python backtest / paper / live loop makes per decision
  (builds a ``MarketState``, returns a ``Quote``);
* ``python twin``: the plain-Python kernel (the reference implementation), called per decision;
* ``compiled loop``: the numba kernel called per decision inside a compiled loop
  (``quote_many``), as the numba backtest engine calls it.

There is no third-party implementation of these quoting formulas to run beside them; the
reference is our plain-Python twin, and the targets are the seed's (a quote decision < 100 us)
and ours (<= 20 us per decision through ``quote``; >= 1 M decisions/s for the A-S and GLFT
kernels). Each timing is the median of ``--repeat`` runs after a warm-up.

Run: ``.venv/bin/python bench/bench_quoting.py [--repeat 5] [--n 20000]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mmlab.quoting import (  # noqa: E402
    AdaptiveSpreadConfig,
    AdaptiveSpreadStrategy,
    AvellanedaStoikovConfig,
    AvellanedaStoikovInfiniteConfig,
    AvellanedaStoikovInfiniteStrategy,
    AvellanedaStoikovStrategy,
    GLFTConfig,
    GLFTStrategy,
    GridConfig,
    GridStrategy,
    MarketState,
    grid_ladder_kernel,
    grid_ladder_kernel_python,
)


def _median(fn, repeat):
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="timed runs (>= 3)")
    ap.add_argument("--n", type=int, default=20_000, help="decisions per Python run")
    args = ap.parse_args(argv)
    if args.repeat < 3:
        ap.error("--repeat must be >= 3")
    n, n_big = args.n, 50 * args.n
    rng = np.random.default_rng(0)
    mids = 100.0 + rng.normal(size=n_big)
    qs = rng.integers(-12, 13, n_big).astype(float)
    taus = rng.random(n_big)
    bbs, bas, vols = mids - 0.05, mids + 0.05, rng.random(n_big) * 2
    states = [MarketState(mids[i], qs[i], taus[i], bbs[i], bas[i], vols[i]) for i in range(n)]

    strategies = {
        "avellaneda_stoikov": AvellanedaStoikovStrategy(
            AvellanedaStoikovConfig(0.1, 2.0, 1.5, max_inventory=10)),
        "avellaneda_stoikov_inf": AvellanedaStoikovInfiniteStrategy(
            AvellanedaStoikovInfiniteConfig(0.1, 2.0, 1.5, max_inventory=10)),
        "glft": GLFTStrategy(GLFTConfig(0.01, 0.3, 0.9, 0.3, max_inventory=10)),
        "adaptive_spread": AdaptiveSpreadStrategy(AdaptiveSpreadConfig(
            base_spread=0.2, vol_ref=1.0, inventory_skew=0.5, competition_weight=0.5,
            max_inventory=10)),
    }
    rows = []
    for name, strat in strategies.items():
        q = strat.quote
        t_call = _median(lambda q=q: [q(s) for s in states], args.repeat) / n
        pk, p = strat.python_kernel, strat.params

        def twin(pk=pk, p=p):
            for i in range(n):
                pk(mids[i], qs[i], taus[i], bbs[i], bas[i], vols[i], p)

        t_twin = _median(twin, args.repeat) / n
        if name == "adaptive_spread":
            many = lambda s=strat: s.quote_many(mids, qs, taus, bbs, bas, vols)  # noqa: E731
        else:
            many = lambda s=strat: s.quote_many(mids, qs, taus)  # noqa: E731
        t_loop = _median(many, args.repeat) / n_big
        rows.append((name, t_call, t_twin, t_loop))

    grid = GridStrategy(GridConfig(step=0.1, n_levels=3, skew=0.5, max_inventory=10))
    t_call = _median(lambda: [grid.ladder(s) for s in states], args.repeat) / n
    a = (0.1, 3, 1.0, 0.0, 0.5, 10.0)
    t_twin = _median(lambda: [grid_ladder_kernel_python(mids[i], qs[i], *a) for i in range(n)],
                     args.repeat) / n
    t_kern = _median(lambda: [grid_ladder_kernel(mids[i], qs[i], *a) for i in range(n)],
                     args.repeat) / n
    rows.append(("grid (3 levels, ladder)", t_call, t_twin, t_kern))

    print(f"quoting decisions: median of {args.repeat} runs; {n} Python calls, "
          f"{n_big} compiled-loop decisions per run")
    print(f"{'twin/quote':>10} {'strategy':<26} {'quote(state) us':>16} {'python twin us':>15} "
          f"{'compiled loop us':>17} {'compiled M/s':>13}  targets")
    for name, tc, tt, tl in rows:
        note = "quote <= 20 us (seed < 100 us)"
        if name.startswith(("avellaneda", "glft")):
            note += "; kernel >= 1 M/s"
        if name.startswith("grid"):
            note = "quote <= 20 us; last columns: compiled kernel called from Python"
        print(f"{tt / tc:>10.2f} {name:<26} {tc * 1e6:>16.2f} {tt * 1e6:>15.2f} {tl * 1e6:>17.4f} "
              f"{1e-6 / tl:>13.1f}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
