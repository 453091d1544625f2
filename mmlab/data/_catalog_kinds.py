"""Catalog kinds: the vendor formats the catalog converts, how a file's kind is recognised, the
loader (and loader version) each kind calls, and the shipped data sets with their stable names
(see :mod:`mmlab.data._catalog`)."""

from __future__ import annotations

import gzip
import hashlib
import importlib
import importlib.util
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import mmlab
from mmlab._paths import SHIPPED_DATA
from mmlab.data._catalog_store import _sha256, _slug
from mmlab.data._events import EVENT_DTYPE
from mmlab.errors import ConfigError, FormatError

__all__ = ["DEMO_DATASETS", "KINDS", "SHIPPED_SOURCES", "KindSpec", "ShippedSource", "detect_kind"]


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

