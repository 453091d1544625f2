"""The account of the one core (issue 10; what ``tests/test_ledger.py`` checked on the retired
``mmlab.execution.Ledger``): position, cash, maker / taker / per-contract fees, funding, linear
and inverse contracts, and the PnL split (spread capture at the mark, inventory moves, fees,
funding) adding up to the total.

Scenarios are scripted orders on hand-built books, run by the backtest and by the local side
alone against the exchange side over the wire (loopback): both must give the values worked out
by hand below (standard contract formulas: linear PnL ``m x qty x (exit - entry)``; inverse
``m x qty x (1/entry - 1/exit)`` in coin; funding ``-rate x position x |value(mark)|``, a long
pays a positive rate). A Hypothesis property drives the account's primitives (the plain-Python
twins in :mod:`mmlab.backtest.core.primitives`) with random fills and marks.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmlab.backtest import ScriptedOrders, run
from mmlab.backtest.core import layout as L
from mmlab.backtest.core import primitives as P
from mmlab.data import (
    BUY_EVENT,
    DEPTH_EVENT,
    EVENT_DTYPE,
    EXCH_EVENT,
    LOCAL_EVENT,
    SELL_EVENT,
    TRADE_EVENT,
)
from mmlab.runtime import replay

MS = 1_000_000
T0 = 1_700_000_000_000_000_000
BOTH = EXCH_EVENT | LOCAL_EVENT
DRIVERS = {"backtest": run, "loopback": functools.partial(replay, venue="loopback")}


def market(book1, book2, *, switch_ms=500, until_ms=1000, trades=()):
    """Top of book ``book1`` = (bid, ask) refreshed every 100 ms (10 a side), replaced by
    ``book2`` at ``switch_ms``; ``trades``: (t_ms, aggressor side, px, qty)."""
    rows = []
    for t in range(0, until_ms + 1, 100):
        bid, ask = book1 if t < switch_ms else book2
        if t == switch_ms:
            rows += [(DEPTH_EVENT, 1, t, book1[0], 0.0), (DEPTH_EVENT, -1, t, book1[1], 0.0)]
        rows += [(DEPTH_EVENT, 1, t, bid, 10.0), (DEPTH_EVENT, -1, t, ask, 10.0)]
    rows += [(TRADE_EVENT, s, t, px, q) for t, s, px, q in trades]
    rows.sort(key=lambda r: r[2])
    ev = np.zeros(len(rows), EVENT_DTYPE)
    for i, (kind, side, t, px, qty) in enumerate(rows):
        ts = T0 + t * MS
        ev[i] = (kind | BOTH | (BUY_EVENT if side > 0 else SELL_EVENT), ts, ts, px, qty, 0, i, 0.0)
    return ev


def script(*rows):
    """Orders ``(t_ms, side, price, qty)``."""
    return ScriptedOrders([(T0 + t * MS, s, px, q) for t, s, px, q in rows])


def settings_(**kw):
    return dict(dict(interval=100 * MS, start=T0, post_only=False, queue_model="risk_averse",
                     record_every=1, max_position=1e6), **kw)


def check_split(p):
    assert abs(p["spread"] + p["inventory"] + p["fees"] + p["funding"] - p["total"]) < 1e-9


@pytest.mark.parametrize("driver", list(DRIVERS))
def test_round_trip_linear_with_maker_and_taker_fees(driver):
    """Book 59,999 / 60,002 (mid 60,000.5). Buy 1 @ 60,000 rests; a sell prints through at
    59,999: maker fill, 2 bps = 12, capture +0.5. The book moves to 60,100 / 60,101 (mid
    60,100.5); sell 1 @ 60,100 takes the bid: taker, 5 bps = 30.05, capture -0.5. Total
    100 - 42.05 = 57.95 = spread 0 + inventory 100 (held 1 while the mid rose 100) - fees."""
    ev = market((59_999.0, 60_002.0), (60_100.0, 60_101.0), trades=[(200, -1, 59_999.0, 1.0)])
    res = DRIVERS[driver](ev, script((100, 1, 60_000.0, 1.0), (600, -1, 60_100.0, 1.0)),
                          **settings_(tick_size=1.0, lot_size=1.0, maker_fee=0.0002,
                                      taker_fee=0.0005))
    f = res.fills
    assert list(f["price"]) == [60_000.0, 60_100.0] and list(f["maker"]) == [True, False]
    np.testing.assert_allclose(f["fee"], [12.0, 30.05], rtol=1e-12)
    np.testing.assert_allclose(f["spread_capture"], [0.5, -0.5], rtol=1e-12)
    p = res.pnl
    assert res.counters["position"] == 0.0
    assert p["fees"] == pytest.approx(-42.05, rel=1e-12)
    assert p["spread"] == pytest.approx(0.0, abs=1e-9)
    assert p["inventory"] == pytest.approx(100.0, rel=1e-12)
    assert p["total"] == pytest.approx(57.95, rel=1e-12)
    check_split(p)


@pytest.mark.parametrize("driver", list(DRIVERS))
def test_inverse_contract_pnl_in_coin(driver):
    """Coin-margined, 100 USD a contract: long 100 at 10,000 (taking the ask), closed at 12,500
    (taking the bid): 100 x 100 x (1/10,000 - 1/12,500) = 0.2 coin."""
    ev = market((9_999.5, 10_000.0), (12_500.0, 12_500.5))
    # a 25 % jump in one row: the step driver's book follows a new best wherever it goes
    res = DRIVERS[driver](ev, script((100, 1, 10_000.0, 100.0), (600, -1, 12_500.0, 100.0)),
                          **settings_(tick_size=0.5, lot_size=1.0, multiplier=100.0,
                                      inverse=True))
    p = res.pnl
    assert p["total"] == pytest.approx(0.2, rel=1e-12)
    x = lambda px: -100.0 / px  # noqa: E731 - the inverse contract's value coordinate
    # bought 0.25 above the mid, sold 0.25 below it; held 100 from mid 9,999.75 to 12,500.25
    spread = 100 * (x(9_999.75) - x(10_000.0)) - 100 * (x(12_500.25) - x(12_500.0))
    assert p["spread"] == pytest.approx(spread, rel=1e-12)
    assert p["inventory"] == pytest.approx(100 * (x(12_500.25) - x(9_999.75)), rel=1e-12)
    check_split(p)


@pytest.mark.parametrize("driver", list(DRIVERS))
def test_fixed_fee_per_contract(driver):
    """A listed option (100 a contract, 0.65 a contract): sell 10 @ 2.50 resting inside 2.40 /
    2.70 (mid 2.55), hit by a buy printing through at 2.60: fees 6.5, capture 10 x 100 x
    (2.50 - 2.55) = -50."""
    ev = market((2.40, 2.70), (2.40, 2.70), trades=[(200, 1, 2.60, 10.0)])
    res = DRIVERS[driver](ev, script((100, -1, 2.50, 10.0)),
                          **settings_(tick_size=0.05, lot_size=1.0, multiplier=100.0,
                                      fee_per_contract=0.65))
    assert res.pnl["fees"] == pytest.approx(-6.5, rel=1e-12)
    assert res.pnl["spread"] == pytest.approx(-50.0, rel=1e-9)
    check_split(res.pnl)


@pytest.mark.parametrize("driver", list(DRIVERS))
def test_funding_long_pays_a_positive_rate_short_inverse_receives(driver):
    # long 2 (linear) at 50,001, funding 1 bp at the mid 50,000: pays 1e-4 x 2 x 50,000 = 10
    ev = market((49_999.0, 50_001.0), (49_999.0, 50_001.0))
    fund = ([T0 + 500 * MS], [0.0001])
    res = DRIVERS[driver](ev, script((100, 1, 50_001.0, 2.0)),
                          **settings_(tick_size=1.0, lot_size=1.0, funding=fund))
    assert list(res.funding["amount"]) == [pytest.approx(-10.0, rel=1e-12)]
    assert res.pnl["funding"] == pytest.approx(-10.0, rel=1e-12)
    check_split(res.pnl)
    # short 1,000 contracts of 10 USD (inverse) at the mid 20,000: receives 1e-4 x 10,000 USD
    # / 20,000 = 5e-5 coin
    ev = market((19_999.0, 20_001.0), (19_999.0, 20_001.0))
    res = DRIVERS[driver](ev, script((100, -1, 19_999.0, 1000.0)),
                          **settings_(tick_size=1.0, lot_size=1.0, multiplier=10.0,
                                      inverse=True, funding=fund))
    assert res.pnl["funding"] == pytest.approx(5e-5, rel=1e-12)
    check_split(res.pnl)


def test_fees_from_the_instrument_master():
    """``instrument=`` takes the fee schedule of ``instruments.toml``: the BTCUSDT perpetual's
    maker fee on a fill equals the instrument's own ``fee``."""
    from mmlab.data import get_instrument

    perp = get_instrument("BINANCE_USDM:BTCUSDT")
    ev = market((59_999.0, 60_002.0), (59_999.0, 60_002.0), trades=[(200, -1, 59_999.0, 1.0)])
    res = run(ev, script((100, 1, 60_000.0, 0.01)), instrument=perp,
              **settings_(max_position=1.0))
    assert not res.inverse and len(res.fills) == 1
    assert res.fills["fee"].iloc[0] == pytest.approx(perp.fee(60_000.0, 0.01, maker=True),
                                                     rel=1e-12)


# ----------------------------------------------------------------------------- property
fills = st.lists(
    st.one_of(
        st.tuples(st.just("fill"), st.sampled_from([1, -1]), st.floats(0.001, 50),
                  st.floats(90, 110), st.booleans(), st.floats(90, 110)),
        st.tuples(st.just("mark"), st.floats(90, 110)),
    ),
    max_size=60,
)


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(fills, st.booleans(), st.floats(-0.0002, 0.001), st.floats(0, 0.001),
       st.floats(0, 0.01))
def test_account_identities(evs, inverse, maker_fee, taker_fee, per_contract):
    """The account primitives (``mark``, ``book_fill``) over random fills and marks: the
    position is the sum of the fills, the cash their flows, the fees their fees, and the split
    (spread + inventory - fees) equals cash + position x value(last mark) - fees."""
    mult = 10.0
    settings = L.record(L.SETTINGS_DTYPE)
    settings["mult"], settings["maker"], settings["taker"] = mult, maker_fee, taker_fee
    settings["perc"], settings["inverse"] = per_contract, int(inverse)
    acc = L.record(L.ACCOUNT_DTYPE)
    acc["mark"] = math.nan
    sc = L.record(L.SCALARS_DTYPE)
    n = max(1, len(evs))
    fills = np.zeros(n, dtype=L.FILL_DTYPE)
    orders = np.zeros(1, dtype=L.ORDER_DTYPE)
    x = (lambda p: -mult / p) if inverse else (lambda p: mult * p)
    pos = flows = fees = 0.0
    for e in evs:
        if e[0] == "mark":
            P.mark(acc, sc, e[1], settings)
            continue
        _, side, qty, px, maker, mid = e
        P.book_fill(acc, sc, fills, 0, orders, side, qty, px, int(maker), 0, 0, mid, settings)
        pos += side * qty
        flows -= side * qty * x(px)
        fees += (maker_fee if maker else taker_fee) * abs(qty * x(px)) + per_contract * qty
    assert math.isclose(acc["pos"], pos, abs_tol=1e-9)
    assert math.isclose(acc["cash"], flows, rel_tol=1e-12, abs_tol=1e-9)
    assert math.isclose(acc["fees"], fees, rel_tol=1e-12, abs_tol=1e-12)
    assert math.isclose(float(fills[: sc["nfills"]]["fee"].sum()), fees, rel_tol=1e-9,
                        abs_tol=1e-12)
    mark = acc["mark"]
    total = flows + (pos * x(mark) if math.isfinite(mark) else 0.0) - fees
    parts = acc["spread"] + acc["inv"] - acc["fees"]
    assert math.isclose(parts, total, rel_tol=1e-9, abs_tol=1e-9)
