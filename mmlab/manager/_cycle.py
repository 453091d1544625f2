"""The pricing cycle: every product priced by its asset class's pricer, the book in dollars."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import pandas as pd

from mmlab.errors import ConfigError
from mmlab.manager._commodity import CommodityPricer
from mmlab.manager._config import utc
from mmlab.manager._equity_options import OptionChainPricer
from mmlab.manager._order_book import OrderBookPricer
from mmlab.manager._pricer import POSITION_COLUMNS, Priced, Pricer
from mmlab.manager._products import PRODUCTS
from mmlab.manager._rates import RatesPricer

__all__ = ["PRICERS", "PricingCycle", "price_universe"]

#: The pricer of each product kind (one per asset class; order books price equity and crypto).
PRICERS: Mapping[str, Pricer] = MappingProxyType({
    k: p for p in (OptionChainPricer(), CommodityPricer(), RatesPricer(), OrderBookPricer())
    for k in p.kinds})


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


def _book(market, priced: dict[str, Priced], positions) -> pd.DataFrame:
    if positions is None or len(positions) == 0:
        return pd.DataFrame(columns=POSITION_COLUMNS)
    if not isinstance(positions, pd.DataFrame) or not {"symbol", "qty"} <= set(positions):
        raise ConfigError("positions: a DataFrame with at least 'symbol' and 'qty' columns")
    out = []
    for i, pos in positions.reset_index(drop=True).iterrows():
        s = pos["symbol"]
        if s not in priced:
            raise ConfigError(f"positions: row {i}: {s!r} was not priced in this cycle")
        p = PRODUCTS[s]
        out.append(PRICERS[p.kind].position(market, p, priced[s], pos, i))
    return pd.DataFrame(out, columns=POSITION_COLUMNS)


def price_universe(market, universe, asof_ns: int, positions=None) -> PricingCycle:
    """Price every product of ``universe`` as of ``asof_ns`` and the book's dollar Greeks."""
    from mmlab.risk import aggregate_greeks

    priced: dict[str, Priced] = {}
    rows = []
    for s in universe:
        p = PRODUCTS[s]
        pr = priced[s] = PRICERS[p.kind].price(market, p, asof_ns)
        rows.append({"symbol": s, "asset_class": p.asset_class, "kind": p.kind,
                     "dataset": pr.dataset, "data_time": pr.data_time, "rate": pr.rate,
                     "rows": pr.rows})
    book = _book(market, priced, positions)
    if len(book):
        greeks = aggregate_greeks(book)
        greeks["dv01"] = book.groupby("underlying")["dv01"].sum()
        greeks.loc["TOTAL", "dv01"] = float(book["dv01"].sum())
    else:
        greeks = pd.DataFrame(
            columns=["delta_units", "dollar_delta", "dollar_gamma_1pct", "vega_per_point",
                     "theta_per_day", "dv01"], index=pd.Index([], name="underlying"))
    return PricingCycle(
        utc(asof_ns), pd.DataFrame(rows),
        chains={s: v.chain for s, v in priced.items() if v.chain is not None},
        surfaces={s: v.surface for s, v in priced.items() if v.surface is not None},
        curves={s: v.curve for s, v in priced.items()}, greeks=greeks, positions=book,
        yield_curves={s: v.yield_curve for s, v in priced.items() if v.yield_curve is not None})
