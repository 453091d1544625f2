"""Option-chain analytics and volatility surfaces: parity forwards, implied vols, SVI/SSVI fits.

(public API assembled below; see each private module for the maths and its sources)
"""

from __future__ import annotations

from mmlab.surface._chain import ChainAnalytics, ChainFilter, analyze_chain, parity_forward
from mmlab.surface._svi import (
    SVIParams,
    SVISlice,
    qe_inner,
    qe_inner_python,
    svi_density_g,
    svi_total_variance,
)

__all__ = sorted(
    [
        "ChainAnalytics",
        "ChainFilter",
        "SVIParams",
        "analyze_chain",
        "parity_forward",
        "SVISlice",
        "qe_inner",
        "qe_inner_python",
        "svi_density_g",
        "svi_total_variance",
    ]
)
