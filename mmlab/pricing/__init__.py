"""Option pricing: Black-Scholes-Merton, Black-76, Bachelier, implied vol, American options.

Conventions (see :class:`Greeks`): vega per 1.00 of vol, theta per year, rho per 1.00 of rate
(``vega_per_pct()``, ``theta_per_day()``, ``rho_per_pct()`` convert); time in years, ACT/365F of
exact elapsed time (:func:`year_fraction`).  Flags are ``'c'``/``'p'``; every argument broadcasts
like NumPy; one option (all scalars) takes a fast scalar path.

=========================  =========================================================
European prices, Greeks    :func:`bsm_price`/:func:`bsm_greeks` (dividend yield q),
                           :func:`black76_price`/:func:`black76_greeks` (futures),
                           :func:`bachelier_price`/:func:`bachelier_greeks` (normal,
                           any-sign forwards)
Implied volatility         :func:`implied_vol` (own numba solver, NaN + :class:`IVCode`
                           per element; never raises on data)
American options           :func:`american_price`, :func:`american_greeks`,
                           :func:`american_implied_vol` (QuantLib: BAW, BJS, CRR, FD with
                           discrete dividends)
Time                       :func:`year_fraction`, :func:`to_ns`
Kernels                    :func:`bsm_greeks_kernel` (compiled, flat arrays in, a
                           ``(9, n)`` output filled; twin :func:`bsm_greeks_python`),
                           :func:`as_flags` (``'c'``/``'p'`` to +1/-1) for callers that
                           loop over many small batches
=========================  =========================================================

Volatility surfaces built on these prices (``fit_surface``, ``VolSurface``) live in
:mod:`mmlab.surface`, which imports this package (never the other way round).

Differences from py_vollib_vectorized (pinned in ``tests/test_pricing_vs_py_vollib.py``): its
vega is per 1 % and theta per day; its BSM rho is the Black-76 rho ``-t V`` (r and q bumped
together); its implied vol raises ``ZeroDivisionError`` at ``t = 0`` (ours: NaN,
``NONPOSITIVE_TIME``).
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
from mmlab.pricing._black_scholes import (
    bsm_greeks,
    bsm_greeks_kernel,
    bsm_greeks_python,
    bsm_price,
)
from mmlab.pricing._greeks import GREEK_NAMES, Greeks
from mmlab.pricing._implied_vol import ImpliedVolResult, IVCode, implied_vol
from mmlab.pricing._inputs import as_flags
from mmlab.pricing._time import NS_PER_YEAR, to_ns, year_fraction

__all__ = [
    "AMERICAN_METHODS",
    "GREEK_NAMES",
    "Greeks",
    "IVCode",
    "ImpliedVolResult",
    "NS_PER_YEAR",
    "american_greeks",
    "american_implied_vol",
    "american_price",
    "as_flags",
    "bachelier_greeks",
    "bachelier_price",
    "black76_greeks",
    "black76_price",
    "bsm_greeks",
    "bsm_greeks_kernel",
    "bsm_greeks_python",
    "bsm_price",
    "implied_vol",
    "to_ns",
    "year_fraction",
]

