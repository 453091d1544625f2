"""The live-trading gate: paper by default, live only with a live config AND MMLAB_LIVE=1 in the
process environment at order time. Adapters are exercised with fake exchange / IB objects: no
test reaches the network."""

from __future__ import annotations

import datetime as dt
import inspect
from types import SimpleNamespace

import pytest

from mmlab.broker import (
    LIVE_ENV,
    CcxtVenue,
    IbkrVenue,
    LiveTradingDisabled,
    VenueConfig,
    credentials_from_env,
    gate_order,
    live_allowed,
)
from mmlab.errors import ConfigError
from mmlab.execution import Ledger, OrderManager, OrderStatus
from mmlab.quoting import Quote
from mmlab.risk import RiskLimits, RiskManager
from mmlab.runtime import Journal

LIVE = VenueConfig("ccxt", mode="live", exchange_id="binanceusdm")
IB_LIVE = VenueConfig("ibkr", mode="live", account="DU1234567")


@pytest.fixture
def live_env(monkeypatch):
    """MMLAB_LIVE=1 in the process environment (removed again after the test)."""
    monkeypatch.setenv(LIVE_ENV, "1")
    return monkeypatch


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


_PROTOCOL = ("on_ack", "on_reject", "on_modify_ack", "on_modify_reject", "on_cancel_ack",
             "on_cancel_reject", "on_expire", "on_venue_cancel", "on_fill")


class Answers:
    """A venue-protocol listener (the order manager's ``on_*`` methods) recording every answer."""

    def __init__(self):
        self.log = []
        for name in _PROTOCOL:
            setattr(self, name, lambda *a, _n=name, **k: self.log.append((_n, *a)))


def _order(oid=1, side=1, price=100.0, qty=0.5):
    return SimpleNamespace(order_id=oid, side=SimpleNamespace(value=side), price=price, qty=qty,
                           order_type=SimpleNamespace(value="limit"), tif=SimpleNamespace(value="gtc"))


def _ccxt(fake=None):
    return CcxtVenue(LIVE, "BTC/USDT:USDT", Answers(), exchange=fake or FakeExchange())


def _ibkr(ib=None):
    return IbkrVenue(IB_LIVE, contract="SPY", manager=Answers(), ib=ib or FakeIB())


def _om(venue):
    om = OrderManager(venue, RiskManager(RiskLimits(max_position=1.0)), Ledger(), symbol="BTCUSDT",
                      tick_size=0.1, lot_size=0.001)
    venue.attach(om)
    return om


def test_paper_is_the_default(live_env):
    cfg = VenueConfig()
    assert cfg.venue == "paper" and cfg.mode == "paper"
    assert not live_allowed(VenueConfig("ccxt", exchange_id="binanceusdm"))
    assert live_allowed(LIVE)
    live_env.delenv(LIVE_ENV)
    assert not live_allowed(LIVE)


@pytest.mark.parametrize("cls", [CcxtVenue, IbkrVenue])
def test_no_constructor_argument_can_unlock_the_gate(cls):
    params = inspect.signature(cls).parameters
    assert not any("env" in p for p in params), list(params)  # no environ= back door
    cfg = LIVE if cls is CcxtVenue else IB_LIVE
    client = {"exchange": FakeExchange()} if cls is CcxtVenue else {"ib": FakeIB()}
    with pytest.raises(TypeError):
        cls(cfg, "X", environ={LIVE_ENV: "1"}, **client)
    with pytest.raises(LiveTradingDisabled, match="MMLAB_LIVE=1"):  # the process env decides
        cls(cfg, "X", **client)
    assert not inspect.signature(live_allowed).parameters.keys() - {"config"}


@pytest.mark.parametrize(("mode", "env", "words"), [
    ("paper", "1", "mode='paper'"),
    ("live", None, "MMLAB_LIVE=1"),
    ("live", "yes", "MMLAB_LIVE=1"),
    ("live", "0", "MMLAB_LIVE=1"),
])
def test_adapters_refuse_to_be_built_without_both_unlocks(monkeypatch, mode, env, words):
    if env is None:
        monkeypatch.delenv(LIVE_ENV, raising=False)
    else:
        monkeypatch.setenv(LIVE_ENV, env)
    fake, ib = FakeExchange(), FakeIB()
    with pytest.raises(LiveTradingDisabled, match=words):
        CcxtVenue(VenueConfig("ccxt", mode=mode, exchange_id="binanceusdm"), "BTC/USDT:USDT",
                  exchange=fake)
    with pytest.raises(LiveTradingDisabled, match=words):
        IbkrVenue(VenueConfig("ibkr", mode=mode), contract="SPY", ib=ib)
    assert fake.calls == [] and ib.placed == []


@pytest.mark.parametrize("make", [_ccxt, _ibkr], ids=["ccxt", "ibkr"])
@pytest.mark.parametrize("how", ["unset", "not-1", "paper-config"])
def test_each_adapter_refuses_at_order_time(live_env, make, how):
    """Built with both unlocks; one of them goes away: the next order is refused, nothing sent,
    the manager answered (a reject naming the gate), the refusal raised."""
    v = make()
    client = getattr(v, "exchange", None) or v.ib
    v.submit(_order(1), now=1)  # allowed
    sent_before = list(getattr(client, "calls", None) or client.placed)
    if how == "unset":
        live_env.delenv(LIVE_ENV)
    elif how == "not-1":
        live_env.setenv(LIVE_ENV, "true")
    else:
        object.__setattr__(v, "config", VenueConfig(v.config.venue, exchange_id="binanceusdm"))
    with pytest.raises(LiveTradingDisabled, match="live trading refused") as e:
        v.submit(_order(2, side=-1, price=101.0), now=2)
    assert e.value.action == "submit" and e.value.order_id == 2 and e.value.side == -1
    with pytest.raises(LiveTradingDisabled):
        v.modify(_order(1), 99.0, 0.25, now=3)
    assert list(getattr(client, "calls", None) or client.placed) == sent_before  # nothing sent
    answers = [a for a in v.manager.log if a[1] in (1, 2)]
    assert ("on_reject", 2, 2) == answers[-2][:3] and "live trading refused" in answers[-2][3]
    assert answers[-1][:3] == ("on_modify_reject", 1, 3)
    v.cancel(_order(1), now=4)  # cancels always go out
    assert ("cancel", "v1") in getattr(client, "calls", []) or client.cancelled


def test_a_manager_with_on_refused_gets_the_refusal(live_env):
    class Core:
        def __init__(self):
            self.refused = []

        def on_refused(self, order_id, ts, reason, action):
            self.refused.append((order_id, ts, action, reason))

    fake = FakeExchange()
    v = CcxtVenue(LIVE, "BTC/USDT:USDT", Core(), exchange=fake)
    live_env.delenv(LIVE_ENV)
    with pytest.raises(LiveTradingDisabled):
        v.submit(_order(5), now=9)
    assert v.manager.refused == [(5, 9, "submit", "live trading refused: the environment does "
                                  "not set MMLAB_LIVE=1")]
    assert fake.calls == []


def test_refusal_is_journalled_as_refused_never_as_sent(live_env, tmp_path):
    """The documented caller path: catch the refusal, journal ``exc.refused_event()``."""
    j = Journal(tmp_path / "s.sqlite")
    v = _ccxt()
    live_env.delenv(LIVE_ENV)
    try:
        v.submit(_order(3, price=100.5, qty=0.2), now=7)
    except LiveTradingDisabled as exc:
        j.record(exc.refused_event())
    rows = j.read()
    j.close()
    assert rows[["ts", "kind", "order_id", "status", "price", "qty"]].to_dict("records") == [
        {"ts": 7, "kind": "refused", "order_id": 3, "status": "refused", "price": 100.5,
         "qty": 0.2}]
    assert rows["reason"][0].startswith("submit: live trading refused")


def test_gate_order_passes_when_live(live_env):
    assert gate_order(LIVE, _order(), "submit", 0, symbol="X") is None


def test_unsetting_live_mid_session_leaves_no_order_pending(live_env):
    """The order manager path (issue 11): MMLAB_LIVE unset mid-session, the next new order and the
    next modify are refused; every order ends in a clean state (none pending)."""
    fake = FakeExchange()
    v = CcxtVenue(LIVE, "BTC/USDT:USDT", exchange=fake)
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
    sent = len(fake.calls)
    events = []
    om.bus.subscribe(events.append)
    live_env.delenv(LIVE_ENV)
    # a moved quote: the manager modifies (or replaces) a working order; the gate refuses it
    with pytest.raises(LiveTradingDisabled):
        om.update(Quote(59_990.0, 60_010.0, 0.01, 0.01), now=10**10, mid=60_000.0)
    assert [c[0] for c in fake.calls[sent:]] in ([], ["cancel"])  # at most a cancel went out
    pending = [o.order_id for o in om.orders.values()
               if o.status.value.startswith("pending") or o.pending_modify is not None]
    assert pending == [] or all(o.pending_cancel for o in om.orders.values()
                                if o.order_id in pending), pending
    answers = [(e.kind, e.order_id) for e in events if "live trading refused" in e.reason]
    # the gate's answer to the manager, then the journal's row: refused, never sent
    assert answers in ([("modify_reject", 1), ("refused", 1)],
                       [("reject", 3), ("refused", 3)]), answers
    assert not [e for e in events if e.kind in ("submit", "modify")], events
    assert all(o.status in (OrderStatus.WORKING, OrderStatus.PARTIALLY_FILLED,
                            OrderStatus.REJECTED) for o in om.orders.values())
    om.cancel_all(now=10**10 + 1)  # cancels always go out
    assert any(c[0] == "cancel" for c in fake.calls)


def test_ccxt_exchange_error_is_a_reject(live_env):
    v = CcxtVenue(LIVE, "BTC/USDT:USDT", exchange=FakeExchange(fail=True))
    om = _om(v)
    om.update(Quote(59_999.9, 60_000.1, 0.01, 0.01), now=0, mid=60_000.0)
    assert all(o.status is OrderStatus.REJECTED for o in om.orders.values())
    assert "take" in om.orders[1].reason


def test_ibkr_live_flow_with_fake_ib(live_env):
    ib = FakeIB()
    v = IbkrVenue(VenueConfig("ibkr", mode="live"), contract="SPY", ib=ib)
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


def test_credentials_only_from_environment_and_never_printed(monkeypatch):
    monkeypatch.setenv("MMLAB_BINANCEUSDM_API_KEY", "AKIA1234567890")
    monkeypatch.setenv("MMLAB_BINANCEUSDM_API_SECRET", "topsecret")
    c = credentials_from_env("binanceusdm")
    assert c.secret == "topsecret"
    for text in (repr(c), str(c)):
        assert "topsecret" not in text and "AK" not in text and "90" not in text
    monkeypatch.delenv("MMLAB_BINANCEUSDM_API_SECRET")
    with pytest.raises(ConfigError, match="MMLAB_BINANCEUSDM_API_SECRET") as e:
        credentials_from_env("binanceusdm")
    assert "AKIA" not in str(e.value)
    with pytest.raises(TypeError):
        VenueConfig("ccxt", exchange_id="binanceusdm", secret="x")  # no such field


@pytest.mark.parametrize("account", ["hGt5Kq92LmXc0PzA7wRb", "my_api_key", "password123",
                                     "x" * 40, "has space"])
def test_a_secret_in_the_config_is_refused_without_echo(account):
    with pytest.raises(ConfigError, match="account") as e:
        VenueConfig("ibkr", account=account)
    if account != "has space":
        assert account not in str(e.value)


def test_a_planted_env_secret_in_the_config_is_refused(monkeypatch):
    monkeypatch.setenv("MMLAB_IBKR_API_SECRET", "plainlowercase")
    with pytest.raises(ConfigError, match="looks like a credential") as e:
        VenueConfig("ibkr", account="plainlowercase")
    assert "plainlowercase" not in str(e.value)


def test_config_validation():
    with pytest.raises(ConfigError):
        VenueConfig("paper", mode="live")
    with pytest.raises(ConfigError):
        VenueConfig("ccxt")
    with pytest.raises(ConfigError):
        VenueConfig("nyse")
    with pytest.raises(ConfigError, match="exchange_id"):
        VenueConfig("ccxt", exchange_id="Binance USD-M")


def test_ibkr_unset_mid_session_leaves_no_order_pending(live_env):
    ib = FakeIB()
    v = IbkrVenue(IB_LIVE, contract="SPY", ib=ib)
    om = _om(v)
    om.update(Quote(449.96, 450.04, 0.5, 0.5), now=0, mid=450.0)
    for trade in v._trades.values():  # TWS acknowledges both quotes
        trade.orderStatus.status = "Submitted"
        ib.orderStatusEvent.emit(trade)
    placed = len(ib.placed)
    live_env.delenv(LIVE_ENV)
    with pytest.raises(LiveTradingDisabled):
        om.update(Quote(449.0, 451.0, 0.5, 0.5), now=10**10, mid=450.0)
    assert len(ib.placed) == placed  # nothing re-placed
    assert all(o.pending_modify is None and o.status in (OrderStatus.WORKING, OrderStatus.REJECTED,
                                                         OrderStatus.PENDING_CANCEL)
               for o in om.orders.values()), [o.status for o in om.orders.values()]


def test_no_cli_command_reaches_a_venue_adapter():
    """Issue 11 asks the CLI path to refuse too: the CLI has no order path at all (no command
    builds a venue adapter), and the manager trades on the paper venue only."""
    import inspect

    import mmlab.cli
    from mmlab.manager import ManagerConfig

    src = inspect.getsource(mmlab.cli)
    assert not any(w in src for w in ("mmlab.broker", "CcxtVenue", "IbkrVenue", "gate_order"))
    with pytest.raises(ConfigError, match="paper"):
        ManagerConfig(venue="ccxt")


def test_legitimate_names_with_secret_words_are_accepted():
    assert VenueConfig("ccxt", exchange_id="hashkey").exchange_id == "hashkey"  # a ccxt exchange
    assert VenueConfig("ibkr", host="keystone.desk.lan").host == "keystone.desk.lan"
