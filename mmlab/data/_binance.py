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

import os
from pathlib import Path

import numpy as np
import pandas as pd

from mmlab.data import _binance_scan as S
from mmlab.data._binance_crossed import first_crossed_event, first_crossed_event_python
from mmlab.data._binance_file import _File
from mmlab.data._binance_stream import BinanceStream, _Options
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
from mmlab.errors import (
    ConfigError,
    CrossedBookError,
    DataError,
    DuplicateError,
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
    lvl_line = np.concatenate([f.lvl_line + off for f, off in zip(files, offsets[:-1], strict=False)])
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
    for f, off in zip(files, offsets[:-1], strict=False):
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
    levels_b = np.bincount(lvl_line[lvl_side == 1], minlength=n)[dl]
    levels_a = np.bincount(lvl_line[lvl_side == 2], minlength=n)[dl]
    depth_updates = pd.DataFrame({**base(dl), "U": U_col[dl], "u": u_col[dl], "pu": pu_col[dl],
                                  "n_bids": levels_b, "n_asks": levels_a, "applied": applied[dl],
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


