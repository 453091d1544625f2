"""Layered quotes: several levels per side, skewed, offset, rounded, filtered and bounded.

:func:`build_ladder_kernel` turns a fair value, a quoting centre and base bid/ask distances
(from any strategy) into up to ``n_levels`` levels per side. Per side, level ``i``:

1. centre ``c = center + imbalance_offset + inventory_price_skew`` (module
   :mod:`mmlab.quoting._construction` has the formulas);
2. distance ``d_i = spacing[i] * (base distance + volatility_offset + queue_offset(side))``
   (default spacing 1x / 2x / 4x);
3. price ``c -/+ d_i``, never closer to ``c`` than half the smallest tick (so bids stay below
   asks), post-only: strictly inside the book's opposite touch (bid < best ask, ask > best bid),
   clamped into the price band's far edge, rounded to the instrument's tick grid (bids down, asks
   up) and strictly behind the previous quoted level of its side;
4. size ``size * w_i * inventory_size_factor`` (default weights 40 / 35 / 25 %), capped by the
   room left to the inventory limit counting the position, in-flight quantity and every level
   already placed, rounded down to whole lots;
5. dropped (size 0, price NaN) when the price is <= 0 or outside the band, when the level's edge
   does not beat the maker fee (fee-aware filter), or when its size is below ``min_size``. The
   edge is measured from ``fair`` moved by the same imbalance and inventory shifts as the centre
   (the book's inventory-adjusted value, A-S's indifference price): otherwise a skew that helps
   reduce the position would be filtered out as "negative edge" exactly when it is needed.

So by construction: no level crosses the other side or (post-only) the book, prices and sizes
are positive and on the tick/lot grids, and all levels filling at once keep ``|q| <= Q``.
:class:`LayeredQuoter` reads ticks, lots and fees from the instrument master and runs
:func:`validate_quotes`' checks on every ladder before returning it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from mmlab.errors import ConfigError
from mmlab.quoting._checks import check_nonnegative, check_positive
from mmlab.quoting._construction import (
    check_levels,
    edge_beats_fee,
    imbalance_offset,
    inventory_price_skew,
    inventory_size_factor,
    maker_fee_terms,
    queue_offset,
    round_price_down,
    round_price_up,
    tick_arrays,
    volatility_offset,
)
from mmlab.quoting._grid import QuoteLadder
from mmlab.quoting._types import MarketState, Quote

__all__ = [
    "LayerConfig",
    "LayeredQuoter",
    "LayeredStrategy",
    "build_ladder_kernel",
    "build_ladder_kernel_python",
]

# indices into the float64 parameter vector of the kernel
(_N, _SIZE, _QMAX, _PSKEW, _SSKEW, _CIMB, _CQ, _QREF, _CVOL, _HOR, _MINSZ, _POST, _FRATE, _FCONST,
 _FCAP, _MINEDGE, _DEC, _FEEAWARE, _LOTDEC, _LOT, _NTICK) = range(21)  # fmt: skip
#: Scalars at the head of the kernel's parameter vector; then spacing[n], weights[n], tick_from[m],
#: ticks[m] (one array: a numba call costs per array argument).
N_PARAMS = 21


def build_ladder_kernel_python(fair, center, bid_dist, ask_dist, q, best_bid, best_ask, bid_qty,
                               ask_qty, sigma_px, band_lo, band_hi, pending_buy, pending_sell, p):
    """The layered ladder as an ``(n_levels, 4)`` array of rows ``(bid, ask, bid_size, ask_size)``.

    ``fair``: the value the edge is measured from; ``center``: where the base distances start
    (e.g. a reservation price); ``bid_dist``/``ask_dist`` >= 0 (NaN: that side not quoted);
    ``bid_qty``/``ask_qty``: quantities at the book's best bid/ask (NaN if unknown); ``sigma_px``:
    the mid's short-term volatility in price per sqrt(time unit) (NaN if unknown);
    ``pending_buy``/``pending_sell`` >= 0: in-flight quantity counted against the limit; ``p``:
    the parameter vector of :meth:`LayerConfig.kernel_params` (parameters, per-level spacing and
    weights, tick rule, lot).

    Examples
    --------
    >>> cfg = LayerConfig(size=10.0)
    >>> p = cfg.kernel_params((0.0, 0.0, math.inf), np.zeros(1), np.array([0.01]), 1.0, 4, 2)
    >>> out = build_ladder_kernel_python(100.0, 100.0, 0.05, 0.05, 0.0, 99.98, 100.02, 5.0, 5.0,
    ...     math.nan, -math.inf, math.inf, 0.0, 0.0, p)
    >>> out[:, 0].round(2).tolist(), out[:, 1].round(2).tolist(), out[:, 2].tolist()
    ([99.95, 99.9, 99.8], [100.05, 100.1, 100.2], [4.0, 3.0, 2.0])
    """
    n = int(p[_N])
    m = int(p[_NTICK])
    o = N_PARAMS
    spacing = p[o:o + n]
    weights = p[o + n:o + 2 * n]
    tick_from = p[o + 2 * n:o + 2 * n + m]
    ticks = p[o + 2 * n + m:o + 2 * n + 2 * m]
    lot = p[_LOT]
    out = np.empty((n, 4))
    for i in range(n):
        out[i, 0] = math.nan
        out[i, 1] = math.nan
        out[i, 2] = 0.0
        out[i, 3] = 0.0
    if not (math.isfinite(fair) and math.isfinite(center) and math.isfinite(q)):
        return out  # bad state: quote nothing
    tmin = ticks[0]
    for j in range(len(ticks)):
        if ticks[j] < tmin:
            tmin = ticks[j]
    half = 0.5 * tmin
    dec = int(p[_DEC])
    lot_dec = int(p[_LOTDEC])
    qmax = p[_QMAX]
    post = p[_POST] != 0.0
    fee_aware = p[_FEEAWARE] != 0.0
    db0 = max(bid_dist, 0.0) if math.isfinite(bid_dist) else math.nan
    da0 = max(ask_dist, 0.0) if math.isfinite(ask_dist) else math.nan
    base = 0.0
    nb = 0
    if math.isfinite(db0):
        base += db0
        nb += 1
    if math.isfinite(da0):
        base += da0
        nb += 1
    if nb > 0:
        base /= nb
    c = center + imbalance_offset(bid_qty, ask_qty, best_bid, best_ask, p[_CIMB])
    c += inventory_price_skew(q, base, p[_PSKEW])
    fair_adj = fair + (c - center)  # fair value moved by the imbalance and inventory shifts
    vol = volatility_offset(sigma_px, p[_HOR], p[_CVOL])
    for side in (1, -1):
        d0 = db0 if side == 1 else da0
        if not math.isfinite(d0):
            continue
        touch = bid_qty if side == 1 else ask_qty
        d = d0 + vol + queue_offset(touch, p[_QREF], tmin, p[_CQ])
        factor = inventory_size_factor(q, qmax, p[_SSKEW], side)
        room = qmax - side * q - (pending_buy if side == 1 else pending_sell)
        prev = math.nan
        col = 0 if side == 1 else 1
        for i in range(n):
            if side == 1:
                x = min(c - d * spacing[i], c - half)
                if post and math.isfinite(best_ask):
                    x = min(x, best_ask - half)
                x = min(x, band_hi)
                px = round_price_down(x, tick_from, ticks, dec)
                if px > band_hi or (post and px >= best_ask):  # rounding absorbed noise upward
                    px = round_price_down(px - half, tick_from, ticks, dec)
                if math.isfinite(prev) and px >= prev:
                    px = round_price_down(prev - half, tick_from, ticks, dec)
                ok = px > 0.0 and px >= band_lo
            else:
                x = max(c + d * spacing[i], c + half)
                if post and math.isfinite(best_bid):
                    x = max(x, best_bid + half)
                x = max(x, band_lo)
                px = round_price_up(x, tick_from, ticks, dec)
                if px < band_lo or (post and px <= best_bid):
                    px = round_price_up(px + half, tick_from, ticks, dec)
                if math.isfinite(prev) and px <= prev:
                    px = round_price_up(prev + half, tick_from, ticks, dec)
                ok = px > 0.0 and px <= band_hi
            if ok and fee_aware:
                ok = edge_beats_fee(px, fair_adj, side, p[_FRATE], p[_FCONST], p[_FCAP], p[_MINEDGE])
            if not ok:
                continue
            s = p[_SIZE] * weights[i] * factor
            if s > room:
                s = room
            if not s > 0.0:
                continue
            k = math.floor(s / lot + 1e-9)
            if k * lot > room:
                k -= 1.0
            s = round(k * lot, lot_dec)
            if s <= 0.0 or s < p[_MINSZ] or s > room:
                continue
            room -= s
            prev = px
            out[i, col] = px
            out[i, col + 2] = s
    return out


build_ladder_kernel = njit(cache=True)(build_ladder_kernel_python)


def _check_tuple(name: str, v) -> tuple[float, ...]:
    try:
        t = tuple(float(x) for x in v)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a sequence of numbers, got {v!r}") from None
    if not t or any(not (math.isfinite(x) and x > 0) for x in t):
        raise ConfigError(f"{name} must be a non-empty sequence of finite numbers > 0, got {v!r}")
    return t


@dataclass(frozen=True, slots=True)
class LayerConfig:
    """Validated quote-construction parameters (formulas in :mod:`mmlab.quoting._construction`).

    Parameters
    ----------
    n_levels : int, default 3
        Levels per side, ``1 <= n_levels <= len(spacing)``.
    spacing : tuple of float, default (1, 2, 4)
        Level distances as multiples of the base distance, strictly increasing, >= 1.
    weights : tuple of float, default (0.40, 0.35, 0.25)
        Share of ``size`` per level (same length as ``spacing``); the first ``n_levels`` are
        renormalised to sum to 1.
    size : float, default 1.0
        Total size per side before skews, caps and rounding (contracts).
    max_inventory : float, default inf
        Q: every level filling at once keeps ``|position + in-flight| <= Q``.
    price_skew : float, default 0.0
        Centre shift, in base distances per unit of inventory (long lowers both sides).
    size_skew : float, default 1.0
        Exponent of the size decay on the side that grows ``|q|`` (0 disables).
    imbalance_coef : float, default 0.0
        ``c_I`` (1 = the top-of-book microprice).
    queue_coef, queue_ref : float, default 0.0, 1.0
        ``c_Q`` (ticks of back-off for an empty queue) and ``Q_ref`` (a normal queue).
    vol_coef, vol_horizon : float, default 0.0, 1.0
        ``c_sigma`` and holding horizon ``h`` (time unit of the volatility).
    min_size : float, default 0.0
        Levels smaller than this (after rounding) are not quoted.
    post_only : bool, default True
        Keep bids below the best ask and asks above the best bid.
    band_pct : float, default inf
        Price band: quotes stay within ``ref * (1 -/+ band_pct)``, ``ref`` the book mid (or the
        fair value without a book).
    min_edge : float, default 0.0
        Edge required beyond the maker fee, in price units.
    fee_aware : bool, default True
        Apply the edge filter.

    Examples
    --------
    >>> LayerConfig(n_levels=2).level_weights()
    (0.5333333333333333, 0.4666666666666667)
    >>> LayerConfig(n_levels=4)
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: n_levels must be an integer in [1, 3], got 4
    """

    n_levels: int = 3
    spacing: tuple = (1.0, 2.0, 4.0)
    weights: tuple = (0.40, 0.35, 0.25)
    size: float = 1.0
    max_inventory: float = math.inf
    price_skew: float = 0.0
    size_skew: float = 1.0
    imbalance_coef: float = 0.0
    queue_coef: float = 0.0
    queue_ref: float = 1.0
    vol_coef: float = 0.0
    vol_horizon: float = 1.0
    min_size: float = 0.0
    post_only: bool = True
    band_pct: float = math.inf
    min_edge: float = 0.0
    fee_aware: bool = True

    def __post_init__(self) -> None:
        sp = _check_tuple("spacing", self.spacing)
        w = _check_tuple("weights", self.weights)
        if sp[0] < 1.0 or any(b <= a for a, b in zip(sp, sp[1:], strict=False)):
            raise ConfigError(f"spacing must be strictly increasing and start at >= 1, got {self.spacing!r}")
        if len(w) != len(sp):
            raise ConfigError(f"weights must have one entry per spacing level ({len(sp)}), got {self.weights!r}")
        object.__setattr__(self, "spacing", sp)
        object.__setattr__(self, "weights", w)
        if isinstance(self.n_levels, bool) or not isinstance(self.n_levels, (int, np.integer)) \
                or not 1 <= self.n_levels <= len(sp):
            raise ConfigError(f"n_levels must be an integer in [1, {len(sp)}], got {self.n_levels!r}")
        check_positive("size", self.size)
        check_positive("max_inventory", self.max_inventory, allow_inf=True)
        for name in ("price_skew", "size_skew", "imbalance_coef", "queue_coef", "vol_coef", "min_size", "min_edge"):
            check_nonnegative(name, getattr(self, name))
        check_positive("queue_ref", self.queue_ref)
        check_positive("vol_horizon", self.vol_horizon)
        check_positive("band_pct", self.band_pct, allow_inf=True)
        for name in ("post_only", "fee_aware"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ConfigError(f"{name} must be a bool, got {getattr(self, name)!r}")

    def level_weights(self) -> tuple[float, ...]:
        """The first ``n_levels`` weights, renormalised to sum to 1."""
        w = self.weights[: self.n_levels]
        s = sum(w)
        return tuple(x / s for x in w)

    def kernel_params(self, fee_terms, tick_from, ticks, lot: float, decimals: int = 8,
                      lot_decimals: int = 8) -> np.ndarray:
        """The parameter vector of :func:`build_ladder_kernel`: the scalars, then the first
        ``n_levels`` spacings and (renormalised) weights, then the tick rule ``tick_from``/``ticks``
        (:func:`tick_arrays`); ``fee_terms`` from :func:`maker_fee_terms`."""
        p = np.empty(N_PARAMS)
        p[_N] = self.n_levels
        p[_SIZE] = self.size
        p[_QMAX] = self.max_inventory
        p[_PSKEW] = self.price_skew
        p[_SSKEW] = self.size_skew
        p[_CIMB] = self.imbalance_coef
        p[_CQ] = self.queue_coef
        p[_QREF] = self.queue_ref
        p[_CVOL] = self.vol_coef
        p[_HOR] = self.vol_horizon
        p[_MINSZ] = self.min_size
        p[_POST] = 1.0 if self.post_only else 0.0
        p[_FRATE], p[_FCONST], p[_FCAP] = fee_terms
        p[_MINEDGE] = self.min_edge
        p[_DEC] = decimals
        p[_FEEAWARE] = 1.0 if self.fee_aware else 0.0
        p[_LOTDEC] = lot_decimals
        p[_LOT] = lot
        tf = np.asarray(tick_from, dtype=np.float64).reshape(-1)
        tk = np.asarray(ticks, dtype=np.float64).reshape(-1)
        if tf.shape != tk.shape or tf.size == 0:
            raise ConfigError("tick_from and ticks must be non-empty and of one length")
        p[_NTICK] = tf.size
        return np.concatenate([p, self.spacing[: self.n_levels], self.level_weights(), tf, tk])


def _touch(state: MarketState) -> tuple[float, float]:
    d = state.depth
    if d is None:
        return math.nan, math.nan
    bq, aq = d[1], d[3]
    return (float(bq[0]) if len(bq) else math.nan), (float(aq[0]) if len(aq) else math.nan)


class LayeredQuoter:
    """Builds validated layered ladders for one instrument (ticks, lots, fees from its terms).

    Parameters
    ----------
    config : LayerConfig
    instrument : mmlab.data.Instrument
        Tick rule (ladders included), lot size and maker fee.

    Examples
    --------
    >>> from mmlab.data import get_instrument
    >>> perp = get_instrument("BINANCE_USDM:BTCUSDT")      # tick 0.1, lot 0.001, maker 2 bps
    >>> lq = LayeredQuoter(LayerConfig(size=0.01, max_inventory=0.05), perp)
    >>> st = MarketState(mid=30000.05, inventory=0.0, best_bid=30000.0, best_ask=30000.1)
    >>> lad = lq.ladder(st.mid, 10.0, 10.0, st)
    >>> lad.bids.tolist(), lad.bid_sizes.tolist()
    ([29990.0, 29980.0, 29960.0], [0.004, 0.003, 0.002])
    >>> lq.ladder(st.mid, 5.0, 5.0, st).bids.tolist()    # 5 USDT < 2 bps of 30,000 = 6 USDT
    [nan, 29990.0, 29980.0]
    """

    __slots__ = ("config", "instrument", "_p")

    def __init__(self, config: LayerConfig, instrument):
        if not isinstance(config, LayerConfig):
            raise ConfigError(f"config must be a LayerConfig, got {type(config).__name__}")
        self.config = config
        self.instrument = instrument
        tf, tk, dec = tick_arrays(instrument)
        lot = float(instrument.lot_size)
        lot_dec = max(0, -int(math.floor(math.log10(lot))) + 2)
        self._p = config.kernel_params(maker_fee_terms(instrument), tf, tk, lot, dec, lot_dec)

    def bands(self, fair: float, state: MarketState) -> tuple[float, float]:
        """``(band_lo, band_hi)`` around the book mid (or ``fair`` without a valid book)."""
        pct = self.config.band_pct
        if math.isinf(pct):
            return -math.inf, math.inf
        bb, ba = state.best_bid, state.best_ask
        ref = 0.5 * (bb + ba) if (math.isfinite(bb) and math.isfinite(ba) and ba > bb) else fair
        return ref * (1.0 - pct), ref * (1.0 + pct)

    def ladder(self, fair: float, bid_distance: float, ask_distance: float, state: MarketState,
               center: float | None = None, pending_buy: float = 0.0, pending_sell: float = 0.0,
               validate: bool = True) -> QuoteLadder:
        """The validated ladder for ``state`` (see :func:`build_ladder_kernel_python` for the
        arguments; ``center`` defaults to ``fair``; inventory is ``state.inventory``)."""
        if pending_buy < 0 or pending_sell < 0:
            raise ConfigError("pending_buy and pending_sell must be >= 0")
        fair = float(fair)
        lo, hi = self.bands(fair, state)
        bq, aq = _touch(state)
        out = build_ladder_kernel(
            fair, fair if center is None else float(center), float(bid_distance), float(ask_distance),
            float(state.inventory), float(state.best_bid), float(state.best_ask), bq, aq,
            float(state.volatility), lo, hi, float(pending_buy), float(pending_sell), self._p)
        if validate:  # validate_quotes' rules, on the kernel output directly
            check_levels(out[:, 0], out[:, 1], out[:, 2], out[:, 3], state.best_bid, state.best_ask,
                         self.config.post_only, lo, hi, state.inventory, self.config.max_inventory,
                         pending_buy, pending_sell)
        return QuoteLadder.from_array(out)


class LayeredStrategy:
    """Any single-level strategy turned into a layered, validated one.

    The inner strategy's quote gives the centre (the midpoint of its bid and ask, or the mid when
    one side is missing) and the base distances; the fair value for the edge filter is that centre
    (the strategy's reservation price).

    Examples
    --------
    >>> from mmlab.data import get_instrument
    >>> from mmlab.quoting import AvellanedaStoikovConfig, AvellanedaStoikovStrategy
    >>> inner = AvellanedaStoikovStrategy(AvellanedaStoikovConfig(0.1, 2.0, 1.5))
    >>> strat = LayeredStrategy(inner, LayeredQuoter(LayerConfig(size=10), get_instrument("AAPL")))
    >>> q = strat.quote(MarketState(mid=100.0, inventory=0.0, time_left=0.5))
    >>> round(q.bid, 2), round(q.ask, 2), q.bid_size     # A-S half spread 0.745 -> 0.75 ticks out
    (99.25, 100.75, 4.0)
    """

    __slots__ = ("inner", "quoter")

    def __init__(self, inner, quoter: LayeredQuoter):
        if not hasattr(inner, "quote"):
            raise ConfigError("inner must have a quote(state) method")
        if not isinstance(quoter, LayeredQuoter):
            raise ConfigError(f"quoter must be a LayeredQuoter, got {type(quoter).__name__}")
        self.inner = inner
        self.quoter = quoter

    def ladder(self, state: MarketState) -> QuoteLadder:
        """Every level for ``state``."""
        q = self.inner.quote(state)
        mid = float(state.mid)
        if q.has_bid and q.has_ask:
            c = 0.5 * (q.bid + q.ask)
            return self.quoter.ladder(c, c - q.bid, q.ask - c, state)
        db = mid - q.bid if q.has_bid else math.nan
        da = q.ask - mid if q.has_ask else math.nan
        return self.quoter.ladder(mid, db, da, state)

    def quote(self, state: MarketState) -> Quote:
        """The best quoted level of each side."""
        lad = self.ladder(state)
        out = [math.nan, math.nan, 0.0, 0.0]
        for col, px, sz in ((0, lad.bids, lad.bid_sizes), (1, lad.asks, lad.ask_sizes)):
            for i in range(len(sz)):
                if sz[i] > 0:
                    out[col], out[col + 2] = float(px[i]), float(sz[i])
                    break
        return Quote(*out)
