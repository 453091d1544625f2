"""Commodity futures curves: NYMEX WTI (CL) roll ranks mapped to contract months, carry, options.

The shipped WTI file (:func:`mmlab.data.load_wti_settles`) ranks contracts by expiry on each
date (CL01 = front). The NYMEX expiry rule of the instrument master
(:func:`mmlab.data.cl_last_trade_date`: 3 business days before the 25th calendar day of the
month before delivery, 4 if the 25th is not a business day) maps each rank to its contract month.

=========================  ==============================================================
contracts                  :func:`contract_months` (every date x rank), :func:`contract_code`,
                           :func:`parse_contract`, :func:`settle_instant`, :func:`wti_settles`,
                           :data:`MONTH_CODES`
curve                      :func:`futures_curve` -> :class:`FuturesCurve`,
                           :func:`contract_history` (one contract month through its life)
carry                      :func:`roll_yield`, :func:`roll_yield_history`, :func:`roll_returns`,
                           :func:`convenience_yield` (spot proxied by the front month)
spreads                    :func:`calendar_spread`, :func:`calendar_spread_history`
options                    :func:`futures_option_price` (Black-76 refuses F <= 0; Bachelier
                           prices negative futures)
=========================  ==============================================================

Negative settles (CL01 = -37.63 on 2020-04-20) are data, never errors: log-based measures give
NaN with a ``reason`` in tables (or a :class:`~mmlab.errors.DataError` from scalar functions),
price differences and Bachelier stay defined.

Examples
--------
>>> c = futures_curve("2023-10-19")
>>> c.front, c.settle(1), round(calendar_spread(c, "CLX23", "CLZ23"), 2)
('CLX23', 89.37, 1.0)
"""

from __future__ import annotations

from mmlab.commodities._carry import convenience_yield, roll_returns, roll_yield, roll_yield_history
from mmlab.commodities._contracts import (
    MONTH_CODES,
    WTI_FILE,
    contract_code,
    contract_months,
    parse_contract,
    settle_instant,
    wti_settles,
)
from mmlab.commodities._curve import FuturesCurve, contract_history, futures_curve
from mmlab.commodities._options import FUTURES_OPTION_MODELS, futures_option_price
from mmlab.commodities._spreads import calendar_spread, calendar_spread_history

__all__ = [
    "FUTURES_OPTION_MODELS",
    "FuturesCurve",
    "MONTH_CODES",
    "WTI_FILE",
    "calendar_spread",
    "calendar_spread_history",
    "contract_code",
    "contract_history",
    "contract_months",
    "convenience_yield",
    "futures_curve",
    "futures_option_price",
    "parse_contract",
    "roll_returns",
    "roll_yield",
    "roll_yield_history",
    "settle_instant",
    "wti_settles",
]
