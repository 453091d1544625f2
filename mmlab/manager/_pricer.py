"""What a pricer gives the pricing cycle, and the base every asset-class pricer extends.

A pricer prices one product as of an instant (:meth:`Pricer.price` -> :class:`Priced`: its term
structure, the data set and time it used) and turns a position on it into per-unit Greeks and a
DV01 (:meth:`Pricer.position`), which :func:`mmlab.risk.aggregate_greeks` sums in dollars.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import pandas as pd

from mmlab.errors import ConfigError

__all__ = ["POSITION_COLUMNS", "Priced", "Pricer", "position_row"]

#: Columns of one priced position (per-unit Greeks; ``dv01`` in USD per basis point in total).
POSITION_COLUMNS = ["underlying", "qty", "multiplier", "underlying_px", "delta", "gamma", "vega",
                    "theta", "dv01"]


@dataclass
class Priced:
    """One product priced as of an instant.

    Attributes
    ----------
    curve : pandas.DataFrame
        Its term structure (columns depend on the pricer; see :class:`PricingCycle`).
    dataset : str
        The data set(s) used (comma-separated when several).
    data_time : pandas.Timestamp
        The time of the data used (quote time, settle, fixing date...).
    rate : float
        The rate used (options: the chain's flat rate; fixings: the fixing), NaN otherwise.
    rows : int
        Rows priced.
    chain, surface, yield_curve, futures_curve : optional
        ``ChainAnalytics`` and ``VolSurface`` of option chains; ``mmlab.rates.Curve`` of rate
        curves; ``mmlab.commodities.FuturesCurve`` of futures curves.
    """

    curve: pd.DataFrame
    dataset: str
    data_time: pd.Timestamp
    rate: float = math.nan
    rows: int = 0
    chain: Any = None
    surface: Any = None
    yield_curve: Any = None
    futures_curve: Any = None


def position_row(symbol: str, qty: float, *, multiplier: float = 1.0, px: float = 1.0,
                 delta: float = 0.0, gamma: float = 0.0, vega: float = 0.0, theta: float = 0.0,
                 dv01: float = 0.0) -> dict:
    """One row of :data:`POSITION_COLUMNS`."""
    return dict(zip(POSITION_COLUMNS, (symbol, float(qty), float(multiplier), float(px),
                                       float(delta), float(gamma), float(vega), float(theta),
                                       float(dv01)), strict=True))


class Pricer(ABC):
    """Abstract base of the asset-class pricers (equity options, commodities, rates, order
    books): :attr:`kinds` are the product kinds a pricer prices."""

    kinds: tuple[str, ...] = ()

    @abstractmethod
    def price(self, market, product, asof_ns: int) -> Priced:
        """Price ``product`` as of ``asof_ns`` on ``market`` (:class:`MarketData`)."""

    def position(self, market, product, priced: Priced, pos: pd.Series, row: int) -> dict:
        """Per-unit Greeks of the position ``pos`` (row ``row`` of the book) on ``product``."""
        raise ConfigError(f"positions: row {row}: {product.symbol!r} ({product.kind}) holds no position")

    @staticmethod
    def _field(pos: pd.Series, name: str, row: int, what: str):
        v = pos.get(name)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            raise ConfigError(f"positions: row {row}: needs '{name}' ({what})")
        return v
