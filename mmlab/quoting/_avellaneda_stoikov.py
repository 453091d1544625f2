"""Avellaneda–Stoikov (2008) quotes: finite horizon and the infinite-horizon variant.

Reference: M. Avellaneda and S. Stoikov, "High-frequency trading in a limit order book",
Quantitative Finance 8(3), 217-224 (2008). Equation numbers below are those of the paper's
preprint (NYU, 2006), whose numbering is the one usually quoted: (29) reservation price,
(30) total spread; the reservation bid/ask of the frozen-inventory agent are section 2.2 and the
infinite-horizon agent section 2.3.

Units (used everywhere in this module)
--------------------------------------
* prices ``mid``, quotes, spreads: price units P;
* inventory ``q``: quantity units (shares, contracts); long is positive;
* time ``time_left = T - t``: the time unit U of the horizon;
* ``sigma_px``: the mid's volatility in P per sqrt(U) (the mid is s + sigma_px W_t, arithmetic
  Brownian motion; not annualised: pricing's ``sigma`` is a fraction per sqrt(year));
* ``gamma``: 1 / (P x quantity), risk aversion per unit of wealth;
* ``k``: 1 / P, decay of the fill intensity lambda(delta) = A exp(-k delta);
* ``omega`` (infinite horizon): 1 / U, discount rate of the utility.

sigma_px enters SQUARED (gamma * sigma_px**2 * (T - t)), as in the paper.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from mmlab.errors import ConfigError
from mmlab.quoting._checks import SIGMA_PX_RENAMED, check_finite, check_positive, renamed_keywords
from mmlab.quoting._types import MarketState, Quote

__all__ = [
    "AvellanedaStoikovConfig",
    "AvellanedaStoikovInfiniteConfig",
    "AvellanedaStoikovInfiniteStrategy",
    "AvellanedaStoikovStrategy",
    "as_infinite_quote_kernel",
    "as_infinite_quote_kernel_python",
    "as_quote_kernel",
    "as_quote_kernel_python",
    "avellaneda_stoikov_infinite_quotes",
    "avellaneda_stoikov_quotes",
]


# --------------------------------------------------------------------------------------------
# Kernels (pure scalar functions, numba-compiled with a plain Python twin)
# --------------------------------------------------------------------------------------------


def as_quote_kernel_python(mid, q, time_left, gamma, sigma_px, k, max_inventory, order_size):
    """Finite-horizon A-S quote: ``(bid, ask, bid_size, ask_size)``.

    Reservation price (29) r = s - q gamma sigma_px^2 (T - t); total spread (30)
    gamma sigma_px^2 (T - t) + (2 / gamma) ln(1 + gamma / k), split evenly around r.
    A side whose fill would take |q| beyond ``max_inventory`` is not quoted (price NaN, size 0);
    nothing is quoted when mid or q is not finite or time_left is NaN (time_left < 0 counts as 0).

    Examples
    --------
    >>> bid, ask, bs, az = as_quote_kernel_python(100.0, 0.0, 1.0, 0.1, 2.0, 1.5, 10.0, 1.0)
    >>> round(ask - bid, 6)    # 0.1*4*1 + 20*ln(1 + 0.1/1.5)
    1.69077
    """
    if not (math.isfinite(mid) and math.isfinite(q)) or time_left != time_left:
        return math.nan, math.nan, 0.0, 0.0  # bad state: quote nothing
    tau = time_left if time_left > 0.0 else 0.0
    risk = gamma * sigma_px * sigma_px * tau
    r = mid - q * risk
    half = 0.5 * risk + math.log(1.0 + gamma / k) / gamma
    bid = r - half
    ask = r + half
    bid_size = order_size
    ask_size = order_size
    if q + order_size > max_inventory:
        bid = math.nan
        bid_size = 0.0
    if q - order_size < -max_inventory:
        ask = math.nan
        ask_size = 0.0
    return bid, ask, bid_size, ask_size


as_quote_kernel = njit(cache=True)(as_quote_kernel_python)


def as_infinite_quote_kernel_python(mid, q, gamma, sigma_px, k, omega, max_inventory, order_size):
    """Infinite-horizon A-S quote: ``(bid, ask, bid_size, ask_size)``.

    The infinite-horizon agent (section 2.3) discounts utility at rate omega; its value function
    ``v(x, s, q) = -exp(-gamma (x + q s)) / (omega - gamma^2 sigma_px^2 q^2 / 2)`` gives the
    reservation prices (with a = gamma^2 sigma_px^2, D(q) = 2 omega - a q^2)::

        r_bid = s + (1/gamma) ln(D(q + 1) / D(q)) = s + (1/gamma) ln(1 + (-1 - 2q) a / D(q))
        r_ask = s - (1/gamma) ln(D(q - 1) / D(q))

    and, as in section 3 (delta = distance to the reservation price + (1/gamma) ln(1 + gamma/k)),
    bid = r_bid - (1/gamma) ln(1 + gamma/k), ask = r_ask + (1/gamma) ln(1 + gamma/k).
    A side is not quoted (NaN, size 0) when D of the post-fill inventory is <= 0 (its
    reservation price is -inf / +inf) or when the fill would take |q| beyond ``max_inventory``.
    The quotes are computed at q clipped to the range where D(q) > 0. Nothing is quoted when
    mid or q is not finite.

    Examples
    --------
    >>> bid, ask, _, _ = as_infinite_quote_kernel_python(100.0, 0.0, 0.1, 2.0, 1.5, 1.0, 5.0, 1.0)
    >>> round(100.0 - bid, 6) == round(ask - 100.0, 6)   # symmetric at q = 0
    True
    """
    if not (math.isfinite(mid) and math.isfinite(q)):
        return math.nan, math.nan, 0.0, 0.0  # bad state: quote nothing
    a = gamma * gamma * sigma_px * sigma_px
    liq = math.log(1.0 + gamma / k) / gamma
    # clip q into the domain D(q) > 0 (|q| < sqrt(2 omega / a)); keeps the reducing side alive
    qlim = math.sqrt(2.0 * omega / a)
    qq = q
    if qq >= qlim:
        qq = math.ceil(qlim) - 1.0
    elif qq <= -qlim:
        qq = 1.0 - math.ceil(qlim)
    d0 = 2.0 * omega - a * qq * qq
    d_up = 2.0 * omega - a * (qq + 1.0) * (qq + 1.0)
    d_dn = 2.0 * omega - a * (qq - 1.0) * (qq - 1.0)
    bid = math.nan
    ask = math.nan
    bid_size = 0.0
    ask_size = 0.0
    if d_up > 0.0 and q + order_size <= max_inventory:
        bid = mid + math.log(d_up / d0) / gamma - liq
        bid_size = order_size
    if d_dn > 0.0 and q - order_size >= -max_inventory:
        ask = mid - math.log(d_dn / d0) / gamma + liq
        ask_size = order_size
    return bid, ask, bid_size, ask_size


as_infinite_quote_kernel = njit(cache=True)(as_infinite_quote_kernel_python)


# Uniform-signature steps ``(mid, q, time_left, params) -> (bid, ask, bid_size, ask_size)``
# and their loops over arrays of states (what a numba backtest loop calls per decision).


def _as_step_python(mid, q, time_left, best_bid, best_ask, volatility, p):
    return as_quote_kernel_python(mid, q, time_left, p[0], p[1], p[2], p[3], p[4])


@njit(cache=True)
def _as_step(mid, q, time_left, best_bid, best_ask, volatility, p):
    return as_quote_kernel(mid, q, time_left, p[0], p[1], p[2], p[3], p[4])


@njit(cache=True)
def _as_quote_many(p, mids, qs, taus):
    out = np.empty((mids.size, 4))
    for i in range(mids.size):
        b, a, bs, az = as_quote_kernel(mids[i], qs[i], taus[i], p[0], p[1], p[2], p[3], p[4])
        out[i, 0] = b
        out[i, 1] = a
        out[i, 2] = bs
        out[i, 3] = az
    return out


def _as_infinite_step_python(mid, q, time_left, best_bid, best_ask, volatility, p):
    return as_infinite_quote_kernel_python(mid, q, p[0], p[1], p[2], p[3], p[4], p[5])


@njit(cache=True)
def _as_infinite_step(mid, q, time_left, best_bid, best_ask, volatility, p):
    return as_infinite_quote_kernel(mid, q, p[0], p[1], p[2], p[3], p[4], p[5])


@njit(cache=True)
def _as_infinite_quote_many(p, mids, qs, taus):
    out = np.empty((mids.size, 4))
    for i in range(mids.size):
        b, a, bs, az = as_infinite_quote_kernel(mids[i], qs[i], p[0], p[1], p[2], p[3], p[4], p[5])
        out[i, 0] = b
        out[i, 1] = a
        out[i, 2] = bs
        out[i, 3] = az
    return out


def _states(mids, inventories, time_left):
    m, q, t = np.broadcast_arrays(np.asarray(mids, dtype=float), np.asarray(inventories, dtype=float),
                                  np.asarray(time_left, dtype=float))
    if m.ndim != 1:
        raise ConfigError(f"quote_many takes 1-D arrays (or scalars), got shape {m.shape}")
    return np.ascontiguousarray(m), np.ascontiguousarray(q), np.ascontiguousarray(t)


# --------------------------------------------------------------------------------------------
# Vectorised, validated public functions
# --------------------------------------------------------------------------------------------


def _check_model(gamma, sigma_px, k):
    check_positive("gamma", gamma)
    check_positive("sigma_px", sigma_px)
    check_positive("k", k)


@renamed_keywords(sigma=SIGMA_PX_RENAMED)
def avellaneda_stoikov_quotes(mid, inventory, time_left, gamma, sigma_px, k):
    """Avellaneda–Stoikov (2008) optimal bid and ask (asymptotic solution, finite horizon).

    Parameters
    ----------
    mid : float or array_like
        Mid price s, in price units P.
    inventory : float or array_like
        Inventory q, in quantity units (long > 0).
    time_left : float or array_like
        T - t >= 0, in the time unit U of ``sigma_px``.
    gamma : float
        Risk aversion, 1 / (P x quantity).
    sigma_px : float
        Volatility of the mid in price per square root of the time unit, P per sqrt(U) (not
        annualised; pricing's ``sigma`` is).
    k : float
        Intensity decay, 1 / P, of lambda(delta) = A exp(-k delta).

    Returns
    -------
    bid, ask : float or ndarray
        ``r -/+ spread / 2`` with the reservation price r = s - q gamma sigma_px^2 (T - t)
        (paper eq. 29) and spread = gamma sigma_px^2 (T - t) + (2 / gamma) ln(1 + gamma / k)
        (eq. 30). Inputs broadcast together.

    Raises
    ------
    ConfigError
        If gamma, sigma_px or k is not finite and > 0, or time_left < 0 or not finite.

    Notes
    -----
    The quotes come from the paper's expansion of the HJB equation to second order in q; no
    inventory bound is applied here (the strategy class applies one).

    Examples
    --------
    >>> bid, ask = avellaneda_stoikov_quotes(100.0, 0.0, 0.5, 0.1, 2.0, 1.5)
    >>> round(bid, 4), round(ask, 4)
    (99.2546, 100.7454)
    >>> bid, ask = avellaneda_stoikov_quotes(100.0, 3.0, 0.5, 0.1, 2.0, 1.5)
    >>> round((bid + ask) / 2, 4)    # r = 100 - 3 * 0.1 * 4 * 0.5
    99.4
    """
    _check_model(gamma, sigma_px, k)
    tau = np.asarray(time_left, dtype=float)
    if not np.all(np.isfinite(tau)) or np.any(tau < 0):
        raise ConfigError(f"time_left must be finite and >= 0, got {time_left!r}")
    s = np.asarray(mid, dtype=float)
    q = np.asarray(inventory, dtype=float)
    risk = gamma * sigma_px**2 * tau
    r = s - q * risk
    half = 0.5 * risk + math.log1p(gamma / k) / gamma
    bid, ask = r - half, r + half
    if bid.ndim == 0:
        return float(bid), float(ask)
    return bid, ask


@renamed_keywords(sigma=SIGMA_PX_RENAMED)
def avellaneda_stoikov_infinite_quotes(mid, inventory, gamma, sigma_px, k, omega):
    """Infinite-horizon Avellaneda–Stoikov bid and ask (paper section 2.3, discount omega).

    Parameters
    ----------
    mid, inventory : float
        Mid price (P) and inventory (quantity).
    gamma, sigma_px, k : float
        As in :func:`avellaneda_stoikov_quotes` (``sigma_px`` in P per sqrt(U)).
    omega : float
        Discount rate, 1 / U; the paper suggests ``omega = gamma^2 sigma_px^2 (q_max + 1)^2 / 2``,
        which bounds the inventory at q_max (no bid at q_max, no ask at -q_max).

    Returns
    -------
    bid, ask : float
        NaN for a side whose reservation price is infinite (see
        :func:`as_infinite_quote_kernel_python` for the formulas).

    Raises
    ------
    ConfigError
        On non-positive parameters, or an inventory outside the domain
        ``gamma^2 sigma_px^2 q^2 < 2 omega`` of the value function.

    Examples
    --------
    >>> omega = 0.5 * 0.1**2 * 2.0**2 * (5 + 1) ** 2      # q_max = 5
    >>> bid, ask = avellaneda_stoikov_infinite_quotes(100.0, 5.0, 0.1, 2.0, 1.5, omega)
    >>> bool(np.isnan(bid)), bool(ask < 100.0 + 0.65)
    (True, True)
    """
    _check_model(gamma, sigma_px, k)
    check_positive("omega", omega)
    check_finite("mid", mid)
    check_finite("inventory", inventory)
    a = gamma**2 * sigma_px**2
    if a * float(inventory) ** 2 >= 2.0 * omega:
        raise ConfigError(
            f"inventory {inventory!r} is outside the infinite-horizon domain "
            f"gamma^2 sigma_px^2 q^2 < 2 omega (omega={omega!r})"
        )
    bid, ask, _, _ = as_infinite_quote_kernel_python(
        float(mid), float(inventory), float(gamma), float(sigma_px), float(k), float(omega),
        math.inf, 1.0,
    )
    return bid, ask


# --------------------------------------------------------------------------------------------
# Configs and strategies
# --------------------------------------------------------------------------------------------


@renamed_keywords(sigma=SIGMA_PX_RENAMED)
@dataclass(frozen=True, slots=True)
class AvellanedaStoikovConfig:
    """Validated parameters of the finite-horizon Avellaneda–Stoikov strategy.

    Parameters
    ----------
    gamma : float
        Risk aversion, 1 / (P x quantity).
    sigma_px : float
        Mid volatility in price per square root of the time unit, P per sqrt(U) (U: the unit of
        ``MarketState.time_left``; not annualised).
    k : float
        Fill-intensity decay, 1 / P.
    order_size : float, default 1.0
        Size of each quote, in quantity units.
    max_inventory : float, default inf
        |q| bound: no bid when ``q + order_size > max_inventory``, no ask when
        ``q - order_size < -max_inventory``.

    Examples
    --------
    >>> AvellanedaStoikovConfig(gamma=0.1, sigma_px=2.0, k=1.5).max_inventory
    inf
    >>> AvellanedaStoikovConfig(gamma=0.0, sigma_px=2.0, k=1.5)
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: gamma must be finite and > 0, got 0.0
    """

    gamma: float
    sigma_px: float
    k: float
    order_size: float = 1.0
    max_inventory: float = math.inf

    def __post_init__(self) -> None:
        _check_model(self.gamma, self.sigma_px, self.k)
        check_positive("order_size", self.order_size)
        check_positive("max_inventory", self.max_inventory, allow_inf=True)


class AvellanedaStoikovStrategy:
    """Finite-horizon Avellaneda–Stoikov quoting: ``quote(state) -> Quote``.

    Reads ``state.mid``, ``state.inventory`` and ``state.time_left`` (T - t, clipped at 0).

    For numba loops: ``kernel(mid, inventory, time_left, best_bid, best_ask, volatility,
    params)`` (compiled, returns ``(bid, ask, bid_size, ask_size)``; the state fields in
    :class:`MarketState` order) with ``params`` (float64 array), the same signature for every
    single-level strategy; ``python_kernel`` is its plain twin. ``quote_many(mids,
    inventories, time_left)`` quotes arrays of states in one compiled loop -> (n, 4) array.

    Examples
    --------
    >>> strat = AvellanedaStoikovStrategy(AvellanedaStoikovConfig(0.1, 2.0, 1.5, max_inventory=3))
    >>> q = strat.quote(MarketState(mid=100.0, inventory=0.0, time_left=1.0))
    >>> round(q.bid, 4), round(q.ask, 4), q.bid_size
    (99.1546, 100.8454, 1.0)
    >>> strat.quote(MarketState(100.0, inventory=3.0, time_left=1.0)).has_bid
    False
    """

    __slots__ = ("config", "_args", "params")
    kernel = staticmethod(_as_step)
    python_kernel = staticmethod(_as_step_python)

    def __init__(self, config: AvellanedaStoikovConfig):
        if not isinstance(config, AvellanedaStoikovConfig):
            raise ConfigError(f"config must be an AvellanedaStoikovConfig, got {type(config).__name__}")
        self.config = config
        c = config
        self._args = (float(c.gamma), float(c.sigma_px), float(c.k), float(c.max_inventory),
                      float(c.order_size))
        self.params = np.array(self._args)

    def quote_many(self, mids, inventories, time_left=0.0) -> np.ndarray:
        """Quotes of many states in one compiled loop: (n, 4) array of bid, ask, sizes."""
        return _as_quote_many(self.params, *_states(mids, inventories, time_left))

    def quote(self, state: MarketState) -> Quote:
        """The quote for ``state`` (see the class docstring)."""
        g, s, k, qmax, size = self._args
        return Quote(*as_quote_kernel(float(state.mid), float(state.inventory),
                                      float(state.time_left), g, s, k, qmax, size))


@renamed_keywords(sigma=SIGMA_PX_RENAMED)
@dataclass(frozen=True, slots=True)
class AvellanedaStoikovInfiniteConfig:
    """Validated parameters of the infinite-horizon Avellaneda–Stoikov strategy.

    Parameters
    ----------
    gamma, sigma_px, k, order_size : float
        As in :class:`AvellanedaStoikovConfig` (``sigma_px`` in P per sqrt(U)).
    max_inventory : float
        Inventory bound q_max (quantity units), finite.
    omega : float or None, default None
        Discount rate (1 / U). None means the paper's choice
        ``gamma^2 sigma_px^2 (q_max + 1)^2 / 2``, with which the bid disappears at q = q_max.
        Must satisfy ``omega > gamma^2 sigma_px^2 q_max^2 / 2``.

    Examples
    --------
    >>> cfg = AvellanedaStoikovInfiniteConfig(gamma=0.1, sigma_px=2.0, k=1.5, max_inventory=5)
    >>> round(cfg.effective_omega, 6)
    0.72
    """

    gamma: float
    sigma_px: float
    k: float
    max_inventory: float
    omega: float | None = None
    order_size: float = 1.0

    def __post_init__(self) -> None:
        _check_model(self.gamma, self.sigma_px, self.k)
        check_positive("max_inventory", self.max_inventory)
        check_positive("order_size", self.order_size)
        if self.omega is not None:
            check_positive("omega", self.omega)
            if self.omega <= 0.5 * self.gamma**2 * self.sigma_px**2 * self.max_inventory**2:
                raise ConfigError(
                    f"omega must exceed gamma^2 sigma_px^2 max_inventory^2 / 2 = "
                    f"{0.5 * self.gamma**2 * self.sigma_px**2 * self.max_inventory**2!r}, "
                    f"got {self.omega!r}"
                )

    @property
    def effective_omega(self) -> float:
        """omega, or the paper's default when ``omega`` is None."""
        if self.omega is not None:
            return float(self.omega)
        return 0.5 * self.gamma**2 * self.sigma_px**2 * (self.max_inventory + 1.0) ** 2


class AvellanedaStoikovInfiniteStrategy:
    """Infinite-horizon Avellaneda–Stoikov quoting: ``quote(state) -> Quote``.

    Stationary: ``state.time_left`` is ignored. ``kernel``, ``params``, ``python_kernel`` and
    ``quote_many`` as in :class:`AvellanedaStoikovStrategy`.

    Examples
    --------
    >>> cfg = AvellanedaStoikovInfiniteConfig(gamma=0.1, sigma_px=2.0, k=1.5, max_inventory=5)
    >>> strat = AvellanedaStoikovInfiniteStrategy(cfg)
    >>> q = strat.quote(MarketState(mid=100.0, inventory=2.0))
    >>> bool(q.bid < q.ask < 100.0 + 0.65)
    True
    >>> strat.quote(MarketState(mid=100.0, inventory=-5.0)).has_ask
    False
    """

    __slots__ = ("config", "_args", "params")
    kernel = staticmethod(_as_infinite_step)
    python_kernel = staticmethod(_as_infinite_step_python)

    def __init__(self, config: AvellanedaStoikovInfiniteConfig):
        if not isinstance(config, AvellanedaStoikovInfiniteConfig):
            raise ConfigError(
                f"config must be an AvellanedaStoikovInfiniteConfig, got {type(config).__name__}"
            )
        self.config = config
        c = config
        self._args = (float(c.gamma), float(c.sigma_px), float(c.k), c.effective_omega,
                      float(c.max_inventory), float(c.order_size))
        self.params = np.array(self._args)

    def quote_many(self, mids, inventories, time_left=0.0) -> np.ndarray:
        """Quotes of many states in one compiled loop: (n, 4) array of bid, ask, sizes."""
        return _as_infinite_quote_many(self.params, *_states(mids, inventories, time_left))

    def quote(self, state: MarketState) -> Quote:
        """The quote for ``state`` (see the class docstring)."""
        g, s, k, om, qmax, size = self._args
        return Quote(*as_infinite_quote_kernel(float(state.mid), float(state.inventory),
                                               g, s, k, om, qmax, size))
