"""Rebuild an order book from events: top-N snapshots on request, or a fast replay."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mmlab.book._state import BookState, book_columns
from mmlab.errors import ConfigError

__all__ = ["rebuild", "replay"]


def replay(
    events: np.ndarray,
    *,
    tick_size: float | None = None,
    side: str = "exch",
    check_crossed: bool = True,
    engine: str = "numba",
    source: str | Path | None = None,
) -> BookState:
    """Apply every event to a fresh book without materialising snapshots; the final state.

    The fast path (numba kernel, one pass). Use the returned :class:`BookState` for the top of
    the book at the end, per-price quantities and L3 queries (``queue_ahead(order_id)``), or feed
    it more events with :meth:`BookState.apply`.

    Parameters
    ----------
    events : numpy.ndarray
        ``EVENT_DTYPE`` events in time order.
    tick_size : float, optional
        Price grid; default inferred from the events (:func:`infer_tick_size`).
    side : {"exch", "local"}
        Apply the events flagged ``EXCH_EVENT`` (default) or ``LOCAL_EVENT``; an event carrying
        both is applied once.
    check_crossed : bool
        Raise :class:`~mmlab.CrossedBookError` (naming the vendor row) when the book is crossed
        after the last event of a vendor row (``ival``).
    engine : {"numba", "python"}
        Compiled kernel or its plain-Python twin.
    source : str or Path, optional
        File name used in error messages.

    Returns
    -------
    BookState

    Examples
    --------
    >>> from mmlab._paths import shipped
    >>> from mmlab.data import load_lobster
    >>> ev = load_lobster(shipped("lobster", "AAPL_2012-06-21_34200000_57600000_message_10.csv"))
    >>> b = replay(ev)
    >>> b.best_bid, b.best_ask  # orderbook file, last row: 5853500 / 5857100 x 1e-4
    (585.35, 585.71)
    """
    return BookState(tick_size=tick_size, side=side, engine=engine).apply(
        events, check_crossed=check_crossed, source=source
    )


def rebuild(
    events: np.ndarray,
    levels: int = 10,
    *,
    tick_size: float | None = None,
    side: str = "exch",
    check_crossed: bool = True,
    per: str = "event",
    engine: str = "numba",
    source: str | Path | None = None,
) -> pd.DataFrame:
    """Top-``levels`` book after each event (or after each vendor row).

    Parameters
    ----------
    events : numpy.ndarray
        ``EVENT_DTYPE`` events in time order.
    levels : int
        Levels per side in the output.
    per : {"event", "row"}
        One output row per applied event (default), or one per vendor row (``ival``): the state
        after the row's last event, which is what a vendor's own snapshot shows.
    tick_size, side, check_crossed, engine, source
        As in :func:`replay`.

    Returns
    -------
    pandas.DataFrame
        Columns ``ask_px_1, ask_qty_1, bid_px_1, bid_qty_1, ..., bid_qty_N`` (prices in currency
        units; an empty level has price NaN and quantity 0), then ``src_row`` (the event's
        ``ival``) and ``exch_ts`` (int64 UTC ns). Events not carrying ``side``'s flag are skipped.

    Examples
    --------
    >>> from mmlab._paths import shipped
    >>> from mmlab.data import load_lobster
    >>> ev = load_lobster(shipped("lobster", "AAPL_2012-06-21_34200000_57600000_message_10.csv"))
    >>> df = rebuild(ev, levels=2, per="row")
    >>> df.loc[0, ["ask_px_1", "ask_qty_1", "bid_px_1", "bid_qty_1"]].tolist()  # orderbook row 0
    [585.94, 200.0, 585.33, 18.0]
    """
    if not isinstance(levels, int | np.integer) or levels < 1:
        raise ConfigError(f"levels must be a positive integer, got {levels!r}")
    if per not in ("event", "row"):
        raise ConfigError(f"per must be 'event' or 'row', got {per!r}")
    book = BookState(tick_size=tick_size, side=side, engine=engine)
    out, ev = book.apply(
        events, check_crossed=check_crossed, snapshot_levels=int(levels), per_row=per == "row",
        source=source, _return_snapshots=True,
    )
    df = pd.DataFrame(out, columns=book_columns(int(levels)))
    if per == "row":
        last = np.flatnonzero(np.r_[np.diff(ev["ival"]) != 0, True]) if len(ev) else np.array([], int)
        ev = ev[last]
    df["src_row"] = ev["ival"]
    df["exch_ts"] = ev["exch_ts"]
    return df
