"""The vectorbt order function of the bar-level market maker (imports vectorbt: load lazily).

Kept apart from :mod:`mmlab.backtest.bars._vbt_research` so that importing :mod:`mmlab.backtest`
does not import vectorbt (several seconds); the rule is documented in
:mod:`mmlab.backtest.bars._bar_rule`.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from vectorbt.portfolio.enums import NoOrder
from vectorbt.portfolio.nb import order_nb

from mmlab.backtest.bars._bar_rule import bar_quote, touched

__all__ = ["vbt_order_func"]


@njit(cache=True)
def vbt_order_func(c, high, low, traded, ref, vol, bb, ba, p, tick, fee, through, quotes):
    """vectorbt flexible order function of one bar.

    Call 0 quotes the bar from vectorbt's position at the bar's start (in whole order sizes),
    writes the quotes to ``quotes[i]`` and sends the bid if the bar's low reaches it; call 1
    sends the ask if the bar's high reaches it; call 2 ends the bar. Orders fill in full at
    their price (``raise_reject``: a rejection is an error, never a silent miss).
    """
    i = c.i
    col = c.from_col
    size = p[10]
    if c.call_idx == 0:
        if i == 0 or not (ref[i] == ref[i]):
            return -1, NoOrder
        q = np.round(c.last_position[col] / size) * size
        bid, ask = bar_quote(ref[i], q, vol[i], bb[i], ba[i], p, tick)
        quotes[i, 0] = bid
        quotes[i, 1] = ask
        if traded[i] and touched(low[i], bid, 1, through):
            return col, order_nb(size=size, price=bid, fees=fee, raise_reject=True)
        return col, NoOrder
    if c.call_idx == 1:
        if traded[i] and touched(high[i], quotes[i, 1], -1, through):
            return col, order_nb(size=-size, price=quotes[i, 1], fees=fee, raise_reject=True)
        return col, NoOrder
    return -1, NoOrder
