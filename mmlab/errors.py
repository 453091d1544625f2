"""Typed errors raised by mmlab.

Every bad-input error is a :class:`DataError` (or a subclass) and names where the problem is:
the file and the line or row, or the argument.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ConfigError",
    "CrossedBookError",
    "DataError",
    "DataWarning",
    "DuplicateError",
    "FormatError",
    "InvalidTransitionError",
    "MMLabError",
    "OverfillError",
    "QuoteValidationError",
    "RangeError",
    "ResourceLimitError",
    "SequenceGapError",
    "TimestampOrderError",
    "TruncatedError",
]


class MMLabError(Exception):
    """Base class of every error mmlab raises on purpose."""


class ConfigError(MMLabError, ValueError):
    """An invalid argument or configuration value (names the argument)."""


class DataError(MMLabError, ValueError):
    """Bad input data.

    Parameters
    ----------
    message : str
        What is wrong.
    path : str or Path, optional
        The file the bad data came from.
    row : int, optional
        The line or row (as the vendor counts it, documented by each loader) where it is.
    column : str, optional
        The column or field (the vendor's name for it) holding the bad value.

    Examples
    --------
    >>> err = DataError("negative size -5", path="msgs.csv", row=12)
    >>> str(err)
    'msgs.csv, row 12: negative size -5'
    >>> str(DataError("1e+308 outside [0, 1e9]", path="t.csv", row=3, column="Bid"))
    't.csv, row 3, column Bid: 1e+308 outside [0, 1e9]'
    """

    def __init__(self, message: str, path: str | Path | None = None, row: int | None = None,
                 column: str | None = None):
        self.message = message
        self.path = None if path is None else str(path)
        self.row = row
        self.column = column
        where = []
        if self.path is not None:
            where.append(self.path)
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)

    def __reduce__(self):  # keep the error picklable (Dask workers, multiprocessing)
        return (type(self), (self.message, self.path, self.row, self.column))


class FormatError(DataError):
    """The file is not in the expected format (missing/wrong columns, truncated, non-numeric)."""


class TruncatedError(FormatError):
    """The file ends mid-record: its last line has no newline, or a gzip stream stops short."""


class RangeError(DataError):
    """A value outside the range declared plausible for its field (including integers too large
    to be represented, caught before any cast to ``int64``)."""


class DuplicateError(DataError):
    """A uniqueness key (trade id, contract, date, JSON key) appears twice."""


class ResourceLimitError(DataError):
    """An input exceeding a resource limit (decompression ratio, line length, input size),
    refused before it can exhaust memory."""


class DataWarning(UserWarning):
    """Suspicious input that can be real data (e.g. a repeated row in a format without ids)."""


class SequenceGapError(DataError):
    """A feed's sequence numbers skip (e.g. Binance depth diffs whose U/pu do not chain)."""


class TimestampOrderError(DataError):
    """Timestamps go backwards where they must not."""


class CrossedBookError(DataError):
    """An update left the order book crossed (best bid >= best ask)."""


class InvalidTransitionError(MMLabError):
    """An order event that cannot happen in the order's current state (names order and state)."""


class OverfillError(InvalidTransitionError):
    """A fill larger than the order's remaining quantity."""


class QuoteValidationError(MMLabError, ValueError):
    """An outgoing quote failed validation (crossed, non-positive size or price, outside bands)."""
