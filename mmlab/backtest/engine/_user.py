"""User strategies in the one trading core: a quote kernel of one fixed signature.

A strategy of your own is a plain function ``quote(state, params, out)`` over three float64
arrays:

* ``state`` — the market-state record the core fills at each decision (read it by the names
  below: ``state[MS_MID]``; prices in the instrument's quote currency, quantities in its units,
  times in seconds); it ends with the local book's depth, the first ``DEPTH_LEVELS`` non-empty
  levels a side from the touch outwards: bid level ``i`` at ``state[MS_BID_DEPTH + 2 i]``
  (price) and ``state[MS_BID_DEPTH + 2 i + 1]`` (quantity), asks from ``MS_ASK_DEPTH`` alike,
  price NaN and quantity 0 past the last level (the built-in ``depth`` strategy,
  :class:`mmlab.quoting.DepthConfig`, is such a kernel: :func:`depth_user_quote`);
* ``params`` — your parameters, in the order you gave them, then zeros up to ``MAX_PARAMS``:
  the slots after yours are the kernel's memory between decisions (an EWMA, a last mid...),
  zero at the start of a run, kept by the core from one call to the next;
* ``out`` — up to ``MAX_LEVELS`` levels a side, level ``j`` at ``out[4 j : 4 j + 4]`` as
  ``bid price, bid size, ask price, ask size`` (the core sets every price to NaN first: NaN or
  a size <= 0 is no level). Prices are rounded to the tick (bids down, asks up), sizes down to
  the lot; the core's risk ladder, breakers, toxicity response and order reconciliation apply
  as to any built-in strategy.

Indexing is bounds-checked: a kernel that reads or writes outside ``state``, ``params`` or
``out`` (or raises otherwise) stops there; the core then halts quoting (every order cancelled,
a ``quote_kernel_error`` risk event), and :func:`mmlab.backtest.run` raises a ``ConfigError``
naming the decision's time. A live session stays halted until reset.

:func:`quote_kernel` compiles the function once as a numba ``cfunc`` of the fixed signature
``void(double*, double*, double*)``, which the compiled loop calls through a function pointer:
the loop itself is compiled once for every strategy (and cached on disk), so editing a
strategy in a notebook costs only its own compile. The plain function is the kernel's Python
twin (``engine="python"``). :class:`UserStrategy` pairs a kernel with its parameters and runs in
:func:`mmlab.backtest.run`, :class:`~mmlab.backtest.StepDriver` and
:func:`mmlab.runtime.replay` alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import carray, cfunc, njit, types

from mmlab.errors import ConfigError
from mmlab.quoting import depth_quote_kernel

__all__ = ["DEPTH_LEVELS", "MARKET_STATE_FIELDS", "MAX_LEVELS", "MAX_PARAMS", "MS_ASK_DEPTH",
           "MS_ASK_QTY", "MS_BEST_ASK", "MS_BEST_BID", "MS_BID_DEPTH", "MS_BID_QTY", "MS_EQUITY", "MS_ERROR", "MS_LOT", "MS_MAX_POSITION",
           "MS_MID", "MS_POSITION", "MS_STEP",
           "MS_TICK", "MS_TIME", "MS_TIME_LEFT", "N_OUT", "N_STATE", "QUOTE_SIGNATURE",
           "QuoteKernel", "UserStrategy", "depth_user_quote", "make_depth_kernel", "noop_kernel",
           "quote_kernel"]

#: the market-state record, in order (index constants ``MS_*``)
MARKET_STATE_FIELDS: tuple[tuple[str, str], ...] = (
    ("mid", "local mid (best bid + best ask) / 2; NaN with a side empty"),
    ("best_bid", "local best bid price (NaN: none)"),
    ("best_ask", "local best ask price (NaN: none)"),
    ("position", "our position as the local side knows it (instrument units)"),
    ("time", "local time of the decision, seconds since the session's start"),
    ("time_left", "time to session_end, in the strategy's time unit (time_unit_ns)"),
    ("tick", "tick size"),
    ("lot", "lot size"),
    ("max_position", "the hard limit on position + working + in-flight orders of a side"),
    ("equity", "the local side's equity marked at its mid (quote currency)"),
    ("step", "index of this decision (0, 1, ...)"),
    ("bid_qty", "quantity at the local best bid (0: none)"),
    ("ask_qty", "quantity at the local best ask (0: none)"),
    ("error", "set by the core: 1 while the kernel runs, 0 once it returned (a kernel that "
              "raised, e.g. an index out of range, leaves 1)"),
)
#: levels a side of the local book's depth in the record (the first non-empty levels from the
#: touch outwards)
DEPTH_LEVELS = 20
MARKET_STATE_FIELDS += tuple(
    (f"{side}_{what}_{i}", f"local {side} level {i} from the touch: "
     + ("price (NaN: none)" if what == "px" else "quantity (0: none)"))
    for side in ("bid", "ask") for i in range(DEPTH_LEVELS) for what in ("px", "qty"))
MS_MID, MS_BEST_BID, MS_BEST_ASK, MS_POSITION, MS_TIME, MS_TIME_LEFT = range(6)
MS_TICK, MS_LOT, MS_MAX_POSITION, MS_EQUITY, MS_STEP = range(6, 11)
MS_BID_QTY, MS_ASK_QTY, MS_ERROR = range(11, 14)
#: start of the bid depth: level ``i`` price at ``MS_BID_DEPTH + 2 i``, quantity at ``+ 1``
MS_BID_DEPTH = 14
#: start of the ask depth (same layout)
MS_ASK_DEPTH = MS_BID_DEPTH + 2 * DEPTH_LEVELS
N_STATE = len(MARKET_STATE_FIELDS)
MAX_LEVELS = 8
N_OUT = 4 * MAX_LEVELS
MAX_PARAMS = 64

#: the one signature of every quote kernel: ``void(state*, params*, out*)``
QUOTE_SIGNATURE = types.void(types.CPointer(types.float64), types.CPointer(types.float64),
                             types.CPointer(types.float64))


@dataclass(frozen=True)
class QuoteKernel:
    """A user quote function and its compiled form (see :func:`quote_kernel`)."""

    python: object
    cfunc: object
    name: str

    def __repr__(self) -> str:
        return f"QuoteKernel({self.name})"


def quote_kernel(fn) -> QuoteKernel:
    """Compile ``fn(state, params, out)`` into a quote kernel of the core's fixed signature.

    Examples
    --------
    >>> import math
    >>> from mmlab.backtest import MS_MID, MS_POSITION
    >>> def fixed(state, params, out):
    ...     m = state[MS_MID]
    ...     skew = params[2] * state[MS_POSITION]
    ...     out[0], out[1] = m - params[0] - skew, params[1]
    ...     out[2], out[3] = m + params[0] - skew, params[1]
    >>> k = quote_kernel(fixed)
    >>> st, out = np.zeros(N_STATE), np.full(N_OUT, np.nan)
    >>> st[MS_MID] = 100.0
    >>> k.python(st, np.array([0.5, 1.0, 0.0]), out)
    >>> out[:4].tolist()
    [99.5, 1.0, 100.5, 1.0]
    """
    if not callable(fn):
        raise ConfigError(f"quote: expected a function quote(state, params, out), got {fn!r}")
    jf = njit(fn, boundscheck=True)

    def _c(s, p, o):
        st = carray(s, (N_STATE,))
        st[MS_ERROR] = 1.0
        jf(st, carray(p, (MAX_PARAMS,)), carray(o, (N_OUT,)))
        st[MS_ERROR] = 0.0  # not reached when the kernel raised

    try:
        c = cfunc(QUOTE_SIGNATURE)(_c)
    except Exception as e:  # numba's typing error: say which function and why, in one line
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"quote: {getattr(fn, '__name__', fn)!s} does not compile as a "
                          f"quote kernel: {first}") from None
    return QuoteKernel(fn, c, getattr(fn, "__name__", "quote"))


def _noop_python(state, params, out):
    return None


_NOOP = None


def noop_kernel() -> QuoteKernel:
    """The kernel the loop is handed when the strategy is built in (never called)."""
    global _NOOP
    if _NOOP is None:
        _NOOP = QuoteKernel(_noop_python, _noop_cfunc(), "noop")
    return _NOOP


def _noop_cfunc():
    @cfunc(QUOTE_SIGNATURE, cache=True)
    def noop(s, p, o):
        return

    return noop


def depth_user_quote(state, params, out):
    """The depth strategy in the user protocol: :func:`mmlab.quoting.depth_quote_kernel` on the
    record's book depth and position, ``params = [target_depth, tick, improve_ticks, skew_ticks,
    max_inventory, order_size]``; one level a side in ``out[0:4]``."""
    nb = 0
    while nb < DEPTH_LEVELS and state[MS_BID_DEPTH + 2 * nb + 1] > 0.0:
        nb += 1
    na = 0
    while na < DEPTH_LEVELS and state[MS_ASK_DEPTH + 2 * na + 1] > 0.0:
        na += 1
    b0 = MS_BID_DEPTH
    a0 = MS_ASK_DEPTH
    bid, ask, bs, az = depth_quote_kernel(
        state[b0:b0 + 2 * nb:2], state[b0 + 1:b0 + 2 * nb:2], state[a0:a0 + 2 * na:2],
        state[a0 + 1:a0 + 2 * na:2], state[MS_POSITION], params[0], params[1], params[2],
        params[3], params[4], params[5])
    out[0] = bid
    out[1] = bs
    out[2] = ask
    out[3] = az


_depth_jit = njit(depth_user_quote, boundscheck=True, cache=True)


def make_depth_kernel() -> QuoteKernel:
    """The depth strategy's :class:`QuoteKernel` (its ``cfunc`` cached on disk)."""

    @cfunc(QUOTE_SIGNATURE, cache=True)
    def depth(s, p, o):
        st = carray(s, (N_STATE,))
        st[MS_ERROR] = 1.0
        _depth_jit(st, carray(p, (MAX_PARAMS,)), carray(o, (N_OUT,)))
        st[MS_ERROR] = 0.0

    return QuoteKernel(depth_user_quote, depth, "depth")


@dataclass(frozen=True)
class UserStrategy:
    """A quote kernel with its parameters: a strategy the core runs like a built-in one.

    Parameters
    ----------
    kernel : QuoteKernel or callable
        From :func:`quote_kernel` (a plain function is compiled on construction).
    params : sequence of float
        Handed to the kernel as ``params`` (at most ``MAX_PARAMS``, finite).
    name : str
        Shown in results and reports.
    """

    kernel: object
    params: tuple = ()
    name: str = ""

    def __post_init__(self) -> None:
        k = self.kernel
        if not isinstance(k, QuoteKernel):
            k = quote_kernel(k)
            object.__setattr__(self, "kernel", k)
        p = tuple(float(v) for v in self.params)
        if len(p) > MAX_PARAMS:
            raise ConfigError(f"params: at most {MAX_PARAMS}, got {len(p)}")
        if not all(math.isfinite(v) for v in p):
            raise ConfigError(f"params: must be finite, got {p!r}")
        object.__setattr__(self, "params", p)
        if not self.name:
            object.__setattr__(self, "name", k.name)

    def param_array(self) -> np.ndarray:
        """The parameters as the kernel reads them (padded to ``MAX_PARAMS``)."""
        out = np.zeros(MAX_PARAMS)
        out[: len(self.params)] = self.params
        return out
