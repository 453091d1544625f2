"""Binance spot and USD-M futures websocket dumps -> mmlab events and tidy tables.

File format
-----------
gzip text (plain text is accepted too), one message per line::

    <local receive time, 19-digit UTC ns> <JSON>

Websocket messages are combined-stream objects ``{"stream": "<sym>@<kind>", "data": {...}}``:

* ``<sym>@depth@100ms`` (spot) / ``<sym>@depth@0ms`` (USD-M): diff depth, ``U`` first and ``u``
  final update id, futures also ``pu`` (the previous message's ``u``), ``b``/``a`` lists of
  ``[price, new total quantity]`` (quantity 0 deletes the level: legitimate);
* ``<sym>@trade``: ``p``, ``q``, trade time ``T``, ``m`` = buyer is the maker (futures also
  ``X``, the trade type: ``MARKET``, ``LIQUIDATION``, ``INSURANCE_FUND``, ``ADL``...);
* ``<sym>@bookTicker``: best bid ``b``/``B`` and ask ``a``/``A`` with update id ``u`` (futures also
  ``E``/``T``; spot bookTicker carries no timestamp at all).

One line near the start (not line 1) is the REST depth snapshot
``{"lastUpdateId": L, "bids": [...], "asks": [...]}`` (futures add ``E``/``T``).

Reconciliation (Binance's documented procedure)
-----------------------------------------------
Diffs received before the snapshot are buffered. Then, spot: drop every diff with ``u <= L``; the
first applied diff must have ``U <= L + 1 <= u``; every later one ``U == previous u + 1``.
USD-M: drop ``u < L``; the first applied has ``U <= L <= u``; every later one ``pu == previous u``.
Any violation is a :class:`~mmlab.errors.SequenceGapError` naming the file and line, unless
``on_gap="resync"``: then the loader emits one ``DEPTH_CLEAR`` with neither side flag (both sides,
entirely: hftbacktest's ``Side::None`` clear) at the gap, drops diffs until the next snapshot line
in the stream, and records the gap in :attr:`BinanceStream.gaps`.
A list of consecutive files is one stream (``spot_btcusdt_20240809.gz`` continues the 08-08 file and
has no snapshot of its own; alone it raises a clear error).

Events
------
Rows are in local (receive) order, each flagged ``EXCH_EVENT | LOCAL_EVENT`` (one event seen on
both sides; use :func:`mmlab.data.to_hftbacktest_order` for hftbacktest's split ordering):

* snapshot: ``DEPTH_CLEAR | BUY`` (px = deepest snapshot bid, hftbacktest's "clear up to"), one
  ``DEPTH_SNAPSHOT | BUY`` per bid, then the same for asks;
* each applied diff level: ``DEPTH | BUY`` (bid) or ``DEPTH | SELL`` (ask), qty = new total;
  diffs received before the snapshot but applied after it are emitted right after the snapshot,
  with the snapshot's local timestamp (the moment they could be applied);
* trades: ``TRADE | SELL`` when the buyer is the maker (seller-initiated), else ``TRADE | BUY``;
  futures trades whose ``X`` is not ``MARKET`` are skipped like hftbacktest does
  (``include_non_market_trades=True`` keeps them);
* bookTicker: two ``DEPTH_BBO`` rows, ``BUY`` = best bid (px, qty), ``SELL`` = best ask. They are
  information about the top of book, not book updates: an L2 rebuild must not apply them (the
  bookTicker and depth streams interleave, a stale bookTicker would resurrect a level).
  ``book_ticker=False`` leaves them out.

``ival`` is the 0-based line number in the concatenated stream (:meth:`BinanceStream.source` maps
it back to the file and its 1-based line); ``order_id`` and ``fval`` are 0.

Timestamps
----------
``exch_ts`` follows hftbacktest's converter: the transaction time ``T`` (ms -> ns) where the
message has one (futures depth, all trades, futures bookTicker, futures snapshot), else the event
time ``E`` (spot depth). Spot bookTicker messages and the spot snapshot carry no exchange time:
their ``exch_ts`` is *estimated* as ``local_ts - base_feed_latency_ns`` (corrected clock), i.e.
they are given the minimum feed latency; the tables flag them (``exch_ts_estimated``).
``local_ts`` is the receive time corrected for the recorder's clock offset
(:mod:`mmlab.data._clock`): the offset is estimated so that the minimum feed latency over all
messages with a real exchange time equals ``base_feed_latency_ns`` (about +1.272 s in the shipped
files), or given explicitly with ``clock_offset_ns``.

Errors name the file and the 1-based line (``row``), as ``sed -n '<row>p'`` counts it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
from numba import njit

from mmlab.data import _binance_scan as S
from mmlab.data._clock import clock_offset_from_latency
from mmlab.data._events import (
    BUY_EVENT,
    DEPTH_BBO_EVENT,
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    EVENT_DTYPE,
    EXCH_EVENT,
    LOCAL_EVENT,
    SELL_EVENT,
    TRADE_EVENT,
)
from mmlab.data._validate import RULES, read_input
from mmlab.errors import (
    ConfigError,
    CrossedBookError,
    DataError,
    DuplicateError,
    FormatError,
    RangeError,
    SequenceGapError,
    TimestampOrderError,
)

__all__ = [
    "BinanceStream",
    "estimate_clock_offset",
    "first_crossed_event",
    "first_crossed_event_python",
    "load_binance",
    "load_binance_frames",
    "read_binance",
]

_BOTH = EXCH_EVENT | LOCAL_EVENT
_MS = 1_000_000


# ----------------------------------------------------------------------------------------------
# reading and scanning one file
# ----------------------------------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    """The decompressed file, read within the limits of :mod:`mmlab.data._validate` (gzip
    ratio, input size, line length); a last line without its newline is a truncated file."""
    return read_input(path, final_newline=RULES["binance"].final_newline)


class _File:
    """Per-line arrays of one scanned file (lines numbered 0.. within the file)."""

    def __init__(self, path: Path, fast: bool):
        self.path = path
        buf = _read_bytes(path)
        arr = np.frombuffer(buf, dtype=np.uint8)
        nl = np.flatnonzero(arr == 10)
        starts = np.concatenate([np.zeros(1, np.int64), nl + 1])
        ends = np.concatenate([nl, np.array([arr.size], np.int64)])
        if starts[-1] == ends[-1]:  # the file ends with a newline
            starts, ends = starts[:-1], ends[:-1]
        empty = np.flatnonzero(ends <= starts)
        if empty.size:
            raise FormatError("empty line", path=path, row=int(empty[0]) + 1)
        n = starts.size
        if n == 0:
            raise FormatError("the file holds no messages", path=path, row=1)
        cap = int(np.count_nonzero(arr == 91)) if fast else 0
        (self.local_ts, self.kind, self.ints, self.flts, self.flags, lvl_px, lvl_qty, lvl_side,
         lvl_line) = S._alloc(n, cap)
        n_lvl = S.scan_lines(arr, starts, ends, self.local_ts, self.kind, self.ints, self.flts,
                             self.flags, lvl_px, lvl_qty, lvl_side, lvl_line) if fast else 0
        self.n = n
        self.snap_lvls: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        slow = np.flatnonzero(self.kind == S.KIND_SLOW)
        ex_px: list[float] = []
        ex_qty: list[float] = []
        ex_side: list[int] = []
        ex_line: list[int] = []
        for i in slow.tolist():
            self._slow_line(buf[starts[i]:ends[i]], i, ex_px, ex_qty, ex_side, ex_line)
        if ex_px:
            lvl_px = np.concatenate([lvl_px[:n_lvl], np.asarray(ex_px, np.float64)])
            lvl_qty = np.concatenate([lvl_qty[:n_lvl], np.asarray(ex_qty, np.float64)])
            lvl_side = np.concatenate([lvl_side[:n_lvl], np.asarray(ex_side, np.int8)])
            lvl_line = np.concatenate([lvl_line[:n_lvl], np.asarray(ex_line, np.int64)])
            order = np.argsort(lvl_line, kind="stable")
            lvl_px, lvl_qty, lvl_side, lvl_line = (
                lvl_px[order], lvl_qty[order], lvl_side[order], lvl_line[order])
        else:
            lvl_px, lvl_qty, lvl_side, lvl_line = (
                lvl_px[:n_lvl], lvl_qty[:n_lvl], lvl_side[:n_lvl], lvl_line[:n_lvl])
        self.lvl_px, self.lvl_qty = lvl_px, lvl_qty
        self.lvl_side, self.lvl_line = lvl_side, lvl_line
        self._validate()

    # -- the authoritative (orjson) parser ---------------------------------------------------
    def _err(self, cls, msg: str, i: int):
        return cls(msg, path=self.path, row=i + 1)

    def _num(self, v, what: str, i: int) -> float:
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            raise self._err(FormatError, f"{what} is not a number: {v!r}", i)
        try:
            x = float(v)
        except ValueError:
            raise self._err(FormatError, f"{what} is not numeric: {v!r}", i) from None
        if not math.isfinite(x):
            raise self._err(FormatError, f"{what} is {v!r} (NaN/inf where a number is required)",
                            i)
        if x < 0:
            kind = "size" if ("qty" in what or "quantity" in what) else "value"
            raise self._err(DataError, f"negative {kind}: {what} = {v!r}", i)
        return x

    def _int(self, d: dict, key: str, i: int, required: bool = True) -> int:
        v = d.get(key)
        if v is None:
            if required:
                raise self._err(FormatError, f"missing field {key!r}", i)
            return -1
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise FormatError(f"not a non-negative integer: {v!r}"[:80], path=self.path, row=i + 1,
                              column=key)
        if v > 2**53:  # bounded before it meets an int64 column (2**64 - 1 would overflow)
            raise RangeError(f"{v} is outside the plausible range of an id or ms timestamp "
                             "(<= 2**53)", path=self.path, row=i + 1, column=key)
        return v

    def _levels(self, lst, side: int, what: str, i: int, px, qty, sides, lines):
        if not isinstance(lst, list):
            raise self._err(FormatError, f"{what} is not a list", i)
        for lv in lst:
            if not isinstance(lv, list) or len(lv) != 2:
                raise self._err(FormatError, f"{what} level is not [price, qty]: {lv!r}", i)
            px.append(self._num(lv[0], f"{what} price", i))
            qty.append(self._num(lv[1], f"{what} qty", i))
            sides.append(side)
            lines.append(i)

    def _slow_line(self, line: bytes, i: int, ex_px, ex_qty, ex_side, ex_line):
        sp = line.find(b" ")
        head = line[:sp] if sp > 0 else line
        if sp <= 0 or not head.isdigit():
            raise self._err(FormatError, "line does not start with '<local ns> <JSON>'", i)
        if len(head) != 19:
            raise self._err(FormatError, f"local timestamp {head.decode()!r} is not 19-digit UTC "
                            "nanoseconds", i)
        self.local_ts[i] = int(head)
        try:
            msg = orjson.loads(line[sp + 1:])
        except orjson.JSONDecodeError as exc:
            raise self._err(FormatError, f"malformed JSON: {exc}", i) from None
        if not isinstance(msg, dict):
            raise self._err(FormatError, "JSON message is not an object", i)
        ints, flts, flags = self.ints[i], self.flts[i], self.flags[i]
        ints[:] = -1
        flts[:] = np.nan
        flags[:] = (-1, -1, 0)
        if "lastUpdateId" in msg:
            self.kind[i] = S.KIND_SNAPSHOT
            ints[S.I_UL] = self._int(msg, "lastUpdateId", i)
            ints[S.I_E] = self._int(msg, "E", i, required=False)
            ints[S.I_T] = self._int(msg, "T", i, required=False)
            bp: list[float] = []
            bq: list[float] = []
            bs: list[int] = []
            bl: list[int] = []
            self._levels(msg.get("bids"), 1, "snapshot bids", i, bp, bq, bs, bl)
            self._levels(msg.get("asks"), 2, "snapshot asks", i, bp, bq, bs, bl)
            self.snap_lvls[i] = (np.asarray(bp, np.float64), np.asarray(bq, np.float64),
                                 np.asarray(bs, np.int8))
            return
        if "code" in msg and "msg" in msg:
            raise self._err(FormatError, f"error response in the feed: {msg!r}"[:200], i)
        stream, data = msg.get("stream"), msg.get("data")
        if not isinstance(stream, str) or not isinstance(data, dict):
            raise self._err(FormatError, "not a combined-stream message {stream, data}", i)
        suffix = stream.split("@", 1)[1] if "@" in stream else ""
        etype = data.get("e")
        if suffix == "depth" or suffix.startswith("depth@"):
            kind, want = S.KIND_DEPTH, "depthUpdate"
        elif suffix == "trade":
            kind, want = S.KIND_TRADE, "trade"
        elif suffix == "bookTicker":
            kind, want = S.KIND_BBO, "bookTicker"
        else:
            raise self._err(FormatError, f"unknown event type: stream {stream!r}, e={etype!r}", i)
        if etype is not None and etype != want:
            raise self._err(FormatError, f"unknown event type {etype!r} on stream {stream!r}", i)
        flags[S.G_E] = {"depthUpdate": 1, "trade": 2, "bookTicker": 3}[want] if etype else 0
        ints[S.I_E] = self._int(data, "E", i, required=False)
        ints[S.I_T] = self._int(data, "T", i, required=False)
        if kind == S.KIND_DEPTH:
            ints[S.I_UF] = self._int(data, "U", i)
            ints[S.I_UL] = self._int(data, "u", i)
            ints[S.I_PU] = self._int(data, "pu", i, required=False)
            if ints[S.I_E] < 0 and ints[S.I_T] < 0:
                raise self._err(FormatError, "depth update without a timestamp (E/T)", i)
            self._levels(data.get("b"), 1, "bid", i, ex_px, ex_qty, ex_side, ex_line)
            self._levels(data.get("a"), 2, "ask", i, ex_px, ex_qty, ex_side, ex_line)
        elif kind == S.KIND_TRADE:
            for key in ("p", "q", "m"):
                if key not in data:
                    raise self._err(FormatError, f"missing field {key!r}", i)
            if ints[S.I_E] < 0 and ints[S.I_T] < 0:
                raise self._err(FormatError, "trade without a timestamp (E/T)", i)
            ints[S.I_TID] = self._int(data, "t", i, required=False)
            flts[S.F_P] = self._num(data["p"], "trade price", i)
            flts[S.F_Q] = self._num(data["q"], "trade qty", i)
            if not isinstance(data["m"], bool):
                raise self._err(FormatError, f"field 'm' is not a boolean: {data['m']!r}", i)
            flags[S.G_M] = int(data["m"])
            if "X" in data:
                flags[S.G_X] = 1 if data["X"] == "MARKET" else 0
        else:
            for key in ("b", "B", "a", "A"):
                if key not in data:
                    raise self._err(FormatError, f"missing field {key!r}", i)
            ints[S.I_UL] = self._int(data, "u", i)
            flts[S.F_P] = self._num(data["b"], "best bid price", i)
            flts[S.F_Q] = self._num(data["B"], "best bid qty", i)
            flts[S.F_A] = self._num(data["a"], "best ask price", i)
            flts[S.F_AQ] = self._num(data["A"], "best ask qty", i)
        self.kind[i] = kind

    def _range(self, names, values: np.ndarray, lines: np.ndarray, rule: str,
               mask: np.ndarray | None = None, which: np.ndarray | None = None) -> None:
        """Refuse the first value outside ``RULES['binance'][rule]`` (two comparisons per value;
        NaN fails them). ``names[which[j]]`` names the column of value ``j``."""
        r = RULES["binance"][rule]
        ok = (values >= r.lo) & (values <= r.hi)
        if mask is not None:
            ok |= ~mask
        if ok.all():
            return
        j = int(np.flatnonzero(~ok)[0])
        name = names if which is None else names[int(which[j])]
        r.check(values[j:j + 1].astype(np.float64), self.path, int(lines[j]) + 1, column=name)

    def _validate(self) -> None:
        """Vectorised checks on what the fast path accepted (it rejects signs, NaN, text), then
        the declared ranges of ``RULES['binance']`` (timestamps, ids, prices, quantities)."""
        lines = np.arange(self.n)
        self._range("local timestamp", self.local_ts, lines, "local_ts")
        for col, key in ((S.I_E, "E"), (S.I_T, "T")):
            v = self.ints[:, col]
            self._range(key, v, lines, key, mask=v >= 0)  # -1: absent
        side_names = ("?", "b", "a")
        self._range([f"{n} price" for n in side_names], self.lvl_px, self.lvl_line, "price",
                    which=self.lvl_side)
        self._range([f"{n} qty" for n in side_names], self.lvl_qty, self.lvl_line, "qty",
                    which=self.lvl_side)
        snap_names = ("?", "bids", "asks")
        for i, (px, qty, sd) in self.snap_lvls.items():  # one per REST snapshot line
            at = np.full(px.size, i)
            self._range([f"snapshot {n} price" for n in snap_names], px, at, "price", which=sd)
            self._range([f"snapshot {n} qty" for n in snap_names], qty, at, "qty", which=sd)
        # trade p, q and bookTicker b, B, a, A (NaN where a kind has no such field)
        is_bbo = (self.kind == S.KIND_BBO).astype(np.int8)
        used = (self.kind == S.KIND_TRADE) | (is_bbo == 1)
        for col, rule, names in ((S.F_P, "price", ("p", "b")), (S.F_Q, "qty", ("q", "B")),
                                 (S.F_A, "price", ("", "a")), (S.F_AQ, "qty", ("", "A"))):
            self._range(names, self.flts[:, col], lines, rule,
                        mask=used if col in (S.F_P, S.F_Q) else is_bbo == 1, which=is_bbo)
        back = np.flatnonzero(np.diff(self.local_ts) < 0)
        if back.size:
            i = int(back[0]) + 1
            raise self._err(TimestampOrderError,
                            f"local timestamp goes backwards: {self.local_ts[i]} < "
                            f"{self.local_ts[i - 1]} (previous line)", i)
        bad = np.flatnonzero(self.lvl_px <= 0)
        if bad.size:
            raise self._err(DataError, f"non-positive price {self.lvl_px[bad[0]]}",
                            int(self.lvl_line[bad[0]]))
        px_cols = self.flts[:, [S.F_P, S.F_A]]
        is_px = (self.kind == S.KIND_TRADE)[:, None] | (self.kind == S.KIND_BBO)[:, None]
        bad = np.flatnonzero(((px_cols <= 0) & is_px & ~np.isnan(px_cols)).any(axis=1))
        if bad.size:
            raise self._err(DataError, "non-positive price", int(bad[0]))
        bbo = self.kind == S.KIND_BBO
        bad = np.flatnonzero(bbo & (self.flts[:, S.F_P] >= self.flts[:, S.F_A]))
        if bad.size:
            i = int(bad[0])
            raise self._err(CrossedBookError, "bookTicker is crossed: bid "
                            f"{self.flts[i, S.F_P]} >= ask {self.flts[i, S.F_A]}", i)
        depth = self.kind == S.KIND_DEPTH
        bad = np.flatnonzero(depth & (self.ints[:, S.I_UF] > self.ints[:, S.I_UL]))
        if bad.size:
            i = int(bad[0])
            raise self._err(FormatError, f"depth update with U={self.ints[i, S.I_UF]} > "
                            f"u={self.ints[i, S.I_UL]}", i)


# ----------------------------------------------------------------------------------------------
# the stream: sequencing, clock, events, tables
# ----------------------------------------------------------------------------------------------


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


def _as_paths(path_or_paths) -> list[Path]:
    if isinstance(path_or_paths, (str, os.PathLike)):
        paths = [Path(path_or_paths)]
    else:
        paths = [Path(p) for p in path_or_paths]
    if not paths:
        raise ConfigError("path_or_paths: no file given")
    return paths


def _build(files: list[_File], opt: _Options) -> BinanceStream:
    # ---- concatenate per-line columns ------------------------------------------------------
    sizes = np.array([f.n for f in files], np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    for k in range(1, len(files)):
        if files[k].local_ts[0] < files[k - 1].local_ts[-1]:
            raise TimestampOrderError(
                f"local timestamp goes backwards across files: {files[k].local_ts[0]} < "
                f"{files[k - 1].local_ts[-1]} (last line of {files[k - 1].path}); "
                "are the files in stream order?", path=files[k].path, row=1)
    raw_ts = np.concatenate([f.local_ts for f in files])
    kind = np.concatenate([f.kind for f in files])
    ints = np.concatenate([f.ints for f in files])
    flts = np.concatenate([f.flts for f in files])
    flags = np.concatenate([f.flags for f in files])
    lvl_px = np.concatenate([f.lvl_px for f in files])
    lvl_qty = np.concatenate([f.lvl_qty for f in files])
    lvl_side = np.concatenate([f.lvl_side for f in files])
    lvl_line = np.concatenate([f.lvl_line + off for f, off in zip(files, offsets[:-1])])
    n = raw_ts.size

    def where(g: int) -> tuple[Path, int]:
        k = int(np.searchsorted(offsets, g, side="right")) - 1
        return files[k].path, int(g - offsets[k]) + 1

    # ---- exchange time: T, else E, else estimated ------------------------------------------
    ex_ms = np.where(ints[:, S.I_T] >= 0, ints[:, S.I_T], ints[:, S.I_E])
    has_ex = ex_ms >= 0
    exch = np.where(has_ex, ex_ms * _MS, 0)

    # ---- clock offset ----------------------------------------------------------------------
    if opt.clock_offset_ns is None:
        if not has_ex.any():
            raise DataError("no message carries an exchange timestamp: pass clock_offset_ns",
                            path=files[0].path, row=1)
        offset = clock_offset_from_latency(exch[has_ex], raw_ts[has_ex], opt.base_feed_latency_ns)
        estimated = True
    else:
        offset, estimated = int(opt.clock_offset_ns), False
    local = raw_ts + np.int64(offset)
    exch = np.where(has_ex, exch, local - np.int64(opt.base_feed_latency_ns))

    # ---- sequencing (one pass over depth + snapshot lines) ---------------------------------
    is_depth = kind == S.KIND_DEPTH
    seq_lines = np.flatnonzero(is_depth | (kind == S.KIND_SNAPSHOT))
    futures = bool((ints[is_depth, S.I_PU] >= 0).any())
    emit_line = np.full(n, -1, np.int64)  # depth line -> line whose local_ts/position it takes
    applied = np.zeros(n, bool)
    clears: list[tuple[int, int]] = []  # resync clears: (gap line, line where it is emitted)
    gaps: list[dict] = []
    AWAIT_SNAP, AWAIT_FIRST, SYNCED = 0, 1, 2
    state, last_id, prev_u = AWAIT_SNAP, -1, -1
    buffered: list[int] = []
    seen_snapshot = False
    U_col, u_col, pu_col = ints[:, S.I_UF], ints[:, S.I_UL], ints[:, S.I_PU]

    def gap(g: int, at: int, why: str) -> None:
        nonlocal state, buffered
        path, row = where(g)
        if opt.on_gap == "raise":
            raise SequenceGapError(why, path=path, row=row)
        gaps.append({"ival": g, "file": str(path), "line": row, "reason": why})
        clears.append((g, at))
        state, buffered = AWAIT_SNAP, []

    def process(g: int, at: int) -> None:
        nonlocal state, prev_u
        U, u, pu = int(U_col[g]), int(u_col[g]), int(pu_col[g])
        if state == AWAIT_SNAP:  # after a resync gap among diffs buffered before a snapshot
            buffered.append(g)
            return
        if state == AWAIT_FIRST:
            if (u < last_id) if futures else (u <= last_id):
                return  # older than the snapshot: dropped, as Binance documents
            ok = (U <= last_id <= u) if futures else (U <= last_id + 1 <= u)
            if not ok:
                rule = "U <= lastUpdateId <= u" if futures else "U <= lastUpdateId+1 <= u"
                gap(g, at, f"first diff after the snapshot (lastUpdateId={last_id}) breaks "
                           f"{rule}: U={U}, u={u}")
                return
        elif state == SYNCED:
            if futures and pu != prev_u:
                gap(g, at, f"sequence gap: pu={pu} but the previous diff's u={prev_u}")
                return
            if not futures and U != prev_u + 1:
                gap(g, at, f"sequence gap: U={U} but the previous diff's u={prev_u} "
                           "(expected U=u+1)")
                return
        applied[g] = True
        emit_line[g] = at
        prev_u = u
        state = SYNCED

    for g in seq_lines.tolist():
        if kind[g] == S.KIND_SNAPSHOT:
            seen_snapshot = True
            state, last_id = AWAIT_FIRST, int(u_col[g])
            pending, buffered = buffered, []
            for b in pending:
                process(b, g)
        elif state == AWAIT_SNAP:
            buffered.append(g)
        else:
            process(g, g)
    if is_depth.any() and not seen_snapshot:
        first = int(np.flatnonzero(is_depth)[0])
        path, row = where(first)
        raise SequenceGapError(
            "no REST depth snapshot ({\"lastUpdateId\": ...}) in the stream, so the diffs cannot "
            "be applied; a continuation file (e.g. spot_btcusdt_20240809.gz) must be loaded "
            "together with the file holding the snapshot: load_binance([day1, day2])",
            path=path, row=row)

    # ---- events ----------------------------------------------------------------------------
    # every event gets a sort key (emit position, sub-position); buffered diffs follow the snapshot
    parts: list[tuple] = []
    keys: list[np.ndarray] = []
    SUB = np.int64(1 << 21)

    def block(ev, ex, lo, px, qty, ival, key):
        parts.append((ev, ex, lo, px, qty, ival))
        keys.append(key)

    # depth levels of applied diffs
    lv_ok = applied[lvl_line]
    ll = lvl_line[lv_ok]
    el = emit_line[ll]
    side_flag = np.where(lvl_side[lv_ok] == 1, BUY_EVENT, SELL_EVENT).astype(np.uint64)
    sub = np.arange(ll.size, dtype=np.int64) - np.searchsorted(ll, ll, side="left")
    late = el != ll  # applied after the snapshot that followed them
    block(np.uint64(DEPTH_EVENT | _BOTH) | side_flag, exch[ll], local[el], lvl_px[lv_ok],
          lvl_qty[lv_ok], ll, (2 * el + late) * SUB + np.where(late, ll - el + SUB // 2, sub))
    # snapshots
    snap_rows = []
    for f, off in zip(files, offsets[:-1]):
        for i, (px, qty, sd) in f.snap_lvls.items():
            g = int(off + i)
            bid, ask = sd == 1, sd == 2
            n_b, n_a = int(bid.sum()), int(ask.sum())
            evs = np.concatenate([
                [DEPTH_CLEAR_EVENT | BUY_EVENT | _BOTH] if n_b else [],
                np.full(n_b, DEPTH_SNAPSHOT_EVENT | BUY_EVENT | _BOTH),
                [DEPTH_CLEAR_EVENT | SELL_EVENT | _BOTH] if n_a else [],
                np.full(n_a, DEPTH_SNAPSHOT_EVENT | SELL_EVENT | _BOTH),
            ]).astype(np.uint64)
            pxs = np.concatenate([px[bid][-1:], px[bid], px[ask][-1:], px[ask]])
            qtys = np.concatenate([[0.0] if n_b else [], qty[bid], [0.0] if n_a else [], qty[ask]])
            m = evs.size
            block(evs, np.full(m, exch[g]), np.full(m, local[g]), pxs, qtys, np.full(m, g),
                  2 * g * SUB + np.arange(m))
            path, row = where(g)
            snap_rows.append({"ival": g, "file": str(path), "line": row,
                              "lastUpdateId": int(u_col[g]),
                              "E": int(ints[g, S.I_E]), "T": int(ints[g, S.I_T]),
                              "raw_local_ts": int(raw_ts[g]), "local_ts": int(local[g]),
                              "exch_ts": int(exch[g]), "exch_ts_estimated": not bool(has_ex[g]),
                              "n_bids": n_b, "n_asks": n_a})
    # resync clears
    for g, at in clears:  # at the gap line, or right after the snapshot it was buffered for
        key = 2 * g * SUB - 4 if at == g else (2 * at + 2) * SUB - 1
        block(np.array([DEPTH_CLEAR_EVENT | _BOTH], np.uint64), exch[g:g + 1], local[at:at + 1],
              np.zeros(1), np.zeros(1), np.array([g]), np.array([key]))
    # trades
    is_tr = kind == S.KIND_TRADE
    tr = np.flatnonzero(is_tr)
    # update ids strictly increase per message type (one symbol per stream): bookTicker ``u``,
    # depth-diff ``u`` and snapshot ``lastUpdateId``. A repeat is a duplicated message, a step
    # back a reordered one (even among diffs that are dropped as older than the snapshot).
    for k, what, col in ((S.KIND_BBO, "bookTicker", "u"), (S.KIND_DEPTH, "depth update", "u"),
                         (S.KIND_SNAPSHOT, "snapshot", "lastUpdateId")):
        ln = np.flatnonzero(kind == k)
        if ln.size < 2:
            continue
        bu = u_col[ln]
        step = np.flatnonzero(bu[1:] <= bu[:-1])
        if step.size:
            g = int(ln[step[0] + 1])
            path, row = where(g)
            same = bu[step[0] + 1] == bu[step[0]]
            raise (DuplicateError if same else SequenceGapError)(
                f"{what} update id {int(bu[step[0] + 1])} "
                f"{'repeats' if same else 'goes backwards after'} {int(bu[step[0]])} (previous "
                f"{what} message)", path=path, row=row, column=col)
    # uniqueness key: the trade id (Binance never sends one trade twice on a stream)
    tid = ints[tr, S.I_TID]
    with_id = tr[tid >= 0]
    if with_id.size > 1:
        ids = ints[with_id, S.I_TID]
        order = np.argsort(ids, kind="stable")
        rep = np.flatnonzero(ids[order][1:] == ids[order][:-1])
        if rep.size:
            second = order[rep + 1]
            k = int(np.argmin(second))
            g, g0 = int(with_id[second[k]]), int(with_id[order[rep[k]]])
            path, row = where(g)
            p0, r0 = where(g0)
            raise DuplicateError(f"trade id {int(ints[g, S.I_TID])} appears twice (first at {p0}, "
                                 f"row {r0})", path=path, row=row, column="t")
    market = flags[tr, S.G_X] != 0  # absent (-1, spot) or MARKET (1)
    tr_ev = tr if opt.include_non_market_trades else tr[market]
    block(np.uint64(TRADE_EVENT | _BOTH) | np.where(flags[tr_ev, S.G_M] == 1, SELL_EVENT,
                                                     BUY_EVENT).astype(np.uint64),
          exch[tr_ev], local[tr_ev], flts[tr_ev, S.F_P], flts[tr_ev, S.F_Q], tr_ev, 2 * tr_ev * SUB)
    # bookTicker
    bb = np.flatnonzero(kind == S.KIND_BBO)
    if opt.book_ticker and bb.size:
        ev2 = np.empty(2 * bb.size, np.uint64)
        ev2[0::2] = DEPTH_BBO_EVENT | BUY_EVENT | _BOTH
        ev2[1::2] = DEPTH_BBO_EVENT | SELL_EVENT | _BOTH
        px2 = np.empty(2 * bb.size)
        px2[0::2], px2[1::2] = flts[bb, S.F_P], flts[bb, S.F_A]
        q2 = np.empty(2 * bb.size)
        q2[0::2], q2[1::2] = flts[bb, S.F_Q], flts[bb, S.F_AQ]
        l2 = np.repeat(bb, 2)
        block(ev2, exch[l2], local[l2], px2, q2, l2, 2 * l2 * SUB + np.tile([0, 1], bb.size))

    order = np.argsort(np.concatenate(keys), kind="stable")
    events = np.empty(order.size, EVENT_DTYPE)
    for j, name in enumerate(("ev", "exch_ts", "local_ts", "px", "qty", "ival")):
        events[name] = np.concatenate([p[j] for p in parts]).astype(EVENT_DTYPE[name])[order]
    events["order_id"] = 0
    events["fval"] = 0.0

    if opt.check_crossed:
        bad = first_crossed_event(events["ev"], events["px"], events["qty"], events["ival"])
        if bad >= 0:
            path, row = where(int(events["ival"][bad]))
            raise CrossedBookError(
                "the book is crossed after this message (best bid >= best ask)", path=path,
                row=row)

    # ---- tables ----------------------------------------------------------------------------
    file_idx = np.repeat(np.arange(len(files)), sizes)
    file_line = np.arange(n, dtype=np.int64) - offsets[file_idx] + 1
    fnames = np.array([str(f.path) for f in files], dtype=object)

    def base(rows):
        return {"ival": rows, "file": fnames[file_idx[rows]], "line": file_line[rows],
                "raw_local_ts": raw_ts[rows], "local_ts": local[rows], "exch_ts": exch[rows],
                "E": ints[rows, S.I_E], "T": ints[rows, S.I_T]}

    dl = np.flatnonzero(is_depth)
    n_b = np.bincount(lvl_line[lvl_side == 1], minlength=n)[dl]
    n_a = np.bincount(lvl_line[lvl_side == 2], minlength=n)[dl]
    depth_updates = pd.DataFrame({**base(dl), "U": U_col[dl], "u": u_col[dl], "pu": pu_col[dl],
                                  "n_bids": n_b, "n_asks": n_a, "applied": applied[dl],
                                  "emit_local_ts": np.where(applied[dl], local[np.maximum(
                                      emit_line[dl], 0)], -1)})
    trades = pd.DataFrame({**base(tr), "trade_id": ints[tr, S.I_TID], "px": flts[tr, S.F_P],
                           "qty": flts[tr, S.F_Q], "buyer_is_maker": flags[tr, S.G_M] == 1,
                           "aggressor": np.where(flags[tr, S.G_M] == 1, "sell", "buy"),
                           "market": flags[tr, S.G_X] != 0})
    book_ticker = pd.DataFrame({**base(bb), "exch_ts_estimated": ~has_ex[bb], "u": u_col[bb],
                                "bid_px": flts[bb, S.F_P], "bid_qty": flts[bb, S.F_Q],
                                "ask_px": flts[bb, S.F_A], "ask_qty": flts[bb, S.F_AQ]})
    snapshots = pd.DataFrame(snap_rows, columns=[
        "ival", "file", "line", "lastUpdateId", "E", "T", "raw_local_ts", "local_ts", "exch_ts",
        "exch_ts_estimated", "n_bids", "n_asks"])
    return BinanceStream(events=events, files=[f.path for f in files], line_offsets=offsets,
                         clock_offset_ns=int(offset), clock_offset_estimated=estimated,
                         base_feed_latency_ns=int(opt.base_feed_latency_ns),
                         depth_updates=depth_updates, trades=trades, book_ticker=book_ticker,
                         snapshots=snapshots, gaps=gaps)


def read_binance(
    path_or_paths,
    *,
    base_feed_latency_ns: int = 0,
    clock_offset_ns: int | None = None,
    on_gap: str = "raise",
    book_ticker: bool = True,
    include_non_market_trades: bool = False,
    check_crossed: bool = True,
    fast: bool = True,
) -> BinanceStream:
    """Load Binance websocket dumps into a :class:`BinanceStream` (events, tables, provenance).

    Parameters
    ----------
    path_or_paths : path or sequence of paths
        One file, or consecutive files of one recording, in order (they form one stream).
    base_feed_latency_ns : int, default 0
        The minimum feed latency to assume when correcting the local clock (hftbacktest's
        ``base_latency``; 0 like hftbacktest's default).
    clock_offset_ns : int, optional
        The offset to add to raw local timestamps. ``None`` (default) estimates it so the
        minimum feed latency equals ``base_feed_latency_ns``.
    on_gap : {"raise", "resync"}
        On a sequence gap raise :class:`~mmlab.errors.SequenceGapError`, or clear the book and
        wait for the next snapshot in the stream (recorded in ``gaps``).
    book_ticker : bool, default True
        Emit bookTicker messages as ``DEPTH_BBO`` events.
    include_non_market_trades : bool, default False
        Also emit futures trades whose ``X`` is not ``MARKET`` (hftbacktest drops them).
    check_crossed : bool, default True
        Raise :class:`~mmlab.errors.CrossedBookError` if the L2 book rebuilt from the depth events
        is crossed after any message.
    fast : bool, default True
        Use the numba line scanner (``False``: parse every line with orjson; same result).

    Returns
    -------
    BinanceStream

    Examples
    --------
    >>> from mmlab._paths import shipped
    >>> s = read_binance(shipped("binance", "usdm_ethusdt_20240808.gz"))
    >>> round(s.clock_offset_ns / 1e9, 2)  # the recorder's clock is ~1.27 s behind Binance
    1.27
    >>> int((s.events["local_ts"] - s.events["exch_ts"]).min())  # min feed latency = base = 0
    0
    """
    opt = _Options(base_feed_latency_ns, clock_offset_ns, on_gap, book_ticker,
                   include_non_market_trades, check_crossed, fast)
    files = [_File(p, fast) for p in _as_paths(path_or_paths)]
    return _build(files, opt)


def load_binance(path_or_paths, **kwargs) -> np.ndarray:
    """Load Binance websocket dumps as an event array (see :func:`read_binance` for options).

    Examples
    --------
    >>> from mmlab._paths import shipped
    >>> from mmlab.data import TRADE_EVENT, event_kind
    >>> ev = load_binance(shipped("binance", "usdm_ethusdt_20240808.gz"))
    >>> int((event_kind(ev["ev"]) == TRADE_EVENT).sum())  # trades in the file (all MARKET)
    14076
    """
    return read_binance(path_or_paths, **kwargs).events


def load_binance_frames(path_or_paths, **kwargs) -> dict[str, pd.DataFrame]:
    """Tidy tables of a Binance stream, one row per message.

    ``depth_updates`` (``U``, ``u``, ``pu``, level counts, ``applied``), ``trades`` (``trade_id``,
    ``px``, ``qty``, ``buyer_is_maker``, ``aggressor``, ``market``), ``book_ticker`` (update id
    ``u``, ``bid_px``, ``bid_qty``, ``ask_px``, ``ask_qty``) and ``snapshots``; every table has
    ``ival``, ``file``, ``line`` (1-based), ``raw_local_ts``, ``local_ts`` (corrected),
    ``exch_ts``, ``E``, ``T`` (ms, -1 when absent).

    Examples
    --------
    >>> from mmlab._paths import shipped
    >>> fr = load_binance_frames(shipped("binance", "usdm_ethusdt_20240808.gz"))
    >>> sorted(fr)
    ['book_ticker', 'depth_updates', 'snapshots', 'trades']
    >>> int(fr["snapshots"]["line"].iloc[0])  # the REST snapshot is line 41
    41
    """
    return read_binance(path_or_paths, **kwargs).frames()


def estimate_clock_offset(path_or_paths, base_feed_latency_ns: int = 0) -> int:
    """The offset (ns) to add to the files' local timestamps so the minimum feed latency is
    ``base_feed_latency_ns``.

    The minimum is taken over every message with a real exchange timestamp, bookTicker
    included. hftbacktest's converter (which leaves bookTicker out by default) finds 1,272,156,851
    ns on ``usdm_btcusdt_20240808.gz``: 245,617 ns less, so with its offset some bookTicker
    messages would arrive before they were sent.

    Examples
    --------
    >>> from mmlab._paths import shipped
    >>> estimate_clock_offset(shipped("binance", "usdm_btcusdt_20240808.gz"))
    1272402468
    """
    return read_binance(path_or_paths, base_feed_latency_ns=base_feed_latency_ns,
                        check_crossed=False).clock_offset_ns


# ----------------------------------------------------------------------------------------------
# crossed-book check (numba kernel with its plain twin)
# ----------------------------------------------------------------------------------------------


def first_crossed_event_python(ev, px, qty, ival) -> int:
    """Index of the last event of the first message after which the L2 book is crossed, or -1.

    Applies ``DEPTH``/``DEPTH_SNAPSHOT`` (set level; qty 0 deletes) and ``DEPTH_CLEAR`` (the
    whole flagged side; both sides when neither BUY nor SELL is set); ignores trades and
    ``DEPTH_BBO``. Messages are runs of equal ``ival``.

    Examples
    --------
    >>> from mmlab.data import DEPTH_EVENT, BUY_EVENT, SELL_EVENT
    >>> ev = np.array([DEPTH_EVENT | BUY_EVENT, DEPTH_EVENT | SELL_EVENT,
    ...                DEPTH_EVENT | BUY_EVENT], dtype=np.uint64)
    >>> first_crossed_event_python(ev, np.array([100.0, 101.0, 101.0]),
    ...                            np.array([1.0, 1.0, 2.0]), np.array([0, 0, 1]))
    2
    """
    bids = {0.0: 0.0}
    asks = {0.0: 0.0}
    bids.clear()
    asks.clear()
    best_bid = -np.inf
    best_ask = np.inf
    bid_dirty = False
    ask_dirty = False
    n = ev.shape[0]
    for i in range(n):
        e = np.int64(ev[i])
        k = e & 0xFF
        buy = (e & BUY_EVENT) != 0
        p = px[i]
        if k == DEPTH_EVENT or k == DEPTH_SNAPSHOT_EVENT:
            q = qty[i]
            if buy:
                if q > 0:
                    bids[p] = q
                    if p > best_bid:
                        best_bid = p
                elif p in bids:
                    del bids[p]
                    if p == best_bid:
                        bid_dirty = True
            else:
                if q > 0:
                    asks[p] = q
                    if p < best_ask:
                        best_ask = p
                elif p in asks:
                    del asks[p]
                    if p == best_ask:
                        ask_dirty = True
        elif k == DEPTH_CLEAR_EVENT:
            sell = (e & SELL_EVENT) != 0
            if buy or not sell:
                bids.clear()
                best_bid = -np.inf
                bid_dirty = False
            if sell or not buy:
                asks.clear()
                best_ask = np.inf
                ask_dirty = False
        if i == n - 1 or ival[i + 1] != ival[i]:
            if bid_dirty:
                best_bid = -np.inf
                for b in bids:
                    if b > best_bid:
                        best_bid = b
                bid_dirty = False
            if ask_dirty:
                best_ask = np.inf
                for a in asks:
                    if a < best_ask:
                        best_ask = a
                ask_dirty = False
            if best_bid >= best_ask:
                return i
    return -1


first_crossed_event = njit(cache=True)(first_crossed_event_python)
