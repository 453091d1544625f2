"""Guéant–Lehalle–Fernandez-Tapia (GLFT) optimal quotes: closed form and exact solution.

References
----------
* [GLFT13] O. Guéant, C.-A. Lehalle, J. Fernandez-Tapia, "Dealing with the inventory risk: a
  solution to the market making problem", Mathematics and Financial Economics 7(4), 477-507
  (2013): the HJB equation reduces to the linear system v'(t) = M v(t), v(T) = 1, solved by
  v(t) = exp(-M (T - t)) 1 (section 3, Theorem 1), with optimal distances
  delta_b(t, q) = (1/k) ln(v_q / v_{q+1}) + (1/gamma) ln(1 + gamma/k),
  delta_a(t, q) = (1/k) ln(v_q / v_{q-1}) + (1/gamma) ln(1 + gamma/k) (Theorem 2); as T - t grows
  they converge to the quotes of the ground state of M (section 4), approximated in closed form by
  delta_b(q) ~ (1/gamma) ln(1 + gamma/k)
               + (2q + 1)/2 sqrt(sigma_px^2 gamma / (2 k A) (1 + gamma/k)^(1 + k/gamma))
  and symmetrically for the ask with -(2q - 1)/2 (section 4, closed-form approximations).
* [G17] O. Guéant, "Optimal market making", Applied Mathematical Finance 24(2), 112-154
  (2017): the same model with orders of size Delta and a risk parameter xi in the Hamiltonian
  (xi = gamma: the CARA model above; xi = 0: risk-adjusted expectation). For exponential
  intensities (its closed-form approximations, section 4)::

      c1 = 1/(xi Delta) ln(1 + xi Delta / k)                         (1/k when xi = 0)
      c2 = sqrt(gamma / (2 A Delta k) (1 + xi Delta / k)^(k/(xi Delta) + 1))   (e when xi = 0)
      delta_b(q) = c1 + (Delta/2) sigma_px c2 + q sigma_px c2
      delta_a(q) = c1 + (Delta/2) sigma_px c2 - q sigma_px c2

  The equation numbers of the printed papers were not available to us; sections are cited.

Exact solution with Delta and xi. Writing the inventory as q = n Delta, n in {-N..N},
N = Q / Delta, and theta(t, q) = (Delta/k) ln v_n(t), the HJB of [G17] for exponential intensity
becomes linear: dv_n/dt = alpha n^2 v_n - eta (v_{n+1} + v_{n-1}) with
alpha = k gamma sigma_px^2 Delta / 2 and eta = A (1 + xi Delta/k)^(-(1 + k/(xi Delta))) (A / e when
xi = 0), i.e. v(t) = exp(-M (T - t)) 1 with M tridiagonal (alpha n^2 on the diagonal, -eta off
it). The quotes are delta_b(t, q) = (1/k) ln(v_n / v_{n+1}) + c1 and
delta_a(t, q) = (1/k) ln(v_n / v_{n-1}) + c1. With Delta = 1 and xi = gamma this is [GLFT13].

Units
-----
prices and distances in price units P (or ticks, if sigma_px, k and the mid are in ticks);
time in the unit U of A (e.g. seconds: A in 1/s, sigma_px in P/sqrt(s)); k in 1/P; gamma and xi in
1/(P x quantity); Delta, q and Q in quantity units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

from mmlab.errors import ConfigError
from mmlab.quoting._checks import (
    SIGMA_PX_RENAMED,
    check_nonnegative,
    check_positive,
    renamed_keywords,
)
from mmlab.quoting._types import MarketState, Quote

__all__ = [
    "GLFTConfig",
    "GLFTExactQuotes",
    "GLFTStrategy",
    "glft_exact_quotes",
    "glft_quote_kernel",
    "glft_quote_kernel_python",
    "glft_quotes",
    "glft_stationary_quotes",
]


# --------------------------------------------------------------------------------------------
# Closed-form approximation: kernel and vectorised function
# --------------------------------------------------------------------------------------------


def _c1_c2(gamma, A, k, xi, delta):
    x = xi * delta
    if x > 0.0:
        c1 = math.log(1.0 + x / k) / x
        c2 = math.sqrt(gamma / (2.0 * A * delta * k) * (1.0 + x / k) ** (k / x + 1.0))
    else:  # xi = 0 limit: ln(1+x/k)/x -> 1/k and (1+x/k)^(k/x+1) -> e
        c1 = 1.0 / k
        c2 = math.sqrt(gamma * math.e / (2.0 * A * delta * k))
    return c1, c2


_c1_c2_jit = njit(cache=True)(_c1_c2)


def glft_quote_kernel_python(mid, q, gamma, sigma_px, A, k, xi, delta, max_inventory):
    """GLFT closed-form quote ``(bid, ask, bid_size, ask_size)`` (see the module docstring).

    Sizes are ``delta`` (the order size Delta of [G17]). No bid when ``q + delta`` would exceed
    ``max_inventory`` (so none at q = Q), no ask when ``q - delta < -max_inventory``; a missing
    side has price NaN and size 0. Nothing is quoted when mid or q is not finite.

    Examples
    --------
    >>> b, a, bs, az = glft_quote_kernel_python(100.0, 0.0, 0.01, 0.3, 0.9, 0.3, 0.01, 1.0, 30.0)
    >>> round(100.0 - b, 4) == round(a - 100.0, 4), bs
    (True, 1.0)
    """
    if not (math.isfinite(mid) and math.isfinite(q)):
        return math.nan, math.nan, 0.0, 0.0  # bad state: quote nothing
    c1, c2 = _c1_c2_jit(gamma, A, k, xi, delta)
    skew = sigma_px * c2
    half = c1 + 0.5 * delta * skew
    bid = mid - (half + q * skew)
    ask = mid + (half - q * skew)
    bid_size = delta
    ask_size = delta
    if q + delta > max_inventory * (1.0 + 1e-12):
        bid = math.nan
        bid_size = 0.0
    if q - delta < -max_inventory * (1.0 + 1e-12):
        ask = math.nan
        ask_size = 0.0
    return bid, ask, bid_size, ask_size


glft_quote_kernel = njit(cache=True)(glft_quote_kernel_python)


def _glft_step_python(mid, q, time_left, best_bid, best_ask, volatility, p):
    return glft_quote_kernel_python(mid, q, p[0], p[1], p[2], p[3], p[4], p[5], p[6])


@njit(cache=True)
def _glft_step(mid, q, time_left, best_bid, best_ask, volatility, p):
    return glft_quote_kernel(mid, q, p[0], p[1], p[2], p[3], p[4], p[5], p[6])


@njit(cache=True)
def _glft_quote_many(p, mids, qs, taus):
    out = np.empty((mids.size, 4))
    for i in range(mids.size):
        b, a, bs, az = glft_quote_kernel(mids[i], qs[i], p[0], p[1], p[2], p[3], p[4], p[5], p[6])
        out[i, 0] = b
        out[i, 1] = a
        out[i, 2] = bs
        out[i, 3] = az
    return out


def _check_glft(gamma, sigma_px, A, k, xi, delta):
    check_positive("gamma", gamma)
    check_positive("sigma_px", sigma_px)
    check_positive("A", A)
    check_positive("k", k)
    if xi is not None:
        check_nonnegative("xi", xi)
    check_positive("delta", delta)
    return float(gamma if xi is None else xi)


@renamed_keywords(sigma=SIGMA_PX_RENAMED)
def glft_quotes(inventory, gamma, sigma_px, A, k, xi=None, delta=1.0, max_inventory=None):
    """GLFT closed-form optimal bid and ask distances from the mid.

    Parameters
    ----------
    inventory : float or array_like
        q, in quantity units (a multiple of ``delta`` in the model).
    gamma : float
        Risk aversion, 1 / (P x quantity).
    sigma_px : float
        Volatility of the mid in price per square root of the time unit, P / sqrt(U) (not
        annualised; pricing's ``sigma`` is).
    A : float
        Intensity scale, 1 / U: lambda(delta) = A exp(-k delta) per side.
    k : float
        Intensity decay, 1 / P.
    xi : float or None, default None
        Risk parameter of the Hamiltonian ([G17]); None means xi = gamma (the 2013 paper);
        0 gives the risk-adjusted-expectation model.
    delta : float, default 1.0
        Order size Delta, quantity units.
    max_inventory : float or None
        If given, the bid distance is NaN where ``q + delta > max_inventory`` and the ask
        distance NaN where ``q - delta < -max_inventory``.

    Returns
    -------
    bid_distance, ask_distance : float or ndarray
        ``c1 + (delta/2) sigma_px c2 + q sigma_px c2`` and
        ``c1 + (delta/2) sigma_px c2 - q sigma_px c2``
        (module docstring). They can be negative for large |q| (a quote through the mid).

    Examples
    --------
    >>> db, da = glft_quotes(0.0, gamma=0.01, sigma_px=0.3, A=0.9, k=0.3)   # ticks and seconds
    >>> round(db, 4), round(da, 4)
    (3.3129, 3.3129)
    >>> db, da = glft_quotes([-2.0, 2.0], 0.01, 0.3, 0.9, 0.3)
    >>> bool(db[1] > db[0] and da[1] < da[0])
    True
    """
    xi_ = _check_glft(gamma, sigma_px, A, k, xi, delta)
    c1, c2 = _c1_c2(float(gamma), float(A), float(k), xi_, float(delta))
    q = np.asarray(inventory, dtype=float)
    if not np.all(np.isfinite(q)):
        raise ConfigError(f"inventory must be finite, got {inventory!r}")
    skew = sigma_px * c2
    half = c1 + 0.5 * delta * skew
    db = half + q * skew
    da = half - q * skew
    if max_inventory is not None:
        check_positive("max_inventory", max_inventory, allow_inf=True)
        db = np.where(q + delta > max_inventory * (1 + 1e-12), np.nan, db)
        da = np.where(q - delta < -max_inventory * (1 + 1e-12), np.nan, da)
    if db.ndim == 0:
        return float(db), float(da)
    return db, da


# --------------------------------------------------------------------------------------------
# Exact finite-horizon solution (matrix exponential) and its T - t -> infinity limit
# --------------------------------------------------------------------------------------------


def _grid(max_inventory, delta):
    check_positive("max_inventory", max_inventory)
    n = float(max_inventory) / float(delta)
    N = int(round(n))
    if N < 1 or abs(N - n) > 1e-9 * max(1.0, n):
        raise ConfigError(
            f"max_inventory / delta must be a positive integer, got {max_inventory!r} / {delta!r}"
        )
    return N


def _matrix(gamma, sigma_px, A, k, xi, delta, N):
    x = xi * delta
    eta = A * (1.0 + x / k) ** (-(1.0 + k / x)) if x > 0 else A / math.e
    alpha = 0.5 * k * gamma * sigma_px**2 * delta
    n = np.arange(-N, N + 1, dtype=float)
    diag = alpha * n**2
    off = np.full(2 * N, -eta)
    return diag, off, n


@dataclass(frozen=True)
class GLFTExactQuotes:
    """Exact GLFT quotes on the inventory grid; returned by :func:`glft_exact_quotes`.

    Attributes
    ----------
    q : ndarray, shape (2N + 1,)
        Inventories -Q, ..., Q (step Delta).
    time_left : ndarray, shape (m,)
        The T - t at which quotes were computed.
    bid, ask : ndarray, shape (m, 2N + 1)
        Optimal bid and ask distances from the mid (NaN at q = Q for the bid and at q = -Q for
        the ask: no quote there).
    """

    q: np.ndarray
    time_left: np.ndarray
    bid: np.ndarray
    ask: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """Long table: one row per (time_left, q) with ``bid_distance`` and ``ask_distance``."""
        m, n = self.bid.shape
        return pd.DataFrame({
            "time_left": np.repeat(self.time_left, n),
            "q": np.tile(self.q, m),
            "bid_distance": self.bid.ravel(),
            "ask_distance": self.ask.ravel(),
        })

    def at(self, q: float, i: int = -1) -> tuple[float, float]:
        """(bid, ask) distances at inventory ``q`` and time index ``i`` (default: the last)."""
        j = int(np.argmin(np.abs(self.q - q)))
        if not math.isclose(self.q[j], q, rel_tol=0, abs_tol=1e-9 * max(1.0, abs(q))):
            raise ConfigError(f"inventory {q!r} is not on the grid {self.q[0]}..{self.q[-1]}")
        return float(self.bid[i, j]), float(self.ask[i, j])


def _quotes_from_v(v, k, c1):
    lv = np.log(v)
    bid = np.full(v.shape, np.nan)
    ask = np.full(v.shape, np.nan)
    bid[..., :-1] = (lv[..., :-1] - lv[..., 1:]) / k + c1
    ask[..., 1:] = (lv[..., 1:] - lv[..., :-1]) / k + c1
    return bid, ask


@renamed_keywords(sigma=SIGMA_PX_RENAMED)
def glft_exact_quotes(time_left, gamma, sigma_px, A, k, max_inventory, xi=None, delta=1.0, *,
                      method="expm"):
    """Exact finite-horizon GLFT optimal quotes, v(t) = exp(-M (T - t)) 1 ([GLFT13] Thm 1-2).

    Parameters
    ----------
    time_left : float or array_like
        T - t >= 0 (time unit U).
    gamma, sigma_px, A, k, xi, delta : float
        As in :func:`glft_quotes`.
    max_inventory : float
        The bound Q (quantity units); Q / delta must be an integer.
    method : {"expm", "eigh"}, default "expm"
        "expm": scipy.linalg.expm per time (the paper's form); "eigh": one eigendecomposition
        of the symmetric tridiagonal M, then v = U exp(-(Lambda - lambda_0)(T - t)) U^T 1 for
        every time (same result, much faster for many times).

    Returns
    -------
    GLFTExactQuotes

    Notes
    -----
    The matrix exponential is taken of -(M - lambda_0 I)(T - t), lambda_0 the smallest
    eigenvalue of M (scipy.linalg.eigvalsh_tridiagonal), which rescales v by a constant
    (the quotes only use ratios) and keeps it finite for any horizon. Precision: ratios of v
    are accurate while v_q is not negligible against max(v); far in the tails (|q| near Q with
    long horizons and large alpha / eta) the quotes lose digits.

    Examples
    --------
    >>> sol = glft_exact_quotes([0.0, 3600.0], 0.01, 0.3, 0.9, 0.3, max_inventory=30)
    >>> sol.bid.shape
    (2, 61)
    >>> round(sol.at(0.0, 0)[0], 4)    # at T: the myopic distance (1/gamma) ln(1 + gamma/k)
    3.2790
    >>> round(sol.at(0.0)[0], 3), round(glft_quotes(0.0, 0.01, 0.3, 0.9, 0.3)[0], 3)
    (3.313, 3.313)
    """
    from scipy.linalg import eigh_tridiagonal, eigvalsh_tridiagonal, expm

    xi_ = _check_glft(gamma, sigma_px, A, k, xi, delta)
    if method not in ("expm", "eigh"):
        raise ConfigError(f"method must be 'expm' or 'eigh', got {method!r}")
    N = _grid(max_inventory, delta)
    taus = np.atleast_1d(np.asarray(time_left, dtype=float))
    if taus.ndim != 1 or not np.all(np.isfinite(taus)) or np.any(taus < 0):
        raise ConfigError(f"time_left must be finite and >= 0 (scalar or 1-D), got {time_left!r}")
    diag, off, n = _matrix(float(gamma), float(sigma_px), float(A), float(k), xi_, float(delta), N)
    ones = np.ones(2 * N + 1)
    if method == "eigh":
        lam, U = eigh_tridiagonal(diag, off)
        w = U.T @ ones
        v = (np.exp(-np.outer(taus, lam - lam[0])) * w) @ U.T
    else:
        lam0 = float(eigvalsh_tridiagonal(diag, off, select="i", select_range=(0, 0))[0])
        M = np.diag(diag - lam0) + np.diag(off, 1) + np.diag(off, -1)
        v = np.stack([expm(-M * tau) @ ones for tau in taus])
    c1, _ = _c1_c2(float(gamma), float(A), float(k), xi_, float(delta))
    bid, ask = _quotes_from_v(v, float(k), c1)
    return GLFTExactQuotes(q=n * float(delta), time_left=taus, bid=bid, ask=ask)


@renamed_keywords(sigma=SIGMA_PX_RENAMED)
def glft_stationary_quotes(gamma, sigma_px, A, k, max_inventory, xi=None, delta=1.0):
    """The T - t -> infinity limit of the exact quotes: the ground state f0 of M ([GLFT13] s.4).

    delta_b(q) = (1/k) ln(f0_q / f0_{q+1}) + c1 and delta_a(q) = (1/k) ln(f0_q / f0_{q-1}) + c1.

    Returns
    -------
    GLFTExactQuotes
        With ``time_left = [inf]``.

    Examples
    --------
    >>> sol = glft_stationary_quotes(0.01, 0.3, 0.9, 0.3, max_inventory=30)
    >>> bool(np.isnan(sol.bid[0, -1]) and np.isnan(sol.ask[0, 0]))
    True
    """
    from scipy.linalg import eigh_tridiagonal

    xi_ = _check_glft(gamma, sigma_px, A, k, xi, delta)
    N = _grid(max_inventory, delta)
    diag, off, n = _matrix(float(gamma), float(sigma_px), float(A), float(k), xi_, float(delta), N)
    _, vec = eigh_tridiagonal(diag, off, select="i", select_range=(0, 0))
    f0 = np.abs(vec[:, 0])  # Perron vector: one sign
    c1, _ = _c1_c2(float(gamma), float(A), float(k), xi_, float(delta))
    bid, ask = _quotes_from_v(f0[None, :], float(k), c1)
    return GLFTExactQuotes(q=n * float(delta), time_left=np.array([math.inf]), bid=bid, ask=ask)


# --------------------------------------------------------------------------------------------
# Config and strategy
# --------------------------------------------------------------------------------------------


@renamed_keywords(sigma=SIGMA_PX_RENAMED)
@dataclass(frozen=True, slots=True)
class GLFTConfig:
    """Validated parameters of the GLFT closed-form strategy (units in the module docstring).

    Parameters
    ----------
    gamma, sigma_px, A, k : float
        Risk aversion (1 / (P x quantity)), the mid's volatility in price per sqrt(time unit)
        (P / sqrt(U), not annualised), intensity scale (1 / U) and decay (1 / P).
    xi : float or None, default None
        Hamiltonian risk parameter; None means xi = gamma.
    order_size : float, default 1.0
        Quote size, the Delta of [G17].
    max_inventory : float, default inf
        Inventory bound Q: no bid at q + order_size > Q, no ask at q - order_size < -Q.

    Examples
    --------
    >>> GLFTConfig(gamma=0.01, sigma_px=0.3, A=0.9, k=0.3, max_inventory=30).effective_xi
    0.01
    """

    gamma: float
    sigma_px: float
    A: float
    k: float
    xi: float | None = None
    order_size: float = 1.0
    max_inventory: float = math.inf

    def __post_init__(self) -> None:
        _check_glft(self.gamma, self.sigma_px, self.A, self.k, self.xi, self.order_size)
        check_positive("max_inventory", self.max_inventory, allow_inf=True)

    @property
    def effective_xi(self) -> float:
        """xi, or gamma when ``xi`` is None."""
        return float(self.gamma if self.xi is None else self.xi)


class GLFTStrategy:
    """GLFT closed-form quoting: ``quote(state) -> Quote`` (stationary; ignores time_left).

    ``kernel``, ``params``, ``python_kernel`` and ``quote_many`` as in
    :class:`~mmlab.quoting.AvellanedaStoikovStrategy`.

    Examples
    --------
    >>> strat = GLFTStrategy(GLFTConfig(0.01, 0.3, 0.9, 0.3, max_inventory=30))
    >>> q = strat.quote(MarketState(mid=1000.0, inventory=5.0))
    >>> bool(q.bid < q.ask < 1000.0 + 3.32)
    True
    >>> strat.quote(MarketState(mid=1000.0, inventory=30.0)).has_bid
    False
    """

    __slots__ = ("config", "_args", "params")
    kernel = staticmethod(_glft_step)
    python_kernel = staticmethod(_glft_step_python)

    def __init__(self, config: GLFTConfig):
        if not isinstance(config, GLFTConfig):
            raise ConfigError(f"config must be a GLFTConfig, got {type(config).__name__}")
        self.config = config
        c = config
        self._args = (float(c.gamma), float(c.sigma_px), float(c.A), float(c.k), c.effective_xi,
                      float(c.order_size), float(c.max_inventory))
        self.params = np.array(self._args)

    def quote_many(self, mids, inventories, time_left=0.0) -> np.ndarray:
        """Quotes of many states in one compiled loop: (n, 4) array of bid, ask, sizes."""
        from mmlab.quoting._avellaneda_stoikov import _states

        return _glft_quote_many(self.params, *_states(mids, inventories, time_left))

    def quote(self, state: MarketState) -> Quote:
        """The quote for ``state``."""
        g, s, A, k, xi, d, qmax = self._args
        return Quote(*glft_quote_kernel(float(state.mid), float(state.inventory), g, s, A, k, xi, d,
                                        qmax))
