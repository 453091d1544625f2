"""The kernels the core calls from other modules, as plain-Python twins: the user quote kernel's
call, the queue models and the built-in quoting kernels (the compiled family binds their compiled
versions: mmlab.backtest.engine._engine._externals)."""

from __future__ import annotations

from mmlab.backtest.engine._queue import (
    queue_depth_python,
    queue_filled_qty_python,
    queue_trade_python,
)
from mmlab.backtest.engine._user import MS_ERROR
from mmlab.quoting import (
    adaptive_quote_kernel_python,
    as_infinite_quote_kernel_python,
    as_quote_kernel_python,
    glft_quote_kernel_python,
)


def _call_user_python(qf, qs, up, qo):
    """Call a user quote kernel (Python twin: the plain function on the arrays; an exception
    leaves ``qs[MS_ERROR]`` at 1, as the compiled call does)."""
    qs[MS_ERROR] = 1.0
    try:
        qf(qs, up, qo)
    except Exception:  # the core halts and run() reports it (see mmlab.backtest.engine._user)
        return
    qs[MS_ERROR] = 0.0


_call_user = _call_user_python
_queue_trade = queue_trade_python
_queue_depth = queue_depth_python
_queue_filled_qty = queue_filled_qty_python
_as_quote = as_quote_kernel_python
_as_inf_quote = as_infinite_quote_kernel_python
_glft_quote = glft_quote_kernel_python
_adaptive_quote = adaptive_quote_kernel_python

# public names for the core's modules
call_user = _call_user
queue_trade = _queue_trade
queue_depth = _queue_depth
queue_filled_qty = _queue_filled_qty
as_quote = _as_quote
as_inf_quote = _as_inf_quote
glft_quote = _glft_quote
adaptive_quote = _adaptive_quote
