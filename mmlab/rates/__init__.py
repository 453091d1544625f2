"""Interest-rate curves and instruments on QuantLib: Treasury and USD SOFR curves, swaps, swaptions.

=========================  =========================================================
Curves                     :func:`treasury_curve` (US Treasury par yields),
                           :func:`swap_curve` (USD deposits, SOFR futures, SOFR OIS),
                           :class:`Curve` (``discount``, ``zero_rate``,
                           ``forward_rate``, ``bumped``, ``to_frame``, ``plot``)
Conventions                :class:`Conventions` (SOFR curve and swaps),
                           :class:`TreasuryConventions`
Instruments                :class:`Swap` (NPV, par rate, annuity, DV01 analytic and
                           bump-and-reprice), :class:`Swaption` (Black and Bachelier)
Closed forms               :func:`par_bond_duration` (modified duration of a par bond),
                           :func:`sofr_to_continuous` (ACT/360 fixing -> continuous rate)
=========================  =========================================================

Times are Act/365F years from the curve date; rates are decimals. Every QuantLib call runs with
QuantLib's global evaluation date set to the curve date and restored afterwards; a built
:class:`Curve` is a fixed ``DiscountCurve`` on its nodes, independent of that global setting.
A curve whose first future is already in its IMM quarter (``Conventions(first_future=...)``)
resets QuantLib's global SOFR fixing history to the shipped fixings before its curve date.

Examples
--------
>>> from mmlab.rates import Swap, swap_curve
>>> curve = swap_curve("2023-10-19")
>>> round(Swap(curve, "7Y").par_rate, 10)   # a pillar swap reprices its quote
0.0457
"""

from __future__ import annotations

from mmlab.rates._conventions import Conventions, TreasuryConventions
from mmlab.rates._curve import Curve
from mmlab.rates._par_bond import par_bond_duration
from mmlab.rates._sofr import sofr_to_continuous
from mmlab.rates._swap import Swap
from mmlab.rates._swap_curve import swap_curve
from mmlab.rates._swaption import Swaption
from mmlab.rates._treasury import treasury_curve

__all__ = [
    "Conventions",
    "Curve",
    "Swap",
    "Swaption",
    "TreasuryConventions",
    "par_bond_duration",
    "sofr_to_continuous",
    "swap_curve",
    "treasury_curve",
]
