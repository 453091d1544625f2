"""The live-trading gate: paper by default, live only with a live config AND MMLAB_LIVE=1 in the
process environment at order time. Adapters are exercised with fake exchange / IB objects: no
test reaches the network."""

from __future__ import annotations

import datetime as dt
import inspect
from types import SimpleNamespace

import numpy as np
import pytest

from mmlab.backtest import REQUEST_DTYPE, RESPONSE_DTYPE
from mmlab.broker import (
    LIVE_ENV,
    CcxtVenue,
    ContractSpec,
    IbkrVenue,
    LiveTradingDisabled,
    VenueConfig,
    credentials_from_env,
    gate_order,
    live_allowed,
)
from mmlab.errors import ConfigError
from mmlab.runtime import Journal

LIVE = VenueConfig("ccxt", mode="live", exchange_id="binanceusdm")
IB_LIVE = VenueConfig("ibkr", mode="live", account="DU1234567")
SPEC = ContractSpec(tick=0.1, lot=0.001)  # BTCUSDT perpetual's tick and lot
IB_SPEC = ContractSpec(tick=0.01, lot=0.5)
NEW, CANCEL, MODIFY = 1, 2, 3
ACK, FILL, CANCELLED, REJECTED, CANCEL_REJECTED, MODIFIED, MODIFY_REJECTED = range(1, 8)


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
        return {"id": vid, "filled": sum(t["amount"] for t in self.trades if t["order"] == vid)}

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


def _requests(*rows):
    """REQUEST_DTYPE rows from (kind, order_id, side, price_tick, qty[, post_only])."""
    out = np.zeros(len(rows), REQUEST_DTYPE)
    for i, r in enumerate(rows):
        kind, oid, side, tick, qty, *post = r
        out[i] = (i, kind, oid, side, tick, qty, bool(post and post[0]), i)
    return out


def _answers(v):
    """The adapter's responses as (kind, order_id) pairs."""
    out = v.responses()
    assert out.dtype == RESPONSE_DTYPE
    return [(int(r["kind"]), int(r["order_id"])) for r in out]


def _ccxt(fake=None, **kw):
    return CcxtVenue(LIVE, "BTC/USDT:USDT", SPEC, exchange=fake or FakeExchange(), **kw)


def _ibkr(ib=None, **kw):
    return IbkrVenue(IB_LIVE, "SPY", IB_SPEC, ib=ib or FakeIB(), **kw)


def _ib_ack(v, ib):
    """TWS acknowledges every order placed so far."""
    for o in v.orders.values():
        trade = o.venue.get("trade")
        if trade is not None:
            trade.orderStatus.status = "Submitted"
            ib.orderStatusEvent.emit(trade)


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
        cls(cfg, "X", SPEC, environ={LIVE_ENV: "1"}, **client)
    with pytest.raises(LiveTradingDisabled, match="MMLAB_LIVE=1"):  # the process env decides
        cls(cfg, "X", SPEC, **client)
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
                  SPEC, exchange=fake)
    with pytest.raises(LiveTradingDisabled, match=words):
        IbkrVenue(VenueConfig("ibkr", mode=mode), "SPY", IB_SPEC, ib=ib)
    assert fake.calls == [] and ib.placed == []


@pytest.mark.parametrize("make", [_ccxt, _ibkr], ids=["ccxt", "ibkr"])
@pytest.mark.parametrize("how", ["unset", "not-1", "paper-config"])
def test_each_adapter_refuses_at_order_time(live_env, make, how):
    """Built with both unlocks; one of them goes away: the next new order and the next modify
    are refused, nothing sent, the local side answered (rejected / modify_rejected, the reason
    naming the gate), the refusal raised; a cancel still goes out."""
    v = make()
    client = getattr(v, "exchange", None) or v.ib
    v.submit(_requests((NEW, 1, 1, 1000, 0.5)))  # allowed
    if isinstance(v, IbkrVenue):
        _ib_ack(v, client)
    assert _answers(v) == [(ACK, 1)]
    sent_before = list(getattr(client, "calls", None) or client.placed)
    if how == "unset":
        live_env.delenv(LIVE_ENV)
    elif how == "not-1":
        live_env.setenv(LIVE_ENV, "true")
    else:
        object.__setattr__(v, "config", VenueConfig(v.config.venue, exchange_id="binanceusdm"))
    with pytest.raises(LiveTradingDisabled, match="live trading refused") as e:
        v.submit(_requests((NEW, 2, -1, 1010, 0.5)))
    assert e.value.action == "submit" and e.value.order_id == 2 and e.value.side == -1
    assert e.value.price == pytest.approx(1010 * v.spec.tick)
    with pytest.raises(LiveTradingDisabled) as e2:
        v.submit(_requests((MODIFY, 1, 1, 990, 0.5)))
    assert e2.value.action == "modify" and e2.value.order_id == 1
    assert list(getattr(client, "calls", None) or client.placed) == sent_before  # nothing sent
    assert _answers(v) == [(REJECTED, 2), (MODIFY_REJECTED, 1)]
    assert "live trading refused" in v.reasons[2] and "live trading refused" in v.reasons[1]
    assert [(x.action, x.order_id) for x in v.refused] == [("submit", 2), ("modify", 1)]
    v.submit(_requests((CANCEL, 1, 0, 0, 0.0)))  # cancels always go out
    assert ("cancel", "v1") in getattr(client, "calls", []) or client.cancelled


def test_gate_order_answers_a_manager_with_on_refused(live_env):
    """gate_order's own answer path (for callers other than the adapters): ``on_refused``."""
    class Core:
        def __init__(self):
            self.refused = []

        def on_refused(self, order_id, ts, reason, action):
            self.refused.append((order_id, ts, action, reason))

    core = Core()
    live_env.delenv(LIVE_ENV)
    order = SimpleNamespace(order_id=5, side=1, price=100.0, qty=0.5)
    with pytest.raises(LiveTradingDisabled):
        gate_order(LIVE, order, "submit", 9, symbol="BTC/USDT:USDT", manager=core)
    assert core.refused == [(5, 9, "submit", "live trading refused: the environment does "
                             "not set MMLAB_LIVE=1")]


def test_a_refusal_reaches_the_local_side_as_a_rejected_response(live_env):
    """A batch with a refused new order and a cancel: the whole batch is handled (the cancel
    goes out), the refused order is answered ``rejected`` at the adapter's clock, then the
    refusal is raised; no call for it reached the exchange."""
    fake, clock = FakeExchange(), [1_000]
    v = _ccxt(fake, now=lambda: clock[0])
    v.submit(_requests((NEW, 1, 1, 1000, 0.5)))
    v.responses()
    live_env.delenv(LIVE_ENV)
    clock[0] = 9_000
    with pytest.raises(LiveTradingDisabled):
        v.submit(_requests((NEW, 5, 1, 1001, 0.5), (CANCEL, 1, 0, 0, 0.0)))
    out = v.responses()
    assert [(int(r["ts"]), int(r["kind"]), int(r["order_id"])) for r in out] == [
        (9_000, REJECTED, 5), (9_000, CANCELLED, 1)]
    assert [c[0] for c in fake.calls] == ["create", "cancel"]  # order 5 never reached it
    assert v.reasons[5] == "live trading refused: the environment does not set MMLAB_LIVE=1"


def test_refusal_is_journalled_as_refused_never_as_sent(live_env, tmp_path):
    """Both paths: the caller journals ``exc.refused_event()``, or the adapter journals it."""
    j = Journal(tmp_path / "s.sqlite")
    v = _ccxt()
    live_env.delenv(LIVE_ENV)
    try:
        v.submit(_requests((NEW, 3, 1, 1005, 0.2)))
    except LiveTradingDisabled as exc:
        j.record(exc.refused_event())
    rows = j.read()
    j.close()
    assert rows[["kind", "order_id", "status", "price", "qty"]].to_dict("records") == [
        {"kind": "refused", "order_id": 3, "status": "refused", "price": 100.5, "qty": 0.2}]
    assert rows["reason"][0].startswith("submit: live trading refused")

    j2 = Journal(tmp_path / "t.sqlite")
    live_env.setenv(LIVE_ENV, "1")
    v2 = _ccxt(journal=j2, now=lambda: 7)
    v2.submit(_requests((NEW, 1, 1, 1000, 0.2)))
    live_env.delenv(LIVE_ENV)
    with pytest.raises(LiveTradingDisabled):
        v2.submit(_requests((NEW, 2, 1, 1005, 0.2), (MODIFY, 1, 1, 999, 0.2)))
    rows = j2.read()
    j2.close()
    got = rows[["ts", "kind", "order_id", "status"]].to_dict("records")
    assert got == [
        {"ts": 7, "kind": "submit", "order_id": 1, "status": "sent"},
        {"ts": 7, "kind": "ack", "order_id": 1, "status": "ack"},
        {"ts": 7, "kind": "refused", "order_id": 2, "status": "refused"},
        {"ts": 7, "kind": "rejected", "order_id": 2, "status": "rejected"},
        {"ts": 7, "kind": "refused", "order_id": 1, "status": "refused"},
        {"ts": 7, "kind": "modify_rejected", "order_id": 1, "status": "modify_rejected"}]


def test_gate_order_passes_when_live(live_env):
    assert gate_order(LIVE, SimpleNamespace(order_id=1, side=1, price=1.0, qty=1.0), "submit",
                      0, symbol="X") is None


def test_unsetting_live_mid_session_leaves_no_order_pending(live_env, tmp_path):
    """MMLAB_LIVE unset mid-session: in the next batch the modify and the new order are
    refused, the cancel goes out; every request has its one answer and no order is left
    pending; the journal says refused, never sent."""
    fake, j = FakeExchange(), Journal(tmp_path / "s.sqlite")
    v = _ccxt(fake, journal=j)
    v.submit(_requests((NEW, 1, 1, 599_999, 0.01, True), (NEW, 2, -1, 600_001, 0.01, True)))
    create = [c for c in fake.calls if c[0] == "create"]
    assert create[0][1:6] == ("BTC/USDT:USDT", "limit", "buy", 0.01, 59_999.9)
    assert create[0][6] == {"clientOrderId": "mmlab-1", "postOnly": True}
    assert _answers(v) == [(ACK, 1), (ACK, 2)]
    # a fill reported by the exchange is answered once, however often we poll
    fake.trades = [{"id": "t1", "order": "v1", "amount": 0.004, "price": 59_999.9,
                    "takerOrMaker": "maker", "timestamp": 1_700_000_000_000}]
    assert v.poll() == 1 and v.poll() == 0
    assert _answers(v) == [(FILL, 1)]
    sent = len(fake.calls)
    live_env.delenv(LIVE_ENV)
    with pytest.raises(LiveTradingDisabled):
        v.submit(_requests((MODIFY, 1, 1, 599_900, 0.006), (CANCEL, 2, 0, 0, 0.0),
                           (NEW, 3, -1, 600_100, 0.01)))
    assert [c[0] for c in fake.calls[sent:]] == ["cancel"]  # only the cancel went out
    assert _answers(v) == [(MODIFY_REJECTED, 1), (CANCELLED, 2), (REJECTED, 3)]
    assert {o.order_id: o.state for o in v.orders.values()} == {
        1: "working", 2: "done", 3: "done"}
    rows = j.read()
    after = rows[rows["seq"] > rows.loc[rows["kind"] == "fill", "seq"].max()]
    assert list(after["kind"]) == ["refused", "modify_rejected", "cancel", "cancelled",
                                   "refused", "rejected"]
    assert list(after.loc[after["kind"] == "refused", "order_id"]) == [1, 3]
    v.submit(_requests((CANCEL, 1, 0, 0, 0.0)))  # cancels always go out
    assert fake.calls[-1] == ("cancel", "v1")
    j.close()


def test_ccxt_exchange_error_is_a_reject(live_env):
    v = _ccxt(FakeExchange(fail=True))
    v.submit(_requests((NEW, 1, 1, 599_999, 0.01), (NEW, 2, -1, 600_001, 0.01)))
    assert _answers(v) == [(REJECTED, 1), (REJECTED, 2)]
    assert "take" in v.reasons[1] and all(o.state == "done" for o in v.orders.values())


def test_ibkr_live_flow_with_fake_ib(live_env):
    ib = FakeIB()
    v = _ibkr(ib)
    v.submit(_requests((NEW, 1, 1, 44_990, 0.5), (NEW, 2, -1, 45_010, 0.5)))
    assert ib.placed[0] == ("BUY", 0.5, pytest.approx(449.9))
    assert v.responses().size == 0  # TWS has not answered yet
    buy = v.orders[1].venue["trade"]
    assert buy.order.orderRef == "mmlab-1"
    buy.orderStatus.status = "Submitted"
    ib.orderStatusEvent.emit(buy)
    assert _answers(v) == [(ACK, 1)]
    fill = SimpleNamespace(execution=SimpleNamespace(execId="e1", shares=0.5, price=449.9),
                           time=dt.datetime(2024, 1, 2, tzinfo=dt.UTC))
    ib.execDetailsEvent.emit(buy, fill)
    ib.execDetailsEvent.emit(buy, fill)  # duplicate report: counted once
    out = v.responses()
    assert [(int(r["kind"]), int(r["order_id"]), float(r["qty"])) for r in out] == [
        (FILL, 1, 0.5)]
    assert out["cash"][0] == pytest.approx(-0.5 * 449.9)  # -side x qty x price, no fee
    assert v.orders[1].state == "done"


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
    v = _ibkr(ib)
    v.submit(_requests((NEW, 1, 1, 44_996, 0.5), (NEW, 2, -1, 45_004, 0.5)))
    _ib_ack(v, ib)  # TWS acknowledges both quotes
    assert _answers(v) == [(ACK, 1), (ACK, 2)]
    placed = len(ib.placed)
    live_env.delenv(LIVE_ENV)
    with pytest.raises(LiveTradingDisabled):
        v.submit(_requests((MODIFY, 1, 1, 44_900, 0.5), (MODIFY, 2, -1, 45_100, 0.5)))
    assert len(ib.placed) == placed  # nothing re-placed
    assert _answers(v) == [(MODIFY_REJECTED, 1), (MODIFY_REJECTED, 2)]
    assert [v.orders[i].venue["trade"].order.lmtPrice for i in (1, 2)] == [
        pytest.approx(449.96), pytest.approx(450.04)]  # the old terms stand
    assert all(o.state == "working" for o in v.orders.values())
    v.submit(_requests((CANCEL, 1, 0, 0, 0.0)))  # cancels always go out
    assert ib.cancelled == [v.orders[1].venue["trade"].order.orderId]


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
