"""Bar-level market making with vectorbt: running the adaptive-spread quoter on OHLCV bars.

:func:`bar_market_making` runs the bar rule (:mod:`mmlab.backtest.bars._bar_rule`) in vectorbt
(``vbt.Portfolio.from_order_func`` with the flexible order function of
:mod:`mmlab.backtest.bars._vbt_kernel`: up to two orders a bar, the quotes computed inside the
simulation from vectorbt's position) or in the plain Python/NumPy twin
(:func:`~mmlab.backtest.bars._bar_rule.bar_mm_python`), and returns a :class:`BarResult`
(per-bar table, fills, PnL split into spread, inventory and fees). The tests check that the two
engines' fills and quotes are identical and that vectorbt's portfolio value is the twin's equity
(to rounding).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mmlab.backtest.bars._bar_rule import BarMarketMakingConfig, bar_mm_python, bar_reference
from mmlab.backtest.bars._bars import check_bars, klines, sp500_bars  # noqa: F401 (doctests)
from mmlab.errors import ConfigError
from mmlab.quoting import AdaptiveSpreadConfig

__all__ = ["BarResult", "bar_market_making"]


def _prepare(bars, config):
    if isinstance(config, AdaptiveSpreadConfig):
        config = BarMarketMakingConfig(config)
    if not isinstance(config, BarMarketMakingConfig):
        raise ConfigError("config: expected a BarMarketMakingConfig or AdaptiveSpreadConfig, got "
                          f"{type(config).__name__}")
    check_bars(bars)
    high = bars["high"].to_numpy(dtype=np.float64)
    low = bars["low"].to_numpy(dtype=np.float64)
    close = bars["close"].to_numpy(dtype=np.float64)
    if "n_trades" in bars.columns:
        traded = bars["n_trades"].to_numpy() > 0
    else:
        traded = np.ones(len(bars), dtype=bool)
    ref, vol = bar_reference(close, int(config.vol_window))
    bb = np.full(len(bars), np.nan)
    ba = np.full(len(bars), np.nan)
    if "best_bid" in bars.columns and "best_ask" in bars.columns:
        bb[1:] = bars["best_bid"].to_numpy(dtype=np.float64)[:-1]  # in force at the bar's open
        ba[1:] = bars["best_ask"].to_numpy(dtype=np.float64)[:-1]
    p = config.quoting.params()
    tick = float(config.tick_size) if config.tick_size is not None else 0.0
    return config, high, low, close, traded, ref, vol, bb, ba, p, tick


# ---------------------------------------------------------------------------------- results


@dataclass
class BarResult:
    """What a bar-level market-making run produced.

    Attributes
    ----------
    bars : pandas.DataFrame
        The input bars plus ``ref``, ``vol``, ``bid``, ``ask`` (the quotes, NaN: none),
        ``bought``, ``sold`` (fills in the bar), ``position`` (end of bar), ``cash`` (fill cash
        flows minus fees), ``equity`` (cash + position x close: PnL from a flat start).
    fills : pandas.DataFrame
        ``time`` (bar label), ``bar``, ``side`` (+1 buy, -1 sell), ``price``, ``qty``, ``fee``
        (negative: rebate), ``mark`` (the bar's close), ``spread_capture`` (``side x qty x
        (mark - price)``).
    pnl : dict
        ``spread`` (capture against each fill bar's close), ``inventory`` (the rest of the
        mark-to-market), ``fees`` (negative when paid), ``total`` (= final equity).
    config : BarMarketMakingConfig
    engine : str
        ``'vectorbt'`` or ``'numpy'``.
    portfolio : vectorbt.Portfolio or None
        The vectorbt portfolio (engine ``'vectorbt'``); its value minus ``init_cash`` is the
        equity curve.
    init_cash : float
    """

    bars: pd.DataFrame
    fills: pd.DataFrame
    pnl: dict
    config: BarMarketMakingConfig
    engine: str
    portfolio: object = None
    init_cash: float = 0.0
    assumptions: tuple = field(default=(
        "quotes of bar i from bars < i (previous close, rolling volatility, position at the "
        "bar's start)",
        "fills in full at the quote when the bar's low/high reaches it (fill_rule), both sides "
        "in one bar allowed, only on bars with a trade",
        "no queue position, no latency, no partial fills, no market impact: optimistic fills",
    ))

    @classmethod
    def _build(cls, bars, close, ref, vol, quotes, fills, config, engine, portfolio, init_cash):
        n = len(bars)
        bar_i = fills[:, 0].astype(np.int64)
        side, px, qty, fee = fills[:, 1], fills[:, 2], fills[:, 3], fills[:, 4]
        flow = np.zeros(n)
        dlots = np.zeros(n)
        np.add.at(flow, bar_i, -side * qty * px - fee)
        np.add.at(dlots, bar_i, side)
        cash = np.cumsum(flow)
        # every fill is one order size: the position is a whole number of them (no float drift)
        pos = np.cumsum(dlots) * float(config.quoting.order_size)
        equity = cash + pos * close
        out = bars.copy()
        out["ref"] = ref
        out["vol"] = vol
        out["bid"] = quotes[:, 0]
        out["ask"] = quotes[:, 1]
        out["bought"] = np.bincount(bar_i[side > 0], minlength=n) > 0
        out["sold"] = np.bincount(bar_i[side < 0], minlength=n) > 0
        out["position"] = pos
        out["cash"] = cash
        out["equity"] = equity
        mark = close[bar_i]
        f = pd.DataFrame({"time": bars.index[bar_i], "bar": bar_i, "side": side.astype(np.int8),
                          "price": px, "qty": qty, "fee": fee, "mark": mark,
                          "spread_capture": side * qty * (mark - px)})
        total = float(equity[-1])
        spread = float(f["spread_capture"].sum())
        fees = -float(fee.sum())
        pnl = {"spread": spread, "inventory": total - spread - fees, "fees": fees,
               "total": total}
        return cls(out, f, pnl, config, engine, portfolio, float(init_cash))

    def max_drawdown(self) -> float:
        """Largest fall of the equity curve from its running peak (>= 0)."""
        e = self.bars["equity"].to_numpy()
        return float(np.max(np.maximum.accumulate(np.maximum(e, 0.0)) - e))

    def summary(self) -> dict:
        """Headline figures: fills, traded volume, position, PnL split.

        Examples
        --------
        >>> spx = sp500_bars().iloc[-250:]
        >>> cfg = BarMarketMakingConfig(AdaptiveSpreadConfig(base_spread=40.0,
        ...                             max_inventory=5.0), tick_size=0.01)
        >>> s = bar_market_making(spx, cfg, engine="numpy").summary()
        >>> s["n_fills"] == s["buys"] + s["sells"], abs(s["final_position"]) <= 5.0
        (True, True)
        """
        f = self.fills
        pos = self.bars["position"].to_numpy()
        return {
            "engine": self.engine,
            "bars": len(self.bars),
            "quoted_bars": int((np.isfinite(self.bars["bid"])
                                | np.isfinite(self.bars["ask"])).sum()),
            "n_fills": len(f),
            "buys": int((f["side"] > 0).sum()),
            "sells": int((f["side"] < 0).sum()),
            "both_sides_bars": int((self.bars["bought"] & self.bars["sold"]).sum()),
            "volume": float(f["qty"].sum()),
            "notional": float((f["qty"] * f["price"]).sum()),
            "final_position": float(pos[-1]),
            "max_abs_position": float(np.max(np.abs(pos))),
            "fee_pnl": self.pnl["fees"],
            "spread_pnl": self.pnl["spread"],
            "inventory_pnl": self.pnl["inventory"],
            "total_pnl": self.pnl["total"],
            "max_drawdown": self.max_drawdown(),
            "fill_rule": self.config.fill_rule,
        }

    def to_frame(self) -> pd.DataFrame:
        """The per-bar table (bars, quotes, fills, position, equity)."""
        return self.bars.copy()

    def plot(self):
        """hvPlot: close with the quotes and fills, the equity curve, the position."""
        import holoviews as hv
        import hvplot.pandas  # noqa: F401

        b = self.bars.reset_index()
        t = b.columns[0]
        px = b.hvplot.line(x=t, y=["close", "bid", "ask"], title="bars, quotes and fills",
                           ylabel="price")
        f = self.fills
        pts = hv.Points((f["time"], f["price"]), kdims=[t, "price"]).opts(size=4)
        eq = b.hvplot.line(x=t, y="equity", title="equity (PnL)", ylabel="PnL")
        pos = b.hvplot.step(x=t, y="position", title="position")
        return (px * pts + eq + pos).cols(1)


def _init_cash(config, high, size, fee, n):
    if config.init_cash is not None:
        return float(config.init_cash)
    # cash only falls through buys: at most one fill of `size` a bar at <= max(high)
    return float(n * size * float(np.max(high)) * (1.0 + abs(fee)) * 1.01 + 1.0)


def bar_market_making(bars: pd.DataFrame, config, *, engine: str = "vectorbt") -> BarResult:
    """Run the adaptive-spread market maker on OHLCV bars (rule and fill rule:
    :mod:`mmlab.backtest.bars._bar_rule`).

    Parameters
    ----------
    bars : pandas.DataFrame
        ``open, high, low, close, volume`` (and ``n_trades`` when known; ``best_bid``,
        ``best_ask`` for the competition factor), e.g. :func:`klines` or :func:`sp500_bars`.
    config : BarMarketMakingConfig or AdaptiveSpreadConfig
    engine : {"vectorbt", "numpy"}
        vectorbt's ``Portfolio.from_order_func`` (the portfolio is kept on the result), or the
        plain twin :func:`bar_mm_python` (same fills).

    Returns
    -------
    BarResult

    Examples
    --------
    >>> spx = sp500_bars().iloc[-60:]
    >>> cfg = BarMarketMakingConfig(AdaptiveSpreadConfig(base_spread=30.0, max_inventory=3.0))
    >>> res = bar_market_making(spx, cfg, engine="numpy")
    >>> f = res.fills
    >>> pnl = -(f["side"] * f["qty"] * f["price"]).sum() - f["fee"].sum() \\
    ...     + res.bars["position"].iloc[-1] * spx["close"].iloc[-1]
    >>> bool(abs(pnl - res.pnl["total"]) < 1e-6)
    True
    """
    if engine not in ("vectorbt", "numpy"):
        raise ConfigError(f"engine: must be 'vectorbt' or 'numpy', got {engine!r}")
    config, high, low, close, traded, ref, vol, bb, ba, p, tick = _prepare(bars, config)
    fee = config.fee_rate
    through = config.fill_rule == "through"
    size = float(p[10])
    init_cash = _init_cash(config, high, size, fee, len(bars))
    pf = None
    if engine == "numpy":
        quotes, fills = bar_mm_python(high, low, traded, ref, vol, bb, ba, p, tick, fee,
                                      through)
    else:
        import vectorbt as vbt

        from mmlab.backtest.bars._vbt_kernel import vbt_order_func

        quotes = np.full((len(bars), 2), np.nan)
        idx = bars.index
        close_s = pd.Series(close, index=idx, name="close")
        step = bars.attrs.get("freq_ns")
        pf = vbt.Portfolio.from_order_func(
            close_s, vbt_order_func, high, low, traded, ref, vol, bb, ba, p, tick, fee,
            through, quotes, flexible=True, init_cash=init_cash, max_orders=2 * len(bars),
            freq=pd.Timedelta(int(step), "ns") if step else None)
        rec = pf.orders.values
        # vectorbt's records: side 0 = buy, 1 = sell
        fills = np.column_stack([rec["idx"].astype(np.float64),
                                 np.where(rec["side"] == 0, 1.0, -1.0), rec["price"],
                                 rec["size"], rec["fees"]]).reshape(-1, 5)
    return BarResult._build(bars, close, ref, vol, quotes, fills, config, engine, pf, init_cash)

