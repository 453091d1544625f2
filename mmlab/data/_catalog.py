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
  imports (transitively): editing a loader or its parser converts again, never stale data.
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

import builtins
import contextlib
import datetime as _dt
import fcntl
import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import mmlab
from mmlab._paths import catalog_dir
from mmlab.data._catalog_kinds import (
    DEMO_DATASETS,
    KINDS,
    SHIPPED_SOURCES,
    KindSpec,  # noqa: F401  (re-exported: the catalog's kinds are extended through it)
    ShippedSource,
    _call_loader,
    _default_name,
    _normalise_paths,
    _resolve_loader,
    detect_kind,
)
from mmlab.data._catalog_store import (
    _check_name,
    _combined_sha,
    _progress,
    _read_events,
    _refuse_collision,
    _sha256,
    _time_column,
    _time_range,
    _to_ns,
    _write_parquet,
)
from mmlab.data._events import EVENT_DTYPE
from mmlab.errors import ConfigError

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
        root = self._root
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
    def _root(self) -> Path:
        """The catalog directory (``path`` after ``__post_init__`` resolved it)."""
        assert self.path is not None  # set by __post_init__
        return self.path

    @property
    def registry_path(self) -> Path:
        """The DuckDB registry file."""
        return self._root / _REGISTRY

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
        with open(self._root / _LOCK, "a+") as fh:
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
            d = dict(zip(_COLUMNS, row, strict=False))
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

    def names(self) -> builtins.list[str]:
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
        entry["path"] = str(self._root / entry["path"])
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
            if isinstance(data, np.ndarray):  # data_type == "events"
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
                target = str(self._root / e["path"]).replace("'", "''")
                view = e["name"].replace('"', '""')
                con.execute(f"CREATE OR REPLACE TEMP VIEW \"{view}\" AS SELECT * FROM read_parquet('{target}')")
            return con.execute(sql).fetchdf()

    # -- internals ---------------------------------------------------------------------------

    def _is_current(self, entry: dict[str, Any], sha: str, loader: str, version: str) -> bool:
        return (
            entry["sha256"] == sha
            and entry["loader"] == loader
            and entry["loader_version"] == version
            and (self._root / entry["path"]).is_file()
        )

    def _store(
        self,
        name: str,
        data: Any,
        data_type: str,
        kind: str,
        sources: builtins.list[dict[str, Any]],
        sha: str,
        size: int,
        loader: str,
        version: str,
        previous: dict[str, Any] | None,
        bar: Any = None,
    ) -> dict[str, Any]:
        tag = hashlib.sha256(f"{loader}|{version}".encode()).hexdigest()[:12]
        fname = f"{name}-{sha[:12]}-{tag}.parquet"
        final = self._root / fname
        fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".parquet.tmp", dir=self._root)
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
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
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
                os.remove(self._root / previous["path"])
        if bar is not None:
            bar.update(1)
        return self.show(name)


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
    cat = catalog if isinstance(catalog, Catalog) else Catalog(catalog_dir(catalog))
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
