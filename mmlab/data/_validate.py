"""The validation layer every loader (and so ``mmlab data import``) passes its input through.

Two parts:

* **Reading with resource limits** (:func:`read_input`): every vendor file is read through one
  function that refuses, with :class:`~mmlab.errors.ResourceLimitError` and *before* memory is
  exhausted,

  - a gzip stream that inflates more than :data:`MAX_DECOMPRESSION_RATIO` (200) times its
    compressed size (outputs under :data:`RATIO_FLOOR_BYTES`, 1 MiB, are never refused for
    their ratio: tiny files compress erratically). Decompression is incremental with a bounded
    output per step, so a gzip bomb is stopped after at most one step (4 MiB) past the limit;
  - any input (decompressed) larger than :data:`MAX_INPUT_BYTES` (2 GiB);
  - any line longer than :data:`MAX_LINE_BYTES` (4 MiB; the longest shipped line, a Binance
    REST snapshot, is 64 KB). The check runs while reading, so a multi-GB line is refused after
    its first 4 MiB.

  It also refuses a **truncated file**: a gzip stream that stops short, or (for vendors that end
  every line with a newline, :attr:`VendorRules.final_newline`) a last line without its newline,
  with :class:`~mmlab.errors.TruncatedError`. A file cut inside a number (``4.26`` -> ``4.``)
  would otherwise load as another number.

* **Declared rules per vendor** (:data:`RULES`): for every numeric field the plausible range
  (:class:`FieldRule`, ``lo <= x <= hi``; integers are bounded *before* any cast to ``int64``,
  so an integer too large for ``int64`` or past ``2**53`` is refused instead of wrapping), whether
  a blank is allowed (field completeness), the uniqueness keys and the ordering the vendor
  guarantees. Loaders check their columns vectorised (:meth:`FieldRule.check`), so the cost is a
  few numpy comparisons per column, not Python per row.

Every refusal is one typed :class:`~mmlab.errors.DataError` subclass whose message names the
file, the row (the loader's documented row numbering) and the column.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mmlab.errors import (
    DuplicateError,
    FormatError,
    RangeError,
    ResourceLimitError,
    TruncatedError,
)

__all__ = [
    "MAX_DECOMPRESSION_RATIO",
    "MAX_INPUT_BYTES",
    "MAX_LINE_BYTES",
    "RATIO_FLOOR_BYTES",
    "RULES",
    "FieldRule",
    "VendorRules",
    "check_unique",
    "decode_text",
    "ms_since_epoch",
    "read_input",
    "read_text",
]

#: A gzip stream may inflate to at most this many times its compressed size (real vendor text
#: compresses 4-10x; the shipped Binance dumps 6.5-8.7x).
MAX_DECOMPRESSION_RATIO = 200
#: Decompressed outputs up to this size are never refused for their ratio.
RATIO_FLOOR_BYTES = 1 << 20
#: Largest input (after decompression) any loader reads: 2 GiB.
MAX_INPUT_BYTES = 2 << 30
#: Longest line accepted: 4 MiB.
MAX_LINE_BYTES = 4 << 20
_CHUNK = 1 << 20  #: compressed bytes read per step
_STEP = MAX_LINE_BYTES  #: most bytes produced per step: a line longer than the limit spans steps

_INT_SAFE = float(2**53)  #: integers above this are not exact in float64 (and near int64's end)


def ms_since_epoch(year: int) -> float:
    """Milliseconds from 1970-01-01 UTC to 1 January of ``year``.

    Examples
    --------
    >>> ms_since_epoch(1970), ms_since_epoch(2000)
    (0.0, 946684800000.0)
    """
    return float(np.datetime64(f"{year:04d}-01-01", "ms").astype(np.int64))


# ----------------------------------------------------------------------------------------------
# declared rules
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldRule:
    """The plausible values of one vendor field.

    Parameters
    ----------
    column : str
        The vendor's name of the field (used in error messages).
    lo, hi : float
        Inclusive bounds. A value outside is refused (:class:`~mmlab.errors.RangeError`).
    integer : bool
        The field is an integer: it must be whole, and ``hi`` must not exceed ``2**53`` so the
        check runs before any cast to ``int64``.
    blank_ok : bool
        Whether a missing value (NaN after parsing) is legitimate.
    unit : str
        What the bounds are in (for the message).

    Examples
    --------
    >>> r = FieldRule("SOFR", -5.0, 30.0, unit="percent")
    >>> r.check(np.array([5.31, 1e308]), "s.csv", [2, 3])
    Traceback (most recent call last):
    ...
    mmlab.errors.RangeError: s.csv, row 3, column SOFR: 1e+308 is outside the plausible range [-5, 30] percent
    """

    column: str
    lo: float
    hi: float
    integer: bool = False
    blank_ok: bool = False
    unit: str = ""

    def __post_init__(self) -> None:
        if not self.lo <= self.hi:
            raise ValueError(f"FieldRule {self.column}: lo {self.lo} > hi {self.hi}")
        if self.integer and max(abs(self.lo), abs(self.hi)) > _INT_SAFE:
            raise ValueError(f"FieldRule {self.column}: integer bounds must stay within 2**53")

    def bad_mask(self, values: np.ndarray) -> np.ndarray:
        """Boolean mask of the values this rule refuses (vectorised)."""
        v = np.asarray(values, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            bad = ~((v >= self.lo) & (v <= self.hi))  # NaN fails both comparisons
            if self.blank_ok:
                bad &= ~np.isnan(v)
            if self.integer:
                bad |= np.isfinite(v) & (v != np.floor(v))
        return bad

    def check_scalar(self, x: float, path, row: int | None, column: str | None = None) -> None:
        """:meth:`check` for one Python float (no numpy: for loaders that parse per row)."""
        if self.lo <= x <= self.hi and not (self.integer and x != int(x)):
            return
        if x != x and self.blank_ok:
            return
        self.check(np.array([x], dtype=np.float64), path, row, column)

    def check(self, values: np.ndarray, path, rows: Sequence[int] | np.ndarray | int | None,
              column: str | None = None) -> None:
        """Raise :class:`~mmlab.errors.RangeError` naming the first refused value's row.

        ``rows`` gives the row number of each value (or one number for all of them); ``column``
        overrides the rule's column name in the message (a rule shared by several columns).
        """
        bad = self.bad_mask(values)
        if not bad.any():
            return
        i = int(np.flatnonzero(bad)[0])
        x = float(np.asarray(values, dtype=np.float64).ravel()[i])
        row = rows if rows is None or isinstance(rows, (int, np.integer)) else int(rows[i])
        if np.isnan(x):
            what = "empty where a value is required"
        elif self.integer and np.isfinite(x) and x != np.floor(x):
            what = f"{x!r} is not a whole number"
        else:
            what = f"{x:g} is outside the plausible range [{self.lo:g}, {self.hi:g}]"
            what += f" {self.unit}" if self.unit else ""
        raise RangeError(what, path=path, row=None if row is None else int(row),
                         column=column or self.column)


@dataclass(frozen=True, slots=True)
class VendorRules:
    """The declared rules of one vendor format.

    Parameters
    ----------
    vendor : str
    fields : tuple of FieldRule
        Range, integer and completeness rules per field.
    unique : tuple of str
        The uniqueness key (a repeat is a :class:`~mmlab.errors.DuplicateError`).
    ordering : str
        The ordering the format guarantees (checked by the loader; stated here).
    final_newline : bool
        Every line, the last included, ends with a newline (else the file is truncated).
    """

    vendor: str
    fields: tuple[FieldRule, ...]
    unique: tuple[str, ...] = ()
    ordering: str = ""
    final_newline: bool = True
    _by_name: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_name.update({f.column: f for f in self.fields})

    def __getitem__(self, column: str) -> FieldRule:
        return self._by_name[column]

    def check(self, column: str, values, path, rows, as_column: str | None = None) -> None:
        """Check one column against its declared rule (see :meth:`FieldRule.check`)."""
        self._by_name[column].check(values, path, rows, as_column)


def _year_ms(lo: int, hi: int, column: str, blank_ok: bool = False) -> FieldRule:
    return FieldRule(column, ms_since_epoch(lo), ms_since_epoch(hi), integer=True,
                     blank_ok=blank_ok, unit=f"ms since 1970 ({lo}-{hi})")


_PRICE_USD = 1e7  # no listed price, strike or index level in these feeds comes near 10 million

#: The declared rules of every vendor format mmlab reads.
RULES: dict[str, VendorRules] = {
    "binance": VendorRules(
        "binance",
        (
            FieldRule("local_ts", ms_since_epoch(2017) * 1e6, 4.1e18, unit="ns since 1970"),
            _year_ms(2017, 2100, "E"),
            _year_ms(2017, 2100, "T"),
            FieldRule("update_id", 0, _INT_SAFE, integer=True),
            FieldRule("trade_id", 0, _INT_SAFE, integer=True),
            FieldRule("price", 0, _PRICE_USD, unit="quote currency"),
            FieldRule("qty", 0, 1e12, unit="base currency"),
        ),
        unique=("trade_id", "bookTicker u"),
        ordering="local receive time non-decreasing; depth diffs chained by update id; bookTicker "
                 "update id strictly increasing",
    ),
    "lobster": VendorRules(
        "lobster",
        (
            FieldRule("Time", 0, 86_400, unit="seconds after midnight"),
            FieldRule("Type", 1, 7, integer=True),
            FieldRule("OrderID", 0, _INT_SAFE, integer=True),
            FieldRule("Size", 0, 1e12, integer=True, unit="shares"),
            FieldRule("Price", -9_999_999_999, 9_999_999_999, integer=True, unit="USD x 10^4"),
            FieldRule("Direction", -1, 1, integer=True),
            FieldRule("book size", 0, 1e12, integer=True, unit="shares"),
            FieldRule("book price", -9_999_999_999, 9_999_999_999, integer=True,
                      unit="USD x 10^4"),
        ),
        ordering="Time non-decreasing",
        # LOBSTER's own sample files end without a newline; a truncated last row is caught by
        # the orderbook file (one row per message, every row reconciled against the messages).
        final_newline=False,
    ),
    "cboe": VendorRules(
        "cboe",
        (
            FieldRule("header Last", 0, _PRICE_USD, unit="USD"),
            FieldRule("Strike", 0, _PRICE_USD, unit="USD"),
            FieldRule("Last Sale", 0, _PRICE_USD, unit="USD"),
            FieldRule("Net", -_PRICE_USD, _PRICE_USD, unit="USD"),
            FieldRule("Bid", 0, _PRICE_USD, unit="USD"),
            FieldRule("Ask", 0, _PRICE_USD, unit="USD"),
            FieldRule("Volume", 0, 1e10, integer=True, unit="contracts"),
            FieldRule("IV", 0, 100, unit="decimal vol"),
            FieldRule("Delta", -1.0001, 1.0001),
            FieldRule("Gamma", 0, 1e3),
            FieldRule("Open Interest", 0, 1e10, integer=True, unit="contracts"),
        ),
        unique=("root", "expiry", "strike", "right"),
    ),
    "deribit": VendorRules(
        "deribit",
        (
            _year_ms(2016, 2100, "timestamp"),
            _year_ms(2016, 2100, "expiration_timestamp"),
            FieldRule("strike", 0, _PRICE_USD, unit="USD"),
            FieldRule("underlying_price", 0, _PRICE_USD, unit="USD"),
            FieldRule("index_price", 0, _PRICE_USD, unit="USD"),
            FieldRule("price", 0, 1e3, unit="BTC"),  # premiums, mark and ladder prices
            FieldRule("amount", 0, 1e9, unit="contracts"),
            FieldRule("open_interest", 0, 1e10, unit="contracts"),
            FieldRule("iv", 0, 1e4, unit="percent"),
            FieldRule("delta", -1.0001, 1.0001),
            FieldRule("greek", -1e9, 1e9),  # gamma, vega, theta
            FieldRule("volume", 0, 1e10, unit="contracts"),
        ),
        unique=("instrument_name",),
    ),
    "treasury": VendorRules(
        "treasury",
        (FieldRule("yield", -5, 30, blank_ok=True, unit="percent"),),
        unique=("Date",),
        ordering="dates strictly monotonic within a file (Treasury exports newest first)",
    ),
    "sofr": VendorRules(
        "sofr",
        (FieldRule("SOFR", -5, 30, blank_ok=True, unit="percent"),),
        unique=("Date",),
        ordering="dates strictly increasing",
    ),
    "wti": VendorRules(
        "wti",
        # negative settles are real (CL01 on 2020-04-20: -37.63)
        (FieldRule("settle", -1e3, 1e4, unit="USD/bbl"),),
        unique=("date",),
        ordering="dates strictly increasing",
    ),
    "sp500": VendorRules(
        "sp500",
        (
            FieldRule("price", 0, _PRICE_USD, unit="index points"),
            FieldRule("Volume", 0, 1e15, integer=True, unit="shares"),
        ),
        unique=("Date",),
        ordering="dates strictly increasing",
    ),
    "swap_quotes": VendorRules(
        "swap_quotes",
        (
            FieldRule("rate", -0.05, 0.5, unit="decimal rate"),
            FieldRule("future", 0, 110, unit="price (100 - rate in percent)"),
        ),
        unique=("key",),
        final_newline=False,
    ),
    "npz": VendorRules(
        "npz",
        (
            FieldRule("exch_ts", 0, 4.1e18, unit="ns since 1970"),
            FieldRule("local_ts", 0, 4.1e18, unit="ns since 1970"),
            FieldRule("px", -1e9, 1e9),
            FieldRule("qty", 0, 1e12),
        ),
        ordering="local_ts non-decreasing over local-side rows, exch_ts over exchange-only rows",
        final_newline=False,
    ),
}


def check_unique(keys: np.ndarray, path, rows: Sequence[int] | np.ndarray, column: str,
                 what: str = "value") -> None:
    """Raise :class:`~mmlab.errors.DuplicateError` at the second occurrence of a key.

    Examples
    --------
    >>> check_unique(np.array([5, 7, 5]), "t.gz", [10, 11, 12], "t", "trade id")
    Traceback (most recent call last):
    ...
    mmlab.errors.DuplicateError: t.gz, row 12, column t: trade id 5 appears twice (first on row 10)
    """
    keys = np.asarray(keys)
    if keys.size < 2:
        return
    order = np.argsort(keys, kind="stable")
    s = keys[order]
    dup = np.flatnonzero(s[1:] == s[:-1])
    if not dup.size:
        return
    # the earliest second occurrence in file order
    seconds = order[dup + 1]
    k = int(np.argmin(seconds))
    j, first = int(seconds[k]), int(order[dup[k]])
    raise DuplicateError(f"{what} {keys[j]} appears twice (first on row {int(rows[first])})",
                         path=path, row=int(rows[j]), column=column)


# ----------------------------------------------------------------------------------------------
# reading with limits
# ----------------------------------------------------------------------------------------------


class _GzipTruncated(Exception):
    """The gzip stream stops short or is corrupt (the reader adds the line it got to)."""


def _gunzip(fh, compressed_size: int, path: Path) -> Iterator[bytes]:
    """Inflate a (multi-member) gzip stream in bounded steps, enforcing the ratio limit."""
    limit = max(MAX_DECOMPRESSION_RATIO * compressed_size, RATIO_FLOOR_BYTES)
    produced = 0
    d: Any = zlib.decompressobj(wbits=31)  # None between gzip members
    while True:
        data = fh.read(_CHUNK)
        if not data:
            break
        while data:
            if d is None:
                if not data.strip(b"\0"):  # zero padding after the last member (tolerated)
                    data = b""
                    break
                d = zlib.decompressobj(wbits=31)
            try:
                out = d.decompress(data, _STEP)
            except zlib.error as exc:
                raise _GzipTruncated(f"corrupt: {exc}") from None
            produced += len(out)
            if produced > limit:
                raise ResourceLimitError(
                    f"gzip stream inflates more than {MAX_DECOMPRESSION_RATIO}x its compressed size "
                    f"({compressed_size} bytes): refused as a decompression bomb", path=path)
            if out:
                yield out
            if d.eof:
                data = d.unused_data
                d = None
            else:
                data = d.unconsumed_tail
    if d is not None:  # the last member never reached its end
        try:
            out = d.flush()
        except zlib.error as exc:
            raise _GzipTruncated(f"corrupt: {exc}") from None
        if out:
            yield out
        raise _GzipTruncated("the stream stops before its end")


def read_input(path, *, final_newline: bool = True) -> bytes:
    """Read a vendor file (gzip or plain) within the resource limits of this module.

    Parameters
    ----------
    path : str or Path
    final_newline : bool, default True
        Refuse a file whose last line has no newline (:class:`~mmlab.errors.TruncatedError`).

    Returns
    -------
    bytes
        The (decompressed) content.

    Raises
    ------
    FormatError
        Unreadable file or corrupt gzip.
    TruncatedError
        A gzip stream that stops short, or a missing final newline (row = the last line).
    ResourceLimitError
        Decompression ratio above :data:`MAX_DECOMPRESSION_RATIO` (beyond
        :data:`RATIO_FLOOR_BYTES`), input above :data:`MAX_INPUT_BYTES`, or a line longer than
        :data:`MAX_LINE_BYTES` (row = that line).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x.csv")
    >>> _ = open(p, "w").write("Date,SOFR\\n2024-01-02,5.3")
    >>> read_input(p)
    Traceback (most recent call last):
    ...
    mmlab.errors.TruncatedError: ...x.csv, row 2: the last line has no newline: the file is truncated
    """
    path = Path(path)
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise FormatError(f"cannot read file: {exc.strerror or exc}", path=path) from None
    with fh:
        try:
            size = os.fstat(fh.fileno()).st_size
            gz = fh.read(2) == b"\x1f\x8b"
            fh.seek(0)
        except OSError as exc:
            raise FormatError(f"cannot read file: {exc.strerror or exc}", path=path) from None
        if not gz and size > MAX_INPUT_BYTES:
            raise ResourceLimitError(f"{size} bytes: larger than the {MAX_INPUT_BYTES} byte input "
                                     "limit", path=path)
        chunks = _gunzip(fh, size, path) if gz else iter(lambda: fh.read(_STEP), b"")
        parts: list[bytes] = []
        total = 0
        run = 0  # bytes since the last newline
        try:
            for c in chunks:
                total += len(c)
                if total > MAX_INPUT_BYTES:
                    raise ResourceLimitError(
                        f"more than {MAX_INPUT_BYTES} bytes of input: refused", path=path,
                        row=_count_lines(parts) + 1)
                # steps are at most MAX_LINE_BYTES long, so only a line running across steps can
                # be too long: the first newline of each step closes it (memchr, no Python loop)
                # (lines are counted only to name the row of an error)
                first = c.find(b"\n")
                if first >= 0:
                    if run + first > MAX_LINE_BYTES:
                        raise ResourceLimitError(
                            f"line longer than {MAX_LINE_BYTES} bytes: refused", path=path,
                            row=_count_lines(parts) + 1)
                    run = len(c) - c.rfind(b"\n") - 1
                else:
                    run += len(c)
                parts.append(c)
                if run > MAX_LINE_BYTES:
                    raise ResourceLimitError(f"line longer than {MAX_LINE_BYTES} bytes: refused",
                                             path=path, row=_count_lines(parts) + 1)
        except _GzipTruncated as exc:
            n_lines = _count_lines(parts)
            raise TruncatedError(f"truncated or corrupt gzip ({exc}); data ends after line "
                                 f"{n_lines}", path=path, row=n_lines + 1) from None
        except OSError as exc:
            raise FormatError(f"cannot read file: {exc.strerror or exc}", path=path) from None
    buf = b"".join(parts)
    if final_newline and buf and not buf.endswith(b"\n"):
        raise TruncatedError("the last line has no newline: the file is truncated", path=path,
                             row=buf.count(b"\n") + 1)
    return buf


def read_text(path, *, final_newline: bool = True, header_startswith: str = "") -> str:
    """:func:`read_input` for a CSV file, decoded; a missing final newline names the column.

    The truncated field is the last one of the last line: its column is taken from the header
    (the first line starting with ``header_startswith`` among the first six, else the first
    non-blank line).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "y.csv")
    >>> _ = open(p, "w").write("Date,10 Yr,30 Yr\\n2024-10-04,3.98,4.")
    >>> read_text(p)
    Traceback (most recent call last):
    ...
    mmlab.errors.TruncatedError: ...y.csv, row 2, column 30 Yr: the last line has no newline: the file is truncated
    """
    import csv

    text = decode_text(read_input(path, final_newline=False), path)
    if final_newline and text and not text.endswith("\n"):
        lines = text.split("\n")
        head = next((ln for ln in lines[:6] if header_startswith and ln.startswith(header_startswith)),
                    next((ln for ln in lines if ln.strip()), ""))
        column = None
        try:
            names = next(csv.reader([head]))
            k = len(next(csv.reader([lines[-1]]))) - 1
            column = names[k].strip() if 0 <= k < len(names) and len(lines) > 1 else None
        except (csv.Error, StopIteration):
            pass
        raise TruncatedError("the last line has no newline: the file is truncated", path=path,
                             row=len(lines), column=column or None)
    return text


def _count_lines(parts: list[bytes]) -> int:
    """Complete lines in what was read so far (only on the error path)."""
    return sum(c.count(b"\n") for c in parts)


def decode_text(buf: bytes, path) -> str:
    """UTF-8 text (a BOM dropped), or :class:`~mmlab.errors.FormatError` naming the line."""
    try:
        return buf.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = buf.count(b"\n", 0, exc.start) + 1
        raise FormatError(f"not UTF-8 text ({exc.reason})", path=path, row=row) from None
