"""The data catalog: vendor files converted once into normalised Parquet, registered in DuckDB.

Layout of a catalog directory (default ``data/catalog/``, git-ignored; override with the
``path`` argument or ``$MMLAB_DATA_DIR``, see :func:`mmlab._paths.catalog_dir`)::

    catalog.duckdb                         the registry (table ``datasets``)
    <name>-<sha12>-<loader12>.parquet      one file per converted data set

Each registered data set records its source files (path, sha256, size), a combined sha256, the
loader's name and version, the number of rows, the time range (UTC ns) and when it was created.

Rules
-----
* **Converted once.** Importing the same sources with the same loader version again is a no-op
  (returns the existing entry). A changed file or a new loader version converts again.
* **Atomic.** Parquet is written to a temporary file in the catalog directory, flushed, then
  renamed into place (:func:`os.replace`); the registry row is written only after that, in one
  DuckDB transaction. A failure at any step leaves the catalog exactly as it was: no half-written
  file, no registry row pointing to a missing or partial file.
* **Loader version** = the loader module's ``LOADER_VERSION`` (else ``mmlab.__version__``) plus
  8 hex digits of a sha256 over the source of the loader's module and of every mmlab module it
  imports (transitively), so editing a loader or its parser converts again rather than serving
  stale data.
* **Names are not silently reused.** Importing (or adding) under a name that already holds a
  *different* data set (other source files, another kind, or other in-memory data) raises
  :class:`~mmlab.errors.ConfigError` unless ``replace=True`` (``mmlab data import --replace``):
  ``a/rates.csv`` (SOFR) then ``b/rates.csv`` (Treasury) must not swap the data set ``rates``
  and delete its Parquet behind the user's back. Re-importing the *same* source files (changed
  content or a new loader version) converts again, as above.
* **Validated.** Every import goes through the loaders and so through
  :mod:`mmlab.data._validate` (declared ranges, keys, truncation, input limits): a file that is
  refused registers nothing and leaves no file behind.
* **Swept on open.** Opening a catalog removes what a killed process can leave: temporary
  ``.*.parquet.tmp`` files and Parquet files no registry row points to (both under the catalog
  lock, so never a file another process is still writing); :attr:`Catalog.swept` lists them.
* Events round-trip unchanged: :meth:`Catalog.load` returns the same :data:`EVENT_DTYPE` bytes
  that were stored. Tables come back as the loader returned them (pandas metadata is kept;
  ``DataFrame.attrs`` values that are not JSON, e.g. timestamps, come back as strings).

The shipped data sets have stable names (:data:`SHIPPED_SOURCES`), e.g.
``binance-usdm-btcusdt-20240808`` or ``binance-spot-btcusdt-20240808`` (the 08-08 and 08-09 spot
files chained as one stream); :func:`ensure_data_ready` converts what a run needs.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import gzip
import hashlib
import importlib
import importlib.util
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import mmlab
from mmlab._paths import SHIPPED_DATA, catalog_dir
from mmlab.data._events import EVENT_DTYPE
from mmlab.errors import ConfigError, FormatError

_TMP_FILE = re.compile(r"^\..+\.parquet\.tmp$")
_DATA_FILE = re.compile(r"^.+-[0-9a-f]{12}-[0-9a-f]{12}\.parquet$")

__all__ = [
    "DEMO_DATASETS",
    "KINDS",
    "SHIPPED_SOURCES",
    "Catalog",
    "ShippedSource",
    "detect_kind",
    "ensure_data_ready",
]

_REGISTRY = "catalog.duckdb"
_LOCK = ".catalog.lock"


@dataclass(frozen=True, slots=True)
class KindSpec:
    """How one kind of source is converted.

    Attributes
    ----------
    loaders : tuple of str
        Candidate loader names in :mod:`mmlab.data` (the first that exists is used).
    data_type : str
        ``'events'`` (an :data:`EVENT_DTYPE` array) or ``'table'`` (a DataFrame).
    multi : bool
        Whether several files form one data set (Binance: consecutive files are one stream).
    """

    loaders: tuple[str, ...]
    data_type: str
    multi: bool = False


#: Every kind the catalog converts, and the loader names it calls.
KINDS: dict[str, KindSpec] = {
    "lobster": KindSpec(("load_lobster",), "events"),
    "binance": KindSpec(("load_binance",), "events", multi=True),
    "npz": KindSpec(("load_npz",), "events"),
    "option_chain": KindSpec(("load_option_chain",), "table"),
    "treasury": KindSpec(
        ("load_treasury_par_yields", "load_ust_par_yields", "load_treasury_yields", "load_treasury"),
        "table",
    ),
    "sofr": KindSpec(("load_sofr", "load_sofr_fixings"), "table"),
    "swap_quotes": KindSpec(
        ("load_swap_quotes", "load_usd_swap_quotes", "load_swap_curve_quotes"), "table"
    ),
    "wti": KindSpec(("load_wti", "load_wti_settles", "load_wti_futures"), "table"),
    "sp500": KindSpec(("load_sp500", "load_sp500_daily", "load_equity_daily"), "table"),
}


@dataclass(frozen=True, slots=True)
class ShippedSource:
    """A data set shipped with the project under ``data/``, with its stable catalog name."""

    name: str
    kind: str
    files: tuple[str, ...]
    description: str = ""

    def paths(self) -> list[Path]:
        """Absolute paths of the files."""
        return [SHIPPED_DATA / f for f in self.files]


def _src(name: str, kind: str, *files: str, description: str = "") -> tuple[str, ShippedSource]:
    return name, ShippedSource(name, kind, tuple(files), description)


_AAPL = "lobster/AAPL_2012-06-21_34200000_57600000_{}_10.csv"
_AMZN = "lobster/amzn_l1_full_day/AMZN_2012-06-21_34200000_57600000_{}_1.csv"

#: The shipped data sets, by stable name.
SHIPPED_SOURCES: dict[str, ShippedSource] = dict(
    [
        _src("binance-usdm-btcusdt-20240808", "binance", "binance/usdm_btcusdt_20240808.gz",
             description="Binance USD-M BTCUSDT perpetual, 2024-08-08, ~6 min, depth@0ms + trades"),
        _src("binance-usdm-ethusdt-20240808", "binance", "binance/usdm_ethusdt_20240808.gz",
             description="Binance USD-M ETHUSDT perpetual, 2024-08-08, ~6 min"),
        _src("binance-spot-btcusdt-20240808", "binance", "binance/spot_btcusdt_20240808.gz",
             "binance/spot_btcusdt_20240809.gz",
             description="Binance spot BTCUSDT, ~11 min across midnight 08-08/09 (two files, one stream)"),
        _src("lobster-aapl-20120621-l10", "lobster", _AAPL.format("message"), _AAPL.format("orderbook"),
             description="Nasdaq AAPL 2012-06-21, LOBSTER level 10, first 999 events"),
        _src("lobster-amzn-20120621-l1", "lobster", _AMZN.format("message"), _AMZN.format("orderbook"),
             description="Nasdaq AMZN 2012-06-21, LOBSTER level 1, full day"),
        _src("cboe-spx-20230914", "option_chain", "options/cboe_spx_2023-09-14.csv",
             description="CBOE SPX/SPXW chain, 2023-09-14 16:31 ET"),
        _src("cboe-spy-20230914", "option_chain", "options/cboe_spy_2023-09-14.csv",
             description="CBOE SPY chain, 2023-09-14 16:31 ET"),
        _src("cboe-spx-20220204", "option_chain", "options/cboe_spx_2022-02-04.csv",
             description="CBOE SPX/SPXW chain, close of 2022-02-04"),
        _src("cboe-ndx-20220204", "option_chain", "options/cboe_ndx_2022-02-04.csv",
             description="CBOE NDX/NDXP chain, close of 2022-02-04"),
        _src("deribit-btc-20200521", "option_chain", "options/deribit_btc_2020-05-21.csv",
             description="Deribit BTC options, 2020-05-21 23:19-23:22 UTC"),
        _src("ust-par-yields-1990-2023", "treasury", "rates/ust_par_yields_1990-2023.csv",
             description="US Treasury par yields 1990-2023 (percent)"),
        _src("ust-par-yields-2024", "treasury", "rates/ust_par_yields_2024.csv",
             description="US Treasury par yields 2024 (percent)"),
        _src("ust-par-yields-2025", "treasury", "rates/ust_par_yields_2025.csv",
             description="US Treasury par yields 2025 (percent)"),
        _src("sofr-2018-2025", "sofr", "rates/sofr_fixings_2018-2025.csv",
             description="SOFR fixings 2018-2025 (percent)"),
        _src("usd-swap-quotes-20231019", "swap_quotes", "rates/usd_swap_curve_quotes_2023-10-19.json",
             description="USD deposits, swap par rates and rate futures, 2023-10-19"),
        _src("wti-cl01-cl36-2007-2023", "wti", "commodities/wti_cl01-cl36_settles_2007-2023.csv",
             description="NYMEX WTI CL01-CL36 settles 2007-2023"),
        _src("sp500-daily-1999-2018", "sp500", "equity/sp500_daily_1999-2018.csv.gz",
             description="S&P 500 daily OHLCV 1999-2018"),
    ]
)  # fmt: skip

#: The data sets `mmlab demo` needs (the report notebooks' demo parameter sets).
DEMO_DATASETS: tuple[str, ...] = ("binance-usdm-btcusdt-20240808", "lobster-aapl-20120621-l10")

_COLUMNS = (
    "name", "kind", "data_type", "path", "loader", "loader_version", "sha256", "size_bytes",
    "sources", "rows", "t_start", "t_end", "created",
)  # fmt: skip

_SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    name VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,
    data_type VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    loader VARCHAR NOT NULL,
    loader_version VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    size_bytes BIGINT NOT NULL,
    sources VARCHAR NOT NULL,
    rows BIGINT NOT NULL,
    t_start BIGINT,
    t_end BIGINT,
    created VARCHAR NOT NULL
)
"""


# --------------------------------------------------------------------------------------------
# kind detection


def _head_text(path: Path, n: int = 4096) -> str:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read(n)
    except (OSError, EOFError) as exc:
        raise FormatError(f"cannot read the start of the file ({exc})", path=path) from exc
    return raw.decode("utf-8-sig", errors="replace")


def detect_kind(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> str:
    """Which kind of vendor file ``paths`` are, from their names and first bytes.

    Returns one of the keys of :data:`KINDS`. Raises :class:`~mmlab.errors.FormatError` (naming
    the file) when no kind fits, :class:`~mmlab.errors.ConfigError` when the files are of
    different kinds.

    Examples
    --------
    >>> from mmlab._paths import shipped
    >>> detect_kind(shipped("binance", "usdm_btcusdt_20240808.gz"))
    'binance'
    >>> detect_kind(shipped("rates", "sofr_fixings_2018-2025.csv"))
    'sofr'
    """
    items = [Path(paths)] if isinstance(paths, (str, os.PathLike)) else [Path(p) for p in paths]
    if not items:
        raise ConfigError("paths: no file given")
    kinds = {_detect_one(p) for p in items}
    if len(kinds) > 1:
        raise ConfigError(f"paths: files of different kinds {sorted(kinds)}: {[str(p) for p in items]}")
    return kinds.pop()


def _detect_one(path: Path) -> str:
    if not path.is_file():
        raise ConfigError(f"paths: no such file: {path}")
    name = path.name.lower()
    if name.endswith(".npz"):
        return "npz"
    if name.endswith(".csv") and ("_message_" in name or "_orderbook_" in name):
        return "lobster"
    head = _head_text(path)
    first = head.lstrip().splitlines()[0] if head.strip() else ""
    if re.match(r"^\d{15,}\s+[\{\[]", first):
        return "binance"
    if name.endswith(".json"):
        from mmlab.data._validate import decode_text, read_input

        try:
            obj = json.loads(decode_text(read_input(path, final_newline=False), path))
            keys = set(obj) if isinstance(obj, dict) else set()
        except (ValueError, TypeError, RecursionError) as exc:
            raise FormatError(f"not valid JSON ({type(exc).__name__})", path=path,
                              row=getattr(exc, "lineno", 1)) from None
        if keys & {"d1w", "d1m", "d3m"} or any(re.fullmatch(r"s\d+y", k) for k in keys):
            return "swap_quotes"
    cols = [c.strip().lower() for c in first.split(",")]
    if "expiration date," in head.lower() or re.search(r"^\"?date:", head, re.I | re.M):
        return "option_chain"
    if "instrument_name" in cols:
        return "option_chain"
    if cols and cols[0] == "date" and "1 mo" in cols:
        return "treasury"
    if "sofr" in cols:
        return "sofr"
    if "cl01" in cols:
        return "wti"
    if {"open", "high", "low", "close"} <= set(cols):
        return "sp500"
    raise FormatError("unrecognised file: not a known vendor format (see mmlab.data.KINDS)", path=path, row=0)


# --------------------------------------------------------------------------------------------
# helpers


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


def _resolve_loader(kind: str) -> tuple[Callable[..., Any], str, str]:
    """(loader function, its name, its version) for a kind."""
    if kind not in KINDS:
        raise ConfigError(f"kind: unknown {kind!r}; known: {sorted(KINDS)}")
    data_mod = importlib.import_module("mmlab.data")
    for lname in KINDS[kind].loaders:
        fn = getattr(data_mod, lname, None)
        if fn is not None:
            return fn, lname, _loader_version(fn)
    raise ConfigError(f"kind: no loader for {kind!r} is available (looked for {KINDS[kind].loaders})")


def _loader_version(fn: Callable[..., Any]) -> str:
    """``LOADER_VERSION`` of the loader's module (else ``mmlab.__version__``) + a digest of the
    source of every mmlab module the loader's module imports, transitively (its parser, the
    clock correction, the book it reconciles with...)."""
    modname = getattr(fn, "__module__", "") or ""
    mod = sys.modules.get(modname)
    declared = str(getattr(mod, "LOADER_VERSION", None) or mmlab.__version__)
    files = _module_closure(modname)
    if not files:
        return f"{declared}+nosource"
    h = hashlib.sha256()
    for f in sorted(files):
        h.update(f.name.encode())
        h.update(_sha256(f).encode())
    return f"{declared}+{h.hexdigest()[:8]}"


_IMPORT_RE = re.compile(r"^\s*from\s+(mmlab[\w.]*)\s+import\s+(\([^)]*\)|[^\n]+)|^\s*import\s+(mmlab[\w.]*)", re.M)


def _module_file(modname: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(modname)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _module_closure(modname: str) -> set[Path]:
    """Source files of ``modname`` and of the mmlab modules it imports, transitively."""
    seen: set[str] = set()
    files: set[Path] = set()
    todo = [modname]
    while todo:
        name = todo.pop()
        if name in seen or not name.startswith("mmlab"):
            continue
        seen.add(name)
        path = _module_file(name)
        if path is None:
            continue
        files.add(path)
        is_package = path.name == "__init__.py"
        if is_package and name != modname:
            continue  # a package's __init__ counts, not everything it re-exports
        for m in _IMPORT_RE.finditer(path.read_text(encoding="utf-8")):
            if m.group(3):
                todo.append(m.group(3))
                continue
            base = m.group(1)
            names = [n.split(" as ")[0].strip() for n in re.sub(r"#[^\n]*", "", m.group(2)).strip("()").split(",")]
            for n in filter(None, names):
                sub = f"{base}.{n}"
                if _module_file(sub) is not None:
                    todo.append(sub)
                    continue
                obj = getattr(sys.modules.get(base), n, None)
                todo.append(getattr(obj, "__module__", None) or base)
    return files


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
    arrays = [pa.array(np.ascontiguousarray(events[f])) for f in EVENT_DTYPE.names]
    table = pa.Table.from_arrays(arrays, names=list(EVENT_DTYPE.names))
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
    for f in EVENT_DTYPE.names:
        out[f] = table.column(f).to_numpy()
    return out


# --------------------------------------------------------------------------------------------
# the catalog


@dataclass
class Catalog:
    """A catalog of converted data sets under one directory.

    Parameters
    ----------
    path : str or Path, optional
        The catalog directory (created if missing). Default :func:`mmlab._paths.catalog_dir`:
        ``$MMLAB_DATA_DIR`` or ``data/catalog``.

    Examples
    --------
    >>> import tempfile
    >>> from mmlab.data import synthetic_l2_events
    >>> cat = Catalog(tempfile.mkdtemp())
    >>> entry = cat.add("synthetic-demo", synthetic_l2_events(session_seconds=2, seed=1))
    >>> entry["rows"] == len(cat.load("synthetic-demo")), list(cat.list()["name"])
    (True, ['synthetic-demo'])
    """

    path: Path | None = None
    _lock_depth: int = field(default=0, init=False, repr=False)
    swept: list = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self.path = catalog_dir(self.path).resolve()
        if self.path.exists() and not self.path.is_dir():
            raise ConfigError(f"catalog: {self.path} is a file, not a catalog directory")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"catalog: cannot create the directory {self.path} "
                              f"({exc.strerror or exc})") from None
        self._sweep()

    def _sweep(self) -> None:
        """Remove temporary files and Parquet files no registry row points to (under the lock)."""
        root = self.path
        assert root is not None  # set by __post_init__
        try:
            names = [p.name for p in root.iterdir()]
        except OSError as exc:
            raise ConfigError(f"catalog: cannot list {root} ({exc.strerror or exc})") from None
        if not any(_TMP_FILE.match(n) or _DATA_FILE.match(n) for n in names):
            return
        with self._locked():
            known = {e["path"] for e in self._entries()} if self.registry_path.exists() else set()
            for n in sorted(p.name for p in root.iterdir()):
                if _TMP_FILE.match(n) or (_DATA_FILE.match(n) and n not in known):
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(root / n)
                        self.swept.append(n)

    # -- infrastructure ----------------------------------------------------------------------

    @property
    def registry_path(self) -> Path:
        """The DuckDB registry file."""
        return self.path / _REGISTRY

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """An exclusive inter-process lock on the catalog (re-entrant within this object)."""
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        with open(self.path / _LOCK, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            self._lock_depth = 1
            try:
                yield
            finally:
                self._lock_depth = 0
                fcntl.flock(fh, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[Any]:
        import duckdb

        deadline = time.monotonic() + 30.0
        while True:
            try:
                con = duckdb.connect(str(self.registry_path))
                break
            except duckdb.IOException:  # another process holds the file: wait briefly
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        try:
            con.execute(_SCHEMA)
            yield con
        finally:
            con.close()

    def _entries(self, name: str | None = None) -> list[dict[str, Any]]:
        cols = ", ".join(_COLUMNS)
        with self._connect() as con:
            if name is None:
                rows = con.execute(f"SELECT {cols} FROM datasets ORDER BY name").fetchall()
            else:
                rows = con.execute(f"SELECT {cols} FROM datasets WHERE name = ?", [name]).fetchall()
        out = []
        for row in rows:
            d = dict(zip(_COLUMNS, row))
            d["sources"] = json.loads(d["sources"])
            out.append(d)
        return out

    def _register(self, entry: dict[str, Any]) -> None:
        """Insert or replace one registry row, in one transaction."""
        values = [entry[c] if c != "sources" else json.dumps(entry[c]) for c in _COLUMNS]
        with self._connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute("DELETE FROM datasets WHERE name = ?", [entry["name"]])
                con.execute(
                    f"INSERT INTO datasets ({', '.join(_COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(_COLUMNS))})",
                    values,
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    # -- public API --------------------------------------------------------------------------

    def list(self) -> pd.DataFrame:
        """All registered data sets, one row each (times as UTC timestamps), sorted by name."""
        entries = self._entries()
        cols = ["name", "kind", "rows", "t_start", "t_end", "loader", "loader_version",
                "sha256", "size_bytes", "created", "path"]  # fmt: skip
        df = pd.DataFrame([{c: e[c] for c in cols} for e in entries], columns=cols)
        for c in ("t_start", "t_end"):
            df[c] = pd.to_datetime(df[c].astype("Int64"), unit="ns", utc=True)
        return df

    def names(self) -> list[str]:
        """Names of the registered data sets."""
        return [e["name"] for e in self._entries()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self._entries(name))

    def show(self, name: str) -> dict[str, Any]:
        """The registry entry of ``name``: sources (path, sha256, size), loader, rows, times, ...

        Raises :class:`~mmlab.errors.ConfigError` if ``name`` is not registered.
        """
        found = self._entries(name)
        if not found:
            raise ConfigError(f"name: no data set {name!r} in the catalog at {self.path}")
        entry = found[0]
        entry["path"] = str(self.path / entry["path"])
        return entry

    def load(self, name: str, start: Any = None, end: Any = None) -> np.ndarray | pd.DataFrame:
        """The data of ``name``: an :data:`EVENT_DTYPE` array (events) or a DataFrame (tables).

        ``start``/``end`` (UTC timestamps, strings or int ns) keep ``start <= t < end``: the
        exchange timestamp of events, the time column of tables.
        """
        entry = self.show(name)
        lo, hi = _to_ns(start, "start"), _to_ns(end, "end")
        path = Path(entry["path"])
        if entry["data_type"] == "events":
            return _read_events(path, lo, hi)
        import pyarrow.parquet as pq

        df = pq.read_table(path).to_pandas()
        if lo is not None or hi is not None:
            col = _time_column(df)
            if col is not None:
                t = df[col]
            elif isinstance(df.index, pd.DatetimeIndex):
                t = df.index.to_series(index=df.index)
            else:
                raise ConfigError(f"start/end: data set {name!r} has no time column")
            if getattr(t.dt, "tz", None) is None:
                t = t.dt.tz_localize("UTC")
            keep = pd.Series(True, index=df.index)
            if lo is not None:
                keep &= t >= pd.Timestamp(lo, tz="UTC")
            if hi is not None:
                keep &= t < pd.Timestamp(hi, tz="UTC")
            df = df[keep.to_numpy()]
        return df

    def add(
        self,
        name: str,
        data: np.ndarray | pd.DataFrame,
        kind: str | None = None,
        sources: Sequence[dict[str, Any]] = (),
        loader: str = "in-memory",
        loader_version: str | None = None,
        replace: bool = False,
    ) -> dict[str, Any]:
        """Register an in-memory data set (e.g. a synthetic stream), atomically.

        ``data`` is an :data:`EVENT_DTYPE` array or a DataFrame. Without ``sources`` the hash is
        the sha256 of the data itself, so adding the same data twice is a no-op; other data
        under a registered name is refused unless ``replace=True``.
        """
        _check_name(name)
        if isinstance(data, np.ndarray):
            if data.dtype != EVENT_DTYPE:
                raise ConfigError(f"data: an event array must have EVENT_DTYPE, got {data.dtype}")
            data_type = "events"
        elif isinstance(data, pd.DataFrame):
            data_type = "table"
        else:
            raise ConfigError(f"data: expected an EVENT_DTYPE array or a DataFrame, got {type(data)}")
        if sources:
            sha = _combined_sha([s["sha256"] for s in sources])
            size = int(sum(s["size"] for s in sources))
        else:
            if data_type == "events":
                raw = data.tobytes()
            else:
                raw = pd.util.hash_pandas_object(data, index=True).to_numpy().tobytes()
                raw += repr(list(data.columns)).encode()
            sha, size = hashlib.sha256(raw).hexdigest(), len(raw)
        version = loader_version or mmlab.__version__
        kind = kind or ("synthetic" if not sources else "custom")
        with self._locked():
            current = self._entries(name)
            if current and self._is_current(current[0], sha, loader, version):
                return self.show(name)
            if current and not replace:
                _refuse_collision(current[0], kind, list(sources), sha)
            return self._store(
                name, data, data_type, kind, list(sources), sha, size, loader, version,
                current[0] if current else None,
            )  # fmt: skip

    def import_file(
        self,
        path_or_paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
        name: str | None = None,
        kind: str | None = None,
        replace: bool = False,
        progress: bool | None = None,
    ) -> dict[str, Any]:
        """Convert vendor file(s) into the catalog (a no-op if already converted).

        Parameters
        ----------
        path_or_paths : path or list of paths
            One file; a LOBSTER message file (its orderbook file is found beside it) or the
            message/orderbook pair; or consecutive Binance files (one stream, in the given order).
        name : str, optional
            Catalog name. Default: the stable name if the files are a shipped data set
            (:data:`SHIPPED_SOURCES`), else a slug of the first file's name.
        kind : str, optional
            One of :data:`KINDS`; detected from the files when omitted.
        replace : bool, default False
            Replace a data set registered under ``name`` from other files or of another kind
            (otherwise refused with :class:`~mmlab.errors.ConfigError`).
        progress : bool, optional
            Show a tqdm progress bar over the steps (hash, load and validate, write, register).
            Default: only in a terminal or a notebook.

        Returns
        -------
        dict
            The registry entry (as :meth:`show`).

        Raises
        ------
        DataError
            The loader refused the file (a typed subclass naming file, row and column); nothing
            is registered and no file is left behind.
        ConfigError
            A name collision without ``replace``, an unknown kind, a missing file.
        """
        paths = (
            [Path(path_or_paths)]
            if isinstance(path_or_paths, (str, os.PathLike))
            else [Path(p) for p in path_or_paths]
        )
        if not paths:
            raise ConfigError("path_or_paths: no file given")
        for p in paths:
            if not p.is_file():
                raise ConfigError(f"path_or_paths: no such file: {p}")
        kind = kind or detect_kind(paths)
        if kind not in KINDS:
            raise ConfigError(f"kind: unknown {kind!r}; known: {sorted(KINDS)}")
        paths = _normalise_paths(kind, paths)
        name = _check_name(name) if name is not None else _default_name(kind, paths)
        bar = _progress(progress, name)
        try:
            bar.set_postfix_str("hashing")
            sources: list[dict[str, Any]] = [
                {"path": str(p.resolve()), "sha256": _sha256(p), "size": p.stat().st_size} for p in paths
            ]
            sha = _combined_sha([s["sha256"] for s in sources])
            size = sum(s["size"] for s in sources)
            loader, lname, version = _resolve_loader(kind)
            bar.update(1)
            with self._locked():
                current = self._entries(name)
                if current and self._is_current(current[0], sha, lname, version):
                    bar.update(3)
                    return self.show(name)
                if current and not replace:
                    _refuse_collision(current[0], kind, sources, sha)
                bar.set_postfix_str("loading and validating")
                data = _call_loader(kind, loader, paths)
                bar.update(1)
                bar.set_postfix_str("writing")
                data_type = KINDS[kind].data_type
                entry = self._store(
                    name, data, data_type, kind, sources, sha, size, lname, version,
                    current[0] if current else None, bar,
                )  # fmt: skip
                return entry
        finally:
            bar.close()

    def is_current(self, name: str, paths: Sequence[str | os.PathLike[str]], kind: str) -> bool:
        """Whether ``name`` is registered from exactly these files with today's loader version."""
        found = self._entries(name)
        if not found:
            return False
        _, lname, version = _resolve_loader(kind)
        hashes = [_sha256(Path(p)) for p in _normalise_paths(kind, [Path(p) for p in paths])]
        return self._is_current(found[0], _combined_sha(hashes), lname, version)

    def remove(self, name: str) -> None:
        """Unregister ``name`` and delete its Parquet file."""
        with self._locked():
            entry = self.show(name)
            with self._connect() as con:
                con.execute("DELETE FROM datasets WHERE name = ?", [name])
            with contextlib.suppress(FileNotFoundError):
                os.remove(entry["path"])

    def query(self, sql: str) -> pd.DataFrame:
        """Run DuckDB SQL with every data set visible as a view named after it.

        Examples
        --------
        >>> import tempfile
        >>> from mmlab.data import synthetic_l2_events
        >>> cat = Catalog(tempfile.mkdtemp())
        >>> _ = cat.add("syn", synthetic_l2_events(session_seconds=1, seed=2))
        >>> int(cat.query('SELECT count(*) AS n FROM "syn"')["n"][0]) == len(cat.load("syn"))
        True
        """
        entries = self._entries()
        with self._connect() as con:
            for e in entries:
                target = str(self.path / e["path"]).replace("'", "''")
                view = e["name"].replace('"', '""')
                con.execute(f"CREATE OR REPLACE TEMP VIEW \"{view}\" AS SELECT * FROM read_parquet('{target}')")
            return con.execute(sql).fetchdf()

    # -- internals ---------------------------------------------------------------------------

    def _is_current(self, entry: dict[str, Any], sha: str, loader: str, version: str) -> bool:
        return (
            entry["sha256"] == sha
            and entry["loader"] == loader
            and entry["loader_version"] == version
            and (self.path / entry["path"]).is_file()
        )

    def _store(
        self,
        name: str,
        data: Any,
        data_type: str,
        kind: str,
        sources: list[dict[str, Any]],
        sha: str,
        size: int,
        loader: str,
        version: str,
        previous: dict[str, Any] | None,
        bar: Any = None,
    ) -> dict[str, Any]:
        tag = hashlib.sha256(f"{loader}|{version}".encode()).hexdigest()[:12]
        fname = f"{name}-{sha[:12]}-{tag}.parquet"
        final = self.path / fname
        fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".parquet.tmp", dir=self.path)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            _write_parquet(data, data_type, tmp)
            os.replace(tmp, final)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp)
            raise
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str("registering")
        t_start, t_end = _time_range(data, data_type)
        entry = {
            "name": name, "kind": kind, "data_type": data_type, "path": fname, "loader": loader,
            "loader_version": version, "sha256": sha, "size_bytes": int(size), "sources": sources,
            "rows": int(len(data)), "t_start": t_start, "t_end": t_end,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }  # fmt: skip
        try:
            self._register(entry)
        except BaseException:
            if previous is None or previous["path"] != fname:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(final)
            raise
        if previous is not None and previous["path"] != fname:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path / previous["path"])
        if bar is not None:
            bar.update(1)
        return self.show(name)


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


def _normalise_paths(kind: str, paths: list[Path]) -> list[Path]:
    if kind == "lobster":
        msgs = [p for p in paths if "_message_" in p.name.lower()]
        books = [p for p in paths if "_orderbook_" in p.name.lower()]
        if len(msgs) != 1 or len(paths) > 2 or len(books) + len(msgs) != len(paths):
            raise ConfigError(
                f"path_or_paths: a LOBSTER data set is one message file and optionally its orderbook file, got {[str(p) for p in paths]}"
            )
        msg = msgs[0]
        if books:
            return [msg, books[0]]
        book = msg.with_name(re.sub("_message_", "_orderbook_", msg.name, flags=re.I))
        return [msg, book] if book.is_file() else [msg]
    if len(paths) > 1 and not KINDS[kind].multi:
        raise ConfigError(f"path_or_paths: a {kind!r} data set is one file, got {len(paths)}")
    return paths


def _default_name(kind: str, paths: list[Path]) -> str:
    resolved = [p.resolve() for p in paths]
    for src in SHIPPED_SOURCES.values():
        if src.kind == kind and [p.resolve() for p in src.paths()] == resolved:
            return src.name
    stem = paths[0].name
    for suffix in (".gz", ".csv", ".npz", ".json"):
        stem = stem.removesuffix(suffix)
    return _slug(stem)[:128]


def _call_loader(kind: str, loader: Callable[..., Any], paths: list[Path]) -> Any:
    if kind == "lobster":
        data = loader(paths[0], paths[1] if len(paths) > 1 else None)
    elif kind == "binance":
        data = loader(paths if len(paths) > 1 else paths[0])
    else:
        data = loader(paths[0])
    want = KINDS[kind].data_type
    if want == "events" and not (isinstance(data, np.ndarray) and data.dtype == EVENT_DTYPE):
        raise FormatError(f"loader for {kind!r} returned {type(data).__name__}, not events", path=paths[0])
    if want == "table" and not isinstance(data, pd.DataFrame):
        raise FormatError(f"loader for {kind!r} returned {type(data).__name__}, not a DataFrame", path=paths[0])
    return data


def ensure_data_ready(
    names: Iterable[str] | None = None, catalog: Catalog | str | os.PathLike[str] | None = None
) -> list[str]:
    """Make sure the data sets a run needs are converted and current; convert what is missing.

    Parameters
    ----------
    names : iterable of str, optional
        Data set names. Shipped names (:data:`SHIPPED_SOURCES`) are converted when missing or
        stale (source changed or new loader version); other names must already be registered.
        Default: :data:`DEMO_DATASETS`.
    catalog : Catalog or path, optional
        The catalog (default: ``Catalog()``).

    Returns
    -------
    list of str
        The names, in order, all ready to :meth:`Catalog.load`.
    """
    cat = catalog if isinstance(catalog, Catalog) else Catalog(catalog)
    wanted = list(DEMO_DATASETS if names is None else names)
    if isinstance(names, str):
        wanted = [names]
    for name in wanted:
        src = SHIPPED_SOURCES.get(name)
        if src is None:
            if name not in cat:
                raise ConfigError(
                    f"names: {name!r} is neither registered in {cat.path} nor a shipped data set "
                    f"({sorted(SHIPPED_SOURCES)})"
                )
            continue
        if not cat.is_current(name, src.paths(), src.kind):
            # shipped names are reserved for the shipped files (a catalog shared by two clones
            # sees the same files at other paths): replace what is registered under them
            cat.import_file(src.paths(), name=name, kind=src.kind, replace=True)
    return wanted
