"""Option book backtest: synthetic option stream, chain quoter + delta hedge, PnL split, Greeks explain."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hst

from mmlab.backtest import (
    EXPLAIN_TERMS,
    OptionBookConfig,
    OptionStreamConfig,
    greeks_pnl_explain,
    run_option_book,
    synthetic_option_stream,
    synthetic_underlying_path,
    underlying_path_from_lobster,
    underlying_path_from_prices,
)
from mmlab.data import default_master, load_option_chain, load_sp500_daily
from mmlab.errors import ConfigError
from mmlab.pricing import NS_PER_YEAR, bsm_greeks
from mmlab.quoting import ChainQuoterConfig
from mmlab.risk import DeltaHedgeConfig
from mmlab.surface import fit_surface

EXPIRY = "2023-10-20 13:30Z"  # SPX monthly (AM-settled) of the 2023-09-14 chain, T = 0.0978 y
STRIKES = np.arange(4300.0, 4751.0, 50.0)
QC = ChainQuoterConfig(base_half_spread=0.1, vega_width=0.0005, gamma_move=0.0, max_position=20)
FLAT = 0.15


def flat(K, T):
    return np.full(np.shape(K), FLAT)


@pytest.fixture(scope="module")
def spx_surface(data_dir):
    return fit_surface(load_option_chain(data_dir / "options" / "cboe_spx_2023-09-14.csv"))


@pytest.fixture(scope="module")
def fine_path(spx_surface):
    # one trading day of 1-minute steps from the chain's quote time
    return synthetic_underlying_path(spx_surface.spot, 0.15, 390, step="1min", start=spx_surface.valuation_time,
                                     seed=3)


@pytest.fixture(scope="module")
def books(spx_surface, fine_path):
    """The same stream traded unhedged and hedged (threshold 25 SPX units)."""
    un = run_option_book(spx_surface, fine_path, STRIKES, EXPIRY, QC, None, seed=1)
    he = run_option_book(None, None, None, None, QC, DeltaHedgeConfig(threshold=25.0), stream=un.stream)
    return un, he


# ------------------------------------------------------------------------------------ stream
def test_stream_theo_matches_hull_example():
    # Hull, Options, Futures and Other Derivatives (8th ed.), Example 15.6: S 42, K 40, r 10 %,
    # vol 20 %, 6 months: call 4.76, put 0.81 (no dividends: carry = r)
    path = synthetic_underlying_path(42.0, 0.2, 2, step="1min", seed=0)
    st = synthetic_option_stream(lambda K, T: np.full(np.shape(K), 0.2), path, [40.0], 0.5,
                                 config=OptionStreamConfig(r=0.1, carry=0.1))
    assert st.theo[0, 0] == pytest.approx(4.76, abs=0.005)
    assert st.theo[0, 1] == pytest.approx(0.81, abs=0.005)
    # time runs: T shrinks by exactly the elapsed ACT/365F years
    assert st.T[2] == pytest.approx(0.5 - 120e9 / NS_PER_YEAR, abs=1e-15)


def test_stream_vol_dynamics(spx_surface, fine_path):
    ss = synthetic_option_stream(spx_surface, fine_path, STRIKES, EXPIRY, rights="P")
    sm = synthetic_option_stream(spx_surface, fine_path, STRIKES, EXPIRY, rights="P",
                                 config=OptionStreamConfig(vol_dynamics="sticky_moneyness"))
    S = fine_path["underlying_px"].to_numpy()
    i = int(np.argmax(S))  # the path's high: spot well above its start
    assert S[i] > S[0]
    # sticky strike: the surface's vol at the strike; sticky moneyness: at K S0/S
    np.testing.assert_allclose(ss.iv[i], spx_surface.iv(STRIKES, ss.T[i]), rtol=0, atol=1e-14)
    np.testing.assert_allclose(sm.iv[i], spx_surface.iv(STRIKES * S[0] / S[i], sm.T[i]), rtol=0, atol=1e-14)
    np.testing.assert_array_equal(ss.iv[0], sm.iv[0])
    # where the SPX smile slopes down (strikes up to 4600; it turns up near 4700) a rising spot
    # lifts a fixed strike's vol when the smile moves with the spot
    down = STRIKES <= 4600
    assert (sm.iv[i][down] > ss.iv[i][down]).all()


def test_stream_market_quotes(spx_surface, fine_path):
    st = synthetic_option_stream(spx_surface, fine_path, STRIKES, EXPIRY)
    inst = default_master().get("SPX", "CBOE")
    ok = np.isfinite(st.bid)
    assert ok.mean() > 0.99
    assert (st.bid[ok] < st.theo[ok]).all() and (st.ask > st.theo).all()
    # on the SPX tick ladder (0.05 below 3.00, 0.10 from 3.00)
    np.testing.assert_array_equal(inst.round_price(st.bid[ok], "bid"), st.bid[ok])
    np.testing.assert_array_equal(inst.round_price(st.ask.ravel(), "ask"), st.ask.ravel())
    # market half-spread h0 + w vega before rounding: the quotes contain it
    h = 0.05 + 0.001 * st.vega
    assert (st.ask - st.theo >= h - 1e-9).all()
    q = st.quotes_frame()
    assert list(q.columns[:11]) == ["ts", "instrument", "underlying", "expiry", "strike", "right", "bid", "ask",
                                    "bid_size", "ask_size", "underlying_px"]
    assert len(q) == 391 * 20 and q["ts"].dtype == np.int64
    assert q["instrument"].iloc[0] == "SPX231020C04300000"  # OCC symbol from the instrument master


def test_stream_arrivals_follow_the_intensity():
    # A-S: buyers of depth D ~ Exp(k) at rate A per side: the count is Poisson(A T m 2) and the
    # share reaching a quote delta from the theo is exp(-k delta)
    path = synthetic_underlying_path(100.0, 0.2, 600, step="10s", seed=0)
    cfg = OptionStreamConfig(arrival_rate=0.5, arrival_decay=2.0)
    st = synthetic_option_stream(flat, path, [100.0, 105.0], 0.25, config=cfg, seed=7)
    a = st.arrivals
    expected = 0.5 * 6000 * 4 * 2  # rate x seconds x 4 options (a call and a put per strike) x 2 sides
    assert abs(len(a) - expected) < 4 * math.sqrt(expected)
    assert a["depth"].mean() == pytest.approx(0.5, rel=0.05)
    assert (a["depth"] >= 0.3).mean() == pytest.approx(math.exp(-0.6), abs=0.02)
    assert (np.diff(a["ts"].to_numpy()) >= 0).all()
    s, o = a["step"].to_numpy(), a["option"].to_numpy()
    assert (a["ts"].to_numpy() >= st.ts[s]).all() and (a["ts"].to_numpy() < st.ts[s + 1]).all()
    np.testing.assert_allclose(a["price"], st.theo[s, o] + a["side"] * a["depth"])
    # seeded: same seed same stream, another seed another one
    again = synthetic_option_stream(flat, path, [100.0, 105.0], 0.25, config=cfg, seed=7)
    pd.testing.assert_frame_equal(a, again.arrivals)
    other = synthetic_option_stream(flat, path, [100.0, 105.0], 0.25, config=cfg, seed=8)
    assert len(other.arrivals) != len(a) or not np.array_equal(other.arrivals["depth"], a["depth"])


def test_path_from_real_prices(data_dir):
    spx = load_sp500_daily(data_dir / "equity" / "sp500_daily_1999-2018.csv.gz")["close"].iloc[-21:]
    p = underlying_path_from_prices(spx, s0=4505.1, start="2023-09-14T20:31Z", step="1min")
    assert len(p) == 21 and p["underlying_px"].iloc[0] == 4505.1
    np.testing.assert_allclose(np.diff(np.log(p["underlying_px"])), np.diff(np.log(spx.to_numpy())), atol=1e-12)
    own = underlying_path_from_prices(spx)
    assert own["ts"].iloc[0] == pd.Timestamp(spx.index[0], tz="UTC").value


# ------------------------------------------------------------------------------------ book
def test_pnl_split_and_explain_sum_exactly(books):
    for res in books:
        s = res.to_frame()
        p = res.pnl_parts()
        scale = max(1.0, abs(res.total))
        assert p["spread"] + p["inventory"] + p["hedging"] - p["fees"] == pytest.approx(res.total, abs=1e-9 * scale)
        # per step: split and explain both add up to the step's PnL
        np.testing.assert_allclose(s["spread"] + s["inventory"] + s["hedging"] - s["fees"], s["pnl"],
                                   rtol=0, atol=1e-9 * scale)
        np.testing.assert_allclose(s[list(EXPLAIN_TERMS)].sum(axis=1) + s["trading"], s["pnl"], rtol=0,
                                   atol=1e-9 * scale)
        np.testing.assert_allclose(res.equity[1:], np.cumsum(s["pnl"]), rtol=0, atol=1e-9 * scale)


def test_equity_equals_cash_plus_marked_positions(books):
    # independent of the split: rebuild cash from the fill and hedge tables
    for res in books:
        st, f, h = res.stream, res.fills, res.hedges
        m = res.multiplier
        cash = -(f["side"] * f["qty"] * m * f["price"]).sum() - f["fee"].sum()
        cash += -(h["side"] * h["qty"] * h["price"]).sum() - h["fee"].sum() if len(h) else 0.0
        pos = np.zeros(st.theo.shape[1])
        np.add.at(pos, f["option"].to_numpy(), (f["side"] * f["qty"]).to_numpy())
        np.testing.assert_array_equal(pos, res.positions[-1])
        hedge = (h["side"] * h["qty"]).sum() if len(h) else 0.0
        value = cash + m * pos @ st.theo[-1] + hedge * st.spot[-1]
        assert value == pytest.approx(res.total, abs=1e-6 * max(1.0, abs(res.total)))


def test_fills_at_our_quotes_and_spread_capture(books):
    un, _ = books
    f = un.fills
    assert len(f) > 100
    bid = un.bids[f["step"], f["option"]]
    ask = un.asks[f["step"], f["option"]]
    np.testing.assert_array_equal(np.where(f["side"] > 0, bid, ask), f["price"])
    np.testing.assert_allclose(f["spread"], f["side"] * f["qty"] * 100.0 * (f["theo"] - f["price"]))
    # quoting every step around the theo, with no skew: every fill earns edge; fee 0.65/contract
    assert (f["spread"] > 0).all()
    np.testing.assert_allclose(f["fee"], 0.65 * f["qty"])
    # position limit of the quoter is never breached
    assert np.abs(un.positions).max() <= 20


def test_fill_count_matches_the_intensity(spx_surface, fine_path):
    # one option, quotes refreshed every step, sizes never binding: ask fills in step i are
    # Poisson with mean A dt exp(-k (ask_i - theo_i)) (Avellaneda & Stoikov 2008, eq. 2.12)
    cfg = OptionStreamConfig(arrival_rate=0.05, arrival_decay=1.0)
    qc = ChainQuoterConfig(base_half_spread=0.2, vega_width=0.0, gamma_move=0.0, size=1000.0)
    res = run_option_book(spx_surface, fine_path, [4500.0], EXPIRY, qc, None, rights="C", stream_config=cfg,
                          seed=4)
    dt = np.diff(res.stream.ts) / 1e9
    for side, q in ((-1, res.asks[:, 0] - res.stream.theo[:-1, 0]), (1, res.stream.theo[:-1, 0] - res.bids[:, 0])):
        lam = (0.05 * dt * np.exp(-q)).sum()
        got = int((res.fills["side"] == side).sum())
        assert abs(got - lam) < 4 * math.sqrt(lam), (side, got, lam)


def test_hedge_shrinks_delta_pnl(books):
    un, he = books
    # the same option fills (no delta skew): hedging changes only the hedge leg
    pd.testing.assert_frame_equal(un.fills, he.fills)
    assert len(un.hedges) == 0 and len(he.hedges) > 0
    d_un, d_he = un.to_frame()["delta_pnl"], he.to_frame()["delta_pnl"]
    assert d_he.std() < 0.1 * d_un.std()
    assert np.abs(d_he).sum() < 0.1 * np.abs(d_un).sum()
    # the book's delta over every step is back inside the band (1-unit hedge lots)
    assert he.to_frame()["delta"].abs().max() <= 25.0 + 1.0
    # hedge fills at the mid +/- half the 0.01 tick, fee 0.1 bp of notional
    h = he.hedges
    np.testing.assert_allclose(h["price"], h["mid"] + h["side"] * 0.005)
    np.testing.assert_allclose(h["fee"], 1e-5 * h["qty"] * h["price"])
    np.testing.assert_allclose(he.pnl_parts()["hedging"] - un.pnl_parts()["hedging"],
                               (he.hedge_position * np.diff(he.stream.spot)).sum() - h["cost"].sum())


def test_residual_small_on_a_fine_grid(spx_surface, fine_path):
    # sticky moneyness on the SPX skew: the vols move with the spot, so vega and cross terms work
    cfg = OptionStreamConfig(vol_dynamics="sticky_moneyness")
    res = run_option_book(spx_surface, fine_path, STRIKES, EXPIRY, QC, DeltaHedgeConfig(threshold=25.0),
                          stream_config=cfg, seed=1)
    s = res.to_frame()
    share = np.abs(s["residual"]).sum() / np.abs(s["market"]).sum()
    assert share < 0.05
    assert abs(s["residual"].sum()) < 0.05 * abs(s["market"]).sum()
    assert np.abs(s["vega_pnl"]).sum() > 0  # the smile moved
    # on a coarse grid (the same moves in 8-hour steps) the residual grows: it is not identically 0
    coarse = fine_path.iloc[::130].reset_index(drop=True)
    coarse["ts"] = coarse["ts"].iloc[0] + np.arange(len(coarse)) * 8 * 3600 * 10**9
    big = run_option_book(spx_surface, coarse, STRIKES, EXPIRY, QC, None, stream_config=cfg, seed=1)
    # explain of the fine run's final book over the coarse path's moves
    n = big.stream.n_steps
    pos = np.tile(res.positions[-1], (n, 1))
    st = big.stream
    x = greeks_pnl_explain(pos, np.zeros(n), 100.0, st.spot, st.T, st.iv, st.delta, st.gamma, st.vega, st.theta,
                           st.theo)
    assert np.abs(x["residual"]).sum() / np.abs(x["market"]).sum() > share


def test_zero_vol_change_gives_zero_vega_pnl(fine_path):
    res = run_option_book(flat, fine_path, STRIKES, 0.1, QC, DeltaHedgeConfig(threshold=25.0), seed=2)
    s = res.to_frame()
    assert (s["vega_pnl"] == 0.0).all()
    assert len(res.fills) > 0 and np.abs(s["gamma_pnl"]).sum() > 0


def test_vol_shift_is_vega_pnl():
    # spot fixed, the flat surface lifted by one vol point: the move is the book's vega x 0.01
    n = 30
    path = synthetic_underlying_path(4500.0, 0.0, n, step="1min", seed=0,
                                     vol_shift=np.r_[np.zeros(n // 2), np.full(n + 1 - n // 2, 0.01)])
    res = run_option_book(flat, path, STRIKES, 0.1, QC, None, seed=5)
    s = res.to_frame()
    jump = n // 2 - 1  # the step over which the shift happens
    assert s["delta_pnl"].abs().max() == 0.0
    assert s["vega_pnl"].iloc[jump] == pytest.approx(s["dollar_vega"].iloc[jump], rel=1e-12)
    # the residual is the next Taylor term, volga: 1/2 m sum q volga dsigma^2 (third order is small)
    st = res.stream
    g = bsm_greeks(np.where(st.flags > 0, "c", "p"), st.spot[jump], st.strikes, st.T[jump], 0.0, st.iv[jump])
    volga = 0.5 * 100.0 * res.positions[jump] @ g.volga * 0.01**2
    assert abs(volga) > 0.01 * abs(s["market"].iloc[jump])
    assert s["residual"].iloc[jump] == pytest.approx(volga, rel=0.1)
    # on the other steps nothing moves but time: the move is theta dt (the rest, d theta/dt dt^2/2,
    # is ~1e-5 of it on 1-minute steps)
    calm = s.drop(index=jump)
    assert (calm[["delta_pnl", "gamma_pnl", "vega_pnl"]] == 0.0).all().all()
    np.testing.assert_allclose(calm["market"], calm["theta_pnl"], rtol=1e-3, atol=1e-5)
    assert (calm["theta_pnl"] != 0).any()


def test_reproducible_by_seed(spx_surface, fine_path):
    a = run_option_book(spx_surface, fine_path, STRIKES, EXPIRY, QC, DeltaHedgeConfig(threshold=25.0), seed=11)
    b = run_option_book(spx_surface, fine_path, STRIKES, EXPIRY, QC, DeltaHedgeConfig(threshold=25.0), seed=11)
    c = run_option_book(spx_surface, fine_path, STRIKES, EXPIRY, QC, DeltaHedgeConfig(threshold=25.0), seed=12)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    pd.testing.assert_frame_equal(a.fills, b.fills)
    assert a.total != c.total


def test_requote_cadence_and_skew(spx_surface, fine_path):
    stale = run_option_book(spx_surface, fine_path, STRIKES, EXPIRY, QC, None, seed=1,
                            config=OptionBookConfig(requote_every=15))
    # between requotes a quote keeps its price
    a = stale.asks[:15, 4]
    assert np.isfinite(a[0]) and np.all((a == a[0]) | np.isnan(a))
    # a delta skew leans the quotes against the book's delta: less delta carried than without
    # (arrivals sparse enough that a step's fills do not overshoot the skew set at its start)
    sc = OptionStreamConfig(arrival_rate=0.003)
    skew = ChainQuoterConfig(base_half_spread=0.1, vega_width=0.0005, gamma_move=0.0, max_position=20,
                             delta_skew=0.01)
    plain = run_option_book(spx_surface, fine_path, STRIKES, EXPIRY, QC, None, stream_config=sc, seed=1)
    lean = run_option_book(spx_surface, fine_path, STRIKES, EXPIRY, skew, None, stream_config=sc, seed=1)
    assert lean.to_frame()["delta"].abs().mean() < 0.75 * plain.to_frame()["delta"].abs().mean()


def test_result_reporting(books):
    un, he = books
    text = he.summary()
    assert "PnL total" in text and "residual" in text and "hedges" in text
    df = he.to_frame()
    assert len(df) == 390 and {"pnl", "spread", "inventory", "hedging", "fees", *EXPLAIN_TERMS} <= set(df.columns)
    assert he.equity_frame().index.tz is not None
    import holoviews as hv

    assert isinstance(he.plot(), hv.core.layout.Layout)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"quoter_config": "wide"}, "quoter_config"),
        ({"hedge_config": 25.0}, "hedge_config"),
        ({"strikes": [4500.0, -1.0]}, "strikes"),
        ({"rights": ["C", "X"]}, "rights"),
        ({"expiry": "2023-09-14 21:00Z"}, "expiry"),
        ({"expiry": -0.1}, "expiry"),
        ({"config": OptionBookConfig}, "config"),
        ({"stream_config": {"r": 0.05}}, "config"),
        ({"surface": 0.15}, "surface"),
    ],
)
def test_bad_inputs_name_the_argument(fine_path, kwargs, name):
    args = {"surface": flat, "path": fine_path, "strikes": [4500.0], "expiry": 0.1, "quoter_config": QC,
            "hedge_config": None}
    args.update(kwargs)
    with pytest.raises(ConfigError, match=name):
        run_option_book(**args)


def test_bad_paths_and_configs():
    good = synthetic_underlying_path(4500.0, 0.1, 5, seed=0)
    bad = good.copy()
    bad.loc[3, "underlying_px"] = -1.0
    with pytest.raises(ConfigError, match="path: underlying_px .*row 3"):
        synthetic_option_stream(flat, bad, [4500.0], 0.1)
    back = good.copy()
    back.loc[2, "ts"] = back.loc[1, "ts"]
    with pytest.raises(ConfigError, match="path: ts must increase strictly .row 2"):
        synthetic_option_stream(flat, back, [4500.0], 0.1)
    with pytest.raises(ConfigError, match="path"):
        synthetic_option_stream(flat, good[["ts"]], [4500.0], 0.1)
    with pytest.raises(ConfigError, match="surface: vol"):
        synthetic_option_stream(lambda K, T: np.full(np.shape(K), np.nan), good, [4500.0], 0.1)
    with pytest.raises(ConfigError, match="n_steps"):
        synthetic_underlying_path(4500.0, 0.1, 0)
    with pytest.raises(ConfigError, match="step"):
        synthetic_underlying_path(4500.0, 0.1, 5, step="-1min")
    with pytest.raises(ConfigError, match="vol_shift"):
        synthetic_underlying_path(4500.0, 0.1, 5, vol_shift=[0.0])
    with pytest.raises(ConfigError, match="arrival_decay"):
        OptionStreamConfig(arrival_decay=0.0)
    with pytest.raises(ConfigError, match="hedge_tick"):
        OptionBookConfig(hedge_tick=0.0)
    with pytest.raises(ConfigError, match="prices"):
        underlying_path_from_prices(pd.Series([1.0]))
    with pytest.raises(ConfigError, match="positions"):
        greeks_pnl_explain(np.ones(3), np.zeros(3), 1.0, np.ones(4), np.ones(4), *([np.ones((4, 1))] * 6))


def test_book_on_a_real_intraday_path(spx_surface, data_dir):
    # the AMZN L1 mid of 2012-06-21 (LOBSTER sample), minute by minute, replayed as SPX moves
    msg = data_dir / "lobster" / "amzn_l1_full_day" / "AMZN_2012-06-21_34200000_57600000_message_1.csv"
    path = underlying_path_from_lobster(msg, step="1min", s0=spx_surface.spot, start=spx_surface.valuation_time)
    assert len(path) == 391  # the first mid, then the end of each of the 390 minutes 09:30-16:00
    raw = pd.read_csv(msg.with_name(msg.name.replace("message", "orderbook"))).to_numpy()  # BestAsk,..,BestBid,..
    mid0, mid1 = (raw[0, 0] + raw[0, 2]) / 2e4, (raw[-1, 0] + raw[-1, 2]) / 2e4  # first and last vendor rows
    assert path["underlying_px"].iloc[0] == spx_surface.spot
    assert path["underlying_px"].iloc[-1] == pytest.approx(spx_surface.spot * mid1 / mid0, rel=1e-12)
    res = run_option_book(spx_surface, path, STRIKES, EXPIRY, QC, DeltaHedgeConfig(threshold=25.0), seed=1)
    s = res.to_frame()
    assert np.abs(s["residual"]).sum() < 0.05 * np.abs(s["market"]).sum()
    assert s["delta"].abs().max() <= 26.0


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=hst.integers(0, 10_000),
    sigma=hst.floats(0.05, 0.6),
    max_pos=hst.integers(1, 8),
    threshold=hst.floats(5.0, 200.0),
    requote=hst.integers(1, 5),
    skew=hst.floats(0.0, 0.02),
    dynamics=hst.sampled_from(["sticky_strike", "sticky_moneyness"]),
)
def test_book_invariants_property(spx_surface, seed, sigma, max_pos, threshold, requote, skew, dynamics):
    # whatever the market and settings: the split and the explain add up, the quoter's position
    # limit holds, and after each step's hedge the book's delta is within the band (+ 1 lot)
    path = synthetic_underlying_path(spx_surface.spot, sigma, 40, step="1min", start=spx_surface.valuation_time,
                                     seed=seed)
    qc = ChainQuoterConfig(base_half_spread=0.1, vega_width=0.0005, gamma_move=0.0, max_position=max_pos,
                           delta_skew=skew, size=2.0)
    res = run_option_book(spx_surface, path, [4400.0, 4500.0, 4600.0], EXPIRY, qc,
                          DeltaHedgeConfig(threshold=threshold), config=OptionBookConfig(requote_every=requote),
                          stream_config=OptionStreamConfig(vol_dynamics=dynamics, arrival_rate=0.02), seed=seed)
    s = res.to_frame()
    tol = 1e-9 * max(1.0, np.abs(s["pnl"]).sum())
    p = res.pnl_parts()
    assert abs(p["spread"] + p["inventory"] + p["hedging"] - p["fees"] - res.total) < tol
    np.testing.assert_allclose(s[list(EXPLAIN_TERMS)].sum(axis=1) + s["trading"], s["pnl"], rtol=0, atol=tol)
    assert np.abs(res.positions).max() <= max_pos
    assert s["delta"].abs().max() <= threshold + 1.0


def test_per_instrument_accounting_matches_the_ledger(books):
    # oracle: tests/_pnl_oracle.py (exact spread/inventory/fee split per instrument, the
    # instrument's own fees), fed the same fills and marked at the stream's theos step by step
    from _pnl_oracle import PnLOracle

    _, he = books
    st, f = he.stream, he.fills
    inst = default_master().get("SPX", "CBOE")
    table = he.by_instrument()
    assert table["pnl"].sum() == pytest.approx(he.total, abs=1e-6 * abs(he.total))
    np.testing.assert_allclose(table["cash"] + table["value"], table["pnl"], rtol=0, atol=1e-6 * abs(he.total))
    by_step = {k: g for k, g in f.groupby("option")}
    for j in (0, 4, 13):
        led = PnLOracle(multiplier=inst.multiplier,
                        inverse=inst.inverse_pnl,
                        fee=lambda px, q, maker: inst.fee(px, q, maker=maker))
        fills_at = {}
        for row in by_step.get(j, f.iloc[:0]).itertuples():
            fills_at.setdefault(row.step, []).append(row)
        for i in range(st.n_steps):
            led.mark(float(st.theo[i, j]))
            for row in fills_at.get(i, ()):
                led.fill(int(row.side), float(row.qty), float(row.price), maker=True)
        led.mark(float(st.theo[-1, j]))
        parts = led.parts()
        row = table.loc[st.names[j]]
        assert led.position == row["position"]
        assert parts["spread"] == pytest.approx(row["spread"], rel=1e-9, abs=1e-9)
        assert parts["inventory"] == pytest.approx(row["inventory"], rel=1e-9, abs=1e-6)
        assert -parts["fees"] == pytest.approx(row["fees"], rel=1e-12)  # the oracle signs fees as PnL
        assert parts["total"] == pytest.approx(row["pnl"], rel=1e-9, abs=1e-6)


def test_path_forms_and_instrument():
    p = synthetic_underlying_path(100.0, 0.2, 5, seed=0)
    a = synthetic_option_stream(flat, p, [100.0], 0.1)
    as_dt = synthetic_option_stream(flat, p.assign(ts=pd.to_datetime(p["ts"], utc=True)), [100.0], 0.1)
    as_series = synthetic_option_stream(flat, pd.Series(p["underlying_px"].to_numpy(),
                                                        index=pd.to_datetime(p["ts"], utc=True)), [100.0], 0.1)
    for other in (as_dt, as_series):
        np.testing.assert_array_equal(other.ts, a.ts)
        np.testing.assert_array_equal(other.theo, a.theo)
    assert a.names == ["SPX T0.1000 100 C", "SPX T0.1000 100 P"]  # no dated expiry: no OCC symbol
    spy = default_master().get("SPY", "CBOE")
    assert synthetic_option_stream(flat, p, [100.0], 0.1, instrument=spy).names[0].startswith("SPY")
    with pytest.raises(ConfigError, match="instrument"):
        synthetic_option_stream(flat, p, [100.0], 0.1, instrument=default_master().get("SPX", "INDEX"))
