"""Options chain quoter: every strike of an expiry in one vectorised call.

For each option ``i`` (strike ``K_i``, call or put) of one expiry (forward ``F``, year fraction
``T``, rate ``r``) with implied vol ``sigma_i`` from a fitted surface (``surface.iv(K, T)``) or
any callable ``iv(K, T)``:

* **theo**: Black-76 price on the forward, with its delta, gamma and vega (the kernel of
  :mod:`mmlab.pricing`, Black-76 being BSM with ``S = F`` and ``q = r``);
* **half-spread**: ``h_i = base + w_vega * vega_i + 0.5 * gamma_i * (move * F)^2`` -- the base
  (price units), the price change of a ``w_vega`` vol move (vega per 1.00 vol), and the expected
  gamma cost of a ``move`` (fraction of ``F``) in the underlying; both terms peak at the money,
  so ATM strikes are widest;
* **skew** by the portfolio's Greeks, as if quoting off a shifted forward and a shifted vol:
  ``s_i = delta_i * (-k_delta * D) + vega_i * (-k_vega * V)``, ``D`` the portfolio delta in
  units of the underlying, ``V`` its dollar vega per vol point: long delta lowers calls and raises
  puts (sells delta), long vega lowers every option (sells vega);
* **bid/ask** ``theo + s_i -/+ h_i``, post-only against the market's quotes when given, rounded
  to the instrument's tick rule (bids down, asks up), a side quoted only when its edge beats the
  maker fee (:func:`edge_beats_fee`) and its price is > 0 -- the edge is measured from the
  portfolio's fair value ``theo_i + s_i`` (its indifference price, as A-S's reservation price),
  so the skew that helps the book reduce its risk is not filtered out as "negative edge"; size
  ``size`` contracts, decayed on the side that grows ``|position_i|`` and capped so
  ``|position_i| <= max_position`` (:func:`inventory_size_factor`), rounded down to lots.

The chain's Greeks are aggregated in dollars through the instrument master's multiplier ``m``
(conventions of :mod:`mmlab.surface._chain`): ``delta = sum(pos m delta)`` units of underlying,
``dollar_delta = sum(pos m delta F)``, ``dollar_gamma = sum(pos m gamma F^2) / 100`` (per 1 %
move), ``dollar_vega = sum(pos m vega) / 100`` (per vol point), ``dollar_theta = sum(pos m
theta) / 365`` (per day). When ``|D|`` exceeds the :class:`mmlab.risk.DeltaHedger` threshold a
hedge in the underlying or future is emitted.

Scope: European Black-76 theo on the forward, premiums in the forward's currency (USD). For
American options on stocks and ETFs (SPY) the early-exercise premium is ignored (small for the
out-of-the-money options that carry a surface); coin-quoted options (Deribit) are refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numba import njit

from mmlab.errors import ConfigError, QuoteValidationError
from mmlab.pricing import as_flags, bsm_greeks_kernel
from mmlab.quoting._checks import check_nonnegative, check_positive
from mmlab.quoting._construction import (
    edge_beats_fee,
    inventory_size_factor,
    maker_fee_terms,
    round_price_down,
    round_price_up,
    tick_arrays,
)
from mmlab.quoting._types import Quote

__all__ = [
    "ChainQuoter",
    "ChainQuoterConfig",
    "ChainQuotes",
    "chain_quote_kernel",
    "chain_quote_kernel_python",
    "option_quote_kernel",
    "option_quote_kernel_python",
    "validate_chain_quotes",
]

_FLAG = {"C": 1.0, "c": 1.0, "P": -1.0, "p": -1.0}

# columns of the kernel output
COLUMNS = ("theo", "delta", "gamma", "vega", "theta", "half_spread", "skew", "bid", "ask", "bid_size", "ask_size")
(_THEO, _DELTA, _GAMMA, _VEGA, _THETA, _HALF, _SKEW, _BID, _ASK, _BSZ, _ASZ) = range(11)
(_BASE, _WVEGA, _MOVE, _KDELTA, _KVEGA, _SIZE, _MAXPOS, _SSKEW, _MINSZ, _POST, _FRATE, _FCONST, _FCAP,
 _MINEDGE, _DEC, _LOT, _LOTDEC) = range(17)  # fmt: skip


def chain_quote_kernel_python(flags, K, iv, F, t, r, pos, D, V, mkt_bid, mkt_ask, p, tick_from, ticks):
    """Quotes of one expiry as an ``(n, 11)`` array with columns :data:`COLUMNS`.

    ``flags`` +1 call / -1 put; ``K``, ``iv``, ``pos``, ``mkt_bid``, ``mkt_ask`` per option
    (NaN market prices: unknown); ``F``, ``t``, ``r`` scalars; ``D`` portfolio delta (underlying
    units), ``V`` portfolio dollar vega per vol point; ``p`` the parameter vector
    (:meth:`ChainQuoterConfig.kernel_params`). An unquoted side has price NaN and size 0.

    Examples
    --------
    >>> p = ChainQuoterConfig(base_half_spread=0.1, vega_width=0.0, gamma_move=0.0).kernel_params(
    ...     (0.0, 0.0, math.inf), 4, 1.0)
    >>> out = chain_quote_kernel_python(np.array([1.0]), np.array([100.0]), np.array([0.2]), 100.0,
    ...     1.0, 0.0, np.zeros(1), 0.0, 0.0, np.full(1, np.nan), np.full(1, np.nan), p,
    ...     np.zeros(1), np.array([0.01]))
    >>> round(float(out[0, 0]), 4), float(out[0, 7]), float(out[0, 8])  # 7.9656 -/+ 0.1, rounded out
    (7.9656, 7.86, 8.07)
    """
    n = K.shape[0]
    g = np.empty((9, n))
    Fa = np.full(1, F)
    ta = np.full(1, t)
    ra = np.full(1, r)
    out = np.empty((n, 11))
    code, _ = bsm_greeks_kernel(flags, Fa, K, ta, ra, ra, iv, True, g)
    tmin = ticks[0]
    for j in range(len(ticks)):
        if ticks[j] < tmin:
            tmin = ticks[j]
    half_tick = 0.5 * tmin
    dec = int(p[_DEC])
    lot = p[_LOT]
    lot_dec = int(p[_LOTDEC])
    post = p[_POST] != 0.0
    shift_f = -p[_KDELTA] * D
    shift_v = -p[_KVEGA] * V
    mv = p[_MOVE] * F
    for i in range(n):
        theo = g[0, i]
        delta = g[1, i]
        gamma = g[2, i]
        vega = g[3, i]
        out[i, _THEO] = theo
        out[i, _DELTA] = delta
        out[i, _GAMMA] = gamma
        out[i, _VEGA] = vega
        out[i, _THETA] = g[4, i]
        out[i, _BID] = math.nan
        out[i, _ASK] = math.nan
        out[i, _BSZ] = 0.0
        out[i, _ASZ] = 0.0
        h = p[_BASE] + p[_WVEGA] * vega + 0.5 * gamma * mv * mv
        if h < half_tick:
            h = half_tick
        s = delta * shift_f + vega * shift_v
        out[i, _HALF] = h
        out[i, _SKEW] = s
        if code != 0 or not (math.isfinite(theo) and math.isfinite(h) and math.isfinite(s)):
            continue  # no valid theo: quote nothing
        c = theo + s
        for side in (1, -1):
            if side == 1:
                x = c - h
                if post and math.isfinite(mkt_ask[i]):
                    x = min(x, mkt_ask[i] - half_tick)
                px = round_price_down(x, tick_from, ticks, dec)
                if post and math.isfinite(mkt_ask[i]) and px >= mkt_ask[i]:
                    px = round_price_down(px - half_tick, tick_from, ticks, dec)
            else:
                x = c + h
                if post and math.isfinite(mkt_bid[i]):
                    x = max(x, mkt_bid[i] + half_tick)
                px = round_price_up(x, tick_from, ticks, dec)
                if post and math.isfinite(mkt_bid[i]) and px <= mkt_bid[i]:
                    px = round_price_up(px + half_tick, tick_from, ticks, dec)
                if side == -1 and math.isfinite(out[i, _BID]) and px <= out[i, _BID]:
                    px = round_price_up(out[i, _BID] + half_tick, tick_from, ticks, dec)
            if not px > 0.0:
                continue
            if not edge_beats_fee(px, c, side, p[_FRATE], p[_FCONST], p[_FCAP], p[_MINEDGE]):
                continue
            room = p[_MAXPOS] - side * pos[i]
            sz = p[_SIZE] * inventory_size_factor(pos[i], p[_MAXPOS], p[_SSKEW], side)
            if sz > room:
                sz = room
            if not sz > 0.0:
                continue
            k = math.floor(sz / lot + 1e-9)
            if k * lot > room:
                k -= 1.0
            sz = round(k * lot, lot_dec)
            if sz <= 0.0 or sz < p[_MINSZ]:
                continue
            out[i, _BID if side == 1 else _ASK] = px
            out[i, _BSZ if side == 1 else _ASZ] = sz
    return out


chain_quote_kernel = njit(cache=True)(chain_quote_kernel_python)


def option_quote_kernel_python(flag, K, iv, F, t, r, pos, D, V, mkt_bid, mkt_ask, p, tick_from, ticks):
    """One option through :func:`chain_quote_kernel`: scalars in, the row of :data:`COLUMNS` out
    (as a tuple), without the Python overhead of building arrays per decision.

    Examples
    --------
    >>> p = ChainQuoterConfig(base_half_spread=0.1, vega_width=0.0, gamma_move=0.0).kernel_params(
    ...     (0.0, 0.0, math.inf), 4, 1.0)
    >>> row = option_quote_kernel_python(1.0, 100.0, 0.2, 100.0, 1.0, 0.0, 0.0, 0.0, 0.0, math.nan,
    ...     math.nan, p, np.zeros(1), np.array([0.01]))
    >>> [round(float(v), 4) for v in (row[0], row[7], row[8])]
    [7.9656, 7.86, 8.07]
    """
    out = chain_quote_kernel(np.full(1, flag), np.full(1, K), np.full(1, iv), F, t, r, np.full(1, pos),
                             D, V, np.full(1, mkt_bid), np.full(1, mkt_ask), p, tick_from, ticks)
    return (out[0, 0], out[0, 1], out[0, 2], out[0, 3], out[0, 4], out[0, 5], out[0, 6], out[0, 7],
            out[0, 8], out[0, 9], out[0, 10])


option_quote_kernel = njit(cache=True)(option_quote_kernel_python)


@dataclass(frozen=True, slots=True)
class ChainQuoterConfig:
    """Validated options-chain quoting parameters (formulas in the module docstring).

    Parameters
    ----------
    base_half_spread : float, default 0.05
        Base half-spread, option price units.
    vega_width : float, default 0.005
        ``w_vega``: the half-spread covers a move of this much vol (0.005 = half a vol point).
    gamma_move : float, default 0.002
        ``move``: underlying move (fraction of F) whose gamma cost the half-spread covers.
    delta_skew : float, default 0.0
        ``k_delta``: quoting-forward shift in underlying price units per unit of portfolio delta.
    vega_skew : float, default 0.0
        ``k_vega``: quoting-vol shift (1.00 = 100 vol points) per dollar of portfolio vega per vol
        point.
    size : float, default 1.0
        Contracts per side and strike before the inventory decay.
    max_position : float, default inf
        Per-option position limit (contracts), counting the quoted size.
    size_skew : float, default 1.0
        Exponent of the size decay on the side that grows ``|position|``.
    min_size : float, default 0.0
    post_only : bool, default True
        Keep bids below the market's ask and asks above its bid (when given).
    min_edge : float, default 0.0
        Edge beyond the maker fee, price units.

    Examples
    --------
    >>> ChainQuoterConfig(vega_width=0.01).vega_width
    0.01
    >>> ChainQuoterConfig(size=0)
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: size must be finite and > 0, got 0
    """

    base_half_spread: float = 0.05
    vega_width: float = 0.005
    gamma_move: float = 0.002
    delta_skew: float = 0.0
    vega_skew: float = 0.0
    size: float = 1.0
    max_position: float = math.inf
    size_skew: float = 1.0
    min_size: float = 0.0
    post_only: bool = True
    min_edge: float = 0.0

    def __post_init__(self) -> None:
        for name in ("base_half_spread", "vega_width", "gamma_move", "delta_skew", "vega_skew",
                     "size_skew", "min_size", "min_edge"):
            check_nonnegative(name, getattr(self, name))
        check_positive("size", self.size)
        check_positive("max_position", self.max_position, allow_inf=True)
        if not isinstance(self.post_only, (bool, np.bool_)):
            raise ConfigError(f"post_only must be a bool, got {self.post_only!r}")

    def kernel_params(self, fee_terms, decimals: int, lot: float) -> np.ndarray:
        """The float64 parameter vector of :func:`chain_quote_kernel`."""
        lot_dec = max(0, -int(math.floor(math.log10(lot))) + 2)
        return np.array([
            self.base_half_spread, self.vega_width, self.gamma_move, self.delta_skew, self.vega_skew,
            self.size, self.max_position, self.size_skew, self.min_size, 1.0 if self.post_only else 0.0,
            *fee_terms, self.min_edge, decimals, lot, lot_dec,
        ], dtype=np.float64)  # fmt: skip


@dataclass(frozen=True)
class ChainQuotes:
    """Quotes of one expiry with its Greeks and the hedge decision.

    Attributes
    ----------
    strike, flag : ndarray
        Strikes and +1 call / -1 put.
    values : ndarray
        ``(n, 11)`` kernel output, columns :data:`COLUMNS` (``theo`` ... ``ask_size``).
    iv : ndarray
        The vols used.
    forward, T : float
    greeks : dict
        Chain Greeks of the positions: ``delta`` (underlying units, options plus hedge
        position), ``dollar_delta``, ``dollar_gamma`` (per 1 %), ``dollar_vega`` (per vol point),
        ``dollar_theta`` (per day).
    portfolio_delta, portfolio_vega : float
        The ``D`` and ``V`` the skew used.
    hedge : mmlab.risk.HedgeOrder or None
    """

    strike: np.ndarray
    flag: np.ndarray
    values: np.ndarray
    iv: np.ndarray
    forward: float
    T: float
    greeks: dict
    portfolio_delta: float
    portfolio_vega: float
    hedge: Any

    def __getattr__(self, name: str):
        if name in COLUMNS:
            return self.values[:, COLUMNS.index(name)]
        raise AttributeError(name)

    def to_frame(self) -> pd.DataFrame:
        """One row per option: strike, right, iv, then :data:`COLUMNS`."""
        df = pd.DataFrame(self.values, columns=list(COLUMNS))
        df.insert(0, "iv", self.iv)
        df.insert(0, "right", np.where(self.flag > 0, "C", "P"))
        df.insert(0, "strike", self.strike)
        return df

    def summary(self) -> str:
        """One-paragraph text summary."""
        qb = int((self.values[:, _BSZ] > 0).sum())
        qa = int((self.values[:, _ASZ] > 0).sum())
        g = self.greeks
        h = "none" if self.hedge is None else f"{'buy' if self.hedge.side > 0 else 'sell'} {self.hedge.qty:g}"
        return (f"{len(self.strike)} options (F {self.forward:.2f}, T {self.T:.4f} y): {qb} bids, {qa} asks; "
                f"delta {g['delta']:.2f}, $delta {g['dollar_delta']:,.0f}, $gamma/1% {g['dollar_gamma']:,.0f}, "
                f"$vega/pt {g['dollar_vega']:,.0f}, $theta/day {g['dollar_theta']:,.0f}; hedge: {h}")

    def plot(self, ax=None):
        """Theo, bid and ask against strike (matplotlib)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        df = self.to_frame().sort_values("strike")
        for right, mk in (("C", "-"), ("P", "--")):
            d = df[df["right"] == right]
            ax.plot(d["strike"], d["theo"], mk, label=f"theo {right}")
            ax.plot(d["strike"], d["bid"], "v", ms=3)
            ax.plot(d["strike"], d["ask"], "^", ms=3)
        ax.set_xlabel("strike")
        ax.set_ylabel("price")
        ax.legend()
        return ax


def validate_chain_quotes(strike, bid, ask, bid_size, ask_size, mkt_bid=None, mkt_ask=None,
                          post_only: bool = False) -> None:
    """Vectorised :func:`validate_quotes` for one quote per option; the error names the strike."""
    bid, ask, bs, as_ = (np.asarray(a, dtype=float) for a in (bid, ask, bid_size, ask_size))
    qb, qa = bs > 0, as_ > 0
    checks = [
        (~np.isfinite(bs) | (bs < 0) | ~np.isfinite(as_) | (as_ < 0), "size is not a finite number >= 0"),
        (qb & ~(bid > 0), "bid price is not a finite number > 0"),
        (qa & ~(ask > 0) | (qa & ~np.isfinite(ask)), "ask price is not a finite number > 0"),
        (qb & qa & ~(bid < ask), "crossed: bid >= ask"),
    ]
    if post_only and mkt_ask is not None:
        checks.append((qb & (bid >= np.asarray(mkt_ask, dtype=float)), "post-only bid would take the market's ask"))
    if post_only and mkt_bid is not None:
        checks.append((qa & (ask <= np.asarray(mkt_bid, dtype=float)), "post-only ask would take the market's bid"))
    for bad, reason in checks:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise QuoteValidationError(f"strike {float(np.asarray(strike)[i])!r}: {reason} "
                                       f"(bid {bid[i]!r} x {bs[i]!r}, ask {ask[i]!r} x {as_[i]!r})")


class ChainQuoter:
    """Quotes every strike of an expiry from a vol surface (see the module docstring).

    Parameters
    ----------
    config : ChainQuoterConfig
    instrument : mmlab.data.Instrument
        Any option of the root (template or contract): tick rule, lot, fees and multiplier.
    surface : VolSurface or callable
        ``surface.iv(K, T)`` (a :class:`mmlab.surface.VolSurface`) or a callable ``iv(K, T)``.
    hedger : mmlab.risk.DeltaHedger, optional
        Emits the delta hedge (its threshold in units of the underlying).

    Examples
    --------
    >>> from mmlab.data import default_master
    >>> spx = default_master().option("SPX", "2023-10-20", 4500, "C")
    >>> cq = ChainQuoter(ChainQuoterConfig(), spx, lambda K, T: np.full(np.shape(K), 0.15))
    >>> res = cq.quote([4400.0, 4500.0, 4600.0], ["C", "C", "C"], forward=4500.0, T=0.1)
    >>> res.theo.round(2).tolist()
    [143.48, 85.15, 45.17]
    >>> res.half_spread.round(3).tolist()   # 0.05 + 0.005 vega + gamma (0.002 F)^2 / 2: ATM widest
    [2.625, 2.963, 2.696]
    >>> res.bid.tolist(), res.ask.tolist()
    ([140.8, 82.1, 42.4], [146.2, 88.2, 47.9])
    """

    __slots__ = ("config", "instrument", "iv_fn", "hedger", "_tf", "_tk", "_p", "_m")

    def __init__(self, config: ChainQuoterConfig, instrument, surface, hedger=None):
        if not isinstance(config, ChainQuoterConfig):
            raise ConfigError(f"config must be a ChainQuoterConfig, got {type(config).__name__}")
        if instrument.kind != "option":
            raise ConfigError(f"instrument must be an option, got {instrument.kind!r}")
        if instrument.quote_ccy not in ("USD", "USDT", "USDC"):
            raise ConfigError(f"instrument {instrument.key}: premiums quoted in {instrument.quote_ccy} "
                              "(coin-quoted options, e.g. Deribit) are not supported: theo and Greeks "
                              "here are in the forward's currency")
        iv_fn = getattr(surface, "iv", surface)
        if not callable(iv_fn):
            raise ConfigError("surface must have iv(K, T) or be a callable iv(K, T)")
        self.config = config
        self.instrument = instrument
        self.iv_fn = iv_fn
        self.hedger = hedger
        self._tf, self._tk, dec = tick_arrays(instrument)
        self._p = config.kernel_params(maker_fee_terms(instrument), dec, float(instrument.lot_size))
        self._m = float(instrument.multiplier)

    def greeks(self, delta, gamma, vega, theta, positions, forward: float, hedge_position: float = 0.0) -> dict:
        """Chain Greeks of ``positions`` in dollars, through the instrument's multiplier."""
        pos = np.asarray(positions, dtype=float)
        m = self._m
        opt_delta = float(np.dot(pos, delta)) * m
        return {
            "delta": opt_delta + float(hedge_position),
            "dollar_delta": float(np.sum(self.instrument.dollar_delta(delta, forward, pos)))
            + float(hedge_position) * forward,
            "dollar_gamma": float(np.dot(pos, gamma)) * m * forward * forward / 100.0,
            "dollar_vega": float(np.dot(pos, vega)) * m / 100.0,
            "dollar_theta": float(np.dot(pos, theta)) * m / 365.0,
        }

    def quote(self, strikes, rights, forward: float, T: float, r: float = 0.0, positions=None,
              hedge_position: float = 0.0, portfolio_delta: float | None = None,
              portfolio_vega: float | None = None, market_bid=None, market_ask=None, iv=None,
              now: int = 0) -> ChainQuotes:
        """Quote every option of one expiry.

        Parameters
        ----------
        strikes, rights : array-like
            Strikes and ``'C'``/``'P'`` (or +1/-1) per option.
        forward, T, r : float
            Forward, year fraction to expiry, discount rate.
        positions : array-like, optional
            Contracts held per option (default 0).
        hedge_position : float
            Units of underlying held in the hedge instrument (enters the delta).
        portfolio_delta, portfolio_vega : float, optional
            ``D`` (underlying units) and ``V`` (dollars per vol point) for the skew and the hedge;
            default: this chain's positions plus ``hedge_position``.
        market_bid, market_ask : array-like, optional
            The market's quotes (post-only clamp).
        iv : array-like, optional
            Vols to use instead of evaluating the surface.
        now : int
            Timestamp (ns) passed to the hedger.
        """
        K = np.ascontiguousarray(strikes, dtype=np.float64).reshape(-1)
        flags = np.ascontiguousarray(as_flags(np.asarray(rights).reshape(-1)), dtype=np.float64)
        n = K.shape[0]
        if flags.shape[0] != n:
            raise ConfigError(f"rights: {flags.shape[0]} values for {n} strikes")
        F, T, r = float(forward), float(T), float(r)
        if not (math.isfinite(F) and F > 0 and math.isfinite(T) and T > 0 and math.isfinite(r)):
            raise ConfigError(f"forward, T must be finite and > 0 and r finite, got {forward!r}, {T!r}, {r!r}")
        sig = np.asarray(self.iv_fn(K, T) if iv is None else iv, dtype=np.float64).reshape(-1)
        sig = np.ascontiguousarray(np.broadcast_to(sig, (n,)))
        pos = np.zeros(n) if positions is None else np.ascontiguousarray(positions, dtype=np.float64).reshape(-1)
        nan = np.full(n, np.nan)
        mb = nan if market_bid is None else np.ascontiguousarray(market_bid, dtype=np.float64).reshape(-1)
        ma = nan if market_ask is None else np.ascontiguousarray(market_ask, dtype=np.float64).reshape(-1)
        if pos.shape[0] != n or mb.shape[0] != n or ma.shape[0] != n:
            raise ConfigError("positions, market_bid and market_ask need one value per strike")
        if portfolio_delta is None or portfolio_vega is None:  # Greeks at the surface vols
            g0 = chain_quote_kernel(flags, K, sig, F, T, r, pos, 0.0, 0.0, nan, nan, self._p, self._tf, self._tk)
            gk = self.greeks(g0[:, _DELTA], g0[:, _GAMMA], g0[:, _VEGA], g0[:, _THETA], pos, F, hedge_position)
        D = gk["delta"] if portfolio_delta is None else float(portfolio_delta)
        V = gk["dollar_vega"] if portfolio_vega is None else float(portfolio_vega)
        out = chain_quote_kernel(flags, K, sig, F, T, r, pos, D, V, mb, ma, self._p, self._tf, self._tk)
        if portfolio_delta is not None and portfolio_vega is not None:
            gk = self.greeks(out[:, _DELTA], out[:, _GAMMA], out[:, _VEGA], out[:, _THETA], pos, F, hedge_position)
        validate_chain_quotes(K, out[:, _BID], out[:, _ASK], out[:, _BSZ], out[:, _ASZ], mb, ma,
                              post_only=self.config.post_only)
        hedge = None if self.hedger is None else self.hedger.decide(portfolio_delta=D, now=now)
        return ChainQuotes(K, flags, out, sig, F, T, gk, D, V, hedge)

    def quote_option(self, strike: float, right: str, forward: float, T: float, iv: float,
                     r: float = 0.0, position: float = 0.0, portfolio_delta: float = 0.0,
                     portfolio_vega: float = 0.0, market_bid: float = math.nan,
                     market_ask: float = math.nan) -> Quote:
        """One option's validated quote (the per-decision fast path; the vol is given, the
        portfolio Greeks too). Same maths as :meth:`quote`.

        Examples
        --------
        >>> from mmlab.data import default_master
        >>> spx = default_master().option("SPX", "2023-10-20", 4500, "C")
        >>> cq = ChainQuoter(ChainQuoterConfig(), spx, lambda K, T: 0.15)
        >>> cq.quote_option(4500.0, "C", 4500.0, 0.1, 0.15)
        Quote(bid=82.1, ask=88.2, bid_size=1.0, ask_size=1.0)
        """
        th = _FLAG.get(right)
        if th is None:
            th = float(as_flags(right))
        row = option_quote_kernel(th, float(strike), float(iv), float(forward), float(T), float(r),
                                  float(position), float(portfolio_delta), float(portfolio_vega),
                                  float(market_bid), float(market_ask), self._p, self._tf, self._tk)
        b, a, bs, as_ = float(row[_BID]), float(row[_ASK]), float(row[_BSZ]), float(row[_ASZ])
        # scalar validation (the kernel guarantees these; the check is the last line of defence)
        post = self.config.post_only
        if (bs < 0.0 or as_ < 0.0 or (bs > 0.0 and not b > 0.0) or (as_ > 0.0 and not a > 0.0)
                or (bs > 0.0 and as_ > 0.0 and not b < a)
                or (post and ((bs > 0.0 and b >= market_ask) or (as_ > 0.0 and a <= market_bid)))):
            validate_chain_quotes([strike], [b], [a], [bs], [as_], [market_bid], [market_ask],
                                  post_only=self.config.post_only)
            raise QuoteValidationError(f"strike {strike!r}: invalid quote {b!r} x {bs!r} / {a!r} x {as_!r}")
        return Quote(b, a, bs, as_)

    def quote_expiry(self, chain: pd.DataFrame, root: str, expiry, forward: float, T: float,
                     r: float = 0.0, **kw) -> ChainQuotes:
        """Quote the options of ``root`` expiring at ``expiry`` in a table from
        :func:`mmlab.data.load_option_chain`, with its bid/ask as the market (post-only)."""
        e = pd.Timestamp(expiry)
        if e.tzinfo is None:
            e = e.tz_localize("UTC")
        sub = chain[(chain["root"] == root) & (chain["expiry"] == e)].sort_values(["right", "strike"])
        if sub.empty:
            raise ConfigError(f"no {root} options expiring {e} in the chain")
        mb = sub["bid"].to_numpy(dtype=float)
        ma = sub["ask"].to_numpy(dtype=float)
        mb = np.where(mb > 0, mb, np.nan)
        ma = np.where(ma > 0, ma, np.nan)
        return self.quote(sub["strike"].to_numpy(), sub["right"].to_numpy(), forward, T, r,
                          market_bid=mb, market_ask=ma, **kw)
