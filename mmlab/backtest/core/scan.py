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


def scan_events_python(ev, px, qty, exch_ts, local_ts, code, si, sf):
    """One pass over the events: kernel codes into ``code`` (kind | BUY 16 | SELL 32 | EXCH 64 |
    LOCAL 128) and statistics. ``si``: first bad row (-1 none), its reason (1 unknown kind, 2 bad
    price/quantity), #depth/trade events, #L3 events, first and latest local ts, latest exch ts,
    #exch, #local, #rows on both sides with exch ts <= local ts. ``sf``: min/max trade price,
    min/max depth/trade price."""
    n = ev.shape[0]
    si[0] = -1
    si[1] = 0
    si[2] = 0
    si[3] = 0
    si[4] = -1
    si[5] = -1
    si[6] = -BIG
    si[7] = 0
    si[8] = 0
    si[9] = 0
    sf[0] = math.inf
    sf[1] = -math.inf
    sf[2] = math.inf
    sf[3] = -math.inf
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
                si[4] = lt
                si[5] = lt
            elif lt > si[5]:
                si[5] = lt
            n_loc += 1
        if (c & C_EXCH) != 0:
            et = exch_ts[i]
            if et > si[6]:
                si[6] = et
            si[7] += 1
            if (c & C_LOCAL) != 0 and et <= local_ts[i]:
                si[9] += 1
        if kind == K_DEPTH or kind == K_SNAPSHOT or kind == K_TRADE:
            p = px[i]
            q = qty[i]
            if not (p > 0.0 and q >= 0.0 and p < math.inf and q < math.inf):
                if si[0] < 0:
                    si[0] = i
                    si[1] = 2
                continue
            si[2] += 1
            if p < sf[2]:
                sf[2] = p
            if p > sf[3]:
                sf[3] = p
            if kind == K_TRADE:
                if p < sf[0]:
                    sf[0] = p
                if p > sf[1]:
                    sf[1] = p
        elif kind == 0 or kind > 13 or (5 < kind < 10):
            if si[0] < 0:
                si[0] = i
                si[1] = 1
        elif kind >= 10:
            si[3] += 1
    si[8] = n_loc
    return 0


def portfolio_view_python(orders, acc, best, cfg, out):
    """What a portfolio check needs of one instrument (linear contracts): ``out[0]`` its gross
    exposure (the larger of long and short: position plus working and in-flight orders of that
    side, the strategy's view) at the local mid, ``out[1]`` its equity at the exchange mid,
    ``out[2]`` the local mid (each mid falls back to the last mark, then 0)."""
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
    out[0] = max(lpos + buy, -lpos + sell, 0.0) * lm * mult
    out[1] = acc["cash"] - acc["fees"] + acc["fund"] + acc["pos"] * em * mult
    out[2] = lm
    return 0


# the names the functions above call each other by, bound to the plain-Python twins (the
# compiled family binds its own: mmlab.backtest.engine._engine._compile)
scan_events = scan_events_python
portfolio_view = portfolio_view_python
