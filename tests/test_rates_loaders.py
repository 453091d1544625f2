"""Rates, commodity and equity loaders on the shipped files, plus one test per bad-input class."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from mmlab.data import (
    load_sofr,
    load_sp500_daily,
    load_swap_quotes,
    load_treasury_par_yields,
    load_wti_settles,
)
from mmlab.errors import ConfigError, DataError, FormatError, TimestampOrderError


def _write(tmp_path, text, name):
    p = tmp_path / name
    p.write_text(text)
    return p


# ------------------------------------------------------------------ Treasury par yields


@pytest.fixture(scope="module")
def ust(data_dir):
    files = sorted((data_dir / "rates").glob("ust_par_yields_*.csv"))
    assert len(files) == 3
    return load_treasury_par_yields(files)


def test_ust_concatenated_sorted_decimal(ust):
    assert ust.index.is_monotonic_increasing and not ust.index.has_duplicates
    assert ust.index[0] == pd.Timestamp("1990-01-02") and ust.index[-1] == pd.Timestamp("2025-07-11")
    # 8,507 + 250 + 131 data rows, minus the all-blank 10/11/10 row of the 1990-2023 file
    assert len(ust) == 8507 + 250 + 131 - 1
    assert ust.attrs["blank_dates"] == [pd.Timestamp("2010-10-11")]
    assert list(ust.columns) == ["1M", "1.5M", "2M", "3M", "4M", "6M", "1Y", "2Y", "3Y", "5Y", "7Y",
                                 "10Y", "20Y", "30Y"]  # fmt: skip
    # ust_par_yields_1990-2023.csv line 2: 12/29/23 ... 10 Yr 3.88
    assert ust.loc["2023-12-29", "10Y"] == pytest.approx(0.0388, abs=1e-12)
    # last line: 1/2/90: 1 Mo empty, 3 Mo 7.83, 20 Yr empty, 30 Yr 8
    row = ust.loc["1990-01-02"]
    assert np.isnan(row["1M"]) and np.isnan(row["20Y"])
    assert row["3M"] == pytest.approx(0.0783, abs=1e-12) and row["30Y"] == pytest.approx(0.08, abs=1e-12)
    # ust_par_yields_2025.csv line 2: 2025-07-11, 1.5 Mo 4.39; earlier years have no 1.5M
    assert ust.loc["2025-07-11", "1.5M"] == pytest.approx(0.0439, abs=1e-12)
    assert ust.loc[:"2024-12-31", "1.5M"].isna().all()


def test_ust_long_layout(data_dir):
    long = load_treasury_par_yields(data_dir / "rates" / "ust_par_yields_2024.csv", layout="long")
    assert list(long.columns) == ["date", "tenor", "tenor_years", "par_yield"]
    assert len(long) == 250 * 13  # 250 days x 13 tenors, none empty in 2024
    r = long[(long["date"] == "2024-12-31") & (long["tenor"] == "30Y")].iloc[0]
    assert r["tenor_years"] == 30.0 and r["par_yield"] == pytest.approx(0.0478, abs=1e-12)


UST_HEAD = "Date,1 Mo,2 Mo,3 Mo\n"


def test_ust_duplicate_date_across_files(tmp_path):
    a = _write(tmp_path, UST_HEAD + "2024-01-03,5.5,5.5,5.4\n2024-01-02,5.5,5.5,5.4\n", "a.csv")
    b = _write(tmp_path, UST_HEAD + "01/03/24,5.5,5.5,5.4\n", "b.csv")
    with pytest.raises(DataError, match="2024-01-03"):
        load_treasury_par_yields([a, b])


def test_ust_duplicate_date_within_file(tmp_path):
    a = _write(tmp_path, UST_HEAD + "2024-01-03,5.5,5.5,5.4\n2024-01-03,5.5,5.5,5.4\n", "a.csv")
    with pytest.raises(DataError, match="row 3"):
        load_treasury_par_yields(a)


def test_ust_dates_not_monotonic(tmp_path):
    a = _write(tmp_path, UST_HEAD + "2024-01-03,1,1,1\n2024-01-02,1,1,1\n2024-01-04,1,1,1\n", "a.csv")
    with pytest.raises(TimestampOrderError, match="row 4"):
        load_treasury_par_yields(a)


def test_ust_missing_date_column(tmp_path):
    a = _write(tmp_path, "Day,1 Mo\n2024-01-03,1\n", "a.csv")
    with pytest.raises(FormatError, match=r"row 1.*Date"):
        load_treasury_par_yields(a)


def test_ust_empty_tenor_is_nan_not_error(tmp_path):
    # early-year files have blank tenors (the 1990 rows have no 1 Mo / 20 Yr): legitimate
    a = _write(tmp_path, UST_HEAD + "1/3/90,,,7.89\n1/2/90,,,7.83\n", "a.csv")
    y = load_treasury_par_yields(a)
    assert y["1M"].isna().all() and y["3M"].tolist() == pytest.approx([0.0783, 0.0789], abs=1e-12)


def test_ust_unknown_column(tmp_path):
    a = _write(tmp_path, "Date,1 Mo,13 Mo\n2024-01-03,1,1\n", "a.csv")
    with pytest.raises(FormatError, match="13 Mo"):
        load_treasury_par_yields(a)


def test_ust_non_numeric(tmp_path):
    a = _write(tmp_path, UST_HEAD + "2024-01-03,5.5,n/a,5.4\n", "a.csv")
    with pytest.raises(FormatError, match=r"row 2.*2 Mo"):
        load_treasury_par_yields(a)


def test_ust_truncated(tmp_path):
    a = _write(tmp_path, UST_HEAD + "2024-01-03,5.5,5.5,5.4\n2024-01-04,5.5", "a.csv")
    with pytest.raises(FormatError, match=r"row 3.*truncated"):
        load_treasury_par_yields(a)


def test_ust_bad_date(tmp_path):
    a = _write(tmp_path, UST_HEAD + "2024-01-03,5.5,5.5,5.4\n2024-13-04,5.5,5.5,5.4\n", "a.csv")
    with pytest.raises(FormatError, match=r"row 3.*date"):
        load_treasury_par_yields(a)


# ------------------------------------------------------------------ SOFR


def test_sofr_values_and_blank_holidays(data_dir):
    s = load_sofr(data_dir / "rates" / "sofr_fixings_2018-2025.csv")
    # 1,895 data rows, 82 of them blank (holidays) -> 1,813 fixings
    assert len(s) == 1895 - 82 and len(s.attrs["blank_dates"]) == 82
    assert s["sofr"].iloc[0] == pytest.approx(0.0183, abs=1e-12)  # line 2: 4/3/2018,1.83
    assert s.loc["2025-07-07", "sofr"] == pytest.approx(0.0433, abs=1e-12)  # last line: 7/7/2025,4.33
    assert pd.Timestamp("2025-07-04") in s.attrs["blank_dates"]  # "7/4/2025," blank (holiday)
    assert pd.Timestamp("2025-07-04") not in s.index
    assert not s["sofr"].isna().any()


def test_sofr_blank_row_accepted(tmp_path):
    p = _write(tmp_path, "Date,SOFR\n7/3/2025,4.35\n7/4/2025,\n7/7/2025,.\n7/8/2025,4.32\n", "s.csv")
    s = load_sofr(p)
    assert list(s["sofr"]) == pytest.approx([0.0435, 0.0432], abs=1e-12)


def test_sofr_bad_inputs(tmp_path):
    with pytest.raises(FormatError, match="row 1"):
        load_sofr(_write(tmp_path, "Date,RATE\n7/3/2025,4.35\n", "a.csv"))
    with pytest.raises(FormatError, match="row 3"):
        load_sofr(_write(tmp_path, "Date,SOFR\n7/3/2025,4.35\n7/7/2025,4.3x\n", "b.csv"))
    with pytest.raises(TimestampOrderError, match="row 3"):
        load_sofr(_write(tmp_path, "Date,SOFR\n7/3/2025,4.35\n7/2/2025,4.3\n", "c.csv"))
    with pytest.raises(DataError, match="row 3"):
        load_sofr(_write(tmp_path, "Date,SOFR\n7/3/2025,4.35\n7/3/2025,4.3\n", "d.csv"))


# ------------------------------------------------------------------ swap quotes


def test_swap_quotes(data_dir):
    q = load_swap_quotes(data_dir / "rates" / "usd_swap_curve_quotes_2023-10-19.json")
    assert (q["as_of"] == pd.Timestamp("2023-10-19")).all()
    assert q["instrument"].value_counts().to_dict() == {"future": 8, "swap": 7, "deposit": 3}
    # file: "d1w":[0.053], "s30y":[0.0437], "fut1":[94.6625]
    d = q.set_index("name")
    assert d.loc["d1w", "rate"] == 0.053 and d.loc["d1w", "tenor"] == "1W"
    assert d.loc["s30y", "rate"] == 0.0437 and d.loc["s30y", "tenor_years"] == 30.0
    assert d.loc["fut1", "quote"] == 94.6625
    assert d.loc["fut1", "rate"] == pytest.approx((100 - 94.6625) / 100, abs=1e-15)
    assert list(q["instrument"]) == ["deposit"] * 3 + ["future"] * 8 + ["swap"] * 7


def test_swap_quotes_bad(tmp_path):
    good = {"d1w": [0.053], "s2y": [0.0496], "fut1": [94.66]}
    with pytest.raises(FormatError, match="JSON"):
        load_swap_quotes(_write(tmp_path, json.dumps(good)[:-5], "q_2023-10-19.json"))
    with pytest.raises(FormatError, match="not a finite number"):
        load_swap_quotes(_write(tmp_path, json.dumps({**good, "s3y": ["x"]}), "q_2023-10-19.json"))
    with pytest.raises(FormatError, match="unknown quote key"):
        load_swap_quotes(_write(tmp_path, json.dumps({**good, "swap5": [0.04]}), "q_2023-10-19.json"))
    with pytest.raises(DataError, match="percent"):
        load_swap_quotes(_write(tmp_path, json.dumps({**good, "s5y": [4.59]}), "q_2023-10-19.json"))
    with pytest.raises(FormatError, match="gaps"):
        load_swap_quotes(_write(tmp_path, json.dumps({**good, "fut3": [94.6]}), "q_2023-10-19.json"))
    with pytest.raises(ConfigError, match="as_of"):
        load_swap_quotes(_write(tmp_path, json.dumps(good), "quotes.json"))
    q = load_swap_quotes(_write(tmp_path, json.dumps(good), "quotes.json"), as_of="2023-10-20")
    assert (q["as_of"] == pd.Timestamp("2023-10-20")).all()


# ------------------------------------------------------------------ WTI


@pytest.fixture(scope="module")
def wti(data_dir):
    return load_wti_settles(data_dir / "commodities" / "wti_cl01-cl36_settles_2007-2023.csv")


def test_wti_negative_settle_loaded_exactly(wti):
    assert wti.shape == (4233, 36)
    # line "2020-04-20,-37.63,20.43,26.28,28.51,...": the May 2020 contract the day before expiry
    assert wti.loc["2020-04-20", "CL01"] == -37.63
    assert wti.loc["2020-04-20", "CL02"] == 20.43
    assert (wti < 0).sum().sum() == 1
    # first data line: 2007-01-02,61.05,62.38,...,66.84 ; last: 2023-10-19,89.37,...,70.74
    assert wti.iloc[0]["CL01"] == 61.05 and wti.iloc[0]["CL36"] == 66.84
    assert wti.index[-1] == pd.Timestamp("2023-10-19") and wti.iloc[-1]["CL36"] == 70.74


def test_wti_long(data_dir):
    long = load_wti_settles(data_dir / "commodities" / "wti_cl01-cl36_settles_2007-2023.csv", layout="long")
    r = long[(long["date"] == "2020-04-20") & (long["rank"] == 1)].iloc[0]
    assert r["symbol"] == "CL01" and r["settle"] == -37.63
    assert len(long) == 4233 * 36


WTI_HEAD = "date,CL01,CL02\n"


def test_wti_negative_row_accepted(tmp_path):
    w = load_wti_settles(_write(tmp_path, WTI_HEAD + "2020-04-17,18.27,25.03\n2020-04-20,-37.63,20.43\n", "w.csv"))
    assert w["CL01"].tolist() == [18.27, -37.63]


@pytest.mark.parametrize(
    ("text", "err", "match"),
    [
        ("date,CL01,CL03\n2020-04-17,1,2\n", FormatError, "gaps"),  # missing CL02
        ("date,CL1,CL2\n2020-04-17,1,2\n", FormatError, "row 1"),  # renamed columns
        (WTI_HEAD + "2020-04-17,1,x\n", FormatError, r"row 2.*CL02"),  # non-numeric
        (WTI_HEAD + "2020-04-17,1,\n", FormatError, r"row 2.*empty"),  # NaN where a number is needed
        (WTI_HEAD + "2020-04-17,1,2\n2020-04-16,1,2\n", TimestampOrderError, "row 3"),  # backwards
        (WTI_HEAD + "2020-04-17,1,2\n2020-04-17,1,2\n", DataError, "row 3"),  # duplicated
        (WTI_HEAD + "2020-04-17,1,2\n2020-04-20,1", FormatError, "truncated"),
    ],
)
def test_wti_bad(tmp_path, text, err, match):
    with pytest.raises(err, match=match):
        load_wti_settles(_write(tmp_path, text, "w.csv"))


# ------------------------------------------------------------------ S&P 500


def test_sp500(data_dir):
    e = load_sp500_daily(data_dir / "equity" / "sp500_daily_1999-2018.csv.gz")
    assert len(e) == 5031 and list(e.columns) == ["open", "high", "low", "close", "adj_close", "volume"]
    # first line: 1/4/1999,1229.22998,1248.810059,1219.099976,1228.099976,1228.099976,877000000
    first = e.iloc[0]
    assert e.index[0] == pd.Timestamp("1999-01-04")
    assert first["open"] == 1229.22998 and first["low"] == 1219.099976 and first["volume"] == 877000000
    assert e["volume"].dtype == np.int64 and e.index.is_monotonic_increasing


SPX_HEAD = "Date,Open,High,Low,Close,Adj Close,Volume\n"
SPX_ROW = "1/4/1999,1229.22998,1248.810059,1219.099976,1228.099976,1228.099976,877000000\n"


def _gz(tmp_path, text, name="s.csv.gz"):
    p = tmp_path / name
    with gzip.open(p, "wt") as fh:
        fh.write(text)
    return p


def test_sp500_truncated_gzip(tmp_path):
    p = _gz(tmp_path, SPX_HEAD + SPX_ROW * 200)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError, match="gzip"):
        load_sp500_daily(p)


@pytest.mark.parametrize(
    ("text", "err", "match"),
    [
        (SPX_HEAD.replace("Adj Close", "AdjClose") + SPX_ROW, FormatError, "row 1"),  # renamed column
        (SPX_HEAD + SPX_ROW.replace("1229.22998", "abc"), FormatError, r"row 2.*Open"),  # non-numeric
        (SPX_HEAD + SPX_ROW.replace("877000000", "-5"), DataError, r"row 2.*negative"),  # negative
        (SPX_HEAD + SPX_ROW.replace("1248.810059", "1200"), DataError, r"row 2.*inconsistent"),
        (SPX_HEAD + SPX_ROW + SPX_ROW.replace("1/4/1999", "1/1/1999"), TimestampOrderError, "row 3"),
        (SPX_HEAD + SPX_ROW + SPX_ROW, DataError, r"row 3.*duplicate"),
    ],
)
def test_sp500_bad(tmp_path, text, err, match):
    with pytest.raises(err, match=match):
        load_sp500_daily(_gz(tmp_path, text))
