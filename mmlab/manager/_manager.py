"""The facade: :class:`MarketMakingProjectManager` runs the desk's cycles over a universe."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from mmlab.errors import ConfigError, DataError
from mmlab.manager._config import ManagerConfig, asof_ns, instant_ns, utc
from mmlab.manager._cycle import PricingCycle, price_universe
from mmlab.manager._equity_options import OptionChainPricer
from mmlab.manager._market import MarketData
from mmlab.manager._presets import preset_parameters
from mmlab.manager._products import PRODUCTS, check_universe
from mmlab.manager._strategies import strategy_from_parameters
from mmlab.quoting import renamed_keywords

__all__ = ["MarketMakingProjectManager"]


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
        self.market = MarketData(config)

    def __repr__(self) -> str:
        return f"MarketMakingProjectManager(universe={self.config.universe}, venue='paper')"

    def _universe(self, universe) -> tuple[str, ...]:
        return self.config.universe if universe is None else check_universe(universe)

    # -------------------------------------------------------------------------- data
    @property
    def catalog(self):
        """The :class:`mmlab.data.Catalog` under ``config.data_dir``."""
        return self.market.catalog

    def ensure_data_ready(self, universe=None) -> pd.DataFrame:
        """Convert the universe's shipped data sets into the catalog (once); their registry rows.

        Adds the SOFR fixings when a USD option chain needs its rate from them.
        """
        return self.market.ensure_ready(self._universe(universe))

    def datasets(self, universe=None, start=None, end=None) -> pd.DataFrame:
        """Registered data sets of the universe overlapping ``[start, end)``, with ``symbol``."""
        return self.market.datasets(self._universe(universe), start, end)

    def limits_for(self, symbol: str):
        """Risk limits of ``symbol``: ``config.limits`` or a hard limit of 100 lots."""
        from mmlab.data import get_instrument
        from mmlab.risk import RiskLimits

        check_universe((symbol,), "symbol")
        if symbol in self.config.limits:
            return self.config.limits[symbol]
        p = PRODUCTS[symbol]
        lot = float(get_instrument(p.instrument).lot_size) if p.instrument else 1.0
        return RiskLimits(max_position=100.0 * lot)

    def window_events(self, symbol_or_universe, start, end):
        """``(symbol, dataset, events)``: the data set's events from its first one to ``end``
        (exclusive, exchange time), so the book at ``start`` is the true one."""
        return self.market.window_events(symbol_or_universe, start, end)

    # -------------------------------------------------------------------------- pricing
    def chain_rate(self, symbol: str, quote_time) -> float:
        """The flat continuous rate of ``symbol``'s chain quoted at ``quote_time`` (the option
        pricer's rule: ``config.rate``, 0 for crypto, else SOFR of the date made continuous)."""
        check_universe((symbol,), "symbol")
        return OptionChainPricer.rate(self.market, PRODUCTS[symbol], quote_time)

    def run_pricing_cycle(self, asof, universe=None, positions: pd.DataFrame | None = None
                          ) -> PricingCycle:
        """Price the universe as of ``asof``, each product by its asset class's pricer.

        Parameters
        ----------
        asof : date-like or int ns
            A bare date sees that whole day (UTC); each product uses its newest data at or before
            it, no older than ``config.max_age_days``.
        universe : sequence of str, optional
            Default ``config.universe``.
        positions : DataFrame, optional
            The book: ``symbol, qty`` and, for options, ``expiry``, ``strike``, ``right``
            ('C'/'P'), optionally ``root``; for futures ``contract`` ('CL01' or 'CLX23'), with
            ``strike`` and ``right`` (optionally ``expiry``, ``vol``) for an option on it; for
            the par and swap curves ``tenor`` ('10Y'), ``qty`` the notional in USD; for
            order-book products ``qty`` in units.

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
        t = asof_ns(asof)
        uni = self._universe(universe)
        self.ensure_data_ready(uni)
        return price_universe(self.market, uni, t, positions)

    # -------------------------------------------------------------------------- backtest
    def run_backtest(self, start, end, universe, parameters: Mapping[str, Any] | str):
        """Backtest a strategy on the catalog's data for ``universe`` in ``[start, end)``.

        The replay starts at the data set's first event (the book at ``start`` is complete); the
        strategy first acts at ``start + interval``. ``universe``: event products of which
        exactly one data set covers the window. ``parameters``: see
        :func:`strategy_from_parameters` (engine ``settings`` over ``config.backtest_settings``),
        or a bare strategy name for the product's :func:`preset_parameters`. The product's
        instrument is the default; ``max_position`` defaults to :meth:`limits_for` and never
        exceeds a limit set in ``config.limits``.

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
             **settings, "start": instant_ns(start, "start"), "end": instant_ns(end, "end")}
        limit = self.limits_for(symbol).max_position
        if symbol in self.config.limits:  # a configured risk limit caps any setting
            s["max_position"] = min(s.get("max_position", limit), limit)
        else:
            s.setdefault("max_position", limit)
        res = run(events, strategy, **s)
        res.params.update({"dataset": name, "symbol": symbol})
        return res

    # -------------------------------------------------------------------------- trading
    @renamed_keywords(interval_ns="renamed interval (ns of feed time)",
                      cadence_ns="renamed interval (ns of feed time)",
                      entry_latency_ns="renamed entry_latency (ns)",
                      response_latency_ns="renamed response_latency (ns)")
    def run_trading_cycle(self, symbol: str, strategy, start=None, end=None, *,
                          journal_path=None, entry_latency: int = 0,
                          response_latency: int = 0, interval: int = 100_000_000):
        """One paper quoting session of ``strategy`` on ``symbol``'s recorded feed.

        The session is the trading core fed the recording a vendor row at a time
        (:class:`mmlab.runtime.PaperSession`: the backtest's strategy, risk, order and account
        code against its simulated exchange). The feed before ``start`` only builds the book;
        from ``start`` to ``end`` (default ``config.cycle_seconds`` after the data's first
        event) the strategy quotes every ``interval`` of feed time under the product's hard
        limit (``limits_for(symbol).max_position``), with the instrument's tick, lot and fees,
        optionally journalled to SQLite (``journal_path``). No order leaves the machine.
        ``strategy``: a grid, A-S, GLFT or adaptive-spread config (or strategy object), or a
        parameter mapping. ``interval``, ``entry_latency`` and ``response_latency`` are the
        :class:`mmlab.backtest.BacktestConfig` settings of the same names, in nanoseconds (the
        old ``interval_ns`` / ``entry_latency_ns`` / ``response_latency_ns`` raise a
        ConfigError naming them).

        Returns
        -------
        mmlab.backtest.BacktestResult
        """
        from mmlab.data import get_instrument
        from mmlab.runtime import PaperSession

        check_universe((symbol,), "symbol")
        if isinstance(strategy, Mapping):
            strategy, _ = strategy_from_parameters(strategy)
        reg = self.datasets((symbol,))
        if reg.empty:
            raise DataError(f"{symbol}: no data set registered")
        lo = int(reg["t_start"].iloc[0].value) if start is None else instant_ns(start, "start")
        hi = lo + int(self.config.cycle_seconds * 1e9) if end is None else instant_ns(end, "end")
        _, name, events = self.window_events((symbol,), lo, hi)
        if not (events["exch_ts"] >= lo).any():
            raise DataError(f"{symbol}: no events in [{utc(lo)}, {utc(hi)}) of {name}")
        inst = get_instrument(PRODUCTS[symbol].instrument)
        sess = PaperSession(
            strategy, session_end=hi, symbol=symbol,
            journal_path=None if journal_path is None else str(journal_path),
            settings=dict(instrument=inst, max_position=self.limits_for(symbol).max_position,
                          interval=interval, entry_latency=entry_latency,
                          response_latency=response_latency, start=lo, end=hi,
                          record_every=1))
        try:
            return sess.run(events)
        finally:
            sess.close()
