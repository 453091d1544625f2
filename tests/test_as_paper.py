"""Reproduction of Avellaneda & Stoikov (2008), section 4, Tables 1-3.

Reference values: M. Avellaneda, S. Stoikov, "High-frequency trading in a limit order book",
Quantitative Finance 8(3), 217-224 (2008), Tables 1-3 (1000 paths each), as stored in
``mmlab.quoting.AS_PAPER_TABLE``. Criterion (issue 4): for every mean, the difference from the
paper is under 3 combined standard errors, sqrt(sd_paper^2 / 1000 + sd_ours^2 / n_ours).
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
from mmlab.quoting._as_simulator import as_simulate_kernel, as_simulate_kernel_python

N_OURS = 20_000  # paths per row: our standard error is ~1/4.5 of the paper's; ~3 s with numba
SEED = 0

GAMMA_1_REASON = (
    "The paper's gamma = 1 profits are not those of its own model: for the symmetric strategy "
    "the expected profit is exact (symmetric_expected_profit) and is ~44-45 for the paper's "
    "spread 2.94, versus the published 66.20 (sd 14.53 / sqrt(1000) = 0.46)."
)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    tab = reproduce_as_table(n_paths=N_OURS, seed=SEED)
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print("\nAvellaneda-Stoikov (2008) Tables 1-3: paper vs ours\n", tab.round(3).to_string())
    return tab


CELLS = [(g, s) for g in (0.1, 0.01, 1.0) for s in ("inventory", "symmetric")]


@pytest.mark.parametrize("gamma,strategy", CELLS)
def test_final_inventory_mean_within_3_combined_se(table, gamma, strategy):
    z = table.loc[(gamma, strategy), "final_q_z"]
    assert abs(z) < 3.0, table.loc[(gamma, strategy)]


@pytest.mark.parametrize(
    "gamma,strategy",
    [
        c if c[0] != 1.0 else pytest.param(*c, marks=pytest.mark.xfail(strict=True, reason=GAMMA_1_REASON))
        for c in CELLS
    ],
)
def test_profit_mean_within_3_combined_se(table, gamma, strategy):
    row = table.loc[(gamma, strategy)]
    # recompute z from the stored pieces, so the test does not rely on the helper's arithmetic
    se = math.sqrt(row["std_profit_paper"] ** 2 / 1000 + row["std_profit_ours"] ** 2 / N_OURS)
    assert math.isclose(row["profit_z"], (row["profit_ours"] - row["profit_paper"]) / se)
    assert abs(row["profit_ours"] - row["profit_paper"]) < 3.0 * se, row


@pytest.mark.parametrize(
    "gamma,strategy",
    [
        c if c[0] != 1.0 else pytest.param(*c, marks=pytest.mark.xfail(strict=True, reason=(
            "paper prints 2.94; its spread formula averages 3.03 over the time grid")))
        for c in CELLS
    ],
)
def test_average_spread_within_0_02(table, gamma, strategy):
    # The spread is deterministic: time average of gamma sigma^2 (T-t) + (2/gamma) ln(1+gamma/k).
    # Tolerance 0.02 covers the paper's 2-decimal rounding and its 1.33 for gamma = 0.01
    # (the formula gives 1.349).
    row = table.loc[(gamma, strategy)]
    assert abs(row["spread_ours"] - row["spread_paper"]) <= 0.02


def test_inventory_strategy_has_less_variance_than_symmetric(table):
    # The paper's qualitative conclusion, which holds for every gamma.
    for g in (0.1, 0.01, 1.0):
        inv, sym = table.loc[(g, "inventory")], table.loc[(g, "symmetric")]
        assert inv["std_profit_ours"] < sym["std_profit_ours"]
        assert inv["std_final_q_ours"] < sym["std_final_q_ours"]


@pytest.mark.parametrize("gamma", [0.1, 0.01, 1.0])
@pytest.mark.parametrize("fill_timing", ["after_move", "before_move"])
def test_symmetric_profit_matches_exact_expectation(gamma, fill_timing):
    # Independent of the paper: the symmetric strategy's expected profit is known exactly.
    df = simulate_avellaneda_stoikov(gamma, "symmetric", n_paths=N_OURS, seed=7,
                                     fill_timing=fill_timing)
    exact = symmetric_expected_profit(float(df["spread"].iloc[0]), fill_timing=fill_timing)
    se = df["profit"].std(ddof=1) / math.sqrt(len(df))
    assert abs(df["profit"].mean() - exact) < 4.0 * se


def test_before_move_timing_misses_the_paper():
    # Documents why fills are decided after the move: the other order misses Table 1.
    df = simulate_avellaneda_stoikov(0.1, "inventory", n_paths=N_OURS, seed=SEED,
                                     fill_timing="before_move")
    ref = AS_PAPER_TABLE[(0.1, "inventory")]
    se = math.sqrt(ref["std_profit"] ** 2 / 1000 + df["profit"].var(ddof=1) / N_OURS)
    assert (df["profit"].mean() - ref["profit"]) / se > 5.0


def test_kernel_and_python_twin_agree():
    rng = np.random.default_rng(3)
    u = rng.random((25, 200, 3))
    for sym in (False, True):
        for after in (False, True):
            a = as_simulate_kernel(u, 100.0, 2.0, 0.005, 1.0, 1.5, 140.0, sym, 2.9, after)
            b = as_simulate_kernel_python(u, 100.0, 2.0, 0.005, 1.0, 1.5, 140.0, sym, 2.9, after)
            for x, y in zip(a, b, strict=True):
                np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-9)


def test_engines_agree_and_seeding_is_reproducible():
    a = simulate_avellaneda_stoikov(0.1, n_paths=30, seed=5)
    b = simulate_avellaneda_stoikov(0.1, n_paths=30, seed=5, engine="python")
    c = simulate_avellaneda_stoikov(0.1, n_paths=30, seed=6)
    pd.testing.assert_frame_equal(a, b, rtol=1e-12)
    assert not np.allclose(a["profit"], c["profit"])
    assert a.attrs["gamma"] == 0.1 and a.attrs["fill_timing"] == "after_move"


def test_profit_accounting_identity():
    # profit = cash + q_T S_T: with no fills the profit is exactly 0 (A tiny)
    df = simulate_avellaneda_stoikov(0.1, n_paths=50, seed=1, A=1e-12)
    assert np.all(df["profit"] == 0.0) and np.all(df["final_q"] == 0.0)


@pytest.mark.parametrize(
    "kwargs",
    [dict(gamma=0.0), dict(gamma=0.1, strategy="naive"), dict(gamma=0.1, n_paths=0),
     dict(gamma=0.1, dt=0.003), dict(gamma=0.1, fill_timing="later"), dict(gamma=0.1, sigma=-1.0)],
)
def test_bad_arguments_raise_config_error(kwargs):
    with pytest.raises(ConfigError):
        simulate_avellaneda_stoikov(**kwargs)
