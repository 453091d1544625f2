"""One Binance dump file scanned into per-line arrays (numba fast path, orjson for the rest),
with the declared checks of ``RULES['binance']`` (see :mod:`mmlab.data._binance`)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import orjson

from mmlab.data import _binance_scan as S
from mmlab.data._events import (
    EXCH_EVENT,
    LOCAL_EVENT,
)
from mmlab.data._validate import RULES, read_input
from mmlab.errors import (
    CrossedBookError,
    DataError,
    FormatError,
    RangeError,
    TimestampOrderError,
)

__all__ = []

_BOTH = EXCH_EVENT | LOCAL_EVENT
_MS = 1_000_000


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
        ts = int(head)
        RULES["binance"]["local_ts"].check_scalar(float(ts), self.path, i + 1, "local timestamp")
        self.local_ts[i] = ts
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

