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

A second table times the options chain quoter (:class:`mmlab.quoting.ChainQuoter`) on the
shipped SPX chain of 2023-09-14 (expiry 2023-10-20, SVI surface fitted by
:func:`mmlab.surface.fit_surface`, 50 options: 25 strikes x call/put around the money): the
one-option quote decision (``quote_option``, vol and portfolio Greeks given), the 50-strike chain
refresh with cached vols and with the surface evaluated, and a 3-level layered ladder
(:class:`mmlab.quoting.LayeredQuoter`). Beside them, on the same options, the reference tool
py_vollib_vectorized computing only the Black-76 prices and Greeks (``vectorized_black`` +
``get_all_greeks``) -- the part of a quote a third-party library does. Targets: the seed's
(quote < 100 us, chain < 10 ms) and ours (<= 20 us, <= 1 ms).

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
    print()
    _chain_table(args.repeat)
    return 0


def _per_call(fn, calls, repeat):
    return _median(lambda: [fn() for _ in range(calls)], repeat) / calls


def _chain_table(repeat: int) -> None:
    """Options chain quoter timings beside py_vollib_vectorized (pricing only)."""
    import warnings

    import pandas as pd
    import py_vollib_vectorized as pvv

    from mmlab._paths import shipped
    from mmlab.data import default_master, get_instrument, load_option_chain
    from mmlab.quoting import ChainQuoter, ChainQuoterConfig, LayerConfig, LayeredQuoter
    from mmlab.risk import DeltaHedgeConfig, DeltaHedger
    from mmlab.surface import fit_surface

    ch = load_option_chain(shipped("options", "cboe_spx_2023-09-14.csv"))
    expiry = pd.Timestamp("2023-10-20 13:30", tz="UTC")
    sub = ch[(ch["root"] == "SPX") & (ch["expiry"] == expiry)]
    surf = fit_surface(sub)
    T = float(surf.expiries[0])
    F = float(surf.forward(T))
    strikes = np.arange(4225.0, 4850.0, 25.0)  # 25 strikes x (call, put) = 50 options
    K = np.concatenate([strikes, strikes])
    R = np.array(["C"] * len(strikes) + ["P"] * len(strikes))
    fl = np.where(R == "C", "c", "p")
    sig = np.asarray(surf.iv(K, T), dtype=float)
    pos = np.zeros(len(K))
    pos[[10, 35]] = 20.0
    spx = default_master().option("SPX", "2023-10-20", 4500, "C")
    cq = ChainQuoter(ChainQuoterConfig(delta_skew=0.01, vega_skew=1e-6, max_position=50), spx, surf,
                     hedger=DeltaHedger(DeltaHedgeConfig(threshold=500.0)))
    i0 = 10
    one = lambda: cq.quote_option(K[i0], R[i0], F, T, sig[i0], position=20.0,  # noqa: E731
                                  portfolio_delta=800.0, portfolio_vega=1500.0)
    cached = lambda: cq.quote(K, R, F, T, iv=sig, positions=pos)  # noqa: E731
    full = lambda: cq.quote(K, R, F, T, positions=pos)  # noqa: E731
    lq = LayeredQuoter(LayerConfig(size=0.01, max_inventory=0.05, imbalance_coef=0.5),
                       get_instrument("BINANCE_USDM:BTCUSDT"))
    from mmlab.quoting import MarketState

    st = MarketState(mid=30000.05, inventory=0.01, best_bid=30000.0, best_ask=30000.1,
                     depth=(np.array([30000.0]), np.array([2.0]), np.array([30000.1]), np.array([1.0])))
    ladder = lambda: lq.ladder(30000.05, 10.0, 10.0, st)  # noqa: E731

    def ref(n):
        k, f, s = K[:n], fl[:n], sig[:n]

        def run():
            pvv.vectorized_black(f, F, k, T, 0.0, s, return_as="numpy")
            pvv.get_all_greeks(f, F, k, T, 0.0, s, model="black", return_as="numpy")
        return run

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_ref1 = _per_call(ref(1), 200, repeat)
        t_ref50 = _per_call(ref(50), 200, repeat)
    rows = [
        ("one-option quote decision", _per_call(one, 20000, repeat), t_ref1, "< 100 us", "<= 20 us"),
        ("50-strike chain, cached vols", _per_call(cached, 500, repeat), t_ref50, "< 10 ms", "<= 1 ms"),
        ("50-strike chain + surface", _per_call(full, 500, repeat), t_ref50, "< 10 ms", "<= 1 ms"),
        ("3-level layered ladder", _per_call(ladder, 20000, repeat), float("nan"), "< 100 us", "<= 20 us"),
    ]
    print(f"options chain quoter (SPX 2023-10-20, {len(K)} options, SVI surface): median of {repeat} runs")
    print(f"{'ref/ours':>9} {'task':<30} {'ours us':>10} {'py_vollib_vectorized us':>24}  "
          f"{'seed target':>11} {'our target':>10}")
    for name, ours, refv, seed_t, our_t in rows:
        ratio = refv / ours if np.isfinite(refv) else float("nan")
        refs = f"{refv * 1e6:>24.1f}" if np.isfinite(refv) else f"{'(no equivalent)':>24}"
        print(f"{ratio:>9.2f} {name:<30} {ours * 1e6:>10.1f} {refs}  {seed_t:>11} {our_t:>10}")
    print("py_vollib_vectorized column: Black-76 prices + Greeks of the same options only "
          "(no spreads, skews, rounding, validation or hedge)")


if __name__ == "__main__":
    raise SystemExit(main())
