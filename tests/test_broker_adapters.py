"""The live venue adapters as venue adapters of the trading core (``CcxtVenue``, ``IbkrVenue``):
REQUEST_DTYPE rows in -> the right client calls; the client's answers -> the right
RESPONSE_DTYPE rows; the gate at order time; and the local side (``LoopbackDriver``) driven end
to end against a fake exchange. Fake ccxt / ib_async objects only: nothing reaches the network.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from mmlab.backtest import REQUEST_DTYPE, RESPONSE_DTYPE, GridStrategy, LoopbackDriver
from mmlab.broker import (
    LIVE_ENV,
    CcxtVenue,
    ContractSpec,
    IbkrVenue,
    LiveTradingDisabled,
    VenueConfig,
)
from mmlab.data import TRADE_EVENT, get_instrument, synthetic
from mmlab.errors import ConfigError

LIVE = VenueConfig("ccxt", mode="live", exchange_id="binanceusdm")
IB_LIVE = VenueConfig("ibkr", mode="live", account="DU1234567")
NEW, CANCEL, MODIFY = 1, 2, 3
ACK, FILL, CANCELLED, REJECTED, CANCEL_REJECTED, MODIFIED, MODIFY_REJECTED = range(1, 8)
# BINANCE_USDM:BTCUSDT in the shipped instrument master: tick 0.1, lot 0.001, 2 / 5 bps
BTC = get_instrument("BINANCE_USDM:BTCUSDT")


@pytest.fixture(autouse=True)
def live_env(monkeypatch):
    monkeypatch.setenv(LIVE_ENV, "1")
    return monkeypatch


class Clock:
    """A local clock (ns): ``base`` set by the test, strictly increasing across calls."""

    def __init__(self, base=1_000):
        self.base, self.t = base, base - 1

    def __call__(self):
        self.t = max(self.t + 1, self.base)
        return self.t


class FakeExchange:
    """A ccxt exchange keeping our orders; :meth:`trade` fills every open order a trade at
    ``px`` reaches (buys at or above it, sells at or below), in full, at the order's price."""

    def __init__(self, fee_ccy="USDT", fee_rate=0.0002):
        self.calls, self.orders, self.trades = [], {}, []
        self.fee_ccy, self.fee_rate, self.fail, self.last = fee_ccy, fee_rate, None, None

    def create_order(self, symbol, kind, side, amount, price, params):
        self.calls.append(("create", symbol, kind, side, amount, price, dict(params)))
        if self.fail:
            raise RuntimeError(self.fail)
        vid = f"v{len(self.orders) + 1}"
        o = dict(id=vid, side=side, price=price, amount=amount, filled=0.0, status="open")
        crosses = self.last is not None and (price >= self.last if side == "buy"
                                             else price <= self.last)
        if crosses and params.get("postOnly"):
            o["status"] = "expired"
        self.orders[vid] = o
        if crosses and not params.get("postOnly"):
            self._fill(o, "taker")
        return dict(o)

    def edit_order(self, vid, symbol, kind, side, amount, price, params):
        self.calls.append(("edit", vid, side, amount, price, dict(params)))
        o = self.orders.get(vid)
        if o is None or o["status"] != "open":
            raise RuntimeError(f"OrderNotFound: {vid}")
        o.update(price=price, amount=o["filled"] + amount)
        return dict(o)

    def cancel_order(self, vid, symbol):
        self.calls.append(("cancel", vid))
        o = self.orders.get(vid)
        if o is None or o["status"] != "open":
            raise RuntimeError(f"OrderNotFound: Unknown order sent ({vid})")
        o["status"] = "canceled"
        return dict(o)

    def fetch_my_trades(self, symbol, since):
        return list(self.trades)

    def fetch_open_orders(self, symbol):
        return [dict(o) for o in self.orders.values() if o["status"] == "open"]

    def fetch_order(self, vid, symbol):
        return dict(self.orders[vid])

    def trade(self, px):
        self.last = px
        for o in self.orders.values():
            if o["status"] == "open" and (o["price"] >= px if o["side"] == "buy"
                                          else o["price"] <= px):
                self._fill(o, "maker")

    def _fill(self, o, role, qty=None):
        q = o["amount"] - o["filled"] if qty is None else qty
        o["filled"] += q
        if o["filled"] >= o["amount"] - 1e-12:
            o["status"] = "closed"
        fee = self.fee_rate * q * o["price"]
        self.trades.append({"id": f"t{len(self.trades) + 1}", "order": o["id"], "amount": q,
                            "price": o["price"], "takerOrMaker": role,
                            "fee": {"cost": fee, "currency": self.fee_ccy}})


def _req(*rows):
    """REQUEST_DTYPE rows from (kind, order_id, side, price_tick, qty[, post_only])."""
    out = np.zeros(len(rows), REQUEST_DTYPE)
    for i, r in enumerate(rows):
        kind, oid, side, tick, qty, *post = r
        out[i] = (10 * i, kind, oid, side, tick, qty, bool(post and post[0]), i)
    return out


def _rows(v):
    out = v.responses()
    assert out.dtype == RESPONSE_DTYPE
    return [(int(r["kind"]), int(r["order_id"]), float(r["qty"]), float(r["cash"]))
            for r in out]


def _ccxt(fake=None, spec=BTC, **kw):
    kw.setdefault("poll_every", 0)
    return CcxtVenue(LIVE, "BTC/USDT:USDT", spec, exchange=fake or FakeExchange(), **kw)


# ---------------------------------------------------------------------------------- ccxt
def test_requests_become_the_right_ccxt_calls():
    fake = FakeExchange()
    v = _ccxt(fake)
    v.submit(_req((NEW, 7, 1, 599_999, 0.012, True), (NEW, 8, -1, 600_001, 0.0120000001)))
    assert fake.calls == [
        ("create", "BTC/USDT:USDT", "limit", "buy", 0.012, 59_999.9,
         {"clientOrderId": "mmlab-7", "postOnly": True}),
        ("create", "BTC/USDT:USDT", "limit", "sell", 0.012, 60_000.1,
         {"clientOrderId": "mmlab-8"})]  # qty put on the lot grid, no post-only asked
    v.submit(_req((MODIFY, 7, 1, 599_990, 0.005), (CANCEL, 8, 0, 0, 0.0)))
    assert fake.calls[2:] == [("edit", "v1", "buy", 0.005, 59_999.0, {"postOnly": True}),
                              ("cancel", "v2")]
    assert [r[:2] for r in _rows(v)] == [(ACK, 7), (ACK, 8), (MODIFIED, 7), (CANCELLED, 8)]


def test_responses_stamped_by_the_clock_in_sequence():
    clock = Clock(5_000)
    v = _ccxt(now=clock)
    v.submit(_req((NEW, 1, 1, 599_999, 0.01), (NEW, 2, -1, 600_001, 0.01)))
    out = v.responses()
    assert 5_000 <= out["ts"][0] < out["ts"][1] <= clock.t and np.all(np.diff(out["seq"]) > 0)
    assert v.horizon() == clock.t  # live: the venue may answer at any moment from now
    assert len(v.responses()) == 0  # each once


def test_partial_fill_cash_by_hand_with_the_venue_fee():
    fake = FakeExchange(fee_rate=0.0002)
    v = _ccxt(fake)
    v.submit(_req((NEW, 1, -1, 600_000, 0.010)))
    _rows(v)
    fake._fill(fake.orders["v1"], "maker", qty=0.004)
    v.advance(0)
    [(kind, oid, qty, cash)] = _rows(v)
    # a sell of 0.004 at 60000: +0.004 x 60000 = +240 USDT, less the venue's fee
    # 0.0002 x 240 = 0.048 USDT (reported in USDT, the settlement currency): 239.952
    assert (kind, oid, qty) == (FILL, 1, pytest.approx(0.004))
    assert cash == pytest.approx(239.952, abs=1e-9)
    v.advance(0)
    assert _rows(v) == []  # each trade once


def test_modelled_fee_when_the_venue_charges_another_currency():
    fake = FakeExchange(fee_ccy="BNB", fee_rate=1e-6)
    v = _ccxt(fake)
    v.submit(_req((NEW, 1, 1, 600_000, 0.010)))
    fake.trade(60_000.0)  # our buy at 60000 filled as a maker
    v.advance(0)
    fills = [r for r in _rows(v) if r[0] == FILL]
    # -0.01 x 60000 = -600 USDT; the instrument's maker fee 2 bps of 600 = 0.12: -600.12
    assert fills == [(FILL, 1, pytest.approx(0.01), pytest.approx(-600.12, abs=1e-9))]
    assert v.orders[1].state == "done"


def test_inverse_contract_cash_by_hand():
    spec = ContractSpec(tick=0.5, lot=1.0, multiplier=100.0, inverse=True, maker_fee=-0.0001,
                        settle_ccy="BTC")
    fake = FakeExchange(fee_ccy="USD")  # not BTC: the modelled (rebate) fee applies
    v = CcxtVenue(LIVE, "BTC/USD:BTC", spec, exchange=fake, poll_every=0)
    v.submit(_req((NEW, 1, 1, 100_000, 3.0)))
    fake.trade(50_000.0)
    v.advance(0)
    [fill] = [r for r in _rows(v) if r[0] == FILL]
    # value(p) = -100 / 50000 = -0.002 BTC; buy 3: cash = -(1)(3)(-0.002) = +0.006 BTC,
    # fee = -0.0001 x |3 x -0.002| = -6e-7 (a rebate): cash 0.0060006
    assert fill[2] == 3.0 and fill[3] == pytest.approx(0.0060006, abs=1e-15)


def test_cancel_after_an_unheard_fill_answers_the_fill_first():
    fake = FakeExchange()
    v = _ccxt(fake, poll_every=10**12)  # no poll from advance: only the cancel's own
    v.submit(_req((NEW, 1, 1, 599_000, 0.010)))
    _rows(v)
    fake._fill(fake.orders["v1"], "maker", qty=0.003)
    v.submit(_req((CANCEL, 1, 0, 0, 0.0)))
    assert [r[:3] for r in _rows(v)] == [(FILL, 1, pytest.approx(0.003)), (CANCELLED, 1, 0.0)]
    v.submit(_req((CANCEL, 1, 0, 0, 0.0), (CANCEL, 99, 0, 0, 0.0)))  # gone, never known
    assert [r[:2] for r in _rows(v)] == [(CANCEL_REJECTED, 1), (CANCEL_REJECTED, 99)]
    assert fake.calls[-1] == ("cancel", "v1")  # the two last were answered here


def test_cancel_of_a_filled_order_is_cancel_rejected_and_the_fill_arrives():
    fake = FakeExchange()
    v = _ccxt(fake, poll_every=10**12)
    v.submit(_req((NEW, 1, -1, 600_000, 0.010)))
    _rows(v)
    fake.trade(60_000.0)
    v.submit(_req((CANCEL, 1, 0, 0, 0.0)))
    assert [r[:2] for r in _rows(v)] == [(CANCEL_REJECTED, 1)]
    assert "OrderNotFound" in v.reasons[1]
    v.poll()
    assert [r[:2] for r in _rows(v)] == [(FILL, 1)]


def test_exchange_error_is_a_reject_and_modify_errors_are_modify_rejected():
    fake = FakeExchange()
    v = _ccxt(fake)
    fake.fail = "InvalidOrder: Order would immediately match and take"
    v.submit(_req((NEW, 1, 1, 599_999, 0.01)))
    fake.fail = None
    v.submit(_req((NEW, 2, 1, 599_990, 0.01)))
    fake.orders["v1"]["status"] = "canceled"  # the venue dropped it behind our back
    v.submit(_req((MODIFY, 2, 1, 599_980, 0.01)))
    assert [r[:2] for r in _rows(v)] == [(REJECTED, 1), (ACK, 2), (MODIFY_REJECTED, 2)]
    assert "would immediately match" in v.reasons[1] and "OrderNotFound" in v.reasons[2]
    v.submit(_req((MODIFY, 1, 1, 599_980, 0.01)))  # a rejected order cannot be modified
    assert [r[:2] for r in _rows(v)] == [(MODIFY_REJECTED, 1)]
    assert [c[0] for c in fake.calls] == ["create", "create", "edit"]


def test_venue_side_end_is_cancelled_and_post_only_crossing_never_rests():
    fake = FakeExchange()
    v = _ccxt(fake)
    fake.trade(60_000.0)
    v.submit(_req((NEW, 1, 1, 600_100, 0.01, True), (NEW, 2, 1, 599_000, 0.01)))
    # the post-only buy above the last trade would cross: the venue expires it on entry
    assert [r[:2] for r in _rows(v)] == [(ACK, 1), (CANCELLED, 1), (ACK, 2)]
    fake.orders["v2"]["status"] = "expired"  # e.g. the exchange's self-trade prevention
    v.advance(0)
    assert [r[:2] for r in _rows(v)] == [(CANCELLED, 2)]
    assert "expired by the venue" in v.reasons[2]


def test_polling_is_paced_and_a_poll_error_does_not_stop_the_session():
    clock = Clock(0)
    fake = FakeExchange()
    v = _ccxt(fake, now=clock, poll_every=1_000_000)
    v.submit(_req((NEW, 1, 1, 600_000, 0.01)))
    v.advance(0)
    fake.trade(60_000.0)
    v.advance(0)  # within poll_every of the last poll: not heard yet
    assert [r[0] for r in _rows(v)] == [ACK]
    clock.base = 2_000_000
    fake.fetch_my_trades = lambda *a: (_ for _ in ()).throw(ConnectionError("timeout apiKey=x"))
    v.advance(0)
    assert v.poll_error is not None and "apiKey=x" not in v.poll_error
    del fake.fetch_my_trades
    clock.base = 4_000_000
    v.advance(0)
    assert v.poll_error is None and [r[0] for r in _rows(v)] == [FILL]


def test_malformed_requests_are_typed_errors_and_nothing_is_sent():
    fake = FakeExchange()
    v = _ccxt(fake)
    with pytest.raises(ConfigError, match=r"requests row 1 \(order 2\): side"):
        v.submit(_req((NEW, 1, 1, 600_000, 0.01), (NEW, 2, 0, 600_000, 0.01)))
    with pytest.raises(ConfigError, match=r"row 0 \(order 3\): qty must be at least one lot"):
        v.submit(_req((NEW, 3, 1, 600_000, 0.0004)))
    with pytest.raises(ConfigError, match="modify of an order never sent"):
        v.submit(_req((MODIFY, 4, 1, 600_000, 0.01)))
    with pytest.raises(ConfigError, match="REQUEST_DTYPE"):
        v.submit(np.zeros(2))
    assert fake.calls == [] and v.responses().size == 0


@pytest.mark.parametrize("venue", ["ccxt", "ibkr"])
def test_the_gate_refuses_at_order_time(live_env, venue):
    """Refused at order time: a rejected response, the refusal raised, no call reaches the
    client."""
    fake, ib = FakeExchange(), FakeIB()
    v = _ccxt(fake) if venue == "ccxt" else IbkrVenue(IB_LIVE, "SPY", ContractSpec(0.01, 1.0),
                                                       ib=ib)
    live_env.delenv(LIVE_ENV)
    with pytest.raises(LiveTradingDisabled, match="MMLAB_LIVE=1") as e:
        v.submit(_req((NEW, 1, 1, 45_000, 1.0)))
    assert e.value.order_id == 1 and e.value.action == "submit"
    assert [r[:2] for r in _rows(v)] == [(REJECTED, 1)]
    assert fake.calls == [] and ib.placed == []


# ---------------------------------------------------------------------------------- IBKR
class _Event(list):
    def __iadd__(self, fn):
        self.append(fn)
        return self

    def emit(self, *args):
        for fn in list(self):
            fn(*args)


class FakeIB:
    def __init__(self):
        self.orderStatusEvent, self.execDetailsEvent, self.errorEvent = (
            _Event(), _Event(), _Event())
        self.placed, self.cancelled, self._next, self.slept = [], [], 100, 0

    def placeOrder(self, contract, order):
        if not getattr(order, "orderId", 0):
            self._next += 1
            order.orderId = self._next
        self.placed.append((order.orderId, order.action, order.totalQuantity, order.lmtPrice,
                            order.tif, order.orderRef))
        return SimpleNamespace(order=order,
                               orderStatus=SimpleNamespace(status="PendingSubmit", filled=0.0))

    def cancelOrder(self, order):
        self.cancelled.append(order.orderId)

    def sleep(self, secs):
        self.slept += 1


def _status(ib, trade, status, filled=None):
    trade.orderStatus.status = status
    if filled is not None:
        trade.orderStatus.filled = filled
    ib.orderStatusEvent.emit(trade)


def _exec(ib, trade, eid, shares, price, commission=None, ccy="USD"):
    report = None if commission is None else SimpleNamespace(commission=commission, currency=ccy)
    ib.execDetailsEvent.emit(trade, SimpleNamespace(
        execution=SimpleNamespace(execId=eid, shares=shares, price=price),
        commissionReport=report))


SPY = ContractSpec(tick=0.01, lot=1.0, taker_fee=0.0, maker_fee=0.00002, settle_ccy="USD")


def test_ibkr_requests_answers_and_modify_by_re_placing():
    ib, clock = FakeIB(), Clock(100)
    v = IbkrVenue(IB_LIVE, "SPY", SPY, ib=ib, now=clock)
    v.submit(_req((NEW, 1, 1, 44_990, 10.0, True), (NEW, 2, -1, 45_010, 10.0)))
    assert ib.placed == [(101, "BUY", 10.0, 449.9, "GTC", "mmlab-1"),
                         (102, "SELL", 10.0, 450.1, "GTC", "mmlab-2")]
    buy, sell = v.orders[1].venue["trade"], v.orders[2].venue["trade"]
    _status(ib, buy, "Submitted")
    _status(ib, sell, "Inactive")  # refused by TWS before any ack
    v.advance(0)
    assert ib.slept == 1  # ib_async's loop was given its turn
    _exec(ib, buy, "e1", 4.0, 449.9)  # no commission yet: the modelled maker fee
    _exec(ib, buy, "e1", 4.0, 449.9)  # a duplicate: once
    rows = _rows(v)
    assert [r[:3] for r in rows] == [(ACK, 1, 0.0), (REJECTED, 2, 0.0), (FILL, 1, 4.0)]
    # buy 4 at 449.9: -1799.6 USD; fee 0.2 bp of 1799.6 = 0.035992: -1799.635992
    assert rows[2][3] == pytest.approx(-1799.635992, abs=1e-9)
    # a modify re-places the same IB order: new price and the new total quantity the wire
    # carries (filled 4 + new leaves 3 = 7, IB's totalQuantity); modified answers the leaves, 3
    v.submit(_req((MODIFY, 1, 1, 44_980, 7.0)))
    assert ib.placed[-1] == (101, "BUY", 7.0, 449.8, "GTC", "mmlab-1")
    assert _rows(v)[0][:3] == (MODIFIED, 1, 3.0)
    _exec(ib, buy, "e2", 1.0, 449.8, commission=0.35)  # TWS's commission, in USD: used
    assert _rows(v)[0][3] == pytest.approx(-449.8 - 0.35, abs=1e-9)
    # cancel: answered when TWS says Cancelled, and only after the fills it counts
    v.submit(_req((CANCEL, 1, 0, 0, 0.0)))
    assert ib.cancelled == [101] and _rows(v) == []
    _status(ib, buy, "Cancelled", filled=6.0)  # one more share filled than we heard of
    assert _rows(v) == []
    _exec(ib, buy, "e3", 1.0, 449.8)
    assert [r[:2] for r in _rows(v)] == [(FILL, 1), (CANCELLED, 1)]


def test_ibkr_errors_and_cancel_rejects():
    ib = FakeIB()
    v = IbkrVenue(IB_LIVE, "SPY", SPY, ib=ib)
    v.submit(_req((NEW, 1, 1, 44_990, 10.0), (NEW, 2, 1, 44_980, 10.0)))
    t1, t2 = v.orders[1].venue["trade"], v.orders[2].venue["trade"]
    ib.errorEvent.emit(102, 2104, "Market data farm connection is OK", None)  # a notice
    ib.errorEvent.emit(102, 201, "Order rejected - reason: margin", None)
    _status(ib, t1, "Submitted")
    v.submit(_req((CANCEL, 1, 0, 0, 0.0)))
    ib.errorEvent.emit(101, 161, "Cancel attempted when order is not in a cancellable state",
                       None)
    assert [r[:2] for r in _rows(v)] == [(REJECTED, 2), (ACK, 1), (CANCEL_REJECTED, 1)]
    assert "margin" in v.reasons[2] and v.orders[1].state == "working"
    _exec(ib, t1, "e9", 10.0, 449.9)
    assert [r[:2] for r in _rows(v)] == [(FILL, 1)] and v.orders[1].state == "done"
    assert t2.order.orderId == 102
    ib.sleep = lambda secs: (_ for _ in ()).throw(ConnectionError("socket closed token=abc123"))
    v.advance(0)  # a client failure while listening is kept (redacted), not raised
    assert "socket closed" in v.poll_error and "abc123" not in v.poll_error


# ---------------------------------------------------------------------------------- end to end
@pytest.mark.parametrize("modify", [False, True], ids=["cancel-new", "modify"])
def test_the_local_side_trades_end_to_end_through_a_live_adapter(modify):
    """LoopbackDriver(strategy, venue=CcxtVenue(fake)): the core's local side decides on the
    recording, its requests become create/cancel calls, the fake fills the orders the market
    trades through, and the fills come back as responses: the position the local side has
    heard of is the sum of the fake's fills, its cash the hand-computed cash of each."""
    ev = synthetic.synthetic_l2_events(session_seconds=120, seed=11)
    spec = ContractSpec(tick=0.01, lot=1.0, maker_fee=0.0002, taker_fee=0.0005,
                        settle_ccy="USDT")
    fake, clock = FakeExchange(fee_rate=0.0002), Clock(0)
    sent = []

    class Recording(CcxtVenue):
        def submit(self, requests):
            sent.extend(requests.tolist())
            super().submit(requests)

    venue = Recording(LIVE, "X/USDT:USDT", spec, exchange=fake, now=clock, poll_every=0)
    end = int(ev["local_ts"].max())
    d = LoopbackDriver(GridStrategy(half_spread=0.01, order_qty=1.0, levels=2),
                       session_end=end + 10 * 10**9, venue=venue,
                       tick_size=0.01, lot_size=1.0, max_position=5.0, roi=(90.0, 110.0),
                       modify_orders=modify)
    trade = (ev["ev"] & 0xFF) == TRADE_EVENT
    for i in range(0, len(ev), 250):
        batch = ev[i:i + 250]
        clock.base = int(batch["local_ts"].max()) + 1
        d.feed(batch)
        for px in batch["px"][trade[i:i + 250]]:  # the market reaches our resting orders
            fake.trade(float(px))
    # the session goes on past the recording: the last fills are heard (stamped by the
    # clock) and taken by the local side once its time passes them
    clock.base = end + 1_000
    d.advance_to(end + 10**6)
    assert int(d.local._job.state.sc["nresp"]) == 0  # every response taken
    fills = fake.trades
    assert len(fills) >= 20, len(fills)
    assert d.n_requests == len(sent)
    # every new request became one create call: side, price = price_tick x tick, qty, id
    news = [r for r in sent if r[1] == NEW]
    creates = [c for c in fake.calls if c[0] == "create"]
    assert [(c[3], c[4], c[5], c[6]["clientOrderId"]) for c in creates] == [
        ("buy" if r[3] > 0 else "sell", r[5], pytest.approx(r[4] * 0.01), f"mmlab-{r[2]}")
        for r in news]
    assert len(creates) > len(fills)
    # a modify the venue could act on became one edit call: the order's venue id, the new
    # price and the new total quantity (the others: of an order already gone, answered by the
    # adapter)
    mods = [r for r in sent if r[1] == MODIFY]
    edits = [c for c in fake.calls if c[0] == "edit"]
    assert (len(edits) > 0) == modify and len(edits) <= len(mods)
    vid = {int(c[6]["clientOrderId"][6:]): f"v{k + 1}" for k, c in enumerate(creates)}
    by_vid = {}
    for r in mods:
        by_vid.setdefault(vid[r[2]], []).append((pytest.approx(r[4] * 0.01), r[5]))
    for c in edits:
        assert (c[4], c[3]) in by_vid[c[1]]
    # a cancel reaches the exchange unless the order had already ended there (answered
    # cancel_rejected by the adapter itself)
    n_cancel = sum(r[1] == CANCEL for r in sent)
    assert 0 < sum(c[0] == "cancel" for c in fake.calls) <= n_cancel
    sides = {o["id"]: (1 if o["side"] == "buy" else -1) for o in fake.orders.values()}
    pos = sum(sides[t["order"]] * t["amount"] for t in fills)
    cash = sum(-sides[t["order"]] * t["amount"] * t["price"] - t["fee"]["cost"] for t in fills)
    assert d.position == pytest.approx(pos, abs=1e-12)
    assert float(d.local._job.state.acc["lcash"]) == pytest.approx(cash, abs=1e-9)
    assert abs(pos) <= 5.0  # the local side's hard limit held
    # the venue rests exactly the orders the local side holds live, no more than the
    # strategy's two levels a side plus one the last decision could not cancel yet (an order
    # pending its ack is cancelled at the next decision)
    resting = sorted((1 if o["side"] == "buy" else -1, round(o["price"] / 0.01))
                     for o in fake.fetch_open_orders("X/USDT:USDT"))
    orders = d.local._job.state.orders
    live = orders[orders["lo_state"] != 0]
    assert resting == sorted((int(o["side"]), int(o["ltick"])) for o in live)
    assert max((live["side"] == 1).sum(), (live["side"] == -1).sum()) <= 3
    with pytest.raises(ConfigError, match="live venue"):
        d.finish()


def _session(seed, **kw):
    ev = synthetic.synthetic_l2_events(session_seconds=60, seed=seed)
    end = int(ev["local_ts"].max())
    fake, clock = FakeExchange(fee_rate=0.0), Clock(0)
    venue = CcxtVenue(LIVE, "X/USDT:USDT", ContractSpec(tick=0.01, lot=1.0), exchange=fake,
                      now=clock, poll_every=0)
    d = LoopbackDriver(GridStrategy(half_spread=0.01, order_qty=1.0, levels=2),
                       session_end=end + 10 * 10**9, venue=venue, tick_size=0.01,
                       lot_size=1.0, max_position=5.0, roi=(90.0, 110.0))
    return ev, end, fake, clock, venue, d


def _feed(d, fake, clock, ev, i, n=250):
    """One batch: the clock at its last row, the local side fed, the market trades."""
    batch = ev[i:i + n]
    clock.base = int(batch["local_ts"].max()) + 1
    d.feed(batch)
    for px in batch["px"][(batch["ev"] & 0xFF) == TRADE_EVENT]:
        fake.trade(float(px))


def _position(fake):
    sides = {o["id"]: (1 if o["side"] == "buy" else -1) for o in fake.orders.values()}
    return sum(sides[t["order"]] * t["amount"] for t in fake.trades)


def test_unset_mid_session_through_the_local_side(live_env):
    """MMLAB_LIVE unset in the middle of a session driven by the local side: no order is
    created or amended from then on (each refusal raised out of ``feed`` and answered
    ``rejected`` to the local side), cancels still go out; the position heard still equals
    the fills."""
    ev, end, fake, clock, venue, d = _session(5)
    half, n_raised = len(ev) // 2, 0
    for i in range(0, half, 250):
        _feed(d, fake, clock, ev, i)
    live_env.delenv(LIVE_ENV)
    created = len(fake.calls) - sum(c[0] == "cancel" for c in fake.calls)
    n_cancel_before = sum(c[0] == "cancel" for c in fake.calls)
    for i in range(half - half % 250, len(ev), 250):
        try:
            _feed(d, fake, clock, ev, i)
        except LiveTradingDisabled:
            n_raised += 1
    cancels = sum(c[0] == "cancel" for c in fake.calls) - n_cancel_before
    assert len(fake.calls) - sum(c[0] == "cancel" for c in fake.calls) == created
    assert n_raised > 0 and len(venue.refused) >= n_raised and cancels > 0
    assert all(x.action == "submit" for x in venue.refused)
    clock.base = end + 1_000
    try:
        d.advance_to(end + 10**6)  # the strategy may still try to quote: refused again
    except LiveTradingDisabled:
        pass
    assert d.position == _position(fake)


def test_the_kill_switch_takes_every_resting_order_off_the_exchange():
    ev, end, fake, clock, venue, d = _session(6)
    half = (len(ev) // 2) // 250 * 250
    for i in range(0, half, 250):
        _feed(d, fake, clock, ev, i)
    while not fake.fetch_open_orders("X/USDT:USDT"):  # the kill while orders rest there
        _feed(d, fake, clock, ev, half)
        half += 250
    assert half < len(ev) and len(fake.fetch_open_orders("X/USDT:USDT")) > 0
    d.kill()
    n_created = sum(c[0] == "create" for c in fake.calls)
    for i in range(half, len(ev), 250):
        _feed(d, fake, clock, ev, i)
    assert sum(c[0] == "create" for c in fake.calls) == n_created  # nothing sent after
    assert fake.fetch_open_orders("X/USDT:USDT") == [] and d.halted
    clock.base = end + 1_000
    d.advance_to(end + 10**6)
    assert d.position == _position(fake)
