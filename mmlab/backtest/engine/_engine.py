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
queue ahead of it (queue model, :mod:`mmlab.backtest.engine._queue`), or when the best ask moves to or
through its price; symmetrically for sells. Crossing orders: post-only (GTX) ones are rejected,
others take the opposite best in full (taker fee). **No market impact**: our fills never consume
or move the replayed liquidity; the replayed book is exactly the book the events describe.

Accounting is the core's account (:mod:`mmlab.backtest.core.primitives`: value coordinate
``x(p) = m p``, or ``-m / p`` for inverse contracts): position, cash, fees, funding and the
exact split ``spread + inventory - fees + funding = total``. Marks use the exchange-side mid.

All state lives in named records (numpy structured dtypes of :mod:`mmlab.backtest.core.layout`:
the settings, scalars, accounts, cursor and a strategy's parameters as one record each; orders,
queues, fills, steps and risk events as arrays of records); every helper exists as a plain-Python function
(``*_python``) and the compiled family is built from the same code with the helper names bound
to their compiled versions (see ``_compile``), so the Python twin runs the identical algorithm.
"""

from __future__ import annotations

import types

from numba import njit

from mmlab.backtest.core import (
    exchange,
    layout,
    local_orders,
    local_step,
    loop,
    primitives,
    scan,
)
from mmlab.backtest.core import externals as X
from mmlab.backtest.core.layout import *  # noqa: F403 -- re-exported: the records and codes, read as E.NAME
from mmlab.backtest.core.loop import new_state
from mmlab.backtest.engine._queue import (
    queue_depth_python,
    queue_filled_qty_python,
    queue_trade_python,
)
from mmlab.numba_stamp import family_stamp, stamped

__all__ = ["new_state", "run_kernel", "run_kernel_python", "scan_events", "scan_events_python"]

_MODULES = (layout, primitives, exchange, local_orders, local_step, scan, loop)
#: every plain-Python twin of the family, by name
_TWINS = {name[: -len("_python")]: f for m in _MODULES for name, f in vars(m).items()
          if name.endswith("_python") and callable(f) and m is not layout}
#: the names the family's code reads: the layout's slots and the modules' own globals
_NAMESPACE = {k: v for m in _MODULES for k, v in vars(m).items() if not k.startswith("__")}


# ==============================================================================================
# compile the family: plain Python (helpers bound to *_python) and numba (bound to compiled)
# ==============================================================================================

_FAMILY = [
    "_value", "_draw", "_tick", "_set_level", "_clear", "_clear_event", "_mid", "_mark", "_book_fill",
    "_push_req", "_push_resp", "_first", "_pop", "_live_remove", "_ex_fill", "_ex_cross",
    "_ex_trade", "_trade_hits", "_ex_depth_q", "_ex_modify", "_ex_request", "_lo_response",
    "_quote", "_side_exposure", "_out_of_band", "_order_tick", "_own_bound", "_crosses_own", "_present", "_throttle", "_open_order", "_new_order", "_modify", "_flatten",
    "_reconcile", "_script", "_risk_event", "_risk",
    "_toxicity",
    "_reconcile_levels", "_zone", "_levels_step", "_user_step", "_step", "_record_step", "_ex_l3", "_ex_event",
    "_lo_event", "_grow_ring", "run_kernel", "scan_events", "portfolio_view",
]


#: hot-path helpers inlined into their callers (no call overhead for their many array arguments)
_INLINE = {"_value", "_tick", "_set_level", "_mid", "_first", "_pop", "_ex_depth_q",
           "_live_remove", "_trade_hits", "_order_tick"}


#: entry points called from Python
_ENTRY = {"run_kernel", "scan_events", "portfolio_view"}


# numba's typed njit() omits the no_cpython_wrapper option its dispatcher accepts
@njit(cache=True, no_cpython_wrapper=True)  # type: ignore[call-overload]
def _call_user_nb(qf, qs, up, qo):
    """Call a user quote kernel (compiled: its cfunc, through a function pointer)."""
    qf(qs.ctypes, up.ctypes, qo.ctypes)


def _externals(jit):
    """The kernels the family calls from other modules: the queue models and the quoting
    kernels (plain Python for ``jit=None``, compiled otherwise)."""
    import mmlab.quoting as Q
    from mmlab.backtest.engine import _queue

    if jit is None:
        return {"_call_user": X.call_user,
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


def _family_sources() -> list[str]:
    """Every source the compiled family's machine code depends on: the core's modules, this
    module, the user-kernel record and the queue models, and the quoting kernels it calls."""
    import inspect

    from mmlab.backtest.engine import _queue, _user

    out = [inspect.getfile(m) for m in _MODULES]
    out += [__file__, inspect.getfile(_queue), inspect.getfile(_user), inspect.getfile(X)]
    for f in _externals(njit).values():
        out.append(inspect.getfile(getattr(f, "py_func", f)))
    return out


# ---- the basic family: what most runs need, compiled without the optional features ---------
# A compiled function includes every function it may call, taken or not; these features cost
# about a quarter of the cold compile and most runs never use them, so a second family binds
# them to stubs of the same types (never called there: kernel_for picks the full family for a
# run that may need one).


def _ex_l3_stub(i, kind, b, idx, q, l3a, t, orders, live, sc, acc, fills, rs, best,
                book, cfg, lat_resp):
    """(L3 records: not in a basic run)"""
    return False


def _levels_step_stub(t, row, lmid, orders, rq, sc, acc, best, cfg, lat_entry, steps,
                      qo):
    """(the levels step of user kernels and layers: not in a basic run)"""
    return


def _user_step_stub(t, k, row, lmid, bb_px, ba_px, orders, rq, sc, acc, best, book, cfg,
                    up, lat_entry, steps, rk, qf, qs, qo):
    """(a user quote kernel's decision: not in a basic run)"""
    return


def _script_stub(t, k, orders, rq, sc, acc, cfg, script, lat_entry):
    """(scripted orders: not in a basic run)"""
    return


def _ex_modify_stub(slot, t, i_ex, orders, live, sc, acc, fills, rs, best, book, cfg, lat_resp):
    """(modify requests: not in a basic run)"""
    return


def _modify_stub(s, tk, qty, t, orders, rq, sc, acc, cfg, lat_entry):
    """(modify requests: not in a basic run)"""
    return 0


_STUBS = {"_ex_l3": _ex_l3_stub, "_levels_step": _levels_step_stub,
          "_user_step": _user_step_stub, "_script": _script_stub,
          "_ex_modify": _ex_modify_stub, "_modify": _modify_stub}


def _compile(jit, basic: bool = False):
    """The family with its helper names bound in a private namespace (``jit=None``: the
    plain-Python twin; else the compiled family, whose code is attributed to one cache stamp of
    all its sources: :mod:`mmlab.numba_stamp`; ``basic``: the optional features stubbed)."""
    ns = dict(_NAMESPACE)
    ns.update(_externals(jit))
    stamp = None if jit is None else family_stamp("backtest_core", _family_sources())
    fam = {}
    for name in _FAMILY:
        f = _STUBS[name] if basic and name in _STUBS else _TWINS[name]
        g = types.FunctionType(stamped(f.__code__, stamp), ns, name, f.__defaults__)
        g.__doc__ = f.__doc__
        g.__module__ = f.__module__
        g.__qualname__ = name + ("_basic" if basic else "")  # (its own cache entries)
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
_nb_basic = _compile(lambda f=None, **kw: njit(cache=True, error_model="numpy", **kw)
                     if f is None else njit(cache=True, error_model="numpy")(f), basic=True)
run_kernel_basic = _nb_basic["run_kernel"]


def kernel_for(engine: str, settings, l3: bool):
    """The event loop a run needs: the plain-Python twin, the full compiled family, or the
    basic one (L2 data; a built-in strategy without layers; no modify requests) that compiles
    a quarter faster cold."""
    if engine != "numba":
        return run_kernel_python
    strat = settings["strat"]
    basic = (not l3 and strat != layout.STRAT_SCRIPT and strat != layout.STRAT_USER
             and settings["nlayers"] == 0 and settings["modify"] == 0)
    return run_kernel_basic if basic else run_kernel
scan_events_python = _py["scan_events"]  # noqa: F811 -- the twin bound in its own namespace replaces the source def
scan_events = _nb["scan_events"]
portfolio_view_python = _py["portfolio_view"]  # noqa: F811 -- the twin bound in its own namespace replaces the source def
portfolio_view = _nb["portfolio_view"]
