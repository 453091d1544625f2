"""Hypothesis corruption suite over every loader and the catalog import (issue 11).

Each generated case corrupts a small clean sample (``test_corruption_cases.SAMPLES``: slices of
the shipped files) by one operation: truncation anywhere inside a line, a byte flip, a column
drop, an extreme number, a duplicated line, two lines swapped; gzip variants are truncated and
flipped as compressed bytes; npz event arrays are corrupted field by field. Every case must end
in exactly one of:

* a typed :class:`~mmlab.errors.DataError` whose ``path`` is the corrupted file and whose
  ``row`` is set (the message names both); npz archives that are no longer readable zip files
  have no rows and are the one exception;
* values equal to the clean sample's;
* a change confined to one source row or to one column (the corrupted field: a digit flipped
  inside a plausible range cannot be detected) whose values stay within the declared ranges
  (``mmlab.data._validate.RULES``).

Any other exception is a failure. A share of the refused cases also goes through
``Catalog.import_file``: the same error, and nothing registered (no Parquet, no temp file).

The suite is derandomized (the same cases on every run) and sized by the ``corruption`` settings
profile: ``CASES_PER_TEST`` examples for each of the parametrized tests below (>= 500 in all,
counted by ``test_suite_size``).
"""

from __future__ import annotations

import gzip
import os
import re
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_corruption_cases import SAMPLES, npz_sample

from mmlab.data import Catalog, load_binance, load_npz, read_binance, save_npz
from mmlab.data._npz import validate_events
from mmlab.data._validate import RULES
from mmlab.errors import DataError, DataWarning, FormatError

# MMLAB_CORRUPTION_CASES=200 explores more (and randomly) on demand; the default is the fixed set
CASES_PER_TEST = int(os.environ.get("MMLAB_CORRUPTION_CASES", "10"))
settings.register_profile(
    "corruption", max_examples=CASES_PER_TEST, deadline=None,
    derandomize="MMLAB_CORRUPTION_CASES" not in os.environ, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                           HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
CORRUPTION = settings.get_profile("corruption")

TEXT_OPS = ("truncate", "flip", "drop_column", "extreme", "duplicate", "reorder")
GZ_OPS = ("gz_truncate", "gz_flip")
NPZ_OPS = ("extreme", "duplicate", "swap", "file_truncate", "file_flip")
GZ_SAMPLES = ("binance", "sp500")

FLIP_BYTES = list(b"0123456789.,-+eE\" \n\r\tax[]{}:'") + [0, 0xFF]
EXTREMES = [b"1e308", b"-1e308", b"1e999", b"nan", b"inf", b"-inf", b"99999999999999999999",
            b"18446744073709551615", b"-1", b"0", b"1e-300", b"9" * 400, b"", b"1e12"]
_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_JSON_PAIR = re.compile(rb'"\w+":(?:"[^"]*"|\[[^\]]*\]|[^,}\]]*),?')


# ------------------------------------------------------------------------------------------------
# byte-level operations
# ------------------------------------------------------------------------------------------------


def _line_spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each line; ``end`` is the index of its newline (or len for the last)."""
    spans, start = [], 0
    while start < len(data):
        nl = data.find(b"\n", start)
        end = len(data) if nl < 0 else nl
        spans.append((start, end))
        start = end + 1
    return spans


def _corrupt_json_object(data: bytes, op: str, draw) -> bytes:
    """Duplicate or reorder entries of a one-line JSON object."""
    pairs = [m for m in _JSON_PAIR.finditer(data)]
    i = draw(st.integers(0, len(pairs) - 1))
    items = [m.group().rstrip(b",") for m in pairs]
    if op == "duplicate":
        items.insert(i + 1, items[i])
    else:
        j = draw(st.integers(0, len(pairs) - 1))
        assume(i != j)
        items[i], items[j] = items[j], items[i]
    return data[:pairs[0].start()] + b",".join(items) + data[pairs[-1].end():]


def _corrupt(data: bytes, op: str, draw) -> bytes:
    if op in ("duplicate", "reorder") and data.startswith(b"{") and data.count(b"\n") <= 1:
        return _corrupt_json_object(data, op, draw)
    spans = _line_spans(data)
    lines = data.split(b"\n")
    li = draw(st.integers(0, len(spans) - 1))
    start, end = spans[li]
    if op == "truncate":  # a cut strictly inside a line (a cut after a newline is a shorter file)
        pos = draw(st.integers(start + 1 if li else 0, end))
        return data[:pos]
    if op == "flip":
        pos = draw(st.integers(start, min(end, len(data) - 1)))
        return data[:pos] + bytes([draw(st.sampled_from(FLIP_BYTES))]) + data[pos + 1:]
    if op == "drop_column":
        line = lines[li]
        if line.lstrip()[:1] in (b"{",) or b'{"' in line[:40]:  # JSON: drop one key of a line
            pairs = list(_JSON_PAIR.finditer(line))
            assume(pairs)
            m = pairs[draw(st.integers(0, len(pairs) - 1))]
            lines[li] = line[:m.start()] + line[m.end():]
            return b"\n".join(lines)
        width = max(ln.count(b",") for ln in lines) + 1
        j = draw(st.integers(0, width - 1))
        out = []
        for ln in lines:  # the j-th comma-separated field of every line
            f = ln.split(b",")
            out.append(b",".join(f[:j] + f[j + 1:]) if j < len(f) else ln)
        return b"\n".join(out)
    if op == "extreme":
        nums = list(_NUMBER.finditer(lines[li]))
        assume(nums)
        m = nums[draw(st.integers(0, len(nums) - 1))]
        ln = lines[li]
        lines[li] = ln[:m.start()] + draw(st.sampled_from(EXTREMES)) + ln[m.end():]
        return b"\n".join(lines)
    if op == "duplicate":
        body = [ln for ln in lines]
        trailing = body and body[-1] == b""
        core = body[:-1] if trailing else body
        assume(li < len(core))
        core.insert(li + 1, core[li])
        return b"\n".join(core + ([b""] if trailing else []))
    if op == "reorder":
        core = lines[:-1] if lines and lines[-1] == b"" else lines
        assume(len(core) > 1 and li < len(core))
        lj = draw(st.integers(0, len(core) - 1))
        assume(lj != li and core[li] != core[lj])
        core = list(core)
        core[li], core[lj] = core[lj], core[li]
        return b"\n".join(core + ([b""] if len(core) < len(lines) else []))
    raise AssertionError(op)


# ------------------------------------------------------------------------------------------------
# the oracle
# ------------------------------------------------------------------------------------------------


def _load(name: str, paths: list[Path], clean_offset: int | None):
    if name == "binance":  # the clock offset is an estimate over all lines: hold it fixed
        return load_binance(paths[0], clock_offset_ns=clean_offset)
    return SAMPLES[name].load(paths)


_CLEAN: dict[str, object] = {}


def _clean(name: str, tmp: Path):
    if name not in _CLEAN:
        paths = SAMPLES[name].write(tmp / f"clean-{name}")
        offset = read_binance(paths[0]).clock_offset_ns if name == "binance" else None
        _CLEAN[name] = (_load(name, paths, offset), offset)
    return _CLEAN[name]


def _diff_cells(a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
    """Boolean (rows x cols) mask of cells that differ (NaN equal to NaN)."""
    a, b = a.reset_index(), b.reset_index()
    assert list(a.columns) == list(b.columns), (list(a.columns), list(b.columns))
    out = np.zeros(a.shape, bool)
    for j, c in enumerate(a.columns):
        x, y = a[c].to_numpy(), b[c].to_numpy()
        same = np.array([(p == q) or (p != p and q != q) for p, q in zip(x, y, strict=True)], bool) \
            if x.dtype == object or y.dtype == object else (x == y) | (pd.isna(x) & pd.isna(y))
        out[:, j] = ~same
    return out


_TABLE_RULES = {  # output column -> (rule vendor, rule field, scale back to the vendor's unit)
    "treasury": {"*": ("treasury", "yield", 100.0)},
    "sofr": {"sofr": ("sofr", "SOFR", 100.0)},
    "wti": {"*": ("wti", "settle", 1.0)},
    "sp500": {"open": ("sp500", "price", 1.0), "high": ("sp500", "price", 1.0),
              "low": ("sp500", "price", 1.0), "close": ("sp500", "price", 1.0),
              "adj_close": ("sp500", "price", 1.0), "volume": ("sp500", "Volume", 1.0)},
    "cboe": {"strike": ("cboe", "Strike", 1.0), "bid": ("cboe", "Bid", 1.0),
             "ask": ("cboe", "Ask", 1.0), "last": ("cboe", "Last Sale", 1.0),
             "vendor_delta": ("cboe", "Delta", 1.0), "volume": ("cboe", "Volume", 1.0)},
    "deribit": {"strike": ("deribit", "strike", 1.0), "bid": ("deribit", "price", 1.0),
                "ask": ("deribit", "price", 1.0), "mark_price": ("deribit", "price", 1.0),
                "vendor_delta": ("deribit", "delta", 1.0), "volume": ("deribit", "volume", 1.0),
                "underlying_px": ("deribit", "underlying_price", 1.0)},
    "swap_quotes": {},
}


def _within_ranges(name: str, out) -> None:
    if isinstance(out, np.ndarray):
        validate_events(out, "output")  # ranges and time order of the events
        return
    num = out.select_dtypes("number")
    vals = num.to_numpy(dtype=float)
    assert not np.isinf(vals).any(), f"{name}: infinite value in the output"
    rules = _TABLE_RULES[name]
    for col in num.columns:
        spec = rules.get(col) or rules.get("*")
        if spec is None:
            continue
        vendor, field, scale = spec
        rule = RULES[vendor][field]
        v = num[col].to_numpy(dtype=float) * scale
        bad = rule.bad_mask(np.round(v, 9)) & ~np.isnan(v)
        assert not bad.any(), f"{name}: {col} = {v[bad][:3]} outside {rule}"


def _events_confined(clean: np.ndarray, out: np.ndarray) -> bool:
    """Events differ in at most one source line (``ival``)."""
    ivals = np.union1d(np.unique(clean["ival"]), np.unique(out["ival"]))
    differing = []
    for iv in ivals:
        a, b = clean[clean["ival"] == iv], out[out["ival"] == iv]
        if a.size != b.size or a.tobytes() != b.tobytes():
            differing.append(iv)
            if len(differing) > 1:
                return False
    return True


def _dropped_only(clean: pd.DataFrame, out: pd.DataFrame) -> bool:
    """``out`` is ``clean`` without some columns, or without some rows (a dropped JSON key):
    what is left is equal."""
    if out.shape[0] == clean.shape[0] and set(out.columns) < set(clean.columns):
        return clean[list(out.columns)].equals(out)
    if out.shape[1] == clean.shape[1] and out.shape[0] < clean.shape[0] and "name" in out:
        keep = clean[clean["name"].isin(out["name"])].reset_index(drop=True)
        return keep.equals(out.reset_index(drop=True))
    return False


def _blanked_row(clean: pd.DataFrame, out: pd.DataFrame) -> bool:
    """A value made blank where the vendor leaves blanks (a SOFR or Treasury holiday row): the
    row is dropped and its date listed in ``attrs['blank_dates']``, every other row equal."""
    blank = out.attrs.get("blank_dates")
    if blank is None or out.shape[0] != clean.shape[0] - 1:
        return False
    gone = clean.index.difference(out.index)
    return len(gone) == 1 and gone[0] in list(blank) and clean.drop(index=gone).equals(out)


def _one_row_replaced(clean: pd.DataFrame, out: pd.DataFrame) -> bool:
    """Equal as multisets of rows but for one row (a corrupted sort key, e.g. a tenor label
    flipped to another plausible tenor, moves its row)."""
    def rows(df):  # a positional index is no part of a row; a date index is
        df = df if isinstance(df.index, pd.RangeIndex) else df.reset_index()
        return Counter(tuple("NaN" if (isinstance(v, float) and v != v) else v for v in r)
                       for r in df.itertuples(index=False))
    a, b = rows(clean), rows(out)
    return sum((a - b).values()) == 1 and sum((b - a).values()) == 1


# columns every row of an option chain takes from the file header (quote time, header Last)
_HEADER_COLUMNS = {"ts", "underlying_px", "underlying_px_source"}


def check_outcome(name: str, files: dict[str, bytes], tmp: Path, draw, *,
                  expect_warning: bool = False, op: str = "") -> str:
    s = SAMPLES[name]
    clean, offset = _clean(name, tmp.parent)
    paths = s.write(tmp, files)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error" if not expect_warning else "ignore", DataWarning)
            out = _load(name, paths, offset)
    except DataError as e:
        assert e.path in [str(p) for p in paths], f"error names no corrupted file: {e}"
        assert e.row is not None, f"error names no row: {type(e).__name__}: {e}"
        assert e.path in str(e) and f"row {e.row}" in str(e)
        if draw(st.integers(0, 4)) == 0:  # a share through the catalog import
            cat = Catalog(tmp / "cat")
            with pytest.raises(type(e)):
                cat.import_file(paths, kind=s.kind)
            left = sorted(p.name for p in cat.path.iterdir())
            assert left == [".catalog.lock", "catalog.duckdb"] and cat.names() == [], left
        return "refused"
    # not refused: equal, or confined and within ranges
    if isinstance(clean, np.ndarray):
        if out.tobytes() == clean.tobytes():
            return "equal"
        assert _events_confined(clean, out), f"{name}: events differ beyond one source line"
    else:
        if out.shape == clean.shape and list(out.columns) == list(clean.columns) \
                and out.index.equals(clean.index) and out.equals(clean):
            return "equal"
        if _blanked_row(clean, out):
            return "confined"  # the corrupted value became a legitimate blank
        if op == "drop_column" and _dropped_only(clean, out):
            _within_ranges(name, out)
            return "confined"  # the dropped field is gone, everything else unchanged
        assert out.shape == clean.shape, f"{name}: {clean.shape} -> {out.shape}"
        ignore = [c for c in ("src_line",) if c in out.columns]  # provenance only
        d = _diff_cells(clean.drop(columns=ignore), out.drop(columns=ignore))
        rows, cols = np.flatnonzero(d.any(axis=1)), np.flatnonzero(d.any(axis=0))
        if rows.size == 0:
            return "equal"
        changed = [clean.drop(columns=ignore).reset_index().columns[j] for j in cols]
        if name == "cboe" and set(changed) <= _HEADER_COLUMNS \
                and all(out[c].nunique(dropna=False) == 1 for c in changed):
            _within_ranges(name, out)
            return "confined"  # one header field, the same value on every row
        if _one_row_replaced(clean.drop(columns=ignore), out.drop(columns=ignore)):
            _within_ranges(name, out)
            return "confined"
        if name in ("cboe", "deribit") and rows.size > 1:
            # one CBOE line is two contracts (call, put): the same source line
            src = clean["src_line"].to_numpy()[rows]
            one_line = np.unique(src).size == 1
        else:
            one_line = rows.size == 1
        assert one_line or cols.size == 1, \
            f"{name}: change spread over rows {rows[:5]} and columns {cols[:5]}"
    _within_ranges(name, out)
    return "confined"


# ------------------------------------------------------------------------------------------------
# the suite
# ------------------------------------------------------------------------------------------------

_CASES = [(n, op) for n in SAMPLES for op in TEXT_OPS] + [(n, op) for n in GZ_SAMPLES for op in GZ_OPS]


@pytest.mark.parametrize(("name", "op"), _CASES)
@CORRUPTION
@given(data=st.data())
def test_corrupted_vendor_file(tmp_path_factory, name, op, data):
    s = SAMPLES[name]
    tmp = tmp_path_factory.mktemp(f"{name}-{op}")
    files = dict(s.files)
    fname = data.draw(st.sampled_from(sorted(files)))  # LOBSTER: the message or the book file
    if op.startswith("gz_"):
        raw = gzip.compress(files[fname], mtime=0)
        pos = data.draw(st.integers(0, len(raw) - 1))
        if op == "gz_truncate":
            bad = raw[:pos]
        else:
            bad = raw[:pos] + bytes([data.draw(st.integers(0, 255))]) + raw[pos + 1:]
        assume(bad != raw)
        files[fname] = bad
    else:
        bad = _corrupt(files[fname], op, data.draw)
        assume(bad != files[fname])
        files[fname] = bad
    check_outcome(name, files, tmp, data.draw, op=op)


_EV_FIELDS = {"px": [np.nan, np.inf, -np.inf, 1e308, -1e308, 1e9 + 1, 0.0, -0.5],
              "qty": [np.nan, np.inf, 1e308, -1.0, 0.0, 1e13],
              "local_ts": [-1, 0, 2**62, 4_200_000_000_000_000_000],
              "exch_ts": [-1, 0, 2**62, 4_200_000_000_000_000_000]}


@pytest.mark.parametrize("op", NPZ_OPS)
@CORRUPTION
@given(data=st.data())
def test_corrupted_npz(tmp_path_factory, op, data):
    clean = npz_sample()
    tmp = tmp_path_factory.mktemp(f"npz-{op}")
    p = tmp / "ev.npz"
    ev = clean.copy()
    i = data.draw(st.integers(0, len(ev) - 1))
    warn = False
    if op == "extreme":
        f = data.draw(st.sampled_from(sorted(_EV_FIELDS)))
        ev[f][i] = data.draw(st.sampled_from(_EV_FIELDS[f]))
    elif op == "duplicate":
        ev = np.insert(ev, i + 1, ev[i])
        warn = True
    elif op == "swap":
        j = data.draw(st.integers(0, len(ev) - 1))
        assume(i != j and ev[i].tobytes() != ev[j].tobytes())
        ev[[i, j]] = ev[[j, i]]
    save_npz(p, ev)
    if op.startswith("file_"):
        raw = p.read_bytes()
        pos = data.draw(st.integers(0, len(raw) - 1))
        bad = raw[:pos] if op == "file_truncate" else \
            raw[:pos] + bytes([data.draw(st.integers(0, 255))]) + raw[pos + 1:]
        assume(bad != raw)
        p.write_bytes(bad)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DataWarning)
            out = load_npz(p)
    except DataError as e:
        assert e.path == str(p), str(e)
        if not (isinstance(e, FormatError) and e.row is None and op.startswith("file_")):
            assert e.row is not None, f"{type(e).__name__}: {e}"  # rows exist once it is read
        return
    if warn:  # a repeated row is kept, with a warning naming it
        assert any(issubclass(w.category, DataWarning) for w in caught)
        assert out.tobytes() == ev.tobytes()
        return
    validate_events(out, p)
    if out.tobytes() == clean.tobytes():
        return
    assert out.size == clean.size
    rows = np.flatnonzero(out != clean)
    # a value within the declared ranges (one cell), or two swapped rows whose times tie
    assert rows.size == 1 or (op == "swap" and rows.size == 2), rows


def test_suite_size():
    """The suite runs >= 500 generated cases (issue 11's acceptance)."""
    n = (len(_CASES) + len(NPZ_OPS)) * CORRUPTION.max_examples
    assert n >= 500, n
