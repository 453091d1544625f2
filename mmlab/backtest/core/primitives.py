"""Primitives of the trading core: contract values, latency draws, ticks, the dense L2 book's
levels, the account (marks and fills: position, cash, fees, the PnL split), the request and
response queues, and the risk events' record.

Each function here is the plain-Python twin; :mod:`mmlab.backtest.engine._engine` compiles the family
from the same code (see its ``_compile``).

The account (:func:`mark`, :func:`book_fill`; funding in :mod:`~mmlab.backtest.core.loop`) is
the definition of the core's accounting. Every amount is in the instrument's settlement
currency; prices enter through the *value coordinate* of one contract, ``x(p) = m p``
(multiplier ``m``, linear) or ``x(p) = -m / p`` (inverse, coin-margined: a long of ``q``
contracts earns ``q m (1/p0 - 1/p1)`` coins). With fills ``(s_i, n_i, p_i)`` (side, quantity,
price), marks ``M_t`` (the exchange mid), fees ``f`` and funding ``F``, the PnL split is::

    spread    = sum_i s_i n_i (x(M at fill i) - x(p_i))
    inventory = sum_t q_t (x(M_t+1) - x(M_t))
    total     = spread + inventory - fees + funding
              = cash + q_T x(M_T) - fees + funding,   cash = -sum_i s_i n_i x(p_i)

(summation by parts: the parts add up to the total to round-off). Fees are
``rate x |n x(p)| + per_contract x n`` (maker or taker rate; a negative maker rate is a
rebate). Funding (perpetuals): at each funding time ``-rate x q x |x(mark)|``: a long pays a
positive rate, as Binance and Deribit settle it.
"""

from __future__ import annotations

import math

import numpy as np

from mmlab.backtest.core.layout import (
    C_BUY,
    C_KIND,
    C_SELL,
    EPS,
    K_ADD,
    K_CLEAR,
    K_DEPTH,
    K_EXEC,
    K_REDUCE,
    K_SNAPSHOT,
    RNG_ENTRY,
)


def _value_python(px, mult, inverse):
    if inverse == 1:
        return -mult / px
    return mult * px


def _draw_python(lat, sc, which):
    """A latency: the constant, or one drawn from a recorded array by the MINSTD generator
    ``which`` (``RNG_ENTRY``: entry latencies, drawn by the local side, state
    ``sc["rng_entry"]``; ``RNG_RESPONSE``: response latencies, drawn by the exchange side,
    state ``sc["rng_response"]``; one stream a side, so each side draws the same sequence
    whether the two run merged or apart)."""
    n = lat.shape[0]
    if n == 1:
        return lat[0]
    if which == RNG_ENTRY:
        x = (sc["rng_entry"] * 48271) % 2147483647
        sc["rng_entry"] = x
    else:
        x = (sc["rng_response"] * 48271) % 2147483647
        sc["rng_response"] = x
    return lat[x % n]


def _tick_python(p, inv_tick):
    """Nearest tick index of price ``p`` (``inv_tick`` = 1 / tick: a product, not a division)."""
    return np.int64(math.floor(p * inv_tick + 0.5))


def _set_level_python(book, best, b, idx, q):
    """Set level ``idx`` of book side ``b`` to ``q``; returns the previous quantity.

    Bids are even ``b``, asks odd. An update that crosses the book moves the opposite best past it
    (the crossed levels stay stored, hidden), as hftbacktest's market depth does.
    """
    n = book.shape[1]
    prev = book[b, idx]
    if q <= EPS:
        q = 0.0
    book[b, idx] = q
    if b % 2 == 0:  # bid side
        if q > 0.0:
            if idx > best[b]:
                best[b] = idx
                if best[b + 1] <= idx:
                    j = idx + 1
                    while j < n and book[b + 1, j] <= 0.0:
                        j += 1
                    best[b + 1] = j
        elif idx == best[b]:
            j = idx - 1
            while j >= 0 and book[b, j] <= 0.0:
                j -= 1
            best[b] = j
    else:  # ask side
        if q > 0.0:
            if idx < best[b]:
                best[b] = idx
                if best[b - 1] >= idx:
                    j = idx - 1
                    while j >= 0 and book[b - 1, j] <= 0.0:
                        j -= 1
                    best[b - 1] = j
        elif idx == best[b]:
            j = idx + 1
            while j < n and book[b, j] <= 0.0:
                j += 1
            best[b] = j
    return prev


def _clear_python(book, best, b, upto):
    """Clear side ``b``: everything (``upto`` < 0) or the levels at or beyond ``upto``
    (bids >= upto, asks <= upto)."""
    n = book.shape[1]
    if upto < 0:
        for j in range(n):
            book[b, j] = 0.0
    elif b % 2 == 0:
        for j in range(max(upto, 0), n):
            book[b, j] = 0.0
    else:
        for j in range(0, min(upto + 1, n)):
            book[b, j] = 0.0
    if b % 2 == 0:
        j = n - 1
        while j >= 0 and book[b, j] <= 0.0:
            j -= 1
        best[b] = j
    else:
        j = 0
        while j < n and book[b, j] <= 0.0:
            j += 1
        best[b] = j


def _mid_python(best, b, base, tick, n):
    """Mid of book ``b`` (0 exchange, 2 local); NaN when a side is empty."""
    if best[b] < 0 or best[b + 1] >= n:
        return math.nan
    return 0.5 * ((best[b] + base) + (best[b + 1] + base)) * tick


def _clear_event_python(c, p, book, best, b0, base, cfg):
    """A ``DEPTH_CLEAR`` record on the book pair ``b0`` / ``b0 + 1`` (0: the exchange's, 2: the
    local copy): its side(s) (both when it names none), up to price ``p`` (everything when
    ``p <= 0``)."""
    upto = np.int64(-1)
    if p > 0.0:
        upto = _tick(p, cfg["itick"]) - base
    if (c & C_BUY) != 0 or (c & C_SELL) == 0:
        _clear(book, best, b0, upto)
    if (c & C_SELL) != 0 or (c & C_BUY) == 0:
        _clear(book, best, b0 + 1, upto)


def _lo_event_python(i, code, px, qty, best, book, cfg):
    """Apply local event ``i`` to the strategy's copy of the book."""
    n = cfg["nticks"]
    base = cfg["base"]
    c = code[i]
    kind = c & C_KIND
    if kind == K_DEPTH or kind == K_SNAPSHOT or kind == K_ADD or kind == K_REDUCE or \
            kind == K_EXEC:
        idx = _tick(px[i], cfg["itick"]) - base
        if 0 <= idx < n:
            b = 2 if (c & C_BUY) != 0 else 3
            _set_level(book, best, b, idx, qty[i])
    elif kind == K_CLEAR:
        _clear_event(c, px[i], book, best, 2, base, cfg)


def _mark_python(acc, sc, mid, cfg):
    if not math.isfinite(mid):
        return
    mult = cfg["mult"]
    inv = cfg["inverse"]
    if math.isfinite(acc["mark"]):
        acc["inv"] += acc["pos"] * (_value(mid, mult, inv) - _value(acc["mark"], mult, inv))
    acc["mark"] = mid


def _book_fill_python(acc, sc, fills, slot, orders, side, qty, px, maker, ts, resp_lat, mid,
                      cfg):
    """Book one fill in the accounts and the fill record: mark at ``mid`` first (at the fill
    price when nothing has marked the account yet), then position, cash, fee, spread capture
    (see the module notes)."""
    mult = cfg["mult"]
    inv = cfg["inverse"]
    if math.isfinite(mid):
        _mark(acc, sc, mid, cfg)
    if not math.isfinite(acc["mark"]):
        _mark(acc, sc, px, cfg)
    x_px = _value(px, mult, inv)
    x_mid = _value(acc["mark"], mult, inv)
    rate = cfg["maker"] if maker == 1 else cfg["taker"]
    fee = rate * abs(qty * x_px) + cfg["perc"] * qty
    capture = side * qty * (x_mid - x_px)
    acc["pos"] += side * qty
    acc["cash"] -= side * qty * x_px
    acc["fees"] += fee
    acc["spread"] += capture
    acc["vol"] += abs(qty * x_px)
    k = sc["nfills"]
    fills[k]["price"] = px
    fills[k]["qty"] = qty
    fills[k]["fee"] = fee
    fills[k]["mid"] = acc["mark"]
    fills[k]["spread_capture"] = capture
    fills[k]["ts"] = ts
    fills[k]["local_ts"] = ts + resp_lat
    fills[k]["side"] = side
    fills[k]["maker"] = maker
    fills[k]["order_id"] = orders[slot]["id"]
    fills[k]["seq"] = sc["seq"]
    sc["seq"] += 1
    sc["nfills"] = k + 1
    if maker == 1:
        sc["nmaker"] += 1
    else:
        sc["ntaker"] += 1


def _record_step_python(k, t, i_ex, acc, sc, best, cfg, steps):
    base = cfg["base"]
    tick = cfg["tick"]
    n = cfg["nticks"]
    mid = _mid(best, 0, base, tick, n)
    _mark(acc, sc, mid, cfg)
    steps[k]["mid"] = mid
    steps[k]["local_mid"] = _mid(best, 2, base, tick, n)
    steps[k]["position"] = acc["pos"]
    steps[k]["local_position"] = acc["lpos"]
    bal = acc["cash"] - acc["fees"] + acc["fund"]
    steps[k]["balance"] = bal
    x = 0.0
    if math.isfinite(acc["mark"]):
        x = acc["pos"] * _value(acc["mark"], cfg["mult"], cfg["inverse"])
    eq = bal + x
    steps[k]["equity"] = eq
    if math.isfinite(eq):
        if math.isfinite(acc["elast"]):
            d = eq - acc["elast"]
            nd = acc["dn"] + 1.0
            dev = d - acc["dmean"]
            acc["dmean"] += dev / nd
            acc["dm2"] += dev * (d - acc["dmean"])
            acc["dn"] = nd
            if d < 0.0:
                acc["dneg2"] += d * d
        acc["elast"] = eq
        if eq > acc["peak"]:
            acc["peak"] = eq
        if acc["peak"] - eq > acc["mdd"]:
            acc["mdd"] = acc["peak"] - eq
    ap = abs(acc["pos"])
    acc["sabs"] += ap
    if ap > acc["mabs"]:
        acc["mabs"] = ap
    acc["nsteps"] += 1.0
    steps[k]["spread_pnl"] = acc["spread"]
    steps[k]["inventory_pnl"] = acc["inv"]
    steps[k]["fees"] = acc["fees"]
    steps[k]["funding"] = acc["fund"]
    steps[k]["best_bid"] = (best[0] + base) * tick if best[0] >= 0 else math.nan
    steps[k]["best_ask"] = (best[1] + base) * tick if best[1] < n else math.nan
    steps[k]["ts"] = t
    steps[k]["seq"] = sc["seq"]
    steps[k]["events_applied"] = i_ex
    sc["seq"] += 1
    sc["marks"] += 1


def _push_req_python(rq, sc, t, slot, kind, oid):
    """Send a request arriving at ``t``, or at the previous request's arrival when that is
    later: requests arrive in the order they are sent (one order-entry session)."""
    if t < sc["req_last"]:
        t = sc["req_last"]
    sc["req_last"] = t
    k = sc["nreq"]
    rq[k]["ts"] = t
    rq[k]["slot"] = slot
    rq[k]["kind"] = kind
    rq[k]["order_id"] = oid
    rq[k]["seq"] = sc["seq"]
    sc["seq"] += 1
    sc["nreq"] = k + 1


def _push_resp_python(rs, sc, t, slot, kind, oid, qty):
    """Send a response arriving at ``t``, or at the previous response's arrival when that is
    later: responses arrive in the order they are sent (so an order's fills always precede its
    cancel's answer, as a venue's session delivers them)."""
    if t < sc["resp_last"]:
        t = sc["resp_last"]
    sc["resp_last"] = t
    k = sc["nresp"]
    rs[k]["ts"] = t
    rs[k]["slot"] = slot
    rs[k]["kind"] = kind
    rs[k]["order_id"] = oid
    rs[k]["seq"] = sc["seq"]
    rs[k]["qty"] = qty
    rs[k]["cash"] = 0.0
    sc["seq"] += 1
    sc["nresp"] = k + 1


def _first_python(q, n):
    """Row of the earliest entry (time, then sequence) among the first ``n`` rows; -1 if none."""
    best = -1
    for r in range(n):
        if best < 0 or q[r]["ts"] < q[best]["ts"] or (
                q[r]["ts"] == q[best]["ts"] and q[r]["seq"] < q[best]["seq"]):
            best = r
    return best


def _pop_python(q, n, r):
    """Remove row ``r`` (the last row moves into its place)."""
    last = n - 1
    if r != last:
        q[r] = q[last]


def _risk_event_python(rk, sc, t, kind, value):
    """Record a risk event (time, kind ``RK_*``, the equity or measure behind it)."""
    k = sc["nrisk"]
    if k < rk.shape[0]:
        rk[k]["ts"] = t
        rk[k]["kind"] = kind
        rk[k]["value"] = value
    sc["nrisk"] = k + 1


# the names the functions above call each other by, bound to the plain-Python twins (the
# compiled family binds its own: mmlab.backtest.engine._engine._compile)
_value = _value_python
_draw = _draw_python
_tick = _tick_python
_set_level = _set_level_python
_clear = _clear_python
_mid = _mid_python
_clear_event = _clear_event_python
_lo_event = _lo_event_python
_mark = _mark_python
_book_fill = _book_fill_python
_record_step = _record_step_python
_push_req = _push_req_python
_push_resp = _push_resp_python
_first = _first_python
_pop = _pop_python
_risk_event = _risk_event_python

# public names for the sibling modules (the import graph allows no private imports)
value = _value_python
draw = _draw_python
tick = _tick_python
set_level = _set_level_python
clear = _clear_python
mid = _mid_python
clear_event = _clear_event_python
lo_event = _lo_event_python
mark = _mark_python
book_fill = _book_fill_python
record_step = _record_step_python
push_req = _push_req_python
push_resp = _push_resp_python
first = _first_python
pop = _pop_python
risk_event = _risk_event_python
