"""hftbacktest ``.npz`` event files, both ways, and hftbacktest's event ordering.

hftbacktest 2.x stores an event array with ``np.savez_compressed(path, data=events)`` (key
``data``, dtype = its ``event_dtype``, which :data:`mmlab.data.EVENT_DTYPE` reproduces field for
field, 64-byte aligned) and reads it back with ``np.load(path)["data"]``. mmlab keeps its
``ival`` (source line) in the same slot hftbacktest calls ``ival``, so files move both ways
unchanged.

mmlab's loaders emit events in local (receive) order flagged ``EXCH_EVENT | LOCAL_EVENT``.
hftbacktest's backtester wants exchange-side events in ``exch_ts`` order and local-side events in
``local_ts`` order; :func:`to_hftbacktest_order` splits rows whose two orders disagree into an
exchange-only and a local-only copy, as hftbacktest's ``correct_event_order`` does.
"""

from __future__ import annotations

import os
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
from numba import njit

from mmlab.data._events import EVENT_DTYPE, EXCH_EVENT, LOCAL_EVENT
from mmlab.data._validate import MAX_DECOMPRESSION_RATIO, MAX_INPUT_BYTES, RATIO_FLOOR_BYTES, RULES
from mmlab.errors import (
    ConfigError,
    DataWarning,
    FormatError,
    RangeError,
    ResourceLimitError,
    TimestampOrderError,
)

__all__ = [
    "load_npz",
    "merge_order_python",
    "save_npz",
    "to_hftbacktest_order",
    "validate_events",
]


def load_npz(path: str | os.PathLike[str], key: str = "data") -> np.ndarray:
    """Read an hftbacktest ``.npz`` event file.

    Parameters
    ----------
    path : path
        The ``.npz`` file (as written by hftbacktest's converters or :func:`save_npz`).
    key : str, default "data"
        The array inside the archive.

    Returns
    -------
    ndarray of EVENT_DTYPE

    Raises
    ------
    FormatError
        Not a readable npz, no ``key`` array, or a dtype other than the event dtype (e.g. the
        6-column float layout of hftbacktest 1.x: convert it with hftbacktest's ``migration2``).
    ResourceLimitError
        An archive member that inflates more than ``MAX_DECOMPRESSION_RATIO`` (200) times its
        compressed size (beyond 1 MiB) or beyond ``MAX_INPUT_BYTES`` (2 GiB): checked from the
        zip directory before anything is inflated.
    RangeError, TimestampOrderError
        The declared rules of ``RULES['npz']`` (row = 0-based event index, column = field):
        ``px`` NaN, infinite or beyond 1e9 in magnitude; ``qty`` NaN, infinite, negative or
        beyond 1e12; timestamps negative or past 2099; ``local_ts`` going backwards over the
        rows flagged ``LOCAL_EVENT``, or ``exch_ts`` over the exchange-only rows (the orders
        hftbacktest replays in).

    Warns
    -----
    DataWarning
        A row identical to the one before it (the format has no trade or message id, so a
        repeated row can be real data: it is kept).

    Examples
    --------
    >>> import tempfile, os
    >>> from mmlab.data import empty_events
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "ev.npz")
    >>> save_npz(p, empty_events(1))
    >>> load_npz(p).dtype == EVENT_DTYPE
    True
    """
    path = Path(path)
    _check_zip_limits(path, key)
    try:
        with np.load(path, allow_pickle=False) as z:
            if key not in z.files:
                raise FormatError(f"no array {key!r} in the archive (has {z.files})", path=path)
            arr = z[key]
    except FormatError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
        # a binary archive has no rows: the error names the file only
        raise FormatError(f"not a readable .npz file: {exc}", path=path) from None
    if arr.dtype != EVENT_DTYPE:
        converted = None
        if arr.dtype.names == EVENT_DTYPE.names:
            try:
                converted = arr.astype(EVENT_DTYPE)
            except (TypeError, ValueError):
                pass
        if converted is None:
            raise FormatError(f"array {key!r} has dtype {arr.dtype}, not the hftbacktest event "
                              f"dtype {EVENT_DTYPE} (hftbacktest 1.x files need its migration2 "
                              "converter)", path=path)
        arr = converted
    if arr.ndim != 1:
        raise FormatError(f"array {key!r} is {arr.ndim}-dimensional, expected 1", path=path)
    validate_events(arr, path)
    return arr


def _check_zip_limits(path: Path, key: str) -> None:
    """Refuse a zip bomb from the archive's directory, before inflating anything."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return  # np.load reports the unreadable file
    for info in infos:
        if info.filename not in (f"{key}.npy", key):
            continue
        limit = max(MAX_DECOMPRESSION_RATIO * max(info.compress_size, 1), RATIO_FLOOR_BYTES)
        if info.file_size > min(limit, MAX_INPUT_BYTES):
            raise ResourceLimitError(
                f"archive member {info.filename!r} inflates to {info.file_size} bytes from "
                f"{info.compress_size} (limits: {MAX_DECOMPRESSION_RATIO}x, {MAX_INPUT_BYTES} "
                "bytes): refused as a decompression bomb", path=path)


def validate_events(events: np.ndarray, path=None) -> None:
    """Check an event array against ``RULES['npz']`` (see :func:`load_npz`), vectorised.

    Examples
    --------
    >>> from mmlab.data import empty_events
    >>> ev = empty_events(2); ev["px"] = [100.0, np.nan]
    >>> validate_events(ev, "e.npz")
    Traceback (most recent call last):
    ...
    mmlab.errors.RangeError: e.npz, row 1, column px: empty where a value is required
    """
    rules = RULES["npz"]
    rows = np.arange(events.size)
    for name in ("exch_ts", "local_ts", "px", "qty"):
        col = events[name]
        rule = rules[name]
        if col.dtype.kind in "iu":
            bad = (col < rule.lo) | (col > np.int64(rule.hi))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise RangeError(f"{int(col[i])} is outside the plausible range [{rule.lo:g}, "
                                 f"{rule.hi:g}] {rule.unit}", path=path, row=i, column=name)
        else:
            rule.check(col, path, rows)
    ev = events["ev"]
    local = (ev & np.uint64(LOCAL_EVENT)) != 0
    exch_only = ((ev & np.uint64(EXCH_EVENT)) != 0) & ~local
    for name, mask in (("local_ts", local), ("exch_ts", exch_only)):
        idx = np.flatnonzero(mask)
        t = events[name][idx]
        back = np.flatnonzero(t[1:] < t[:-1])
        if back.size:
            i, j = int(idx[back[0] + 1]), int(idx[back[0]])
            raise TimestampOrderError(f"{name} goes backwards: {int(events[name][i])} after "
                                      f"{int(events[name][j])} (row {j})", path=path, row=i,
                                      column=name)
    if events.size > 1:
        same = events[1:] == events[:-1]
        if same.any():
            i = int(np.flatnonzero(same)[0]) + 1
            warnings.warn(f"{path}, row {i}: the same event as row {i - 1} (kept: the npz format "
                          f"has no id, a repeated row can be real data; {int(same.sum())} "
                          "repeated row(s) in all)", DataWarning, stacklevel=3)


def save_npz(path: str | os.PathLike[str], events: np.ndarray, *, compressed: bool = True) -> None:
    """Write events as an hftbacktest ``.npz`` file (key ``data``), atomically.

    The archive is written to a temporary file in the target directory and renamed into place,
    so a crash never leaves a half-written file.

    Parameters
    ----------
    path : path
        Target file (``.npz`` is appended by nothing: the name is used as given).
    events : ndarray of EVENT_DTYPE
    compressed : bool, default True
        ``np.savez_compressed`` (as hftbacktest) or ``np.savez``.

    Examples
    --------
    >>> import tempfile, os
    >>> from mmlab.data import empty_events
    >>> p = os.path.join(tempfile.mkdtemp(), "x.npz")
    >>> save_npz(p, empty_events(3)); len(np.load(p)["data"])
    3
    """
    events = np.asarray(events)
    if events.dtype != EVENT_DTYPE:
        raise ConfigError(f"events: dtype {events.dtype} is not EVENT_DTYPE")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            (np.savez_compressed if compressed else np.savez)(fh, data=events)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def merge_order_python(exch_ts, local_ts, by_exch, by_local):
    """Merge plan of hftbacktest's event-order correction.

    Walks the rows sorted by exchange time (``by_exch``) and by local time (``by_local``) together
    and returns ``(rows, sides)``: the source row of each output event and its side flags
    (3 = both, 2 = exchange only, 1 = local only). Rows whose positions agree stay one event.

    Examples
    --------
    Row 1 was sent after row 0 but received before it:

    >>> ex = np.array([1, 2]); lo = np.array([20, 10])
    >>> rows, sides = merge_order_python(ex, lo, np.argsort(ex), np.argsort(lo))
    >>> rows.tolist(), sides.tolist()
    ([0, 1, 0], [2, 3, 1])
    """
    n = exch_ts.shape[0]
    rows = np.empty(2 * n, np.int64)
    sides = np.empty(2 * n, np.int8)
    out = 0
    i = 0
    j = 0
    while i < n or j < n:
        if i < n and j < n:
            a = by_exch[i]
            b = by_local[j]
            if a == b:
                # the same row is next on both walks: one event, both sides
                rows[out] = a
                sides[out] = 3
                i += 1
                j += 1
            elif exch_ts[a] < exch_ts[b] or (
                    exch_ts[a] == exch_ts[b] and local_ts[a] < local_ts[b]):
                rows[out] = a
                sides[out] = 2
                i += 1
            else:
                rows[out] = b
                sides[out] = 1
                j += 1
        elif i < n:
            rows[out] = by_exch[i]
            sides[out] = 2
            i += 1
        else:
            rows[out] = by_local[j]
            sides[out] = 1
            j += 1
        out += 1
    return rows[:out], sides[:out]


_merge_order = njit(cache=True)(merge_order_python)


def to_hftbacktest_order(events: np.ndarray) -> np.ndarray:
    """Events ordered as hftbacktest's converters order them (``correct_event_order``).

    Exchange-side events end up in non-decreasing ``exch_ts`` order and local-side events in
    non-decreasing ``local_ts`` order; a row whose place differs in the two orders becomes two
    rows, one ``EXCH_EVENT`` and one ``LOCAL_EVENT``. Input side flags are replaced.

    Examples
    --------
    >>> from mmlab.data import empty_events, EXCH_EVENT, LOCAL_EVENT
    >>> ev = empty_events(2); ev["exch_ts"] = [1, 2]; ev["local_ts"] = [20, 10]
    >>> out = to_hftbacktest_order(ev)
    >>> [(int(e) >> 30, int(x), int(l)) for e, x, l in out[["ev", "exch_ts", "local_ts"]]]
    [(2, 1, 20), (3, 2, 10), (1, 1, 20)]
    """
    events = np.asarray(events)
    if events.dtype != EVENT_DTYPE:
        raise ConfigError(f"events: dtype {events.dtype} is not EVENT_DTYPE")
    ex = events["exch_ts"]
    lo = events["local_ts"]
    rows, sides = _merge_order(ex, lo, np.argsort(ex, kind="stable"),
                               np.argsort(lo, kind="stable"))
    out = np.empty(rows.size, EVENT_DTYPE)
    for name in EVENT_DTYPE.names or ():  # a structured dtype: names is never None
        out[name] = events[name][rows]
    base = out["ev"] & ~np.uint64(EXCH_EVENT | LOCAL_EVENT)
    flag = np.where(sides == 3, EXCH_EVENT | LOCAL_EVENT,
                    np.where(sides == 2, EXCH_EVENT, LOCAL_EVENT)).astype(np.uint64)
    out["ev"] = base | flag
    return out
