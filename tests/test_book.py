"""Order book: L2/L3 semantics, flags, crossed-book checks, errors, numba == Python twin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mmlab
from mmlab.book import BookState, TickGrid, book_columns, infer_tick_size, rebuild, replay
from mmlab.data import (
    ADD_ORDER_EVENT,
    BUY_EVENT,
    CANCEL_ORDER_EVENT,
    DEPTH_BBO_EVENT,
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    EVENT_DTYPE,
    EXCH_EVENT,
    FILL_EVENT,
    LOCAL_EVENT,
    MODIFY_ORDER_EVENT,
    SELL_EVENT,
    TRADE_EVENT,
    read_lobster,
)

BOTH = EXCH_EVENT | LOCAL_EVENT
B, S = BUY_EVENT, SELL_EVENT


def make(rows, flags=BOTH):
    """Events from (kind, side flag, px, qty, order_id[, ival]) tuples; ival defaults to index."""
    ev = np.zeros(len(rows), dtype=EVENT_DTYPE)
    for i, r in enumerate(rows):
        kind, side, px, qty, oid = r[:5]
        ev[i]["ev"] = kind | side | flags
        ev[i]["px"] = px
        ev[i]["qty"] = qty
        ev[i]["order_id"] = oid
        ev[i]["ival"] = r[5] if len(r) > 5 else i
        ev[i]["exch_ts"] = ev[i]["local_ts"] = 1_000 * i
    return ev


def book(rows, engine="numba", **kw):
    return BookState(tick_size=kw.pop("tick_size", 0.5), engine=engine).apply(make(rows), **kw)


ENGINES = ["numba", "python"]

# ---------------------------------------------------------------------------------------------
# L2
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_depth_sets_totals_and_zero_deletes(engine):
    b = book([
        (DEPTH_EVENT, B, 99.0, 5, 0), (DEPTH_EVENT, B, 98.5, 7, 0), (DEPTH_EVENT, S, 100.0, 3, 0),
        (DEPTH_EVENT, B, 99.0, 2, 0),  # replaces 5 by 2 (a total, not a delta)
        (DEPTH_EVENT, S, 100.0, 0, 0), (DEPTH_EVENT, S, 101.5, 4, 0),  # 0 deletes the level
    ], engine)
    assert (b.best_bid, b.best_bid_qty, b.best_ask, b.best_ask_qty) == (99.0, 2.0, 101.5, 4.0)
    assert b.n_levels == (2, 1)
    top = b.top(3)
    assert list(top.index) == book_columns(3)
    assert top["bid_px_2"] == 98.5 and top["bid_qty_2"] == 7
    assert np.isnan(top["ask_px_2"]) and top["ask_qty_2"] == 0  # empty level: NaN price, 0 qty
    b.apply(make([(DEPTH_EVENT, B, 99.0, 0, 0)]))
    assert (b.best_bid, b.n_levels) == (98.5, (1, 1))


@pytest.mark.parametrize("engine", ENGINES)
def test_clear_full_up_to_price_and_both_sides(engine):
    rows = [(DEPTH_EVENT, B, p, 1, 0) for p in (97.0, 98.0, 99.0)]
    rows += [(DEPTH_EVENT, S, p, 1, 0) for p in (100.0, 101.0, 102.0)]
    b = book(rows + [(DEPTH_CLEAR_EVENT, B, 98.0, 0, 0), (DEPTH_CLEAR_EVENT, S, 101.0, 0, 0)], engine)
    # hftbacktest's clear-up-to: bids >= 98 and asks <= 101 go, deeper levels stay
    assert (b.best_bid, b.best_ask, b.n_levels) == (97.0, 102.0, (1, 1))
    b = book(rows + [(DEPTH_CLEAR_EVENT, S, 0.0, 0, 0)], engine)  # px 0: the whole side
    assert b.n_levels == (3, 0) and np.isnan(b.best_ask)
    b = book(rows + [(DEPTH_CLEAR_EVENT, 0, 0.0, 0, 0)], engine)  # neither flag: both sides
    assert b.n_levels == (0, 0)
    b = book(rows + [(DEPTH_CLEAR_EVENT, B, 0.0, 0, 0), (DEPTH_SNAPSHOT_EVENT, B, 96.0, 9, 0)],
             engine)
    assert (b.best_bid, b.best_bid_qty, b.n_levels) == (96.0, 9.0, (1, 3))


@pytest.mark.parametrize("engine", ENGINES)
def test_trades_and_bbo_do_not_change_the_book(engine):
    b = book([(DEPTH_EVENT, B, 99.0, 5, 0), (TRADE_EVENT, S, 99.0, 5, 0),
              (DEPTH_BBO_EVENT, B, 98.0, 1, 0)], engine)
    assert (b.best_bid, b.best_bid_qty, b.n_events, b.n_book_events) == (99.0, 5.0, 3, 1)


# ---------------------------------------------------------------------------------------------
# L3
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_fifo_queue_and_priority_rules(engine):
    b = book([
        (DEPTH_EVENT, B, 99.0, 10, 0),  # anonymous quantity: front of the queue
        (ADD_ORDER_EVENT, B, 99.0, 3, 1), (ADD_ORDER_EVENT, B, 99.0, 4, 2),
        (ADD_ORDER_EVENT, B, 99.0, 5, 3),
    ], engine)
    assert b.queue_ahead(1) == 10 and b.queue_ahead(2) == 13 and b.queue_ahead(3) == 17
    assert b.queue_position(3) == (2, 17.0)
    b.apply(make([(MODIFY_ORDER_EVENT, B, 99.0, 1, 1)]))  # smaller: keeps its place
    assert b.queue_ahead(2) == 11 and b.order(1) == {"side": "bid", "px": 99.0, "qty": 1.0}
    b.apply(make([(MODIFY_ORDER_EVENT, B, 99.0, 6, 2)]))  # larger: back of the queue
    assert b.queue_ahead(2) == 16 and b.queue_ahead(3) == 11
    b.apply(make([(FILL_EVENT, B, 99.0, 4, 0)]))  # unknown id: fills anonymous quantity
    assert b.queue_ahead(1) == 6 and b.best_bid_qty == 18
    b.apply(make([(FILL_EVENT, B, 0.0, 1, 1)]))  # a known id needs no price; 1 -> 0 removes it
    assert b.order(1) is None and np.isnan(b.queue_ahead(1))
    b.apply(make([(MODIFY_ORDER_EVENT, B, 98.0, 6, 2)]))  # another price: re-queued there
    assert b.order(2)["px"] == 98.0 and b.queue_ahead(2) == 0 and b.best_bid_qty == 11
    b.apply(make([(CANCEL_ORDER_EVENT, B, 0.0, 0, 3)]))  # cancel removes the whole order
    assert b.qty_at(99.0, "bid") == 6 and b.n_levels == (2, 0)
    q = b.orders_at(99.0, "bid")
    assert q["order_id"].isna().all() and q["qty"].tolist() == [6.0]


@pytest.mark.parametrize("engine", ENGINES)
def test_depth_below_known_quantity_trims_newest_orders(engine):
    b = book([(ADD_ORDER_EVENT, S, 100.0, 3, 1), (ADD_ORDER_EVENT, S, 100.0, 4, 2),
              (ADD_ORDER_EVENT, S, 100.0, 5, 3), (DEPTH_EVENT, S, 100.0, 5, 0)], engine)
    assert b.order(3) is None and b.order(2)["qty"] == 2 and b.order(1)["qty"] == 3
    assert b.best_ask_qty == 5
    b.apply(make([(DEPTH_EVENT, S, 100.0, 0, 0)]))  # deleting the level forgets its orders
    assert b.order(1) is None and b.n_levels == (0, 0)
    b.apply(make([(ADD_ORDER_EVENT, S, 100.5, 1, 1)]))  # the id may be used again
    assert b.order(1)["px"] == 100.5


@pytest.mark.parametrize("engine", ENGINES)
def test_many_orders_through_the_hash_table(engine):
    # 3,000 orders on 30 prices, then every other one cancelled: the id table grows and
    # deletes (backward shift) without losing any order
    rng = np.random.default_rng(7)
    ids = rng.choice(2**40, size=3000, replace=False).astype(np.uint64)
    ids[:1000] = np.arange(1, 1001, dtype=np.uint64) << np.uint64(48)  # low bits all zero
    pxs = 100.0 + 0.5 * rng.integers(0, 30, size=3000)
    rows = [(ADD_ORDER_EVENT, B, float(p), 1, int(o)) for o, p in zip(ids, pxs, strict=True)]
    rows += [(CANCEL_ORDER_EVENT, B, 0.0, 0, int(o)) for o in ids[::2]]
    b = book(rows, engine)
    assert all(b.order(int(o)) is None for o in ids[::2])
    assert all(b.order(int(o))["px"] == p for o, p in zip(ids[1::2], pxs[1::2], strict=True))
    assert sum(b.qty_at(100.0 + 0.5 * k, "bid") for k in range(30)) == 1500


# ---------------------------------------------------------------------------------------------
# Flags, rows, crossed books
# ---------------------------------------------------------------------------------------------


def test_exch_and_local_flags_each_event_once():
    both = make([(DEPTH_EVENT, B, 99.0, 5, 0)])
    exch_only = make([(ADD_ORDER_EVENT, B, 99.0, 1, 1)], flags=EXCH_EVENT)
    local_only = make([(ADD_ORDER_EVENT, B, 99.0, 2, 2)], flags=LOCAL_EVENT)
    ev = np.concatenate([both, exch_only, local_only])
    ev["ival"] = np.arange(3)
    ex = replay(ev, tick_size=0.5)
    lo = replay(ev, tick_size=0.5, side="local")
    assert ex.best_bid_qty == 6 and (ex.n_events, ex.n_skipped) == (2, 1)  # not 11: no double count
    assert lo.best_bid_qty == 7 and lo.order(2) is not None and lo.order(1) is None
    df = rebuild(ev, 1, tick_size=0.5)
    assert len(df) == 2 and df["src_row"].tolist() == [0, 1]


def test_crossed_check_at_vendor_row_boundaries():
    # One vendor message (ival 1) moves the book up: the new ask is set before the old bid is
    # deleted, transiently crossed, fine at the end of the row.
    rows = [(DEPTH_EVENT, B, 99.0, 1, 0, 0), (DEPTH_EVENT, S, 100.0, 1, 0, 0),
            (DEPTH_EVENT, S, 100.0, 0, 0, 1), (DEPTH_EVENT, S, 98.5, 1, 0, 1),
            (DEPTH_EVENT, B, 99.0, 0, 0, 1), (DEPTH_EVENT, B, 98.0, 1, 0, 1)]
    b = replay(make(rows), tick_size=0.5)
    assert (b.best_bid, b.best_ask) == (98.0, 98.5)
    df = rebuild(make(rows), 1, tick_size=0.5, per="row")
    assert df["src_row"].tolist() == [0, 1] and df["bid_px_1"].tolist() == [99.0, 98.0]
    bad = rows[:4] + [(DEPTH_EVENT, S, 101.0, 1, 0, 2)]  # row 1 ends crossed
    with pytest.raises(mmlab.CrossedBookError, match="row 1") as info:
        replay(make(bad), tick_size=0.5, source="feed.gz")
    assert info.value.row == 1 and info.value.path == "feed.gz"
    assert replay(make(bad), tick_size=0.5, check_crossed=False).best_ask == 98.5


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        ([(7, B, 99.0, 1, 0)], "unknown event kind"),
        ([(DEPTH_EVENT, 0, 99.0, 1, 0)], "BUY/SELL"),
        ([(DEPTH_EVENT, B | S, 99.0, 1, 0)], "BUY/SELL"),
        ([(DEPTH_EVENT, B, 99.0, np.nan, 0)], "quantity"),
        ([(DEPTH_EVENT, B, 99.0, -1, 0)], "quantity"),
        ([(DEPTH_EVENT, B, 99.0, 1, 0), (ADD_ORDER_EVENT, B, np.nan, 1, 1)], "price"),
        ([(DEPTH_EVENT, B, 99.25, 1, 0)], "tick grid"),
        ([(ADD_ORDER_EVENT, B, 99.0, 1, 1), (ADD_ORDER_EVENT, B, 99.0, 1, 1)], "already resting"),
        ([(DEPTH_EVENT, B, 99.0, 1, 0), (MODIFY_ORDER_EVENT, B, 99.0, 1, 5)], "does not hold"),
        ([(DEPTH_EVENT, B, 99.0, 1, 0), (CANCEL_ORDER_EVENT, B, 99.0, 2, 5)], "more quantity"),
        ([(ADD_ORDER_EVENT, B, 99.0, 1, 1), (FILL_EVENT, B, 99.0, 2, 1)], "more quantity"),
        ([(DEPTH_EVENT, B, 99.0, 1, 0), (CANCEL_ORDER_EVENT, B, 0.0, 1, 5)], "usable price"),
    ],
)
@pytest.mark.parametrize("engine", ENGINES)
def test_bad_events_raise_naming_the_row(rows, match, engine):
    ev = make(rows)
    ev["ival"] += 40
    with pytest.raises(mmlab.DataError, match=match) as info:
        BookState(tick_size=0.5, engine=engine).apply(ev, source="x.npz")
    assert info.value.row == 40 + len(rows) - 1 and info.value.path == "x.npz"


def test_bad_arguments():
    with pytest.raises(mmlab.ConfigError):
        BookState(side="both")
    with pytest.raises(mmlab.ConfigError):
        BookState(tick_size=-1)
    with pytest.raises(mmlab.ConfigError):
        rebuild(make([(DEPTH_EVENT, B, 99.0, 1, 0)]), levels=0)
    with pytest.raises(mmlab.ConfigError):
        replay(np.zeros(3, dtype=[("a", "f8")]))



def test_far_away_prices_cost_one_level_each():
    # Binance diffs carry prices from 560 to 621,368.7 USDT (tick 0.1): 6.2 M ticks apart
    b = replay(make([(DEPTH_EVENT, B, 560.0, 1, 0), (DEPTH_EVENT, S, 621368.7, 2, 0),
                     (DEPTH_EVENT, B, 61659.7, 3, 0), (DEPTH_EVENT, S, 61659.8, 4, 0)]),
               tick_size=0.1)
    assert b.lvl_q.shape[2] == 4
    assert (b.best_bid, b.best_ask) == (61659.7, 61659.8)
    assert b.top(2)["ask_px_2"] == 621368.7 and b.top(2)["bid_px_2"] == 560.0


# ---------------------------------------------------------------------------------------------
# Ticks, chunks, rebuild layout
# ---------------------------------------------------------------------------------------------


def test_infer_tick_size():
    assert infer_tick_size([585.33, 585.3, 584.27]) == 0.01
    assert infer_tick_size([61000.1, 61000.3, 60999.8]) == 0.1
    assert infer_tick_size([-37.63, 10.0, 12.5]) == 0.01  # negative prices (WTI 2020-04-20)
    assert infer_tick_size([100.0, 105.0, 125.0]) == 5.0
    g = TickGrid(0.01)
    assert float(g.to_price(58533)) == 585.33  # exact decimal, not 585.3300000000001


def test_chunks_and_growing_price_range_equal_one_pass(data_dir):
    ev = read_lobster(data_dir / "lobster" / "AAPL_2012-06-21_34200000_57600000_message_10.csv").events
    one = replay(ev)
    parts = BookState()
    for chunk in np.array_split(ev, 7):
        parts.apply(chunk)
    pd.testing.assert_series_equal(one.top(10), parts.top(10))
    far = make([(DEPTH_EVENT, S, 700.0, 3, 0, 10_000), (DEPTH_EVENT, B, 500.0, 2, 0, 10_001)])
    parts.apply(far)  # beyond the range allocated so far: the book grows both ways
    assert parts.qty_at(700.0, "ask") == 3 and parts.qty_at(500.0, "bid") == 2
    assert parts.best_bid == one.best_bid and parts.n_levels == (11, 11)


def test_rebuild_layout(data_dir):
    ev = read_lobster(data_dir / "lobster" / "AAPL_2012-06-21_34200000_57600000_message_10.csv").events
    df = rebuild(ev, levels=3)
    assert list(df.columns) == book_columns(3) + ["src_row", "exch_ts"]
    assert len(df) == len(ev) and df["exch_ts"].is_monotonic_increasing
    per_row = rebuild(ev, levels=3, per="row")
    assert len(per_row) == 999 and per_row["src_row"].tolist() == list(range(999))
    last = df.groupby("src_row").tail(1).reset_index(drop=True)
    pd.testing.assert_frame_equal(last, per_row)


# ---------------------------------------------------------------------------------------------
# numba kernel == Python twin on shipped data
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "n"),
    [
        ("AAPL_2012-06-21_34200000_57600000_message_10.csv", None),
        ("amzn_l1_full_day/AMZN_2012-06-21_34200000_57600000_message_1.csv", 6_000),
    ],
)
def test_numba_equals_python_twin_on_shipped_data(data_dir, name, n):
    ev = read_lobster(data_dir / "lobster" / name).events[:n]
    levels = 10 if n is None else 2
    a = rebuild(ev, levels, engine="numba")
    b = rebuild(ev, levels, engine="python")
    pd.testing.assert_frame_equal(a, b)
    ra, rb = replay(ev), replay(ev, engine="python")
    for attr in ("lvl_q", "lvl_i", "ord_i", "ord_q", "ord_id", "hkey", "hval", "meta"):
        np.testing.assert_array_equal(getattr(ra, attr), getattr(rb, attr), err_msg=attr)


def test_synthetic_l2_stream_never_crosses():
    from mmlab.data import synthetic_l2_events

    ev = synthetic_l2_events(days=2, seed=3, session_seconds=60.0)
    df = rebuild(ev, 5, tick_size=0.01)  # check_crossed=True on every row
    assert len(df) == len(ev)
    ok = df["bid_px_1"].notna() & df["ask_px_1"].notna()
    assert (df.loc[ok, "bid_px_1"] < df.loc[ok, "ask_px_1"]).all()


@pytest.mark.parametrize("engine", ENGINES)
def test_l3_to_l2_gives_the_same_book(data_dir, engine):
    from mmlab.book import l3_to_l2
    from mmlab.data import DEPTH_EVENT as D

    ev = read_lobster(data_dir / "lobster" / "AAPL_2012-06-21_34200000_57600000_message_10.csv").events
    l2 = l3_to_l2(ev, engine=engine)
    kinds = set((l2["ev"] & np.uint64(0xFF)).tolist())
    assert kinds <= {D, DEPTH_CLEAR_EVENT, DEPTH_SNAPSHOT_EVENT, TRADE_EVENT}
    a = rebuild(l2, 10, per="row")
    b = rebuild(ev, 10, per="row")
    pd.testing.assert_frame_equal(a, b)
    # a MODIFY to another price changes two levels
    moved = l3_to_l2(make([(ADD_ORDER_EVENT, B, 99.0, 3, 1), (ADD_ORDER_EVENT, B, 99.0, 2, 2),
                           (MODIFY_ORDER_EVENT, B, 98.5, 3, 1)]), tick_size=0.5, engine=engine)
    assert moved["px"].tolist() == [99.0, 99.0, 99.0, 98.5]
    assert moved["qty"].tolist() == [3.0, 5.0, 2.0, 3.0]
    assert moved["ival"].tolist() == [0, 1, 2, 2]


def test_hftbacktest_depth_as_oracle(data_dir):
    """hftbacktest's own market depth (Rust HashMapMarketDepth), fed the same L2 events, ends
    with the same book as ours at every one of our top-10 levels."""
    hb = pytest.importorskip("hftbacktest")
    from mmlab.book import l3_to_l2

    ev = read_lobster(data_dir / "lobster" / "AAPL_2012-06-21_34200000_57600000_message_10.csv").events
    l2 = l3_to_l2(ev, tick_size=0.01)
    asset = (hb.BacktestAsset().data(l2).tick_size(0.01).lot_size(1.0).linear_asset(1.0)
             .constant_order_latency(0, 0).no_partial_fill_exchange().risk_adverse_queue_model()
             .trading_value_fee_model(0.0, 0.0))
    hbt = hb.HashMapMarketDepthBacktest([asset])
    hbt._goto_end()
    depth = hbt.depth(0)
    top = replay(l2).top(10)
    for k in range(1, 11):
        bid_t = round(top[f"bid_px_{k}"] / 0.01)
        ask_t = round(top[f"ask_px_{k}"] / 0.01)
        assert depth.bid_qty_at_tick(bid_t) == top[f"bid_qty_{k}"]
        assert depth.ask_qty_at_tick(ask_t) == top[f"ask_qty_{k}"]
    assert depth.best_bid_tick == round(top["bid_px_1"] / 0.01)
    assert depth.best_ask_tick == round(top["ask_px_1"] / 0.01)
    hbt.close()
