"""Per-time-bin statistics of a rebuilt book, as the market-data explorer draws them (no Panel).

The book is a step function of time: each state holds until the next update. A bin's statistics
cover every state shown during the bin, including the one open at its start, so the maximum spread
of a bin is the widest spread actually quoted in it (the last value per bin hides peaks).
Re-exported by :mod:`mmlab.dashboards.market_data`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from mmlab.errors import ConfigError

__all__ = ["book_bins", "infer_tick"]


def infer_tick(book: pd.DataFrame) -> float:
    """The price tick of a book: the smallest positive gap between distinct prices quoted on any
    of its levels, rounded to 6 significant digits (the vendor files carry no tick size).

    Raises :class:`~mmlab.errors.ConfigError` when the book holds fewer than two distinct prices.

    Examples
    --------
    >>> from mmlab.data import synthetic_l2_events
    >>> from mmlab.dashboards import market_data as md
    >>> infer_tick(md.book_frame(synthetic_l2_events(session_seconds=5, seed=1), levels=3))
    0.01
    """
    cols = [c for c in book.columns if c.startswith(("bid_px_", "ask_px_"))]
    px = book[cols].to_numpy(dtype=float).ravel()
    px = np.unique(px[np.isfinite(px)])
    gaps = np.diff(px)
    gaps = gaps[gaps > 1e-12 * max(1.0, float(np.abs(px).max(initial=1.0)))]
    if gaps.size == 0:
        raise ConfigError("book: fewer than two distinct prices, the tick size cannot be inferred")
    return float(f"{gaps.min():.6g}")


def _time_weighted_bins(idx_ns: np.ndarray, values: dict[str, np.ndarray], step_ns: int,
                        end_ns: int | None = None) -> pd.DataFrame:  # fmt: skip
    """Per bin of ``step_ns``: min, max and time-weighted mean of step functions of time.

    A value holds from its update until the next one; the state prevailing at a bin's start (set in
    an earlier bin) counts in that bin too, so no bin is empty and a bin's maximum is the true
    maximum over the bin. The last state lasts until ``end_ns`` (default: the last update; a bin
    whose states all last zero time gets the plain mean). NaN values are skipped.
    """
    idx_ns = np.asarray(idx_ns, dtype=np.int64)
    end = int(idx_ns[-1] if end_ns is None else max(end_ns, idx_ns[-1]))
    t0 = (int(idx_ns[0]) // step_ns) * step_ns
    edges = np.arange(t0 + step_ns, end, step_ns, dtype=np.int64)
    edges = edges[edges > idx_ns[0]]
    carried = np.searchsorted(idx_ns, edges, side="right") - 1
    times = np.concatenate([idx_ns, edges])
    order = np.argsort(times, kind="stable")
    times = times[order]
    dur = np.diff(times, append=end).astype(float)
    bins = (times - t0) // step_ns
    starts = np.flatnonzero(np.r_[True, bins[1:] != bins[:-1]])
    out = {}
    for name, v in values.items():
        v = np.asarray(v, dtype=float)
        x = np.concatenate([v, v[carried]])[order]
        ok = np.isfinite(x)
        w = np.where(ok, dur, 0.0)
        xs = np.where(ok, x, 0.0)
        wsum = np.add.reduceat(w, starts)
        n = np.add.reduceat(ok.astype(float), starts)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(wsum > 0, np.add.reduceat(xs * w, starts) / np.where(wsum > 0, wsum, 1.0),
                            np.add.reduceat(xs, starts) / n)  # fmt: skip
        out[f"{name}_mean"] = np.where(n > 0, mean, np.nan)
        out[f"{name}_min"] = np.fmin.reduceat(x, starts)
        out[f"{name}_max"] = np.fmax.reduceat(x, starts)
    index = pd.DatetimeIndex(pd.to_datetime(t0 + bins[starts] * step_ns, unit="ns", utc=True), name="ts")
    return pd.DataFrame(out, index=index)


def book_bins(book: pd.DataFrame, interval: str, tick: float | None = None, smooth_bins: int = 10,
              end=None) -> pd.DataFrame:  # fmt: skip
    """The book per time bin, as the explorer draws it.

    Every statistic treats the book as a step function of time (a state holds until the next
    update; the state open at a bin's start counts in that bin), so a bin's maximum is the largest
    spread actually shown in it -- not the last value of the bin.

    Parameters
    ----------
    book : pandas.DataFrame
        :func:`mmlab.dashboards.market_data.book_frame` (or a window of it).
    interval : str
        Bin width, a pandas offset (``"1s"``, ``"5min"``).
    tick : float, optional
        Price tick (default :func:`infer_tick`).
    smooth_bins : int
        Half-life, in bins, of the exponential smoothing of the imbalances (1 = barely smoothed).
    end : timestamp, optional
        Until when the last state holds (default: the last update).

    Returns
    -------
    pandas.DataFrame
        Indexed by bin start (UTC): ``bid_low`` (lowest best bid), ``ask_high`` (highest best
        ask), ``mid`` (time-weighted mean), ``spread_ticks_max``, ``spread_ticks_mean``,
        ``spread_bps_max``, ``spread_bps_mean``, ``imbalance_1`` and ``imbalance_depth``
        (time-weighted mean per bin, then an EWMA with a half-life of ``smooth_bins`` bins).

    Examples
    --------
    >>> from mmlab.data import synthetic_l2_events
    >>> from mmlab.dashboards import market_data as md
    >>> b = md.book_frame(synthetic_l2_events(session_seconds=60, seed=1), levels=5)
    >>> bins = book_bins(b, "5s")  # 60 s of updates, the last one at 60.000003 s opens a 13th bin
    >>> len(bins), bool((bins["spread_ticks_max"] >= bins["spread_ticks_mean"]).all())
    (13, True)
    """
    if book.empty:
        raise ConfigError("book is empty: no two-sided quotes in the window")
    if isinstance(smooth_bins, bool) or not isinstance(smooth_bins, (int, np.integer)) or smooth_bins < 1:
        raise ConfigError(f"smooth_bins: a positive integer, got {smooth_bins!r}")
    try:
        step = int(pd.Timedelta(interval).value)
    except ValueError:
        raise ConfigError(f"interval: a pandas duration such as '1s' or '5min', got {interval!r}") from None
    if step <= 0:
        raise ConfigError(f"interval: must be positive, got {interval!r}")
    tick = infer_tick(book) if tick is None else float(tick)
    if not (math.isfinite(tick) and tick > 0):
        raise ConfigError(f"tick: finite and > 0, got {tick!r}")
    end_ns = None if end is None else int(pd.Timestamp(end).as_unit("ns").value)
    raw = _time_weighted_bins(book.index.asi8, {
        "bid": book["bid_px_1"].to_numpy(), "ask": book["ask_px_1"].to_numpy(), "mid": book["mid"].to_numpy(),
        "ticks": book["spread"].to_numpy() / tick, "bps": book["spread_bps"].to_numpy(),
        "imb1": book["imbalance_1"].to_numpy(), "imbd": book["imbalance_depth"].to_numpy(),
    }, step, end_ns)  # fmt: skip
    out = pd.DataFrame({
        "bid_low": raw["bid_min"], "ask_high": raw["ask_max"], "mid": raw["mid_mean"],
        "spread_ticks_max": raw["ticks_max"], "spread_ticks_mean": raw["ticks_mean"],
        "spread_bps_max": raw["bps_max"], "spread_bps_mean": raw["bps_mean"],
        "imbalance_1": raw["imb1_mean"].ewm(halflife=smooth_bins, ignore_na=True).mean(),
        "imbalance_depth": raw["imbd_mean"].ewm(halflife=smooth_bins, ignore_na=True).mean(),
    })  # fmt: skip
    out.attrs.update(interval=interval, tick=tick, smooth_bins=int(smooth_bins))
    return out
