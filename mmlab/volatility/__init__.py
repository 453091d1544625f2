"""Volatility estimators: realised (close-to-close, Parkinson, Garman-Klass, tick), EWMA, GARCH(1,1),
and the Heston model calibrated to implied-vol slices (QuantLib, :class:`HestonCalibration`).

All volatilities are annualised decimals unless a name says ``variance``.
"""

from __future__ import annotations

from mmlab.volatility._ewma import EWMAVol, ewma_variance, ewma_variance_python
from mmlab.volatility._garch import GARCH11
from mmlab.volatility._heston import HESTON_PARAMS, HestonCalibration, heston_price_ql
from mmlab.volatility._realized import (
    close_to_close_vol,
    garman_klass_vol,
    log_returns,
    parkinson_vol,
    realized_variance,
    realized_vol,
)

__all__ = [
    "EWMAVol",
    "GARCH11",
    "HESTON_PARAMS",
    "HestonCalibration",
    "close_to_close_vol",
    "ewma_variance",
    "ewma_variance_python",
    "garman_klass_vol",
    "heston_price_ql",
    "log_returns",
    "parkinson_vol",
    "realized_variance",
    "realized_vol",
]
