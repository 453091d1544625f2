"""WTI futures curve: roll ranks -> NYMEX contract months, carry, spreads, options on any month.

Reference facts (NYMEX CL contract specification, "Termination of Trading": trading terminates
3 business days before the 25th calendar day of the month before the delivery month, or 4 business
days before it if the 25th is not a business day; 14:30 New York settle):

* CLK20 (May 2020) settled at -37.63 on Mon 2020-04-20 while CLM20 (June) settled at 20.43, and
  CLK20 expired on Tue 2020-04-21 at 10.01 (CME settlement reports, widely quoted at the time).
  Rule: Sat 2020-04-25 is not a business day -> 4 business days back: 24, 23, 22, 21 April.
* CLM20 (June 2020) expired Tue 2020-05-19 at 32.50: Mon 2020-05-25 was Memorial Day -> 4 back.
* CLX23 (Nov 2023) last traded Fri 2023-10-20 (Wed 25 October is a business day -> 3 back);
  CLZ23 Mon 2023-11-20 (Sat 25 Nov, Thanksgiving Thu 23 skipped -> 24, 22, 21, 20);
  CLF24 Tue 2023-12-19 (Mon 25 Dec is Christmas -> 22, 21, 20, 19).
Settles quoted below are rows of data/commodities/wti_cl01-cl36_settles_2007-2023.csv.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import QuantLib as ql
from hypothesis import given, settings
from hypothesis import strategies as st

from mmlab.commodities import (
    calendar_spread,
    calendar_spread_history,
    contract_code,
    contract_history,
    contract_months,
    convenience_yield,
    futures_curve,
    futures_option_price,
    parse_contract,
    roll_returns,
    roll_yield,
    roll_yield_history,
    wti_settles,
)
from mmlab.data import cl_last_trade_date, load_wti_settles
from mmlab.errors import ConfigError, DataError

NY = ZoneInfo("America/New_York")


def _years(d0: tuple[int, int, int], d1: tuple[int, int, int]) -> float:
    """ACT/365F between 14:30 New York on two dates, by hand (through UTC: DST changes count)."""
    a = datetime(*d0, 14, 30, tzinfo=NY).astimezone(UTC)
    b = datetime(*d1, 14, 30, tzinfo=NY).astimezone(UTC)
    return (b - a).total_seconds() / (365 * 86400)


# ---------------------------------------------------------------- contract months


def test_april_2020_contract_months_match_nymex():
    c20 = futures_curve("2020-04-20")
    assert c20.contracts[:3] == ["CLK20", "CLM20", "CLN20"]
    assert c20.settle("CLK20") == -37.63 and c20.settle("CLM20") == 20.43
    assert c20.row("CLK20")["last_trade"] == pd.Timestamp("2020-04-21").date()
    assert c20.t("CLK20") == pytest.approx(1 / 365, abs=1e-12)  # one day to the 14:30 expiry
    c21 = futures_curve("2020-04-21")  # CLK20's last day: still the front, t = 0 at the settle
    assert c21.front == "CLK20" and c21.settle(1) == 10.01 and c21.t(1) == 0.0
    c22 = futures_curve("2020-04-22")
    assert c22.front == "CLM20" and c22.row(1)["last_trade"] == pd.Timestamp("2020-05-19").date()
    c_jun = futures_curve("2020-05-19")
    assert c_jun.front == "CLM20" and c_jun.settle("CLM20") == 32.50
    assert futures_curve("2020-05-20").front == "CLN20"


def test_october_2023_curve_dates_by_the_rule():
    c = futures_curve("2023-10-19")
    lt = c.table["last_trade"].astype(str).tolist()[:3]
    assert c.contracts[:3] == ["CLX23", "CLZ23", "CLF24"]
    assert lt == ["2023-10-20", "2023-11-20", "2023-12-19"]
    assert c.t("CLZ23") == pytest.approx(_years((2023, 10, 19), (2023, 11, 20)), abs=1e-12)
    assert len(c.contracts) == 36 and c.contracts[-1] == "CLV26"  # 35 months after Nov 2023
    assert c.valuation == pd.Timestamp("2023-10-19 18:30", tz="UTC")  # 14:30 EDT


def test_master_rule_is_the_one_used():
    # the mapping reuses the instrument master's rule: every row's last trade is that function's
    cm = contract_months()
    sample = cm.drop_duplicates("contract").sample(40, random_state=1)
    for _, r in sample.iterrows():
        assert r["last_trade"] == cl_last_trade_date(int(r["year"]), int(r["month"]))
        assert contract_code(int(r["year"]), int(r["month"])) == r["contract"]
        assert parse_contract(r["contract"]) == (r["year"], r["month"])


def test_contract_months_long_table_is_consistent(data_dir):
    wide = load_wti_settles(data_dir / "commodities" / "wti_cl01-cl36_settles_2007-2023.csv")
    cm = contract_months(wide)
    assert len(cm) == wide.size == 4233 * 36
    # settles are the file's, row by row
    np.testing.assert_array_equal(cm["settle"].to_numpy(), wide.to_numpy().ravel())
    # on every date the front's last trade is on/after the date, and the one before it is earlier
    front = cm[cm["rank"] == 1]
    assert (pd.to_datetime(front["last_trade"]) >= front["date"]).all()
    ranks_per_contract_day = cm.groupby(["date", "contract"]).size()
    assert ranks_per_contract_day.max() == 1  # each contract once per date
    # a contract appears on consecutive ranks as it ages: CL(k) today = CL(k-1) after a roll
    assert (cm.groupby("date")["month"].diff().dropna().isin([1, -11])).all()


def test_contract_history_follows_one_month():
    h = contract_history("CLK20")
    assert h.index[-1] == pd.Timestamp("2020-04-21") and h.iloc[-1] == 10.01
    assert h.loc["2020-04-20"] == -37.63
    assert h.loc["2020-04-17"] == 18.27  # CL01 on the Friday before
    m = contract_history("CLM2020")
    assert m.loc["2020-04-20"] == 20.43 and m.loc["2020-04-22"] == 13.78  # CL02 then CL01
    # first appearance: 36 ranks back, i.e. when it became CL36
    first = h.index[0]
    assert futures_curve(first).contracts[-1] == "CLK20"


# ---------------------------------------------------------------- roll yield, roll returns


def test_roll_yield_by_hand():
    # 2023-10-19: CLX23 89.37, CLZ23 88.37; expiries 2023-10-20 and 2023-11-20 at 14:30 New York
    dt = _years((2023, 10, 20), (2023, 11, 20))  # 31 days + 1 hour (DST ended 5 Nov)
    assert dt == pytest.approx((31 * 24 + 1) / (365 * 24), abs=1e-15)
    expect = math.log(89.37 / 88.37) / dt
    assert roll_yield(futures_curve("2023-10-19")) == pytest.approx(expect, rel=1e-12)
    # a deferred pair by code: CLZ23 -> CLF24 (87.06), 2023-11-20 to 2023-12-19
    expect2 = math.log(88.37 / 87.06) / _years((2023, 11, 20), (2023, 12, 19))
    assert roll_yield(futures_curve("2023-10-19"), "CLZ23", "CLF24") == pytest.approx(expect2, rel=1e-12)


def test_roll_yield_negative_price_is_reported_not_hidden():
    with pytest.raises(DataError, match="2020-04-20.*-37.63"):
        roll_yield(futures_curve("2020-04-20"))
    h = roll_yield_history()
    assert h.loc["2020-04-20", "reason"] == "nonpositive_price" and np.isnan(h.loc["2020-04-20", "roll_yield"])
    assert (h["reason"] == "ok").sum() == len(h) - 1  # the only non-positive front/next settle
    for d in ["2008-07-11", "2015-01-13", "2023-10-19"]:  # history == the one-date function
        assert h.loc[d, "roll_yield"] == pytest.approx(roll_yield(futures_curve(d)), rel=1e-12)
    # sign: 2015-01-13 deep contango (negative), 2023-10-19 backwardation (positive)
    assert h.loc["2015-01-13", "roll_yield"] < 0 < h.loc["2023-10-19", "roll_yield"]


def test_roll_returns_at_expiries():
    rr = roll_returns()
    # one roll a month: Jan 2007 .. Oct 2023 -> 201 expiries inside the file
    assert len(rr) == 201 and (rr["reason"] == "ok").all()
    # each roll's previous row is the expired contract's last trade day (or the last settle before)
    lt = [cl_last_trade_date(*parse_contract(c)) for c in rr["expired"]]
    assert all(p.date() <= d for p, d in zip(rr["prev_date"], lt, strict=True))
    assert all(n.date() > d for n, d in zip(rr.index, lt, strict=True))
    # 2020-04-21 -> 22: CLK20 expired at 10.01, CLM20 was 11.57 then 13.78
    r = rr.loc["2020-04-22"]
    assert (r["expired"], r["new_front"]) == ("CLK20", "CLM20")
    assert r["roll_return"] == pytest.approx(math.log(10.01 / 11.57), rel=1e-12)
    assert r["contract_return"] == pytest.approx(math.log(13.78 / 11.57), rel=1e-12)
    assert r["naive_return"] == pytest.approx(math.log(13.78 / 10.01), rel=1e-12)
    assert r["roll_gap"] == pytest.approx(10.01 - 11.57, abs=1e-12)
    # exact decompositions on every roll
    # (the held contract's return = the roll-ranked series' change + the roll return)
    np.testing.assert_allclose(rr["contract_return"], rr["naive_return"] + rr["roll_return"], atol=1e-12)
    np.testing.assert_allclose(rr["contract_change"], rr["naive_change"] + rr["roll_gap"], atol=1e-9)
    # in backwardation (the front above the next month) the roll earns: 2020-04 was contango
    assert r["roll_return"] < 0 and (rr["roll_return"] > 0).sum() > 50


# ---------------------------------------------------------------- convenience yield


def test_convenience_yield_by_hand():
    r = 0.053
    cy = convenience_yield(futures_curve("2023-10-19"), rate=r)
    assert cy.iloc[0]["reason"] == "spot_proxy" and np.isnan(cy.iloc[0]["carry"])
    # CLF24 87.06 vs front CLX23 89.37; tau = 2023-10-20 -> 2023-12-19 (60 days + 1 h)
    tau = _years((2023, 10, 20), (2023, 12, 19))
    carry = math.log(87.06 / 89.37) / tau
    assert cy.loc["CLF24", "tau"] == pytest.approx(tau, abs=1e-12)
    assert cy.loc["CLF24", "carry"] == pytest.approx(carry, rel=1e-12)
    assert cy.loc["CLF24", "convenience_yield"] == pytest.approx(r - carry, rel=1e-12)
    # reconstruct every settle from F = S exp((r - y) tau) with S = the front settle
    ok = cy["reason"] == "ok"
    rebuilt = 89.37 * np.exp((cy.loc[ok, "rate"] - cy.loc[ok, "convenience_yield"]) * cy.loc[ok, "tau"])
    np.testing.assert_allclose(rebuilt, cy.loc[ok, "settle"], rtol=1e-12)
    # a term-structure rate function is applied per horizon
    cy2 = convenience_yield(futures_curve("2023-10-19"), rate=lambda tau: 0.05 + 0.01 * tau)
    np.testing.assert_allclose(cy2["rate"], 0.05 + 0.01 * cy2["tau"])


def test_convenience_yield_negative_front():
    cy = convenience_yield(futures_curve("2020-04-20"), rate=0.001)
    assert (cy["reason"] == "nonpositive_price").all() and cy["carry"].isna().all()


# ---------------------------------------------------------------- calendar spreads


def test_calendar_spreads_any_months():
    c = futures_curve("2020-04-20")
    assert calendar_spread(c, "CLK20", "CLM20") == pytest.approx(-37.63 - 20.43, abs=1e-12)
    assert calendar_spread(c, 1, 2) == calendar_spread(c, "CLK20", "CLM20")
    h = calendar_spread_history("CLZ23", "CLZ24")
    for d in ["2022-12-01", "2023-06-01", "2023-10-19"]:
        cd = futures_curve(d)
        assert h.loc[d, "spread"] == pytest.approx(calendar_spread(cd, "CLZ23", "CLZ24"), abs=1e-12)
    # the pair is listed together from when CLZ24 became CL36 to the end of the file
    assert h.index[0] == contract_history("CLZ24").index[0] and h.index[-1] == pd.Timestamp("2023-10-19")
    with pytest.raises(ConfigError):
        calendar_spread(c, "CLK20", "CLK20")
    with pytest.raises(ConfigError, match="not on the 2020-04-20 curve"):
        calendar_spread(c, "CLZ25", "CLZ26")


# ---------------------------------------------------------------- options


def _bachelier_closed_form(flag, F, K, t, r, s_n):
    # V = e^{-rt} [theta (F-K) N(theta d) + s_n sqrt(t) phi(d)], d = (F-K)/(s_n sqrt t) (Bachelier 1900)
    th = 1.0 if flag == "c" else -1.0
    s = s_n * math.sqrt(t)
    d = (F - K) / s
    N = 0.5 * (1.0 + math.erf(th * d / math.sqrt(2.0)))
    phi = math.exp(-0.5 * d * d) / math.sqrt(2.0 * math.pi)
    return math.exp(-r * t) * (th * (F - K) * N + s * phi)


def test_bachelier_on_negative_future():
    c = futures_curve("2020-04-20")  # CLK20 at -37.63, one day to expiry
    t = 1 / 365
    for K in (-50.0, -37.63, 0.0, 10.0):
        for flag in ("c", "p"):
            got = float(futures_option_price(c, "CLK20", K, flag, 60.0, model="bachelier", rate=0.01))
            assert got == pytest.approx(_bachelier_closed_form(flag, -37.63, K, t, 0.01, 60.0), rel=1e-12, abs=1e-13)
    # ATM: e^{-rt} s_n sqrt(t / 2 pi)
    atm = float(futures_option_price(c, 1, -37.63, "c", 60.0, model="bachelier"))
    assert atm == pytest.approx(60.0 * math.sqrt(t / (2 * math.pi)), rel=1e-13)
    # put-call parity with a negative forward
    Ks = np.array([-60.0, -20.0, 5.0])
    cp = futures_option_price(c, "CLK20", Ks, "c", 60.0, model="bachelier", rate=0.02)
    pp = futures_option_price(c, "CLK20", Ks, "p", 60.0, model="bachelier", rate=0.02)
    np.testing.assert_allclose(cp - pp, math.exp(-0.02 * t) * (-37.63 - Ks), atol=1e-12)


def test_black76_refuses_nonpositive_future():
    c = futures_curve("2020-04-20")
    with pytest.raises(ConfigError, match=r"CLK20 settled at -37.63 on 2020-04-20.*bachelier"):
        futures_option_price(c, "CLK20", 10.0, "c", 0.9)
    out = futures_option_price(c, "CLK20", [5.0, 10.0], "c", 0.9, invalid="nan")
    assert out.shape == (2,) and np.isnan(out).all()
    # the next month is positive on the same day and prices normally
    assert futures_option_price(c, "CLM20", 20.0, "p", 1.5) > 0


def test_black76_any_month_vs_quantlib():
    # QuantLib's blackFormula as the oracle; CLF24 on 2023-10-19 (87.06), option with the future
    c = futures_curve("2023-10-19")
    t = _years((2023, 10, 19), (2023, 12, 19))
    r, vol = 0.053, 0.35
    for K, flag, qtype in ((80.0, "c", ql.Option.Call), (95.0, "p", ql.Option.Put), (87.06, "c", ql.Option.Call)):
        ref = ql.blackFormula(qtype, K, 87.06, vol * math.sqrt(t), math.exp(-r * t))
        got = float(futures_option_price(c, "CLF24", K, flag, vol, rate=r))
        assert got == pytest.approx(ref, rel=1e-10)
    # an earlier option expiry (listed LO options stop before their future)
    exp = "2023-12-14 19:30"
    t2 = _years((2023, 10, 19), (2023, 12, 14))
    ref = ql.blackFormula(ql.Option.Call, 90.0, 87.06, vol * math.sqrt(t2), math.exp(-r * t2))
    assert float(futures_option_price(c, "CLF24", 90.0, "c", vol, rate=r, expiry=exp)) == pytest.approx(ref, rel=1e-10)
    with pytest.raises(ConfigError, match="after CLF24's expiry"):
        futures_option_price(c, "CLF24", 90.0, "c", vol, expiry="2023-12-20")
    with pytest.raises(ConfigError, match="model"):
        futures_option_price(c, "CLF24", 90.0, "c", vol, model="sabr")


def test_bad_inputs_are_typed():
    with pytest.raises(ConfigError, match="2020-04-25 has no settles"):
        futures_curve("2020-04-25")  # a Saturday
    with pytest.raises(ConfigError, match="CL code"):
        parse_contract("CLA20")
    with pytest.raises(ConfigError, match="rank"):
        futures_curve("2020-04-20").row(37)


# ---------------------------------------------------------------- properties


@settings(max_examples=40, deadline=None)
@given(i=st.integers(min_value=0, max_value=4232))
def test_any_date_maps_to_consecutive_live_months(i):
    day = wti_settles().index[i]
    c = futures_curve(day)
    tab = c.table
    # the front is the nearest contract not yet past its last trade; the one before it had expired
    assert tab["last_trade"].iloc[0] >= day.date()
    y, m = parse_contract(c.front)
    py, pm = (y, m - 1) if m > 1 else (y - 1, 12)
    assert cl_last_trade_date(py, pm) < day.date()
    # consecutive delivery months, strictly later expiries, t >= 0 and increasing
    k = tab["year"].to_numpy() * 12 + tab["month"].to_numpy()
    assert (np.diff(k) == 1).all()
    assert (tab["t"].iloc[0] >= 0) and (np.diff(tab["t"].to_numpy()) > 0).all()
    # settles are the file's row
    np.testing.assert_array_equal(tab["settle"].to_numpy(), wti_settles().iloc[i].to_numpy())
