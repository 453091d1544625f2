"""The manager's settings (frozen, validated) and its time arguments."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from mmlab.errors import ConfigError
from mmlab.manager._products import check_universe
from mmlab.pricing import to_ns

__all__ = ["NS_PER_DAY", "ManagerConfig", "asof_ns", "instant_ns", "utc"]

NS_PER_DAY = 86_400_000_000_000


@dataclass(frozen=True, slots=True)
class ManagerConfig:
    """Settings of a :class:`MarketMakingProjectManager` (validated, immutable).

    Parameters
    ----------
    data_dir : str or Path, optional
        The catalog directory (default ``$MMLAB_DATA_DIR`` or ``data/catalog``).
    universe : tuple of str
        Product names from :data:`PRODUCTS`.
    venue : str
        ``'paper'``: the only venue the manager's trading cycle uses (live venues go through
        :mod:`mmlab.broker` and its live-trading gate).
    limits : mapping of str to RiskLimits, optional
        Risk limits per product for the trading cycle and the backtests' ``max_position``.
        A product without an entry gets ``RiskLimits(max_position=100 lots)``.
    rate : float, optional
        Flat continuously compounded rate for the option chains; default SOFR of the chain's
        date (0 for crypto).
    surface_model : str
        ``'svi'`` or ``'ssvi'`` (:func:`mmlab.surface.fit_surface`).
    max_age_days : float
        The newest data of a product must be at most this old at ``asof`` for the pricing cycle.
    vol_window : int
        Daily returns in the futures curve's realised vols.
    cycle_seconds : float
        Default length of a trading cycle (feed time).
    backtest_settings : mapping
        Default engine settings of :meth:`MarketMakingProjectManager.run_backtest`.

    Examples
    --------
    >>> ManagerConfig(universe=("SPX", "CL")).venue
    'paper'
    >>> ManagerConfig(universe=("SPX", "XYZ"))
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: universe: unknown product(s) ['XYZ']; known: [...]
    """

    data_dir: Any = None
    universe: tuple[str, ...] = ("SPX", "BTC", "BTCUSDT-PERP", "CL", "UST")
    venue: str = "paper"
    limits: Mapping[str, Any] = field(default_factory=dict)
    rate: float | None = None
    surface_model: str = "svi"
    max_age_days: float = 7.0
    vol_window: int = 60
    cycle_seconds: float = 60.0
    backtest_settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from mmlab.risk import RiskLimits

        object.__setattr__(self, "universe", check_universe(self.universe))
        if self.venue != "paper":
            raise ConfigError(
                f"venue: the manager trades on 'paper' only, got {self.venue!r} (live venues run "
                "through mmlab.broker behind the live-trading gate)")
        if not isinstance(self.limits, Mapping):
            raise ConfigError(f"limits: a mapping product -> RiskLimits, got {self.limits!r}")
        for k, v in self.limits.items():
            check_universe((k,), "limits")
            if not isinstance(v, RiskLimits):
                raise ConfigError(f"limits[{k!r}]: expected a RiskLimits, got {type(v).__name__}")
        object.__setattr__(self, "limits", MappingProxyType(dict(self.limits)))
        if self.rate is not None and not (math.isfinite(self.rate) and -0.2 < self.rate < 1.0):
            raise ConfigError(f"rate: a flat continuous rate in (-0.2, 1), got {self.rate!r}")
        if self.surface_model not in ("svi", "ssvi"):
            raise ConfigError(f"surface_model: 'svi' or 'ssvi', got {self.surface_model!r}")
        if not (math.isfinite(self.max_age_days) and self.max_age_days > 0):
            raise ConfigError(f"max_age_days: must be finite and > 0, got {self.max_age_days!r}")
        if int(self.vol_window) != self.vol_window or self.vol_window < 2:
            raise ConfigError(f"vol_window: an integer >= 2, got {self.vol_window!r}")
        if not (math.isfinite(self.cycle_seconds) and self.cycle_seconds > 0):
            raise ConfigError(f"cycle_seconds: must be finite and > 0, got {self.cycle_seconds!r}")
        if not isinstance(self.backtest_settings, Mapping):
            raise ConfigError("backtest_settings: must be a mapping of engine settings")
        object.__setattr__(self, "backtest_settings", MappingProxyType(dict(self.backtest_settings)))


def instant_ns(value, what: str) -> int:
    """An instant argument (int ns, date-like, string; naive = UTC) as int64 UTC ns."""
    if value is None:
        raise ConfigError(f"{what}: required")
    if isinstance(value, bool):
        raise ConfigError(f"{what}: not a time: {value!r}")
    try:
        return int(to_ns(value, what))
    except ConfigError:
        raise ConfigError(f"{what}: not a time: {value!r}") from None


def asof_ns(asof) -> int:
    """End of the day for a bare date (``'2023-09-14'`` sees that day's close), else the instant.

    Examples
    --------
    >>> utc(asof_ns("2023-09-14"))
    Timestamp('2023-09-14 23:59:59.999999999+0000', tz='UTC')
    """
    t = instant_ns(asof, "asof")
    bare = isinstance(asof, str) and len(asof.strip()) <= 10
    bare = bare or (not isinstance(asof, (str, int, np.integer, pd.Timestamp)) and hasattr(asof, "year")
                    and not hasattr(asof, "hour"))
    return t + NS_PER_DAY - 1 if bare else t


def utc(t_ns) -> pd.Timestamp:
    """An int ns instant as a UTC Timestamp."""
    return pd.Timestamp(int(t_ns), tz="UTC")
