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
=========================  =========================================================
"""

from __future__ import annotations

from mmlab.rates._conventions import Conventions, TreasuryConventions
from mmlab.rates._curve import Curve
from mmlab.rates._swap import Swap
from mmlab.rates._swap_curve import swap_curve
from mmlab.rates._swaption import Swaption
from mmlab.rates._treasury import treasury_curve

__all__ = sorted(
    [
        "Conventions",
        "Curve",
        "Swap",
        "Swaption",
        "TreasuryConventions",
        "swap_curve",
        "treasury_curve",
    ]
)
