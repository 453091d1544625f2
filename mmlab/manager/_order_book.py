"""The order-book pricer: the top of the book replayed up to ``asof`` (equity and crypto feeds).

A position is ``qty`` units of the instrument at the mid (delta 1, times its multiplier).
"""

from __future__ import annotations

import math

import pandas as pd

from mmlab.errors import DataError
from mmlab.manager._config import utc
from mmlab.manager._pricer import Priced, Pricer, position_row

__all__ = ["OrderBookPricer"]


class OrderBookPricer(Pricer):
    """Prices ``events`` products: best bid, best ask, mid and spread at ``asof``."""

    kinds = ("events",)

    def price(self, market, product, asof_ns: int) -> Priced:
        from mmlab.book import replay
        from mmlab.data import get_instrument

        s = product.symbol
        e = market.latest(s, asof_ns)
        market.check_fresh(s, min(int(e["t_end"].value), asof_ns), asof_ns, e["name"])
        events = market.catalog.load(e["name"], end=asof_ns + 1)
        if len(events) == 0:
            raise DataError(f"{s}: no events at or before {utc(asof_ns)} in {e['name']}")
        book = replay(events, tick_size=float(get_instrument(product.instrument).tick_size),
                      check_crossed=False)
        bid, ask = float(book.best_bid), float(book.best_ask)
        if not (math.isfinite(bid) and math.isfinite(ask)):
            raise DataError(f"{s}: one-sided book at {utc(asof_ns)} in {e['name']}")
        t_last = utc(int(events["exch_ts"].max()))
        curve = pd.DataFrame({"time": [t_last], "best_bid": [bid], "best_ask": [ask],
                              "forward": [0.5 * (bid + ask)], "spread": [ask - bid]})
        return Priced(curve, e["name"], t_last, rows=1)

    def position(self, market, product, priced, pos, row) -> dict:
        from mmlab.data import get_instrument

        mult = float(get_instrument(product.instrument).multiplier)
        return position_row(product.symbol, pos["qty"], multiplier=mult,
                            px=float(priced.curve["forward"].iloc[0]), delta=1.0)
