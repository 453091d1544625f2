"""mmlab.backtest vs hftbacktest 2.4 on the shipped Binance USD-M BTCUSDT and ETHUSDT dumps.

Both tools get the same event arrays (loaded once with ``mmlab.data.load_binance``; the
``DEPTH_BBO`` bookTicker events are dropped so both books are built from the same depth diffs
and trades), the same fixed-spread strategy (an ``@njit`` function for hftbacktest, mmlab's
built-in grid kernel), ``power_prob_queue_model(2.0)``, constant order latency, no partial fills,
the same maker/taker fees, a 100 ms cadence and the same price range of the book.

Both timings are end to end, as a user runs a backtest: configuring the tool with the event
array, the run, and reading the results (for hftbacktest also its loop alone, ``hbt loop ev/s``).
Prints a table (ratio first) and, as its last line, one JSON object.

Usage::

    python bench/vs_hftbacktest.py [--repeats 20]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from mmlab.backtest import GridStrategy, run  # noqa: E402
from hbt_reference import hbt_grid  # noqa: E402  (bench/hbt_reference.py, beside this script)
from mmlab.data import load_binance  # noqa: E402

FILES = {
    "BTCUSDT": ("usdm_btcusdt_20240808.gz", 0.1, 0.001, 0.01, 2.0, 100.0, 0.1),
    "ETHUSDT": ("usdm_ethusdt_20240808.gz", 0.01, 0.001, 0.1, 0.2, 1.0, 1.0),
}
# symbol: file, tick, lot, order qty, half spread (quote ccy), skew (per unit position), max pos
MAKER, TAKER = 0.0002, 0.0005  # Binance USD-M VIP 0 (instruments.toml)
LATENCY = 10_000_000  # 10 ms entry and response
INTERVAL = 100_000_000  # 100 ms


def roi_of(ev, tick):
    kind = ev["ev"] & np.uint64(0xFF)
    tp = ev["px"][kind == 2]
    return float(np.min(tp)) * 0.9, float(np.max(tp)) * 1.1


def run_hbt(ev, tick, lot, qty, hs, skew, maxpos, roi, rec=None):
    from hftbacktest import BacktestAsset, ROIVectorMarketDepthBacktest

    t0 = time.perf_counter()
    asset = (
        BacktestAsset()
        .data([ev])
        .linear_asset(1.0)
        .constant_order_latency(LATENCY, LATENCY)
        .power_prob_queue_model(2.0)
        .no_partial_fill_exchange()
        .trading_value_fee_model(MAKER, TAKER)
        .tick_size(tick)
        .lot_size(lot)
        .roi_lb(roi[0])
        .roi_ub(roi[1])
    )
    hbt = ROIVectorMarketDepthBacktest([asset])
    t1 = time.perf_counter()
    if rec is None:
        rec = np.zeros((1, 4), dtype=np.int64)
    n_rec = hbt_grid(hbt, tick, lot, qty, hs, skew, maxpos, INTERVAL, rec)
    t2 = time.perf_counter()
    sv = hbt.state_values(0)
    depth = hbt.depth(0)
    mid = 0.5 * (depth.best_bid + depth.best_ask)
    pos = sv.position
    pnl = sv.balance - sv.fee + pos * mid
    out = {"fills": int(sv.num_trades), "position": float(pos), "pnl": float(pnl),
           "fee": float(sv.fee), "loop_seconds": t2 - t1, "recorded": int(n_rec)}
    hbt.close()
    out["seconds"] = time.perf_counter() - t0  # end to end: set-up, data, run, results
    return out


def run_mm(ev, tick, lot, qty, hs, skew, maxpos, roi, keep=False):
    t0 = time.perf_counter()
    res = run(ev, GridStrategy(half_spread=hs, order_qty=qty, skew=skew, clip="touch"),
              tick_size=tick, lot_size=lot, queue_model="power", queue_power=2.0,
              partial_fills=False, entry_latency=LATENCY, response_latency=LATENCY,
              interval=INTERVAL, maker_fee=MAKER, taker_fee=TAKER, max_position=maxpos, roi=roi,
              # hftbacktest has no toxicity response and no self-trade prevention
              toxicity_window=0, self_trade_prevention=False)
    dt = time.perf_counter() - t0
    # same PnL definition as for hftbacktest: balance - fees + position at the final local mid
    bid, _, ask, _ = res.final_book["local"]
    mid = 0.5 * (bid + ask)
    c = res.counters
    pnl = c["cash"] + res.pnl["fees"] + c["position"] * mid
    out = {"seconds": dt, "fills": len(res.fills), "position": c["position"], "pnl": pnl,
           "fee": -res.pnl["fees"], "total_pnl_own_mark": res.pnl["total"]}
    if keep:
        out["result"] = res
    return out


def fill_by_fill(seed=0, seconds=600.0):
    """Both tools on a synthetic L2 stream (mmlab.data.synthetic): the list of fills (exchange
    time, side, price tick, qty) of each, and how many are identical."""
    from mmlab.data import synthetic

    ev = synthetic.synthetic_l2_events(session_seconds=seconds, seed=seed, trade_rate=3.0,
                                       sigma_px=0.03, latency_ms=2.0)
    tick, lot = 0.01, 1.0
    a = (ev, tick, lot, 1.0, 0.01, 0.002, 5.0, roi_of(ev, tick))
    rec = np.zeros((100_000, 4), dtype=np.int64)  # ts, side, price tick, qty in 1e-6 units
    h = run_hbt(*a, rec=rec)
    hb = {(int(t), int(s), int(p), int(q)) for t, s, p, q in rec[: h["recorded"]]}
    res = run_mm(*a, keep=True)["result"]
    f = res.fills
    mm = {(int(t), int(s), int(round(p / tick)), int(round(q * 1e6)))
          for t, s, p, q in zip(f["ts"], f["side"], f["price"], f["qty"])}
    return {"events": len(ev), "mmlab_fills": len(mm), "hftbacktest_fills": len(hb),
            "identical": len(mm & hb), "only_mmlab": sorted(mm - hb)[:5],
            "only_hftbacktest": sorted(hb - mm)[:5]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args(argv)
    from mmlab._paths import shipped

    rows = []
    tot = {"mm_ev": 0, "hbt_ev": 0, "mm_s": 0.0, "hbt_s": 0.0, "mm_fills": 0, "hbt_fills": 0,
           "mm_pnl": 0.0, "hbt_pnl": 0.0}
    for sym, (fname, tick, lot, qty, hs, skew, maxpos) in FILES.items():
        ev = load_binance(shipped("binance", fname))
        ev = ev[(ev["ev"] & np.uint64(0xFF)) != 5]  # drop bookTicker (DEPTH_BBO) events
        ev = np.ascontiguousarray(ev)
        roi = roi_of(ev, tick)
        args_ = (ev, tick, lot, qty, hs, skew, maxpos, roi)
        run_mm(*args_)  # warm-up (compile / cache load)
        run_hbt(*args_)
        mm, hb = [], []
        for _ in range(args.repeats):  # interleaved: a change of machine load hits both tools
            mm.append(run_mm(*args_))
            hb.append(run_hbt(*args_))
        mm_s = float(np.median([r["seconds"] for r in mm]))
        hb_s = float(np.median([r["seconds"] for r in hb]))
        hb_loop = float(np.median([r["loop_seconds"] for r in hb]))
        n = len(ev)
        rows.append((sym, n, n / mm_s, n / hb_s, mm[0], hb[0], n / hb_loop))
        tot["mm_ev"] += n
        tot["hbt_ev"] += n
        tot["mm_s"] += mm_s
        tot["hbt_s"] += hb_s
        tot["mm_fills"] += mm[0]["fills"]
        tot["hbt_fills"] += hb[0]["fills"]
        tot["mm_pnl"] += mm[0]["pnl"]
        tot["hbt_pnl"] += hb[0]["pnl"]
    print(f"repeats: {args.repeats} (medians); events exclude bookTicker; latency "
          f"{LATENCY / 1e6:g} ms; power_prob_queue_model(2.0); no partial fills; "
          f"fees {MAKER * 1e4:g}/{TAKER * 1e4:g} bps; cadence 100 ms")
    hdr = (f"{'symbol':8} {'speed ratio':>11} {'events':>8} {'mmlab ev/s':>12} {'hbt ev/s':>12} "
           f"{'mm fills':>8} {'hbt fills':>9} {'mm pos':>8} {'hbt pos':>8} {'mm pnl':>10} "
           f"{'hbt pnl':>10} {'hbt loop ev/s':>13}")
    print(hdr)
    for sym, n, a, b, m, h, r in rows:
        print(f"{sym:8} {a / b:11.2f} {n:8d} {a:12.0f} {b:12.0f} {m['fills']:8d} {h['fills']:9d} "
              f"{m['position']:8.3f} {h['position']:8.3f} {m['pnl']:10.4f} {h['pnl']:10.4f} "
              f"{r:13.0f}")
    out = {
        "mmlab_events_per_s": tot["mm_ev"] / tot["mm_s"],
        "hftbacktest_events_per_s": tot["hbt_ev"] / tot["hbt_s"],
        "speed_ratio": (tot["mm_ev"] / tot["mm_s"]) / (tot["hbt_ev"] / tot["hbt_s"]),
        "mmlab_fills": tot["mm_fills"],
        "hftbacktest_fills": tot["hbt_fills"],
        "mmlab_pnl": tot["mm_pnl"],
        "hftbacktest_pnl": tot["hbt_pnl"],
        "repeats": args.repeats,
        "per_symbol": {
            sym: {"events": n, "mmlab_events_per_s": a, "hftbacktest_events_per_s": b,
                  "mmlab_fills": m["fills"], "hftbacktest_fills": h["fills"],
                  "mmlab_position": m["position"], "hftbacktest_position": h["position"],
                  "mmlab_pnl": m["pnl"], "hftbacktest_pnl": h["pnl"]}
            for sym, n, a, b, m, h, _ in rows
        },
    }
    fb = fill_by_fill()
    print(f"fill by fill on a synthetic stream ({fb['events']} events, same settings): mmlab "
          f"{fb['mmlab_fills']}, hftbacktest {fb['hftbacktest_fills']}, identical (time, side, "
          f"price, qty): {fb['identical']}; only mmlab {fb['only_mmlab']}; only hftbacktest "
          f"{fb['only_hftbacktest']}")
    out["synthetic_fill_by_fill"] = {k: fb[k] for k in ("events", "mmlab_fills",
                                                        "hftbacktest_fills", "identical")}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
