"""Market-data explorer: order-book statistics of a catalog data set, and a small Panel app.

The compute is plain pandas over :func:`mmlab.book.rebuild` and is importable without a browser
(the report notebook ``notebooks/market_data_report.ipynb`` uses the same functions):

* :func:`book_frame` -- top-N book after each vendor row, with mid, spread, depth, imbalance;
* :func:`trades_frame` -- the public trades, signed by aggressor;
* :func:`resample_book`, :func:`trade_flow`, :func:`realized_vol` -- fixed-interval views;
* :func:`infer_tick`, :func:`book_bins` -- per time bin: the bid-ask range, the time-weighted
  mid, the spread's maximum and time-weighted mean (in ticks and bps), smoothed imbalances;
* :func:`market_summary` -- one table of the headline statistics (:func:`format_summary` for
  display: human durations and numbers).

``panel serve mmlab/dashboards/market_data.py`` (or ``mmlab serve``) shows
:class:`MarketDataExplorer`: pick a data set and a time window; see the bid-ask band with the mid,
the spread (max and mean per bin, ticks and bps), the smoothed imbalance and the trade flow. In a
notebook, ``pn.extension(inline=True)`` then ``MarketDataExplorer(dataset=...)`` as a cell's last
line shows the same page inline.

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

from mmlab.dashboards._format import human_duration, human_number, human_time
from mmlab.dashboards._market_bins import book_bins, infer_tick
from mmlab.data import DEPTH_BBO_EVENT, TRADE_EVENT, event_kind, is_buy, is_sell
from mmlab.errors import ConfigError

__all__ = [
    "MarketDataExplorer",
    "auto_interval",
    "book_bins",
    "book_frame",
    "format_summary",
    "infer_tick",
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
    """Headline statistics (one column ``value``): time span (a human duration), spread (also in
    ticks of :func:`infer_tick`), depth, imbalance, trade flow and realised volatility.

    Times are text to the millisecond, the span reads like ``'10 min 50.4 s'``; the other values
    are numbers (:func:`format_summary` renders them for a reader)."""
    if book.empty:
        raise ConfigError("book is empty: no two-sided quotes in the window")
    r = realized_vol(book, vol_interval)
    secs = pd.Timedelta(vol_interval).total_seconds()
    sigma_1s = float(r.std(ddof=1) / math.sqrt(secs)) if len(r) > 1 else float("nan")
    span = book.index[-1] - book.index[0]
    # time-weighted spread: each state lasts until the next one
    dur = np.diff(book.index.asi8, append=book.index.asi8[-1]).astype(float)
    tw_spread = float(np.average(book["spread"], weights=dur)) if dur.sum() > 0 else float(book["spread"].mean())
    try:
        tick = infer_tick(book)
    except ConfigError:
        tick = float("nan")
    rows = {
        "first update (UTC)": human_time(book.index[0]),
        "last update (UTC)": human_time(book.index[-1]),
        "span": human_duration(span),
        "book states": len(book),
        "mid first": book["mid"].iloc[0],
        "mid last": book["mid"].iloc[-1],
        "spread mean": book["spread"].mean(),
        "spread time-weighted mean": tw_spread,
        "spread median": book["spread"].median(),
        "spread min": book["spread"].min(),
        "spread max": book["spread"].max(),
        "spread mean (bps)": book["spread_bps"].mean(),
        "spread max (bps)": book["spread_bps"].max(),
        "tick size (inferred)": tick,
        "spread time-weighted mean (ticks)": tw_spread / tick,
        "spread max (ticks)": book["spread"].max() / tick,
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


def format_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """:func:`market_summary` for display: thousands separators, four significant digits, an em
    dash for a missing value (never ``NaN``).

    Examples
    --------
    >>> format_summary(pd.DataFrame({"value": [21313, 0.119976, float("nan")]}, index=list("abc")))["value"].tolist()
    ['21,313', '0.12', '—']
    """
    return pd.DataFrame({"value": [human_number(v) for v in summary["value"]]}, index=summary.index)


# --------------------------------------------------------------------------------------------
# Panel app


@functools.lru_cache(maxsize=8)
def _cached_book(catalog_path: str, name: str, levels: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    from mmlab.data import Catalog

    ev = Catalog(Path(catalog_path)).load(name)
    return book_frame(ev, levels), trades_frame(ev)


def _event_datasets(catalog) -> list[str]:
    df = catalog.list()
    kinds = {"binance", "lobster", "npz", "synthetic"}
    return [n for n, k in zip(df["name"], df["kind"], strict=True) if k in kinds]


def _naive_ms(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """UTC instants as naive millisecond datetimes for Bokeh (no nanoseconds to discard)."""
    return index.tz_convert("UTC").tz_localize(None).floor("ms").as_unit("ms")


def _window_step_ms(span: pd.Timedelta) -> int:
    """Slider step: about 2,000 steps over the data set, at least 10 ms."""
    return int(max(10, round(span.total_seconds() * 1e3 / 2000, -1)))


def _make_explorer():
    import holoviews as hv
    import holoviews.plotting.bokeh  # noqa: F401  (registers the backend the .opts below need)
    import panel as pn
    import param

    class MarketDataExplorer(pn.viewable.Viewer):
        """Pick a catalog data set and a time window; see the book and the trades per time bin.

        Displays inline in a notebook (after ``pn.extension(inline=True)``) and as the
        ``/market_data`` page of ``mmlab serve``.

        Parameters
        ----------
        catalog : Catalog or path, optional
            The data catalog (default: ``MMLAB_DATA_DIR`` or ``data/catalog``).
        dataset : str
            An event data set of the catalog (default: the first).
        window : tuple of datetime
            The time window shown, naive UTC (default: the whole data set; reset when the data set
            changes).
        levels : int
            Book levels summed into the depth (and its imbalance).
        smoothing : int
            Half-life of the imbalance smoothing, in bins.
        max_points : int
            At most this many bins per chart (the bin width follows the window).
        """

        dataset = param.Selector(default=None, objects=[], doc="Event data set in the catalog")
        window = param.DateRange(default=None, doc="Time window (UTC)")
        levels = param.Integer(default=5, bounds=(1, 10), doc="Book levels used for depth")
        smoothing = param.Integer(default=5, bounds=(1, 200), label="Imbalance smoothing (half-life, bins)",
                                  doc="Half-life of the imbalance EWMA, in bins")  # fmt: skip
        max_points = param.Integer(default=600, bounds=(50, 5000), label="Bins per chart (max)",
                                   doc="At most this many time bins per chart")  # fmt: skip

        def __init__(self, catalog=None, **params):
            from mmlab.data import Catalog, ensure_data_ready

            self._catalog = catalog if isinstance(catalog, Catalog) else Catalog(catalog)
            names = _event_datasets(self._catalog)
            if not names:
                ensure_data_ready(catalog=self._catalog)
                names = _event_datasets(self._catalog)
            window = params.pop("window", None)
            self._window_widget = None
            super().__init__(**params)
            self.param.dataset.objects = names
            if self.dataset not in names:
                self.dataset = names[0]
            else:
                self._reset_window()
            if window is not None:
                self.window = window

        # ---------------------------------------------------------------- data
        def _full(self):
            return _cached_book(str(self._catalog.path), self.dataset, self.levels)

        @param.depends("dataset", watch=True)
        def _reset_window(self):
            book, _ = self._full()
            lo, hi = _naive_ms(book.index[[0, -1]])
            lo, hi = lo.to_pydatetime(), (hi + pd.Timedelta("1ms")).to_pydatetime()
            self.param.window.bounds = (lo, hi)
            if self._window_widget is not None:
                self._window_widget.param.update(start=lo, end=hi, step=_window_step_ms(hi - lo))
            if self.window == (lo, hi):
                self.param.trigger("window")
            else:
                self.window = (lo, hi)

        def frames(self):
            """``(bins, book, trades, interval)`` of the current window: :func:`book_bins`, the
            windowed :func:`book_frame` and :func:`trades_frame`, and the bin width."""
            book, trades = self._full()
            lo, hi = self.window if self.window else (None, None)
            wb, wt = window(book, lo, hi), window(trades, lo, hi)
            if wb.empty:
                raise ConfigError(f"window: no two-sided book state of {self.dataset} between {lo} and {hi}")
            end = pd.Timestamp(hi, tz="UTC") if hi is not None else None
            span = (end if end is not None else wb.index[-1]) - wb.index[0]
            iv = auto_interval(span, self.max_points)
            bins = book_bins(wb, iv, tick=infer_tick(book), smooth_bins=self.smoothing,
                             end=min(end, book.index[-1]) if end is not None else None)  # fmt: skip
            return bins, wb, wt, iv

        # ---------------------------------------------------------------- views
        @param.depends("window", "levels", "smoothing", "max_points")
        def _view(self):
            try:
                bins, book, trades, iv = self.frames()
            except ConfigError as exc:
                return pn.pane.Alert(str(exc), alert_type="warning")
            t = _naive_ms(bins.index)
            tick = bins.attrs["tick"]
            common = dict(responsive=True, shared_axes=False, xlabel="time (UTC)", legend_position="right",
                          tools=["hover"], show_grid=True)  # fmt: skip
            bin_txt = human_duration(pd.Timedelta(iv))
            band = hv.Area((t, bins["bid_low"], bins["ask_high"]), "time", ["best bid", "best ask"],
                           label="best bid to best ask (range in bin)").opts(alpha=0.35, color="#1f77b4", line_width=0)  # fmt: skip
            mid = hv.Curve((t, bins["mid"]), "time", "price", label="mid (time-weighted)").opts(color="black", line_width=1.5)
            prices = (band * mid).opts(title=f"{self.dataset}: bid-ask band and mid (bins of {bin_txt})",
                                       height=300, ylabel="price", **common)  # fmt: skip
            s_ticks = (hv.Curve((t, bins["spread_ticks_max"]), "time", "spread (ticks)", label="max in bin")
                       .opts(interpolation="steps-post", color="#d62728")
                       * hv.Curve((t, bins["spread_ticks_mean"]), "time", "spread (ticks)", label="time-weighted mean")
                       .opts(interpolation="steps-post", color="#2ca02c")
                       ).opts(title=f"spread in ticks (tick {human_number(tick)}), log scale", height=220,
                              logy=True, **common)  # fmt: skip
            s_bps = (hv.Curve((t, bins["spread_bps_max"]), "time", "spread (bps)", label="max in bin")
                     .opts(interpolation="steps-post", color="#d62728")
                     * hv.Curve((t, bins["spread_bps_mean"]), "time", "spread (bps)", label="time-weighted mean")
                     .opts(interpolation="steps-post", color="#2ca02c")
                     ).opts(title="spread in basis points of the mid, log scale", height=220, logy=True,
                            **common)  # fmt: skip
            hl = human_duration(pd.Timedelta(iv) * self.smoothing)
            imb = (hv.Curve((t, bins["imbalance_1"]), "time", "imbalance", label="best level")
                   * hv.Curve((t, bins["imbalance_depth"]), "time", "imbalance", label=f"top {self.levels} levels")
                   * hv.HLine(0).opts(color="grey", line_dash="dotted", line_width=1)
                   ).opts(title=f"order-book imbalance, (bid - ask) / (bid + ask), smoothed (half-life {hl})",
                          ylim=(-1, 1), height=220, **common)  # fmt: skip
            flow = trade_flow(trades, iv) if len(trades) else None
            if flow is not None and len(flow):
                ft = _naive_ms(flow.index)
                trades_plot = (
                    hv.Spikes((ft, flow["buy_qty"]), "time", "quantity", label="bought (buyer-initiated)")
                    .opts(color="#2ca02c", line_width=2)
                    * hv.Spikes((ft, -flow["sell_qty"]), "time", "quantity", label="sold (seller-initiated)")
                    .opts(color="#d62728", line_width=2)
                    * hv.Curve((ft, flow["net_qty"]), "time", "quantity", label="net (bought - sold)")
                    .opts(color="black", line_width=1)
                ).opts(title=f"trade flow: signed volume per {bin_txt}", height=220, **common)  # fmt: skip
            else:
                trades_plot = pn.pane.Markdown("*No trades in this window.*")
            lo, hi = book.index[0], book.index[-1]
            head = pn.pane.Markdown(
                f"**{self.dataset}**: {human_time(lo)} to {human_time(hi)} ({human_duration(hi - lo)}), "
                f"{len(book):,} book states, {len(trades):,} trades; bins of {bin_txt}, tick "
                f"{human_number(tick)}.", sizing_mode="stretch_width")  # fmt: skip
            summary = format_summary(market_summary(book, trades)).rename(columns={"value": ""})
            return pn.Column(
                head, prices, s_ticks, s_bps, imb, trades_plot,
                pn.pane.Markdown("### Summary of the window"),
                pn.pane.DataFrame(summary, sizing_mode="stretch_width"),
                sizing_mode="stretch_width",
            )  # fmt: skip

        def _controls(self):
            lo, hi = self.param.window.bounds
            self._window_widget = pn.widgets.DatetimeRangeSlider.from_param(
                self.param.window, label="Time window (UTC)", start=lo, end=hi,
                step=_window_step_ms(hi - lo), format="%H:%M:%S", width=260)  # fmt: skip
            rest = pn.Param(self.param, parameters=["dataset", "levels", "smoothing", "max_points"],
                            width=280, name="Market data", show_name=True)  # fmt: skip
            return pn.Column(rest, self._window_widget, width=290)

        def __panel__(self):
            hv.extension("bokeh")
            return pn.Row(self._controls(), self._view, sizing_mode="stretch_width")

    return MarketDataExplorer


#: Built on first access by the module ``__getattr__`` (importing Panel is slow); declared for linters.
MarketDataExplorer: type


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
