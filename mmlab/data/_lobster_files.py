"""LOBSTER's two CSV files read and checked: column counts, numbers, the declared ranges of
``RULES['lobster']`` (before any int64 cast), event types, sizes, order and the book's
consistency (see :mod:`mmlab.data._lobster`)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from mmlab.data._validate import RULES, decode_text, read_input
from mmlab.errors import (
    CrossedBookError,
    DataError,
    FormatError,
    RangeError,
    TimestampOrderError,
)

__all__ = ["PAD_PRICE", "PRICE_SCALE"]

#: LOBSTER's padding price for empty levels (asks +, bids -), in x10^4 units.
PAD_PRICE = 9_999_999_999


#: LOBSTER prices are integers in units of 10^-4 currency units.
PRICE_SCALE = 10_000


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_table(path: Path, what: str) -> tuple[np.ndarray, int]:
    """Read a headerless-or-headed numeric CSV as float64; returns (values, header_lines).

    Checks a consistent column count, numeric fields and no missing values, naming the row. The
    file is read through :func:`mmlab.data._validate.read_input` (input size and line length
    limits; LOBSTER files may end without a newline, ``RULES['lobster'].final_newline``).
    """
    if not path.is_file():
        raise FormatError(f"{what} file not found", path=path)
    text = decode_text(read_input(path, final_newline=RULES["lobster"].final_newline), path)
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise FormatError(f"empty {what} file", path=path, row=0)
    header = 0 if _is_number(lines[0].split(",", 1)[0].strip()) else 1
    body = lines[header:]
    if not body:
        raise FormatError(f"{what} file has a header but no rows", path=path, row=0)
    counts = np.fromiter((ln.count(",") for ln in body), dtype=np.int64, count=len(body))
    ncol = int(counts[0]) + 1
    bad = np.flatnonzero(counts != counts[0])
    if bad.size:
        r = int(bad[0])
        raise FormatError(
            f"{counts[r] + 1} columns where the first row has {ncol} (file line {r + header + 1})",
            path=path,
            row=r,
        )
    try:
        frame = pd.read_csv(
            io.StringIO("\n".join(body)), header=None, dtype=str, keep_default_na=False,
            engine="c", quoting=csv.QUOTE_NONE,
        )
    except (pd.errors.ParserError, ValueError) as exc:  # LOBSTER files hold numbers only
        m = re.search(r"row (\d+)", str(exc))
        r = int(m.group(1)) if m else 0
        raise FormatError(f"malformed CSV ({str(exc)[:80]}) (file line {r + header + 1})",
                          path=path, row=r) from None
    values = np.empty(frame.shape, dtype=np.float64)
    for j in range(frame.shape[1]):
        col = frame.iloc[:, j].str.strip()
        num = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64)
        bad_rows = np.flatnonzero(~np.isfinite(num))
        if bad_rows.size:
            r = int(bad_rows[0])
            raw = col.iloc[r]
            kind = "missing value (NaN)" if raw == "" or raw.lower() in ("nan", "na") else (
                f"non-numeric field {raw!r}" if not _is_number(raw) else f"non-finite value {raw!r}"
            )
            raise FormatError(f"{kind} (file line {r + header + 1})", path=path, row=r,
                              column=str(j + 1))
        values[:, j] = num
    return values, header


def _first(mask: np.ndarray) -> int | None:
    idx = np.flatnonzero(mask)
    return int(idx[0]) if idx.size else None


def _check_ranges(values: np.ndarray, rule, path: Path, header: int, column: str) -> None:
    """The declared range of a LOBSTER column (``RULES['lobster']``), before any int64 cast."""
    bad = rule.bad_mask(values)
    if bad.any():
        r = int(np.flatnonzero(bad.any(axis=1) if bad.ndim == 2 else bad)[0])
        x = float(values[r][bad[r]][0]) if bad.ndim == 2 else float(values[r])
        raise RangeError(f"{x:g} is outside the plausible range [{rule.lo:g}, {rule.hi:g}] {rule.unit}"
                         f" (file line {r + header + 1})", path=path, row=r, column=column)


def _check_messages(m: np.ndarray, path: Path, header: int) -> None:
    def fail(r: int, msg: str, cls: type[DataError] = FormatError) -> None:
        raise cls(f"{msg} (file line {r + header + 1})", path=path, row=r)

    if m.shape[1] != 6:
        raise FormatError(
            f"{m.shape[1]} columns, expected 6 (Time,Type,OrderID,Size,Price,Direction)", path=path,
            row=0,
        )
    t, typ, oid, size, px, dirn = m.T
    r = _first((typ != np.round(typ)) | (typ < 1) | (typ > 7))
    if r is not None:
        fail(r, f"unknown event type {m[r, 1]:g} (LOBSTER types are 1-7)")
    r = _first(size < 0)
    if r is not None:
        fail(r, f"negative size {size[r]:g}")
    book = typ <= 6
    r = _first(book & (size == 0))
    if r is not None:
        fail(r, f"zero size on a type-{int(typ[r])} message")
    r = _first((oid < 0) | (oid != np.round(oid)))
    if r is not None:
        fail(r, f"order id {oid[r]:g} is not a non-negative integer")
    r = _first(book & (px <= 0))
    if r is not None:
        fail(r, f"non-positive price {px[r]:g} on a type-{int(typ[r])} message")
    r = _first((px != np.round(px)) | (size != np.round(size)))
    if r is not None:
        fail(r, "price and size must be integers (price in units of 10^-4)")
    r = _first(book & (dirn != 1) & (dirn != -1))
    if r is not None:
        fail(r, f"direction {dirn[r]:g} is not 1 (buy) or -1 (sell)")
    r = _first(t < 0)
    if r is not None:
        fail(r, f"negative time {t[r]:g}")
    rules = RULES["lobster"]  # declared ranges (a time of 1e12 s would wrap int64 ns)
    for j, col in ((0, "Time"), (2, "OrderID"), (3, "Size"), (4, "Price")):
        _check_ranges(m[:, j], rules[col], path, header, col)
    r = _first(np.diff(t) < 0)
    if r is not None:
        fail(r + 1, f"time goes backwards: {t[r + 1]!r} after {t[r]!r}", TimestampOrderError)


def _check_orderbook(ob: np.ndarray, path: Path, header: int) -> None:
    def fail(r: int, msg: str, cls: type[DataError] = FormatError) -> None:
        raise cls(f"{msg} (file line {r + header + 1})", path=path, row=r)

    if ob.shape[1] % 4 or ob.shape[1] == 0:
        raise FormatError(
            f"{ob.shape[1]} columns: an orderbook file has 4 per level "
            "(AskPx,AskSz,BidPx,BidSz)", path=path, row=0,
        )
    r = _first(np.any(ob != np.round(ob), axis=1))
    if r is not None:
        fail(r, "prices and sizes must be integers (price in units of 10^-4)")
    px, sz = ob[:, 0::2], ob[:, 1::2]
    r = _first(np.any(sz < 0, axis=1))
    if r is not None:
        fail(r, f"negative size {sz[r][sz[r] < 0][0]:g}")
    pad = np.abs(px) >= PAD_PRICE
    r = _first(np.any(pad != (sz == 0), axis=1))
    if r is not None:
        fail(r, "a level has size 0 with a real price, or a padding price with a size")
    r = _first(np.any(~pad & (px <= 0), axis=1))
    if r is not None:
        fail(r, "non-positive price")
    _check_ranges(px, RULES["lobster"]["book price"], path, header, "price")
    _check_ranges(sz, RULES["lobster"]["book size"], path, header, "size")
    ask, bid = px[:, 0], px[:, 1]
    crossed = (np.abs(ask) < PAD_PRICE) & (np.abs(bid) < PAD_PRICE) & (bid >= ask)
    r = _first(crossed)
    if r is not None:
        fail(r, f"crossed book after the message: best bid {bid[r] / PRICE_SCALE:g} >= best ask "
                f"{ask[r] / PRICE_SCALE:g}", CrossedBookError)

