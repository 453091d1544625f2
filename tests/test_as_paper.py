"""Reproduction of Avellaneda & Stoikov (2008), section 4, Tables 1-3 (issue 11, "Validity").

Reference values: M. Avellaneda and S. Stoikov, "High-frequency trading in a limit order book",
Quantitative Finance 8(3), 217-224 (2008), section 4 "Numerical simulations", Table 1
(gamma = 0.1), Table 2 (gamma = 0.01), Table 3 (gamma = 1); 1000 simulations each with s = 100,
T = 1, sigma_px = 2, dt = 0.005, q = 0, k = 1.5, A = 140. Page: the tables are in section 4 of the
eight-page article (pp. 217-224); the printed pages could not be reached from this environment,
so the values were checked instead against two transcriptions of the article's tables (a
pdftotext quote of the authors' copy, math.nyu.edu/~avellane/HighFrequencyTrading.pdf, Tables
1-3; a replication's quote of Table 1) and against issue 11: all agree. ``PUBLISHED`` below
is that transcription, typed here independently of ``mmlab.quoting._as_paper_tables``.

Criteria (issue 11 acceptance): every mean within 3 combined standard errors,
sqrt(sd_paper^2 / 1000 + sd_ours^2 / n_ours); every standard deviation within 10 %; every
average spread within 0.02. No xfail.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mmlab.errors import ConfigError
from mmlab.quoting import (
    AS_PAPER_TABLE,
    reproduce_as_table,
    simulate_avellaneda_stoikov,
    symmetric_expected_profit,
)
from mmlab.quoting._as_paper_tables import AS_PUBLISHED_TABLE, AS_WORKING_PAPER_TABLE
from mmlab.quoting._as_simulator import (
    as_average_spread,
    as_simulate_kernel,
    as_simulate_kernel_python,
)

N_OURS = 20_000  # paths per row: our standard error is ~1/4.5 of the paper's; ~3 s with numba
SEED = 0

# Avellaneda & Stoikov (2008), QF 8(3), section 4, Tables 1-3 (see the module docstring):
# (gamma, strategy): (average spread, profit, std(profit), final q, std(final q)).
PUBLISHED = {
    (0.1, "inventory"): (1.49, 65.0, 6.6, 0.08, 2.9),     # Table 1
    (0.1, "symmetric"): (1.49, 68.4, 12.7, 0.26, 8.4),    # Table 1
    (0.01, "inventory"): (1.35, 68.6, 8.7, 0.12, 5.1),    # Table 2
    (0.01, "symmetric"): (1.35, 68.8, 12.8, 0.09, 8.7),   # Table 2
    (1.0, "inventory"): (3.02, 31.4, 5.0, 0.02, 1.7),     # Table 3
    (1.0, "symmetric"): (3.02, 44.0, 11.0, 0.00, 5.1),    # Table 3
}
PAPER_N = 1000  # "1000 simulations" (captions of Tables 1-3)
CELLS = list(PUBLISHED)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    tab = reproduce_as_table(n_paths=N_OURS, seed=SEED)
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print("\nAvellaneda-Stoikov (2008) Tables 1-3: published vs ours\n",
              tab.round(3).to_string())
    return tab


def test_reference_table_is_the_published_one():
    cols = ("spread", "profit", "std_profit", "final_q", "std_final_q")
    assert set(AS_PUBLISHED_TABLE) == set(PUBLISHED)
    for key, vals in PUBLISHED.items():
        assert tuple(AS_PUBLISHED_TABLE[key][c] for c in cols) == vals, key


@pytest.mark.parametrize("gamma,strategy", CELLS)
def test_profit_mean_within_3_combined_se(table, gamma, strategy):
    _, profit, sd_paper, _, _ = PUBLISHED[(gamma, strategy)]
    row = table.loc[(gamma, strategy)]
    assert row["profit_paper"] == profit
    se = math.sqrt(sd_paper**2 / PAPER_N + row["std_profit_ours"] ** 2 / N_OURS)
    assert math.isclose(row["profit_z"], (row["profit_ours"] - profit) / se)
    assert abs(row["profit_ours"] - profit) < 3.0 * se, row


@pytest.mark.parametrize("gamma,strategy", CELLS)
def test_final_inventory_mean_within_3_combined_se(table, gamma, strategy):
    _, _, _, final_q, sd_paper = PUBLISHED[(gamma, strategy)]
    row = table.loc[(gamma, strategy)]
    se = math.sqrt(sd_paper**2 / PAPER_N + row["std_final_q_ours"] ** 2 / N_OURS)
    assert abs(row["final_q_ours"] - final_q) < 3.0 * se, row


@pytest.mark.parametrize("gamma,strategy", CELLS)
def test_profit_std_within_10_percent(table, gamma, strategy):
    sd_paper = PUBLISHED[(gamma, strategy)][2]
    row = table.loc[(gamma, strategy)]
    assert abs(row["std_profit_ours"] / sd_paper - 1.0) <= 0.10, row
    assert math.isclose(row["std_profit_rel"], row["std_profit_ours"] / sd_paper - 1.0)


@pytest.mark.parametrize("gamma,strategy", CELLS)
def test_final_inventory_std_within_10_percent(table, gamma, strategy):
    sd_paper = PUBLISHED[(gamma, strategy)][4]
    row = table.loc[(gamma, strategy)]
    assert abs(row["std_final_q_ours"] / sd_paper - 1.0) <= 0.10, row


@pytest.mark.parametrize("gamma,strategy", CELLS)
def test_average_spread_within_0_02(table, gamma, strategy):
    # Ours: the path's average quoted spread (deterministic). The inventory strategy quotes at
    # t = 0, dt, ..., T - dt, so its average is 0.005 gamma sigma_px^2 / 2 above the [0, T] average
    # that the paper prints (3.032 vs 3.02 at gamma = 1); the symmetric one quotes the latter.
    row = table.loc[(gamma, strategy)]
    assert abs(row["spread_ours"] - PUBLISHED[(gamma, strategy)][0]) <= 0.02, row


@pytest.mark.parametrize("gamma", [0.1, 0.01, 1.0])
def test_printed_spread_is_the_horizon_average_of_the_formula(gamma):
    # The "rounding" check that picks the symmetric spread: the [0, T] time average of
    # gamma sigma_px^2 (T - t) + (2/gamma) ln(1 + gamma/k) rounds to the printed value for all three
    # tables; the average over the 200 quoting instants prints 3.03 for gamma = 1 (Table 3: 3.02).
    printed = PUBLISHED[(gamma, "inventory")][0]
    assert round(as_average_spread(gamma), 2) == printed
    tau = 1.0 - np.arange(200) * 0.005
    quoted = np.mean(gamma * 4.0 * tau) + 2.0 * math.log1p(gamma / 1.5) / gamma
    assert (round(quoted, 2) == printed) == (gamma != 1.0)


def test_inventory_strategy_has_less_variance_than_symmetric(table):
    # The paper's qualitative conclusion (section 4), for every gamma.
    for g in (0.1, 0.01, 1.0):
        inv, sym = table.loc[(g, "inventory")], table.loc[(g, "symmetric")]
        assert inv["std_profit_ours"] < sym["std_profit_ours"]
        assert inv["std_final_q_ours"] < sym["std_final_q_ours"]


@pytest.mark.parametrize(
    "variant,row,expect",
    [
        # fills decided after the move: Table 1's inventory profit 65.0 missed by > 5 SE (-7.4)
        (dict(fill_timing="after_move"), (0.1, "inventory"), lambda z: z < -5.0),
        # Poisson fill probability 1 - exp(-lambda dt): ~10 % fewer fills, > 20 SE low (-36)
        (dict(fill_probability="poisson"), (0.1, "inventory"), lambda z: z < -20.0),
        # no gamma sigma_px^2 (T - t) in the spread: the gamma = 1 inventory strategy loses money
        (dict(spread_model="liquidity_only"), (1.0, "inventory"), lambda z: z < -100.0),
    ],
)
def test_rejected_variants_miss_the_published_tables(variant, row, expect):
    # Documents why the default is the paper's variant: each alternative misses a cell.
    g, strat = row
    df = simulate_avellaneda_stoikov(g, strat, n_paths=N_OURS, seed=SEED, **variant)
    _, profit, sd_paper, _, _ = PUBLISHED[row]
    se = math.sqrt(sd_paper**2 / PAPER_N + df["profit"].var(ddof=1) / N_OURS)
    z = (df["profit"].mean() - profit) / se
    assert expect(z), z


@pytest.mark.parametrize("gamma", [0.1, 0.01, 1.0])
@pytest.mark.parametrize("fill_timing", ["before_move", "after_move"])
@pytest.mark.parametrize("fill_probability", ["linear", "poisson"])
def test_symmetric_profit_matches_exact_expectation(gamma, fill_timing, fill_probability):
    # Independent of the paper: the symmetric strategy's expected profit is known exactly.
    df = simulate_avellaneda_stoikov(gamma, "symmetric", n_paths=10_000, seed=7,
                                     fill_timing=fill_timing, fill_probability=fill_probability)
    exact = symmetric_expected_profit(df.attrs["symmetric_spread_value"], fill_timing=fill_timing,
                                      fill_probability=fill_probability)
    se = df["profit"].std(ddof=1) / math.sqrt(len(df))
    assert abs(df["profit"].mean() - exact) < 4.0 * se


def test_exact_symmetric_profits_agree_with_the_published_tables():
    # No Monte Carlo: the exact expectation at the printed spread vs the printed mean
    # (standard error of the printed mean sd / sqrt(1000)), for Tables 1-3.
    for g in (0.1, 0.01, 1.0):
        _, profit, sd, _, _ = PUBLISHED[(g, "symmetric")]
        exact = symmetric_expected_profit(as_average_spread(g))
        assert abs(exact - profit) < 3.0 * sd / math.sqrt(PAPER_N), (g, exact)


def test_working_paper_table_is_kept_as_a_documented_second_reference():
    # Values transcribed from the 5 October 2006 working paper (issue 4 brief; issue 11 names
    # them as such): the profits 62.94 / 67.21 / 66.78 / 68.02 / 33.92 / 66.20.
    assert AS_PAPER_TABLE is AS_WORKING_PAPER_TABLE
    profits = [AS_PAPER_TABLE[(g, s)]["profit"]
               for g in (0.1, 0.01, 1.0) for s in ("inventory", "symmetric")]
    assert profits == [62.94, 67.21, 66.78, 68.02, 33.92, 66.20]
    tab = reproduce_as_table(n_paths=200, gammas=(1.0,), reference="working_paper")
    assert tab.attrs["reference"] == "working_paper"
    assert tab.loc[(1.0, "symmetric"), "profit_paper"] == 66.20
    # Its gamma = 1 symmetric profit is that of another spread: exactly, the published
    # variant's spread gives ~43.9 (> 40 SE below 66.20, SE 14.53 / sqrt(1000)), while the
    # spread (2/gamma) ln(1 + gamma/k) alone = 1.02 gives 66.47 (within 1 SE).
    se = 14.53 / math.sqrt(PAPER_N)
    assert (66.20 - symmetric_expected_profit(as_average_spread(1.0))) / se > 40.0
    liq_only = as_average_spread(1.0, spread_model="liquidity_only")
    assert abs(symmetric_expected_profit(liq_only) - 66.20) < se


def test_kernel_and_python_twin_agree():
    rng = np.random.default_rng(3)
    u = rng.random((25, 200, 3))
    for sym in (False, True):
        for after in (False, True):
            for risk in (False, True):
                for poisson in (False, True):
                    args = (u, 100.0, 2.0, 0.005, 1.0, 1.5, 140.0, sym, 2.9, after, risk, poisson)
                    a, b = as_simulate_kernel(*args), as_simulate_kernel_python(*args)
                    for x, y in zip(a, b, strict=True):
                        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-9)


def test_engines_agree_and_seeding_is_reproducible():
    a = simulate_avellaneda_stoikov(0.1, n_paths=30, seed=5)
    b = simulate_avellaneda_stoikov(0.1, n_paths=30, seed=5, engine="python")
    c = simulate_avellaneda_stoikov(0.1, n_paths=30, seed=6)
    pd.testing.assert_frame_equal(a, b, rtol=1e-12)
    assert not np.allclose(a["profit"], c["profit"])
    assert a.attrs["gamma"] == 0.1 and a.attrs["fill_timing"] == "before_move"
    assert a.attrs["spread_model"] == "full" and a.attrs["fill_probability"] == "linear"


def test_symmetric_spread_options():
    h = simulate_avellaneda_stoikov(1.0, "symmetric", n_paths=5, seed=1)
    q = simulate_avellaneda_stoikov(1.0, "symmetric", n_paths=5, seed=1,
                                    symmetric_spread="quoted_average")
    f = simulate_avellaneda_stoikov(1.0, "symmetric", n_paths=5, seed=1, symmetric_spread=2.5)
    assert h.attrs["symmetric_spread_value"] == pytest.approx(2.0 + 2.0 * math.log(1.0 + 1.0 / 1.5))
    # quoting instants t = 0, 0.005, ..., 0.995: mean(T - t) = 0.5025
    assert q.attrs["symmetric_spread_value"] == pytest.approx(
        4.0 * 0.5025 + 2.0 * math.log(1.0 + 1.0 / 1.5))
    np.testing.assert_allclose(f["spread"], 2.5)
    # the inventory strategy's quoted average is the same as "quoted_average"
    inv = simulate_avellaneda_stoikov(1.0, "inventory", n_paths=5, seed=1)
    np.testing.assert_allclose(inv["spread"], q.attrs["symmetric_spread_value"], rtol=1e-12)


def test_profit_accounting_identity():
    # profit = cash + q_T S_T: with no fills the profit is exactly 0 (A tiny)
    df = simulate_avellaneda_stoikov(0.1, n_paths=50, seed=1, A=1e-12)
    assert np.all(df["profit"] == 0.0) and np.all(df["final_q"] == 0.0)


@pytest.mark.parametrize(
    "kwargs",
    [dict(gamma=0.0), dict(gamma=0.1, strategy="naive"), dict(gamma=0.1, n_paths=0),
     dict(gamma=0.1, n_paths=True), dict(gamma=0.1, dt=0.003), dict(gamma=0.1, fill_timing="later"),
     dict(gamma=0.1, sigma_px=-1.0), dict(gamma=0.1, spread_model="half"),
     dict(gamma=0.1, fill_probability="exact"), dict(gamma=0.1, symmetric_spread="mean"),
     dict(gamma=0.1, symmetric_spread=-1.0), dict(gamma=0.1, symmetric_spread=float("nan")),
     dict(gamma=0.1, symmetric_spread=True), dict(gamma=0.1, engine="gpu")],
)
def test_bad_arguments_raise_config_error(kwargs):
    with pytest.raises(ConfigError):
        simulate_avellaneda_stoikov(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [dict(reference="book"), dict(gammas=(0.5,)), dict(fill_timing="later"), dict(seed_offset=1)],
)
def test_reproduce_table_bad_arguments_raise_config_error(kwargs):
    with pytest.raises(ConfigError):
        reproduce_as_table(n_paths=10, **kwargs)
