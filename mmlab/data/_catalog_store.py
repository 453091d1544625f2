"""Catalog storage helpers: hashes and names, time ranges, Parquet I/O of events and tables, the
import progress bar and the name-collision rule (see :mod:`mmlab.data._catalog`)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mmlab.data._events import EVENT_DTYPE
from mmlab.errors import ConfigError

__all__: list[str] = []  # private helpers of mmlab.data._catalog


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _combined_sha(hashes: Sequence[str]) -> str:
    if len(hashes) == 1:
        return hashes[0]
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()


def _slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s or "dataset"


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}", name):
        raise ConfigError(f"name: {name!r} must be letters, digits, '.', '_' or '-' (max 128)")
    return name


def _to_ns(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{what}: cannot parse {value!r} as a time") from exc
    if ts is pd.NaT:
        raise ConfigError(f"{what}: NaT")
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.tz_convert("UTC").value)


def _time_column(df: pd.DataFrame) -> str | None:
    for col in ("ts", "date", "Date", "timestamp", "time"):
        if col in df.columns and pd.api.types.is_datetime64_any_dtype(df[col]):
            return col
    for col in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[col]):
            return str(col)
    return None


def _time_range(data: Any, data_type: str) -> tuple[int | None, int | None]:
    if data_type == "events":
        if len(data) == 0:
            return None, None
        ts = data["exch_ts"]
        return int(ts.min()), int(ts.max())
    values = None
    col = _time_column(data)
    if col is not None:
        values = data[col]
    elif isinstance(data.index, pd.DatetimeIndex):
        values = data.index.to_series()
    if values is None or values.notna().sum() == 0:
        return None, None
    values = values.dropna()
    if getattr(values.dt, "tz", None) is None:
        values = values.dt.tz_localize("UTC")
    lo, hi = values.min(), values.max()
    return int(lo.value), int(hi.value)


def _events_table(events: np.ndarray):
    import pyarrow as pa

    if events.dtype != EVENT_DTYPE:
        raise ConfigError(f"events: dtype must be EVENT_DTYPE, got {events.dtype}")
    names = list(EVENT_DTYPE.names or ())  # a structured dtype: names is never None
    arrays = [pa.array(np.ascontiguousarray(events[f])) for f in names]
    table = pa.Table.from_arrays(arrays, names=names)
    return table.replace_schema_metadata({b"mmlab.data_type": b"events"})


def _write_parquet(data: Any, data_type: str, dest: Path) -> None:
    """Write ``data`` as Parquet to ``dest`` (a temporary path) and flush it to disk."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if data_type == "events":
        table = _events_table(data)
    else:
        if data.attrs:  # keep attrs, as JSON (timestamps etc. become strings)
            data = data.copy(deep=False)
            data.attrs = json.loads(json.dumps(data.attrs, default=str))
        table = pa.Table.from_pandas(data)
    pq.write_table(table, dest, compression="zstd")
    with open(dest, "rb") as fh:
        os.fsync(fh.fileno())


def _read_events(path: Path, start: int | None, end: int | None) -> np.ndarray:
    import pyarrow.parquet as pq

    filters = []
    if start is not None:
        filters.append(("exch_ts", ">=", start))
    if end is not None:
        filters.append(("exch_ts", "<", end))
    table = pq.read_table(path, filters=filters or None)
    out = np.zeros(table.num_rows, dtype=EVENT_DTYPE)
    for f in EVENT_DTYPE.names or ():  # a structured dtype: names is never None
        out[f] = table.column(f).to_numpy()
    return out


def _progress(progress: bool | None, name: str) -> Any:
    """A tqdm bar over the four import steps (auto: shown in a terminal or a notebook)."""
    from tqdm.auto import tqdm

    if progress is None:
        progress = sys.stderr.isatty() or _in_notebook()
    return tqdm(total=4, desc=f"import {name}", unit="step", leave=False, disable=not progress,
                mininterval=0)


def _in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (not merely with ipykernel imported)."""
    ipy = sys.modules.get("IPython")
    shell = ipy.get_ipython() if ipy is not None and hasattr(ipy, "get_ipython") else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def _refuse_collision(entry: dict[str, Any], kind: str, sources: list[dict[str, Any]], sha: str) -> None:
    """Raise unless ``entry`` is the same data set (same kind and source files; for in-memory
    data without sources, the same content) converted again."""
    old_paths = [s.get("path") for s in entry["sources"]]
    new_paths = [s.get("path") for s in sources]
    same = entry["kind"] == kind and old_paths == new_paths and (bool(sources) or entry["sha256"] == sha)
    if same:
        return
    what = f"from {old_paths}" if old_paths else "from in-memory data"
    raise ConfigError(
        f"name: {entry['name']!r} is already registered {what} (kind {entry['kind']}); "
        "pass replace=True (mmlab data import --replace) to replace it, or choose another name"
    )

