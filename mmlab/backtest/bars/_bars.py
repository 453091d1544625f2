"""OHLCV bars for bar-level research: klines from the shipped Binance trades, S&P 500 daily bars.

``klines(trades, freq)`` aggregates trades into bars the way Binance builds its klines: bars are
left-closed ``[t, t + freq)``, labelled by their open time, aligned on whole multiples of
``freq`` since the Unix epoch (1 s bars start on whole seconds, 1 min bars on whole minutes), and
use the trade (exchange) time. Bars with no trade are kept (the grid has no holes): their
open/high/low/close repeat the previous close and ``volume == n_trades == 0``, as a Binance
kline with no trade does. The bar-level market maker fills nothing in such a bar.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mmlab.errors import ConfigError, DataError

__all__ = ["BAR_COLUMNS", "klines", "sp500_bars"]

#: Columns every bar frame has (extra columns are kept).
BAR_COLUMNS = ("open", "high", "low", "close", "volume")


def freq_ns(freq) -> int:
    """A bar length as whole nanoseconds (``'1s'``, ``'1min'``, ``'250ms'``, a Timedelta...).

    Examples
    --------
    >>> freq_ns("1min")
    60000000000
    """
    try:
        td = pd.Timedelta(freq)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"freq: not a fixed bar length, got {freq!r}") from exc
    ns = int(td.value)
    if ns <= 0:
        raise ConfigError(f"freq: must be > 0, got {freq!r}")
    return ns


def _trades_frame(trades):
    """The trades table, the bookTicker table (or None) and the source file (for messages)."""
    if isinstance(trades, pd.DataFrame):
        return trades, None, None
    if hasattr(trades, "trades") and isinstance(trades.trades, pd.DataFrame):
        files = getattr(trades, "files", None)
        return trades.trades, getattr(trades, "book_ticker", None), (files[0] if files else None)
    if isinstance(trades, str | Path) or (isinstance(trades, list | tuple) and trades):
        from mmlab.data import read_binance

        s = read_binance(trades, check_crossed=False)
        return s.trades, s.book_ticker, s.files[0]
    raise ConfigError("trades: expected a trades DataFrame (px, qty, exch_ts), a BinanceStream "
                      f"or Binance file path(s), got {type(trades).__name__}")


def klines(trades, freq="1s", *, time: str = "exch_ts", book=None) -> pd.DataFrame:
    """OHLCV bars (klines) from trades.

    Parameters
    ----------
    trades : DataFrame, BinanceStream or path(s)
        A trades table with ``px``, ``qty`` and the ``time`` column in UTC ns (the ``trades``
        table of :func:`mmlab.data.read_binance`), the stream itself, or Binance file(s) to
        read. Rows whose ``market`` column is False (non-market futures trades) are left out.
    freq : str or Timedelta, default ``'1s'``
        Bar length (``'1s'``, ``'1min'``, any fixed pandas length).
    time : str, default ``'exch_ts'``
        The timestamp column (``'exch_ts'`` = Binance's trade time ``T``, as Binance klines;
        ``'local_ts'`` for the recorder's clock).
    book : DataFrame, optional
        Best bid/ask updates (``bid_px``, ``ask_px`` and the ``time`` column), by default the
        stream's ``book_ticker`` table when ``trades`` is a stream or a path; then the bars also
        have ``best_bid``, ``best_ask``: the quote in force at the bar's close (the last update
        at or before it, carried over bars without one; NaN before the first).

    Returns
    -------
    pandas.DataFrame
        Index ``time`` (UTC bar open); ``open, high, low, close`` (first, max, min, last trade
        price in time order, file order among equal times), ``volume`` (base quantity),
        ``quote_volume`` (sum of price x quantity), ``n_trades``, ``buy_volume`` (quantity of
        buyer-aggressor trades, when the table has ``aggressor``), ``vwap`` (NaN with no trade)
        and ``ts`` (bar open, int64 ns). ``attrs['freq_ns']`` holds the bar length.

    Raises
    ------
    ConfigError
        Missing columns, no trades, bad ``freq``.
    DataError
        A non-finite or non-positive price or a negative quantity (names the file's line).

    Examples
    --------
    >>> t = pd.DataFrame({"exch_ts": [0, 400_000_000, 1_500_000_000, 3_100_000_000],
    ...                   "px": [10.0, 11.0, 9.0, 12.0], "qty": [1.0, 2.0, 1.0, 1.0]})
    >>> k = klines(t, "1s")
    >>> k[["open", "high", "low", "close", "volume", "n_trades"]].to_numpy().tolist()
    ... # doctest: +NORMALIZE_WHITESPACE
    [[10.0, 11.0, 10.0, 11.0, 3.0, 2.0], [9.0, 9.0, 9.0, 9.0, 1.0, 1.0],
     [9.0, 9.0, 9.0, 9.0, 0.0, 0.0], [12.0, 12.0, 12.0, 12.0, 1.0, 1.0]]
    """
    df, bt, src = _trades_frame(trades)
    if book is not None:
        bt = book
    step = freq_ns(freq)
    for col in ("px", "qty", time):
        if col not in df.columns:
            raise ConfigError(f"trades: missing column {col!r} (have {list(df.columns)})")
    if "market" in df.columns:
        df = df[df["market"].to_numpy(dtype=bool)]
    if len(df) == 0:
        raise ConfigError("trades: no trades")
    ts = df[time].to_numpy(dtype=np.int64)
    px = df["px"].to_numpy(dtype=np.float64)
    qty = df["qty"].to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(px) | (px <= 0) | ~np.isfinite(qty) | (qty < 0))
    if bad.size:
        i = int(bad[0])
        row = int(df["line"].iloc[i]) if "line" in df.columns else i
        raise DataError(f"trade price {px[i]!r} / quantity {qty[i]!r} is invalid", path=src,
                        row=row)
    order = np.argsort(ts, kind="stable")
    ts, px, qty = ts[order], px[order], qty[order]
    buy = None
    if "aggressor" in df.columns:
        buy = (df["aggressor"].to_numpy() == "buy")[order]
    b = ts // step  # floor division: also right for times before the epoch
    first = int(b[0])
    nbar = int(b[-1]) - first + 1
    k = (b - first).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    ends = np.r_[starts[1:], k.size] - 1
    where = k[starts]
    n = np.zeros(nbar, dtype=np.int64)
    n[where] = ends - starts + 1
    o = np.full(nbar, np.nan)
    h = np.full(nbar, np.nan)
    lo = np.full(nbar, np.nan)
    c = np.full(nbar, np.nan)
    o[where] = px[starts]
    c[where] = px[ends]
    h[where] = np.maximum.reduceat(px, starts)
    lo[where] = np.minimum.reduceat(px, starts)
    vol = np.zeros(nbar)
    qv = np.zeros(nbar)
    vol[where] = np.add.reduceat(qty, starts)
    qv[where] = np.add.reduceat(qty * px, starts)
    # empty bars: flat at the previous close (a bar with no trade after the first always has one)
    last = pd.Series(c).ffill().to_numpy()
    empty = n == 0
    o[empty] = h[empty] = lo[empty] = c[empty] = last[empty]
    t0 = np.arange(first, first + nbar, dtype=np.int64) * step
    out = pd.DataFrame({"open": o, "high": h, "low": lo, "close": c, "volume": vol,
                        "quote_volume": qv, "n_trades": n},
                       index=pd.DatetimeIndex(pd.to_datetime(t0, utc=True), name="time"))
    if buy is not None:
        bv = np.zeros(nbar)
        bv[where] = np.add.reduceat(np.where(buy, qty, 0.0), starts)
        out["buy_volume"] = bv
    with np.errstate(invalid="ignore", divide="ignore"):
        out["vwap"] = np.where(n > 0, qv / np.where(vol > 0, vol, 1.0), np.nan)
    out["ts"] = t0
    if bt is not None and len(bt):
        out["best_bid"], out["best_ask"] = _bbo_at_close(bt, time, step, first, nbar)
    out.attrs["freq_ns"] = step
    return out


def _bbo_at_close(bt: pd.DataFrame, time: str, step: int, first: int, nbar: int):
    """Best bid/ask in force at each bar's close: the last update at or before it."""
    for c in ("bid_px", "ask_px", time):
        if c not in bt.columns:
            raise ConfigError(f"book: missing column {c!r} (have {list(bt.columns)})")
    ts = bt[time].to_numpy(dtype=np.int64)
    order = np.argsort(ts, kind="stable")
    k = np.maximum(ts[order] // step - first, 0)  # updates before the first bar seed bar 0
    keep = k < nbar
    k = k[keep]
    bid = bt["bid_px"].to_numpy(dtype=np.float64)[order][keep]
    ask = bt["ask_px"].to_numpy(dtype=np.float64)[order][keep]
    last = np.flatnonzero(np.r_[k[1:] != k[:-1], True]) if k.size else k
    b = np.full(nbar, np.nan)
    a = np.full(nbar, np.nan)
    b[k[last]] = bid[last]
    a[k[last]] = ask[last]
    return pd.Series(b).ffill().to_numpy(), pd.Series(a).ffill().to_numpy()


def sp500_bars(path=None) -> pd.DataFrame:
    """S&P 500 daily bars for bar-level research (default: the shipped 1999-2018 file).

    The columns of :func:`mmlab.data.load_sp500_daily` plus ``ts`` (the date at 00:00 UTC, ns);
    ``attrs['freq_ns']`` is one day (bars are trading days: weekends and holidays are absent,
    not empty bars). An index has no trade count: a daily bar always counts as traded.

    Examples
    --------
    >>> spx = sp500_bars()
    >>> len(spx), float(spx["close"].iloc[-1])   # 12/31/2018 close 2506.850098 (vendor file)
    (5031, 2506.850098)
    """
    from mmlab._paths import shipped
    from mmlab.data import load_sp500_daily

    df = load_sp500_daily(shipped("equity", "sp500_daily_1999-2018.csv.gz") if path is None
                          else path)
    df = df.copy()
    df["ts"] = df.index.tz_localize("UTC").asi8 if df.index.tz is None else df.index.asi8
    df.attrs["freq_ns"] = 86_400 * 10**9
    return df


def check_bars(bars: pd.DataFrame, name: str = "bars") -> None:
    """Validate a bar frame: OHLC columns, finite positive prices, ``low <= open, close <= high``.

    Raises :class:`~mmlab.errors.DataError` naming the first bad bar (position and label).

    Examples
    --------
    >>> check_bars(pd.DataFrame({"open": [1.0, 1.0], "high": [1.0, 0.5], "low": [1.0, 0.4],
    ...                          "close": [1.0, 1.0], "volume": [1.0, 1.0]}))
    Traceback (most recent call last):
    ...
    mmlab.errors.DataError: bars, row 1: bad bar 1: open 1.0 high 0.5 low 0.4 close 1.0
    """
    if not isinstance(bars, pd.DataFrame):
        raise ConfigError(f"{name}: expected a DataFrame of OHLCV bars, got {type(bars).__name__}")
    missing = [c for c in BAR_COLUMNS if c not in bars.columns]
    if missing:
        raise ConfigError(f"{name}: missing columns {missing} (need {list(BAR_COLUMNS)})")
    if len(bars) < 2:
        raise ConfigError(f"{name}: need at least 2 bars, got {len(bars)}")
    o, h, lo, c = (bars[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close"))
    bad = ~(np.isfinite(o) & np.isfinite(h) & np.isfinite(lo) & np.isfinite(c))
    bad |= (lo <= 0) | (h < np.maximum(o, c)) | (lo > np.minimum(o, c))
    idx = np.flatnonzero(bad)
    if idx.size:
        i = int(idx[0])
        raise DataError(f"bad bar {bars.index[i]}: open {o[i]} high {h[i]} low {lo[i]} "
                        f"close {c[i]}", path=name, row=i)
