"""Planted secrets: a distinctive API key and secret in the environment, real ccxt (binanceusdm)
and a fake IB behind the adapters, a fake HTTP transport that echoes the key back in its error
text and the signed URL / body; then every output is grepped for the key, the secret and the
request signatures: stdout and stderr, every log record at DEBUG (root and ccxt's), the journal's
SQLite bytes, exception strings and tracebacks, reprs. Zero hits.

The transport is a ``requests`` adapter mounted on the exchange's session: ccxt's own code signs,
logs and parses the answers; nothing reaches the network."""

from __future__ import annotations

import logging
import re
import sys
import traceback
from types import SimpleNamespace

import numpy as np
import pytest
from requests.adapters import BaseAdapter
from requests.models import Response

from mmlab.backtest import REQUEST_DTYPE
from mmlab.broker import (
    LIVE_ENV,
    CcxtVenue,
    ContractSpec,
    IbkrVenue,
    LiveTradingDisabled,
    VenueConfig,
    VenueError,
    credentials_from_env,
    redact,
)
from mmlab.errors import ConfigError
from mmlab.runtime import Journal

KEY = "PLANTEDkey7Qz91xWvB3"
SECRET = "PLANTEDsecret4Hj8Lm2Rt"
SYMBOL = "BTC/USDT:USDT"
SPEC = ContractSpec(tick=0.1, lot=0.001)
MARKET = {
    "id": "BTCUSDT", "symbol": SYMBOL, "base": "BTC", "quote": "USDT", "settle": "USDT",
    "baseId": "BTC", "quoteId": "USDT", "settleId": "USDT", "type": "swap", "spot": False,
    "swap": True, "future": False, "option": False, "linear": True, "inverse": False,
    "contract": True, "contractSize": 1, "active": True,
    "precision": {"amount": 0.001, "price": 0.1},
    "limits": {"amount": {"min": 0.001}, "price": {}, "cost": {}},
    "info": {"orderTypes": ["LIMIT", "MARKET"], "timeInForce": ["GTC", "IOC", "FOK", "GTX"]},
}


class EchoTransport(BaseAdapter):
    """A hostile venue: every request gets a 401 whose text repeats the key header, the URL and
    the body (with its signature)."""

    def __init__(self):
        super().__init__()
        self.requests = []

    def send(self, request, **kwargs):
        self.requests.append(request)
        body = request.body.decode() if isinstance(request.body, bytes) else (request.body or "")
        r = Response()
        r.status_code, r.reason, r.url, r.request = 401, "Unauthorized", request.url, request
        r.headers["Content-Type"] = "application/json"
        key = request.headers.get("X-MBX-APIKEY", "")
        r._content = (f'{{"code":-2015,"msg":"Invalid API-key {key} for {request.url} {body}"}}'
                      ).encode()
        return r

    def close(self):
        pass


def _new(oid, price=60_000.0, qty=0.01, tick=SPEC.tick):
    """One new-order REQUEST_DTYPE row (a buy at ``price``)."""
    out = np.zeros(1, REQUEST_DTYPE)
    out[0] = (0, 1, oid, 1, round(price / tick), qty, False, oid)
    return out


def _one(kind, oid, price=0.0, qty=0.0):
    out = np.zeros(1, REQUEST_DTYPE)
    out[0] = (0, kind, oid, 1, round(price / SPEC.tick), qty, False, oid)
    return out


class _Event(list):
    def __iadd__(self, fn):
        self.append(fn)
        return self


class EchoIB:
    """A fake ib_async client that logs the key at DEBUG and echoes it in its errors."""

    def __init__(self):
        self.orderStatusEvent, self.execDetailsEvent = _Event(), _Event()
        self.log = logging.getLogger("ib_async.client")

    def placeOrder(self, contract, order):
        self.log.debug("placeOrder with token=%s key %s", KEY, KEY)
        raise ConnectionError(f"Not connected; last auth apiKey={KEY} secret {SECRET}")

    def cancelOrder(self, order):
        raise ConnectionError(f"cancel failed for {KEY}")


@pytest.fixture
def planted(monkeypatch):
    monkeypatch.setenv(LIVE_ENV, "1")
    monkeypatch.setenv("MMLAB_BINANCEUSDM_API_KEY", KEY)
    monkeypatch.setenv("MMLAB_BINANCEUSDM_API_SECRET", SECRET)
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)  # root logging at DEBUG to stderr, as a user would
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_planted_key_appears_in_no_output(planted, tmp_path, capfd, caplog):
    caplog.set_level(logging.DEBUG)
    journal = Journal(tmp_path / "session.sqlite")
    texts: list[str] = []

    # --- ccxt: the real binanceusdm client, credentials from the environment
    venue = CcxtVenue(VenueConfig("ccxt", mode="live", exchange_id="binanceusdm"), SYMBOL,
                      SPEC, journal=journal)
    transport = EchoTransport()
    venue.exchange.session.mount("https://", transport)
    venue.exchange.session.mount("http://", transport)
    venue.exchange.set_markets([MARKET])
    venue.submit(_new(1))  # POST, signed body, key header -> 401 echo -> rejected
    o = venue.orders[1]
    o.state, o.venue["id"] = "working", "4242"  # as if it had been acked
    venue.submit(_one(3, 1, 60_001.0, 0.02))  # PUT -> 401 echo -> modify_rejected
    venue.submit(_one(2, 1))  # DELETE, signed query -> 401 echo -> cancel_rejected
    with pytest.raises(VenueError) as poll_err:  # GET, signed URL -> 401 echo -> raised
        venue.poll()
    texts += [str(poll_err.value), repr(poll_err.value),
              "".join(traceback.format_exception(poll_err.value))]
    venue.exchange.verbose = True  # ccxt prints request headers and URLs to stdout
    venue.submit(_new(2))
    venue.exchange.verbose = False
    texts += list(venue.reasons.values())
    # the secret really was on the wire, and the venue really echoed it
    assert transport.requests and all(r.headers["X-MBX-APIKEY"] == KEY
                                      for r in transport.requests)
    signatures = [m for r in transport.requests
                  for m in re.findall(r"signature=([0-9a-f]{64})", f"{r.url} {r.body}")]
    assert len(signatures) >= 5, signatures

    # --- a refusal at the gate, journalled by the adapter and by the caller
    monkeypatch_env = pytest.MonkeyPatch()
    monkeypatch_env.delenv(LIVE_ENV)
    try:
        venue.submit(_new(3))
    except LiveTradingDisabled as exc:
        journal.record(exc.refused_event())
        texts.append("".join(traceback.format_exception(exc)))
    monkeypatch_env.undo()

    # --- IBKR: a client that logs the key and echoes it in its errors
    ib_venue = IbkrVenue(VenueConfig("ibkr", mode="live", account="DU1234567"), "SPY",
                         ContractSpec(tick=0.01, lot=1.0), journal=journal, ib=EchoIB())
    ib_venue.submit(_new(4, price=450.0, qty=1.0, tick=0.01))
    o = ib_venue.orders[4]
    o.state, o.venue["trade"] = "working", SimpleNamespace(order=SimpleNamespace(orderId=9))
    ib_venue.submit(_one(2, 4))
    texts += list(ib_venue.reasons.values())

    # --- any other logger of the process, an exception with a traceback at DEBUG
    other = logging.getLogger("some.library")
    other.debug("connecting with headers %r", {"X-MBX-APIKEY": KEY, "Accept": "*/*"})
    try:
        raise RuntimeError(f"request failed: secret={SECRET} key {KEY}")
    except RuntimeError:
        other.exception("while talking to the venue")

    # --- reprs and typed errors
    creds = credentials_from_env("binanceusdm")
    texts += [repr(creds), str(creds), repr(venue), repr(ib_venue), repr(venue.config)]
    for bad in (KEY, SECRET):
        with pytest.raises(ConfigError) as e:
            VenueConfig("ibkr", account=bad)
        texts.append(str(e.value))
    texts.append(redact(f"Invalid API-key {KEY}"))

    # --- collect every output
    journal.close()
    out, err = capfd.readouterr()
    texts += [out, err, caplog.text]
    for rec in caplog.records:
        texts += [rec.getMessage(), rec.exc_text or "", rec.stack_info or ""]
    blobs = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("session"))
    assert b"Invalid API-key" in blobs and b"refused" in blobs  # the journal did record them
    assert "fapi/v1/order" in caplog.text and "Request:" in caplog.text  # ccxt did log at DEBUG
    assert "fetch Request:" in out  # ccxt's verbose printer did run
    everything = "\n".join(texts)
    hits = [(v[:9], where) for v in (KEY, SECRET, *signatures)
            for where, found in (("text", v in everything), ("journal", v.encode() in blobs))
            if found]
    assert hits == []  # (the first characters only: a failure must not print the secret)
    # no part of the key in the Credentials repr (any 4 consecutive characters)
    for i in range(len(KEY) - 3):
        assert KEY[i:i + 4] not in repr(creds)


def test_redact_masks_secret_fields_whatever_their_value():
    # the shapes ccxt and exchanges use (query strings, header dicts, JSON, header lines)
    cases = {
        "https://x/api/v3/order?symbol=A&timestamp=1&signature=abcdef0123": "signature=***",
        "https://x/?apiKey=unknownvalue1&nonce=2": "apiKey=***",
        "{'X-MBX-APIKEY': 'unknownvalue2'}": "'X-MBX-APIKEY': '***'",
        '{"api_key": "unknownvalue3", "n": 1}': '"api_key": "***"',
        "Authorization: Bearer unknownvalue4": "Authorization: ***",
        "Invalid API-key unknownvalue5XYZ": "Invalid API-key ***",
    }
    for text, expected in cases.items():
        out = redact(text)
        assert expected in out and "unknownvalue" not in out, out
    # ordinary words stay
    assert redact("Invalid API-key, IP, or permissions for action.") == \
        "Invalid API-key, IP, or permissions for action."
    assert redact("design=1&price=2") == "design=1&price=2"
