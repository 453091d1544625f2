"""Market-data explorer: order-book statistics of a catalog data set, and a small Panel app.

The compute is plain pandas over :func:`mmlab.book.rebuild` and is importable without a browser
(the report notebook ``notebooks/market_data_report.ipynb`` uses the same functions):

* :func:`book_frame` -- top-N book after each vendor row, with mid, spread, depth, imbalance;
* :func:`trades_frame` -- the public trades, signed by aggressor;
* :func:`resample_book`, :func:`trade_flow`, :func:`realized_vol` -- fixed-interval views;
* :func:`market_summary` -- one table of the headline statistics.

``panel serve mmlab/dashboards/market_data.py`` (or ``mmlab serve``) shows
:class:`MarketDataExplorer`: pick a data set, see mid/bid/ask, spread and imbalance.

Definitions
-----------
* mid ``= (ask_1 + bid_1) / 2``, spread ``= ask_1 - bid_1`` (also in basis points of the mid);
* depth ``= sum of the quantities on the top N levels of a side``;
* level-1 imbalance ``= (bid_qty_1 - ask_qty_1) / (bid_qty_1 + ask_qty_1)`` in [-1, 1]; depth
  imbalance is the same over the top-N depths (Cartea, Jaimungal & Penalva, *Algorithmic and
  High-Frequency Trading*, 2015, section 4.3);
* realised volatility: standard deviation of log-returns of the last mid in each interval,
  scaled to one second (``sigma_1s = std / sqrt(interval in s)``).
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pandas as pd

from mmlab.data._events import DEPTH_BBO_EVENT, TRADE_EVENT, event_kind, is_buy, is_sell
from mmlab.errors import ConfigError

__all__ = [
    "MarketDataExplorer",
    "auto_interval",
    "book_frame",
    "market_summary",
    "realized_vol",
    "resample_book",
    "trade_flow",
    "trades_frame",
    "window",
]

_INTERVALS = ["10ms", "50ms", "100ms", "250ms", "500ms", "1s", "5s", "10s", "30s", "1min", "5min",
              "15min", "30min", "1h"]  # fmt: skip


def _ts_index(ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(np.asarray(ns, dtype=np.int64), unit="ns", utc=True), name="ts")


def book_frame(events: np.ndarray, levels: int = 5) -> pd.DataFrame:
    """The top-``levels`` book after each vendor row, with derived columns, indexed by UTC time.

    One row per vendor row that changed the book (rows carrying only trades or best-bid/offer
    messages are skipped), in exchange-time order, where both sides are quoted. Raises
    :class:`~mmlab.errors.CrossedBookError` if the book is ever crossed (checked by
    :func:`mmlab.book.rebuild`).

    Returns
    -------
    pandas.DataFrame
        ``ask_px_i, ask_qty_i, bid_px_i, bid_qty_i`` (i = 1..levels), ``src_row``, ``exch_ts``,
        ``mid``, ``spread``, ``spread_bps``, ``bid_depth``, ``ask_depth``, ``imbalance_1``,
        ``imbalance_depth``.

    Examples
    --------
    >>> from mmlab.data import synthetic_l2_events
    >>> b = book_frame(synthetic_l2_events(session_seconds=2, seed=1), levels=3)
    >>> bool((b["spread"] > 0).all()), bool(b["imbalance_1"].between(-1, 1).all())
    (True, True)
    """
    from mmlab.book import rebuild

    if int(levels) != levels or levels < 1:
        raise ConfigError(f"levels must be a positive integer, got {levels!r}")
    df = rebuild(events, levels=int(levels), per="row", check_crossed=True)
    # keep the rows that changed the book (not trade-only or bookTicker-only vendor rows): in the
    # Binance dumps the streams interleave by receive time, so a trade's exchange stamp can be
    # ~0.1 s before the depth update received just before it; book updates alone are in order
    kinds = event_kind(events["ev"])
    changes = (kinds != TRADE_EVENT) & (kinds != DEPTH_BBO_EVENT)
    df = df[np.isin(df["src_row"].to_numpy(), events["ival"][changes])]
    df = df.iloc[np.argsort(df["exch_ts"].to_numpy(), kind="stable")]
    df.index = _ts_index(df["exch_ts"].to_numpy())
    df = df[df["bid_px_1"].notna() & df["ask_px_1"].notna()].copy()
    bq = df[[f"bid_qty_{i}" for i in range(1, levels + 1)]].sum(axis=1)
    aq = df[[f"ask_qty_{i}" for i in range(1, levels + 1)]].sum(axis=1)
    df["mid"] = 0.5 * (df["ask_px_1"] + df["bid_px_1"])
    df["spread"] = df["ask_px_1"] - df["bid_px_1"]
    df["spread_bps"] = 1e4 * df["spread"] / df["mid"]
    df["bid_depth"], df["ask_depth"] = bq, aq
    l1 = df["bid_qty_1"] + df["ask_qty_1"]
    df["imbalance_1"] = (df["bid_qty_1"] - df["ask_qty_1"]) / l1.where(l1 > 0)
    tot = bq + aq
    df["imbalance_depth"] = (bq - aq) / tot.where(tot > 0)
    return df


def trades_frame(events: np.ndarray) -> pd.DataFrame:
    """The trades, indexed by UTC time: ``px``, ``qty``, ``side`` (+1 buyer-, -1 seller-initiated,
    0 no aggressor, e.g. an auction cross), ``signed_qty``, ``notional``.

    Examples
    --------
    >>> from mmlab.data import synthetic_l2_events
    >>> t = trades_frame(synthetic_l2_events(session_seconds=5, seed=1))
    >>> set(t["side"].unique()) <= {-1, 1}, bool((t["qty"] > 0).all())
    (True, True)
    """
    ev = events[event_kind(events["ev"]) == TRADE_EVENT]
    ev = ev[np.argsort(ev["exch_ts"], kind="stable")]
    side = is_buy(ev["ev"]).astype(np.int8) - is_sell(ev["ev"]).astype(np.int8)
    df = pd.DataFrame(
        {"px": ev["px"], "qty": ev["qty"], "side": side, "src_row": ev["ival"]},
        index=_ts_index(ev["exch_ts"]),
    )
    df["signed_qty"] = df["side"] * df["qty"]
    df["notional"] = df["px"] * df["qty"]
    return df


def window(df: pd.DataFrame, start=None, end=None) -> pd.DataFrame:
    """Rows with ``start <= time < end`` (UTC; naive values are taken as UTC; None = open)."""

    def ts(v):
        t = pd.Timestamp(v)
        return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")

    keep = np.ones(len(df), dtype=bool)
    if start is not None:
        keep &= df.index >= ts(start)
    if end is not None:
        keep &= df.index < ts(end)
    return df[keep]


def auto_interval(span: pd.Timedelta, target_points: int = 600) -> str:
    """The smallest interval from a fixed ladder giving at most ``target_points`` bins over ``span``.

    Examples
    --------
    >>> auto_interval(pd.Timedelta("6min")), auto_interval(pd.Timedelta("6.5h"))
    ('1s', '1min')
    """
    for iv in _INTERVALS:
        if span / pd.Timedelta(iv) <= target_points:
            return iv
    return _INTERVALS[-1]


def resample_book(book: pd.DataFrame, interval: str) -> pd.DataFrame:
    """The last book state in each interval (forward-filled), for charts."""
    cols = ["bid_px_1", "ask_px_1", "mid", "spread", "spread_bps", "bid_depth", "ask_depth",
            "imbalance_1", "imbalance_depth"]  # fmt: skip
    return book[cols].resample(interval).last().ffill()


def trade_flow(trades: pd.DataFrame, interval: str) -> pd.DataFrame:
    """Per interval: ``buy_qty``, ``sell_qty``, ``net_qty`` (buy - sell), ``n_trades``, ``vwap``,
    and ``cum_net_qty``."""
    t = pd.DataFrame(
        {
            "buy_qty": trades["qty"].where(trades["side"] > 0, 0.0),
            "sell_qty": trades["qty"].where(trades["side"] < 0, 0.0),
            "qty": trades["qty"],
            "notional": trades["notional"],
        },
        index=trades.index,
    )
    g = t.resample(interval)
    out = g[["buy_qty", "sell_qty"]].sum()
    out["n_trades"] = g["qty"].count()
    out["vwap"] = g["notional"].sum() / g["qty"].sum().where(lambda s: s > 0)
    out["net_qty"] = out["buy_qty"] - out["sell_qty"]
    out["cum_net_qty"] = out["net_qty"].cumsum()
    return out


def realized_vol(book: pd.DataFrame, interval: str = "1s") -> pd.Series:
    """Log-returns of the last mid in each ``interval`` (a Series named ``log_return``)."""
    mid = book["mid"].resample(interval).last().ffill()
    r = np.log(mid).diff().dropna()
    r.name = "log_return"
    return r


def market_summary(book: pd.DataFrame, trades: pd.DataFrame, vol_interval: str = "1s") -> pd.DataFrame:
    """Headline statistics (one column ``value``): time span, spread, depth, imbalance, trade
    flow and realised volatility."""
    if book.empty:
        raise ConfigError("book is empty: no two-sided quotes in the window")
    r = realized_vol(book, vol_interval)
    secs = pd.Timedelta(vol_interval).total_seconds()
    sigma_1s = float(r.std(ddof=1) / math.sqrt(secs)) if len(r) > 1 else float("nan")
    span = book.index[-1] - book.index[0]
    # time-weighted spread: each state lasts until the next one
    dur = np.diff(book.index.asi8, append=book.index.asi8[-1]).astype(float)
    tw_spread = float(np.average(book["spread"], weights=dur)) if dur.sum() > 0 else float(book["spread"].mean())
    rows = {
        "first update (UTC)": str(book.index[0]),
        "last update (UTC)": str(book.index[-1]),
        "span": str(span),
        "book states": len(book),
        "mid first": book["mid"].iloc[0],
        "mid last": book["mid"].iloc[-1],
        "spread mean": book["spread"].mean(),
        "spread time-weighted mean": tw_spread,
        "spread median": book["spread"].median(),
        "spread min": book["spread"].min(),
        "spread max": book["spread"].max(),
        "spread mean (bps)": book["spread_bps"].mean(),
        "bid depth mean (top N)": book["bid_depth"].mean(),
        "ask depth mean (top N)": book["ask_depth"].mean(),
        "level-1 imbalance mean": book["imbalance_1"].mean(),
        "depth imbalance mean": book["imbalance_depth"].mean(),
        "trades": len(trades),
        "traded qty": trades["qty"].sum(),
        "buyer-initiated qty": trades.loc[trades["side"] > 0, "qty"].sum(),
        "seller-initiated qty": trades.loc[trades["side"] < 0, "qty"].sum(),
        "VWAP": trades["notional"].sum() / trades["qty"].sum() if len(trades) else float("nan"),
        f"realised vol per sqrt(s) (bps, from {vol_interval} mids)": 1e4 * sigma_1s,
        "realised vol per sqrt(hour) (bps)": 1e4 * sigma_1s * 60.0,
    }
    return pd.DataFrame({"value": pd.Series(rows, dtype=object)})


# --------------------------------------------------------------------------------------------
# Panel app


@functools.lru_cache(maxsize=8)
def _cached_book(catalog_path: str, name: str, levels: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    from mmlab.data import Catalog

    ev = Catalog(catalog_path).load(name)
    return book_frame(ev, levels), trades_frame(ev)


def _event_datasets(catalog) -> list[str]:
    df = catalog.list()
    kinds = {"binance", "lobster", "npz", "synthetic"}
    return [n for n, k in zip(df["name"], df["kind"]) if k in kinds]


def _make_explorer():
    import holoviews as hv
    import hvplot.pandas  # noqa: F401  (registers .hvplot)
    import panel as pn
    import param

    class MarketDataExplorer(pn.viewable.Viewer):
        """Pick a catalog data set; see mid with bid/ask, the spread and the imbalance."""

        dataset = param.Selector(default=None, objects=[], doc="Event data set in the catalog")
        levels = param.Integer(default=5, bounds=(1, 10), doc="Book levels used for depth")
        max_points = param.Integer(default=1500, bounds=(100, 20000), doc="Points per chart")

        def __init__(self, catalog=None, **params):
            from mmlab.data import Catalog, ensure_data_ready

            self._catalog = catalog if isinstance(catalog, Catalog) else Catalog(catalog)
            names = _event_datasets(self._catalog)
            if not names:
                ensure_data_ready(catalog=self._catalog)
                names = _event_datasets(self._catalog)
            super().__init__(**params)
            self.param.dataset.objects = names
            if self.dataset not in names:
                self.dataset = names[0]

        def frames(self):
            book, trades = _cached_book(str(self._catalog.path), self.dataset, self.levels)
            iv = auto_interval(book.index[-1] - book.index[0], self.max_points)
            return resample_book(book, iv), book, trades, iv

        @param.depends("dataset", "levels", "max_points")
        def _view(self):
            rb, book, trades, iv = self.frames()
            prices = rb.hvplot.line(y=["bid_px_1", "mid", "ask_px_1"], ylabel="price",
                                    title=f"{self.dataset}: bid / mid / ask (last per {iv})",
                                    height=300, responsive=True, shared_axes=False)  # fmt: skip
            spread = rb.hvplot.step(y="spread", title="spread", height=200, responsive=True, shared_axes=False)
            imb = rb.hvplot.line(y=["imbalance_1", "imbalance_depth"], ylim=(-1, 1),
                                 title="order-book imbalance", height=200, responsive=True, shared_axes=False)  # fmt: skip
            summary = market_summary(book, trades)
            return pn.Column(
                prices, spread, imb,
                pn.pane.DataFrame(summary, sizing_mode="stretch_width"),
                sizing_mode="stretch_width",
            )  # fmt: skip

        def __panel__(self):
            hv.extension("bokeh")
            return pn.Row(
                pn.Param(self.param, width=260, name="Market data"),
                self._view,
                sizing_mode="stretch_width",
            )

    return MarketDataExplorer


def __getattr__(name: str):
    if name == "MarketDataExplorer":  # built lazily: importing panel is slow
        cls = _make_explorer()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


if __name__.startswith("bokeh"):  # `panel serve mmlab/dashboards/market_data.py`
    import panel as _pn

    _pn.extension(sizing_mode="stretch_width")
    _make_explorer()().servable(title="mmlab market data")

if __name__ == "__main__":  # pragma: no cover
    print(f"serve with: panel serve {Path(__file__)} --address 127.0.0.1")
