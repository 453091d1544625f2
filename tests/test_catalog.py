"""The catalog: atomic conversion, no-op re-import, recorded hashes, list/show/load round trips."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import mmlab.data
from mmlab.data import (
    EVENT_DTYPE,
    SHIPPED_SOURCES,
    Catalog,
    _catalog,
    detect_kind,
    ensure_data_ready,
    synthetic_l2_events,
)
from mmlab.errors import ConfigError, FormatError


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _catalog_files(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir() if p.name.endswith((".parquet", ".tmp")))


@pytest.fixture()
def fake_kind(monkeypatch):
    """A tiny 'fake' vendor kind: a text file of 'exch_ts px qty' lines -> DEPTH events."""
    calls = []

    def load_fake(path):
        calls.append(Path(path))
        rows = [ln.split() for ln in Path(path).read_text().splitlines() if ln.strip()]
        ev = np.zeros(len(rows), dtype=EVENT_DTYPE)
        for i, (t, px, q) in enumerate(rows):
            ev[i] = (1 | (1 << 31) | (1 << 30) | (1 << 29), int(t), int(t) + 5, float(px), float(q), 0, i, 0.0)
        return ev

    monkeypatch.setitem(_catalog.KINDS, "fake", _catalog.KindSpec(("load_fake",), "events"))
    monkeypatch.setattr(mmlab.data, "load_fake", load_fake, raising=False)
    return calls


def _fake_file(d: Path, n: int = 5, name: str = "feed.txt") -> Path:
    p = d / name
    p.write_text("".join(f"{1_700_000_000_000_000_000 + i * 1000} {100 + i * 0.5} {i + 1}\n" for i in range(n)))
    return p


def test_import_records_hash_size_loader_rows_and_time_range(catalog_tmp, tmp_path, fake_kind):
    src = _fake_file(tmp_path, n=7)
    cat = Catalog()  # MMLAB_DATA_DIR points at catalog_tmp
    assert cat.path == catalog_tmp.resolve()
    e = cat.import_file(src, kind="fake")
    assert e["name"] == "feed-txt"
    assert e["sha256"] == _sha(src) and e["size_bytes"] == src.stat().st_size
    assert e["sources"] == [{"path": str(src.resolve()), "sha256": _sha(src), "size": src.stat().st_size}]
    assert e["loader"] == "load_fake" and "+" in e["loader_version"]
    assert e["rows"] == 7
    assert (e["t_start"], e["t_end"]) == (1_700_000_000_000_000_000, 1_700_000_000_000_006_000)
    assert Path(e["path"]).is_file() and Path(e["path"]).parent == catalog_tmp.resolve()
    ev = cat.load("feed-txt")
    assert ev.dtype == EVENT_DTYPE and np.array_equal(ev["px"], 100 + 0.5 * np.arange(7))
    lst = cat.list()
    assert list(lst["name"]) == ["feed-txt"] and int(lst["rows"][0]) == 7
    assert lst["t_start"][0] == pd.Timestamp(1_700_000_000_000_000_000, tz="UTC")
    # time window: start <= exch_ts < end
    win = cat.load("feed-txt", start=1_700_000_000_000_002_000, end=1_700_000_000_000_005_000)
    assert list(win["ival"]) == [2, 3, 4]


def test_second_import_is_a_noop_and_a_changed_file_converts_again(catalog_tmp, tmp_path, fake_kind):
    src = _fake_file(tmp_path, n=4)
    cat = Catalog(catalog_tmp)
    e1 = cat.import_file(src, name="feed", kind="fake")
    mtime = os.stat(e1["path"]).st_mtime_ns
    e2 = cat.import_file(src, name="feed", kind="fake")
    assert len(fake_kind) == 1  # the loader was not called again
    assert e2 == e1 and os.stat(e2["path"]).st_mtime_ns == mtime
    _fake_file(tmp_path, n=6)  # the vendor file changes: convert again, old Parquet removed
    e3 = cat.import_file(src, name="feed", kind="fake")
    assert len(fake_kind) == 2 and e3["rows"] == 6 and e3["sha256"] != e1["sha256"]
    assert _catalog_files(catalog_tmp) == [Path(e3["path"]).name]
    assert cat.is_current("feed", [src], "fake")


def test_failure_while_writing_leaves_nothing(catalog_tmp, tmp_path, fake_kind, monkeypatch):
    src = _fake_file(tmp_path)
    cat = Catalog(catalog_tmp)
    real_write = _catalog._write_parquet

    def broken_write(data, data_type, dest):
        real_write(data, data_type, dest)  # the temp file exists, fully written...
        with open(dest, "r+b") as fh:  # ...then is truncated as by a crash mid-write
            fh.truncate(10)
        raise OSError("disk full (injected)")

    monkeypatch.setattr(_catalog, "_write_parquet", broken_write)
    with pytest.raises(OSError, match="injected"):
        cat.import_file(src, name="feed", kind="fake")
    assert _catalog_files(catalog_tmp) == []  # no half-written file, no temp file left
    assert cat.list().empty and "feed" not in cat
    with pytest.raises(ConfigError):
        cat.show("feed")


def test_failure_while_registering_leaves_nothing_and_keeps_previous(catalog_tmp, tmp_path, fake_kind, monkeypatch):
    src = _fake_file(tmp_path, n=3)
    cat = Catalog(catalog_tmp)
    old = cat.import_file(src, name="feed", kind="fake")
    old_events = cat.load("feed")
    _fake_file(tmp_path, n=9)  # new content, the conversion fails at registration

    def broken_register(self, entry):
        raise RuntimeError("registry write failed (injected)")

    monkeypatch.setattr(Catalog, "_register", broken_register)
    with pytest.raises(RuntimeError, match="injected"):
        cat.import_file(src, name="feed", kind="fake")
    monkeypatch.undo()
    # the registry still points to the previous, complete file, and no orphan was left behind
    assert cat.show("feed") == old
    assert _catalog_files(catalog_tmp) == [Path(old["path"]).name]
    assert cat.load("feed").tobytes() == old_events.tobytes()


events_strategy = hnp.arrays(
    EVENT_DTYPE,
    st.integers(0, 40),
    elements=st.tuples(
        st.integers(0, 2**64 - 1),
        st.integers(-(2**63), 2**63 - 1),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=True, allow_infinity=True),
        st.floats(allow_nan=False, width=64),
        st.integers(0, 2**64 - 1),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(width=64),
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=events_strategy)
def test_events_round_trip_through_parquet_unchanged(events):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "ev.parquet"
        _catalog._write_parquet(events, "events", path)
        back = _catalog._read_events(path, None, None)
        assert back.dtype == EVENT_DTYPE
        assert back.tobytes() == events.tobytes()  # bit for bit, NaN payloads included


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=events_strategy)
def test_events_round_trip_through_the_catalog_unchanged(events):
    with tempfile.TemporaryDirectory() as d:
        cat = Catalog(d)
        entry = cat.add("random", events)
        assert cat.load("random").tobytes() == events.tobytes()
        assert entry["rows"] == len(events)


def test_add_synthetic_twice_is_noop_and_query_sees_it(catalog_tmp):
    ev = synthetic_l2_events(days=2, session_seconds=10, seed=4)
    cat = Catalog(catalog_tmp)
    e1 = cat.add("syn", ev)
    e2 = cat.add("syn", ev.copy())
    assert e1 == e2
    assert e1["sha256"] == hashlib.sha256(ev.tobytes()).hexdigest()
    n = cat.query('SELECT count(*) AS n, min(exch_ts) AS t0 FROM "syn"')
    assert int(n["n"][0]) == len(ev) and int(n["t0"][0]) == int(ev["exch_ts"].min())
    cat.remove("syn")
    assert "syn" not in cat and _catalog_files(catalog_tmp) == []


def test_tables_round_trip(catalog_tmp):
    df = pd.DataFrame(
        {
            "ts": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"], utc=True),
            "x": [1.5, -37.63, np.nan],
            "s": ["a", "b", "c"],
        }
    )
    cat = Catalog(catalog_tmp)
    e = cat.add("tbl", df)
    assert e["data_type"] == "table" and e["t_start"] == pd.Timestamp("2024-01-02", tz="UTC").value
    pd.testing.assert_frame_equal(cat.load("tbl"), df)
    pd.testing.assert_frame_equal(cat.load("tbl", start="2024-01-03").reset_index(drop=True), df.iloc[1:].reset_index(drop=True))


def test_detect_kind_of_every_shipped_source():
    for src in SHIPPED_SOURCES.values():
        assert detect_kind(src.paths()) == src.kind, src.name
        for p in src.paths():
            assert p.is_file(), p


def test_detect_kind_rejects_unknown_files(tmp_path):
    p = tmp_path / "mystery.csv"
    p.write_text("foo,bar\n1,2\n")
    with pytest.raises(FormatError, match="mystery.csv"):
        detect_kind(p)
    with pytest.raises(ConfigError):
        detect_kind(tmp_path / "missing.csv")
    with pytest.raises(ConfigError):
        Catalog(tmp_path / "c").import_file(p, kind="no-such-kind")


def test_bad_names_and_arguments(catalog_tmp):
    cat = Catalog(catalog_tmp)
    with pytest.raises(ConfigError):
        cat.add("../escape", synthetic_l2_events(session_seconds=1))
    with pytest.raises(ConfigError):
        cat.add("x", np.zeros(3))  # not EVENT_DTYPE
    with pytest.raises(ConfigError):
        cat.show("nothing")
    with pytest.raises(ConfigError):
        ensure_data_ready(["not-a-dataset"], catalog=cat)


def test_import_real_option_chain_and_ensure_data_ready(catalog_tmp):
    src = SHIPPED_SOURCES["cboe-spy-20230914"]
    cat = Catalog(catalog_tmp)
    assert ensure_data_ready(["cboe-spy-20230914"], catalog=cat) == ["cboe-spy-20230914"]
    e = cat.show("cboe-spy-20230914")
    assert e["kind"] == "option_chain" and e["loader"] == "load_option_chain"
    assert e["sha256"] == _sha(src.paths()[0])
    chain = cat.load("cboe-spy-20230914")
    direct = mmlab.data.load_option_chain(src.paths()[0])
    pd.testing.assert_frame_equal(chain, direct)
    # quote time of the file header: 2023-09-14 4:31 PM EDT = 20:31 UTC
    assert e["t_start"] == pd.Timestamp("2023-09-14 20:31", tz="UTC").value
    created = e["created"]
    ensure_data_ready(["cboe-spy-20230914"], catalog=cat)  # already current: untouched
    assert cat.show("cboe-spy-20230914")["created"] == created
    # the default name of a shipped file is its stable name
    again = cat.import_file(src.paths()[0])
    assert again["name"] == "cboe-spy-20230914" and again["created"] == created


def test_npz_import_round_trip(catalog_tmp, tmp_path):
    if not hasattr(mmlab.data, "load_npz") or not hasattr(mmlab.data, "save_npz"):
        pytest.skip("load_npz/save_npz not available yet")
    ev = synthetic_l2_events(session_seconds=5, seed=8)
    p = tmp_path / "syn.npz"
    mmlab.data.save_npz(p, ev)
    cat = Catalog(catalog_tmp)
    e = cat.import_file(p)
    assert e["kind"] == "npz" and e["name"] == "syn"
    assert cat.load("syn").tobytes() == ev.tobytes()


def test_lobster_pair_from_message_file(catalog_tmp, tmp_path):
    if not hasattr(mmlab.data, "load_lobster"):
        pytest.skip("load_lobster not available yet")
    src = SHIPPED_SOURCES["lobster-aapl-20120621-l10"]
    msg, book = src.paths()
    # copy the pair: the orderbook file is found beside the message file
    for p in (msg, book):
        shutil.copy(p, tmp_path / p.name)
    cat = Catalog(catalog_tmp)
    e = cat.import_file(tmp_path / msg.name)
    assert e["kind"] == "lobster" and len(e["sources"]) == 2
    assert e["sources"][1]["sha256"] == _sha(book)
    ev = cat.load(e["name"])
    assert ev.tobytes() == mmlab.data.load_lobster(msg, book).tobytes()


def test_table_with_date_index_window(catalog_tmp):
    # the rates/commodity loaders return tables indexed by a naive `date` (taken as UTC)
    df = pd.DataFrame({"sofr": [0.0531, 0.0532, 0.0530]}, index=pd.DatetimeIndex(
        ["2023-10-18", "2023-10-19", "2023-10-20"], name="date"))
    cat = Catalog(catalog_tmp)
    e = cat.add("sofr-bit", df)
    assert (e["t_start"], e["t_end"]) == (pd.Timestamp("2023-10-18", tz="UTC").value, pd.Timestamp("2023-10-20", tz="UTC").value)
    pd.testing.assert_frame_equal(cat.load("sofr-bit"), df)
    pd.testing.assert_frame_equal(cat.load("sofr-bit", start="2023-10-19", end="2023-10-20"), df.iloc[[1]])


def test_import_shows_progress_when_asked_and_not_in_a_pipe(catalog_tmp, tmp_path, fake_kind, capsys):
    src = _fake_file(tmp_path, n=3)
    cat = Catalog(catalog_tmp)
    cat.import_file(src, kind="fake", progress=True)  # tqdm over hash / load / write / register
    err = capsys.readouterr().err
    assert "import feed" in err and "step" in err
    src2 = _fake_file(tmp_path, n=3, name="other.txt")
    cat.import_file(src2, kind="fake")  # default: only in a terminal or a notebook
    assert capsys.readouterr().err == ""
