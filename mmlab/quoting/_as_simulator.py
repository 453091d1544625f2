"""The Avellaneda–Stoikov (2008) Monte-Carlo experiment, in the variant its published tables fix.

Section 4 of Avellaneda & Stoikov, "High-frequency trading in a limit order book", Quantitative
Finance 8(3), 217-224 (2008): s = 100, T = 1, sigma_px = 2, dt = 0.005, q0 = 0, k = 1.5, A = 140,
1000 paths, gamma in {0.1, 0.01, 1}; reference values in :mod:`mmlab.quoting._as_paper_tables`.

The default model (each step i = 0 .. T/dt - 1, at time t = i dt, mid s, inventory q)
------------------------------------------------------------------------------------
1. Quotes. Inventory strategy: around r = s - q gamma sigma_px^2 (T - t) with the full spread
   gamma sigma_px^2 (T - t) + (2/gamma) ln(1 + gamma/k) (``spread_model="full"``). Symmetric
   strategy: around s with a constant spread equal to the time average of that formula over
   [0, T], gamma sigma_px^2 T / 2 + (2/gamma) ln(1 + gamma/k) (``symmetric_spread=
   "horizon_average"``; :func:`as_average_spread`).
2. Fills, decided against the mid the quotes were set from (``fill_timing="before_move"``): the
   bid (ask) at distance delta from s is hit (lifted) with probability min(1, A exp(-k delta) dt)
   (``fill_probability="linear"``), one unit, the two sides independent.
3. The mid moves up or down by sigma_px sqrt(dt) with probability 1/2 each.

The profit of a path is marked at the final mid: cash + q_T S_T (initial wealth 0).

Why this variant (the published Tables 1-3 pin it down)
-------------------------------------------------------
Against the article's 12 means (profit and final q of 6 rows), each variant was run with
20,000 paths per row (seed 0); z = (ours - paper) / sqrt(sd_paper^2/1000 + sd_ours^2/20000):

* the default: every |z| < 1.2; every standard deviation within 6 % (the symmetric profit sds
  of gamma = 0.1 / 0.01 are +4.8 % / +5.9 %, the other ten within 4 %);
* ``fill_timing="after_move"`` (fills decided against the mid after its step, a small
  adverse selection of about k sigma_px^2 dt per fill): profit z = -7.4 / -3.1 / -5.9 / -3.7 /
  -4.4 for five of the six rows (it fits the 2006 working paper's gamma = 0.1 / 0.01 rows);
* ``fill_probability="poisson"`` (1 - exp(-A exp(-k delta) dt)): about 10 % fewer fills,
  profit z from -4.6 to -36;
* ``spread_model="liquidity_only"`` (the spread without gamma sigma_px^2 (T - t)): the gamma = 1
  inventory strategy loses money (mean about -43 against 31.4);
* the symmetric spread: the printed average spreads 1.49 / 1.35 / 3.02 are the [0, T] time
  averages 1.4908 / 1.3489 / 3.0217 of the formula, not its average over the 200 quoting
  instants, 1.4918 / 1.3490 / 3.0317 (which would print 3.03); the profits cannot tell the two
  apart (0.2 at gamma = 1, under one standard error) and ``symmetric_spread="quoted_average"``
  keeps the latter.

The ±sigma_px sqrt(dt) step is the article's description of the mid (a Gaussian step of the same
variance, tried, gives the same table within error: the tables do not pin that choice). The
symmetric profit standard deviations of gamma = 0.1 / 0.01 come out 5-6 % above the printed
12.7 / 12.8 (13.4 / 13.6 with 200,000 paths); a 1000-path estimate of them has a relative
sampling error of 3.2 %, so the printed values are within two of its standard errors. With
these defaults the 2006 working paper's table (:data:`AS_PAPER_TABLE`) is not reproduced: it
fits no single variant (see :mod:`mmlab.quoting._as_paper_tables`).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import pandas as pd
from numba import njit

from mmlab.errors import ConfigError
from mmlab.quoting._as_paper_tables import (
    AS_PAPER_N_PATHS,
    AS_PAPER_TABLE,
    AS_PUBLISHED_TABLE,
    AS_REFERENCE_TABLES,
    AS_WORKING_PAPER_TABLE,
)
from mmlab.quoting._checks import SIGMA_PX_RENAMED, check_positive, renamed_keywords

__all__ = [
    "AS_PAPER_N_PATHS",
    "AS_PAPER_TABLE",
    "AS_PUBLISHED_TABLE",
    "AS_WORKING_PAPER_TABLE",
    "as_average_spread",
    "as_simulate_kernel",
    "as_simulate_kernel_python",
    "reproduce_as_table",
    "simulate_avellaneda_stoikov",
    "symmetric_expected_profit",
]

_BLOCK = 2048  # paths per block of random numbers (bounds memory; part of the seeded stream)
_FILL_TIMINGS = ("before_move", "after_move")
_SPREAD_MODELS = ("full", "liquidity_only")
_FILL_PROBABILITIES = ("linear", "poisson")
_SYMMETRIC_SPREADS = ("horizon_average", "quoted_average")


def as_simulate_kernel_python(u, s0, sigma_px, dt, gamma, k, A, symmetric, sym_spread,
                              fill_after_move, risk_in_spread, poisson_fills):
    """Simulate A-S paths from pre-drawn uniforms; returns ``(profit, final_q, mean_spread)``.

    Parameters
    ----------
    u : ndarray, shape (n_paths, n_steps, 3)
        Uniforms on [0, 1): ``[..., 0]`` the mid's move (up when < 0.5), ``[..., 1]`` the bid
        fill (when < the fill probability), ``[..., 2]`` the ask fill.
    s0, sigma_px, dt, gamma, k, A : float
        Model parameters (see :func:`simulate_avellaneda_stoikov`; ``sigma_px`` in price per
        sqrt(time unit)); T = n_steps * dt.
    symmetric : bool
        False: the inventory strategy; True: quotes mid -/+ sym_spread / 2.
    sym_spread : float
        The symmetric strategy's full spread (ignored by the inventory strategy).
    fill_after_move : bool
        True: fills are decided against the mid after the step's move; False (the paper's
        tables): against the mid the quotes were set from.
    risk_in_spread : bool
        True: the inventory strategy's spread includes gamma sigma_px^2 (T - t) (the paper's).
    poisson_fills : bool
        True: fill probability 1 - exp(-A exp(-k delta) dt); False: min(1, A exp(-k delta) dt).

    Examples
    --------
    >>> u = np.full((1, 2, 3), 0.9)          # mid goes down twice, no fills
    >>> p, q, s = as_simulate_kernel_python(u, 100.0, 2.0, 0.005, 0.1, 1.5, 140.0, False, 0.0,
    ...                                     False, True, False)
    >>> float(p[0]), float(q[0])
    (0.0, 0.0)
    """
    n_paths = u.shape[0]
    n_steps = u.shape[1]
    T = n_steps * dt
    step = sigma_px * math.sqrt(dt)
    liq = 2.0 * math.log(1.0 + gamma / k) / gamma
    profit = np.empty(n_paths)
    final_q = np.empty(n_paths)
    mean_spread = np.empty(n_paths)
    for p in range(n_paths):
        s = s0
        q = 0.0
        cash = 0.0
        spread_sum = 0.0
        for i in range(n_steps):
            if symmetric:
                spread = sym_spread
                r = s
            else:
                risk = gamma * sigma_px * sigma_px * (T - i * dt)
                spread = liq + risk if risk_in_spread else liq
                r = s - q * risk
            bid = r - 0.5 * spread
            ask = r + 0.5 * spread
            spread_sum += spread
            s_next = s + step if u[p, i, 0] < 0.5 else s - step
            ref = s_next if fill_after_move else s
            p_bid = A * math.exp(-k * (ref - bid)) * dt
            p_ask = A * math.exp(-k * (ask - ref)) * dt
            if poisson_fills:
                p_bid = -math.expm1(-p_bid)
                p_ask = -math.expm1(-p_ask)
            # u < x  <=>  fill with probability min(1, x)
            if u[p, i, 1] < p_bid:
                q += 1.0
                cash -= bid
            if u[p, i, 2] < p_ask:
                q -= 1.0
                cash += ask
            s = s_next
        profit[p] = cash + q * s
        final_q[p] = q
        mean_spread[p] = spread_sum / n_steps
    return profit, final_q, mean_spread


as_simulate_kernel = njit(cache=True)(as_simulate_kernel_python)


def _n_steps(T: float, dt: float) -> int:
    n = round(T / dt)
    if n < 1 or abs(n * dt - T) > 1e-9 * max(1.0, T):
        raise ConfigError(f"T / dt must be a positive integer, got T={T!r}, dt={dt!r}")
    return int(n)


def _choice(name: str, value, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


@renamed_keywords(sigma=SIGMA_PX_RENAMED)
def as_average_spread(gamma: float, T: float = 1.0, sigma_px: float = 2.0, k: float = 1.5,
                      *, spread_model: str = "full") -> float:
    """Time average over [0, T] of the inventory strategy's spread formula.

    ``gamma sigma_px^2 T / 2 + (2/gamma) ln(1 + gamma/k)`` (``spread_model="full"``), or the
    second term alone (``"liquidity_only"``). With the paper's parameters it gives the printed
    average spreads of Tables 1-3 (1.49, 1.35, 3.02) once rounded; it is the symmetric
    strategy's spread by default. ``sigma_px``: the mid's volatility in price per sqrt(time unit)
    (the unit of ``T``).

    Examples
    --------
    >>> [round(as_average_spread(g), 4) for g in (0.1, 0.01, 1.0)]
    [1.4908, 1.3489, 3.0217]
    """
    for name, v in (("gamma", gamma), ("T", T), ("sigma_px", sigma_px), ("k", k)):
        check_positive(name, v)
    _choice("spread_model", spread_model, _SPREAD_MODELS)
    liq = 2.0 * math.log1p(gamma / k) / gamma
    return liq + (0.5 * gamma * sigma_px**2 * T if spread_model == "full" else 0.0)


def _quoted_average_spread(n_steps: int, T: float, dt: float, gamma: float, sigma_px: float,
                           k: float, spread_model: str) -> float:
    tau = T - np.arange(n_steps) * dt
    risk = float(np.mean(gamma * sigma_px**2 * tau)) if spread_model == "full" else 0.0
    return risk + 2.0 * math.log1p(gamma / k) / gamma


@renamed_keywords(sigma=SIGMA_PX_RENAMED)
def simulate_avellaneda_stoikov(
    gamma: float,
    strategy: str = "inventory",
    n_paths: int = 1000,
    seed: int = 0,
    s0: float = 100.0,
    T: float = 1.0,
    sigma_px: float = 2.0,
    dt: float = 0.005,
    k: float = 1.5,
    A: float = 140.0,
    *,
    fill_timing: str = "before_move",
    spread_model: str = "full",
    fill_probability: str = "linear",
    symmetric_spread: str | float = "horizon_average",
    engine: str = "numba",
) -> pd.DataFrame:
    """Run the paper's Monte-Carlo experiment (section 4 of Avellaneda & Stoikov 2008).

    The defaults are the variant that reproduces the published Tables 1-3 (module docstring).

    Parameters
    ----------
    gamma : float
        Risk aversion (1 / price unit, unit orders).
    strategy : {"inventory", "symmetric"}
        "inventory": the paper's optimal quotes; "symmetric": quotes centred on the mid with a
        constant spread (``symmetric_spread``).
    n_paths : int, default 1000
        Number of simulated paths.
    seed : int, default 0
        Seed of the NumPy generator drawing all uniforms (same seed -> same paths; the
        "inventory" and "symmetric" runs with one seed share the same random numbers).
    s0, T, sigma_px, dt, k, A : float
        Initial mid, horizon, mid volatility (price per sqrt(time unit), not annualised), time
        step, intensity decay (1 / price) and scale (1 / time). Defaults are the paper's.
        T / dt must be an integer.
    fill_timing : {"before_move", "after_move"}
        Whether a step's fills are decided against the mid the quotes were set from (the
        paper's tables) or against the mid after the step's move.
    spread_model : {"full", "liquidity_only"}
        The inventory strategy's spread: gamma sigma_px^2 (T - t) + (2/gamma) ln(1 + gamma/k)
        (the paper's) or the second term alone.
    fill_probability : {"linear", "poisson"}
        min(1, A exp(-k delta) dt) (the paper's) or 1 - exp(-A exp(-k delta) dt).
    symmetric_spread : {"horizon_average", "quoted_average"} or float
        The symmetric strategy's spread: the [0, T] time average of the spread formula
        (:func:`as_average_spread`, the paper's printed value), its average over the T/dt
        quoting instants, or a given positive number.
    engine : {"numba", "python"}
        The compiled kernel or its plain Python twin (same numbers; the twin is slow).

    Returns
    -------
    DataFrame
        One row per path: ``profit`` (cash + q_T S_T), ``final_q``, ``spread`` (the path's
        average quoted bid-ask spread over the quoting instants). Parameters, the variant and
        the symmetric spread used (``symmetric_spread_value``) are in ``df.attrs``.

    Raises
    ------
    ConfigError
        On a non-positive parameter, T / dt not an integer, or an unknown option.

    Examples
    --------
    >>> df = simulate_avellaneda_stoikov(0.1, n_paths=200, seed=1)
    >>> list(df.columns)
    ['profit', 'final_q', 'spread']
    >>> round(float(df["spread"].iloc[0]), 4)
    1.4918
    >>> round(df.attrs["symmetric_spread_value"], 4)
    1.4908
    """
    check_positive("gamma", gamma)
    for name, v in (("T", T), ("sigma_px", sigma_px), ("dt", dt), ("k", k), ("A", A), ("s0", s0)):
        check_positive(name, v)
    _choice("strategy", strategy, ("inventory", "symmetric"))
    _choice("fill_timing", fill_timing, _FILL_TIMINGS)
    _choice("spread_model", spread_model, _SPREAD_MODELS)
    _choice("fill_probability", fill_probability, _FILL_PROBABILITIES)
    _choice("engine", engine, ("numba", "python"))
    if isinstance(n_paths, bool) or not isinstance(n_paths, (int, np.integer)) or n_paths < 1:
        raise ConfigError(f"n_paths must be a positive integer, got {n_paths!r}")
    n_steps = _n_steps(float(T), float(dt))
    g, s, kk, tt, dtt = float(gamma), float(sigma_px), float(k), float(T), float(dt)
    if isinstance(symmetric_spread, str):
        _choice("symmetric_spread", symmetric_spread, _SYMMETRIC_SPREADS)
        if symmetric_spread == "horizon_average":
            sym_spread = as_average_spread(g, tt, s, kk, spread_model=spread_model)
        else:
            sym_spread = _quoted_average_spread(n_steps, tt, dtt, g, s, kk, spread_model)
    elif isinstance(symmetric_spread, numbers.Real) and not isinstance(symmetric_spread, bool):
        check_positive("symmetric_spread", symmetric_spread)
        sym_spread = float(symmetric_spread)
    else:
        raise ConfigError(f"symmetric_spread must be 'horizon_average', 'quoted_average' or a "
                          f"positive number, got {symmetric_spread!r}")
    kernel = as_simulate_kernel if engine == "numba" else as_simulate_kernel_python
    rng = np.random.default_rng(seed)
    out = []
    for start in range(0, int(n_paths), _BLOCK):
        b = min(_BLOCK, int(n_paths) - start)
        u = rng.random((b, n_steps, 3))
        out.append(kernel(u, float(s0), s, dtt, g, kk, float(A), strategy == "symmetric",
                          sym_spread, fill_timing == "after_move", spread_model == "full",
                          fill_probability == "poisson"))
    df = pd.DataFrame({
        "profit": np.concatenate([o[0] for o in out]),
        "final_q": np.concatenate([o[1] for o in out]),
        "spread": np.concatenate([o[2] for o in out]),
    })
    df.index.name = "path"
    df.attrs.update(dict(gamma=gamma, strategy=strategy, n_paths=int(n_paths), seed=seed, s0=s0,
                         T=T, sigma_px=sigma_px, dt=dt, k=k, A=A, fill_timing=fill_timing,
                         spread_model=spread_model, fill_probability=fill_probability,
                         symmetric_spread=symmetric_spread, symmetric_spread_value=sym_spread))
    return df


@renamed_keywords(sigma=SIGMA_PX_RENAMED)
def symmetric_expected_profit(
    spread: float,
    T: float = 1.0,
    sigma_px: float = 2.0,
    dt: float = 0.005,
    k: float = 1.5,
    A: float = 140.0,
    *,
    fill_timing: str = "before_move",
    fill_probability: str = "linear",
) -> float:
    """Exact expected profit of the symmetric strategy (constant ``spread`` around the mid).

    The mid is a martingale and the inventory is known before each move, so the inventory
    term of the profit has mean 0 and the expected profit is the expected spread capture,
    measured at the mid against which fills are decided::

        before_move:  E = 2 n p(d) d
        after_move:   E = 2 n [p(d + h)(d + h) + p(d - h)(d - h)] / 2

    with n = T / dt steps, d = spread / 2, h = sigma_px sqrt(dt) and p(x) = min(1, A exp(-k x) dt)
    (``fill_probability="linear"``) or 1 - exp(-A exp(-k x) dt) (``"poisson"``); ``sigma_px`` is
    the mid's volatility in price per sqrt(time unit) (the unit of ``T`` and ``dt``).

    Examples
    --------
    >>> round(symmetric_expected_profit(as_average_spread(0.1)), 2)   # Table 1 prints 68.4
    68.23
    >>> round(symmetric_expected_profit(as_average_spread(1.0)), 2)   # Table 3 prints 44.0
    43.87
    """
    check_positive("spread", spread)
    for name, v in (("T", T), ("sigma_px", sigma_px), ("dt", dt), ("k", k), ("A", A)):
        check_positive(name, v)
    _choice("fill_timing", fill_timing, _FILL_TIMINGS)
    _choice("fill_probability", fill_probability, _FILL_PROBABILITIES)
    n = _n_steps(float(T), float(dt))
    d = 0.5 * float(spread)

    def gain(x: float) -> float:
        lam = A * math.exp(-k * x) * dt
        prob = -math.expm1(-lam) if fill_probability == "poisson" else min(1.0, lam)
        return prob * x

    if fill_timing == "before_move":
        return 2.0 * n * gain(d)
    h = sigma_px * math.sqrt(dt)
    return n * (gain(d + h) + gain(d - h))


def reproduce_as_table(
    n_paths: int = 10_000,
    seed: int = 0,
    gammas: tuple[float, ...] = (0.1, 0.01, 1.0),
    *,
    reference: str = "published",
    **variant,
) -> pd.DataFrame:
    """The paper's Tables 1-3 side by side with a fresh simulation, with z-scores.

    For each (gamma, strategy) row: the reference's and our spread, mean profit, std of profit,
    mean final inventory and its std, the z-scores of the two means,
    ``z = (ours - paper) / sqrt(sd_paper^2 / 1000 + sd_ours^2 / n_paths)``, and the relative
    differences of the two standard deviations, ``ours / paper - 1``.

    Parameters
    ----------
    n_paths : int, default 10000
        Paths per row of our simulation.
    seed : int, default 0
        Seed; both strategies of a gamma share the random numbers.
    gammas : tuple of float
        Which of the paper's tables (0.1, 0.01, 1.0) to reproduce.
    reference : {"published", "working_paper"}
        The 2008 article's tables (:data:`AS_PUBLISHED_TABLE`) or the 2006 working paper's
        (:data:`AS_PAPER_TABLE`, a documented second reference that no variant reproduces).
    **variant
        ``fill_timing``, ``spread_model``, ``fill_probability``, ``symmetric_spread``, passed
        to :func:`simulate_avellaneda_stoikov` (default: the paper's variant).

    Returns
    -------
    DataFrame
        Index (gamma, strategy); columns ``spread_paper, spread_ours, profit_paper,
        profit_ours, profit_z, std_profit_paper, std_profit_ours, std_profit_rel,
        final_q_paper, final_q_ours, final_q_z, std_final_q_paper, std_final_q_ours,
        std_final_q_rel``.

    Examples
    --------
    >>> tab = reproduce_as_table(n_paths=500, gammas=(0.1,))
    >>> float(tab.loc[(0.1, "inventory"), "profit_paper"])
    65.0
    >>> float(reproduce_as_table(n_paths=50, gammas=(0.1,), reference="working_paper")
    ...       .loc[(0.1, "inventory"), "profit_paper"])
    62.94
    """
    _choice("reference", reference, tuple(AS_REFERENCE_TABLES))
    allowed = {"fill_timing", "spread_model", "fill_probability", "symmetric_spread"}
    unknown = sorted(set(variant) - allowed)
    if unknown:
        raise ConfigError(f"unknown variant option(s) {unknown}; allowed: {sorted(allowed)}")
    table = AS_REFERENCE_TABLES[reference]
    rows = []
    for g in gammas:
        for strat in ("inventory", "symmetric"):
            key = (float(g), strat)
            if key not in table:
                raise ConfigError(f"gamma {g!r} is not one of the paper's tables (0.1, 0.01, 1.0)")
            ref = table[key]
            df = simulate_avellaneda_stoikov(g, strat, n_paths=n_paths, seed=seed, **variant)
            sd_p = float(df["profit"].std(ddof=1))
            sd_q = float(df["final_q"].std(ddof=1))
            m_p = float(df["profit"].mean())
            m_q = float(df["final_q"].mean())
            se_p = math.sqrt(ref["std_profit"] ** 2 / AS_PAPER_N_PATHS + sd_p**2 / n_paths)
            se_q = math.sqrt(ref["std_final_q"] ** 2 / AS_PAPER_N_PATHS + sd_q**2 / n_paths)
            rows.append(dict(
                gamma=float(g), strategy=strat,
                spread_paper=ref["spread"], spread_ours=float(df["spread"].mean()),
                profit_paper=ref["profit"], profit_ours=m_p, profit_z=(m_p - ref["profit"]) / se_p,
                std_profit_paper=ref["std_profit"], std_profit_ours=sd_p,
                std_profit_rel=sd_p / ref["std_profit"] - 1.0,
                final_q_paper=ref["final_q"], final_q_ours=m_q,
                final_q_z=(m_q - ref["final_q"]) / se_q,
                std_final_q_paper=ref["std_final_q"], std_final_q_ours=sd_q,
                std_final_q_rel=sd_q / ref["std_final_q"] - 1.0,
            ))
    tab = pd.DataFrame(rows).set_index(["gamma", "strategy"])
    tab.attrs.update(dict(n_paths=n_paths, seed=seed, paper_n_paths=AS_PAPER_N_PATHS,
                          reference=reference, **variant))
    return tab
