"""Quote construction pieces: skews, microstructure offsets, tick rounding, fees, validation.

Each piece is a small pure function of scalars (plain Python, also callable from numba kernels
through ``register_jitable``); :mod:`mmlab.quoting._layers` composes them into a ladder.
Units: prices and distances in P (the instrument's quote currency per unit), quantities in
contracts (the instrument's lots), fees per unit of price.

Formulas
--------
* **Order-book imbalance** (:func:`book_imbalance`, :func:`imbalance_offset`):
  ``I = (Q_b - Q_a) / (Q_b + Q_a)`` in [-1, 1] from the quantities at the best bid and ask;
  the fair value moves by ``c_I * I * (ask - bid) / 2``. With ``c_I = 1`` this is exactly the
  size-weighted mid ("microprice" of the first level, Stoikov 2018, eq. 1 discussion):
  ``(ask Q_b + bid Q_a) / (Q_b + Q_a) = mid + I (ask - bid) / 2``.
* **Queue depth at the touch** (:func:`queue_offset`): a thin queue at the best bid is about to
  be depleted (the price tends to tick down next, Cont & de Larrard 2013), so resting there is
  adversely selected; that side stands back by ``c_Q * tick * max(0, 1 - Q_touch / Q_ref)``
  (``Q_ref``: the queue size deemed "normal"; no offset for queues at least that deep).
* **Short-term volatility** (:func:`volatility_offset`): both sides stand back by
  ``c_sigma * sigma_px * sqrt(h)``, the mid's standard deviation over the holding horizon ``h``
  (``sigma_px`` in P / sqrt(time unit), ``h`` in that time unit).
* **Inventory price skew** (:func:`inventory_price_skew`): the quoting centre moves by
  ``-s_p * q * d`` (``d``: the base distance; ``s_p``: base distances per unit of inventory):
  long inventory lowers both sides.
* **Inventory size skew** (:func:`inventory_size_factor`): the side that grows ``|q|`` (bids when
  long, asks when short) is scaled by ``max(0, 1 - |q| / Q) ** e`` (``e = 0`` disables it); the
  other side keeps its size.
* **Fee-aware edge filter** (:func:`maker_fee_per_unit`, :func:`edge_beats_fee`): a level at price
  ``p`` has expected edge ``fair - p`` (bid) or ``p - fair`` (ask) per unit; it is quoted only when
  ``edge > fee(p) + min_edge`` with ``fee(p) = min(rate * p + const, cap * p)`` the maker fee per
  unit of price (negative for a rebate, which lowers the hurdle).
* **Tick rounding** (:func:`round_price_down`, :func:`round_price_up`): the instrument master's
  rule (:meth:`mmlab.data.Instrument.round_price`), with tick ladders: bids down, asks up.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numba.extending import register_jitable

from mmlab.errors import QuoteValidationError

__all__ = [
    "book_imbalance",
    "edge_beats_fee",
    "imbalance_offset",
    "inventory_price_skew",
    "inventory_size_factor",
    "maker_fee_per_unit",
    "maker_fee_terms",
    "queue_offset",
    "quote_violation",
    "quote_violation_python",
    "round_price_down",
    "round_price_up",
    "tick_arrays",
    "validate_quotes",
    "volatility_offset",
]


@register_jitable
def book_imbalance(bid_qty, ask_qty):
    """Top-of-book imbalance ``(Q_b - Q_a) / (Q_b + Q_a)``; 0 when unknown or both empty.

    Examples
    --------
    >>> book_imbalance(30.0, 10.0), book_imbalance(float("nan"), 5.0)
    (0.5, 0.0)
    """
    if not (math.isfinite(bid_qty) and math.isfinite(ask_qty)) or bid_qty < 0.0 or ask_qty < 0.0:
        return 0.0
    tot = bid_qty + ask_qty
    if tot <= 0.0:
        return 0.0
    return (bid_qty - ask_qty) / tot


@register_jitable
def imbalance_offset(bid_qty, ask_qty, best_bid, best_ask, coef):
    """Fair-value shift ``coef * I * (ask - bid) / 2`` (0 without a valid two-sided book).

    Examples
    --------
    >>> imbalance_offset(30.0, 10.0, 99.0, 101.0, 1.0)   # microprice 100.5
    0.5
    """
    if coef == 0.0 or not (math.isfinite(best_bid) and math.isfinite(best_ask)) or best_ask <= best_bid:
        return 0.0
    return coef * book_imbalance(bid_qty, ask_qty) * 0.5 * (best_ask - best_bid)


@register_jitable
def queue_offset(touch_qty, q_ref, tick, coef):
    """Extra distance ``coef * tick * max(0, 1 - touch_qty / q_ref)`` for one side (0 if unknown).

    Examples
    --------
    >>> queue_offset(25.0, 100.0, 0.01, 2.0)   # a quarter-full queue: 1.5 ticks back
    0.015
    >>> queue_offset(500.0, 100.0, 0.01, 2.0)
    0.0
    """
    if coef == 0.0 or not math.isfinite(touch_qty) or touch_qty < 0.0:
        return 0.0
    return coef * tick * max(0.0, 1.0 - touch_qty / q_ref)


@register_jitable
def volatility_offset(sigma_px, horizon, coef):
    """Extra distance ``coef * sigma_px * sqrt(horizon)`` on both sides (0 if sigma_px unknown).

    Examples
    --------
    >>> volatility_offset(0.2, 4.0, 0.5)
    0.2
    """
    if coef == 0.0 or not math.isfinite(sigma_px) or sigma_px < 0.0:
        return 0.0
    return coef * sigma_px * math.sqrt(horizon)


@register_jitable
def inventory_price_skew(q, base_distance, coef):
    """Centre shift ``-coef * q * base_distance`` (long inventory lowers both sides).

    Examples
    --------
    >>> inventory_price_skew(2.0, 0.5, 0.1)
    -0.1
    """
    return -coef * q * base_distance


@register_jitable
def inventory_size_factor(q, max_inventory, exponent, side):
    """Size multiplier of one side (``side`` +1 bid, -1 ask): ``max(0, 1 - |q|/Q) ** exponent`` on
    the side that grows ``|q|``, 1 on the other (and when ``Q`` is infinite).

    Examples
    --------
    >>> inventory_size_factor(5.0, 10.0, 1.0, 1), inventory_size_factor(5.0, 10.0, 1.0, -1)
    (0.5, 1.0)
    """
    if not math.isfinite(max_inventory) or exponent == 0.0 or q * side <= 0.0:
        return 1.0
    u = 1.0 - abs(q) / max_inventory
    if u <= 0.0:
        return 0.0
    return u**exponent


@register_jitable
def maker_fee_per_unit(price, rate, const, cap):
    """Maker fee per unit at ``price``: ``min(rate * price + const, cap * price)`` (cap applies to
    a positive fee only; negative = rebate).

    Examples
    --------
    >>> maker_fee_per_unit(100.0, 2e-4, 0.0, math.inf), maker_fee_per_unit(100.0, -1e-4, 0.0, math.inf)
    (0.02, -0.01)
    """
    fee = rate * price + const
    if fee > 0.0 and math.isfinite(cap):
        fee = min(fee, cap * abs(price))
    return fee


@register_jitable
def edge_beats_fee(price, fair, side, rate, const, cap, min_edge):
    """True when a level at ``price`` (``side`` +1 bid, -1 ask) has edge ``side * (fair - price)``
    above its maker fee plus ``min_edge``.

    Examples
    --------
    >>> edge_beats_fee(99.99, 100.0, 1, 2e-4, 0.0, math.inf, 0.0)    # 0.01 edge < 0.02 fee
    False
    >>> edge_beats_fee(99.99, 100.0, 1, -2e-4, 0.0, math.inf, 0.0)   # rebate: quoted
    True
    """
    edge = side * (fair - price)
    return edge > maker_fee_per_unit(price, rate, const, cap) + min_edge


def maker_fee_terms(instrument) -> tuple[float, float, float]:
    """``(rate, const, cap)`` of :func:`maker_fee_per_unit` from an instrument's fee schedule.

    Notional basis: ``rate`` = the maker rate (fee ``rate * price`` per unit of price); underlying
    basis (Deribit options): a constant ``maker rate`` per unit; fixed fees per contract become
    ``fixed / multiplier`` per unit of price; ``cap`` = the premium cap (inf if none).

    Examples
    --------
    >>> from mmlab.data import default_master
    >>> maker_fee_terms(default_master().option("BTC", "2020-05-22", 9250, "P"))
    (0.0, 0.0003, 0.125)
    """
    f = instrument.fees
    m = float(instrument.multiplier)
    if f.basis == "underlying":
        rate, const = 0.0, f.maker_rate
    else:
        rate, const = f.maker_rate, 0.0
    const += f.maker_fixed / m
    cap = math.inf if f.premium_cap is None else float(f.premium_cap)
    return float(rate), float(const), cap


def tick_arrays(instrument) -> tuple[np.ndarray, np.ndarray, int]:
    """``(tick_from, ticks, decimals)`` of an instrument's tick rule, for the rounding kernels.

    Examples
    --------
    >>> from mmlab.data import default_master
    >>> fr, tk, dec = tick_arrays(default_master().option("SPXW", "2023-09-15", 4500, "C"))
    >>> fr.tolist(), tk.tolist(), dec
    ([0.0, 3.0], [0.05, 0.1], 4)
    """
    if instrument.tick_ladder:
        fr = np.array([a for a, _ in instrument.tick_ladder], dtype=np.float64)
        tk = np.array([t for _, t in instrument.tick_ladder], dtype=np.float64)
    else:
        fr = np.zeros(1)
        tk = np.array([float(instrument.tick_size)])
    dec = max(0, -int(math.floor(math.log10(instrument.tick_size))) + 2)
    return fr, tk, dec


@register_jitable
def _tick_at(price, tick_from, ticks):
    i = np.searchsorted(tick_from, abs(price), side="right") - 1
    if i < 0:
        i = 0
    return float(ticks[i])


@register_jitable
def _round_side(price, up, tick_from, ticks, decimals):
    t = _tick_at(price, tick_from, ticks)
    n = round(price / t, 9)  # absorb binary noise, as Instrument.round_price
    k = math.ceil(n) if up else math.floor(n)
    out = k * t
    if len(ticks) > 1:  # on the finer side of a ladder boundary: fit that tick
        t2 = _tick_at(out, tick_from, ticks)
        n2 = round(out / t2, 9)
        out = (math.ceil(n2) if up else math.floor(n2)) * t2
    return round(out, decimals)


@register_jitable
def round_price_down(price, tick_from, ticks, decimals):
    """Round a bid down to the tick grid (the instrument master's rule, tick ladders included).

    Examples
    --------
    >>> fr, tk = np.array([0.0, 3.0]), np.array([0.05, 0.1])
    >>> round_price_down(3.03, fr, tk, 4), round_price_down(2.97, fr, tk, 4)
    (3.0, 2.95)
    """
    return _round_side(price, False, tick_from, ticks, decimals)


@register_jitable
def round_price_up(price, tick_from, ticks, decimals):
    """Round an ask up to the tick grid (see :func:`round_price_down`).

    Examples
    --------
    >>> fr, tk = np.array([0.0, 3.0]), np.array([0.05, 0.1])
    >>> round_price_up(2.98, fr, tk, 4), round_price_up(3.11, fr, tk, 4)
    (3.0, 3.2)
    """
    return _round_side(price, True, tick_from, ticks, decimals)


def validate_quotes(
    bids,
    asks,
    bid_sizes,
    ask_sizes,
    *,
    best_bid: float = math.nan,
    best_ask: float = math.nan,
    post_only: bool = False,
    band_lo: float = -math.inf,
    band_hi: float = math.inf,
    inventory: float | None = None,
    max_inventory: float = math.inf,
    pending_buy: float = 0.0,
    pending_sell: float = 0.0,
) -> None:
    """Check quotes before they leave; raise :class:`~mmlab.errors.QuoteValidationError` with the
    reason on the first violation.

    Rules: sizes finite and >= 0 (0 = level not quoted, its price ignored); a quoted level has a
    finite price > 0 inside ``[band_lo, band_hi]``; the highest quoted bid is below the lowest
    quoted ask (never crossed); with ``post_only``, bids are below ``best_ask`` and asks above
    ``best_bid`` (when known); with ``inventory`` given, ``inventory + pending_buy + sum(bid
    sizes)`` and ``inventory - pending_sell - sum(ask sizes)`` stay within ``+/- max_inventory``
    (a side with no size is not checked: it cannot grow the position).

    Parameters
    ----------
    bids, asks, bid_sizes, ask_sizes : float or array-like
        Prices and sizes per level (a :class:`Quote` is one level).

    Examples
    --------
    >>> validate_quotes([99.0], [101.0], [1.0], [2.0], best_bid=99.5, best_ask=100.5, post_only=True)
    >>> validate_quotes([100.0], [99.5], [1.0], [1.0])
    Traceback (most recent call last):
    ...
    mmlab.errors.QuoteValidationError: crossed: best bid 100.0 >= best ask 99.5
    """
    b, a, bs, as_ = (np.asarray(x, dtype=np.float64).reshape(-1) for x in (bids, asks, bid_sizes, ask_sizes))
    if len(b) != len(bs) or len(a) != len(as_):
        raise QuoteValidationError(f"shapes: {len(b)} bid prices vs {len(bs)} sizes, "
                                   f"{len(a)} ask prices vs {len(as_)} sizes")
    check_levels(b, a, bs, as_, best_bid, best_ask, post_only, band_lo, band_hi, inventory,
                 max_inventory, pending_buy, pending_sell)


def quote_violation_python(b, a, bs, as_, best_bid, best_ask, post_only, band_lo, band_hi,
                           check_inventory, inventory, max_inventory, pending_buy, pending_sell):
    """First broken rule of :func:`validate_quotes` as ``(code, level)`` (``(0, -1)``: none).

    Codes: 1/2 bid/ask size not finite >= 0, 3/4 bid/ask price not finite > 0, 5/6 bid/ask
    outside the band, 7 crossed, 8/9 post-only bid/ask takes the book, 10/11 the long/short
    inventory bound. ``quote_violation`` is the compiled twin.

    Examples
    --------
    >>> quote_violation_python(np.array([100.0]), np.array([99.5]), np.ones(1), np.ones(1), math.nan,
    ...     math.nan, False, -math.inf, math.inf, False, 0.0, math.inf, 0.0, 0.0)
    (7, 0)
    """
    hi_bid = -math.inf
    lo_ask = math.inf
    i_b = -1
    i_a = -1
    sb = 0.0
    sa = 0.0
    for i in range(len(b)):
        s = bs[i]
        if not math.isfinite(s) or s < 0.0:
            return 1, i
        if s == 0.0:
            continue
        p = b[i]
        if not math.isfinite(p) or p <= 0.0:
            return 3, i
        if p < band_lo or p > band_hi:
            return 5, i
        sb += s
        if p > hi_bid:
            hi_bid = p
            i_b = i
    for i in range(len(a)):
        s = as_[i]
        if not math.isfinite(s) or s < 0.0:
            return 2, i
        if s == 0.0:
            continue
        p = a[i]
        if not math.isfinite(p) or p <= 0.0:
            return 4, i
        if p < band_lo or p > band_hi:
            return 6, i
        sa += s
        if p < lo_ask:
            lo_ask = p
            i_a = i
    if hi_bid >= lo_ask:
        return 7, i_b
    if post_only:
        if math.isfinite(best_ask) and hi_bid >= best_ask:
            return 8, i_b
        if math.isfinite(best_bid) and lo_ask <= best_bid:
            return 9, i_a
    if check_inventory:
        tol = 1e-9 * max(1.0, abs(max_inventory)) if math.isfinite(max_inventory) else 0.0
        if sb > 0.0 and inventory + pending_buy + sb > max_inventory + tol:
            return 10, -1
        if sa > 0.0 and inventory - pending_sell - sa < -max_inventory - tol:
            return 11, -1
    return 0, -1


quote_violation = njit(cache=True)(quote_violation_python)

_REASONS = {
    1: "bid level {i}: size {bs!r} is not a finite number >= 0",
    2: "ask level {i}: size {as_!r} is not a finite number >= 0",
    3: "bid level {i}: price {b!r} is not a finite number > 0",
    4: "ask level {i}: price {a!r} is not a finite number > 0",
    5: "bid level {i}: price {b!r} outside band [{lo}, {hi}]",
    6: "ask level {i}: price {a!r} outside band [{lo}, {hi}]",
    7: "crossed: best bid {b!r} >= best ask {best_own_ask!r}",
    8: "post-only bid {b!r} would take the book's ask {best_ask!r}",
    9: "post-only ask {a!r} would take the book's bid {best_bid!r}",
    10: "inventory: {inventory!r} + in-flight {pending_buy!r} + bids {sum_b!r} exceeds {qmax!r}",
    11: "inventory: {inventory!r} - in-flight {pending_sell!r} - asks {sum_a!r} below {neg_qmax!r}",
}


def check_levels(b, a, bs, as_, best_bid, best_ask, post_only, band_lo, band_hi, inventory,
                 max_inventory, pending_buy, pending_sell) -> None:
    """:func:`validate_quotes` on float64 arrays, all arguments positional (``inventory`` None:
    no inventory check); raises :class:`~mmlab.errors.QuoteValidationError` with the reason."""
    chk = inventory is not None
    code, i = quote_violation(b, a, bs, as_, float(best_bid), float(best_ask), bool(post_only),
                              float(band_lo), float(band_hi), chk, float(inventory) if chk else 0.0,
                              float(max_inventory), float(pending_buy), float(pending_sell))
    if code == 0:
        return
    j = max(i, 0)
    own_ask = float(np.min(a[as_ > 0])) if (as_ > 0).any() else math.nan
    msg = _REASONS[code].format(
        i=i, b=float(b[j]) if len(b) else math.nan, a=float(a[j]) if len(a) else math.nan,
        bs=float(bs[j]) if len(bs) else math.nan, as_=float(as_[j]) if len(as_) else math.nan,
        lo=band_lo, hi=band_hi, best_own_ask=own_ask, best_ask=best_ask, best_bid=best_bid,
        inventory=inventory, pending_buy=pending_buy, pending_sell=pending_sell,
        sum_b=float(bs.sum()), sum_a=float(as_.sum()), qmax=max_inventory, neg_qmax=-max_inventory)
    raise QuoteValidationError(msg)
