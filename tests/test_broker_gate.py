"""The live-trading gate: paper by default, live only with a live config AND MMLAB_LIVE=1.
Adapters are exercised with fake exchange / IB objects: no test reaches the network."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from mmlab.broker import (
    CcxtVenue,
    IbkrVenue,
    LiveTradingDisabled,
    VenueConfig,
    credentials_from_env,
    live_allowed,
)
from mmlab.errors import ConfigError
from mmlab.execution import Ledger, OrderManager, OrderStatus
from mmlab.quoting import Quote
from mmlab.risk import RiskLimits, RiskManager

LIVE = VenueConfig("ccxt", mode="live", exchange_id="binanceusdm")
ON = {"MMLAB_LIVE": "1"}


class FakeExchange:
    def __init__(self, fail=False):
        self.calls, self.fail, self.trades = [], fail, []

    def create_order(self, symbol, kind, side, amount, price, params):
        self.calls.append(("create", symbol, kind, side, amount, price, dict(params)))
        if self.fail:
            raise RuntimeError("Order would immediately match and take")
        return {"id": f"v{len(self.calls)}", "status": "open"}

    def edit_order(self, vid, symbol, kind, side, amount, price, params):
        self.calls.append(("edit", vid, price, amount))
        return {"id": vid}

    def cancel_order(self, vid, symbol):
        self.calls.append(("cancel", vid))
        return {"id": vid}

    def fetch_my_trades(self, symbol, since):
        return list(self.trades)


def _om(venue):
    om = OrderManager(venue, RiskManager(RiskLimits(max_position=1.0)), Ledger(), symbol="BTCUSDT",
                      tick_size=0.1, lot_size=0.001)
    venue.attach(om)
    return om


def test_paper_is_the_default():
    cfg = VenueConfig()
    assert cfg.venue == "paper" and cfg.mode == "paper"
    assert not live_allowed(VenueConfig("ccxt", exchange_id="binanceusdm"), environ=ON)


@pytest.mark.parametrize(("cfg", "env", "words"), [
    (VenueConfig("ccxt", exchange_id="binanceusdm"), ON, "mode='paper'"),
    (LIVE, {}, "MMLAB_LIVE=1"),
    (LIVE, {"MMLAB_LIVE": "yes"}, "MMLAB_LIVE=1"),
])
def test_ccxt_refuses_without_both_unlocks(cfg, env, words):
    fake = FakeExchange()
    with pytest.raises(LiveTradingDisabled, match=words):
        CcxtVenue(cfg, "BTC/USDT:USDT", exchange=fake, environ=env)
    assert fake.calls == []


def test_ibkr_refuses_without_both_unlocks():
    with pytest.raises(LiveTradingDisabled):
        IbkrVenue(VenueConfig("ibkr"), contract=None, ib=object(), environ=ON)
    with pytest.raises(LiveTradingDisabled):
        IbkrVenue(VenueConfig("ibkr", mode="live"), contract=None, ib=object(), environ={})


def test_ccxt_live_orders_translate_and_answer():
    fake = FakeExchange()
    env = dict(ON)
    v = CcxtVenue(LIVE, "BTC/USDT:USDT", exchange=fake, environ=env)
    om = _om(v)
    om.update(Quote(59_999.96, 60_000.04, 0.01, 0.01), now=0, mid=60_000.0)
    create = [c for c in fake.calls if c[0] == "create"]
    assert create[0][1:6] == ("BTC/USDT:USDT", "limit", "buy", 0.01, pytest.approx(59_999.9))
    assert create[0][6] == {"clientOrderId": "mmlab-1", "postOnly": True}
    assert all(o.status is OrderStatus.WORKING for o in om.live_orders())
    # a fill reported by the exchange reaches the manager once, however often we poll
    fake.trades = [{"id": "t1", "order": "v1", "amount": 0.004, "price": 59_999.9,
                    "takerOrMaker": "maker", "timestamp": 1_700_000_000_000}]
    assert v.poll(now=1) == 1 and v.poll(now=2) == 0
    assert om.position == pytest.approx(0.004)
    # the environment stops the next order of a running session
    env.pop("MMLAB_LIVE")
    with pytest.raises(LiveTradingDisabled):
        om.update(Quote(59_990.0, 60_010.0, 0.01, 0.01), now=10**10, mid=60_000.0)
    # cancels always go out
    om.cancel_all(now=10**10 + 1)
    assert ("cancel", "v2") in fake.calls


def test_ccxt_exchange_error_is_a_reject():
    v = CcxtVenue(LIVE, "BTC/USDT:USDT", exchange=FakeExchange(fail=True), environ=ON)
    om = _om(v)
    om.update(Quote(59_999.9, 60_000.1, 0.01, 0.01), now=0, mid=60_000.0)
    assert all(o.status is OrderStatus.REJECTED for o in om.orders.values())
    assert "take" in om.orders[1].reason


class _Event(list):
    def __iadd__(self, fn):
        self.append(fn)
        return self

    def emit(self, *args):
        for fn in self:
            fn(*args)


class FakeIB:
    def __init__(self):
        self.orderStatusEvent, self.execDetailsEvent = _Event(), _Event()
        self.placed, self.cancelled, self._next = [], [], 100

    def placeOrder(self, contract, order):
        if not getattr(order, "orderId", 0):
            self._next += 1
            order.orderId = self._next
        self.placed.append((order.action, order.totalQuantity, getattr(order, "lmtPrice", None)))
        return SimpleNamespace(order=order, orderStatus=SimpleNamespace(status="PendingSubmit"))

    def cancelOrder(self, order):
        self.cancelled.append(order.orderId)


def test_ibkr_live_flow_with_fake_ib():
    ib = FakeIB()
    v = IbkrVenue(VenueConfig("ibkr", mode="live"), contract="SPY", ib=ib, environ=ON)
    om = _om(v)
    om.update(Quote(449.96, 450.04, 0.5, 0.5), now=0, mid=450.0)
    assert ib.placed[0] == ("BUY", 0.5, pytest.approx(449.9))
    buy = v._trades[1]
    buy.orderStatus.status = "Submitted"
    ib.orderStatusEvent.emit(buy)
    assert om.orders[1].status is OrderStatus.WORKING
    fill = SimpleNamespace(execution=SimpleNamespace(execId="e1", shares=0.5, price=449.9),
                           time=dt.datetime(2024, 1, 2, tzinfo=dt.UTC))
    ib.execDetailsEvent.emit(buy, fill)
    ib.execDetailsEvent.emit(buy, fill)  # duplicate report: counted once
    assert om.position == pytest.approx(0.5) and om.orders[1].status is OrderStatus.FILLED


def test_credentials_only_from_environment_and_never_printed():
    env = {"MMLAB_BINANCEUSDM_API_KEY": "AKIA1234567890", "MMLAB_BINANCEUSDM_API_SECRET": "topsecret"}
    c = credentials_from_env("binanceusdm", env)
    assert c.secret == "topsecret"
    assert "topsecret" not in repr(c) and "1234567890" not in str(c)
    with pytest.raises(ConfigError, match="MMLAB_BINANCEUSDM_API_SECRET") as e:
        credentials_from_env("binanceusdm", {"MMLAB_BINANCEUSDM_API_KEY": "k"})
    assert "k'" not in str(e.value)
    with pytest.raises(TypeError):
        VenueConfig("ccxt", exchange_id="binanceusdm", secret="x")  # no such field


def test_config_validation():
    with pytest.raises(ConfigError):
        VenueConfig("paper", mode="live")
    with pytest.raises(ConfigError):
        VenueConfig("ccxt")
    with pytest.raises(ConfigError):
        VenueConfig("nyse")
