"""The project manager: one object that runs the desk's cycles on the catalog's data.

:class:`MarketMakingProjectManager` ties the pipeline together across asset classes:

=========================  ======================================================================
``ensure_data_ready()``    the universe's shipped data sets converted into the catalog
                           (:func:`mmlab.data.ensure_data_ready`), their registry rows
``run_pricing_cycle()``    as of an instant: option chains analysed (parity forwards, Black-76
                           vols and Greeks, :func:`mmlab.surface.analyze_chain`) and their
                           surfaces fitted (:func:`mmlab.pricing.fit_surface`); the WTI futures
                           curve with realised vols; the Treasury and SOFR swap curves with
                           DV01s; a position book's Greeks in dollars
                           (:func:`mmlab.risk.aggregate_greeks`)
``run_trading_cycle()``    one paper quoting session on a recorded feed (:class:`mmlab.runtime.
                           PaperSession`: order manager, risk ladder, paper venue); paper only
``run_backtest()``         the event-replay backtest (:func:`mmlab.backtest.run`) on the data set
                           the catalog holds for a product and a time window
=========================  ======================================================================

The universe is a list of product names from :data:`PRODUCTS` (``SPX``, ``BTC``,
``BTCUSDT-PERP``, ``CL``, ``UST``...). Each product says its asset class, the shipped data sets
that carry it and the instrument-master entry that gives its tick, lot, multiplier and fees.

Notes
-----
Rates for option chains: a flat continuously compounded rate; by default the SOFR fixing of the
chain's date converted from ACT/360 simple, ``r = 365 ln(1 + s / 360)``; 0 for Deribit (its
options are marked undiscounted on the future). The WTI curve is :func:`mmlab.commodities.
futures_curve` (roll ranks mapped to contract months) with each month's realised volatility
(:func:`mmlab.commodities.contract_history`, log-returns of the same contract, annualised with
252 days; a non-positive settle's return is left out); a futures position's Greek is its delta,
one contract of 1,000 barrels on its settle. Treasury par yields give the bootstrapped curve
(:func:`mmlab.rates.treasury_curve`: zero rates, discount factors) and each tenor's par-bond
modified duration ``D = (1 - (1 + y/2)^(-2n)) / y`` (semi-annual coupon equal to the yield,
priced at par; the bills are treated the same way), a DV01 of ``D x 1e-4`` per unit of notional.
The USD SOFR swap curve (:func:`mmlab.rates.swap_curve`) gives par swap rates and each tenor's
DV01 per unit notional of a payer swap (:meth:`mmlab.rates.Swap.dv01`, annuity method).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from mmlab.errors import ConfigError, DataError

__all__ = sorted(
    [
        "BACKTEST_PRESETS",
        "PRODUCTS",
        "ManagerConfig",
        "MarketMakingProjectManager",
        "PricingCycle",
        "Product",
        "dataset_product",
        "par_bond_duration",
        "preset_parameters",
        "strategy_from_parameters",
    ]
)

_NS_PER_DAY = 86_400_000_000_000
ASSET_CLASSES = ("commodity", "crypto", "equity", "rates")
_KINDS = ("options", "events", "futures_curve", "par_curve", "swap_curve", "fixings")


@dataclass(frozen=True, slots=True)
class Product:
    """A tradable product of the universe and the shipped data sets that carry it.

    Parameters
    ----------
    symbol : str
        Universe name (``'SPX'``, ``'BTCUSDT-PERP'``...).
    asset_class : str
        One of ``'equity'``, ``'crypto'``, ``'commodity'``, ``'rates'``.
    kind : str
        What its data is: ``'options'`` (chains), ``'events'`` (order book + trades),
        ``'futures_curve'``, ``'par_curve'``, ``'swap_curve'`` or ``'fixings'``.
    datasets : tuple of str
        Catalog names (:data:`mmlab.data.SHIPPED_SOURCES`).
    instrument : str
        Instrument-master key (tick, lot, multiplier, fees).
    """

    symbol: str
    asset_class: str
    kind: str
    datasets: tuple[str, ...]
    instrument: str = ""

    def __post_init__(self) -> None:
        if self.asset_class not in ASSET_CLASSES:
            raise ConfigError(f"asset_class: one of {ASSET_CLASSES}, got {self.asset_class!r}")
        if self.kind not in _KINDS:
            raise ConfigError(f"kind: one of {_KINDS}, got {self.kind!r}")
        if not self.datasets:
            raise ConfigError(f"datasets: product {self.symbol!r} needs at least one data set")


def _p(symbol, asset_class, kind, datasets, instrument=""):
    return symbol, Product(symbol, asset_class, kind, tuple(datasets), instrument)


#: The products the shipped data covers, by universe name.
PRODUCTS: Mapping[str, Product] = MappingProxyType(dict([
    _p("SPX", "equity", "options", ["cboe-spx-20220204", "cboe-spx-20230914"], "CBOE:SPX"),
    _p("SPY", "equity", "options", ["cboe-spy-20230914"], "CBOE:SPY"),
    _p("NDX", "equity", "options", ["cboe-ndx-20220204"], "NASDAQ:NDX"),
    _p("AAPL", "equity", "events", ["lobster-aapl-20120621-l10"], "NASDAQ:AAPL"),
    _p("AMZN", "equity", "events", ["lobster-amzn-20120621-l1"], "NASDAQ:AMZN"),
    _p("BTC", "crypto", "options", ["deribit-btc-20200521"], "DERIBIT:BTC"),
    _p("BTCUSDT", "crypto", "events", ["binance-spot-btcusdt-20240808"], "BINANCE:BTCUSDT"),
    _p("BTCUSDT-PERP", "crypto", "events", ["binance-usdm-btcusdt-20240808"],
       "BINANCE_USDM:BTCUSDT"),
    _p("ETHUSDT-PERP", "crypto", "events", ["binance-usdm-ethusdt-20240808"],
       "BINANCE_USDM:ETHUSDT"),
    _p("CL", "commodity", "futures_curve", ["wti-cl01-cl36-2007-2023"], "NYMEX:CL"),
    _p("UST", "rates", "par_curve",
       ["ust-par-yields-1990-2023", "ust-par-yields-2024", "ust-par-yields-2025"]),
    _p("SOFR", "rates", "fixings", ["sofr-2018-2025"]),
    _p("USD-SOFR-SWAP", "rates", "swap_curve", ["usd-swap-quotes-20231019"]),
]))  # fmt: skip

_SOFR = "sofr-2018-2025"


def _check_universe(universe, what: str = "universe") -> tuple[str, ...]:
    if isinstance(universe, str):
        universe = (universe,)
    try:
        names = tuple(universe)
    except TypeError:
        raise ConfigError(f"{what}: expected product names, got {universe!r}") from None
    if not names:
        raise ConfigError(f"{what}: empty")
    bad = [n for n in names if n not in PRODUCTS]
    if bad:
        raise ConfigError(f"{what}: unknown product(s) {bad}; known: {sorted(PRODUCTS)}")
    return tuple(dict.fromkeys(names))


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

        object.__setattr__(self, "universe", _check_universe(self.universe))
        if self.venue != "paper":
            raise ConfigError(
                f"venue: the manager trades on 'paper' only, got {self.venue!r} (live venues run "
                "through mmlab.broker behind the live-trading gate)")
        if not isinstance(self.limits, Mapping):
            raise ConfigError(f"limits: a mapping product -> RiskLimits, got {self.limits!r}")
        for k, v in self.limits.items():
            _check_universe((k,), "limits")
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


# ------------------------------------------------------------------------------------------------
# strategies from plain parameters (the CLI's names)

# the engine's names, plus the long aliases the results use in ``params['strategy']``
_ALIASES = {"avellaneda_stoikov": "as", "avellaneda_stoikov_infinite": "as-inf"}


def strategy_from_parameters(parameters: Mapping[str, Any]) -> tuple[Any, dict]:
    """``(strategy, settings)`` from a plain mapping (a notebook parameter, a JSON file).

    ``parameters['strategy']`` is a name (``grid``, ``as``, ``as-inf``, ``glft``, ``adaptive``, as in
    ``mmlab backtest -s``) or a ready strategy/config object; ``parameters['settings']``
    (optional) holds engine settings; every other key is a parameter of the strategy.

    Examples
    --------
    >>> s, st = strategy_from_parameters({"strategy": "grid", "half_spread": 0.5,
    ...                                   "order_qty": 1.0, "settings": {"max_position": 3}})
    >>> type(s).__name__, s.half_spread, st
    ('GridStrategy', 0.5, {'max_position': 3})
    >>> strategy_from_parameters({"strategy": "magic"})
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: parameters['strategy']: one of ['adaptive', 'as', ...], got 'magic'
    """
    from mmlab.backtest._strategies import STRATEGY_CLASSES, strategy_class

    if not isinstance(parameters, Mapping):
        raise ConfigError(f"parameters: expected a mapping, got {type(parameters).__name__}")
    params = dict(parameters)
    if "strategy" not in params:
        raise ConfigError("parameters: needs a 'strategy' (a name or a strategy object)")
    name = params.pop("strategy")
    settings = params.pop("settings", None) or {}
    if not isinstance(settings, Mapping):
        raise ConfigError("parameters['settings']: must be a mapping of engine settings")
    if not isinstance(name, str):
        if params:
            raise ConfigError(f"parameters: {sorted(params)} given beside a strategy object")
        return name, dict(settings)
    names = sorted([*STRATEGY_CLASSES, *_ALIASES])
    if name not in names:
        raise ConfigError(f"parameters['strategy']: one of {names}, got {name!r}")
    try:
        return strategy_class(_ALIASES.get(name, name))(**params), dict(settings)
    except TypeError as exc:
        raise ConfigError(f"parameters for strategy {name!r}: {exc}") from None


_MS = 1_000_000
_BINANCE = {"entry_latency": 10 * _MS, "response_latency": 10 * _MS}
_NASDAQ = {"entry_latency": _MS, "response_latency": _MS}

#: Hand-set strategy parameters for the shipped order-book data (``preset_parameters``): small
#: order sizes, half-spreads of a few ticks to a few basis points, ``sigma`` near the data's
#: realised volatility (price units per square-root second), ``max_position`` 10 orders (crypto)
#: or 3 orders (Nasdaq).
BACKTEST_PRESETS: Mapping[str, Mapping[str, Mapping[str, Any]]] = MappingProxyType({
    "BTCUSDT-PERP": {
        "grid": {"half_spread": 5.0, "order_qty": 0.01, "skew": 50.0},
        "as": {"gamma": 0.001, "sigma": 8.0, "k": 0.3, "order_size": 0.01, "max_inventory": 0.1},
        "as-inf": {"gamma": 1.0, "sigma": 8.0, "k": 0.1, "order_size": 0.01, "max_inventory": 0.1},
        "glft": {"gamma": 10.0, "sigma": 8.0, "A": 1.0, "k": 0.3, "order_size": 0.01,
                 "max_inventory": 0.1},
        "adaptive": {"base_spread": 10.0, "vol_ref": 8.0, "maker_fee": 0.0002,
                     "inventory_skew": 1.0, "order_size": 0.01, "max_inventory": 0.1},
        "settings": {**_BINANCE, "max_position": 0.1},
    },
    "BTCUSDT": {
        "grid": {"half_spread": 5.0, "order_qty": 0.01, "skew": 50.0},
        "as": {"gamma": 0.001, "sigma": 8.0, "k": 0.3, "order_size": 0.01, "max_inventory": 0.1},
        "glft": {"gamma": 10.0, "sigma": 8.0, "A": 1.0, "k": 0.3, "order_size": 0.01,
                 "max_inventory": 0.1},
        # the spot VIP-0 maker fee (10 bp) floors each side at about 60 USD from the mid
        "adaptive": {"base_spread": 10.0, "vol_ref": 8.0, "maker_fee": 0.001,
                     "inventory_skew": 1.0, "order_size": 0.01, "max_inventory": 0.1},
        "settings": {**_BINANCE, "max_position": 0.1},
    },
    "ETHUSDT-PERP": {
        "grid": {"half_spread": 0.25, "order_qty": 0.2, "skew": 0.1},
        "as": {"gamma": 0.01, "sigma": 0.4, "k": 6.0, "order_size": 0.2, "max_inventory": 2.0},
        "as-inf": {"gamma": 0.5, "sigma": 0.4, "k": 2.0, "order_size": 0.2, "max_inventory": 2.0},
        "glft": {"gamma": 1.0, "sigma": 0.4, "A": 1.0, "k": 6.0, "order_size": 0.2,
                 "max_inventory": 2.0},
        "adaptive": {"base_spread": 0.5, "vol_ref": 0.4, "maker_fee": 0.0002,
                     "inventory_skew": 1.0, "order_size": 0.2, "max_inventory": 2.0},
        "settings": {**_BINANCE, "max_position": 2.0},
    },
    "AAPL": {
        "grid": {"half_spread": 0.02, "order_qty": 100.0, "skew": 0.0002},
        "as": {"gamma": 0.001, "sigma": 0.06, "k": 50.0, "order_size": 100.0,
               "max_inventory": 300.0},
        "glft": {"gamma": 0.001, "sigma": 0.06, "A": 1.0, "k": 50.0, "order_size": 100.0,
                 "max_inventory": 300.0},
        "adaptive": {"base_spread": 0.04, "vol_ref": 0.06, "inventory_skew": 1.0,
                     "order_size": 100.0, "max_inventory": 300.0},
        "settings": {**_NASDAQ, "max_position": 300.0},
    },
    "AMZN": {
        "grid": {"half_spread": 0.03, "order_qty": 100.0, "skew": 0.0002},
        "as": {"gamma": 0.0001, "sigma": 0.03, "k": 30.0, "order_size": 100.0,
               "max_inventory": 300.0},
        "glft": {"gamma": 0.001, "sigma": 0.03, "A": 1.0, "k": 30.0, "order_size": 100.0,
                 "max_inventory": 300.0},
        "adaptive": {"base_spread": 0.06, "vol_ref": 0.03, "inventory_skew": 1.0,
                     "order_size": 100.0, "max_inventory": 300.0},
        "settings": {**_NASDAQ, "max_position": 300.0},
    },
})


def preset_parameters(symbol: str, strategy: str) -> dict:
    """The hand-set parameters of ``strategy`` on ``symbol``'s shipped data (a fresh dict).

    Examples
    --------
    >>> p = preset_parameters("BTCUSDT-PERP", "grid")
    >>> p["strategy"], p["half_spread"], p["settings"]["max_position"]
    ('grid', 5.0, 0.1)
    """
    if symbol not in BACKTEST_PRESETS:
        raise ConfigError(f"symbol: no presets for {symbol!r}; presets: {sorted(BACKTEST_PRESETS)}")
    pre = BACKTEST_PRESETS[symbol]
    if strategy not in pre or strategy == "settings":
        names = sorted(k for k in pre if k != "settings")
        raise ConfigError(f"strategy: no preset {strategy!r} for {symbol} (presets: {names})")
    return {"strategy": strategy, **pre[strategy], "settings": dict(pre["settings"])}


def dataset_product(name: str) -> str | None:
    """The product of a shipped data set name (``None`` if no product carries it).

    Examples
    --------
    >>> dataset_product("lobster-aapl-20120621-l10")
    'AAPL'
    """
    for s, p in PRODUCTS.items():
        if name in p.datasets:
            return s
    return None


class _FixedSpreadQuoter:
    """The backtest's one-level grid (``mid -/+ half_spread - skew q``) for the paper session."""

    def __init__(self, grid):
        if grid.levels != 1:
            raise ConfigError("strategy: the paper session quotes one level a side (levels=1)")
        self.grid = grid

    def quote(self, state):
        from mmlab.quoting import Quote

        g = self.grid
        c = state.mid - g.skew * state.inventory
        return Quote(c - g.half_spread, c + g.half_spread, g.order_qty, g.order_qty)


def _session_strategy(strategy):
    """A ``quote(MarketState)`` object from a strategy, a config or a backtest grid."""
    from mmlab import quoting as Q
    from mmlab.backtest import GridStrategy

    if isinstance(strategy, Mapping):
        strategy, _ = strategy_from_parameters(strategy)
    if isinstance(strategy, GridStrategy):
        return _FixedSpreadQuoter(strategy)
    wrap = {Q.AvellanedaStoikovConfig: Q.AvellanedaStoikovStrategy,
            Q.AvellanedaStoikovInfiniteConfig: Q.AvellanedaStoikovInfiniteStrategy,
            Q.GLFTConfig: Q.GLFTStrategy, Q.AdaptiveSpreadConfig: Q.AdaptiveSpreadStrategy}
    for cfg_type, strat_type in wrap.items():
        if isinstance(strategy, cfg_type):
            return strat_type(strategy)
    if hasattr(strategy, "quote"):
        return strategy
    raise ConfigError(f"strategy: needs a quote(MarketState) method or a known config, got "
                      f"{type(strategy).__name__}")


# ------------------------------------------------------------------------------------------------
# time helpers


def _ns(value, what: str) -> int:
    if value is None:
        raise ConfigError(f"{what}: required")
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ConfigError(f"{what}: not a time: {value!r}") from None
    if ts is pd.NaT:
        raise ConfigError(f"{what}: not a time: {value!r}")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.value)


def _asof_ns(asof) -> int:
    """End of the day for a bare date (``'2023-09-14'`` sees that day's close), else the instant."""
    t = _ns(asof, "asof")
    bare = isinstance(asof, str) and len(asof.strip()) <= 10
    bare = bare or (not isinstance(asof, (str, int, np.integer, pd.Timestamp)) and hasattr(asof, "year")
                    and not hasattr(asof, "hour"))
    return t + _NS_PER_DAY - 1 if bare else t


def _utc(t_ns) -> pd.Timestamp:
    return pd.Timestamp(int(t_ns), tz="UTC")


# ------------------------------------------------------------------------------------------------
# the pricing cycle's result


@dataclass
class PricingCycle:
    """What :meth:`MarketMakingProjectManager.run_pricing_cycle` produced.

    Attributes
    ----------
    asof : pandas.Timestamp
    products : pandas.DataFrame
        One row per product: asset class, data set used, its time, rate, rows priced.
    chains : dict
        ``symbol -> ChainAnalytics`` of the option products.
    surfaces : dict
        ``symbol -> VolSurface``.
    curves : dict
        ``symbol -> DataFrame``: every product's term structure (options: per expiry forward,
        market and fitted ATM vol; futures: per contract settle, expiry, realised vol; par
        curve: per tenor par yield, zero rate, duration and DV01; swap curve: per tenor par
        rate, annuity and DV01; fixings: the fixing used; order books: best bid/ask and mid at
        ``asof``).
    greeks : pandas.DataFrame
        Dollar Greeks of the position book per underlying plus ``TOTAL``
        (:func:`mmlab.risk.aggregate_greeks`) and ``dv01`` (USD per basis point).
    positions : pandas.DataFrame
        The book with the per-unit Greeks and prices it was aggregated from.
    yield_curves : dict
        ``symbol -> mmlab.rates.Curve`` of the rate products (Treasury, SOFR swap curve).
    """

    asof: pd.Timestamp
    products: pd.DataFrame
    chains: dict
    surfaces: dict
    curves: dict
    greeks: pd.DataFrame
    positions: pd.DataFrame
    yield_curves: dict = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """The per-product table."""
        return self.products

    def to_frame(self) -> pd.DataFrame:
        """Every product's term structure in one long table (``symbol`` first)."""
        frames = [c.assign(symbol=s) for s, c in self.curves.items()]
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        return df[["symbol", *[c for c in df.columns if c != "symbol"]]] if len(df) else df

    def plot(self):
        """ATM vol term structure of the option products (HoloViews, Bokeh backend)."""
        import holoviews as hv
        import hvplot.pandas  # noqa: F401  (loads the Bokeh plotting extension)

        curves = []
        for s, c in self.curves.items():
            if "atm_vol_fit" in c:
                d = c.dropna(subset=["atm_vol_fit"])
                curves.append(hv.Curve((d["T"], d["atm_vol_fit"]), "T (years)", "ATM vol", label=s))
        if not curves:
            raise ConfigError("plot: no option product in this cycle")
        return hv.Overlay(curves).opts(title=f"ATM vol term structure as of {self.asof}")


def par_bond_duration(par_yield, years):
    """Modified duration of a par bond (semi-annual coupon = yield): ``(1 - (1 + y/2)^(-2n)) / y``.

    Examples
    --------
    >>> round(float(par_bond_duration(0.04, 10.0)), 4)   # 10-year 4 % par bond
    8.1758
    >>> float(par_bond_duration(0.0, 2.0))               # zero yield: the maturity
    2.0
    """
    y = np.asarray(par_yield, dtype=float)
    n = np.asarray(years, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = (1.0 - (1.0 + y / 2.0) ** (-2.0 * n)) / y
    out = np.where(np.abs(y) < 1e-12, n, d)
    return out[()] if out.ndim == 0 else out


# ------------------------------------------------------------------------------------------------
# the manager


class MarketMakingProjectManager:
    """Run the desk's data, pricing, trading and backtest cycles over a universe of products.

    Parameters
    ----------
    config : ManagerConfig, optional
        Default ``ManagerConfig()``; keyword arguments build one instead
        (``MarketMakingProjectManager(universe=("SPX",))``).

    Examples
    --------
    >>> import tempfile
    >>> mgr = MarketMakingProjectManager(universe=("BTC",), data_dir=tempfile.mkdtemp())
    >>> list(mgr.ensure_data_ready()["name"])
    ['deribit-btc-20200521']
    >>> cyc = mgr.run_pricing_cycle("2020-05-21")
    >>> round(float(cyc.curves["BTC"]["forward"].iloc[-1]), 2)   # Deribit's 25 Sep 2020 future
    9262.01
    """

    def __init__(self, config: ManagerConfig | None = None, **kwargs):
        if config is not None and kwargs:
            raise ConfigError("pass either a ManagerConfig or keyword settings, not both")
        if config is None:
            config = ManagerConfig(**kwargs)
        if not isinstance(config, ManagerConfig):
            raise ConfigError(f"config: expected a ManagerConfig, got {type(config).__name__}")
        self.config = config
        self._catalog = None

    def __repr__(self) -> str:
        return f"MarketMakingProjectManager(universe={self.config.universe}, venue='paper')"

    # -------------------------------------------------------------------------- data
    @property
    def catalog(self):
        """The :class:`mmlab.data.Catalog` under ``config.data_dir``."""
        if self._catalog is None:
            from mmlab.data import Catalog

            self._catalog = Catalog(self.config.data_dir)
        return self._catalog

    def _universe(self, universe) -> tuple[str, ...]:
        return self.config.universe if universe is None else _check_universe(universe)

    def ensure_data_ready(self, universe=None) -> pd.DataFrame:
        """Convert the universe's shipped data sets into the catalog (once); their registry rows.

        Adds the SOFR fixings when a USD option chain needs its rate from them.
        """
        from mmlab.data import ensure_data_ready

        names = [d for s in self._universe(universe) for d in PRODUCTS[s].datasets]
        if self.config.rate is None and any(
                PRODUCTS[s].kind == "options" and PRODUCTS[s].asset_class == "equity"
                for s in self._universe(universe)):
            names.append(_SOFR)
        names = list(dict.fromkeys(names))
        ensure_data_ready(names, catalog=self.catalog)
        df = self.catalog.list()
        return df[df["name"].isin(names)].reset_index(drop=True)

    def datasets(self, universe=None, start=None, end=None) -> pd.DataFrame:
        """Registered data sets of the universe overlapping ``[start, end)``, with ``symbol``.

        The catalog's recorded time range of each data set decides (converted first if needed).
        """
        uni = self._universe(universe)
        reg = self.ensure_data_ready(uni).set_index("name")
        lo = None if start is None else _ns(start, "start")
        hi = None if end is None else _ns(end, "end")
        rows = []
        for s in uni:
            p = PRODUCTS[s]
            for d in p.datasets:
                e = reg.loc[d]
                t0, t1 = int(e["t_start"].value), int(e["t_end"].value)
                if (lo is None or t1 >= lo) and (hi is None or t0 < hi):
                    rows.append({"symbol": s, "asset_class": p.asset_class, "kind": p.kind,
                                 "name": d, "rows": int(e["rows"]), "t_start": e["t_start"],
                                 "t_end": e["t_end"]})
        return pd.DataFrame(rows, columns=["symbol", "asset_class", "kind", "name", "rows",
                                           "t_start", "t_end"])

    def limits_for(self, symbol: str):
        """Risk limits of ``symbol``: ``config.limits`` or a hard limit of 100 lots."""
        from mmlab.data import get_instrument
        from mmlab.risk import RiskLimits

        _check_universe((symbol,), "symbol")
        if symbol in self.config.limits:
            return self.config.limits[symbol]
        p = PRODUCTS[symbol]
        lot = float(get_instrument(p.instrument).lot_size) if p.instrument else 1.0
        return RiskLimits(max_position=100.0 * lot)

    def _latest(self, symbol: str, asof_ns: int) -> pd.Series:
        """The newest data set of ``symbol`` with data at or before ``asof`` (within max age)."""
        ds = self.datasets((symbol,))
        ds = ds[ds["t_start"].map(lambda t: t.value) <= asof_ns]
        if ds.empty:
            raise DataError(f"{symbol}: no data at or before {_utc(asof_ns)} "
                            f"(data sets {list(PRODUCTS[symbol].datasets)})")
        return ds.sort_values("t_start").iloc[-1]

    def _stale(self, symbol: str, data_ns: int, asof_ns: int, name: str) -> None:
        age = (asof_ns - data_ns) / _NS_PER_DAY
        if age > self.config.max_age_days:
            raise DataError(f"{symbol}: newest data {_utc(data_ns)} ({name}) is {age:.1f} days "
                            f"before asof, beyond max_age_days={self.config.max_age_days:g}")

    # -------------------------------------------------------------------------- pricing
    def chain_rate(self, symbol: str, quote_time) -> float:
        """The flat continuous rate for ``symbol``'s chain quoted at ``quote_time`` (module notes)."""
        if self.config.rate is not None:
            return float(self.config.rate)
        if PRODUCTS[symbol].asset_class == "crypto":
            return 0.0
        from mmlab.data import ensure_data_ready

        ensure_data_ready([_SOFR], catalog=self.catalog)
        s = self.catalog.load(_SOFR)["sofr"]
        day = pd.Timestamp(quote_time).tz_convert("UTC").tz_localize(None).normalize()
        s = s[pd.DatetimeIndex(s.index) <= day]
        if s.empty:
            raise DataError(f"{symbol}: no SOFR fixing on or before {day.date()} for its rate")
        return 365.0 * math.log1p(float(s.iloc[-1]) / 360.0)

    def _price_options(self, symbol, name, asof_ns):
        from mmlab.pricing import fit_surface
        from mmlab.surface import analyze_chain

        chain = self.catalog.load(name)
        qt = pd.Timestamp(pd.to_datetime(chain["ts"], utc=True).max())
        rate = self.chain_rate(symbol, qt)
        an = analyze_chain(chain, discount=rate)
        surf = fit_surface(an, model=self.config.surface_model)
        ex = an.expiries
        rep = surf.report().set_index(["root", "expiry"])
        live = (ex["t"] > 0) & np.isfinite(ex["forward"])
        curve = ex.loc[live, ["root", "expiry", "t", "forward", "forward_method", "atm_iv"]]
        curve = curve.rename(columns={"t": "T", "atm_iv": "atm_vol_market"}).reset_index(drop=True)
        curve["atm_vol_fit"] = np.asarray(surf.iv_k(np.zeros(len(curve)), curve["T"].to_numpy()),
                                          dtype=float)
        st = [rep["status"].get((r, e), "not_fitted") for r, e in zip(curve["root"], curve["expiry"])]
        curve["status"] = st
        return an, surf, curve, qt, rate

    def _price_futures(self, symbol, name, asof_ns):
        from mmlab.commodities import contract_history, futures_curve

        wide = self.catalog.load(name)
        idx = pd.DatetimeIndex(wide.index)
        idx = idx.tz_localize("UTC") if idx.tz is None else idx
        upto = wide[idx.asi8 <= asof_ns]
        if upto.empty:
            raise DataError(f"{symbol}: no settle on or before {_utc(asof_ns)} in {name}")
        fc = futures_curve(upto.index[-1], settles=wide)
        t = fc.to_frame()
        rows = []
        for code, r in t.iterrows():
            # realised vol of this contract month (not of the rank, which rolls)
            h = contract_history(code, settles=upto).iloc[-(self.config.vol_window + 1):]
            p = h.to_numpy(dtype=float)
            with np.errstate(invalid="ignore", divide="ignore"):
                lr = np.diff(np.log(np.where(p > 0, p, np.nan)))
            lr = lr[np.isfinite(lr)]
            vol = float(np.std(lr, ddof=1) * math.sqrt(252.0)) if lr.size >= 2 else np.nan
            rows.append({"contract": r["symbol"], "code": code,
                         "delivery": f"{int(r['year'])}-{int(r['month']):02d}",
                         "expiry": r["expiry"], "T": float(r["t"]), "forward": float(r["settle"]),
                         "realised_vol": vol, "n_returns": int(lr.size)})
        return pd.DataFrame(rows), fc.valuation

    def _price_par_curve(self, symbol, names, asof_ns):
        from mmlab.data import TREASURY_TENORS
        from mmlab.rates import treasury_curve

        frames = [self.catalog.load(n) for n in names]
        wide = pd.concat(frames).sort_index()
        idx = pd.DatetimeIndex(wide.index)
        idx = idx.tz_localize("UTC") if idx.tz is None else idx
        upto = wide[idx.asi8 <= asof_ns]
        if upto.empty:
            raise DataError(f"{symbol}: no par yields on or before {_utc(asof_ns)}")
        day = pd.Timestamp(upto.index[-1])
        row = upto.iloc[-1].dropna()
        label_years = {lab: yrs for lab, yrs in TREASURY_TENORS.values()}
        years = np.array([float(label_years[t]) for t in row.index])
        y = row.to_numpy(dtype=float)
        dur = par_bond_duration(y, years)
        curve = treasury_curve(day, yields=row)
        tt = np.minimum(curve.times([day + pd.DateOffset(months=round(12 * x)) for x in years]),
                        curve.times(curve.max_date))
        out = pd.DataFrame({"tenor": row.index, "tenor_years": years, "par_yield": y,
                            "zero_rate": np.asarray(curve.zero_rate(tt, "semiannual"), dtype=float),
                            "discount": np.asarray(curve.discount(tt), dtype=float),
                            "modified_duration": dur, "dv01_per_unit": dur * 1e-4})
        return out, (day.tz_localize("UTC") if day.tzinfo is None else day), curve

    def _price_book(self, symbol, name, asof_ns):
        from mmlab.book import replay
        from mmlab.data import get_instrument

        events = self.catalog.load(name, end=asof_ns + 1)
        if len(events) == 0:
            raise DataError(f"{symbol}: no events at or before {_utc(asof_ns)} in {name}")
        tick = float(get_instrument(PRODUCTS[symbol].instrument).tick_size)
        book = replay(events, tick_size=tick, check_crossed=False)
        bid, ask = float(book.best_bid), float(book.best_ask)
        if not (math.isfinite(bid) and math.isfinite(ask)):
            raise DataError(f"{symbol}: one-sided book at {_utc(asof_ns)} in {name}")
        t_last = _utc(int(events["exch_ts"].max()))
        return pd.DataFrame({"time": [t_last], "best_bid": [bid], "best_ask": [ask],
                             "forward": [0.5 * (bid + ask)], "spread": [ask - bid]}), t_last

    _SWAP_TENORS = ("1Y", "2Y", "3Y", "5Y", "7Y", "10Y", "15Y", "20Y", "30Y")

    def _price_swap_curve(self, symbol, name, asof_ns):
        from mmlab.rates import Swap, swap_curve

        q = self.catalog.load(name)
        day = pd.Timestamp(q["as_of"].iloc[0])
        day = day.tz_localize("UTC") if day.tzinfo is None else day.tz_convert("UTC")
        if day.value > asof_ns:
            raise DataError(f"{symbol}: no swap quotes on or before {_utc(asof_ns)} ({name}: {day.date()})")
        curve = swap_curve(day.tz_localize(None), quotes=q)
        rows = []
        for tenor in self._SWAP_TENORS:
            sw = Swap(curve, tenor, notional=1.0)
            rows.append({"tenor": tenor, "end": sw.end, "T": float(curve.times(sw.end)),
                         "par_rate": sw.par_rate, "zero_rate": float(curve.zero_rate(sw.end)),
                         "discount": float(curve.discount(sw.end)), "annuity": sw.annuity,
                         "dv01_per_unit": sw.dv01()})
        return pd.DataFrame(rows), day, curve

    def run_pricing_cycle(self, asof, universe=None, positions: pd.DataFrame | None = None
                          ) -> PricingCycle:
        """Price the universe as of ``asof``: forwards, vols, surfaces, curves and dollar Greeks.

        Parameters
        ----------
        asof : date-like or int ns
            A bare date sees that whole day (UTC); each product uses its newest data at or before
            it, no older than ``config.max_age_days``.
        universe : sequence of str, optional
            Default ``config.universe``.
        positions : DataFrame, optional
            The book: ``symbol, qty`` and, for options, ``expiry`` (date or instant), ``strike``,
            ``right`` ('C'/'P'), optionally ``root``; for futures ``contract`` ('CL01'...);
            for the par and swap curves ``tenor`` ('10Y'...), ``qty`` being the notional in
            USD (a payer swap on the swap curve); for order-book products ``qty`` in units.

        Returns
        -------
        PricingCycle

        Raises
        ------
        ConfigError
            Unknown product, a position not in the priced data.
        DataError
            A product without data at ``asof`` (or too old).
        """
        from mmlab.risk import aggregate_greeks

        asof_ns = _asof_ns(asof)
        uni = self._universe(universe)
        self.ensure_data_ready(uni)
        chains, surfaces, curves, yield_curves, prods = {}, {}, {}, {}, []
        for s in uni:
            p = PRODUCTS[s]
            if p.kind == "options":
                e = self._latest(s, asof_ns)
                self._stale(s, int(e["t_end"].value), asof_ns, e["name"])
                an, surf, curve, qt, rate = self._price_options(s, e["name"], asof_ns)
                chains[s], surfaces[s], curves[s] = an, surf, curve
                info = {"dataset": e["name"], "data_time": qt, "rate": rate, "rows": len(an.quotes)}
            elif p.kind == "futures_curve":
                curve, day = self._price_futures(s, p.datasets[0], asof_ns)
                self._stale(s, day.value, asof_ns, p.datasets[0])
                curves[s] = curve
                info = {"dataset": p.datasets[0], "data_time": day, "rate": np.nan,
                        "rows": len(curve)}
            elif p.kind == "par_curve":
                curve, day, ycurve = self._price_par_curve(s, p.datasets, asof_ns)
                self._stale(s, day.value, asof_ns, ",".join(p.datasets))
                curves[s], yield_curves[s] = curve, ycurve
                info = {"dataset": ",".join(p.datasets), "data_time": day, "rate": np.nan,
                        "rows": len(curve)}
            elif p.kind == "swap_curve":
                curve, day, ycurve = self._price_swap_curve(s, p.datasets[0], asof_ns)
                self._stale(s, day.value, asof_ns, p.datasets[0])
                curves[s], yield_curves[s] = curve, ycurve
                info = {"dataset": p.datasets[0], "data_time": day, "rate": np.nan,
                        "rows": len(curve)}
            elif p.kind == "fixings":
                fx = self.catalog.load(p.datasets[0])
                idx = pd.DatetimeIndex(fx.index)
                idx = idx.tz_localize("UTC") if idx.tz is None else idx
                upto = fx[idx.asi8 <= asof_ns]
                if upto.empty:
                    raise DataError(f"{s}: no fixing on or before {_utc(asof_ns)}")
                day = pd.Timestamp(upto.index[-1]).tz_localize("UTC")
                self._stale(s, day.value, asof_ns, p.datasets[0])
                fix = float(upto.iloc[-1, 0])
                curves[s] = pd.DataFrame({"date": [day], "fixing": [fix],
                                          "continuous_rate": [365.0 * math.log1p(fix / 360.0)]})
                info = {"dataset": p.datasets[0], "data_time": day, "rate": fix, "rows": 1}
            else:  # events: the top of the book replayed up to asof
                e = self._latest(s, asof_ns)
                self._stale(s, min(int(e["t_end"].value), asof_ns), asof_ns, e["name"])
                curve, t_last = self._price_book(s, e["name"], asof_ns)
                curves[s] = curve
                info = {"dataset": e["name"], "data_time": t_last, "rate": np.nan, "rows": 1}
            prods.append({"symbol": s, "asset_class": p.asset_class, "kind": p.kind, **info})
        book = self._book_greeks(positions, curves, chains)
        if len(book):
            greeks = aggregate_greeks(book)
            greeks["dv01"] = book.groupby("underlying")["dv01"].sum()
            greeks.loc["TOTAL", "dv01"] = float(book["dv01"].sum())
        else:
            greeks = pd.DataFrame(
                columns=["delta_units", "dollar_delta", "dollar_gamma_1pct", "vega_per_point",
                         "theta_per_day", "dv01"], index=pd.Index([], name="underlying"))
        return PricingCycle(_utc(asof_ns), pd.DataFrame(prods), chains, surfaces, curves,
                            greeks, book, yield_curves)

    def _book_greeks(self, positions, curves, chains) -> pd.DataFrame:
        cols = ["underlying", "qty", "multiplier", "underlying_px", "delta", "gamma", "vega",
                "theta", "dv01"]
        if positions is None or len(positions) == 0:
            return pd.DataFrame(columns=cols)
        if not isinstance(positions, pd.DataFrame) or not {"symbol", "qty"} <= set(positions):
            raise ConfigError("positions: a DataFrame with at least 'symbol' and 'qty' columns")
        from mmlab.data import get_instrument

        out = []
        for i, pos in positions.reset_index(drop=True).iterrows():
            s = pos["symbol"]
            if s not in curves:
                raise ConfigError(f"positions: row {i}: {s!r} was not priced in this cycle")
            kind = PRODUCTS[s].kind
            qty = float(pos["qty"])
            if kind == "options":
                q = chains[s].quotes
                exp = pd.Timestamp(pos["expiry"])
                exp = exp.tz_localize("UTC") if exp.tzinfo is None else exp.tz_convert("UTC")
                on_day = q["expiry"].dt.normalize() == exp.normalize()
                sel = (q["expiry"] == exp) if (exp != exp.normalize()) else on_day
                sel &= np.isclose(q["strike"], float(pos["strike"])) & (q["right"] == pos["right"])
                if "root" in pos and isinstance(pos["root"], str):
                    sel &= q["root"] == pos["root"]
                hit = q[sel]
                if len(hit) != 1:
                    raise ConfigError(f"positions: row {i}: {len(hit)} contracts match {s} "
                                      f"{exp.date()} {pos['strike']} {pos['right']} (add 'root')")
                h = hit.iloc[0]
                if not np.isfinite(h["delta"]):
                    raise DataError(f"positions: row {i}: no Greeks for {h['root']} "
                                    f"{h['expiry']} {h['strike']} {h['right']} ({h['reason']})")
                out.append({"underlying": s, "qty": qty, "multiplier": float(h["multiplier"]),
                            "underlying_px": float(h["forward"]), "delta": float(h["delta"]),
                            "gamma": float(h["gamma"]), "vega": float(h["vega"]),
                            "theta": float(h["theta"]), "dv01": 0.0})
            elif kind == "futures_curve":
                c = curves[s].set_index("contract")
                if pos.get("contract") in set(curves[s]["code"]):
                    c = curves[s].set_index("code")
                if pos.get("contract") not in c.index:
                    raise ConfigError(f"positions: row {i}: contract {pos.get('contract')!r} not "
                                      f"on the {s} curve")
                mult = float(get_instrument(PRODUCTS[s].instrument).multiplier)
                out.append({"underlying": s, "qty": qty, "multiplier": mult,
                            "underlying_px": float(c.loc[pos["contract"], "forward"]),
                            "delta": 1.0, "gamma": 0.0, "vega": 0.0, "theta": 0.0, "dv01": 0.0})
            elif kind in ("par_curve", "swap_curve"):
                c = curves[s].set_index("tenor")
                if pos.get("tenor") not in c.index:
                    raise ConfigError(f"positions: row {i}: tenor {pos.get('tenor')!r} not on "
                                      f"the {s} curve")
                # a par bond (or, on the swap curve, a payer swap) of notional qty: rate risk only
                out.append({"underlying": s, "qty": qty, "multiplier": 1.0, "underlying_px": 1.0,
                            "delta": 0.0, "gamma": 0.0, "vega": 0.0, "theta": 0.0,
                            "dv01": qty * float(c.loc[pos["tenor"], "dv01_per_unit"])})
            elif kind == "events":
                mult = float(get_instrument(PRODUCTS[s].instrument).multiplier)
                out.append({"underlying": s, "qty": qty, "multiplier": mult,
                            "underlying_px": float(curves[s]["forward"].iloc[0]), "delta": 1.0,
                            "gamma": 0.0, "vega": 0.0, "theta": 0.0, "dv01": 0.0})
            else:
                raise ConfigError(f"positions: row {i}: {s!r} ({kind}) holds no position")
        return pd.DataFrame(out, columns=cols)

    # -------------------------------------------------------------------------- event data
    def _event_dataset(self, universe, start_ns, end_ns) -> tuple[str, str]:
        uni = _check_universe(universe)
        non_events = [s for s in uni if PRODUCTS[s].kind != "events"]
        if non_events:
            events = sorted(k for k, p in PRODUCTS.items() if p.kind == "events")
            raise ConfigError(f"universe: {non_events} carry no order-book events to replay; "
                              f"event products: {events}")
        ds = self.datasets(uni, start_ns, end_ns)
        if ds.empty:
            have = self.datasets(uni)
            ranges = "; ".join(f"{r.name}: {r.t_start} .. {r.t_end}" for r in have.itertuples())
            raise DataError(f"universe {list(uni)}: no data in [{_utc(start_ns)}, {_utc(end_ns)}) "
                            f"({ranges})")
        if len(ds) > 1:
            raise ConfigError(f"universe: {len(ds)} data sets in the window ({list(ds['name'])}); "
                              "name one product")
        return str(ds["symbol"].iloc[0]), str(ds["name"].iloc[0])

    def window_events(self, symbol_or_universe, start, end) -> tuple[str, str, np.ndarray]:
        """``(symbol, dataset, events)``: the data set's events from its first one to ``end``
        (exclusive, exchange time), so the book at ``start`` is the true one."""
        lo, hi = _ns(start, "start"), _ns(end, "end")
        if hi <= lo:
            raise ConfigError(f"end: must be after start ({_utc(lo)} >= {_utc(hi)})")
        symbol, name = self._event_dataset(symbol_or_universe, lo, hi)
        return symbol, name, self.catalog.load(name, end=hi)

    # -------------------------------------------------------------------------- backtest
    def run_backtest(self, start, end, universe, parameters: Mapping[str, Any]):
        """Backtest a strategy on the catalog's data for ``universe`` in ``[start, end)``.

        Parameters
        ----------
        start, end : date-like or int ns
            The strategy's window (UTC). The replay starts at the data set's first event, so the
            book at ``start`` is complete; the strategy first acts at ``start + interval`` and
            the events stop at ``end``.
        universe : str or sequence of str
            Event products (:data:`PRODUCTS`); exactly one data set must cover the window.
        parameters : mapping or str
            See :func:`strategy_from_parameters`: ``strategy`` (name or object), its parameters,
            optional ``settings`` for the engine (over ``config.backtest_settings``); a bare
            strategy name takes :func:`preset_parameters` of the product. The product's
            instrument (tick, lot, fees, multiplier) is the default; ``max_position`` defaults
            to :meth:`limits_for` and never exceeds a limit set in ``config.limits``.

        Returns
        -------
        mmlab.backtest.BacktestResult
            ``params`` also carry ``dataset`` and ``symbol``.
        """
        from mmlab.backtest import run

        symbol, name, events = self.window_events(universe, start, end)
        if isinstance(parameters, str):
            parameters = preset_parameters(symbol, parameters)
        strategy, settings = strategy_from_parameters(parameters)
        s = {"instrument": PRODUCTS[symbol].instrument, **self.config.backtest_settings,
             **settings, "start": _ns(start, "start"), "end": _ns(end, "end")}
        limit = self.limits_for(symbol).max_position
        if symbol in self.config.limits:  # a configured risk limit caps any setting
            s["max_position"] = min(s.get("max_position", limit), limit)
        else:
            s.setdefault("max_position", limit)
        res = run(events, strategy, **s)
        res.params.update({"dataset": name, "symbol": symbol})
        return res

    # -------------------------------------------------------------------------- trading
    def run_trading_cycle(self, symbol: str, strategy, start=None, end=None, *,
                          journal_path=None, entry_latency_ns: int = 0,
                          response_latency_ns: int = 0, cadence_ns: int = 100_000_000):
        """One paper quoting session of ``strategy`` on ``symbol``'s recorded feed.

        The feed before ``start`` only builds the book; from ``start`` to ``end`` (default
        ``config.cycle_seconds`` after the data's first event) the session quotes through the
        order manager and the risk ladder (``limits_for(symbol)``) against the paper venue, with
        the instrument's tick, lot and fees. No order leaves the machine.

        Parameters
        ----------
        symbol : str
            An event product.
        strategy : object or mapping
            Anything with ``quote(MarketState)``; an A-S, GLFT or adaptive-spread config; a
            backtest ``GridStrategy`` (one level); or a parameter mapping as for
            :meth:`run_backtest` (its engine ``settings`` are not used here: latencies and
            cadence are the keyword arguments below, the limit is ``limits_for(symbol)``).
        start, end : date-like or int ns, optional
            The quoting window (UTC); see above for the defaults.
        journal_path : str, optional
            Record every event in an SQLite journal.
        entry_latency_ns, response_latency_ns : int
            Order entry and response latencies of the paper venue (ns, default 0).
        cadence_ns : int
            The strategy quotes every ``cadence_ns`` of feed time (default 100 ms).

        Returns
        -------
        mmlab.runtime.SessionResult
        """
        from mmlab.data import get_instrument
        from mmlab.execution import Ledger
        from mmlab.runtime import PaperSession

        _check_universe((symbol,), "symbol")
        quoter = _session_strategy(strategy)
        reg = self.datasets((symbol,))
        if reg.empty:
            raise DataError(f"{symbol}: no data set registered")
        t0 = int(reg["t_start"].iloc[0].value)
        lo = t0 if start is None else _ns(start, "start")
        hi = lo + int(self.config.cycle_seconds * 1e9) if end is None else _ns(end, "end")
        _, name, events = self.window_events((symbol,), lo, hi)
        inst = get_instrument(PRODUCTS[symbol].instrument)
        sess = PaperSession(quoter, self.limits_for(symbol), ledger=Ledger.from_instrument(inst),
                            tick_size=float(inst.tick_size), lot_size=float(inst.lot_size),
                            cadence_ns=int(cadence_ns), entry_latency_ns=int(entry_latency_ns),
                            response_latency_ns=int(response_latency_ns),
                            journal_path=None if journal_path is None else str(journal_path),
                            symbol=symbol)
        warm = events["exch_ts"] < lo
        if warm.any():
            sess.book.apply(events[warm], check_crossed=False)
        feed = events[~warm]
        if len(feed) == 0:
            raise DataError(f"{symbol}: no events in [{_utc(lo)}, {_utc(hi)}) of {name}")
        try:
            res = sess.run(feed)
        finally:
            sess.close()
        return res
