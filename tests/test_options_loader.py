"""Option-chain loader: CBOE delayed-quote exports and Deribit ticker dumps (shipped files)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmlab.data import OPTION_CHAIN_COLUMNS, load_option_chain
from mmlab.errors import ConfigError, DataError, FormatError


@pytest.fixture(scope="module")
def spx23(data_dir):
    return load_option_chain(data_dir / "options" / "cboe_spx_2023-09-14.csv")


@pytest.fixture(scope="module")
def deribit(data_dir):
    return load_option_chain(data_dir / "options" / "deribit_btc_2020-05-21.csv")


@pytest.fixture(scope="module")
def spx_lines(data_dir):
    return (data_dir / "options" / "cboe_spx_2023-09-14.csv").read_text().splitlines()


def _write(tmp_path, lines, name="chain.csv"):
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n")
    return p


# ------------------------------------------------------------------ CBOE SPX 2023-09-14


def test_spx_2023_shape_and_header(spx23):
    # 9,960 data rows in cboe_spx_2023-09-14.csv (file lines 5..9964), each a call and a put.
    assert len(spx23) == 2 * 9960
    assert list(spx23.columns[: len(OPTION_CHAIN_COLUMNS)]) == OPTION_CHAIN_COLUMNS
    # header line 2: "Last: 4505.1001"; line 3: "Date: September 14, 2023 at 4:31 PM EDT"
    assert (spx23["underlying_px"] == 4505.1001).all()
    assert (spx23["underlying_px_source"] == "header_last").all()
    assert (spx23["ts"] == pd.Timestamp("2023-09-14 20:31", tz="UTC")).all()
    assert str(spx23["ts"].dtype) == "datetime64[ns, UTC]"
    assert str(spx23["expiry"].dtype) == "datetime64[ns, UTC]"
    # 53 expiry dates in the file (VENDOR_FORMATS.md); SPX/SPXW sharing a date are distinct keys
    assert spx23["expiry"].dt.tz_convert("America/New_York").dt.date.nunique() == 53
    assert not spx23.duplicated(["root", "expiry", "strike", "right"]).any()
    assert (spx23["quote_ccy"] == "USD").all()
    assert spx23["bid_size"].isna().all() and spx23["ask_size"].isna().all()
    assert (spx23["right"].value_counts() == 9960).all()


def test_spx_first_row_values(spx23):
    # file line 5: Thu Sep 14 2023,SPXW230914C01200000,0,0,3300.1,3319.8,...,1200.00,
    #              SPXW230914P01200000,0,0,0,0.05,...
    call = spx23[spx23["symbol"] == "SPXW230914C01200000"].iloc[0]
    put = spx23[spx23["symbol"] == "SPXW230914P01200000"].iloc[0]
    assert call["src_line"] == 5 and put["src_line"] == 5
    assert call["root"] == "SPXW" and call["settlement"] == "PM" and call["underlying"] == "SPX"
    assert call["strike"] == 1200.0 and call["right"] == "C"
    assert call["bid"] == 3300.1 and call["ask"] == 3319.8
    # PM expiry: 16:00 New York (EDT) = 20:00 UTC
    assert call["expiry"] == pd.Timestamp("2023-09-14 20:00", tz="UTC")
    # CBOE bid of 0 is legitimate (no bid shown), ask 0.05
    assert put["bid"] == 0.0 and put["ask"] == 0.05
    # vendor IV 0 means "none" -> NaN
    assert np.isnan(call["vendor_iv"])


def test_spx_and_spxw_share_a_date_but_not_a_key(spx23):
    # 2023-09-15 (3rd Friday): SPX AM-settled monthly and SPXW PM-settled weekly, 369 rows each
    day = spx23[spx23["expiry"].dt.tz_convert("America/New_York").dt.date == pd.Timestamp("2023-09-15").date()]
    by_root = day.groupby("root").agg(
        settlement=("settlement", "first"), expiry=("expiry", "first"), n=("strike", "size")
    )
    assert by_root.loc["SPX", "settlement"] == "AM"
    assert by_root.loc["SPXW", "settlement"] == "PM"
    assert by_root.loc["SPX", "expiry"] == pd.Timestamp("2023-09-15 13:30", tz="UTC")  # 09:30 EDT
    assert by_root.loc["SPXW", "expiry"] == pd.Timestamp("2023-09-15 20:00", tz="UTC")  # 16:00 EDT
    assert by_root.loc["SPX", "n"] == by_root.loc["SPXW", "n"] == 2 * 369


def test_spx_vendor_iv_is_decimal(spx23):
    # CBOE IV column is a decimal. File line 4513: Fri Oct 20 2023,SPX231020C04500000,76.33,19.73,
    # 76.4,77.8,904,0.1088,0.5841,0.0025,26503,4500.00,SPX231020P04500000,47.27,-22.78,46.7,47.5,
    # 1029,0.1088,-0.4164,0.0025,25199
    row = spx23[spx23["symbol"] == "SPX231020C04500000"].iloc[0]
    assert row["vendor_iv"] == 0.1088 and row["src_line"] == 4513
    assert (row["bid"], row["ask"], row["last"], row["volume"], row["open_interest"]) == (76.4, 77.8, 76.33, 904, 26503)
    put = spx23[spx23["symbol"] == "SPX231020P04500000"].iloc[0]
    assert (put["bid"], put["ask"], put["vendor_delta"], put["net_change"]) == (46.7, 47.5, -0.4164, -22.78)
    assert put["expiry"] == pd.Timestamp("2023-10-20 13:30", tz="UTC")  # AM: 09:30 EDT
    assert (spx23["exercise"] == "european").all() and (spx23["settlement_type"] == "cash").all()


def test_spy_is_american_physical_pm(data_dir):
    ch = load_option_chain(data_dir / "options" / "cboe_spy_2023-09-14.csv")
    assert len(ch) == 2 * 3646  # 3,650 lines - 4 header lines
    assert set(ch["root"]) == {"SPY"}
    assert (ch["exercise"] == "american").all() and (ch["settlement_type"] == "physical").all()
    assert (ch["settlement"] == "PM").all()
    assert ch["underlying_px"].iloc[0] == 450.81  # header line 2 "Last: 450.81"


# ------------------------------------------------------------------ the Saturday exports


@pytest.mark.parametrize(
    ("name", "roots", "rows"),
    [("cboe_spx_2022-02-04.csv", {"SPX", "SPXW"}, 10257), ("cboe_ndx_2022-02-04.csv", {"NDX", "NDXP"}, 9193)],
)
def test_weekend_header_uses_friday_close_and_no_spot(data_dir, name, roots, rows):
    # header "Date: February 5 2022, 8:09 PM EST" is a Saturday: quote time = Fri 2022-02-04
    # 16:00 EST = 21:00 UTC, header Last is not used.
    ch = load_option_chain(data_dir / "options" / name)
    assert len(ch) == 2 * rows
    assert set(ch["root"]) == roots
    assert (ch["ts"] == pd.Timestamp("2022-02-04 21:00", tz="UTC")).all()
    assert ch["underlying_px"].isna().all()
    assert (ch["underlying_px_source"] == "parity_required").all()


def test_weekend_overrides(data_dir):
    ch = load_option_chain(
        data_dir / "options" / "cboe_ndx_2022-02-04.csv",
        quote_time="2022-02-04 15:59:00-05:00",
        underlying_px=14098.01,
    )
    assert (ch["ts"] == pd.Timestamp("2022-02-04 20:59", tz="UTC")).all()
    assert (ch["underlying_px"] == 14098.01).all() and (ch["underlying_px_source"] == "user").all()
    # NDX monthly of 2022-02-18 is AM (09:30 EST = 14:30 UTC); NDXP weekly of 02-07 is PM
    ndx = ch[ch["root"] == "NDX"]["expiry"].min()
    assert ndx == pd.Timestamp("2022-02-18 14:30", tz="UTC")
    ndxp = ch[ch["root"] == "NDXP"]["expiry"].min()
    assert ndxp == pd.Timestamp("2022-02-07 21:00", tz="UTC")


def test_bad_overrides(data_dir):
    p = data_dir / "options" / "deribit_btc_2020-05-21.csv"
    with pytest.raises(ConfigError, match="time zone"):
        load_option_chain(p, quote_time="2020-05-21 23:20")
    with pytest.raises(ConfigError, match="underlying_px"):
        load_option_chain(p, underlying_px=-1.0)


# ------------------------------------------------------------------ Deribit


def test_deribit_first_instrument(deribit):
    assert len(deribit) == 326  # 326 instruments (VENDOR_FORMATS.md)
    # file line 2 (index 0): BTC-22MAY20-9250-P, expiration 1590134400000, underlying_price 9096.11,
    # timestamp 1590103193775, mark_iv 85.05, bid 0.02 x 9.0, ask 0.023 x 9.0, bid_iv 72.4,
    # ask_iv 101.17, greeks delta -0.73032, gamma 0.00136
    r = deribit[deribit["symbol"] == "BTC-22MAY20-9250-P"].iloc[0]
    assert r["src_line"] == 2
    assert r["expiry"] == pd.Timestamp("2020-05-22 08:00", tz="UTC")
    assert r["expiry"].value // 1_000_000 == 1590134400000
    assert r["ts"] == pd.Timestamp(1590103193775, unit="ms", tz="UTC")
    assert r["underlying_px"] == 9096.11 and r["underlying_px_source"] == "vendor_future"
    assert r["strike"] == 9250.0 and r["right"] == "P"
    assert r["bid"] == 0.02 and r["ask"] == 0.023 and r["bid_size"] == 9.0 and r["ask_size"] == 9.0
    assert r["vendor_iv"] == pytest.approx(0.8505, abs=1e-12)
    assert r["vendor_bid_iv"] == pytest.approx(0.724, abs=1e-12)
    assert r["vendor_ask_iv"] == pytest.approx(1.0117, abs=1e-12)
    assert r["vendor_delta"] == -0.73032 and r["vendor_gamma"] == 0.00136
    assert r["volume"] == 717.1  # stats {'volume': 717.1, ...}
    assert r["quote_ccy"] == "BTC" and r["settlement"] == "TWAP" and r["root"] == "BTC"


def test_deribit_expiries_all_0800_utc(deribit):
    assert (deribit["expiry"].dt.hour == 8).all() and (deribit["expiry"].dt.minute == 0).all()
    assert deribit["expiry"].nunique() == 7
    # the future differs per expiry: Dec-25 future ~9,260 vs May-22 ~9,090
    by = deribit.groupby("expiry")["underlying_px"].mean()
    assert by.iloc[-1] - by.iloc[0] > 100


def test_deribit_no_trade_last_is_nan(deribit):
    # line 4: BTC-26JUN20-10500-P has an empty last_price (no trade)
    r = deribit[deribit["symbol"] == "BTC-26JUN20-10500-P"].iloc[0]
    assert np.isnan(r["last"])


def test_deribit_literal_columns_need_ast(data_dir, tmp_path):
    # the greeks column uses Python literals ('...', None) that JSON would reject
    lines = (data_dir / "options" / "deribit_btc_2020-05-21.csv").read_text().splitlines()
    assert "{'vega'" in lines[1] and "None" in lines[3]
    bad = lines[:2]
    bad[1] = bad[1].replace("{'vega': 0.94545", "{'vega: 0.94545", 1)
    with pytest.raises(FormatError, match=r"line|row 2"):
        load_option_chain(_write(tmp_path, bad))


def test_deribit_expiry_timestamp_checked(data_dir, tmp_path):
    lines = (data_dir / "options" / "deribit_btc_2020-05-21.csv").read_text().splitlines()
    bad = lines[:3]
    bad[2] = bad[2].replace("1591344000000", "1591347600000", 1)  # 09:00 instead of 08:00
    with pytest.raises(DataError, match="row 3"):
        load_option_chain(_write(tmp_path, bad))


# ------------------------------------------------------------------ bad CBOE input


def test_crossed_quote_is_flagged_not_dropped(spx_lines, tmp_path):
    lines = spx_lines[:5]
    # line 5 call: bid 3300.1 ask 3319.8 -> make the ask 3290.0 (< bid, both > 0)
    lines[4] = lines[4].replace(",3300.1,3319.8,", ",3300.1,3290.0,", 1)
    ch = load_option_chain(_write(tmp_path, lines))
    assert len(ch) == 2
    assert ch.set_index("right").loc["C", "crossed"]
    assert not ch.set_index("right").loc["P", "crossed"]  # bid 0 ask 0.05: not crossed


def test_missing_column(spx_lines, tmp_path):
    lines = spx_lines[:6]
    lines[3] = lines[3].replace(",IV,", ",ImpVol,", 1)
    with pytest.raises(FormatError, match="row 4"):
        load_option_chain(_write(tmp_path, lines))


def test_truncated_file(spx_lines, tmp_path):
    lines = spx_lines[:7]
    lines[6] = lines[6][:40]
    with pytest.raises(FormatError, match=r"row 7.*truncated"):
        load_option_chain(_write(tmp_path, lines))


def test_non_numeric_price(spx_lines, tmp_path):
    lines = spx_lines[:7]
    lines[5] = lines[5].replace(",0,0,", ",abc,0,", 1)
    with pytest.raises(FormatError, match=r"row 6.*not a number"):
        load_option_chain(_write(tmp_path, lines))


def test_negative_bid(spx_lines, tmp_path):
    lines = spx_lines[:5]
    lines[4] = lines[4].replace(",3300.1,", ",-3300.1,", 1)
    with pytest.raises(DataError, match=r"row 5.*negative"):
        load_option_chain(_write(tmp_path, lines))


def test_unparseable_header_date(spx_lines, tmp_path):
    lines = spx_lines[:6]
    lines[2] = lines[2].replace("September 14, 2023 at 4:31 PM", "Sometime soon", 1)
    with pytest.raises(FormatError, match=r"row 3.*header date"):
        load_option_chain(_write(tmp_path, lines))


def test_header_zone_label_checked(spx_lines, tmp_path):
    lines = spx_lines[:6]
    lines[2] = lines[2].replace("PM EDT", "PM EST", 1)  # mid-September New York is on EDT
    with pytest.raises(FormatError, match=r"row 3.*EDT"):
        load_option_chain(_write(tmp_path, lines))


def test_symbol_disagrees_with_row(spx_lines, tmp_path):
    lines = spx_lines[:6]
    lines[5] = lines[5].replace("Thu Sep 14 2023", "Fri Sep 15 2023", 1)  # symbol says 230914
    with pytest.raises(DataError, match="row 6"):
        load_option_chain(_write(tmp_path, lines))


def test_unknown_layout(tmp_path):
    with pytest.raises(FormatError, match="unknown option-chain layout"):
        load_option_chain(_write(tmp_path, ["a,b,c", "1,2,3"]))


# ------------------------------------------------------------------ bad Deribit input


@pytest.fixture(scope="module")
def deribit_lines(data_dir):
    return (data_dir / "options" / "deribit_btc_2020-05-21.csv").read_text().splitlines()


def test_deribit_missing_column(deribit_lines, tmp_path):
    lines = deribit_lines[:3]
    lines[0] = lines[0].replace(",mark_iv,", ",markiv,", 1)
    with pytest.raises(FormatError, match=r"row 1.*mark_iv"):
        load_option_chain(_write(tmp_path, lines))


def test_deribit_truncated_inside_a_quoted_field(deribit_lines, tmp_path):
    lines = deribit_lines[:3]
    lines[2] = lines[2][: lines[2].index("'vega'") + 10]  # ends inside the quoted greeks dict
    with pytest.raises(FormatError, match="truncated"):
        load_option_chain(_write(tmp_path, lines))


def test_deribit_non_numeric_and_negative(deribit_lines, tmp_path):
    lines = deribit_lines[:2]
    lines[1] = lines[1].replace(",0.02,9.0,0.023,9.0,", ",0.02,9.0,x,9.0,", 1)
    with pytest.raises(FormatError, match=r"row 2.*best_ask_price"):
        load_option_chain(_write(tmp_path, lines))
    lines = deribit_lines[:2]
    lines[1] = lines[1].replace(",0.02,9.0,0.023,9.0,", ",0.02,-9.0,0.023,9.0,", 1)
    with pytest.raises(DataError, match=r"row 2.*negative"):
        load_option_chain(_write(tmp_path, lines))


def test_duplicate_contract(deribit_lines, tmp_path):
    with pytest.raises(DataError, match=r"row 3.*duplicate"):
        load_option_chain(_write(tmp_path, [deribit_lines[0], deribit_lines[1], deribit_lines[1]]))
