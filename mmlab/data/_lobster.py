"""LOBSTER message + orderbook files -> market events.

LOBSTER (https://lobsterdata.com) reconstructs the Nasdaq book from ITCH and ships, per stock and
day, two CSV files with one row per event:

* ``<TICKER>_<YYYY-MM-DD>_<start>_<end>_message_<N>.csv``: ``Time, Type, OrderID, Size, Price,
  Direction``. ``Time`` is seconds after midnight, New York time, on the date in the file name;
  ``Price`` is dollars x 10^4; ``Direction`` is 1 for a buy limit order, -1 for a sell limit
  order (for executions: the side of the *resting* order).
* ``..._orderbook_<N>.csv``: ``AskPx1, AskSz1, BidPx1, BidSz1, ..., AskPxN, AskSzN, BidPxN, BidSzN``,
  the top ``N`` levels *after* the message on the same row. Empty levels are padded with price
  ``9999999999`` (asks) / ``-9999999999`` (bids) and size 0.

Times become absolute UTC nanoseconds: local midnight of the file's date plus ``Time``, with the
New York UTC offset in force during the session (``zoneinfo``; sessions run after the 02:00 DST
switch, so one offset holds for the whole file).

Either file may start with a header row (the shipped AMZN level-1 files do; LOBSTER's own files do
not); it is detected from its first field not being a number.

Mapping to events (every event carries ``EXCH_EVENT | LOCAL_EVENT``: LOBSTER has a single clock, so
``local_ts == exch_ts``, i.e. a feed latency of 0; add one downstream if a backtest needs it).
``ival`` is the 0-based message row (header excluded), ``order_id`` the LOBSTER order id:

====  ====================  ==================================================================
type  LOBSTER meaning       events
====  ====================  ==================================================================
1     submission            ``ADD_ORDER`` (BUY/SELL = Direction)
2     partial cancellation  ``MODIFY_ORDER`` with the *remaining* qty (priority kept); for an
                            order resting before the file started (see below): ``CANCEL_ORDER``
                            with the cancelled size, which reduces the anonymous quantity
3     deletion              ``CANCEL_ORDER`` (qty = size deleted)
4     visible execution     ``TRADE`` (aggressor flag = opposite of Direction, ``order_id`` = the
                            resting order) then ``FILL`` on the resting order (its side)
5     hidden execution      ``TRADE`` only (aggressor = opposite of Direction); no book change
6     cross trade           ``TRADE`` with neither BUY nor SELL flag (auction cross: no aggressor);
                            no book change
7     trading halt          no event: the book does not change (``Price`` -1 = halt, 0 = quoting
                            resumes, 1 = trading resumes); the rows are kept in
                            :attr:`LobsterData.messages`
====  ====================  ==================================================================

Caveats, and how the loader makes the book exact
------------------------------------------------
* **Orders resting before the file starts.** Many executions/cancels refer to order ids never
  submitted in the file (7,467 such messages in the shipped AMZN day). The initial book is
  therefore seeded from the first orderbook row (the state *after* message 0, so message 0 is backed
  out first) as ``DEPTH_CLEAR`` + ``DEPTH_SNAPSHOT`` events with ``ival`` 0: the book holds that
  quantity as *anonymous* quantity at each price. A cancel/execution of an id the book does not hold
  reduces the anonymous quantity at its price (see :mod:`mmlab.book`).
* **The file only carries messages for its first N levels.** A level pushed beyond depth ``N`` by a
  new price is dropped from the view (``DEPTH`` qty 0, same ``ival``; orders there become
  anonymous history). When a message removes a level, the next level enters the view at depth ``N``
  from beyond it: its quantity cannot come from the messages, so it is taken from the orderbook file
  (a ``DEPTH`` event with that row's ``ival``), counted in :attr:`LobsterStats.levels_from_orderbook`.
  Nothing else is taken from the orderbook file: every other difference between the book rebuilt
  from the events and the orderbook file is *unexplained* and raises :class:`~mmlab.DataError`
  (``on_mismatch="raise"``, the default) or is resynchronised and counted
  (``on_mismatch="resync"``).

The rebuilt top ``N`` (``mmlab.book.rebuild``) equals the vendor's orderbook file on every row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date as _date
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from mmlab.data._events import (
    ADD_ORDER_EVENT,
    BUY_EVENT,
    CANCEL_ORDER_EVENT,
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    EVENT_DTYPE,
    EXCH_EVENT,
    FILL_EVENT,
    LOCAL_EVENT,
    MODIFY_ORDER_EVENT,
    SELL_EVENT,
    TRADE_EVENT,
)
from mmlab.data._lobster_files import (
    PAD_PRICE,
    PRICE_SCALE,
    _check_messages,
    _check_orderbook,
    _read_table,
)
from mmlab.errors import (
    ConfigError,
    DataError,
    FormatError,
)

__all__ = ["LobsterData", "LobsterStats", "load_lobster", "read_lobster"]

MESSAGE_COLUMNS = ("time", "type", "order_id", "size", "price", "direction")
_NY = "America/New_York"
_BOTH = EXCH_EVENT | LOCAL_EVENT
_SIDE_FLAG = (BUY_EVENT, SELL_EVENT)  # side 0 = bid (buy orders), 1 = ask (sell orders)
_SIDE_NAME = ("bid", "ask")


@dataclass(frozen=True, slots=True)
class LobsterStats:
    """What the loader had to do beyond translating messages.

    Attributes
    ----------
    n_messages : int
        Message rows (header excluded).
    levels : int
        ``N``, the number of levels in the orderbook file.
    unknown_order_events : int
        Cancels/executions (types 2, 3, 4) of order ids never submitted earlier in the file.
    unknown_order_ids : int
        Distinct such ids.
    levels_from_orderbook : int
        Levels taken from the orderbook file because they entered the view at depth ``N`` right
        after a message removed a level (the only case messages cannot explain).
    levels_dropped : int
        Levels pushed beyond depth ``N`` by a new price and dropped from the view.
    unexplained : int
        Rows where the book from the messages differed from the orderbook file otherwise (only
        non-zero with ``on_mismatch="resync"``).
    halts : int
        Type-7 rows (trading halt indicators; no book change).
    """

    n_messages: int
    levels: int
    unknown_order_events: int
    unknown_order_ids: int
    levels_from_orderbook: int
    levels_dropped: int
    unexplained: int
    halts: int


@dataclass(frozen=True)
class LobsterData:
    """A loaded LOBSTER file pair.

    Attributes
    ----------
    events : numpy.ndarray
        ``EVENT_DTYPE`` events (see the module notes for the mapping).
    messages : pandas.DataFrame
        The message file: ``ts`` (UTC), ``time`` (seconds after midnight NY), ``type``,
        ``order_id``, ``size``, ``price`` (currency units), ``direction``; index = message row.
    orderbook : numpy.ndarray
        The orderbook file as ``int64`` (prices x 10^4, LOBSTER padding kept), shape ``(n, 4N)``.
    stats : LobsterStats
        Counts of what the loader did.
    """

    events: np.ndarray
    messages: pd.DataFrame
    orderbook: np.ndarray
    stats: LobsterStats
    message_path: str
    orderbook_path: str

    @property
    def levels(self) -> int:
        """``N``, the number of levels per side in the orderbook file."""
        return self.orderbook.shape[1] // 4

    def orderbook_frame(self) -> pd.DataFrame:
        """The orderbook file in :func:`mmlab.book.rebuild`'s layout: prices in currency units,
        empty (padded) levels as NaN price and 0 qty, one row per message row."""
        ob = self.orderbook
        out = {}
        for k in range(self.levels):
            for j, name in enumerate(("ask_px", "ask_qty", "bid_px", "bid_qty")):
                col = ob[:, 4 * k + j]
                if name.endswith("_px"):
                    pad = np.abs(col) >= PAD_PRICE
                    out[f"{name}_{k + 1}"] = np.where(pad, np.nan, col / PRICE_SCALE)
                else:
                    out[f"{name}_{k + 1}"] = col.astype(np.float64)
        return pd.DataFrame(out)

    def summary(self) -> str:
        """A short human-readable description."""
        s = self.stats
        return (
            f"LOBSTER {Path(self.message_path).name}: {s.n_messages} messages, {s.levels} levels, "
            f"{len(self.events)} events; {s.unknown_order_events} cancels/executions of orders "
            f"resting before the file ({s.unknown_order_ids} ids); {s.levels_from_orderbook} levels "
            f"entered from the orderbook file, {s.levels_dropped} dropped beyond depth {s.levels}, "
            f"{s.unexplained} unexplained rows, {s.halts} halt rows"
        )

    def to_frame(self) -> pd.DataFrame:
        """The messages table (same as :attr:`messages`)."""
        return self.messages


def _date_from_name(path: Path) -> _date:
    match = re.search(r"_(\d{4})-(\d{2})-(\d{2})_", path.name)
    if match is None:
        raise FormatError(
            "no trading date (YYYY-MM-DD) in the file name; pass date=", path=path
        )
    return _date(int(match[1]), int(match[2]), int(match[3]))


def _midnight_utc_ns(day: _date, tz: str) -> int:
    """UTC ns of local midnight, using the UTC offset in force during the session (noon)."""
    zone = ZoneInfo(tz)
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=zone)
    offset = noon.utcoffset() or timedelta(0)
    midnight_naive_utc = datetime(day.year, day.month, day.day) - offset
    epoch = datetime(1970, 1, 1)
    return (midnight_naive_utc - epoch) // timedelta(microseconds=1) * 1000


class _View:
    """The loader's top-N view: per side {price: [anonymous qty, {order id: qty}]}."""

    def __init__(self, n: int):
        self.n = n
        self.side: tuple[dict, dict] = ({}, {})
        self.orders: dict[int, tuple[int, int]] = {}  # live order id -> (side, price)

    def top(self, s: int) -> list[tuple[int, int]]:
        lv = self.side[s]
        keys = sorted(lv, reverse=(s == 0))[: self.n]
        return [(p, lv[p][0] + sum(lv[p][1].values())) for p in keys]

    def drop(self, s: int, p: int) -> None:
        for oid in self.side[s].pop(p)[1]:
            del self.orders[oid]


def _vendor_side(row: list[int], s: int, n: int) -> list[tuple[int, int]]:
    # row: AskPx1, AskSz1, BidPx1, BidSz1, ...; side 0 = bid, 1 = ask
    off = 2 if s == 0 else 0
    out = []
    for k in range(n):
        p, q = row[4 * k + off], row[4 * k + off + 1]
        if abs(p) >= PAD_PRICE:
            break
        out.append((p, q))
    return out


def _reconcile(msgs: np.ndarray, ob: np.ndarray, path: Path, on_mismatch: str):
    n_lv = ob.shape[1] // 4
    typ = msgs[:, 1].astype(np.int64).tolist()
    oid_l = msgs[:, 2].astype(np.int64).tolist()
    size_l = msgs[:, 3].astype(np.int64).tolist()
    px_l = msgs[:, 4].astype(np.int64).tolist()
    side_l = [0 if d == 1 else 1 for d in msgs[:, 5].tolist()]
    rows = ob.astype(np.int64).tolist()

    ev: list[int] = []
    ev_row: list[int] = []
    ev_px: list[int] = []
    ev_qty: list[int] = []
    ev_oid: list[int] = []

    def emit(kind: int, row: int, p: int, q: int, o: int) -> None:
        ev.append(kind | _BOTH)
        ev_row.append(row)
        ev_px.append(p)
        ev_qty.append(q)
        ev_oid.append(o)

    view = _View(n_lv)
    # Seed: orderbook row 0 with message 0 backed out, all anonymous.
    seed = [dict(_vendor_side(rows[0], s, n_lv)) for s in (0, 1)]
    t0, s0, p0, q0 = typ[0], side_l[0], px_l[0], size_l[0]
    if t0 == 1:
        left = seed[s0].get(p0, 0) - q0
        if left < 0:
            raise DataError(
                "orderbook row 0 lacks the quantity message 0 submitted", path=path, row=0
            )
        if left:
            seed[s0][p0] = left
        else:
            seed[s0].pop(p0, None)
    elif t0 in (2, 3, 4):
        seed[s0][p0] = seed[s0].get(p0, 0) + q0
    for s in (0, 1):
        emit(DEPTH_CLEAR_EVENT | _SIDE_FLAG[s], 0, 0, 0, 0)
        for p in sorted(seed[s], reverse=(s == 0)):
            emit(DEPTH_SNAPSHOT_EVENT | _SIDE_FLAG[s], 0, p, seed[s][p], 0)
            view.side[s][p] = [seed[s][p], {}]

    submitted: set[int] = set()
    unknown_ids: set[int] = set()
    unknown_events = 0
    from_file = dropped = unexplained = halts = 0

    for i in range(len(typ)):
        t, o, q, p, s = typ[i], oid_l[i], size_l[i], px_l[i], side_l[i]
        lv = view.side[s]
        problem = None
        removed = False
        if t == 1:
            submitted.add(o)
            if o in view.orders:
                problem = f"order id {o} submitted twice"
            else:
                lv.setdefault(p, [0, {}])[1][o] = q
                view.orders[o] = (s, p)
                emit(ADD_ORDER_EVENT | _SIDE_FLAG[s], i, p, q, o)
        elif t in (2, 3, 4):
            if o not in submitted:
                unknown_events += 1
                unknown_ids.add(o)
            if t == 4:
                emit(TRADE_EVENT | _SIDE_FLAG[1 - s], i, p, q, o)
            level = lv.get(p)
            if level is None:
                problem = f"type-{t} message at {_SIDE_NAME[s]} price {p} not in the book"
            elif o in view.orders:
                if view.orders[o] != (s, p):
                    problem = f"order {o} rests at another price/side"
                elif q > level[1][o] or (t == 3 and q != level[1][o]):
                    problem = f"order {o} has {level[1][o]} left, message removes {q}"
                else:
                    left = level[1][o] - q
                    if t == 2 and left > 0:
                        emit(MODIFY_ORDER_EVENT | _SIDE_FLAG[s], i, p, left, o)
                    else:
                        emit((FILL_EVENT if t == 4 else CANCEL_ORDER_EVENT) | _SIDE_FLAG[s],
                             i, p, q, o)
                    if left:
                        level[1][o] = left
                    else:
                        del level[1][o]
                        del view.orders[o]
            elif q > level[0]:
                problem = (f"order {o} (resting before the file) removes {q} but only "
                           f"{level[0]} anonymous quantity rests at {p}")
            else:
                level[0] -= q
                emit((FILL_EVENT if t == 4 else CANCEL_ORDER_EVENT) | _SIDE_FLAG[s], i, p, q, o)
            if level is not None and problem is None and level[0] == 0 and not level[1]:
                del lv[p]
                removed = True
        elif t in (5, 6):
            flag = _SIDE_FLAG[1 - s] if t == 5 else 0
            emit(TRADE_EVENT | flag, i, p, q, o)
        else:  # 7: trading halt indicator, no book change
            halts += 1

        if t == 1 and problem is None and len(lv) > n_lv:
            worst = min(lv) if s == 0 else max(lv)
            view.drop(s, worst)
            emit(DEPTH_EVENT | _SIDE_FLAG[s], i, worst, 0, 0)
            dropped += 1

        row = rows[i]
        bad = problem is not None
        for side in (0, 1):
            ours, theirs = view.top(side), _vendor_side(row, side, n_lv)
            if ours == theirs:
                continue
            k = len(ours)
            if (
                not bad
                and removed
                and side == s
                and k >= n_lv - 1
                and k < len(theirs)
                and theirs[:k] == ours
            ):
                for p_new, q_new in theirs[k:]:
                    view.side[side][p_new] = [q_new, {}]
                    emit(DEPTH_EVENT | _SIDE_FLAG[side], i, p_new, q_new, 0)
                    from_file += 1
                continue
            bad = True
            if problem is None:
                problem = f"{_SIDE_NAME[side]} side {ours} differs from the orderbook file {theirs}"
        if bad:
            if on_mismatch == "raise":
                raise DataError(
                    f"message cannot be reconciled with the orderbook file: {problem}",
                    path=path, row=i,
                )
            unexplained += 1
            for side in (0, 1):  # resync: wipe the view, then set the file's levels
                for p_old in list(view.side[side]):
                    view.drop(side, p_old)
                    emit(DEPTH_EVENT | _SIDE_FLAG[side], i, p_old, 0, 0)
                for p_new, q_new in _vendor_side(row, side, n_lv):
                    view.side[side][p_new] = [q_new, {}]
                    emit(DEPTH_EVENT | _SIDE_FLAG[side], i, p_new, q_new, 0)

    counts = dict(
        unknown_order_events=unknown_events,
        unknown_order_ids=len(unknown_ids),
        levels_from_orderbook=from_file,
        levels_dropped=dropped,
        unexplained=unexplained,
        halts=halts,
    )
    cols = (
        np.asarray(ev, dtype=np.uint64),
        np.asarray(ev_row, dtype=np.int64),
        np.asarray(ev_px, dtype=np.int64),
        np.asarray(ev_qty, dtype=np.float64),
        np.asarray(ev_oid, dtype=np.uint64),
    )
    return cols, counts


def _orderbook_sibling(message_path: Path) -> Path:
    name = message_path.name
    if "_message_" not in name:
        raise FormatError(
            "cannot derive the orderbook file name (no '_message_' in the name); pass "
            "orderbook_path", path=message_path,
        )
    return message_path.with_name(name.replace("_message_", "_orderbook_"))


def read_lobster(
    message_path: str | Path,
    orderbook_path: str | Path | None = None,
    *,
    date: _date | str | None = None,
    tz: str = _NY,
    on_mismatch: str = "raise",
) -> LobsterData:
    """Load a LOBSTER message/orderbook pair with its messages table and loader statistics.

    Parameters
    ----------
    message_path : str or Path
        The ``..._message_<N>.csv`` file.
    orderbook_path : str or Path, optional
        The matching ``..._orderbook_<N>.csv`` (default: derived from ``message_path``). Required:
        the book is seeded from it (see the module notes).
    date : datetime.date or str, optional
        Trading date; default: parsed from the file name (``TICKER_YYYY-MM-DD_...``).
    tz : str
        Time zone of the ``Time`` column (seconds after local midnight), default New York.
    on_mismatch : {"raise", "resync"}
        What to do when the messages cannot explain the orderbook file on some row.

    Returns
    -------
    LobsterData

    Raises
    ------
    FormatError
        Wrong column count, non-numeric or missing fields, negative sizes, unknown event types,
        message/orderbook row-count mismatch.
    TimestampOrderError
        Times going backwards.
    CrossedBookError
        An orderbook row (the book after the message) with best bid >= best ask.
    DataError
        A message that the orderbook file contradicts (``on_mismatch="raise"``).

    Examples
    --------
    >>> from mmlab._paths import shipped
    >>> d = read_lobster(shipped("lobster", "AAPL_2012-06-21_34200000_57600000_message_10.csv"))
    >>> d.stats.n_messages, d.stats.levels, d.stats.unexplained
    (999, 10, 0)
    """
    if on_mismatch not in ("raise", "resync"):
        raise ConfigError(f"on_mismatch must be 'raise' or 'resync', got {on_mismatch!r}")
    mpath = Path(message_path)
    opath = _orderbook_sibling(mpath) if orderbook_path is None else Path(orderbook_path)
    if isinstance(date, str):
        try:
            date = _date.fromisoformat(date)
        except ValueError:
            raise ConfigError(f"date must be YYYY-MM-DD, got {date!r}") from None
    day = _date_from_name(mpath) if date is None else date
    try:
        ZoneInfo(tz)
    except Exception:
        raise ConfigError(f"unknown time zone tz={tz!r}") from None

    msgs, mhead = _read_table(mpath, "message")
    _check_messages(msgs, mpath, mhead)
    ob, ohead = _read_table(opath, "orderbook")
    _check_orderbook(ob, opath, ohead)
    if len(ob) != len(msgs):
        raise FormatError(
            f"{len(msgs)} message rows but {len(ob)} orderbook rows in {opath.name} "
            "(one orderbook row per message)", path=mpath, row=min(len(ob), len(msgs)),
        )

    base = _midnight_utc_ns(day, tz)
    ts = base + np.round(msgs[:, 0] * 1e9).astype(np.int64)
    (kind, row, px, qty, oid), counts = _reconcile(msgs, ob, mpath, on_mismatch)

    events = np.zeros(len(kind), dtype=EVENT_DTYPE)
    events["ev"] = kind
    events["exch_ts"] = ts[row]
    events["local_ts"] = ts[row]
    events["px"] = px / PRICE_SCALE
    events["qty"] = qty
    events["order_id"] = oid
    events["ival"] = row

    messages = pd.DataFrame(
        {
            "ts": pd.to_datetime(ts, unit="ns", utc=True),
            "time": msgs[:, 0],
            "type": msgs[:, 1].astype(np.int8),
            "order_id": msgs[:, 2].astype(np.int64),
            "size": msgs[:, 3].astype(np.int64),
            "price": msgs[:, 4] / PRICE_SCALE,
            "direction": msgs[:, 5].astype(np.int8),
        }
    )
    messages.index.name = "row"
    stats = LobsterStats(n_messages=len(msgs), levels=ob.shape[1] // 4, **counts)
    return LobsterData(events, messages, ob.astype(np.int64), stats, str(mpath), str(opath))


def load_lobster(
    message_path: str | Path,
    orderbook_path: str | Path | None = None,
    **kwargs,
) -> np.ndarray:
    """LOBSTER message + orderbook files -> ``EVENT_DTYPE`` events.

    Shorthand for ``read_lobster(...).events``; see :func:`read_lobster` and the module notes for
    the mapping of message types, the seeding of the initial book and the level caveats.

    Examples
    --------
    >>> from mmlab._paths import shipped
    >>> ev = load_lobster(shipped("lobster", "AAPL_2012-06-21_34200000_57600000_message_10.csv"))
    >>> int(ev["ival"].max())
    998
    >>> row1 = ev[ev["ival"] == 1]  # a submit at 585.32 pushes 584.27 beyond depth 10
    >>> row1["px"].tolist(), row1["qty"].tolist()
    ([585.32, 584.27], [18.0, 0.0])
    """
    return read_lobster(message_path, orderbook_path, **kwargs).events
