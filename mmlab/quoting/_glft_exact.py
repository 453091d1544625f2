"""GLFT with the exact finite-horizon quotes ([GLFT13] Theorems 1-2) as a strategy.

The exact quotes depend on the time left T - t; they are tabulated once, at construction
(:func:`~mmlab.quoting.glft_exact_quotes` with ``method="eigh"``), on a
grid of ``n_times`` values of T - t from 0 to a horizon past which they have converged to the
stationary (ground-state) quotes (12 / spectral gap of M: the transient decays like
exp(-(lambda_1 - lambda_0)(T - t)), so by then it is below exp(-12) ~ 6e-6 of its initial
size), and linearly interpolated in T - t per decision. The grid is quadratic in T - t (denser
near the horizon, where the quotes move fastest). Beyond the table the stationary quotes apply.

Inventories are the grid -Q, ..., Q with step Delta (the order size); an inventory off that grid
is quoted at the nearest grid point. Units as in :mod:`mmlab.quoting._glft`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from mmlab.errors import ConfigError
from mmlab.quoting._checks import SIGMA_PX_RENAMED, check_positive, renamed_keywords
from mmlab.quoting._glft import _check_glft, _grid, _matrix, glft_exact_quotes
from mmlab.quoting._types import MarketState, Quote

__all__ = [
    "GLFTExactConfig",
    "GLFTExactStrategy",
    "glft_exact_quote_kernel",
    "glft_exact_quote_kernel_python",
]


def glft_exact_quote_kernel_python(mid, q, time_left, best_bid, best_ask, volatility, p):
    """Exact-GLFT quote from a tabulated solution: ``(bid, ask, bid_size, ask_size)``.

    ``p`` = [Delta, Q, m, taus (m), bid table (m x (2N+1), row-major), ask table (same)] as built
    by :class:`GLFTExactStrategy`. Nothing is quoted when mid or q is not finite or time_left
    is NaN; no bid when ``q + Delta > Q``, no ask when ``q - Delta < -Q``.

    Examples
    --------
    >>> strat = GLFTExactStrategy(GLFTExactConfig(0.01, 0.3, 0.9, 0.3, max_inventory=3))
    >>> b, a, bs, az = glft_exact_quote_kernel_python(100.0, 0.0, 0.0, np.nan, np.nan, np.nan,
    ...                                                strat.params)
    >>> round(float(a) - 100.0, 4)        # at T: the myopic distance (1/gamma) ln(1 + gamma/k)
    3.279
    """
    if not (math.isfinite(mid) and math.isfinite(q)) or time_left != time_left:
        return math.nan, math.nan, 0.0, 0.0
    delta = p[0]
    qmax = p[1]
    m = int(p[2])
    N = int(round(qmax / delta))
    n = 2 * N + 1
    taus = p[3:3 + m]
    off_b = 3 + m
    off_a = off_b + m * n
    j = int(round(q / delta)) + N
    if j < 0:
        j = 0
    elif j > n - 1:
        j = n - 1
    tau = time_left if time_left > 0.0 else 0.0
    if tau >= taus[m - 1]:
        i0 = m - 1
        w = 0.0
    else:
        i0 = int(np.searchsorted(taus, tau, side="right")) - 1
        w = (tau - taus[i0]) / (taus[i0 + 1] - taus[i0])
    i1 = i0 + 1 if w > 0.0 else i0
    db = (1.0 - w) * p[off_b + i0 * n + j] + w * p[off_b + i1 * n + j]
    da = (1.0 - w) * p[off_a + i0 * n + j] + w * p[off_a + i1 * n + j]
    bid = mid - db
    ask = mid + da
    bid_size = delta
    ask_size = delta
    if db != db or q + delta > qmax * (1.0 + 1e-12):
        bid = math.nan
        bid_size = 0.0
    if da != da or q - delta < -qmax * (1.0 + 1e-12):
        ask = math.nan
        ask_size = 0.0
    return bid, ask, bid_size, ask_size


glft_exact_quote_kernel = njit(cache=True)(glft_exact_quote_kernel_python)


@njit(cache=True)
def _glft_exact_quote_many(p, mids, qs, taus):
    out = np.empty((mids.size, 4))
    for i in range(mids.size):
        b, a, bs, az = glft_exact_quote_kernel(mids[i], qs[i], taus[i], math.nan, math.nan,
                                               math.nan, p)
        out[i, 0] = b
        out[i, 1] = a
        out[i, 2] = bs
        out[i, 3] = az
    return out


@renamed_keywords(sigma=SIGMA_PX_RENAMED)
@dataclass(frozen=True, slots=True)
class GLFTExactConfig:
    """Validated parameters of the exact finite-horizon GLFT strategy.

    Parameters
    ----------
    gamma, sigma_px, A, k : float
        As in :class:`~mmlab.quoting.GLFTConfig` (units there; ``sigma_px`` in price per
        sqrt(time unit)).
    max_inventory : float
        The bound Q (finite; a multiple of ``order_size``).
    xi : float or None, default None
        Hamiltonian risk parameter; None means xi = gamma.
    order_size : float, default 1.0
        Delta.
    n_times : int, default 512
        Points of the T - t table (>= 8).

    Examples
    --------
    >>> GLFTExactConfig(0.01, 0.3, 0.9, 0.3, max_inventory=5, order_size=2.0)
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: max_inventory / delta must be a positive integer, got 5 / 2.0
    """

    gamma: float
    sigma_px: float
    A: float
    k: float
    max_inventory: float
    xi: float | None = None
    order_size: float = 1.0
    n_times: int = 512

    def __post_init__(self) -> None:
        _check_glft(self.gamma, self.sigma_px, self.A, self.k, self.xi, self.order_size)
        check_positive("max_inventory", self.max_inventory)
        _grid(self.max_inventory, self.order_size)
        if isinstance(self.n_times, bool) or not isinstance(self.n_times, (int, np.integer)) \
                or self.n_times < 8:
            raise ConfigError(f"n_times must be an integer >= 8, got {self.n_times!r}")

    @property
    def effective_xi(self) -> float:
        """xi, or gamma when ``xi`` is None."""
        return float(self.gamma if self.xi is None else self.xi)


class GLFTExactStrategy:
    """Exact finite-horizon GLFT quoting: ``quote(state) -> Quote`` (reads ``time_left``).

    Attributes
    ----------
    taus : ndarray
        The tabulated T - t values.
    table : GLFTExactQuotes
        The exact quotes on that grid.

    ``kernel``, ``params``, ``python_kernel`` and ``quote_many`` as in
    :class:`~mmlab.quoting.AvellanedaStoikovStrategy`.

    Examples
    --------
    >>> strat = GLFTExactStrategy(GLFTExactConfig(0.01, 0.3, 0.9, 0.3, max_inventory=30))
    >>> far = strat.quote(MarketState(mid=1000.0, inventory=0.0, time_left=1e6))
    >>> round(far.ask - 1000.0, 3)     # converged: the stationary quote
    3.313
    >>> strat.quote(MarketState(mid=1000.0, inventory=30.0, time_left=60.0)).has_bid
    False
    """

    __slots__ = ("config", "params", "taus", "table")
    kernel = staticmethod(glft_exact_quote_kernel)
    python_kernel = staticmethod(glft_exact_quote_kernel_python)

    def __init__(self, config: GLFTExactConfig):
        from scipy.linalg import eigvalsh_tridiagonal

        if not isinstance(config, GLFTExactConfig):
            raise ConfigError(f"config must be a GLFTExactConfig, got {type(config).__name__}")
        self.config = c = config
        N = _grid(c.max_inventory, c.order_size)
        diag, off, _ = _matrix(float(c.gamma), float(c.sigma_px), float(c.A), float(c.k),
                               c.effective_xi, float(c.order_size), N)
        lam = eigvalsh_tridiagonal(diag, off, select="i", select_range=(0, 1))
        tau_max = 12.0 / float(lam[1] - lam[0])
        self.taus = tau_max * np.linspace(0.0, 1.0, int(c.n_times)) ** 2
        self.table = glft_exact_quotes(self.taus, c.gamma, c.sigma_px, c.A, c.k, c.max_inventory,
                                       xi=c.effective_xi, delta=c.order_size, method="eigh")
        self.params = np.concatenate([
            [float(c.order_size), float(c.max_inventory), float(len(self.taus))], self.taus,
            self.table.bid.ravel(), self.table.ask.ravel()])

    def quote(self, state: MarketState) -> Quote:
        """The quote for ``state``."""
        return Quote(*glft_exact_quote_kernel(float(state.mid), float(state.inventory),
                                              float(state.time_left), math.nan, math.nan,
                                              math.nan, self.params))

    def quote_many(self, mids, inventories, time_left=0.0) -> np.ndarray:
        """Quotes of many states in one compiled loop: (n, 4) array of bid, ask, sizes."""
        from mmlab.quoting._avellaneda_stoikov import _states

        return _glft_exact_quote_many(self.params, *_states(mids, inventories, time_left))
