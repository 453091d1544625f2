"""The trading core's layout: event codes, constants and the records of its state.

The run state that crosses between the core's modules is in named records (numpy structured
dtypes: ``cfg["base"]``, ``acc["pos"]``...), never a bare index."""

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

# ---- sides (cfg["sides"]) ------------------------------------------------------------------
# SIDES_BOTH: one merged timeline (backtest, paper). SIDES_LOCAL: the local side alone (market
# data on the local clock, responses, decisions); its requests stay in ``rq`` for a venue
# adapter to take, and responses are put into ``rs`` by it. SIDES_EXCH: the exchange side alone
# (market data on the exchange clock, requests arriving, funding; the step table's marks at
# the strategy clock); its responses stay in ``rs`` for the adapter to take. At equal times
# every exchange-side action precedes every local-side one, so the two halves, advanced in
# turn to each other's horizon (``pos["hor"]``), take the merged timeline's actions in its
# order (mmlab.backtest.engine._loopback).
SIDES_LOCAL = 1
SIDES_EXCH = 2
SIDES_BOTH = 3
# ---- settings: the core's settings record (cfg; frozen for a run but for the desk's
# limits and the step driver's re-centring) ----------------------------------------------------
SETTINGS_DTYPE = np.dtype([
    ("nticks", np.int64),
    ("qmodel", np.int64),
    ("partial", np.int64),
    ("inverse", np.int64),
    ("interval", np.int64),
    ("tstart", np.int64),
    ("strat", np.int64),
    ("levels", np.int64),
    ("gridstep", np.int64),
    ("postonly", np.int64),
    ("clip", np.int64),
    ("seed", np.int64),
    ("maxord", np.int64),
    ("tend", np.int64),
    ("nsteps", np.int64),
    ("base", np.int64),
    ("halt", np.int64),  # 1: the strategy cancels everything and stops quoting (portfolio breaker)
    ("shared", np.int64),  # 1: one book; the strategy's view is read from its history (see run_kernel)
    ("record", np.int64),  # one row of the step table every cfg["record"] strategy steps (the group's last)
    ("stale", np.int64),  # stale-feed breaker: no local market event for this long (ns; 0: off)
    ("cooldown", np.int64),  # self-clearing breakers resume this long after their condition last held (ns)
    ("dayns", np.int64),  # the trading day's length (ns) for the daily-loss breaker (UTC days)
    ("toxwin", np.int64),  # toxicity response: window of the last fills (0: off; <= TOX_MAX)
    ("toxrec", np.int64),  # ... recovers after this many consecutive clean fills
    ("nlayers", np.int64),  # layering of a one-level strategy: levels a side (0: none)
    ("sides", np.int64),  # which sides this kernel runs (SIDES_*): both (a backtest, paper), or one of them
    ("modify", np.int64),
    ("stp", np.int64),  # 1: self-trade prevention (no order onto our own of the other side)  # 1: re-price / re-size a working order by a modify request instead of cancel + new
    ("tick", np.float64),
    ("lot", np.float64),
    ("maker", np.float64),
    ("taker", np.float64),
    ("perc", np.float64),
    ("mult", np.float64),
    ("maxpos", np.float64),
    ("qn", np.float64),
    ("itick", np.float64),  # 1 / tick
    ("maxdd", np.float64),  # drawdown breaker: fall of the marked equity from its peak (quote currency)
    ("maxdl", np.float64),  # daily-loss breaker: fall from the day's first marked equity (quote currency)
    ("maxspread", np.float64),  # abnormal-spread breaker: local best ask - best bid above this (price)
    ("maxmove", np.float64),  # vol-surge breaker: |local mid change| between two decisions above this (price)
    ("toxthr", np.float64),  # toxicity: one-sided share of the window's fills above which the flow is toxic
    ("toxwiden", np.float64),  # ... while toxic, distances from the mid are multiplied by this
    ("toxsize", np.float64),  # ... and sizes by this
    ("tunit", np.float64),  # the strategy's time unit (ns): a user kernel's time_left is in it
    ("yellow", np.float64),  # risk ladder zones on a side's usage max(0, side x position) / max_position:
    ("red", np.float64),  # yellow (sizes shrink, spreads widen, linearly across the band), red (reduce-only);
    ("ymin", np.float64),  # at the top of the yellow band: size factor
    ("ywiden", np.float64),  # ... and spread multiplier (cfg["yellow"] = inf: no zones)
    ("rate", np.float64),  # throttle: new orders per second (a token bucket; inf: off) ...
    ("burst", np.float64),  # ... holding at most this many tokens
    ("layer_dist", np.float64, (MAX_LEVELS,)),  # layering: level j's distance multiple and
    ("layer_share", np.float64, (MAX_LEVELS,)),  # size share (of the strategy's top level's)
    ("hardpos", np.float64),  # the hard limit a position beyond is a breach (flatten);
# cfg["maxpos"], the limit orders are sent within, may be lower (a portfolio's notional cap)
    ("band", np.float64),  # price band: no order priced further than this share of the local mid
], align=True)

# ---- orders: one record a slot ---------------------------------------------------------------
ORDER_DTYPE = np.dtype([
    ("id", np.int64),
    ("side", np.int64),
    ("tick", np.int64),  # the exchange's tick (a modify moves it when it reaches the exchange)
    ("ex_state", np.int64),  # exchange state: 0 not there (in flight), 1 resting, 2 gone
    ("lo_state", np.int64),  # local state (LO_*): free slot, pending new, working, ...
    ("post_only", np.int64),
    ("arrival", np.int64),  # index of the next exchange event when it reached the exchange (FIFO)
    ("mtick", np.int64),  # a modify's new tick (set by the local side when it sends one)
    ("ltick", np.int64),  # the local side's view of the tick (moved when the modify's response
    # reaches the local side)
    ("qty", np.float64),
    ("leaves", np.float64),  # exchange-side leaves
    ("front", np.float64),  # queue ahead of it at its level
    ("cum", np.float64),  # traded at its level since it joined the queue (the queue models)
    ("filled", np.float64),  # executed at the exchange
    ("lleaves", np.float64),  # local view of leaves
    ("lfilled", np.float64),  # executed as the local side has heard (its fills)
    ("mqty", np.float64),  # a modify's new leaves, as the local side wants them
    ("mtotal", np.float64),  # ... sent as the order's new total quantity (lfilled + mqty at
    # the send): the exchange leaves mtotal - filled, so what fills while the modify is in
    # flight is not bought again (the venues' rule: a modify gives the total quantity)
], align=True)
LO_FREE = 0
LO_PNEW = 1
LO_WORK = 2
LO_PCANCEL = 3
LO_DONE = 4
LO_PMODIFY = 5  # pending modify (to its "mtick" / "mqty")
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
S_MODIFIED = 6  # qty: the order's leaves after the modify
S_MODIFY_REJECTED = 7  # gone (filled, cancelled), not there yet, or a post-only cross: unchanged
# the request queue (rq: to the exchange) and the response queue (rs: to the local side)
REQUEST_QUEUE_DTYPE = np.dtype([
    ("ts", np.int64),  # arrival time
    ("slot", np.int64),
    ("kind", np.int64),  # R_*
    ("order_id", np.int64),
    ("seq", np.int64),  # the order of actions at equal times
], align=True)
RESPONSE_QUEUE_DTYPE = np.dtype([
    ("ts", np.int64),  # arrival time
    ("slot", np.int64),
    ("kind", np.int64),  # S_*
    ("order_id", np.int64),
    ("seq", np.int64),
    ("qty", np.float64),  # fills: the fill's quantity; modified: the order's leaves
    ("cash", np.float64),  # the local cash it brings (fills: -side qty x(px) - fee)
], align=True)
TOX_MAX = 512  # the toxicity window's capacity (fills)
# ---- scalars and counters (sc) --------------------------------------------------------------
SCALARS_DTYPE = np.dtype([
    ("nlive", np.int64),
    ("nreq", np.int64),
    ("nresp", np.int64),
    ("nextid", np.int64),
    ("seq", np.int64),
    ("rng_entry", np.int64),
    ("nfills", np.int64),
    ("nsent", np.int64),
    ("nreject", np.int64),
    ("ncancel", np.int64),
    ("nmaker", np.int64),
    ("ntaker", np.int64),
    ("marks", np.int64),
    ("nfund", np.int64),
    ("nl2q", np.int64),  # FIFO mode: L2 (not L3) updates met at one of our order's levels (inexact queue)
    ("halt", np.int64),  # latched breakers (bits H_*): quoting stops until reset
    ("pause", np.int64),  # self-clearing breakers tripped (bits B_*)
    ("pause_until", np.int64),  # ... quoting resumes at this local time if none holds any more
    ("day", np.int64),  # the current trading day (local ts // cfg["dayns"]; -1 before the first decision)
    ("nrisk", np.int64),  # risk events recorded (rk rows; counted beyond their capacity)
    ("tfeed", np.int64),  # local time of the last market event the local side applied
    ("toxn", np.int64),  # toxicity: fills in the window ring, its next slot, buys among them
    ("toxhead", np.int64),
    ("toxbuy", np.int64),
    ("toxic", np.int64),  # 1 while the flow is toxic
    ("toxclean", np.int64),  # consecutive clean fills while toxic
    ("tokt", np.int64),  # throttle: time the bucket was last refilled
    ("nthrottled", np.int64),  # new orders the throttle held back
    ("rng_response", np.int64),  # the response latencies' generator (sc["rng_entry"]: the entry latencies'): one per side
    ("nmodify", np.int64),  # modify requests sent
    ("nmodified", np.int64),  # ... and taken effect at the exchange
    ("nbanded", np.int64),  # orders and modifies not sent: priced outside the price band
    ("req_last", np.int64),  # the latest arrival time of a request sent: requests arrive in
    ("resp_last", np.int64),  # the order they are sent, and responses too (one session each
    # way; a recorded latency never lets one overtake another)
    ("nselfcross", np.int64),  # orders and modifies not sent: onto our own order of the other side
    ("tox_ring", np.int64, (TOX_MAX,)),  # the toxicity window's ring: fill sides, +1 / -1
], align=True)
# ---- accounts (acc): the exchange's and the local side's --------------------------------------
ACCOUNT_DTYPE = np.dtype([
    ("pos", np.float64),
    ("cash", np.float64),
    ("fees", np.float64),
    ("fund", np.float64),
    ("spread", np.float64),
    ("inv", np.float64),
    ("mark", np.float64),  # last mark (mid), NaN before the first
    ("vol", np.float64),
    ("lpos", np.float64),  # local (strategy's) view of the position
# running statistics over EVERY strategy step (exact whatever record_every thins the table to)
    ("elast", np.float64),  # equity at the previous step (NaN before the first)
    ("dn", np.float64),  # number of per-step equity changes
    ("dmean", np.float64),  # their running mean and sum of squared deviations (Welford)
    ("dm2", np.float64),
    ("dneg2", np.float64),  # sum of squares of the negative changes (downside deviation)
    ("peak", np.float64),  # running peak of max(equity, 0)
    ("mdd", np.float64),  # largest fall from that peak
    ("sabs", np.float64),  # sum and maximum of |position| over the steps
    ("mabs", np.float64),
    ("nsteps", np.float64),  # strategy steps taken
# the local side's own account (what a live session sees: fills known from their responses)
    ("lcash", np.float64),  # cash less fees of the fills the local side has heard of
    ("lpeak", np.float64),  # peak of the local marked equity (NaN before the first decision)
    ("day0", np.float64),  # local marked equity at the trading day's first decision
    ("lmark", np.float64),  # last finite local mid (NaN before the first)
    ("lmidprev", np.float64),  # local mid at the previous decision (vol-surge breaker)
    ("leq", np.float64),  # local marked equity at the last decision
    ("tokens", np.float64),  # throttle: tokens in the bucket (NaN before the first order)
], align=True)
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
# ---- fills ----------------------------------------------------------------------------------
FILL_DTYPE = np.dtype([
    ("ts", np.int64),  # exchange time
    ("local_ts", np.int64),  # when its response reaches the local side
    ("side", np.int64),
    ("maker", np.int64),
    ("order_id", np.int64),
    ("seq", np.int64),
    ("price", np.float64),
    ("qty", np.float64),
    ("fee", np.float64),
    ("mid", np.float64),  # the mark it was booked at
    ("spread_capture", np.float64),
], align=True)
# ---- the step table: one row a recorded strategy step ----------------------------------------
STEP_DTYPE = np.dtype([
    ("ts", np.int64),
    ("seq", np.int64),
    ("events_applied", np.int64),  # exchange events applied so far
    ("mid", np.float64),
    ("local_mid", np.float64),
    ("position", np.float64),
    ("local_position", np.float64),
    ("balance", np.float64),
    ("equity", np.float64),
    ("spread_pnl", np.float64),
    ("inventory_pnl", np.float64),
    ("fees", np.float64),
    ("funding", np.float64),
    ("best_bid", np.float64),  # exchange best bid / ask (NaN when empty)
    ("best_ask", np.float64),
    ("quote_bid", np.float64),  # our quoted bid / ask price (NaN: none)
    ("quote_ask", np.float64),
], align=True)
#: the step table's columns of floats (the result's frame), in order
STEP_FLOATS = tuple(n for n in STEP_DTYPE.names or () if STEP_DTYPE[n] == np.float64)
# ---- funding payments and risk events --------------------------------------------------------
FUNDING_DTYPE = np.dtype([("ts", np.int64), ("rate", np.float64), ("mark", np.float64),
                          ("amount", np.float64), ("seq", np.int64)], align=True)
RISK_EVENT_DTYPE = np.dtype([
    ("ts", np.int64),
    ("kind", np.int64),  # RK_*
    ("value", np.float64),  # the marked equity or measure that tripped it
], align=True)
# ---- strategies --------------------------------------------------------------------------------
STRAT_GRID = 0
STRAT_AS = 1
STRAT_AS_INF = 2
STRAT_GLFT = 3
STRAT_SCRIPT = 4
STRAT_ADAPTIVE = 5
STRAT_USER = 6  # a user quote kernel (mmlab.backtest.engine._user), called through a function pointer
# ---- a built-in strategy's parameters (qp): one record, its fields named as the configs' ------
#: the adaptive spread's parameter vector (mmlab.quoting.adaptive_quote_kernel's ``p``)
N_ADAPTIVE = 11
QUOTE_PARAMS_DTYPE = np.dtype([
    # grid (GridStrategy): half spread and size a level, skew (price per unit of position)
    ("half_spread", np.float64),
    ("order_qty", np.float64),
    ("skew", np.float64),
    # Avellaneda-Stoikov (finite and infinite horizon), GLFT (mmlab.quoting's configs)
    ("gamma", np.float64),
    ("sigma_px", np.float64),  # the mid's volatility, price per sqrt(time unit)
    ("k", np.float64),
    ("A", np.float64),
    ("omega", np.float64),
    ("xi", np.float64),
    ("max_inventory", np.float64),
    ("order_size", np.float64),
    ("time_unit_ns", np.float64),  # A-S's time left is in this unit
    # adaptive spread: its parameter vector, the volatility estimator's settings and state
    ("adaptive", np.float64, (N_ADAPTIVE,)),
    ("vol_weight", np.float64),  # EWMA weight of the last step's squared mid change
    ("step_units", np.float64),  # one strategy step in time units
    ("vol_min_steps", np.float64),  # steps before the estimate is used
    ("last_mid", np.float64),  # (state) the local mid at the previous step, NaN before
    ("vol_ewma", np.float64),  # (state) EWMA of the squared mid changes
    ("vol_n", np.float64),  # (state) changes seen
], align=True)
# ---- scripted orders (script): one row an order ------------------------------------------------
SCRIPT_DTYPE = np.dtype([
    ("step", np.int64),  # the strategy step it is sent at
    ("side", np.int64),
    ("tick", np.int64),  # absolute tick
    ("qty", np.float64),
    ("cancel_step", np.int64),  # the step it is cancelled at (-1: never)
    ("order_id", np.int64),  # given by the core (0 before it is sent, -1 not sent)
], align=True)
# ---- the events' scan (core.scan.scan_events): validity and statistics ----------------------
SCAN_DTYPE = np.dtype([
    ("bad_row", np.int64),  # the first bad row (-1: none) ...
    ("bad_reason", np.int64),  # ... and why: 1 an unknown kind, 2 a bad price or quantity
    ("n_l2", np.int64),  # depth and trade events
    ("n_l3", np.int64),  # L3 order events
    ("first_local_ts", np.int64),  # first and latest local ts (-1: no local row)
    ("last_local_ts", np.int64),
    ("last_exch_ts", np.int64),  # latest exchange ts (-BIG: no exchange row)
    ("n_exch", np.int64),  # rows on the exchange clock
    ("n_local", np.int64),  # rows on the local clock
    ("n_ordered", np.int64),  # rows on both clocks with exch ts <= local ts
    ("min_trade_px", np.float64),  # trade prices' range (inf / -inf: none)
    ("max_trade_px", np.float64),
    ("min_px", np.float64),  # depth and trade prices' range
    ("max_px", np.float64),
], align=True)
#: what a portfolio check reads of one instrument (core.scan.portfolio_view)
PORTFOLIO_VIEW_DTYPE = np.dtype([
    ("exposure", np.float64),  # gross: position plus working and in-flight orders of the larger
    # side (the strategy's view), at the local mid, quote currency
    ("equity", np.float64),  # at the exchange mid
    ("local_mid", np.float64),  # (falls back to the last mark, then 0)
], align=True)
# ---- the run's cursor (pos): positions in the streams, pause and horizon ----------------------
CURSOR_DTYPE = np.dtype([
    ("iex", np.int64),
    ("ilo", np.int64),
    ("ifu", np.int64),
    ("k", np.int64),
    ("kstop", np.int64),  # pause just before strategy step pos["kstop"] (-1: run to the end)
    ("init", np.int64),
    ("done", np.int64),
    ("one", np.int64),  # 1: pause right after the next strategy step
    ("fin", np.int64),  # 1: the event arrays hold the whole stream; 0: more rows may be appended (step driver)
    ("wm", np.int64),  # with pos["fin"] = 0: no row appended later has an exch or local ts below this watermark
    ("hor", np.int64),  # one side alone (cfg["sides"]): take only actions strictly before this time (BIG: no
# bound, the other side is done); the local side also stops before its own requests' arrival
], align=True)
RISK_CAP = 4096  # risk events kept (more are counted in sc["nrisk"])

#: the response-latency and entry-latency generators' records (primitives.draw's ``which``)
RNG_ENTRY = 0
RNG_RESPONSE = 1


def record(dtype):
    """A zeroed record of ``dtype``: a view of its own one-row array (:func:`row`), so writes
    from Python and from compiled code stay in it."""
    return np.zeros(1, dtype=dtype)[0]


def row(rec):
    """The one-row array a :func:`record` is a view of: what the compiled entry points take
    (numba dispatches an array argument in about 0.1 us, a record scalar in about 1.5 us) and
    index ``[0]`` for the record, by reference."""
    base = rec.base
    if not (isinstance(base, np.ndarray) and base.shape == (1,) and base.dtype == rec.dtype):
        raise ValueError("row: not a record made by core.layout.record")
    return base


def rows(args):
    """``args`` with every record replaced by its :func:`row` (the arguments of an entry
    point)."""
    return tuple(row(a) if isinstance(a, np.void) else a for a in args)
