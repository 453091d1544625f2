"""Option-chain analytics and volatility surfaces: parity forwards, implied vols, SVI/SSVI fits.

(public API assembled below; see each private module for the maths and its sources)
"""

from __future__ import annotations

from mmlab.surface._chain import ChainAnalytics, ChainFilter, analyze_chain, parity_forward
from mmlab.surface._arbitrage import butterfly_check, calendar_check, check_grid, repair_svi
from mmlab.surface._report import SurfaceReport, g_from_total_variance, surface_report
from mmlab.surface._ssvi import SSVIFit, ssvi_total_variance
from mmlab.surface._surface import VolSurface, fit_surface
from mmlab.surface._svi import (
    SVIParams,
    SVISlice,
    qe_inner,
    qe_inner_python,
    qe_nelder_mead,
    qe_nelder_mead_python,
    svi_density_g,
    svi_total_variance,
)

__all__ = sorted(
    [
        "ChainAnalytics",
        "ChainFilter",
        "SSVIFit",
        "SVIParams",
        "SurfaceReport",
        "VolSurface",
        "butterfly_check",
        "calendar_check",
        "check_grid",
        "fit_surface",
        "g_from_total_variance",
        "repair_svi",
        "ssvi_total_variance",
        "surface_report",
        "analyze_chain",
        "parity_forward",
        "SVISlice",
        "qe_inner",
        "qe_inner_python",
        "qe_nelder_mead",
        "qe_nelder_mead_python",
        "svi_density_g",
        "svi_total_variance",
    ]
)
