"""Option-chain analytics and volatility surfaces.

=============================  ==============================================================
chain analytics                :func:`analyze_chain` -> :class:`ChainAnalytics` (parity
                               forwards, implied dividend/basis, Black-76 bid/mid/ask vols,
                               American quotes de-Americanised (:func:`eep_crr`),
                               Greeks per unit, per contract and in dollars, ATM, filters with
                               a reason per quote), :func:`parity_forward`, :class:`ChainFilter`
raw SVI                        :class:`SVIParams`, :class:`SVISlice` (quasi-explicit fit,
                               Zeliade 2009; compiled kernels :func:`qe_inner`,
                               :func:`qe_nelder_mead` with plain twins), :func:`svi_density_g`
SSVI                           :class:`SSVIFit` (Gatheral & Jacquier 2014, power-law or
                               Heston-like phi, no-arbitrage conditions by construction)
arbitrage                      :func:`butterfly_check`, :func:`calendar_check`,
                               :func:`repair_svi`, :func:`surface_report`
surface                        :func:`fit_surface` -> :class:`VolSurface` (``iv(K, T)``,
                               ``total_variance(k, T)``, ``report()``)
=============================  ==============================================================

Examples
--------
>>> from mmlab.data import load_option_chain
>>> from mmlab._paths import shipped
>>> surf = fit_surface(load_option_chain(shipped("options", "deribit_btc_2020-05-21.csv")))
>>> rep = surf.report()
>>> int((rep["status"] == "fitted").sum()), bool(rep["butterfly_ok"].all())
(6, True)
"""

from __future__ import annotations

from mmlab.surface._arbitrage import butterfly_check, calendar_check, check_grid, repair_svi
from mmlab.surface._chain import ChainAnalytics, ChainFilter, analyze_chain, parity_forward
from mmlab.surface._deamericanize import eep_crr, eep_crr_python
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

__all__ = [
    "ChainAnalytics",
    "ChainFilter",
    "SSVIFit",
    "SVIParams",
    "SVISlice",
    "SurfaceReport",
    "VolSurface",
    "analyze_chain",
    "butterfly_check",
    "calendar_check",
    "check_grid",
    "eep_crr",
    "eep_crr_python",
    "fit_surface",
    "g_from_total_variance",
    "parity_forward",
    "qe_inner",
    "qe_inner_python",
    "qe_nelder_mead",
    "qe_nelder_mead_python",
    "repair_svi",
    "ssvi_total_variance",
    "surface_report",
    "svi_density_g",
    "svi_total_variance",
]
