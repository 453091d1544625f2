"""Option pricing: Black-Scholes-Merton, Black-76, Bachelier, implied vol, American options.

Conventions (see :class:`Greeks`): vega per 1.00 of vol, theta per year, rho per 1.00 of rate;
time in years, ACT/365F of exact elapsed time (:func:`year_fraction`).  Flags are ``'c'``/``'p'``;
every argument broadcasts like NumPy.
"""

from __future__ import annotations

from mmlab.pricing._american import (
    AMERICAN_METHODS,
    american_greeks,
    american_implied_vol,
    american_price,
)
from mmlab.pricing._bachelier import bachelier_greeks, bachelier_price
from mmlab.pricing._black76 import black76_greeks, black76_price
from mmlab.pricing._black_scholes import bsm_greeks, bsm_price
from mmlab.pricing._greeks import GREEK_NAMES, Greeks
from mmlab.pricing._implied_vol import ImpliedVolResult, IVCode, implied_vol
from mmlab.pricing._time import NS_PER_YEAR, to_ns, year_fraction

__all__ = sorted(
    [
        "AMERICAN_METHODS",
        "GREEK_NAMES",
        "Greeks",
        "IVCode",
        "ImpliedVolResult",
        "NS_PER_YEAR",
        "american_greeks",
        "american_implied_vol",
        "american_price",
        "bachelier_greeks",
        "bachelier_price",
        "black76_greeks",
        "black76_price",
        "bsm_greeks",
        "bsm_price",
        "implied_vol",
        "to_ns",
        "year_fraction",
    ]
)
