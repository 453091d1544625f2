"""The event-replay backtest kernel: one pass over the event array, compiled with numba.

Two clocks run side by side, merged into one simulated timeline:

* the **exchange** applies every ``EXCH`` event at ``exch_ts`` (in row order) to its L2 book,
  receives our requests ``entry latency`` after we send them, matches our resting orders, and
  sends acks/fills back, which reach us ``response latency`` later;
* the **local** side (the strategy) applies every ``LOCAL`` event at ``local_ts`` to its own
  copy of the book, so it sees the market with the feed latency ``local_ts - exch_ts``; the
  strategy wakes every ``interval`` ns of local time and reconciles its quotes.

Matching (hftbacktest's rules, ``NoPartialFillExchange`` / ``PartialFillExchange``): a resting buy
fills when a sell trade prints below its price, when a sell trade at its price has consumed the
queue ahead of it (queue model, :mod:`mmlab.backtest._queue`), or when the best ask moves to or
through its price; symmetrically for sells. Crossing orders: post-only (GTX) ones are rejected,
others take the opposite best in full (taker fee). **No market impact**: our fills never consume
or move the replayed liquidity; the replayed book is exactly the book the events describe.

Accounting follows :class:`mmlab.execution.Ledger` (value coordinate ``x(p) = m p``, or
``-m / p`` for inverse contracts): position, cash, fees, funding and the exact split
``spread + inventory - fees + funding = total``. Marks use the exchange-side mid.

All state lives in a few NumPy arrays; every helper exists as a plain-Python function
(``*_python``) and the compiled family is built from the same code with the helper names bound
to their compiled versions (see ``_compile``), so the Python twin runs the identical algorithm.
"""

from __future__ import annotations

import math
import types

import numpy as np
from numba import njit

from mmlab.backtest._queue import (
    QUEUE_FIFO,
    queue_depth_python,
    queue_filled_qty_python,
    queue_trade_python,
)
from mmlab.backtest._user import (
    MAX_LEVELS,
    MS_ASK_QTY,
    MS_BEST_ASK,
    MS_BEST_BID,
    MS_BID_QTY,
    MS_EQUITY,
    MS_ERROR,
    MS_LOT,
    MS_MAX_POSITION,
    MS_MID,
    MS_POSITION,
    MS_STEP,
    MS_TICK,
    MS_TIME,
    MS_TIME_LEFT,
    N_OUT,
    N_STATE,
)

__all__ = ["new_state", "run_kernel", "run_kernel_python", "scan_events", "scan_events_python"]

# ---- event codes (computed in Python from EVENT_DTYPE.ev): kind | side | clock bits -------------
C_KIND = 15
C_BUY = 16
C_SELL = 32
C_EXCH = 64
C_LOCAL = 128
K_DEPTH = 1
K_TRADE = 2
K_CLEAR = 3
K_SNAPSHOT = 4
# L3 records after mmlab.backtest._l3.l3_stream (px = the level's price, qty = its new total)
K_ADD = 10  # an order joins the level (behind any order of ours already there)
K_REDUCE = 11  # an order is cancelled or reduced
K_VTRADE = 12  # a TRADE whose execution the next K_EXEC record reports (FIFO mode skips it)
K_EXEC = 13  # a resting order is executed

EPS = 1e-12
BIG = np.int64(9_000_000_000_000_000_000)

# ---- integer config (cfg_i) ----------------------------------------------------------------
I_NTICKS = 0
I_QMODEL = 1
I_PARTIAL = 2
I_INVERSE = 3
I_INTERVAL = 4
I_TSTART = 5
I_STRAT = 6
I_LEVELS = 7
I_GRIDSTEP = 8
I_POSTONLY = 9
I_CLIP = 10
I_SEED = 11
I_MAXORD = 12
I_TEND = 13
I_NSTEPS = 14
I_BASE = 15
I_HALT = 16  # 1: the strategy cancels everything and stops quoting (portfolio breaker)
I_SHARED = 17  # 1: one book; the strategy's view is read from its history (see run_kernel)
I_RECORD = 18  # one row of the step table every I_RECORD strategy steps (the group's last)
I_STALE = 19  # stale-feed breaker: no local market event for this long (ns; 0: off)
I_COOLDOWN = 20  # self-clearing breakers resume this long after their condition last held (ns)
I_DAYNS = 21  # the trading day's length (ns) for the daily-loss breaker (UTC days)
I_TOXWIN = 22  # toxicity response: window of the last fills (0: off; <= TOX_MAX)
I_TOXREC = 23  # ... recovers after this many consecutive clean fills
I_NLAYERS = 24  # layering of a one-level strategy: levels a side (0: none)
N_CFG_I = 25
# ---- float config (cfg_f) --------------------------------------------------------------------
F_TICK = 0
F_LOT = 1
F_MAKER = 2
F_TAKER = 3
F_PERC = 4
F_MULT = 5
F_MAXPOS = 6
F_QN = 7
F_ITICK = 8  # 1 / tick
F_MAXDD = 9  # drawdown breaker: fall of the marked equity from its peak (quote currency)
F_MAXDL = 10  # daily-loss breaker: fall from the day's first marked equity (quote currency)
F_MAXSPREAD = 11  # abnormal-spread breaker: local best ask - best bid above this (price)
F_MAXMOVE = 12  # vol-surge breaker: |local mid change| between two decisions above this (price)
F_TOXTHR = 13  # toxicity: one-sided share of the window's fills above which the flow is toxic
F_TOXWIDEN = 14  # ... while toxic, distances from the mid are multiplied by this
F_TOXSIZE = 15  # ... and sizes by this
F_TUNIT = 16  # the strategy's time unit (ns): a user kernel's time_left is in it
F_YELLOW = 17  # risk ladder zones on a side's usage max(0, side x position) / max_position:
F_RED = 18  # yellow (sizes shrink, spreads widen, linearly across the band), red (reduce-only);
F_YMIN = 19  # at the top of the yellow band: size factor
F_YWIDEN = 20  # ... and spread multiplier (F_YELLOW = inf: no zones)
F_RATE = 21  # throttle: new orders per second (a token bucket; inf: off) ...
F_BURST = 22  # ... holding at most this many tokens
F_LAYER = 23  # layering: level j's distance multiple at F_LAYER + j, its size share at
# F_LAYER + MAX_LEVELS + j (of the strategy's top-level distance from the mid and size)
N_CFG_F = F_LAYER + 2 * MAX_LEVELS

# ---- order slots: oi (int) / of (float) columns ------------------------------------------------
O_ID = 0
O_SIDE = 1
O_TICK = 2
O_EX = 3  # exchange state: 0 not there (in flight), 1 resting, 2 gone
O_LO = 4  # local state: 0 free slot, 1 pending new, 2 working, 3 pending cancel, 4 done
O_POST = 5
O_ARR = 6  # index of the next exchange event when the order reached the exchange (FIFO key)
N_OI = 7
Q_QTY = 0
Q_LEAVES = 1  # exchange-side leaves
Q_FRONT = 2
Q_CUM = 3
Q_LLEAVES = 4  # local view of leaves
N_OF = 5
LO_FREE = 0
LO_PNEW = 1
LO_WORK = 2
LO_PCANCEL = 3
LO_DONE = 4
# ---- requests (to the exchange) / responses (to local) ---------------------------------------
R_NEW = 1
R_CANCEL = 2
S_ACK = 1
S_FILL = 2
S_CANCELLED = 3
S_REJECTED = 4
S_CANCEL_REJECTED = 5
# rq columns: time, slot, kind, oid, seq ; rs columns: time, slot, kind, oid, seq ;
# rsf[2 r]: qty of response r, rsf[2 r + 1]: the local cash it brings (fills: -side qty x(px) - fee)
# ---- scalars (sc) ------------------------------------------------------------------------------
S_NLIVE = 0
S_NREQ = 1
S_NRESP = 2
S_NEXTID = 3
S_SEQ = 4
S_RNG = 5
S_NFILLS = 6
S_NSENT = 7
S_NREJECT = 8
S_NCANCEL = 9
S_NMAKER = 10
S_NTAKER = 11
S_MARKS = 12
S_NFUND = 13
S_NL2Q = 14  # FIFO mode: L2 (not L3) updates met at one of our order's levels (inexact queue)
S_HALT = 15  # latched breakers (bits H_*): quoting stops until reset
S_PAUSE = 16  # self-clearing breakers tripped (bits B_*)
S_PAUSE_UNTIL = 17  # ... quoting resumes at this local time if none holds any more
S_DAY = 18  # the current trading day (local ts // I_DAYNS; -1 before the first decision)
S_NRISK = 19  # risk events recorded (rk / rkf rows; counted beyond their capacity)
S_TFEED = 20  # local time of the last market event the local side applied
S_TOXN = 21  # toxicity: fills in the window ring, its next slot, buys among them
S_TOXHEAD = 22
S_TOXBUY = 23
S_TOXIC = 24  # 1 while the flow is toxic
S_TOXCLEAN = 25  # consecutive clean fills while toxic
S_TOKT = 26  # throttle: time the bucket was last refilled
S_NTHROTTLED = 27  # new orders the throttle held back
N_SC = 28
TOX_MAX = 512  # the window's ring: sc[N_SC : N_SC + TOX_MAX] (fill sides, +1 / -1)
# ---- accounting (acc) --------------------------------------------------------------------------
A_POS = 0
A_CASH = 1
A_FEES = 2
A_FUND = 3
A_SPREAD = 4
A_INV = 5
A_MARK = 6  # last mark (mid), NaN before the first
A_VOL = 7
A_LPOS = 8  # local (strategy's) view of the position
# running statistics over EVERY strategy step (exact whatever record_every thins the table to)
A_ELAST = 9  # equity at the previous step (NaN before the first)
A_DN = 10  # number of per-step equity changes
A_DMEAN = 11  # their running mean and sum of squared deviations (Welford)
A_DM2 = 12
A_DNEG2 = 13  # sum of squares of the negative changes (downside deviation)
A_PEAK = 14  # running peak of max(equity, 0)
A_MDD = 15  # largest fall from that peak
A_SABS = 16  # sum and maximum of |position| over the steps
A_MABS = 17
A_NSTEPS = 18  # strategy steps taken
# the local side's own account (what a live session sees: fills known from their responses)
A_LCASH = 19  # cash less fees of the fills the local side has heard of
A_LPEAK = 20  # peak of the local marked equity (NaN before the first decision)
A_DAY0 = 21  # local marked equity at the trading day's first decision
A_LMARK = 22  # last finite local mid (NaN before the first)
A_LMIDPREV = 23  # local mid at the previous decision (vol-surge breaker)
A_LEQ = 24  # local marked equity at the last decision
A_TOKENS = 25  # throttle: tokens in the bucket (NaN before the first order)
N_ACC = 26
# ---- risk: latched (H_*) and self-clearing (B_*) breakers; risk event kinds (RK_*) -----------
H_DRAWDOWN = 1
H_DAILY = 2
H_KILL = 4
H_KERNEL = 8  # a user quote kernel raised
B_STALE = 1
B_SPREAD = 2
B_VOL = 4
RK_DRAWDOWN = 1
RK_DAILY_LOSS = 2
RK_KILL = 3
RK_STALE = 4
RK_SPREAD = 5
RK_VOL = 6
RK_RESUME = 7  # the self-clearing breakers' cooldown ended: quoting resumes
RK_DAY_RESET = 8  # a new trading day cleared the daily-loss breaker
RK_RESET = 9  # latched breakers reset by the user
RK_TOXIC = 10  # fills one-sided above the threshold: widen and size down
RK_TOXIC_END = 11  # recovered after the clean fills
RK_KERNEL_ERROR = 12  # a user quote kernel raised (e.g. an index out of range): halted
RK_KINDS = {RK_DRAWDOWN: "drawdown", RK_DAILY_LOSS: "daily_loss", RK_KILL: "kill_switch",
            RK_STALE: "stale_feed", RK_SPREAD: "abnormal_spread", RK_VOL: "vol_surge",
            RK_RESUME: "cooldown_end", RK_DAY_RESET: "daily_loss_reset", RK_RESET: "reset",
            RK_TOXIC: "toxic_flow", RK_TOXIC_END: "toxic_flow_end",
            RK_KERNEL_ERROR: "quote_kernel_error"}
# ---- fills: ff (float) / fi (int) columns ------------------------------------------------------
FF_PX = 0
FF_QTY = 1
FF_FEE = 2
FF_MID = 3
FF_CAPTURE = 4
N_FF = 5
FI_TS = 0
FI_LTS = 1
FI_SIDE = 2
FI_MAKER = 3
FI_OID = 4
FI_SEQ = 5
N_FI = 6
# ---- steps: stf (float) / sti (int) columns ----------------------------------------------------
T_MID = 0
T_LMID = 1
T_POS = 2
T_LPOS = 3
T_BAL = 4
T_EQ = 5
T_SPREAD = 6
T_INV = 7
T_FEES = 8
T_FUND = 9
T_BID = 10  # exchange best bid / ask (NaN when empty)
T_ASK = 11
T_QBID = 12  # our quoted bid / ask price (NaN: none)
T_QASK = 13
N_STF = 14
TI_TS = 0
TI_SEQ = 1
TI_IEX = 2  # exchange events applied so far
N_STI = 3
# ---- strategies --------------------------------------------------------------------------------
STRAT_GRID = 0
STRAT_AS = 1
STRAT_AS_INF = 2
STRAT_GLFT = 3
STRAT_SCRIPT = 4
STRAT_ADAPTIVE = 5
STRAT_USER = 6  # a user quote kernel (mmlab.backtest._user), called through a function pointer
# ---- scripted orders: sp = [n, then n rows of SCRIPT_W values] ---------------------------------
SC_STEP = 0  # step index at which the order is sent
SC_SIDE = 1
SC_TICK = 2  # absolute tick
SC_QTY = 3
SC_CANCEL = 4  # step index at which it is cancelled (-1: never)
SC_OID = 5  # order id given by the engine (0 before it is sent, -1 not sent)
SCRIPT_W = 6
# ---- resumable run state: pos ------------------------------------------------------------------
P_IEX = 0
P_ILO = 1
P_IFU = 2
P_K = 3
P_KSTOP = 4  # pause just before strategy step P_KSTOP (-1: run to the end)
P_INIT = 5
P_DONE = 6
P_ONE = 7  # 1: pause right after the next strategy step
P_FIN = 8  # 1: the event arrays hold the whole stream; 0: more rows may be appended (step driver)
P_WM = 9  # with P_FIN = 0: no row appended later has an exch or local ts below this watermark
N_POS = 10
RISK_CAP = 4096  # risk events kept (more are counted in S_NRISK)


# ==============================================================================================
# small helpers
# ==============================================================================================


def _value_python(px, mult, inverse):
    if inverse == 1:
        return -mult / px
    return mult * px


def _draw_python(lat, sc):
    """A latency: the constant, or one drawn (MINSTD generator, seeded) from a recorded array."""
    n = lat.shape[0]
    if n == 1:
        return lat[0]
    x = (sc[S_RNG] * 48271) % 2147483647
    sc[S_RNG] = x
    return lat[x % n]


def _tick_python(p, inv_tick):
    """Nearest tick index of price ``p`` (``inv_tick`` = 1 / tick: a product, not a division)."""
    return np.int64(math.floor(p * inv_tick + 0.5))


# ==============================================================================================
# L2 book (dense in ticks): book[0] ex bid, book[1] ex ask, book[2] local bid, book[3] local ask
# best[b]: index of the best level (-1 / n when the side is empty)
# ==============================================================================================


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


# ==============================================================================================
# accounting (Ledger semantics)
# ==============================================================================================


def _mark_python(acc, sc, mid, cfg_f, cfg_i):
    if not math.isfinite(mid):
        return
    mult = cfg_f[F_MULT]
    inv = cfg_i[I_INVERSE]
    if math.isfinite(acc[A_MARK]):
        acc[A_INV] += acc[A_POS] * (_value(mid, mult, inv) - _value(acc[A_MARK], mult, inv))
    acc[A_MARK] = mid


def _book_fill_python(acc, sc, ff, fi, slot, oi, side, qty, px, maker, ts, resp_lat, mid,
                      cfg_f, cfg_i):
    """Book one fill in the accounts and the fill record (Ledger.on_fill with mid=mid)."""
    mult = cfg_f[F_MULT]
    inv = cfg_i[I_INVERSE]
    if math.isfinite(mid):
        _mark(acc, sc, mid, cfg_f, cfg_i)
    if not math.isfinite(acc[A_MARK]):
        _mark(acc, sc, px, cfg_f, cfg_i)
    x_px = _value(px, mult, inv)
    x_mid = _value(acc[A_MARK], mult, inv)
    rate = cfg_f[F_MAKER] if maker == 1 else cfg_f[F_TAKER]
    fee = rate * abs(qty * x_px) + cfg_f[F_PERC] * qty
    capture = side * qty * (x_mid - x_px)
    acc[A_POS] += side * qty
    acc[A_CASH] -= side * qty * x_px
    acc[A_FEES] += fee
    acc[A_SPREAD] += capture
    acc[A_VOL] += abs(qty * x_px)
    k = sc[S_NFILLS]
    ff[k, FF_PX] = px
    ff[k, FF_QTY] = qty
    ff[k, FF_FEE] = fee
    ff[k, FF_MID] = acc[A_MARK]
    ff[k, FF_CAPTURE] = capture
    fi[k, FI_TS] = ts
    fi[k, FI_LTS] = ts + resp_lat
    fi[k, FI_SIDE] = side
    fi[k, FI_MAKER] = maker
    fi[k, FI_OID] = oi[slot, O_ID]
    fi[k, FI_SEQ] = sc[S_SEQ]
    sc[S_SEQ] += 1
    sc[S_NFILLS] = k + 1
    if maker == 1:
        sc[S_NMAKER] += 1
    else:
        sc[S_NTAKER] += 1


# ==============================================================================================
# request / response queues
# ==============================================================================================


def _push_req_python(rq, sc, t, slot, kind, oid):
    k = sc[S_NREQ]
    rq[k, 0] = t
    rq[k, 1] = slot
    rq[k, 2] = kind
    rq[k, 3] = oid
    rq[k, 4] = sc[S_SEQ]
    sc[S_SEQ] += 1
    sc[S_NREQ] = k + 1


def _push_resp_python(rs, rsf, sc, t, slot, kind, oid, qty):
    k = sc[S_NRESP]
    rs[k, 0] = t
    rs[k, 1] = slot
    rs[k, 2] = kind
    rs[k, 3] = oid
    rs[k, 4] = sc[S_SEQ]
    rsf[2 * k] = qty
    rsf[2 * k + 1] = 0.0
    sc[S_SEQ] += 1
    sc[S_NRESP] = k + 1


def _first_python(q, n):
    """Row of the earliest entry (time, then sequence) among the first ``n`` rows; -1 if none."""
    best = -1
    for r in range(n):
        if best < 0 or q[r, 0] < q[best, 0] or (q[r, 0] == q[best, 0] and q[r, 4] < q[best, 4]):
            best = r
    return best


def _pop_python(q, n, r):
    """Remove row ``r`` (the last row moves into its place)."""
    last = n - 1
    if r != last:
        for c in range(q.shape[1]):
            q[r, c] = q[last, c]


# ==============================================================================================
# exchange side
# ==============================================================================================


def _live_remove_python(live, sc, slot):
    n = sc[S_NLIVE]
    for j in range(n):
        if live[j] == slot:
            live[j] = live[n - 1]
            sc[S_NLIVE] = n - 1
            return


def _ex_fill_python(slot, qty, px, maker, t, oi, of, live, sc, acc, ff, fi, rs, rsf, best, book,
                    cfg_f, cfg_i, lat_resp, mid):
    """The exchange fills ``qty`` of order ``slot`` at ``px``; response to local."""
    resp = _draw(lat_resp, sc)
    side = oi[slot, O_SIDE]
    _book_fill(acc, sc, ff, fi, slot, oi, side, qty, px, maker, t, resp, mid, cfg_f, cfg_i)
    of[slot, Q_LEAVES] -= qty
    if of[slot, Q_LEAVES] <= cfg_f[F_LOT] * 1e-9:
        of[slot, Q_LEAVES] = 0.0
        if oi[slot, O_EX] == 1:
            _live_remove(live, sc, slot)
        oi[slot, O_EX] = 2
    _push_resp(rs, rsf, sc, t + resp, slot, S_FILL, oi[slot, O_ID], qty)
    kf = sc[S_NFILLS] - 1
    rsf[2 * sc[S_NRESP] - 1] = -side * qty * _value(
        ff[kf, FF_PX], cfg_f[F_MULT], cfg_i[I_INVERSE]) - ff[kf, FF_FEE]


def _ex_cross_python(b, t, oi, of, live, sc, acc, ff, fi, rs, rsf, best, book, cfg_f, cfg_i,
                     lat_resp):
    """After a best-price move on exchange side ``b`` (0 bid, 1 ask): fill our resting orders
    on the other side that the new best crosses (in full, at their own price, as makers)."""
    base = cfg_i[I_BASE]
    tick = cfg_f[F_TICK]
    n = cfg_i[I_NTICKS]
    j = 0
    while j < sc[S_NLIVE]:
        slot = live[j]
        hit = False
        if b == 0:
            hit = oi[slot, O_SIDE] == -1 and oi[slot, O_TICK] - base <= best[0]
        else:
            hit = oi[slot, O_SIDE] == 1 and oi[slot, O_TICK] - base >= best[1]
        if hit:
            mid = _mid(best, 0, base, tick, n)
            _ex_fill(slot, of[slot, Q_LEAVES], oi[slot, O_TICK] * tick, 1, t, oi, of, live, sc,
                     acc, ff, fi, rs, rsf, best, book, cfg_f, cfg_i, lat_resp, mid)
            # the slot left `live` (swap with the last): look at index j again
        else:
            j += 1


def _ex_trade_python(tick_t, aggressor, tq, t, oi, of, live, sc, acc, ff, fi, rs, rsf, best,
                     book, cfg_f, cfg_i, lat_resp):
    """A public trade at ``tick_t`` (absolute ticks), aggressor +1 buy / -1 sell, qty ``tq``."""
    base = cfg_i[I_BASE]
    tick = cfg_f[F_TICK]
    n = cfg_i[I_NTICKS]
    model = cfg_i[I_QMODEL]
    lot = cfg_f[F_LOT]
    j = 0
    while j < sc[S_NLIVE]:
        slot = live[j]
        side = oi[slot, O_SIDE]
        filled = False
        if side == -aggressor:
            ot = oi[slot, O_TICK]
            through = (side == -1 and ot < tick_t) or (side == 1 and ot > tick_t)
            if through:
                mid = _mid(best, 0, base, tick, n)
                q = of[slot, Q_LEAVES]
                if cfg_i[I_PARTIAL] == 1:
                    q = min(q, tq)
                _ex_fill(slot, q, ot * tick, 1, t, oi, of, live, sc, acc, ff, fi, rs, rsf, best,
                         book, cfg_f, cfg_i, lat_resp, mid)
                filled = oi[slot, O_EX] == 2
            elif ot == tick_t:
                fr, cu = _queue_trade(model, of[slot, Q_FRONT], of[slot, Q_CUM], tq)
                of[slot, Q_FRONT] = fr
                of[slot, Q_CUM] = cu
                ex = _queue_filled_qty(fr, lot)
                if model == QUEUE_FIFO and fr <= lot * 1e-9:
                    ex = tq  # (hidden) execution at our price, nothing visible ahead: reaches us
                if ex > 0.0:
                    mid = _mid(best, 0, base, tick, n)
                    q = of[slot, Q_LEAVES]
                    if cfg_i[I_PARTIAL] == 1:
                        q = min(q, ex, tq)
                        of[slot, Q_FRONT] = 0.0
                    _ex_fill(slot, q, ot * tick, 1, t, oi, of, live, sc, acc, ff, fi, rs, rsf,
                             best, book, cfg_f, cfg_i, lat_resp, mid)
                    filled = oi[slot, O_EX] == 2
        if not filled:
            j += 1


def _trade_hits_python(c, p, itick, oi, live, sc):
    """Whether a public trade (code ``c``, price ``p``) can touch one of our resting orders: one
    on the passive side at or through its price (else :func:`_ex_trade` would do nothing)."""
    nl = sc[S_NLIVE]
    if nl == 0:
        return False
    tk = _tick(p, itick)
    buy_aggr = (c & C_BUY) != 0
    for j in range(nl):
        slot = live[j]
        if buy_aggr:
            if oi[slot, O_SIDE] == -1 and oi[slot, O_TICK] <= tk:
                return True
        elif oi[slot, O_SIDE] == 1 and oi[slot, O_TICK] >= tk:
            return True
    return False


def _ex_depth_q_python(b, idx, q, oi, of, live, sc, best, book, cfg_f, cfg_i):
    """An exchange L2 update of side ``b`` (0 bid, 1 ask) at level ``idx``: the book, then the
    queue position of our orders at that price. True when the new best crosses one of our
    resting orders on the other side (then :func:`_ex_cross` fills them)."""
    prev_best = best[b]
    prev = _set_level(book, best, b, idx, q)
    nl = sc[S_NLIVE]
    if nl == 0:
        return False
    new = book[b, idx]
    side = 1 if b == 0 else -1
    tick_abs = idx + cfg_i[I_BASE]
    for j in range(nl):
        slot = live[j]
        if oi[slot, O_SIDE] == side and oi[slot, O_TICK] == tick_abs:
            fr, cu = _queue_depth(cfg_i[I_QMODEL], cfg_f[F_QN], of[slot, Q_FRONT], of[slot, Q_CUM],
                                  prev, new)
            of[slot, Q_FRONT] = fr
            of[slot, Q_CUM] = cu
            if cfg_i[I_QMODEL] == QUEUE_FIFO:
                sc[S_NL2Q] += 1
    base = cfg_i[I_BASE]
    if b == 0 and best[0] > prev_best:
        for j in range(nl):
            slot = live[j]
            if oi[slot, O_SIDE] == -1 and oi[slot, O_TICK] - base <= best[0]:
                return True
    elif b == 1 and best[1] < prev_best:
        for j in range(nl):
            slot = live[j]
            if oi[slot, O_SIDE] == 1 and oi[slot, O_TICK] - base >= best[1]:
                return True
    return False


def _ex_l3_python(i, kind, b, idx, q, l3a, t, oi, of, live, sc, acc, ff, fi, rs, rsf, best, book,
                  cfg_f, cfg_i, lat_resp):
    """An L3 record (``K_ADD``/``K_REDUCE``/``K_EXEC``) sets level ``idx`` of exchange side ``b``
    to its new total ``q``; then our orders.

    FIFO (``QUEUE_FIFO``): the order behind the record arrived at the exchange before ours when
    ``l3a[i]`` (its arrival: an exchange-event index, -1 for quantity resting before the data)
    is below our ``O_ARR``. A reduction of such an order lowers our queue ahead by exactly the
    level's decrease; an execution of it too, and what it takes beyond the queue ahead fills us;
    an execution of an order *behind* us passed through us first: beyond the queue ahead, it
    fills us; an execution at a price through ours (a lower bid, a higher ask) fills us. Other
    models treat the record as the L2 update ``prev -> q`` (:func:`_ex_depth_q`). Returns True
    when the new best crosses one of our orders on the other side (see :func:`_ex_cross`).
    """
    model = cfg_i[I_QMODEL]
    if model != QUEUE_FIFO:
        return _ex_depth_q(b, idx, q, oi, of, live, sc, best, book, cfg_f, cfg_i)
    prev_best = best[b]
    prev = _set_level(book, best, b, idx, q)
    if sc[S_NLIVE] == 0:
        return False
    base = cfg_i[I_BASE]
    tick = cfg_f[F_TICK]
    n = cfg_i[I_NTICKS]
    lot = cfg_f[F_LOT]
    dq = prev - book[b, idx]
    side = 1 if b == 0 else -1
    tick_abs = idx + base
    arr = l3a[i]
    j = 0
    while j < sc[S_NLIVE]:
        slot = live[j]
        ex = 0.0
        if oi[slot, O_SIDE] == side and kind != K_ADD:
            ot = oi[slot, O_TICK]
            if ot == tick_abs:
                ahead = arr < oi[slot, O_ARR]
                fr = of[slot, Q_FRONT]
                if kind == K_REDUCE:
                    if ahead:
                        of[slot, Q_FRONT] = max(fr - dq, 0.0)
                elif ahead:  # execution of an order ahead of ours
                    fr -= dq
                    if fr < 0.0:
                        ex = -fr
                        fr = 0.0
                    of[slot, Q_FRONT] = fr
                else:  # execution of an order behind ours
                    ex = dq - max(fr, 0.0)
            elif kind == K_EXEC and ((side == 1 and ot > tick_abs) or
                                     (side == -1 and ot < tick_abs)):
                ex = dq
        if ex > lot * 1e-9:
            qf = of[slot, Q_LEAVES]
            if cfg_i[I_PARTIAL] == 1:
                qf = min(qf, math.floor(ex / lot + 1e-9) * lot)
            if qf > 0.0:
                mid = _mid(best, 0, base, tick, n)
                _ex_fill(slot, qf, oi[slot, O_TICK] * tick, 1, t, oi, of, live, sc, acc, ff, fi,
                         rs, rsf, best, book, cfg_f, cfg_i, lat_resp, mid)
                if oi[slot, O_EX] == 2:
                    continue  # the slot left `live`: look at index j again
        j += 1
    if b == 0 and best[0] > prev_best:
        for j in range(sc[S_NLIVE]):
            slot = live[j]
            if oi[slot, O_SIDE] == -1 and oi[slot, O_TICK] - base <= best[0]:
                return True
    elif b == 1 and best[1] < prev_best:
        for j in range(sc[S_NLIVE]):
            slot = live[j]
            if oi[slot, O_SIDE] == 1 and oi[slot, O_TICK] - base >= best[1]:
                return True
    return False


def _ex_request_python(r, rq, t, i_ex, oi, of, live, sc, acc, ff, fi, rs, rsf, best, book, cfg_f,
                       cfg_i, lat_resp):
    """A request (row ``r`` of ``rq``) reaches the exchange at ``t``, before exchange event
    ``i_ex``."""
    slot = rq[r, 1]
    kind = rq[r, 2]
    oid = rq[r, 3]
    base = cfg_i[I_BASE]
    tick = cfg_f[F_TICK]
    n = cfg_i[I_NTICKS]
    if oi[slot, O_ID] != oid:
        return
    if kind == R_NEW:
        side = oi[slot, O_SIDE]
        idx = oi[slot, O_TICK] - base
        crosses = (side == 1 and idx >= best[1]) or (side == -1 and idx <= best[0])
        if crosses:
            no_opp = (side == 1 and best[1] >= n) or (side == -1 and best[0] < 0)
            if oi[slot, O_POST] == 1 or no_opp:
                oi[slot, O_EX] = 2
                sc[S_NREJECT] += 1
                resp = _draw(lat_resp, sc)
                _push_resp(rs, rsf, sc, t + resp, slot, S_REJECTED, oid, 0.0)
            else:  # takes the opposite best, in full (as hftbacktest)
                mid = _mid(best, 0, base, tick, n)
                px = (best[1] + base) * tick if side == 1 else (best[0] + base) * tick
                _ex_fill(slot, of[slot, Q_LEAVES], px, 0, t, oi, of, live, sc, acc, ff, fi, rs,
                         rsf, best, book, cfg_f, cfg_i, lat_resp, mid)
        else:
            oi[slot, O_EX] = 1
            oi[slot, O_ARR] = i_ex
            b = 0 if side == 1 else 1
            of[slot, Q_FRONT] = book[b, idx]
            of[slot, Q_CUM] = 0.0
            live[sc[S_NLIVE]] = slot
            sc[S_NLIVE] += 1
            resp = _draw(lat_resp, sc)
            _push_resp(rs, rsf, sc, t + resp, slot, S_ACK, oid, 0.0)
    else:  # cancel
        resp = _draw(lat_resp, sc)
        if oi[slot, O_EX] == 1:
            _live_remove(live, sc, slot)
            oi[slot, O_EX] = 2
            sc[S_NCANCEL] += 1
            _push_resp(rs, rsf, sc, t + resp, slot, S_CANCELLED, oid, 0.0)
        else:
            _push_resp(rs, rsf, sc, t + resp, slot, S_CANCEL_REJECTED, oid, 0.0)


# ==============================================================================================
# local side
# ==============================================================================================


def _toxicity_python(side, t, sc, cfg_f, cfg_i, rk, rkf):
    """The toxicity response's state after one of our fills (heard of locally): over the last
    ``I_TOXWIN`` fills, a one-sided share above ``F_TOXTHR`` makes the flow toxic; it recovers
    after ``I_TOXREC`` consecutive clean fills (after which the share is at or below it)."""
    w = cfg_i[I_TOXWIN]
    if w <= 0:
        return
    h = sc[S_TOXHEAD]
    if sc[S_TOXN] == w:  # the ring is full: the oldest side leaves
        if sc[N_SC + h] > 0:
            sc[S_TOXBUY] -= 1
    else:
        sc[S_TOXN] += 1
    sc[N_SC + h] = side
    if side > 0:
        sc[S_TOXBUY] += 1
    sc[S_TOXHEAD] = (h + 1) % w
    n = sc[S_TOXN]
    ratio = max(sc[S_TOXBUY], n - sc[S_TOXBUY]) / n
    if n >= w and ratio > cfg_f[F_TOXTHR]:
        if sc[S_TOXIC] == 0:
            _risk_event(rk, rkf, sc, t, RK_TOXIC, ratio)
        sc[S_TOXIC] = 1
        sc[S_TOXCLEAN] = 0
    elif sc[S_TOXIC] == 1:
        sc[S_TOXCLEAN] += 1
        if sc[S_TOXCLEAN] >= cfg_i[I_TOXREC]:
            sc[S_TOXIC] = 0
            sc[S_TOXCLEAN] = 0
            _risk_event(rk, rkf, sc, t, RK_TOXIC_END, ratio)


def _lo_response_python(r, rs, rsf, oi, of, acc, sc, cfg_f, cfg_i, rk, rkf):
    slot = rs[r, 1]
    kind = rs[r, 2]
    if oi[slot, O_ID] != rs[r, 3] or oi[slot, O_LO] == LO_FREE:
        return
    if kind == S_ACK:
        if oi[slot, O_LO] == LO_PNEW:
            oi[slot, O_LO] = LO_WORK
    elif kind == S_FILL:
        q = rsf[2 * r]
        acc[A_LPOS] += oi[slot, O_SIDE] * q
        acc[A_LCASH] += rsf[2 * r + 1]
        _toxicity(oi[slot, O_SIDE], rs[r, 0], sc, cfg_f, cfg_i, rk, rkf)
        of[slot, Q_LLEAVES] -= q
        if of[slot, Q_LLEAVES] <= of[slot, Q_QTY] * 1e-9:
            of[slot, Q_LLEAVES] = 0.0
            oi[slot, O_LO] = LO_FREE
        elif oi[slot, O_LO] == LO_PNEW:
            oi[slot, O_LO] = LO_WORK
    elif kind == S_CANCELLED or kind == S_REJECTED:
        oi[slot, O_LO] = LO_FREE
    # S_CANCEL_REJECTED: the order was already gone (its fill response is on its way or arrived)


def _quote_python(strat, sp, mid, pos, t, t_end, bb_px, ba_px, tick):
    """Strategy kernel: ``(bid, ask, bid_qty, ask_qty)`` (NaN price: no quote)."""
    if strat == STRAT_GRID:
        # sp: half_spread, qty, skew (price per unit of position)
        r = mid - sp[2] * pos
        return r - sp[0], r + sp[0], sp[1], sp[1]
    if strat == STRAT_AS:
        # sp: gamma, sigma, k, max_inventory, order_size, time unit (ns)
        tl = (t_end - t) / sp[5]
        return _as_quote(mid, pos, tl, sp[0], sp[1], sp[2], sp[3], sp[4])
    if strat == STRAT_AS_INF:
        # sp: gamma, sigma, k, omega, max_inventory, order_size
        return _as_inf_quote(mid, pos, sp[0], sp[1], sp[2], sp[3], sp[4], sp[5])
    if strat == STRAT_ADAPTIVE:
        # sp[0:11]: mmlab.quoting adaptive-spread parameters; sp[11]: EWMA weight of the last
        # step; sp[12]: step length in time units; sp[13]: steps before the volatility is known;
        # state (updated here): sp[14] last mid, sp[15] EWMA of squared mid changes, sp[16] count
        if sp[14] == sp[14]:
            d = mid - sp[14]
            sp[15] = d * d if sp[16] == 0.0 else (1.0 - sp[11]) * sp[15] + sp[11] * d * d
            sp[16] += 1.0
        sp[14] = mid
        vol = math.sqrt(sp[15] / sp[12]) if sp[16] >= sp[13] else math.nan
        return _adaptive_quote(mid, pos, 0.0, bb_px, ba_px, vol, sp)
    # GLFT; sp: gamma, sigma, A, k, xi, delta, max_inventory
    return _glft_quote(mid, pos, sp[0], sp[1], sp[2], sp[3], sp[4], sp[5], sp[6])


def _side_exposure_python(oi, of, side, maxord):
    """Unsigned quantity of our live orders on ``side`` (pending new, working, pending cancel)."""
    tot = 0.0
    for s in range(maxord):
        lo = oi[s, O_LO]
        if lo != LO_FREE and oi[s, O_SIDE] == side:
            tot += of[s, Q_LLEAVES]
    return tot


def _new_order_python(side, tk, qty, t, oi, of, rq, sc, acc, cfg_f, cfg_i, lat_entry):
    """Send a new order of ``qty`` at absolute tick ``tk`` on ``side`` when the hard limit
    (position + working + in-flight orders of the side, the local view), a free order slot,
    the request queue and the throttle allow it; its order id, or 0 when it is not sent."""
    maxord = cfg_i[I_MAXORD]
    expo = side * acc[A_LPOS] + _side_exposure(oi, of, side, maxord)
    if expo + qty > cfg_f[F_MAXPOS] + cfg_f[F_LOT] * 1e-9:
        return 0
    free = -1
    for s in range(maxord):
        if oi[s, O_LO] == LO_FREE:
            free = s
            break
    if free < 0 or sc[S_NREQ] >= rq.shape[0] or _throttle(t, sc, acc, cfg_f) == 0:
        return 0
    oid = sc[S_NEXTID]
    sc[S_NEXTID] = oid + 1
    oi[free, O_ID] = oid
    oi[free, O_SIDE] = side
    oi[free, O_TICK] = tk
    oi[free, O_EX] = 0
    oi[free, O_LO] = LO_PNEW
    oi[free, O_POST] = cfg_i[I_POSTONLY]
    of[free, Q_QTY] = qty
    of[free, Q_LEAVES] = qty
    of[free, Q_FRONT] = 0.0
    of[free, Q_CUM] = 0.0
    of[free, Q_LLEAVES] = qty
    sc[S_NSENT] += 1
    lat = _draw(lat_entry, sc)
    _push_req(rq, sc, t + lat, free, R_NEW, oid)
    return oid


def _reconcile_python(side, tick0, qty, t, oi, of, rq, sc, acc, cfg_f, cfg_i, lat_entry):
    """Make our orders on ``side`` match the desired ladder: ``levels`` prices from ``tick0``
    (absolute ticks, -1: none) stepping away by ``grid_step`` ticks, ``qty`` each."""
    maxord = cfg_i[I_MAXORD]
    levels = cfg_i[I_LEVELS]
    step = cfg_i[I_GRIDSTEP]
    lot = cfg_f[F_LOT]
    # cancel acknowledged orders not on the ladder (or of another size); an order still
    # pending its ack is left until the next step (as hftbacktest: not cancellable yet)
    for s in range(maxord):
        if oi[s, O_SIDE] != side:
            continue
        lo = oi[s, O_LO]
        if lo == LO_WORK:
            keep = False
            if tick0 >= 0 and qty > 0.0:
                d = (tick0 - oi[s, O_TICK]) * side
                if d >= 0 and d % step == 0 and d // step < levels and \
                        abs(of[s, Q_QTY] - qty) <= lot * 1e-9:
                    keep = True
            if not keep:
                oi[s, O_LO] = LO_PCANCEL
                lat = _draw(lat_entry, sc)
                _push_req(rq, sc, t + lat, s, R_CANCEL, oi[s, O_ID])
    if tick0 < 0 or qty <= 0.0:
        return
    # place missing levels, within the position limit
    for lv in range(levels):
        tk = tick0 - side * lv * step
        if tk < cfg_i[I_BASE] or tk >= cfg_i[I_BASE] + cfg_i[I_NTICKS]:
            continue
        present = False
        for s in range(maxord):
            if oi[s, O_LO] != LO_FREE and oi[s, O_SIDE] == side and oi[s, O_TICK] == tk:
                present = True
                break
        if present:
            continue
        if _new_order(side, tk, qty, t, oi, of, rq, sc, acc, cfg_f, cfg_i, lat_entry) == 0:
            break


def _script_python(t, k, oi, of, rq, sc, acc, cfg_f, cfg_i, sp, lat_entry):
    """Scripted orders (``STRAT_SCRIPT``): send the rows due at step ``k``, cancel those whose
    cancel step is ``k`` (an order not acknowledged yet is cancelled at the next step)."""
    maxord = cfg_i[I_MAXORD]
    nrow = np.int64(sp[0])
    for r in range(nrow):
        o = 1 + r * SCRIPT_W
        if sp[o + SC_CANCEL] == k and sp[o + SC_OID] > 0:
            oid = np.int64(sp[o + SC_OID])
            for s in range(maxord):
                if oi[s, O_ID] == oid:
                    if oi[s, O_LO] == LO_WORK:
                        oi[s, O_LO] = LO_PCANCEL
                        lat = _draw(lat_entry, sc)
                        _push_req(rq, sc, t + lat, s, R_CANCEL, oid)
                    elif oi[s, O_LO] == LO_PNEW:
                        sp[o + SC_CANCEL] = k + 1
                    break
        if sp[o + SC_STEP] != k or sp[o + SC_OID] != 0:
            continue
        side = np.int64(sp[o + SC_SIDE])
        qty = sp[o + SC_QTY]
        sp[o + SC_OID] = -1
        oid = _new_order(side, np.int64(sp[o + SC_TICK]), qty, t, oi, of, rq, sc, acc, cfg_f,
                         cfg_i, lat_entry)
        if oid > 0:
            sp[o + SC_OID] = oid


def _risk_event_python(rk, rkf, sc, t, kind, value):
    """Record a risk event (time, kind ``RK_*``, the equity or measure behind it)."""
    k = sc[S_NRISK]
    if k < rk.shape[0]:
        rk[k, 0] = t
        rk[k, 1] = kind
        rkf[k] = value
    sc[S_NRISK] = k + 1


def _risk_python(t, lmid, best, acc, sc, cfg_f, cfg_i, rk, rkf):
    """The breakers, at every decision, on the local side's own view: its equity (cash of the
    fills it has heard of, funding, its position) marked at its own mid. Returns 1 when quoting
    is allowed.

    Latched until reset: drawdown (fall from the peak of that equity above ``F_MAXDD``), daily
    loss (fall from the trading day's first decision above ``F_MAXDL``; cleared at the next
    day's start) and the kill switch (set from outside). Self-clearing: stale feed (no local
    market event for ``I_STALE`` ns), abnormal spread (local ask - bid above ``F_MAXSPREAD``),
    vol surge (|local mid change| since the previous decision above ``F_MAXMOVE``); quoting
    resumes ``I_COOLDOWN`` ns after the last decision at which one held."""
    tick = cfg_f[F_TICK]
    if math.isfinite(lmid):
        acc[A_LMARK] = lmid
    mk = acc[A_LMARK]
    eq = acc[A_LCASH] + acc[A_FUND]
    if math.isfinite(mk):
        eq += acc[A_LPOS] * _value(mk, cfg_f[F_MULT], cfg_i[I_INVERSE])
    acc[A_LEQ] = eq
    day = t // cfg_i[I_DAYNS]
    if day != sc[S_DAY]:
        if sc[S_DAY] >= 0 and (sc[S_HALT] & H_DAILY) != 0:
            sc[S_HALT] &= ~H_DAILY
            _risk_event(rk, rkf, sc, t, RK_DAY_RESET, eq)
        sc[S_DAY] = day
        acc[A_DAY0] = eq
    if not (acc[A_LPEAK] >= eq):  # NaN before the first decision
        acc[A_LPEAK] = eq
    if (sc[S_HALT] & H_DRAWDOWN) == 0 and acc[A_LPEAK] - eq > cfg_f[F_MAXDD]:
        sc[S_HALT] |= H_DRAWDOWN
        _risk_event(rk, rkf, sc, t, RK_DRAWDOWN, eq)
    if (sc[S_HALT] & H_DAILY) == 0 and acc[A_DAY0] - eq > cfg_f[F_MAXDL]:
        sc[S_HALT] |= H_DAILY
        _risk_event(rk, rkf, sc, t, RK_DAILY_LOSS, eq)
    trip = np.int64(0)
    stale = cfg_i[I_STALE]
    if stale > 0 and t - sc[S_TFEED] > stale:
        trip |= B_STALE
    spread = math.nan
    move = math.nan
    if math.isfinite(lmid):
        spread = (best[3] - best[2]) * tick
        if spread > cfg_f[F_MAXSPREAD]:
            trip |= B_SPREAD
        move = abs(lmid - acc[A_LMIDPREV])
        if move > cfg_f[F_MAXMOVE]:  # False while the previous mid is NaN
            trip |= B_VOL
        acc[A_LMIDPREV] = lmid
    new = trip & ~sc[S_PAUSE]
    if (new & B_STALE) != 0:
        _risk_event(rk, rkf, sc, t, RK_STALE, float(t - sc[S_TFEED]))
    if (new & B_SPREAD) != 0:
        _risk_event(rk, rkf, sc, t, RK_SPREAD, spread)
    if (new & B_VOL) != 0:
        _risk_event(rk, rkf, sc, t, RK_VOL, move)
    if trip != 0:
        sc[S_PAUSE] |= trip
        sc[S_PAUSE_UNTIL] = t + cfg_i[I_COOLDOWN]
    elif sc[S_PAUSE] != 0 and t >= sc[S_PAUSE_UNTIL]:
        _risk_event(rk, rkf, sc, t, RK_RESUME, float(sc[S_PAUSE]))
        sc[S_PAUSE] = 0
    return 1 if sc[S_HALT] == 0 and sc[S_PAUSE] == 0 else 0


def _reconcile_levels_python(side, qo, t, oi, of, rq, sc, acc, best, cfg_f, cfg_i, lat_entry):
    """Make our orders on ``side`` match the levels in ``qo`` (``MAX_LEVELS`` a side, level
    ``j``: price ``qo[4 j]`` / size ``qo[4 j + 1]`` for bids, ``qo[4 j + 2]`` / ``qo[4 j + 3]``
    for asks; NaN price or size <= 0: none). Prices go to the tick (bids down, asks up, then the
    strategy's clip to the touch), sizes down to the lot; a level at a tick already taken by a
    nearer level, or that would cross one of our own live orders of the other side, is
    dropped. Working orders not wanted (other tick or size) are cancelled; missing levels are
    sent nearest first while the side's exposure (position + working + in-flight) stays
    within the hard limit."""
    maxord = cfg_i[I_MAXORD]
    tick = cfg_f[F_TICK]
    lot = cfg_f[F_LOT]
    base = cfg_i[I_BASE]
    n = cfg_i[I_NTICKS]
    clip = cfg_i[I_CLIP]
    off = 0 if side == 1 else 2
    # the nearest own live order of the other side: never cross it
    lim = np.int64(-1) if side == -1 else np.int64(9_000_000_000_000_000_000)
    for s in range(maxord):
        if oi[s, O_LO] != LO_FREE and oi[s, O_SIDE] == -side:
            if side == 1:
                lim = min(lim, oi[s, O_TICK])
            else:
                lim = max(lim, oi[s, O_TICK])
    ticks = np.full(MAX_LEVELS, -1, dtype=np.int64)
    qtys = np.zeros(MAX_LEVELS)
    m = 0
    for j in range(MAX_LEVELS):
        px = qo[4 * j + off]
        q = qo[4 * j + off + 1]
        if not (math.isfinite(px) and q > 0.0):
            continue
        q = math.floor(q / lot + 1e-9) * lot
        if q <= 0.0:
            continue
        if side == 1:
            tk = np.int64(math.floor(px / tick + 1e-9))
            if clip == 1:
                tk = min(tk, best[2] + base)
            elif clip == 2:
                tk = min(tk, best[3] + base - 1)
            if tk >= lim:
                continue
        else:
            tk = np.int64(math.ceil(px / tick - 1e-9))
            if clip == 1:
                tk = max(tk, best[3] + base)
            elif clip == 2:
                tk = max(tk, best[2] + base + 1)
            if tk <= lim:
                continue
        if tk < base or tk >= base + n or tk <= 0:
            continue
        dup = False
        for i in range(m):
            if ticks[i] == tk:
                dup = True
        if dup:
            continue
        ticks[m] = tk
        qtys[m] = q
        m += 1
    # cancel acknowledged orders not wanted (an order pending its ack waits for the next step)
    for s in range(maxord):
        if oi[s, O_SIDE] != side or oi[s, O_LO] != LO_WORK:
            continue
        keep = False
        for i in range(m):
            if oi[s, O_TICK] == ticks[i] and abs(of[s, Q_QTY] - qtys[i]) <= lot * 1e-9:
                keep = True
        if not keep:
            oi[s, O_LO] = LO_PCANCEL
            lat = _draw(lat_entry, sc)
            _push_req(rq, sc, t + lat, s, R_CANCEL, oi[s, O_ID])
    for i in range(m):
        tk = ticks[i]
        qty = qtys[i]
        present = False
        for s in range(maxord):
            if oi[s, O_LO] != LO_FREE and oi[s, O_SIDE] == side and oi[s, O_TICK] == tk:
                present = True
                break
        if present:
            continue
        if _new_order(side, tk, qty, t, oi, of, rq, sc, acc, cfg_f, cfg_i, lat_entry) == 0:
            break


def _throttle_python(t, sc, acc, cfg_f):
    """1 when a new order may be sent now (a token is taken), 0 when the throttle holds it back
    (counted): a token bucket refilled at ``F_RATE`` per second up to ``F_BURST``, so at most
    ``F_BURST + F_RATE x s`` new orders go out in any ``s`` seconds. Cancels are never
    throttled."""
    rate = cfg_f[F_RATE]
    if not rate < math.inf:
        return 1
    if not acc[A_TOKENS] == acc[A_TOKENS]:  # NaN: the first order, a full bucket
        acc[A_TOKENS] = cfg_f[F_BURST]
        sc[S_TOKT] = t
    acc[A_TOKENS] = min(cfg_f[F_BURST], acc[A_TOKENS] + (t - sc[S_TOKT]) * 1e-9 * rate)
    sc[S_TOKT] = t
    if acc[A_TOKENS] >= 1.0 - 1e-12:
        acc[A_TOKENS] -= 1.0
        return 1
    sc[S_NTHROTTLED] += 1
    return 0


def _zone_python(side, lpos, cfg_f):
    """The risk ladder's soft zones for one side: ``(size factor, spread multiplier)`` from the
    side's usage ``max(0, side x position) / max_position`` (:mod:`mmlab.risk`'s ladder: 1, 1 in
    green; shrinking to ``F_YMIN`` and widening to ``F_YWIDEN`` across yellow; 0 in red)."""
    u = max(0.0, side * lpos) / cfg_f[F_MAXPOS]
    if u >= cfg_f[F_RED]:
        return 0.0, 1.0
    if u >= cfg_f[F_YELLOW]:
        frac = (u - cfg_f[F_YELLOW]) / (cfg_f[F_RED] - cfg_f[F_YELLOW])
        return 1.0 - frac * (1.0 - cfg_f[F_YMIN]), 1.0 + frac * (cfg_f[F_YWIDEN] - 1.0)
    return 1.0, 1.0


def _levels_step_python(t, row, lmid, oi, of, rq, sc, acc, best, cfg_f, cfg_i, lat_entry, stf,
                        qo):
    """Levels in ``qo`` (a user kernel's, or a layered strategy's): the risk ladder's zones and
    the toxicity response on each, then reconcile both sides and record the top quotes."""
    zb, wb = _zone(1, acc[A_LPOS], cfg_f)
    za, wa = _zone(-1, acc[A_LPOS], cfg_f)
    for j in range(MAX_LEVELS):
        if zb != 1.0 or wb != 1.0:
            qo[4 * j] = lmid - (lmid - qo[4 * j]) * wb
            qo[4 * j + 1] *= zb
        if za != 1.0 or wa != 1.0:
            qo[4 * j + 2] = lmid + (qo[4 * j + 2] - lmid) * wa
            qo[4 * j + 3] *= za
    if sc[S_TOXIC] == 1:
        wd = cfg_f[F_TOXWIDEN]
        for j in range(MAX_LEVELS):
            qo[4 * j] = lmid - (lmid - qo[4 * j]) * wd
            qo[4 * j + 2] = lmid + (qo[4 * j + 2] - lmid) * wd
            qo[4 * j + 1] *= cfg_f[F_TOXSIZE]
            qo[4 * j + 3] *= cfg_f[F_TOXSIZE]
    _reconcile_levels(1, qo, t, oi, of, rq, sc, acc, best, cfg_f, cfg_i, lat_entry)
    _reconcile_levels(-1, qo, t, oi, of, rq, sc, acc, best, cfg_f, cfg_i, lat_entry)
    tick = cfg_f[F_TICK]
    bb = -1
    aa = 9_000_000_000_000_000_000
    for s in range(cfg_i[I_MAXORD]):
        if oi[s, O_LO] == LO_PNEW or oi[s, O_LO] == LO_WORK:
            if oi[s, O_SIDE] == 1:
                bb = max(bb, oi[s, O_TICK])
            else:
                aa = min(aa, oi[s, O_TICK])
    if bb >= 0:
        stf[row, T_QBID] = bb * tick
    if aa < 9_000_000_000_000_000_000:
        stf[row, T_QASK] = aa * tick


def _step_python(t, k, oi, of, rq, sc, acc, best, book, cfg_f, cfg_i, sp, lat_entry, stf, rk,
                 rkf, qf, qs, qo):
    """The strategy wakes at local time ``t``: quote from the local book and reconcile."""
    base = cfg_i[I_BASE]
    tick = cfg_f[F_TICK]
    n = cfg_i[I_NTICKS]
    lot = cfg_f[F_LOT]
    lmid = _mid(best, 2, base, tick, n)
    row = k // cfg_i[I_RECORD]
    stf[row, T_QBID] = math.nan
    stf[row, T_QASK] = math.nan
    if _risk(t, lmid, best, acc, sc, cfg_f, cfg_i, rk, rkf) == 0:
        # a breaker holds: cancel every working order, send nothing
        _reconcile(1, -1, 0.0, t, oi, of, rq, sc, acc, cfg_f, cfg_i, lat_entry)
        _reconcile(-1, -1, 0.0, t, oi, of, rq, sc, acc, cfg_f, cfg_i, lat_entry)
        return
    if cfg_i[I_STRAT] == STRAT_SCRIPT and cfg_i[I_HALT] == 0:
        _script(t, k, oi, of, rq, sc, acc, cfg_f, cfg_i, sp, lat_entry)
        return
    if not math.isfinite(lmid) or cfg_i[I_HALT] == 1:
        _reconcile(1, -1, 0.0, t, oi, of, rq, sc, acc, cfg_f, cfg_i, lat_entry)
        _reconcile(-1, -1, 0.0, t, oi, of, rq, sc, acc, cfg_f, cfg_i, lat_entry)
        return
    bb_px = (best[2] + base) * tick
    ba_px = (best[3] + base) * tick
    if cfg_i[I_STRAT] == STRAT_USER:  # the user's kernel, through its function pointer
        qs[MS_MID] = lmid
        qs[MS_BEST_BID] = bb_px
        qs[MS_BEST_ASK] = ba_px
        qs[MS_POSITION] = acc[A_LPOS]
        qs[MS_TIME] = (t - cfg_i[I_TSTART] + cfg_i[I_INTERVAL]) * 1e-9
        qs[MS_TIME_LEFT] = (cfg_i[I_TEND] - t) / cfg_f[F_TUNIT]
        qs[MS_TICK] = tick
        qs[MS_LOT] = lot
        qs[MS_MAX_POSITION] = cfg_f[F_MAXPOS]
        qs[MS_EQUITY] = acc[A_LEQ]
        qs[MS_STEP] = k
        qs[MS_BID_QTY] = book[2, best[2]] if best[2] >= 0 else 0.0
        qs[MS_ASK_QTY] = book[3, best[3]] if best[3] < n else 0.0
        for j in range(N_OUT):
            qo[j] = math.nan
        _call_user(qf, qs, sp, qo)
        if qs[MS_ERROR] != 0.0:  # the kernel raised: halt (latched), cancel everything
            sc[S_HALT] |= H_KERNEL
            _risk_event(rk, rkf, sc, t, RK_KERNEL_ERROR, float(k))
            for j in range(N_OUT):
                qo[j] = math.nan
        _levels_step(t, row, lmid, oi, of, rq, sc, acc, best, cfg_f, cfg_i, lat_entry, stf, qo)
        return
    bid, ask, bq, aq = _quote(cfg_i[I_STRAT], sp, lmid, acc[A_LPOS], t, cfg_i[I_TEND], bb_px,
                              ba_px, tick)
    nl = cfg_i[I_NLAYERS]
    if nl > 0:  # layering: the top quote's distance and size spread over nl levels
        for j in range(MAX_LEVELS):
            d = cfg_f[F_LAYER + j]
            w = cfg_f[F_LAYER + MAX_LEVELS + j]
            if j < nl:
                qo[4 * j] = lmid - (lmid - bid) * d
                qo[4 * j + 1] = bq * w
                qo[4 * j + 2] = lmid + (ask - lmid) * d
                qo[4 * j + 3] = aq * w
            else:
                qo[4 * j] = math.nan
                qo[4 * j + 2] = math.nan
        _levels_step(t, row, lmid, oi, of, rq, sc, acc, best, cfg_f, cfg_i, lat_entry, stf, qo)
        return
    zb, wb = _zone(1, acc[A_LPOS], cfg_f)  # the risk ladder's soft zones
    za, wa = _zone(-1, acc[A_LPOS], cfg_f)
    if zb != 1.0 or wb != 1.0:
        bid = lmid - (lmid - bid) * wb
        bq *= zb
    if za != 1.0 or wa != 1.0:
        ask = lmid + (ask - lmid) * wa
        aq *= za
    if sc[S_TOXIC] == 1:  # toxic flow: widen from the mid and size down
        wd = cfg_f[F_TOXWIDEN]
        bid = lmid - (lmid - bid) * wd
        ask = lmid + (ask - lmid) * wd
        bq *= cfg_f[F_TOXSIZE]
        aq *= cfg_f[F_TOXSIZE]
    clip = cfg_i[I_CLIP]
    btick = np.int64(-1)
    atick = np.int64(-1)
    if math.isfinite(bid) and bq > 0.0:
        btick = np.int64(math.floor(bid / tick + 1e-9))
        if clip == 1:
            btick = min(btick, best[2] + base)
        elif clip == 2:
            btick = min(btick, best[3] + base - 1)
        if btick < 0:
            btick = np.int64(-1)
    if math.isfinite(ask) and aq > 0.0:
        atick = np.int64(math.ceil(ask / tick - 1e-9))
        if clip == 1:
            atick = max(atick, best[3] + base)
        elif clip == 2:
            atick = max(atick, best[2] + base + 1)
    bq = math.floor(bq / lot + 1e-9) * lot
    aq = math.floor(aq / lot + 1e-9) * lot
    if btick >= 0:
        stf[row, T_QBID] = btick * tick
    if atick >= 0:
        stf[row, T_QASK] = atick * tick
    _reconcile(1, btick, bq, t, oi, of, rq, sc, acc, cfg_f, cfg_i, lat_entry)
    _reconcile(-1, atick, aq, t, oi, of, rq, sc, acc, cfg_f, cfg_i, lat_entry)


def _record_step_python(k, t, i_ex, acc, sc, best, cfg_f, cfg_i, stf, sti):
    base = cfg_i[I_BASE]
    tick = cfg_f[F_TICK]
    n = cfg_i[I_NTICKS]
    mid = _mid(best, 0, base, tick, n)
    _mark(acc, sc, mid, cfg_f, cfg_i)
    stf[k, T_MID] = mid
    stf[k, T_LMID] = _mid(best, 2, base, tick, n)
    stf[k, T_POS] = acc[A_POS]
    stf[k, T_LPOS] = acc[A_LPOS]
    bal = acc[A_CASH] - acc[A_FEES] + acc[A_FUND]
    stf[k, T_BAL] = bal
    x = 0.0
    if math.isfinite(acc[A_MARK]):
        x = acc[A_POS] * _value(acc[A_MARK], cfg_f[F_MULT], cfg_i[I_INVERSE])
    eq = bal + x
    stf[k, T_EQ] = eq
    if math.isfinite(eq):
        if math.isfinite(acc[A_ELAST]):
            d = eq - acc[A_ELAST]
            nd = acc[A_DN] + 1.0
            dev = d - acc[A_DMEAN]
            acc[A_DMEAN] += dev / nd
            acc[A_DM2] += dev * (d - acc[A_DMEAN])
            acc[A_DN] = nd
            if d < 0.0:
                acc[A_DNEG2] += d * d
        acc[A_ELAST] = eq
        if eq > acc[A_PEAK]:
            acc[A_PEAK] = eq
        if acc[A_PEAK] - eq > acc[A_MDD]:
            acc[A_MDD] = acc[A_PEAK] - eq
    ap = abs(acc[A_POS])
    acc[A_SABS] += ap
    if ap > acc[A_MABS]:
        acc[A_MABS] = ap
    acc[A_NSTEPS] += 1.0
    stf[k, T_SPREAD] = acc[A_SPREAD]
    stf[k, T_INV] = acc[A_INV]
    stf[k, T_FEES] = acc[A_FEES]
    stf[k, T_FUND] = acc[A_FUND]
    stf[k, T_BID] = (best[0] + base) * tick if best[0] >= 0 else math.nan
    stf[k, T_ASK] = (best[1] + base) * tick if best[1] < n else math.nan
    sti[k, TI_TS] = t
    sti[k, TI_SEQ] = sc[S_SEQ]
    sti[k, TI_IEX] = i_ex
    sc[S_SEQ] += 1
    sc[S_MARKS] += 1


# ==============================================================================================
# the main loop
# ==============================================================================================


def _ex_event_python(i, t, code, px, qty, l3a, oi, of, live, sc, acc, ff, fi, rs, rsf, best, book,
                     cfg_f, cfg_i, lat_resp):
    """Apply exchange event ``i`` (book update, trade matching, clear, L3 record)."""
    n = cfg_i[I_NTICKS]
    base = cfg_i[I_BASE]
    c = code[i]
    kind = c & C_KIND
    if kind == K_DEPTH or kind == K_SNAPSHOT:
        idx = _tick(px[i], cfg_f[F_ITICK]) - base
        if 0 <= idx < n:
            b = 0 if (c & C_BUY) != 0 else 1
            if _ex_depth_q(b, idx, qty[i], oi, of, live, sc, best, book, cfg_f, cfg_i):
                _ex_cross(b, t, oi, of, live, sc, acc, ff, fi, rs, rsf, best, book, cfg_f, cfg_i,
                          lat_resp)
    elif kind == K_TRADE or kind == K_VTRADE:
        # FIFO mode skips a trade whose execution the next L3 record reports
        if sc[S_NLIVE] > 0 and (kind == K_TRADE or cfg_i[I_QMODEL] != QUEUE_FIFO):
            agg = 1 if (c & C_BUY) != 0 else -1
            _ex_trade(_tick(px[i], cfg_f[F_ITICK]), agg, qty[i], t, oi, of, live, sc, acc, ff,
                      fi, rs, rsf, best, book, cfg_f, cfg_i, lat_resp)
    elif kind == K_ADD or kind == K_REDUCE or kind == K_EXEC:
        idx = _tick(px[i], cfg_f[F_ITICK]) - base
        if 0 <= idx < n:
            b = 0 if (c & C_BUY) != 0 else 1
            if _ex_l3(i, kind, b, idx, qty[i], l3a, t, oi, of, live, sc, acc, ff, fi, rs, rsf,
                      best, book, cfg_f, cfg_i, lat_resp):
                _ex_cross(b, t, oi, of, live, sc, acc, ff, fi, rs, rsf, best, book, cfg_f, cfg_i,
                          lat_resp)
    elif kind == K_CLEAR:
        upto = np.int64(-1)
        if px[i] > 0.0:
            upto = _tick(px[i], cfg_f[F_ITICK]) - base
        if (c & C_BUY) != 0 or (c & C_SELL) == 0:
            _clear(book, best, 0, upto)
        if (c & C_SELL) != 0 or (c & C_BUY) == 0:
            _clear(book, best, 1, upto)


def _lo_event_python(i, code, px, qty, best, book, cfg_f, cfg_i):
    """Apply local event ``i`` to the strategy's copy of the book."""
    n = cfg_i[I_NTICKS]
    base = cfg_i[I_BASE]
    c = code[i]
    kind = c & C_KIND
    if kind == K_DEPTH or kind == K_SNAPSHOT or kind == K_ADD or kind == K_REDUCE or \
            kind == K_EXEC:
        idx = _tick(px[i], cfg_f[F_ITICK]) - base
        if 0 <= idx < n:
            b = 2 if (c & C_BUY) != 0 else 3
            _set_level(book, best, b, idx, qty[i])
    elif kind == K_CLEAR:
        upto = np.int64(-1)
        if px[i] > 0.0:
            upto = _tick(px[i], cfg_f[F_ITICK]) - base
        if (c & C_BUY) != 0 or (c & C_SELL) == 0:
            _clear(book, best, 2, upto)
        if (c & C_SELL) != 0 or (c & C_BUY) == 0:
            _clear(book, best, 3, upto)


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


def portfolio_view_python(oi, of, acc, best, cfg_f, cfg_i, out):
    """What a portfolio check needs of one instrument (linear contracts): ``out[0]`` its gross
    exposure (the larger of long and short: position plus working and in-flight orders of that
    side, the strategy's view) at the local mid, ``out[1]`` its equity at the exchange mid,
    ``out[2]`` the local mid (each mid falls back to the last mark, then 0)."""
    base = cfg_i[I_BASE]
    tick = cfg_f[F_TICK]
    n = cfg_i[I_NTICKS]
    mult = cfg_f[F_MULT]
    buy = 0.0
    sell = 0.0
    for s in range(oi.shape[0]):
        if oi[s, O_LO] != LO_FREE:
            if oi[s, O_SIDE] == 1:
                buy += of[s, Q_LLEAVES]
            else:
                sell += of[s, Q_LLEAVES]
    lm = _mid(best, 2, base, tick, n)
    if not math.isfinite(lm):
        lm = acc[A_MARK]
    if not math.isfinite(lm):
        lm = 0.0
    em = _mid(best, 0, base, tick, n)
    if not math.isfinite(em):
        em = acc[A_MARK]
    if not math.isfinite(em):
        em = 0.0
    lpos = acc[A_LPOS]
    out[0] = max(lpos + buy, -lpos + sell, 0.0) * lm * mult
    out[1] = acc[A_CASH] - acc[A_FEES] + acc[A_FUND] + acc[A_POS] * em * mult
    out[2] = lm
    return 0


def _grow_ring_python(bh, lo, hi):
    """The shared book's history ring twice as long, rows ``lo - 1`` to ``hi - 1`` kept."""
    m1 = bh.shape[0] - 1
    out = np.empty((2 * bh.shape[0], 2), dtype=np.int32)
    m2 = out.shape[0] - 1
    for r in range(max(lo - 1, 0), hi):
        out[r & m2, 0] = bh[r & m1, 0]
        out[r & m2, 1] = bh[r & m1, 1]
    return out


def new_state(cfg_i):
    """Fresh run state for :func:`run_kernel`:
    ``(oi, of, live, rq, rs, rsf, sc, acc, rk, rkf, qs, qo, pos)`` (``rk``: risk events' time
    and kind, ``rkf``: the marked equity or measure that tripped them; ``qs`` / ``qo``: the
    market-state record and the levels of a user quote kernel's call)."""
    maxord = cfg_i[I_MAXORD]
    oi = np.zeros((maxord, N_OI), dtype=np.int64)
    of = np.zeros((maxord, N_OF), dtype=np.float64)
    live = np.zeros(maxord, dtype=np.int64)
    rq = np.zeros((4 * maxord + 16, 5), dtype=np.int64)
    rs = np.zeros((8 * maxord + 16, 5), dtype=np.int64)
    rsf = np.zeros(2 * (8 * maxord + 16), dtype=np.float64)
    sc = np.zeros(N_SC + TOX_MAX, dtype=np.int64)
    acc = np.zeros(N_ACC, dtype=np.float64)
    acc[A_ELAST] = np.nan
    acc[A_LPEAK] = np.nan
    acc[A_LMARK] = np.nan
    acc[A_LMIDPREV] = np.nan
    acc[A_LEQ] = np.nan
    acc[A_TOKENS] = np.nan
    sc[S_DAY] = -1
    sc[S_TFEED] = cfg_i[I_TSTART] - cfg_i[I_INTERVAL]
    rk = np.zeros((RISK_CAP, 2), dtype=np.int64)
    rkf = np.zeros(RISK_CAP, dtype=np.float64)
    qs = np.zeros(N_STATE, dtype=np.float64)  # the market-state record a quote kernel reads
    qo = np.full(N_OUT, np.nan)  # ... and the levels it writes
    pos = np.zeros(N_POS, dtype=np.int64)
    pos[P_KSTOP] = -1
    pos[P_FIN] = 1
    pos[P_WM] = -BIG
    return oi, of, live, rq, rs, rsf, sc, acc, rk, rkf, qs, qo, pos


def run_kernel_python(code, exch_ts, local_ts, px, qty, l3a, bh, cfg_f, cfg_i, sp, lat_entry,
                      lat_resp, fund_ts, fund_rate, qf, stf, sti, ff, fi, fund_out, book, best, oi,
                      of, live, rq, rs, rsf, sc, acc, rk, rkf, qs, qo, pos):
    """Replay the events; fill the step arrays ``stf``/``sti``, fills ``ff``/``fi`` and
    funding rows ``fund_out`` (ts, rate, mark, amount, seq); returns ``(ff, fi, bh)`` (the fill
    arrays and the history ring are reallocated when they fill up).

    The run state (orders ``oi``/``of``/``live``, request and response queues, scalars ``sc``,
    accounts ``acc``, books, and the positions ``pos`` in the streams) lives in the arguments
    (:func:`new_state`), so a run can pause and resume: with ``pos[P_KSTOP] = k`` the call
    returns just before strategy step ``k`` (every event due before it applied); calling again
    with a later ``P_KSTOP`` continues exactly where it stopped; with ``pos[P_ONE] = 1`` it
    returns right after the next strategy step. ``pos[P_DONE]`` is 1 at the end.

    Streaming (the step driver, :class:`mmlab.backtest.StepDriver`): with ``pos[P_FIN] = 0`` the
    arrays are the rows received so far and more may be appended between calls. The kernel then
    takes an action (event, request, response, funding, strategy step) only when it knows that
    no row still to come precedes it: while a clock's next row is known its time is exact; once
    a clock has run out of rows, only actions strictly before the watermark ``pos[P_WM]`` (no
    later row has a timestamp below it; ``-BIG``: nothing is promised) are taken, and the call
    returns, to be resumed after more rows are appended. The actions taken, and their order, are
    those of one call over the whole stream: the backtest and the step driver agree by
    construction.

    Shared book (``cfg_i[I_SHARED] = 1``; allowed when every event carries both EXCH and LOCAL
    and ``exch_ts <= local_ts`` on every row): both sides apply the same updates in the same
    order, the local side later, so the local book after row ``i`` is the exchange book after
    row ``i``. The exchange side then records its best bid/ask after each row in ``bh`` (a ring
    of a power-of-two rows, doubled when the exchange side runs further ahead of the last row
    read; returned) and the strategy's view at a step is read from it (the last row with
    ``local_ts <= t``) instead of maintaining a second book: the same quotes, half the book
    work.
    """
    n_ev = code.shape[0]
    n = cfg_i[I_NTICKS]
    base = cfg_i[I_BASE]
    tick = cfg_f[F_TICK]
    itick = cfg_f[F_ITICK]
    maxord = cfg_i[I_MAXORD]
    n_steps = cfg_i[I_NSTEPS]
    interval = cfg_i[I_INTERVAL]
    t_end = cfg_i[I_TEND]
    n_fund = fund_ts.shape[0]
    if pos[P_INIT] == 0:
        acc[A_MARK] = math.nan
        sc[S_NEXTID] = 1
        sc[S_RNG] = (cfg_i[I_SEED] % 2147483646) + 1
        for b in range(4):
            best[b] = -1 if b % 2 == 0 else n
        i_ex = 0
        i_lo = 0
        while i_ex < n_ev and (code[i_ex] & C_EXCH) == 0:
            i_ex += 1
        while i_lo < n_ev and (code[i_lo] & C_LOCAL) == 0:
            i_lo += 1
        pos[P_IEX] = i_ex
        pos[P_ILO] = i_lo
        pos[P_IFU] = 0
        pos[P_K] = 0
        pos[P_INIT] = 1
    if pos[P_DONE] == 1:
        return ff, fi, bh
    i_ex = pos[P_IEX]
    i_lo = pos[P_ILO]
    while i_ex < n_ev and (code[i_ex] & C_EXCH) == 0:  # rows appended since the last call
        i_ex += 1
    while i_lo < n_ev and (code[i_lo] & C_LOCAL) == 0:
        i_lo += 1
    i_fu = pos[P_IFU]
    k = pos[P_K]
    k_stop = pos[P_KSTOP]
    shared = cfg_i[I_SHARED]
    fin = pos[P_FIN]
    t_wm = BIG if fin == 1 else pos[P_WM]  # the time of a clock's next row once it ran out
    msk = bh.shape[0] - 1
    while True:
        # grow the fill arrays so that one more event cannot overflow them
        if sc[S_NFILLS] + maxord + 1 > ff.shape[0]:
            cap = 2 * ff.shape[0] + maxord + 1
            ff2 = np.zeros((cap, N_FF), dtype=np.float64)
            fi2 = np.zeros((cap, N_FI), dtype=np.int64)
            ff2[: ff.shape[0]] = ff
            fi2[: fi.shape[0]] = fi
            ff = ff2
            fi = fi2
        r_req = _first(rq, sc[S_NREQ])
        t_req = rq[r_req, 0] if r_req >= 0 else BIG
        r_resp = _first(rs, sc[S_NRESP])
        t_resp = rs[r_resp, 0] if r_resp >= 0 else BIG
        t_step = interval * k + cfg_i[I_TSTART] if k < n_steps else BIG
        t_fu = fund_ts[i_fu] if i_fu < n_fund else BIG
        # fast path: market data alone until a request, response, funding or step is due (or
        # until our orders are touched); same priorities as below
        t_o1 = min(t_req, t_resp, t_fu, t_end + 1)
        t_o = min(t_o1, t_step)
        seq0 = sc[S_SEQ]
        while shared == 1 and i_ex < n_ev:  # shared book: exchange rows only (history in bh)
            t_ex = exch_ts[i_ex]
            if t_ex > t_o:
                break
            c = code[i_ex]
            kind = c & C_KIND
            if kind == K_DEPTH or kind == K_SNAPSHOT:
                idx = _tick(px[i_ex], itick) - base
                if 0 <= idx < n:
                    b = 0 if (c & C_BUY) != 0 else 1
                    if _ex_depth_q(b, idx, qty[i_ex], oi, of, live, sc, best, book, cfg_f,
                                   cfg_i):
                        _ex_cross(b, t_ex, oi, of, live, sc, acc, ff, fi, rs, rsf, best, book,
                                  cfg_f, cfg_i, lat_resp)
            elif kind != K_TRADE or _trade_hits(c, px[i_ex], itick, oi, live, sc):
                _ex_event(i_ex, t_ex, code, px, qty, l3a, oi, of, live, sc, acc, ff, fi, rs,
                          rsf, best, book, cfg_f, cfg_i, lat_resp)
            if k < n_steps:
                if i_ex - i_lo + 1 > msk:  # the ring would overwrite a row still to be read
                    bh = _grow_ring(bh, i_lo, i_ex)
                    msk = bh.shape[0] - 1
                bh[i_ex & msk, 0] = best[0]
                bh[i_ex & msk, 1] = best[1]
            i_ex += 1
            if sc[S_SEQ] != seq0:
                break
        while shared == 0:
            t_ex = exch_ts[i_ex] if i_ex < n_ev else t_wm
            t_lo = local_ts[i_lo] if i_lo < n_ev else t_wm
            if t_ex <= t_lo:
                if t_ex > t_o or i_ex >= n_ev:
                    break
                c = code[i_ex]
                kind = c & C_KIND
                if kind == K_DEPTH or kind == K_SNAPSHOT:
                    idx = _tick(px[i_ex], itick) - base
                    if 0 <= idx < n:
                        b = 0 if (c & C_BUY) != 0 else 1
                        if _ex_depth_q(b, idx, qty[i_ex], oi, of, live, sc, best, book, cfg_f,
                                       cfg_i):
                            _ex_cross(b, t_ex, oi, of, live, sc, acc, ff, fi, rs, rsf, best, book,
                                      cfg_f, cfg_i, lat_resp)
                elif kind != K_TRADE or _trade_hits(c, px[i_ex], itick, oi, live, sc):
                    _ex_event(i_ex, t_ex, code, px, qty, l3a, oi, of, live, sc, acc, ff, fi, rs,
                              rsf, best, book, cfg_f, cfg_i, lat_resp)
                i_ex += 1
                while i_ex < n_ev and (code[i_ex] & C_EXCH) == 0:
                    i_ex += 1
                if sc[S_SEQ] != seq0:
                    break
            else:
                if t_lo >= t_o1 or t_lo > t_step or i_lo >= n_ev:
                    break
                c = code[i_lo]
                kind = c & C_KIND
                if kind == K_DEPTH or kind == K_SNAPSHOT:
                    idx = _tick(px[i_lo], itick) - base
                    if 0 <= idx < n:
                        _set_level(book, best, 2 if (c & C_BUY) != 0 else 3, idx, qty[i_lo])
                elif kind != K_TRADE:
                    _lo_event(i_lo, code, px, qty, best, book, cfg_f, cfg_i)
                sc[S_TFEED] = t_lo
                i_lo += 1
                while i_lo < n_ev and (code[i_lo] & C_LOCAL) == 0:
                    i_lo += 1
        if sc[S_SEQ] != seq0:
            continue  # a fill was booked: re-read the queues
        t_ex = exch_ts[i_ex] if i_ex < n_ev else t_wm
        t_lo = BIG
        if shared == 0:
            t_lo = local_ts[i_lo] if i_lo < n_ev else t_wm
        t = min(t_ex, t_lo, t_req, t_resp, t_step, t_fu)
        if fin == 0 and t >= t_wm and (i_ex >= n_ev or (shared == 0 and i_lo >= n_ev)):
            break  # a row still to come may precede this action: wait for more rows
        if t == BIG or t > t_end:
            pos[P_DONE] = 1
            break
        if t_ex == t:
            _ex_event(i_ex, t_ex, code, px, qty, l3a, oi, of, live, sc, acc, ff, fi, rs, rsf,
                      best, book, cfg_f, cfg_i, lat_resp)
            if shared == 1 and k < n_steps:
                if i_ex - i_lo + 1 > msk:
                    bh = _grow_ring(bh, i_lo, i_ex)
                    msk = bh.shape[0] - 1
                bh[i_ex & msk, 0] = best[0]
                bh[i_ex & msk, 1] = best[1]
            i_ex += 1
            while i_ex < n_ev and (code[i_ex] & C_EXCH) == 0:
                i_ex += 1
        elif t_req == t:
            _ex_request(r_req, rq, t, i_ex, oi, of, live, sc, acc, ff, fi, rs, rsf, best, book,
                        cfg_f, cfg_i, lat_resp)
            _pop(rq, sc[S_NREQ], r_req)
            sc[S_NREQ] -= 1
        elif t_fu == t:
            mid = _mid(best, 0, base, tick, n)
            mk = mid if math.isfinite(mid) else acc[A_MARK]
            amount = 0.0
            if math.isfinite(mk):
                amount = -fund_rate[i_fu] * acc[A_POS] * abs(
                    _value(mk, cfg_f[F_MULT], cfg_i[I_INVERSE]))
            acc[A_FUND] += amount
            fund_out[i_fu, 0] = t
            fund_out[i_fu, 1] = fund_rate[i_fu]
            fund_out[i_fu, 2] = mk
            fund_out[i_fu, 3] = amount
            fund_out[i_fu, 4] = sc[S_SEQ]
            sc[S_SEQ] += 1
            sc[S_NFUND] += 1
            i_fu += 1
        elif t_resp == t:
            _lo_response(r_resp, rs, rsf, oi, of, acc, sc, cfg_f, cfg_i, rk, rkf)
            _pop(rs, sc[S_NRESP], r_resp)
            last = sc[S_NRESP] - 1
            rsf[2 * r_resp] = rsf[2 * last]
            rsf[2 * r_resp + 1] = rsf[2 * last + 1]
            sc[S_NRESP] = last
        elif t_lo == t:
            _lo_event(i_lo, code, px, qty, best, book, cfg_f, cfg_i)
            sc[S_TFEED] = t_lo
            i_lo += 1
            while i_lo < n_ev and (code[i_lo] & C_LOCAL) == 0:
                i_lo += 1
        else:  # strategy step
            if shared == 1:  # the local book: the exchange's after the last row seen locally
                while i_lo < n_ev and local_ts[i_lo] <= t:
                    i_lo += 1
                if i_lo > 0:
                    best[2] = bh[(i_lo - 1) & msk, 0]
                    best[3] = bh[(i_lo - 1) & msk, 1]
                    sc[S_TFEED] = local_ts[i_lo - 1]
            if k == k_stop:
                break  # pause: the caller resumes with a later P_KSTOP
            _record_step(k // cfg_i[I_RECORD], t, i_ex, acc, sc, best, cfg_f, cfg_i, stf, sti)
            if sc[S_NREQ] + 2 * maxord < rq.shape[0] and sc[S_NRESP] + 4 * maxord < rs.shape[0]:
                _step(t, k, oi, of, rq, sc, acc, best, book, cfg_f, cfg_i, sp, lat_entry, stf, rk,
                      rkf, qf, qs, qo)
            k += 1
            if pos[P_ONE] == 1:
                break
    pos[P_IEX] = i_ex
    pos[P_ILO] = i_lo
    pos[P_IFU] = i_fu
    pos[P_K] = k
    return ff, fi, bh


# ==============================================================================================
# compile the family: plain Python (helpers bound to *_python) and numba (bound to compiled)
# ==============================================================================================

_FAMILY = [
    "_value", "_draw", "_tick", "_set_level", "_clear", "_mid", "_mark", "_book_fill",
    "_push_req", "_push_resp", "_first", "_pop", "_live_remove", "_ex_fill", "_ex_cross",
    "_ex_trade", "_trade_hits", "_ex_depth_q", "_ex_request", "_lo_response", "_quote",
    "_side_exposure", "_throttle", "_new_order", "_reconcile", "_script", "_risk_event", "_risk",
    "_toxicity",
    "_reconcile_levels", "_zone", "_levels_step", "_step", "_record_step", "_ex_l3", "_ex_event",
    "_lo_event", "_grow_ring", "run_kernel", "scan_events", "portfolio_view",
]


#: hot-path helpers inlined into their callers (no call overhead for their many array arguments)
_INLINE = {"_value", "_tick", "_set_level", "_mid", "_first", "_pop", "_ex_depth_q",
           "_live_remove", "_trade_hits"}


#: entry points called from Python
_ENTRY = {"run_kernel", "scan_events", "portfolio_view"}


def _call_user_python(qf, qs, sp, qo):
    """Call a user quote kernel (Python twin: the plain function on the arrays; an exception
    leaves ``qs[MS_ERROR]`` at 1, as the compiled call does)."""
    qs[MS_ERROR] = 1.0
    try:
        qf(qs, sp, qo)
    except Exception:  # the core halts and run() reports it (see mmlab.backtest._user)
        return
    qs[MS_ERROR] = 0.0


@njit(cache=True, no_cpython_wrapper=True)
def _call_user_nb(qf, qs, sp, qo):
    """Call a user quote kernel (compiled: its cfunc, through a function pointer)."""
    qf(qs.ctypes, sp.ctypes, qo.ctypes)


def _externals(jit):
    """The kernels the family calls from other modules: the queue models and the quoting
    kernels (plain Python for ``jit=None``, compiled otherwise)."""
    import mmlab.quoting as Q
    from mmlab.backtest import _queue

    if jit is None:
        return {"_call_user": _call_user_python,
                "_queue_trade": queue_trade_python, "_queue_depth": queue_depth_python,
                "_queue_filled_qty": queue_filled_qty_python,
                "_as_quote": Q.as_quote_kernel_python,
                "_as_inf_quote": Q.as_infinite_quote_kernel_python,
                "_glft_quote": Q.glft_quote_kernel_python,
                "_adaptive_quote": Q.adaptive_quote_kernel_python}
    return {"_call_user": _call_user_nb,
            "_queue_trade": _queue.queue_trade, "_queue_depth": _queue.queue_depth,
            "_queue_filled_qty": _queue.queue_filled_qty, "_as_quote": Q.as_quote_kernel,
            "_as_inf_quote": Q.as_infinite_quote_kernel, "_glft_quote": Q.glft_quote_kernel,
            "_adaptive_quote": Q.adaptive_quote_kernel}


def _compile(jit):
    """The family with its helper names bound in a private namespace (``jit=None``: the
    plain-Python twin; else the compiled family)."""
    ns = dict(globals())
    ns.update(_externals(jit))
    fam = {}
    for name in _FAMILY:
        f = globals()[name + "_python"]
        g = types.FunctionType(f.__code__, ns, name, f.__defaults__)
        g.__doc__ = f.__doc__
        g.__module__ = f.__module__
        g.__qualname__ = name
        if jit is not None:
            if name in _INLINE:
                g = jit(inline="always", no_cpython_wrapper=True)(g)
            elif name in _ENTRY:
                g = jit(g)
            else:  # called from compiled code only: no Python wrapper to build
                g = jit(no_cpython_wrapper=True)(g)
        ns[name] = g
        fam[name] = g
    return fam


_py = _compile(None)
_nb = _compile(lambda f=None, **kw: njit(cache=True, error_model="numpy", **kw) if f is None
               else njit(cache=True, error_model="numpy")(f))
run_kernel_python = _py["run_kernel"]  # noqa: F811 -- the twin bound in its own namespace replaces the source def
run_kernel = _nb["run_kernel"]
scan_events_python = _py["scan_events"]  # noqa: F811 -- the twin bound in its own namespace replaces the source def
scan_events = _nb["scan_events"]
portfolio_view_python = _py["portfolio_view"]  # noqa: F811 -- the twin bound in its own namespace replaces the source def
portfolio_view = _nb["portfolio_view"]

# The plain-Python family and the external kernels under the names the kernels call, bound
# here for readers and linters; each family (Python and compiled) calls through its own
# namespace, built in _compile.
_EXT_PY = _externals(None)
_call_user = _EXT_PY["_call_user"]
_queue_trade = _EXT_PY["_queue_trade"]
_queue_depth = _EXT_PY["_queue_depth"]
_queue_filled_qty = _EXT_PY["_queue_filled_qty"]
_as_quote = _EXT_PY["_as_quote"]
_as_inf_quote = _EXT_PY["_as_inf_quote"]
_glft_quote = _EXT_PY["_glft_quote"]
_adaptive_quote = _EXT_PY["_adaptive_quote"]
_value = _py["_value"]
_draw = _py["_draw"]
_tick = _py["_tick"]
_set_level = _py["_set_level"]
_clear = _py["_clear"]
_mid = _py["_mid"]
_mark = _py["_mark"]
_book_fill = _py["_book_fill"]
_push_req = _py["_push_req"]
_push_resp = _py["_push_resp"]
_first = _py["_first"]
_pop = _py["_pop"]
_live_remove = _py["_live_remove"]
_ex_fill = _py["_ex_fill"]
_ex_cross = _py["_ex_cross"]
_ex_trade = _py["_ex_trade"]
_trade_hits = _py["_trade_hits"]
_ex_depth_q = _py["_ex_depth_q"]
_ex_request = _py["_ex_request"]
_lo_response = _py["_lo_response"]
_quote = _py["_quote"]
_side_exposure = _py["_side_exposure"]
_reconcile = _py["_reconcile"]
_script = _py["_script"]
_risk_event = _py["_risk_event"]
_risk = _py["_risk"]
_toxicity = _py["_toxicity"]
_reconcile_levels = _py["_reconcile_levels"]
_throttle = _py["_throttle"]
_new_order = _py["_new_order"]
_zone = _py["_zone"]
_levels_step = _py["_levels_step"]
_step = _py["_step"]
_record_step = _py["_record_step"]
_ex_l3 = _py["_ex_l3"]
_ex_event = _py["_ex_event"]
_lo_event = _py["_lo_event"]
_grow_ring = _py["_grow_ring"]
