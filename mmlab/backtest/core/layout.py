"""The trading core's layout: event codes and the named slots of its state arrays.

Every array that crosses between the core's modules is addressed through these names
(``cfg_i[I_BASE]``, ``acc[A_POS]``...), never by a bare number."""

from __future__ import annotations

import numpy as np

from mmlab.backtest.engine._user import MAX_LEVELS

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
# L3 records after mmlab.backtest.engine._l3.l3_stream (px = the level's price, qty = its new total)
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
I_SIDES = 25  # which sides this kernel runs (SIDES_*): both (a backtest, paper), or one of them
I_MODIFY = 26  # 1: re-price / re-size a working order by a modify request instead of cancel + new
N_CFG_I = 27
# ---- sides (cfg_i[I_SIDES]) ------------------------------------------------------------------
# SIDES_BOTH: one merged timeline (backtest, paper). SIDES_LOCAL: the local side alone (market
# data on the local clock, responses, decisions); its requests stay in ``rq`` for a venue
# adapter to take, and responses are put into ``rs`` by it. SIDES_EXCH: the exchange side alone
# (market data on the exchange clock, requests arriving, funding; the step table's marks at
# the strategy clock); its responses stay in ``rs`` for the adapter to take. At equal times
# every exchange-side action precedes every local-side one, so the two halves, advanced in
# turn to each other's horizon (``pos[P_HOR]``), take the merged timeline's actions in its
# order (mmlab.backtest.engine._loopback).
SIDES_LOCAL = 1
SIDES_EXCH = 2
SIDES_BOTH = 3
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
F_HARDPOS = F_LAYER + 2 * MAX_LEVELS  # the hard limit a position beyond is a breach (flatten);
# F_MAXPOS, the limit orders are sent within, may be lower (a portfolio's notional cap)
F_BAND = F_HARDPOS + 1  # price band: no order priced further than this share of the local mid
N_CFG_F = F_BAND + 1

# ---- order slots: oi (int) / of (float) columns ------------------------------------------------
O_ID = 0
O_SIDE = 1
O_TICK = 2
O_EX = 3  # exchange state: 0 not there (in flight), 1 resting, 2 gone
O_LO = 4  # local state: 0 free slot, 1 pending new, 2 working, 3 pending cancel, 4 done
O_POST = 5
O_ARR = 6  # index of the next exchange event when the order reached the exchange (FIFO key)
O_MTICK = 7  # a modify's new tick (set by the local side when it sends one)
O_LTICK = 8  # the local side's view of the order's tick (O_TICK is the exchange's: a modify
# moves O_TICK when it reaches the exchange, O_LTICK when its response reaches the local side)
N_OI = 9
Q_QTY = 0
Q_LEAVES = 1  # exchange-side leaves
Q_FRONT = 2
Q_CUM = 3
Q_LLEAVES = 4  # local view of leaves
Q_MQTY = 5  # a modify's new leaves
N_OF = 6
LO_FREE = 0
LO_PNEW = 1
LO_WORK = 2
LO_PCANCEL = 3
LO_DONE = 4
LO_PMODIFY = 5  # pending modify (to O_MTICK / Q_MQTY)
# ---- requests (to the exchange) / responses (to local) ---------------------------------------
R_NEW = 1
R_CANCEL = 2
R_MODIFY = 3  # the venue's queue-priority rule: a new price or a larger size loses the order's
# place in the queue (it joins the back of its level), a smaller size keeps it
S_ACK = 1
S_FILL = 2
S_CANCELLED = 3
S_REJECTED = 4
S_CANCEL_REJECTED = 5
S_MODIFIED = 6  # rsf qty: the order's leaves after the modify
S_MODIFY_REJECTED = 7  # gone (filled, cancelled), not there yet, or a post-only cross: unchanged
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
S_RNG2 = 28  # the response latencies' generator (S_RNG: the entry latencies'): one per side
S_NMODIFY = 29  # modify requests sent
S_NMODIFIED = 30  # ... and taken effect at the exchange
S_NBANDED = 31  # orders and modifies not sent: priced outside the price band
N_SC = 32
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
H_LIMIT = 16  # the local position beyond the hard limit (max_position): flatten, then halt
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
RK_LIMIT = 13  # the local position beyond the hard limit: orders cancelled, position flattened
RK_KINDS = {RK_DRAWDOWN: "drawdown", RK_DAILY_LOSS: "daily_loss", RK_KILL: "kill_switch",
            RK_STALE: "stale_feed", RK_SPREAD: "abnormal_spread", RK_VOL: "vol_surge",
            RK_RESUME: "cooldown_end", RK_DAY_RESET: "daily_loss_reset", RK_RESET: "reset",
            RK_TOXIC: "toxic_flow", RK_TOXIC_END: "toxic_flow_end",
            RK_KERNEL_ERROR: "quote_kernel_error", RK_LIMIT: "hard_limit"}
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
STRAT_USER = 6  # a user quote kernel (mmlab.backtest.engine._user), called through a function pointer
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
P_HOR = 10  # one side alone (I_SIDES): take only actions strictly before this time (BIG: no
# bound, the other side is done); the local side also stops before its own requests' arrival
N_POS = 11
RISK_CAP = 4096  # risk events kept (more are counted in S_NRISK)
