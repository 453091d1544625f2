"""hftbacktest .npz event files both ways, and hftbacktest's event ordering."""

from __future__ import annotations

import gzip
import os
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmlab.data import (
    EVENT_DTYPE,
    EXCH_EVENT,
    LOCAL_EVENT,
    load_binance,
    load_npz,
    save_npz,
    to_hftbacktest_order,
)
from mmlab.data._npz import _merge_order, merge_order_python
from mmlab.errors import ConfigError, DataWarning, FormatError


@pytest.fixture(scope="module")
def eth_events(data_dir):
    return load_binance(data_dir / "binance" / "usdm_ethusdt_20240808.gz")


def test_dtype_is_hftbacktests():
    from hftbacktest.types import event_dtype

    assert EVENT_DTYPE == event_dtype and EVENT_DTYPE.itemsize == 64


def test_round_trip_real_events_through_hftbacktest_layout(eth_events, tmp_path):
    p = tmp_path / "eth.npz"
    save_npz(p, eth_events)
    # what hftbacktest does to read a data file: np.load(path)["data"]
    from hftbacktest.types import event_dtype

    raw = np.load(p)["data"]
    assert raw.dtype == event_dtype
    np.testing.assert_array_equal(raw, eth_events)
    back = load_npz(p)
    np.testing.assert_array_equal(back, eth_events)
    assert back.dtype == EVENT_DTYPE
    assert sorted(os.listdir(tmp_path)) == ["eth.npz"]  # no temp file left behind


def test_hftbacktest_converter_output_loads(data_dir, tmp_path):
    from hftbacktest.data.utils import binancefutures

    src = tmp_path / "slice.gz"
    with gzip.open(data_dir / "binance" / "usdm_btcusdt_20240808.gz", "rb") as fh:
        lines = fh.read().split(b"\n")[:1500]
    with gzip.open(src, "wb") as fh:
        fh.write(b"\n".join(lines) + b"\n")
    out = tmp_path / "hb.npz"
    data = binancefutures.convert(str(src), output_filename=str(out))
    got = load_npz(out)
    np.testing.assert_array_equal(got, data)


def test_hftbacktest_backtester_reads_our_file(eth_events, tmp_path):
    """hftbacktest's own backtest engine replays our events (in its event order)."""
    from hftbacktest import BacktestAsset, HashMapMarketDepthBacktest

    ev = to_hftbacktest_order(eth_events)
    # DEPTH_BBO events are information, not depth updates: leave them out for hftbacktest
    ev = ev[(ev["ev"] & 0xFF) != 5]
    p = tmp_path / "eth_hb.npz"
    save_npz(p, ev)
    asset = (BacktestAsset().data([str(p)]).linear_asset(1.0).constant_latency(0, 0)
             .risk_adverse_queue_model().no_partial_fill_exchange().trading_value_fee_model(0, 0)
             .tick_size(0.01).lot_size(0.001))
    hbt = HashMapMarketDepthBacktest([asset])
    span = int(ev["local_ts"][-1] - ev["local_ts"][0]) + 1_000_000_000
    assert hbt.elapse(span) in (0, 1)  # 1 = end of data reached
    depth = hbt.depth(0)
    best_bid, best_ask = depth.best_bid, depth.best_ask
    hbt.close()
    # our own replay of the depth events gives the same final top of book
    from mmlab.book import replay

    b = replay(eth_events)
    assert (best_bid, best_ask) == pytest.approx((b.best_bid, b.best_ask), abs=1e-9)


def test_to_hftbacktest_order_equals_correct_event_order(eth_events):
    from hftbacktest.data.validation import correct_event_order, validate_event_order

    ours = to_hftbacktest_order(eth_events)
    plain = eth_events.copy()
    plain["ev"] &= ~np.uint64(EXCH_EVENT | LOCAL_EVENT)
    theirs = correct_event_order(plain, np.argsort(plain["exch_ts"], kind="mergesort"),
                                 np.argsort(plain["local_ts"], kind="mergesort"))
    np.testing.assert_array_equal(ours, theirs)
    validate_event_order(ours)  # raises if either side is out of order


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=0, max_size=40))
def test_merge_order_kernel_equals_twin_and_is_ordered(pairs):
    ex = np.array([p[0] for p in pairs], dtype=np.int64)
    lo = np.array([p[1] for p in pairs], dtype=np.int64)
    be, bl = np.argsort(ex, kind="stable"), np.argsort(lo, kind="stable")
    r1, s1 = merge_order_python(ex, lo, be, bl)
    r2, s2 = _merge_order(ex, lo, be, bl)
    np.testing.assert_array_equal(r1, r2)
    np.testing.assert_array_equal(s1, s2)
    # every row appears once on each side, each side in time order
    on_ex = r1[(s1 & 2) > 0]
    on_lo = r1[(s1 & 1) > 0]
    assert sorted(on_ex.tolist()) == sorted(on_lo.tolist()) == list(range(len(pairs)))
    assert (np.diff(ex[on_ex]) >= 0).all() and (np.diff(lo[on_lo]) >= 0).all()


# any event load_npz's declared rules accept (RULES['npz']): timestamps in [0, 4.1e18] ns, px
# finite within 1e9, qty finite in [0, 1e12]; ival, order_id and fval are free (fval NaN too)
event_rows = st.tuples(
    st.integers(0, 2**32 - 1), st.integers(0, 4 * 10**18), st.integers(0, 4 * 10**18),
    st.floats(-1e9, 1e9), st.floats(0, 1e12),
    st.integers(0, 2**64 - 1), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=True),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(event_rows, max_size=30))
def test_round_trip_random_events(tmp_path_factory, rows):
    ev = np.array(rows, dtype=EVENT_DTYPE) if rows else np.zeros(0, EVENT_DTYPE)
    ev["exch_ts"] = np.sort(ev["exch_ts"])  # each clock in order, as hftbacktest replays them
    ev["local_ts"] = np.sort(ev["local_ts"])
    p = tmp_path_factory.mktemp("rt") / "r.npz"
    save_npz(p, ev)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # a repeated row is kept, with a warning
        back = load_npz(p)
    assert back.tobytes() == ev.tobytes()  # bit for bit, fval NaN payloads included


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch, eth_events):
    p = tmp_path / "keep.npz"
    save_npz(p, eth_events[:10])
    before = p.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(OSError, match="disk full"):
        save_npz(p, eth_events)
    assert p.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["keep.npz"]


def test_load_npz_bad_input(tmp_path):
    nokey = tmp_path / "nokey.npz"
    np.savez_compressed(nokey, other=np.zeros(3, EVENT_DTYPE))
    with pytest.raises(FormatError, match="no array 'data'"):
        load_npz(nokey)
    v1 = tmp_path / "v1.npz"  # hftbacktest 1.x: a 2-D float array of 6 columns
    np.savez_compressed(v1, data=np.zeros((4, 6)))
    with pytest.raises(FormatError, match="dtype") as exc:
        load_npz(v1)
    assert exc.value.path == str(v1)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(FormatError, match="not a readable"):
        load_npz(junk)
    trunc = tmp_path / "trunc.npz"
    np.savez_compressed(trunc, data=np.zeros(1000, EVENT_DTYPE))
    trunc.write_bytes(trunc.read_bytes()[:200])
    with pytest.raises(FormatError):
        load_npz(trunc)
    with pytest.raises(ConfigError):
        save_npz(tmp_path / "bad.npz", np.zeros(3))
    assert zipfile.is_zipfile(nokey)
