"""The project manager: one object that runs the desk's cycles on the catalog's data.

:class:`MarketMakingProjectManager` is a facade over the pieces of this package:

=========================  ======================================================================
``ensure_data_ready()``    the universe's shipped data sets converted into the catalog
                           (:func:`mmlab.data.ensure_data_ready`), their registry rows
``run_pricing_cycle()``    as of an instant, every product priced by its asset class's pricer
                           (:data:`PRICERS`): option chains (:class:`OptionChainPricer`), the
                           WTI futures curve and options on it (:class:`CommodityPricer`), the
                           Treasury and SOFR swap curves and fixings (:class:`RatesPricer`),
                           order books (:class:`OrderBookPricer`); a position book's Greeks in
                           dollars (:func:`mmlab.risk.aggregate_greeks`)
``run_trading_cycle()``    one paper quoting session on a recorded feed (:class:`mmlab.runtime.
                           PaperSession`: the trading core fed the feed); paper only
``run_backtest()``         the event-replay backtest (:func:`mmlab.backtest.run`) on the data set
                           the catalog holds for a product and a time window
=========================  ======================================================================

The universe is a list of product names from :data:`PRODUCTS`, read from ``products.toml``
(``SPX``, ``BTC``, ``BTCUSDT-PERP``, ``CL``, ``UST``...): each product says its asset class, its
kind (which picks its pricer), the shipped data sets that carry it and the instrument-master
entry that gives its tick, lot, multiplier and fees. :data:`BACKTEST_PRESETS` (``presets.toml``)
holds hand-set strategy parameters per order-book product. Both files are validated with pydantic
on import; :func:`load_products` and :func:`load_presets` read other files the same way.

The domain maths lives in its package: chain analytics and surfaces in :mod:`mmlab.surface`,
realised volatility in :mod:`mmlab.volatility`, futures curves in :mod:`mmlab.commodities`, curves,
par-bond durations and the SOFR conversion in :mod:`mmlab.rates`; each pricer's module notes say
which it uses and how.
"""

from __future__ import annotations

from mmlab.manager._commodity import CommodityPricer
from mmlab.manager._config import ManagerConfig
from mmlab.manager._cycle import PRICERS, PricingCycle
from mmlab.manager._equity_options import OptionChainPricer
from mmlab.manager._manager import MarketMakingProjectManager
from mmlab.manager._market import MarketData
from mmlab.manager._order_book import OrderBookPricer
from mmlab.manager._presets import BACKTEST_PRESETS, PRESETS_FILE, load_presets, preset_parameters
from mmlab.manager._pricer import Priced, Pricer
from mmlab.manager._products import (
    ASSET_CLASSES,
    KINDS,
    PRODUCTS,
    PRODUCTS_FILE,
    Product,
    dataset_product,
    load_products,
)
from mmlab.manager._rates import RatesPricer
from mmlab.manager._strategies import STRATEGY_NAMES, strategy_from_parameters

__all__ = [
    "ASSET_CLASSES",
    "BACKTEST_PRESETS",
    "CommodityPricer",
    "KINDS",
    "ManagerConfig",
    "MarketData",
    "MarketMakingProjectManager",
    "OptionChainPricer",
    "OrderBookPricer",
    "PRESETS_FILE",
    "PRICERS",
    "PRODUCTS",
    "PRODUCTS_FILE",
    "Priced",
    "Pricer",
    "PricingCycle",
    "Product",
    "RatesPricer",
    "STRATEGY_NAMES",
    "dataset_product",
    "load_presets",
    "load_products",
    "preset_parameters",
    "strategy_from_parameters",
]
