"""The loaded Binance stream (:class:`BinanceStream`) and the loader options (see
:mod:`mmlab.data._binance`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mmlab.data._events import (
    EXCH_EVENT,
    LOCAL_EVENT,
)
from mmlab.errors import (
    ConfigError,
)

__all__ = ['BinanceStream']

_BOTH = EXCH_EVENT | LOCAL_EVENT
_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class _Options:
    base_feed_latency_ns: int
    clock_offset_ns: int | None
    on_gap: str
    book_ticker: bool
    include_non_market_trades: bool
    check_crossed: bool
    fast: bool

    def __post_init__(self):
        if int(self.base_feed_latency_ns) != self.base_feed_latency_ns \
                or self.base_feed_latency_ns < 0:
            raise ConfigError(
                f"base_feed_latency_ns must be a non-negative integer (ns), "
                f"got {self.base_feed_latency_ns!r}")
        if self.clock_offset_ns is not None and int(self.clock_offset_ns) != self.clock_offset_ns:
            raise ConfigError(f"clock_offset_ns must be an integer (ns) or None, "
                              f"got {self.clock_offset_ns!r}")
        if self.on_gap not in ("raise", "resync"):
            raise ConfigError(f"on_gap must be 'raise' or 'resync', got {self.on_gap!r}")


@dataclass(slots=True)
class BinanceStream:
    """A loaded Binance stream: events, tables and provenance.

    Attributes
    ----------
    events : ndarray of EVENT_DTYPE
        The events (see the module docstring).
    files : list of Path
        The files, in stream order.
    line_offsets : ndarray of int64
        ``ival`` of each file's first line (``len(files) + 1`` entries, last = total lines).
    clock_offset_ns : int
        Added to every raw local timestamp (estimated unless given).
    clock_offset_estimated : bool
        Whether ``clock_offset_ns`` was estimated from the data.
    base_feed_latency_ns : int
        The minimum feed latency the estimate aligns to.
    depth_updates, trades, book_ticker, snapshots : DataFrame
        One row per message of each kind (see :func:`load_binance_frames`).
    gaps : list of dict
        Sequence gaps resynchronised under ``on_gap="resync"`` (empty otherwise).
    """

    events: np.ndarray
    files: list[Path]
    line_offsets: np.ndarray
    clock_offset_ns: int
    clock_offset_estimated: bool
    base_feed_latency_ns: int
    depth_updates: pd.DataFrame
    trades: pd.DataFrame
    book_ticker: pd.DataFrame
    snapshots: pd.DataFrame
    gaps: list = field(default_factory=list)

    def source(self, ival: int) -> tuple[Path, int]:
        """The file and its 1-based line for an event's ``ival``.

        Examples
        --------
        >>> from mmlab._paths import shipped
        >>> from mmlab.data import read_binance
        >>> s = read_binance(shipped("binance", "usdm_ethusdt_20240808.gz"))
        >>> s.source(40)[1]
        41
        """
        k = int(np.searchsorted(self.line_offsets, ival, side="right")) - 1
        if ival < 0 or k >= len(self.files):
            raise ConfigError(f"ival {ival} is outside the stream (0..{self.line_offsets[-1] - 1})")
        return self.files[k], int(ival - self.line_offsets[k]) + 1

    def frames(self) -> dict[str, pd.DataFrame]:
        """The tidy tables: ``depth_updates``, ``trades``, ``book_ticker``, ``snapshots``."""
        return {"depth_updates": self.depth_updates, "trades": self.trades,
                "book_ticker": self.book_ticker, "snapshots": self.snapshots}

    def summary(self) -> str:
        """A short text summary (files, counts, clock offset).

        Examples
        --------
        >>> from mmlab._paths import shipped
        >>> from mmlab.data import read_binance
        >>> print(read_binance(shipped("binance", "usdm_ethusdt_20240808.gz")).summary())
        ... # doctest: +ELLIPSIS
        Binance stream: 1 file(s), 74655 lines, ... events
        ...
        """
        du = self.depth_updates
        return "\n".join([
            f"Binance stream: {len(self.files)} file(s), {int(self.line_offsets[-1])} lines, "
            f"{len(self.events)} events",
            f"  depth updates: {len(du)} ({int(du['applied'].sum())} applied), "
            f"trades: {len(self.trades)}, bookTicker: {len(self.book_ticker)}, "
            f"snapshots: {len(self.snapshots)}, gaps resynced: {len(self.gaps)}",
            f"  clock offset: {self.clock_offset_ns / 1e9:+.6f} s "
            f"({'estimated' if self.clock_offset_estimated else 'given'}), "
            f"base feed latency {self.base_feed_latency_ns} ns",
        ])

    def to_frame(self) -> pd.DataFrame:
        """The events as a DataFrame (one row per event)."""
        return pd.DataFrame(self.events)

    def plot(self):
        """hvPlot: bookTicker best bid/ask and trades over time, and the feed latency.

        Returns a HoloViews layout (two panels, UTC time axis; trades decimated to at most
        20,000 points so the page stays light).
        """
        import hvplot.pandas  # noqa: F401

        bt = self.book_ticker
        top = pd.DataFrame({"time": pd.to_datetime(bt["local_ts"].to_numpy(), utc=True),
                            "bid": bt["bid_px"].to_numpy(), "ask": bt["ask_px"].to_numpy()})
        tr = self.trades.iloc[:: max(1, len(self.trades) // 20_000)]
        trades = pd.DataFrame({"time": pd.to_datetime(tr["local_ts"].to_numpy(), utc=True),
                               "px": tr["px"].to_numpy(), "aggressor": tr["aggressor"].to_numpy()})
        du = self.depth_updates
        lat = pd.DataFrame({"time": pd.to_datetime(du["local_ts"].to_numpy(), utc=True),
                            "feed latency (ms)": (du["local_ts"] - du["exch_ts"]).to_numpy() / 1e6})
        prices = (top.hvplot.step(x="time", y=["bid", "ask"], title="best bid/ask (bookTicker)")
                  * trades.hvplot.scatter(x="time", y="px", by="aggressor", size=4))
        latency = lat.hvplot.line(x="time", y="feed latency (ms)",
                                  title="depth feed latency (clock-offset corrected)")
        return (prices + latency).cols(1)

