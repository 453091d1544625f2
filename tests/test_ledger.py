"""Ledger accounting: fees, inverse PnL, funding, and the exact PnL split."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmlab.errors import ConfigError
from mmlab.execution import Ledger


def test_round_trip_linear_with_fees():
    # Buy 1 BTC perp at 60,000 (maker, 2 bps), sell at 60,100 (taker, 5 bps).
    led = Ledger(maker_fee=0.0002, taker_fee=0.0005)
    led.on_fill(+1, 1.0, 60_000.0, maker=True, mid=60_000.5)
    led.on_fill(-1, 1.0, 60_100.0, maker=False, mid=60_100.0)
    fees = 0.0002 * 60_000 + 0.0005 * 60_100  # 12 + 30.05
    assert led.position == 0.0
    assert led.fees == pytest.approx(fees)
    assert led.equity == pytest.approx(100.0 - fees)
    p = led.pnl_parts()
    assert p["spread"] == pytest.approx(0.5)          # bought 0.5 below the mid, sold at the mid
    assert p["inventory"] == pytest.approx(99.5)      # held 1 while the mid rose 99.5
    assert p["total"] == pytest.approx(led.equity, abs=1e-9)


def test_inverse_contract_pnl_in_coin():
    # Coin-margined: 100 contracts of 100 USD, long at 10,000, closed at 12,500.
    # PnL = 100 * 100 * (1/10000 - 1/12500) = 0.2 BTC (standard inverse-contract formula).
    led = Ledger(multiplier=100.0, inverse=True)
    led.on_fill(+1, 100.0, 10_000.0, maker=True, mid=10_000.0)
    led.on_fill(-1, 100.0, 12_500.0, maker=True, mid=12_500.0)
    assert led.equity == pytest.approx(0.2, rel=1e-12)
    assert led.pnl_parts()["inventory"] == pytest.approx(0.2, rel=1e-12)


def test_fixed_fee_per_contract():
    led = Ledger(multiplier=100.0, fee_per_contract=0.65)  # e.g. a listed equity option
    led.on_fill(-1, 10.0, 2.5, maker=True, mid=2.55)
    assert led.fees == pytest.approx(6.5)
    assert led.pnl_parts()["spread"] == pytest.approx(10 * 100 * -0.05)  # sold below mid


def test_funding_long_pays_positive_rate():
    led = Ledger()
    led.on_fill(+1, 2.0, 50_000.0, maker=True, mid=50_000.0)
    paid = led.on_funding(0.0001, 50_000.0)  # 1 bp of 100,000 notional
    assert paid == pytest.approx(-10.0)
    led2 = Ledger(multiplier=10.0, inverse=True)
    led2.on_fill(-1, 1000.0, 20_000.0, maker=True, mid=20_000.0)  # short 10,000 USD
    assert led2.on_funding(0.0001, 20_000.0) == pytest.approx(1e-4 * 0.5)  # short receives, coin


def test_bad_arguments():
    with pytest.raises(ConfigError):
        Ledger(multiplier=0.0)
    led = Ledger()
    with pytest.raises(ConfigError, match="qty"):
        led.on_fill(+1, 0.0, 1.0, maker=True)
    with pytest.raises(ConfigError, match="side"):
        led.on_fill(2, 1.0, 1.0, maker=True)
    with pytest.raises(ConfigError, match="inverse"):
        Ledger(inverse=True).mark(0.0)


def test_negative_prices_are_fine_for_linear():
    led = Ledger(multiplier=1000.0)  # WTI, April 2020
    led.on_fill(+1, 1.0, -37.63, maker=True, mid=-37.0)
    led.mark(10.0)
    assert led.equity == pytest.approx(1000.0 * (10.0 + 37.63))


events = st.lists(
    st.one_of(
        st.tuples(st.just("fill"), st.sampled_from([1, -1]), st.floats(0.001, 50),
                  st.floats(90, 110), st.booleans()),
        st.tuples(st.just("mark"), st.floats(90, 110)),
        st.tuples(st.just("fund"), st.floats(-0.001, 0.001), st.floats(90, 110)),
    ),
    max_size=60,
)


@settings(max_examples=500, deadline=None)
@given(events, st.booleans(), st.floats(-0.0002, 0.001), st.floats(0, 0.001))
def test_accounting_identities(evs, inverse, maker_fee, taker_fee):
    led = Ledger(multiplier=10.0, inverse=inverse, maker_fee=maker_fee, taker_fee=taker_fee)
    signed, flows, fees, funding = 0.0, 0.0, 0.0, 0.0
    for e in evs:
        if e[0] == "fill":
            _, side, qty, px, maker = e
            f = led.on_fill(side, qty, px, maker=maker)
            signed += side * qty
            flows -= side * qty * led.value(px)
            fees += f.fee
        elif e[0] == "mark":
            led.mark(e[1])
        else:
            funding += led.on_funding(e[1], e[2])
    assert math.isclose(led.position, signed, abs_tol=1e-9)            # position = sum of fills
    assert math.isclose(led.balance, flows - fees + funding, rel_tol=1e-12, abs_tol=1e-9)
    p = led.pnl_parts()
    parts = p["spread"] + p["inventory"] + p["fees"] + p["funding"]
    assert math.isclose(parts, p["total"], rel_tol=1e-12, abs_tol=1e-9)  # parts sum to total
    assert math.isclose(p["total"], led.equity, rel_tol=1e-9, abs_tol=1e-6)


def test_from_instrument_master():
    from mmlab.data import default_master

    m = default_master()
    perp = m.get("BTCUSDT", venue="BINANCE") if hasattr(m, "get") else None
    led = Ledger.from_instrument(perp)
    assert not led.inverse
    f = led.on_fill(+1, 1.0, 60_000.0, maker=True, mid=60_000.0)
    assert f.fee == pytest.approx(perp.fee(60_000.0, 1.0, maker=True))
    # Deribit options are premium-quoted in BTC: linear in the premium, fee on the underlying
    opt = m.option("BTC", "2020-05-22", 9250, "P")
    lo = Ledger.from_instrument(opt)
    assert not lo.inverse
    f = lo.on_fill(+1, 10.0, 0.02, maker=True, mid=0.021)
    assert f.fee == pytest.approx(0.003)  # 0.03 % x 10 BTC (Deribit schedule, see instruments.toml)
