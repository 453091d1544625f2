"""Passes over the events outside the loop: the per-event codes and statistics, and a
portfolio's view of one instrument.

Each function here is the plain-Python twin; :mod:`mmlab.backtest.engine._engine` compiles the family
from the same code (see its ``_compile``)."""

from __future__ import annotations

import math

import numpy as np

from mmlab.backtest.core.layout import (
    BIG,
    C_EXCH,
    C_LOCAL,
    K_DEPTH,
    K_SNAPSHOT,
    K_TRADE,
    LO_FREE,
)
from mmlab.backtest.core.primitives import (
    mid as _mid,
)


def scan_events_python(ev, px, qty, exch_ts, local_ts, code, st_row):
    """One pass over the events: kernel codes into ``code`` (kind | BUY 16 | SELL 32 | EXCH 64 |
    LOCAL 128) and the statistics record ``st`` (SCAN_DTYPE: the first bad row and why, event
    counts, the clocks' first and last times, price ranges; given as its one-row array)."""
    st = st_row[0]
    n = ev.shape[0]
    st["bad_row"] = -1
    st["bad_reason"] = 0
    st["n_l2"] = 0
    st["n_l3"] = 0
    st["first_local_ts"] = -1
    st["last_local_ts"] = -1
    st["last_exch_ts"] = -BIG
    st["n_exch"] = 0
    st["n_local"] = 0
    st["n_ordered"] = 0
    st["min_trade_px"] = math.inf
    st["max_trade_px"] = -math.inf
    st["min_px"] = math.inf
    st["max_px"] = -math.inf
    n_loc = 0
    for i in range(n):
        e = ev[i]
        kind = np.int64(e & np.uint64(0xFF))
        # BUY bit 29 -> 16, SELL bit 28 -> 32, EXCH bit 31 -> 64, LOCAL bit 30 -> 128
        c = kind | np.int64((e >> np.uint64(25)) & np.uint64(80)) | np.int64(
            (e >> np.uint64(23)) & np.uint64(160))
        code[i] = np.uint8(c)
        if (c & C_LOCAL) != 0:
            lt = local_ts[i]
            if n_loc == 0:
                st["first_local_ts"] = lt
                st["last_local_ts"] = lt
            elif lt > st["last_local_ts"]:
                st["last_local_ts"] = lt
            n_loc += 1
        if (c & C_EXCH) != 0:
            et = exch_ts[i]
            if et > st["last_exch_ts"]:
                st["last_exch_ts"] = et
            st["n_exch"] += 1
            if (c & C_LOCAL) != 0 and et <= local_ts[i]:
                st["n_ordered"] += 1
        if kind == K_DEPTH or kind == K_SNAPSHOT or kind == K_TRADE:
            p = px[i]
            q = qty[i]
            if not (p > 0.0 and q >= 0.0 and p < math.inf and q < math.inf):
                if st["bad_row"] < 0:
                    st["bad_row"] = i
                    st["bad_reason"] = 2
                continue
            st["n_l2"] += 1
            if p < st["min_px"]:
                st["min_px"] = p
            if p > st["max_px"]:
                st["max_px"] = p
            if kind == K_TRADE:
                if p < st["min_trade_px"]:
                    st["min_trade_px"] = p
                if p > st["max_trade_px"]:
                    st["max_trade_px"] = p
        elif kind == 0 or kind > 13 or (5 < kind < 10):
            if st["bad_row"] < 0:
                st["bad_row"] = i
                st["bad_reason"] = 1
        elif kind >= 10:
            st["n_l3"] += 1
    st["n_local"] = n_loc
    return 0


def portfolio_view_python(orders, acc_row, best, cfg_row, out_row):
    """What a portfolio check needs of one instrument (linear contracts), into the record
    ``out`` (PORTFOLIO_VIEW_DTYPE): its gross exposure (the larger of long and short: position
    plus working and in-flight orders of that side, the strategy's view) at the local mid, its
    equity at the exchange mid, and the local mid (each mid falls back to the last mark, then
    0). The records come as their one-row arrays (core.layout.rows)."""
    acc = acc_row[0]
    cfg = cfg_row[0]
    out = out_row[0]
    base = cfg["base"]
    tick = cfg["tick"]
    n = cfg["nticks"]
    mult = cfg["mult"]
    buy = 0.0
    sell = 0.0
    for s in range(orders.shape[0]):
        if orders[s]["lo_state"] != LO_FREE:
            if orders[s]["side"] == 1:
                buy += orders[s]["lleaves"]
            else:
                sell += orders[s]["lleaves"]
    lm = _mid(best, 2, base, tick, n)
    if not math.isfinite(lm):
        lm = acc["mark"]
    if not math.isfinite(lm):
        lm = 0.0
    em = _mid(best, 0, base, tick, n)
    if not math.isfinite(em):
        em = acc["mark"]
    if not math.isfinite(em):
        em = 0.0
    lpos = acc["lpos"]
    out["exposure"] = max(lpos + buy, -lpos + sell, 0.0) * lm * mult
    out["equity"] = acc["cash"] - acc["fees"] + acc["fund"] + acc["pos"] * em * mult
    out["local_mid"] = lm
    return 0


# the names the functions above call each other by, bound to the plain-Python twins (the
# compiled family binds its own: mmlab.backtest.engine._engine._compile)
scan_events = scan_events_python
portfolio_view = portfolio_view_python
