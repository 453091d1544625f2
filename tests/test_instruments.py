"""Instrument master: shipped specs, tick/lot rounding, notional, fees, linear vs inverse PnL,
option contracts from chain rows, CL expiry rule and trading calendars."""

from __future__ import annotations

import dataclasses
from datetime import date, time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmlab.data import (
    FeeSchedule,
    Instrument,
    InstrumentMaster,
    cl_contract_on,
    cl_expiry,
    cl_last_trade_date,
    default_master,
    get_instrument,
    is_business_day,
    load_option_chain,
    load_wti_settles,
    us_market_holidays,
)
from mmlab.errors import ConfigError


@pytest.fixture(scope="module")
def master():
    return default_master()


# ------------------------------------------------------------------ shipped specifications


@pytest.mark.parametrize(
    ("key", "tick", "lot", "mult", "maker_bps", "taker_bps"),
    [
        # Binance published filters: spot BTCUSDT PRICE_FILTER 0.01 / LOT_SIZE 0.00001;
        # USD-M BTCUSDT 0.1 / 0.001, ETHUSDT 0.01 / 0.001. VIP 0 fees: spot 10/10 bps, USD-M 2/5 bps.
        ("BINANCE:BTCUSDT", 0.01, 0.00001, 1.0, 10.0, 10.0),
        ("BINANCE_USDM:BTCUSDT", 0.1, 0.001, 1.0, 2.0, 5.0),
        ("BINANCE_USDM:ETHUSDT", 0.01, 0.001, 1.0, 2.0, 5.0),
        ("NASDAQ:AAPL", 0.01, 1.0, 1.0, 0.0, 0.0),
        ("NASDAQ:AMZN", 0.01, 1.0, 1.0, 0.0, 0.0),
        ("CBOE:SPX", 0.05, 1.0, 100.0, 0.0, 0.0),
        ("CBOE:SPXW", 0.05, 1.0, 100.0, 0.0, 0.0),
        ("NASDAQ:NDX", 0.05, 1.0, 100.0, 0.0, 0.0),
        ("NASDAQ:NDXP", 0.05, 1.0, 100.0, 0.0, 0.0),
        ("CBOE:SPY", 0.01, 1.0, 100.0, 0.0, 0.0),
        # Deribit BTC options: 1 BTC contract, tick 0.0005 BTC, 0.03 % of underlying maker/taker
        ("DERIBIT:BTC", 0.0005, 0.1, 1.0, 3.0, 3.0),
        # NYMEX CL: 1,000 bbl, 0.01 USD/bbl = 10 USD per tick
        ("NYMEX:CL", 0.01, 1.0, 1000.0, 0.0, 0.0),
    ],
)
def test_shipped_specs(master, key, tick, lot, mult, maker_bps, taker_bps):
    inst = master.get(key)
    assert (inst.tick_size, inst.lot_size, inst.multiplier) == (tick, lot, mult)
    assert (inst.fees.maker_bps, inst.fees.taker_bps) == (maker_bps, taker_bps)
    assert inst.fees.source or inst.kind == "index"


def test_styles_and_currencies(master):
    assert master["CBOE:SPX"].settlement == "AM" and master["CBOE:SPXW"].settlement == "PM"
    assert master["NASDAQ:NDX"].settlement == "AM" and master["NASDAQ:NDXP"].settlement == "PM"
    spy = master["CBOE:SPY"]
    assert (spy.exercise, spy.settlement, spy.settlement_type) == ("american", "PM", "physical")
    btc = master["DERIBIT:BTC"]
    assert btc.inverse and btc.quote_ccy == "BTC" and btc.settle_ccy == "BTC" and not btc.inverse_pnl
    perp = master["DERIBIT:BTC-PERPETUAL"]
    assert perp.inverse and perp.inverse_pnl and perp.settle_ccy == "BTC"
    assert master["BINANCE_USDM:BTCUSDT"].linear
    assert master["NYMEX:CL"].calendar == "CMES" and master["NASDAQ:AAPL"].calendar == "XNYS"
    assert master["BINANCE:BTCUSDT"].calendar == "24/7"
    assert master["NASDAQ:AAPL"].session_open == time(9, 30)


def test_lookup_rules(master):
    assert get_instrument("AAPL").key == "NASDAQ:AAPL"
    assert get_instrument("BTCUSDT", venue="BINANCE").kind == "spot"
    with pytest.raises(ConfigError, match="ambiguous"):
        get_instrument("BTCUSDT")
    with pytest.raises(ConfigError, match="unknown instrument"):
        get_instrument("NOPE:XYZ")
    assert "NYMEX:CL" in master and len(master) == len(master.keys)
    frame = master.to_frame()
    assert frame.loc["NYMEX:CL", "multiplier"] == 1000.0 and frame.loc["DERIBIT:BTC", "fee_premium_cap"] == 0.125


# ------------------------------------------------------------------ rounding


def test_side_aware_rounding():
    perp = get_instrument("BINANCE_USDM:BTCUSDT")
    assert perp.round_price(60000.07, "bid") == 60000.0
    assert perp.round_price(60000.07, "ask") == 60000.1
    assert perp.round_price(60000.07) == 60000.1
    assert perp.round_price(60000.3, "bid") == 60000.3  # already on the grid: unchanged both ways
    assert perp.round_price(60000.3, "ask") == 60000.3
    eth = get_instrument("BINANCE_USDM:ETHUSDT")
    assert eth.round_price(2500.005, "bid") == 2500.0 and eth.round_price(2500.005, "ask") == 2500.01
    arr = perp.round_price(np.array([1.04, 1.06]), "bid")
    np.testing.assert_allclose(arr, [1.0, 1.0])
    with pytest.raises(ConfigError, match="side"):
        perp.round_price(1.0, "up")


def test_spx_tick_ladder(master):
    opt = master.option("SPX", "2023-09-15", 4500, "C")
    # 0.05 below 3.00, 0.10 from 3.00
    assert opt.round_price(2.92, "bid") == 2.9 and opt.round_price(2.92, "ask") == 2.95
    assert opt.round_price(3.03, "bid") == 3.0 and opt.round_price(3.03, "ask") == 3.1
    assert opt.round_price(2.98, "ask") == 3.0
    assert opt.round_price(15.27) == 15.3
    spy = master.option("SPY", "2023-09-15", 450, "C")
    assert spy.round_price(1.234, "bid") == 1.23 and spy.round_price(1.234, "ask") == 1.24


def test_negative_price_rounding():
    cl = get_instrument("NYMEX:CL")
    assert cl.round_price(-37.634, "bid") == -37.64 and cl.round_price(-37.634, "ask") == -37.63


def test_round_qty():
    assert get_instrument("BINANCE:BTCUSDT").round_qty(0.123456789) == 0.12345
    assert get_instrument("BINANCE_USDM:BTCUSDT").round_qty(-0.0129) == -0.012
    assert get_instrument("DERIBIT:BTC").round_qty(0.35) == 0.3
    assert get_instrument("AAPL").round_qty(99.9) == 99.0


@settings(max_examples=200, deadline=None)
@given(price=st.floats(min_value=0.01, max_value=200.0, allow_nan=False))
def test_rounding_properties(price):
    opt = default_master().option("SPXW", "2023-09-15", 4500, "C")
    bid = opt.round_price(price, "bid")
    ask = opt.round_price(price, "ask")
    assert bid <= price + 1e-9 and ask >= price - 1e-9
    for p in (bid, ask):
        tick = opt.tick_at(p)
        assert abs(p / tick - round(p / tick)) < 1e-6  # on the grid that applies at p
    assert ask - bid <= 0.1 + 1e-9


# ------------------------------------------------------------------ notional, PnL, fees


def test_linear_and_inverse_pnl():
    perp = get_instrument("DERIBIT:BTC-PERPETUAL")
    # inverse: PnL(coin) = q * m * (1/entry - 1/exit): 100 x 10 USD long from 8,000 to 10,000
    assert perp.pnl(8000.0, 10000.0, 100) == pytest.approx(100 * 10 * (1 / 8000 - 1 / 10000), rel=1e-12)
    assert perp.pnl(8000.0, 10000.0, -100) == pytest.approx(-0.025, rel=1e-12)
    with pytest.raises(ConfigError):
        perp.pnl(0.0, 10000.0, 1)
    lin = get_instrument("BINANCE_USDM:BTCUSDT")
    assert lin.pnl(60000.0, 60100.0, 0.5) == pytest.approx(50.0, rel=1e-12)
    # WTI file: CL01 18.27 on 2020-04-17 then -37.63 on 2020-04-20: one long contract lost 55,900 USD
    wti = load_wti_settles(default_data_dir() / "commodities" / "wti_cl01-cl36_settles_2007-2023.csv")
    p0, p1 = wti.loc["2020-04-17", "CL01"], wti.loc["2020-04-20", "CL01"]
    assert get_instrument("NYMEX:CL").pnl(p0, p1, 1) == pytest.approx(-55900.0, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(
    e0=st.floats(min_value=100.0, max_value=1e6),
    e1=st.floats(min_value=100.0, max_value=1e6),
    q=st.integers(min_value=-10_000, max_value=10_000),
)
def test_inverse_pnl_properties(e0, e1, q):
    perp = get_instrument("DERIBIT:BTC-PERPETUAL")
    there, back = perp.pnl(e0, e1, q), perp.pnl(e1, e0, q)
    assert there + back == pytest.approx(0.0, abs=1e-9)
    # coin PnL valued at the exit price equals the USD PnL of the same USD face:
    # q*m*(1/e0 - 1/e1) * e1 = q*m*(e1 - e0)/e0
    assert there * e1 == pytest.approx(q * 10.0 * (e1 - e0) / e0, rel=1e-9, abs=1e-6)


def test_notional_and_dollar_value():
    perp = get_instrument("DERIBIT:BTC-PERPETUAL")
    assert perp.notional(10000.0, 100) == pytest.approx(0.1)
    assert perp.dollar_value(10000.0, 100, coin_usd=10000.0) == pytest.approx(1000.0)
    with pytest.raises(ConfigError, match="coin_usd"):
        perp.dollar_value(10000.0, 100)
    spot = get_instrument("BINANCE:BTCUSDT")
    assert spot.dollar_value(60000.0, 0.5) == 30000.0
    opt = default_master().option("SPX", "2023-10-20", 4500, "C")
    assert opt.notional(12.5, 2) == 2500.0
    assert opt.dollar_delta(0.5, 4505.1001) == pytest.approx(100 * 0.5 * 4505.1001)


def test_fees():
    perp = get_instrument("BINANCE_USDM:BTCUSDT")
    assert perp.fee(60000.0, 0.01, maker=True) == pytest.approx(0.12)  # 2 bps of 600
    assert perp.fee(60000.0, 0.01, maker=False) == pytest.approx(0.30)  # 5 bps of 600
    aapl = get_instrument("AAPL")
    assert aapl.fee(190.0, 100, maker=True) == pytest.approx(-0.20)  # rebate 0.2 cent/share
    assert aapl.fee(190.0, 100, maker=False) == pytest.approx(0.30)
    opt = default_master().option("BTC", "2020-05-22", 9250, "P")
    assert opt.fee(0.02, 10, maker=False) == pytest.approx(0.003)  # 0.0003 BTC per contract
    assert opt.fee(0.001, 10, maker=False) == pytest.approx(0.00125)  # 12.5 % of 0.01 BTC premium
    rebate = dataclasses.replace(perp, fees=FeeSchedule(maker_bps=-1.0, taker_bps=5.0))
    assert rebate.fee(60000.0, 0.01, maker=True) == pytest.approx(-0.06)
    assert perp.maker_fee == 0.0002 and perp.taker_fee == 0.0005


# ------------------------------------------------------------------ options from chain rows


def default_data_dir():
    from mmlab._paths import SHIPPED_DATA

    return SHIPPED_DATA


def test_option_from_chain_row(data_dir, master):
    ch = load_option_chain(data_dir / "options" / "cboe_spx_2023-09-14.csv")
    row = ch[ch["symbol"] == "SPX230915C04500000"].iloc[0]
    inst = Instrument.from_option_row(row)
    assert inst.symbol == row["symbol"] == "SPX230915C04500000"
    assert inst.expiry == row["expiry"] == pd.Timestamp("2023-09-15 13:30", tz="UTC")
    assert inst.settlement == row["settlement"] == "AM" and inst.exercise == "european"
    assert inst.multiplier == 100.0 and inst.expiry_tz == "America/New_York"
    w = Instrument.from_option_row(ch[ch["symbol"] == "SPXW230915C04500000"].iloc[0])
    assert w.expiry == pd.Timestamp("2023-09-15 20:00", tz="UTC") and w.settlement == "PM"
    # every row maps to its vendor symbol
    sample = ch.iloc[::997]
    assert [Instrument.from_option_row(r).symbol for _, r in sample.iterrows()] == list(sample["symbol"])


def test_deribit_option_from_row(data_dir):
    ch = load_option_chain(data_dir / "options" / "deribit_btc_2020-05-21.csv")
    sample = ch.iloc[::13]
    for _, r in sample.iterrows():
        inst = Instrument.from_option_row(r)
        assert inst.symbol == r["symbol"] and inst.expiry == r["expiry"]
        assert inst.quote_ccy == "BTC" and inst.inverse


def test_option_builder_checks(master):
    with pytest.raises(ConfigError, match="expiry instant"):
        master.option("SPX", pd.Timestamp("2023-09-15 20:00", tz="UTC"), 4500, "C")  # SPX is AM
    with pytest.raises(ConfigError, match="right"):
        master.option("SPX", "2023-09-15", 4500, "X")
    with pytest.raises(ConfigError, match="template"):
        master.option("QQQ", "2023-09-15", 350, "C")
    opt = master.option("SPX", "2023-09-15", 4500, "C")
    assert opt.time_to_expiry(pd.Timestamp("2023-09-14 20:31", tz="UTC")) == pytest.approx(
        (16 * 3600 + 59 * 60) / (365 * 86400), rel=1e-12  # 20:31 UTC -> 13:30 UTC next day
    )


def test_instrument_validation():
    with pytest.raises(ConfigError, match="tick_size"):
        Instrument("X", "Y", "spot", "Y", "USD", "USD", tick_size=0.0, lot_size=1.0)
    with pytest.raises(ConfigError, match="linear"):
        Instrument("X", "Y", "spot", "Y", "USD", "BTC", tick_size=0.1, lot_size=1.0)
    with pytest.raises(ConfigError, match="kind"):
        Instrument("X", "Y", "bond", "Y", "USD", "USD", tick_size=0.1, lot_size=1.0)
    with pytest.raises(ConfigError, match="needs expiry"):
        Instrument("X", "Y", "option", "Y", "USD", "USD", tick_size=0.1, lot_size=1.0)
    with pytest.raises(ConfigError, match="taker"):
        FeeSchedule(taker_bps=-1.0)


def test_custom_toml(tmp_path):
    p = tmp_path / "mine.toml"
    p.write_text(
        '[[instrument]]\nvenue = "X"\nsymbol = "ABC"\nkind = "equity"\nunderlying = "ABC"\n'
        'quote_ccy = "USD"\nsettle_ccy = "USD"\ntick_size = 0.01\nlot_size = 100.0\n'
        "[instrument.fees]\ntaker_fixed = 0.01\n"
    )
    m = InstrumentMaster.from_toml(p)
    assert m.get("ABC").lot_size == 100.0
    p.write_text('[[instrument]]\nvenue = "X"\nsymbol = "ABC"\ncolour = "red"\n')
    with pytest.raises(ConfigError, match="unknown fields"):
        InstrumentMaster.from_toml(p)


# ------------------------------------------------------------------ CL expiry and calendars


@pytest.mark.parametrize(
    ("year", "month", "ltd"),
    [
        # 25 Apr 2020 is a Saturday -> 4 business days before: Tue 21 Apr (the May 2020 contract
        # that settled at -37.63 on the 20th and expired on the 21st)
        (2020, 5, date(2020, 4, 21)),
        # 25 Oct 2023 is a Wednesday (business day) -> 3 business days before: Fri 20 Oct
        (2023, 11, date(2023, 10, 20)),
        # 25 Jun 2022 Saturday -> 4 business days before: 24, 23, 22, 21 -> Tue 21 Jun
        (2022, 7, date(2022, 6, 21)),
        # 25 Jun 2025 Wednesday -> 24, 23, 20 (Thu 19 Jun Juneteenth skipped) -> Fri 20 Jun
        (2025, 7, date(2025, 6, 20)),
        # 25 Feb 2018 Sunday -> 23, 22, 21, 20 -> Tue 20 Feb
        (2018, 3, date(2018, 2, 20)),
        # 25 Nov 2012 Sunday -> 23, 21 (22 Thanksgiving), 20, 19 -> Mon 19 Nov (Dec 2012 contract)
        (2012, 12, date(2012, 11, 19)),
    ],
)
def test_cl_last_trade_date(year, month, ltd):
    assert cl_last_trade_date(year, month) == ltd
    assert cl_expiry(year, month).tz_convert("America/New_York").date() == ltd


def test_cl_roll_ranks_match_wti_file(data_dir):
    wti = load_wti_settles(data_dir / "commodities" / "wti_cl01-cl36_settles_2007-2023.csv")
    # CL01 on 2020-04-21 is the May 2020 contract on its last day: its final settlement 10.01;
    # on 2020-04-22 CL01 is June 2020 (13.78), which was CL02 (11.57) the day before.
    assert cl_contract_on("2020-04-21") == (2020, 5) and wti.loc["2020-04-21", "CL01"] == 10.01
    assert cl_contract_on("2020-04-22") == (2020, 6) == cl_contract_on("2020-04-21", 2)
    f = default_master().future("CLK20")
    assert f.expiry == pd.Timestamp("2020-04-21 18:30", tz="UTC") and f.multiplier == 1000.0
    assert default_master().future("CLX2023").symbol == "CLX23"


def test_calendars():
    hol = us_market_holidays(2023)
    # NYSE 2023 holidays: Jan 2 (New Year observed), Jan 16, Feb 20, Apr 7 (Good Friday),
    # May 29, Jun 19, Jul 4, Sep 4, Nov 23, Dec 25
    assert sorted(hol) == [date(2023, 1, 2), date(2023, 1, 16), date(2023, 2, 20), date(2023, 4, 7),
                           date(2023, 5, 29), date(2023, 6, 19), date(2023, 7, 4), date(2023, 9, 4),
                           date(2023, 11, 23), date(2023, 12, 25)]  # fmt: skip
    assert date(2022, 12, 31) not in us_market_holidays(2022)  # New Year on a Saturday: no Friday holiday
    assert not is_business_day("2022-04-15") and is_business_day("2022-04-14")
    with pytest.raises(ConfigError, match="calendar"):
        is_business_day("2023-01-03", "LSE")


def test_sessions():
    spx = default_master().option("SPX", "2023-09-15", 4500, "C")
    assert spx.is_open(pd.Timestamp("2023-09-14 16:10", tz="America/New_York"))
    assert not spx.is_open(pd.Timestamp("2023-09-14 16:31", tz="America/New_York"))
    cl = get_instrument("NYMEX:CL")
    assert not cl.is_open(pd.Timestamp("2023-09-14 17:30", tz="America/New_York"))  # daily break
    assert cl.is_open(pd.Timestamp("2023-09-14 18:00", tz="America/New_York"))
    assert not cl.is_open(pd.Timestamp("2023-09-16 10:00", tz="America/New_York"))  # Saturday
    assert get_instrument("BINANCE:BTCUSDT").is_open(pd.Timestamp("2023-12-25 12:00", tz="UTC"))
    with pytest.raises(ConfigError):
        cl.is_open("2023-09-14 18:00")
