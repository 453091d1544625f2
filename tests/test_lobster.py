"""LOBSTER loader: the shipped files rebuild exactly, every message type, every bad-input class."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mmlab
from mmlab.book import rebuild
from mmlab.data import (
    ADD_ORDER_EVENT,
    BUY_EVENT,
    CANCEL_ORDER_EVENT,
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    EXCH_EVENT,
    FILL_EVENT,
    LOCAL_EVENT,
    MODIFY_ORDER_EVENT,
    SELL_EVENT,
    TRADE_EVENT,
    event_kind,
    load_lobster,
    read_lobster,
)

AAPL = "AAPL_2012-06-21_34200000_57600000_message_10.csv"
AMZN = "amzn_l1_full_day/AMZN_2012-06-21_34200000_57600000_message_1.csv"


def _pairs(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "lobster").rglob("*_message_*.csv"))


@pytest.fixture(scope="module")
def loaded(data_dir):
    return {p.name: read_lobster(p) for p in _pairs(data_dir)}


def _rebuilt_vs_vendor(d) -> tuple[np.ndarray, np.ndarray]:
    """Rebuilt top N after each message row vs the vendor's orderbook file (NaN = empty)."""
    vendor = d.orderbook_frame()
    ours = rebuild(d.events, d.levels, per="row").set_index("src_row")
    # a row without events (type 7, halt) leaves the book as it was
    ours = ours.reindex(range(len(vendor))).ffill()
    return ours[vendor.columns].to_numpy(), vendor.to_numpy()


def test_every_shipped_pair_is_found(data_dir):
    names = {p.name for p in _pairs(data_dir)}
    assert Path(AAPL).name in names and Path(AMZN).name in names


@pytest.mark.parametrize("name", [Path(AAPL).name, Path(AMZN).name])
def test_rebuilt_top_n_equals_vendor_orderbook_on_every_row(loaded, name):
    d = loaded[name]
    ours, vendor = _rebuilt_vs_vendor(d)
    same = (ours == vendor) | (np.isnan(ours) & np.isnan(vendor))
    assert same.shape[0] == d.stats.n_messages
    assert int((~same.all(axis=1)).sum()) == 0  # 0 unexplained differences
    assert d.stats.unexplained == 0


@pytest.mark.parametrize("name", [Path(AAPL).name, Path(AMZN).name])
def test_levels_from_the_orderbook_file_only_where_messages_cannot_explain_them(loaded, name):
    """Every DEPTH event after the seed is either a level entering at depth N right after a
    message removed a level (type 3/4), taken from that row of the file, or a level pushed
    beyond depth N by a submission (type 1) and dropped; the counts match the loader's."""
    d = loaded[name]
    ev, n = d.events, d.levels
    ob = d.orderbook
    mtype = d.messages["type"].to_numpy()
    depth = ev[event_kind(ev["ev"]) == DEPTH_EVENT]
    entered = dropped = 0
    for e in depth:
        row = int(e["ival"])
        side_off = 2 if e["ev"] & BUY_EVENT else 0
        px_n = ob[row, 4 * (n - 1) + side_off] / 1e4  # the file's price at depth N
        row_prices = ob[row, side_off::4][:n] / 1e4
        if e["qty"] > 0:
            assert mtype[row] in (3, 4), row  # a removal brought it into view
            assert e["px"] == px_n, row  # ... at depth N
            assert e["qty"] == ob[row, 4 * (n - 1) + side_off + 1]
            entered += 1
        else:
            assert mtype[row] == 1, row  # a new price pushed it beyond depth N
            assert e["px"] not in row_prices, row
            dropped += 1
    assert entered == d.stats.levels_from_orderbook > 0
    assert dropped == d.stats.levels_dropped


def test_amzn_orders_resting_before_the_file(loaded):
    # issue 2: 7,467 executions/cancels (types 2-4) of order ids never submitted in the AMZN day
    s = loaded[Path(AMZN).name].stats
    assert s.unknown_order_events == 7467
    assert s.n_messages == 57515 and s.levels == 1  # wc -l of the message file (header + rows)


def test_amzn_header_and_five_decimal_times(loaded):
    m = loaded[Path(AMZN).name].messages
    # first data row of the file: 34200.01746,5,0,1,2238200,-1 (09:30:00.01746 EDT = 13:30 UTC)
    assert m["ts"].iloc[0] == pd.Timestamp("2012-06-21 13:30:00.017460", tz="UTC")
    assert m["type"].iloc[0] == 5 and m["price"].iloc[0] == pytest.approx(223.82, abs=0)


def test_aapl_times_to_utc_ns(loaded):
    d = loaded[Path(AAPL).name]
    # row 0: 34200.004241176 s after midnight New York (EDT, UTC-4) on 2012-06-21
    expected = (pd.Timestamp("2012-06-21 13:30:00", tz="UTC").value + 4_241_176)
    assert int(d.events["exch_ts"][d.events["ival"] == 0][-1]) == expected
    assert (d.events["local_ts"] == d.events["exch_ts"]).all()  # one clock: feed latency 0
    flags = d.events["ev"] & np.uint64(EXCH_EVENT | LOCAL_EVENT)
    assert (flags == np.uint64(EXCH_EVENT | LOCAL_EVENT)).all()
    assert np.all(np.diff(d.events["ival"]) >= 0)


def test_aapl_first_rows_of_the_file(loaded):
    ev = loaded[Path(AAPL).name].events
    # row 0: 34200.004241176,1,16113575,18,5853300,1 -> a buy submission of 18 @ 585.33
    adds = ev[(ev["ival"] == 0) & (event_kind(ev["ev"]) == ADD_ORDER_EVENT)]
    assert len(adds) == 1
    assert adds["order_id"][0] == 16113575 and adds["qty"][0] == 18 and adds["px"][0] == 585.33
    assert adds["ev"][0] & np.uint64(BUY_EVENT)
    # the seed: orderbook row 0 without message 0's 18 @ 585.33 (which was a new level)
    seed = ev[(ev["ival"] == 0) & (event_kind(ev["ev"]) == DEPTH_SNAPSHOT_EVENT)]
    bids = seed[(seed["ev"] & np.uint64(BUY_EVENT)) != 0]
    assert 585.33 not in bids["px"] and len(bids) == 9 and bids["px"][0] == 585.30


# --------------------------------------------------------------------------------------------
# A small hand-made file pair exercising every message type
# --------------------------------------------------------------------------------------------

MSG = """\
34200.0,1,1,10,1000100,1
34200.5,4,1,4,1000100,1
34201.0,2,1,1,1000100,1
34201.0,5,0,7,1000150,-1
34202.0,3,1,5,1000100,1
34203.0,4,77,100,1000200,-1
34203.5,7,0,0,-1,-1
34204.0,6,0,500,1000300,-1
34205.0,3,78,20,1000000,1
34206.0,1,2,5,1000400,-1
"""
OB = """\
1000200,100,1000100,10,1000300,50,1000000,200
1000200,100,1000100,6,1000300,50,1000000,200
1000200,100,1000100,5,1000300,50,1000000,200
1000200,100,1000100,5,1000300,50,1000000,200
1000200,100,1000000,200,1000300,50,999900,35
1000300,50,1000000,200,1000500,10,999900,35
1000300,50,1000000,200,1000500,10,999900,35
1000300,50,1000000,200,1000500,10,999900,35
1000300,50,1000000,180,1000500,10,999900,35
1000300,50,1000000,180,1000400,5,999900,35
"""
NAME = "TEST_2012-06-21_34200000_57600000_{}_2.csv"


def _write(tmp_path: Path, msg: str = MSG, ob: str = OB, header: bool = False) -> Path:
    m = tmp_path / NAME.format("message")
    o = tmp_path / NAME.format("orderbook")
    mh = "Time,Type,OrderId,Size,Price,Direction\n" if header else ""
    oh = "AskPx1,AskSz1,BidPx1,BidSz1,AskPx2,AskSz2,BidPx2,BidSz2\n" if header else ""
    m.write_text(mh + msg)
    o.write_text(oh + ob)
    return m


def _kinds(ev, row):
    e = ev[ev["ival"] == row]
    return [(int(k), int(f)) for k, f in zip(event_kind(e["ev"]), e["ev"] & np.uint64(BUY_EVENT | SELL_EVENT), strict=True)]


def test_small_pair_every_message_type(tmp_path):
    d = read_lobster(_write(tmp_path))
    ev = d.events
    s = d.stats
    assert (s.n_messages, s.levels, s.unknown_order_events, s.unknown_order_ids) == (10, 2, 2, 2)
    assert (s.levels_from_orderbook, s.levels_dropped, s.unexplained, s.halts) == (2, 1, 0, 1)
    seed = ev[ev["ival"] == 0][:5]
    assert [int(k) for k in event_kind(seed["ev"])] == [
        DEPTH_CLEAR_EVENT, DEPTH_SNAPSHOT_EVENT, DEPTH_CLEAR_EVENT, DEPTH_SNAPSHOT_EVENT,
        DEPTH_SNAPSHOT_EVENT,
    ]
    assert _kinds(ev, 1) == [(TRADE_EVENT, SELL_EVENT), (FILL_EVENT, BUY_EVENT)]  # resting buy hit
    assert _kinds(ev, 2) == [(MODIFY_ORDER_EVENT, BUY_EVENT)]
    assert ev[ev["ival"] == 2]["qty"][0] == 5  # remaining after the partial cancel
    assert _kinds(ev, 3) == [(TRADE_EVENT, BUY_EVENT)]  # hidden sell executed: buyer aggressed
    assert _kinds(ev, 4) == [(CANCEL_ORDER_EVENT, BUY_EVENT), (DEPTH_EVENT, BUY_EVENT)]
    assert _kinds(ev, 5) == [(TRADE_EVENT, BUY_EVENT), (FILL_EVENT, SELL_EVENT),
                             (DEPTH_EVENT, SELL_EVENT)]
    assert _kinds(ev, 6) == []  # halt: no event
    assert _kinds(ev, 7) == [(TRADE_EVENT, 0)]  # cross trade: no aggressor
    assert _kinds(ev, 9) == [(ADD_ORDER_EVENT, SELL_EVENT), (DEPTH_EVENT, SELL_EVENT)]
    # 34200 s after midnight New York on 2012-06-21 (EDT) = 13:30:00 UTC
    assert int(ev["exch_ts"][0]) == pd.Timestamp("2012-06-21 13:30", tz="UTC").value
    ours = rebuild(ev, 2, per="row").set_index("src_row").reindex(range(10)).ffill()
    vendor = d.orderbook_frame()
    pd.testing.assert_frame_equal(ours[vendor.columns], vendor, check_names=False)


def test_header_row_is_detected(tmp_path):
    plain = load_lobster(_write(tmp_path))
    sub = tmp_path / "h"
    sub.mkdir()
    headed = load_lobster(_write(sub, header=True))
    np.testing.assert_array_equal(plain, headed)


def test_padded_levels_are_empty(tmp_path):
    # a one-sided ask book: bid levels padded with -9999999999 and size 0
    msg = "34200.0,1,1,10,1000200,-1\n34201.0,3,1,10,1000200,-1\n"
    ob = ("1000200,10,-9999999999,0,1000300,5,-9999999999,0\n"
          "1000300,5,-9999999999,0,9999999999,0,-9999999999,0\n")
    d = read_lobster(_write(tmp_path, msg, ob))
    f = d.orderbook_frame()
    assert np.isnan(f.loc[1, "ask_px_2"]) and f.loc[1, "ask_qty_2"] == 0
    assert np.isnan(f["bid_px_1"]).all()
    ours = rebuild(d.events, 2, per="row")
    pd.testing.assert_frame_equal(ours[f.columns], f, check_names=False)


def test_orderbook_path_is_derived_or_required(tmp_path):
    m = _write(tmp_path)
    assert len(load_lobster(m, m.with_name(NAME.format("orderbook")))) == len(load_lobster(m))
    (tmp_path / NAME.format("orderbook")).unlink()
    with pytest.raises(mmlab.FormatError, match="not found"):
        load_lobster(m)


def test_resync_mode_counts_unexplained_rows(tmp_path):
    bad_ob = OB.replace("1000300,50,1000000,180,1000500,10", "1000300,50,1000000,170,1000500,10", 1)
    m = _write(tmp_path, ob=bad_ob)
    with pytest.raises(mmlab.DataError, match="row 8"):
        read_lobster(m)
    d = read_lobster(m, on_mismatch="resync")
    assert d.stats.unexplained == 2  # row 8 disagrees; row 9 then disagrees with row 8's fix
    with pytest.raises(mmlab.ConfigError):
        read_lobster(m, on_mismatch="ignore")


# --------------------------------------------------------------------------------------------
# One test per bad-input class; each error names the file and the row
# --------------------------------------------------------------------------------------------


def _replace_line(text: str, i: int, line: str) -> str:
    lines = text.splitlines()
    lines[i] = line
    return "\n".join(lines) + "\n"


def _raises(tmp_path, cls, row, msg=MSG, ob=OB, match=None):
    m = _write(tmp_path, msg, ob)
    with pytest.raises(cls, match=match) as info:
        load_lobster(m)
    assert info.value.row == row
    assert info.value.path is not None and "TEST_2012-06-21" in info.value.path
    return info.value


def test_bad_wrong_column_count(tmp_path):
    _raises(tmp_path, mmlab.FormatError, 3, msg=_replace_line(MSG, 3, "34201.0,5,0,7,1000150"),
            match="5 columns")


def test_bad_orderbook_column_count(tmp_path):
    ob = "\n".join(",".join(r.split(",")[:7]) for r in OB.splitlines()) + "\n"
    err = _raises(tmp_path, mmlab.FormatError, 0, ob=ob, match="4 per level")
    assert "orderbook" in err.path


def test_bad_non_numeric_field(tmp_path):
    _raises(tmp_path, mmlab.FormatError, 2, msg=_replace_line(MSG, 2, "34201.0,2,1,one,1000100,1"),
            match="non-numeric field 'one'")


def test_bad_negative_size(tmp_path):
    _raises(tmp_path, mmlab.FormatError, 2, msg=_replace_line(MSG, 2, "34201.0,2,1,-1,1000100,1"),
            match="negative size")


def test_bad_negative_size_in_orderbook(tmp_path):
    ob = _replace_line(OB, 4, "1000200,100,1000000,-200,1000300,50,999900,35")
    _raises(tmp_path, mmlab.FormatError, 4, ob=ob, match="negative size")


def test_bad_nan_where_a_number_is_required(tmp_path):
    _raises(tmp_path, mmlab.FormatError, 5, msg=_replace_line(MSG, 5, "34203.0,4,77,,1000200,-1"),
            match="missing value")
    sub = tmp_path / "nan"
    sub.mkdir()
    _raises(sub, mmlab.FormatError, 5, msg=_replace_line(MSG, 5, "34203.0,4,77,NaN,1000200,-1"),
            match="missing value")


def test_bad_timestamps_going_backwards(tmp_path):
    _raises(tmp_path, mmlab.TimestampOrderError, 4,
            msg=_replace_line(MSG, 4, "34200.9,3,1,5,1000100,1"), match="backwards")


def test_bad_unknown_event_type(tmp_path):
    _raises(tmp_path, mmlab.FormatError, 3, msg=_replace_line(MSG, 3, "34201.0,8,0,7,1000150,-1"),
            match="unknown event type 8")


def test_bad_row_count_mismatch(tmp_path):
    ob = "\n".join(OB.splitlines()[:-1]) + "\n"
    _raises(tmp_path, mmlab.FormatError, 9, ob=ob, match="10 message rows but 9 orderbook rows")


def test_bad_crossed_book_after_a_message(tmp_path):
    ob = _replace_line(OB, 1, "1000200,100,1000200,6,1000300,50,1000000,200")
    _raises(tmp_path, mmlab.CrossedBookError, 1, ob=ob, match="crossed")


def test_bad_message_contradicting_the_orderbook(tmp_path):
    # row 2 cancels more of order 1 than rests
    _raises(tmp_path, mmlab.DataError, 2, msg=_replace_line(MSG, 2, "34201.0,2,1,40,1000100,1"),
            match="has 6 left")


def test_bad_date_in_name_and_arguments(tmp_path):
    m = _write(tmp_path)
    odd = m.with_name("nodate_message_2.csv")
    m.rename(odd)
    with pytest.raises(mmlab.FormatError, match="no trading date"):
        load_lobster(odd, tmp_path / NAME.format("orderbook"))
    ev = load_lobster(odd, tmp_path / NAME.format("orderbook"), date="2012-06-21")
    assert int(ev["exch_ts"][0]) == pd.Timestamp("2012-06-21 13:30", tz="UTC").value
    with pytest.raises(mmlab.ConfigError):
        load_lobster(odd, tmp_path / NAME.format("orderbook"), date="21/06/2012")
