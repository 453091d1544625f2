"""Seeded, deterministic synthetic market data.

Three generators, all driven by one :class:`numpy.random.Generator` built from ``seed``, so the
same arguments always give the same arrays:

* :func:`arithmetic_brownian` / :func:`geometric_brownian` -- mid-price paths;
* :func:`market_order_hits` -- Avellaneda-Stoikov market-order arrivals: in each step of length
  ``dt`` a quote at distance ``delta`` from the mid is hit with probability
  ``lambda(delta) * dt``, ``lambda(delta) = A * exp(-k * delta)``;
* :func:`synthetic_l2_events` -- multi-day L2 event streams in :data:`EVENT_DTYPE` (a book of
  ``levels`` price levels a side around a Brownian mid, DEPTH updates and TRADE events, never
  crossed), so tests and walk-forward runs need no big vendor files.

Notes
-----
Avellaneda, M. and Stoikov, S. (2008), "High-frequency trading in a limit order book",
Quantitative Finance 8(3): the arrival rate of market orders that reach a limit order at distance
``delta`` from the mid is ``lambda(delta) = A exp(-k delta)`` (their eq. 2.9-2.12); in a
discretised simulation the quote is hit in a step with probability ``lambda(delta) dt`` (their
section 3.3).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from mmlab.data._events import (
    BUY_EVENT,
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    EVENT_DTYPE,
    EXCH_EVENT,
    LOCAL_EVENT,
    SELL_EVENT,
    TRADE_EVENT,
)
from mmlab.errors import ConfigError

__all__ = [
    "arithmetic_brownian",
    "geometric_brownian",
    "market_order_hits",
    "synthetic_l2_events",
]

_NS = 1_000_000_000

#: Why :func:`synthetic_l2_events`' ``sigma`` became ``sigma_px`` (issue 10: one name per quantity,
#: the quoting configs' unit; pricing's ``sigma`` is an annualised relative volatility).
_SIGMA_PX_RENAMED = ("renamed sigma_px (the mid's volatility in price units per sqrt(second), as "
                    "the quoting configs' sigma_px); pricing's sigma is the annualised volatility")


def _check_positive(name: str, value: float, allow_zero: bool = False) -> None:
    ok = value >= 0 if allow_zero else value > 0
    if not (ok and math.isfinite(value)):
        raise ConfigError(f"{name} must be {'>= 0' if allow_zero else '> 0'} and finite, got {value!r}")


def _check_steps(n_steps: int) -> int:
    if int(n_steps) != n_steps or n_steps < 1:
        raise ConfigError(f"n_steps must be a positive integer, got {n_steps!r}")
    return int(n_steps)


def arithmetic_brownian(
    n_steps: int, dt: float, sigma: float, s0: float = 100.0, mu: float = 0.0, seed: int = 0
) -> np.ndarray:
    """Arithmetic Brownian mid-price path ``S_t = s0 + mu t + sigma W_t``.

    Parameters
    ----------
    n_steps : int
        Number of increments; the path has ``n_steps + 1`` points (``s0`` first).
    dt : float
        Step length (in the time unit ``sigma`` is quoted in, e.g. seconds).
    sigma : float
        Volatility in price units per square-root time unit (absolute). This generic helper keeps
        the textbook name beside :func:`geometric_brownian`'s relative ``sigma``: its unit is set
        by the caller's ``dt``; :func:`synthetic_l2_events`, whose mid feeds the quoting
        strategies, names the same quantity ``sigma_px`` as they do.
    s0, mu : float
        Starting price and drift (price units per time unit).
    seed : int
        Seed of the :func:`numpy.random.default_rng` generator.

    Returns
    -------
    numpy.ndarray
        float64 path of length ``n_steps + 1``.

    Examples
    --------
    >>> p = arithmetic_brownian(4, dt=1.0, sigma=0.5, s0=100.0, seed=1)
    >>> len(p), float(p[0])
    (5, 100.0)
    >>> bool((p == arithmetic_brownian(4, dt=1.0, sigma=0.5, s0=100.0, seed=1)).all())
    True
    """
    n = _check_steps(n_steps)
    _check_positive("dt", dt)
    _check_positive("sigma", sigma, allow_zero=True)
    rng = np.random.default_rng(seed)
    inc = mu * dt + sigma * math.sqrt(dt) * rng.standard_normal(n)
    out = np.empty(n + 1)
    out[0] = s0
    np.cumsum(inc, out=out[1:])
    out[1:] += s0
    return out


def geometric_brownian(
    n_steps: int, dt: float, sigma: float, s0: float = 100.0, mu: float = 0.0, seed: int = 0
) -> np.ndarray:
    """Geometric Brownian path ``S_t = s0 exp((mu - sigma^2/2) t + sigma W_t)`` (exact scheme).

    Parameters are as in :func:`arithmetic_brownian`, with ``sigma`` and ``mu`` now relative
    (per square-root time unit and per time unit); ``s0`` must be positive.

    Examples
    --------
    >>> p = geometric_brownian(3, dt=1 / 252, sigma=0.2, s0=50.0, seed=7)
    >>> len(p), float(p[0]), bool((p > 0).all())
    (4, 50.0, True)
    """
    n = _check_steps(n_steps)
    _check_positive("dt", dt)
    _check_positive("sigma", sigma, allow_zero=True)
    _check_positive("s0", s0)
    rng = np.random.default_rng(seed)
    log_inc = (mu - 0.5 * sigma * sigma) * dt + sigma * math.sqrt(dt) * rng.standard_normal(n)
    out = np.empty(n + 1)
    out[0] = 0.0
    np.cumsum(log_inc, out=out[1:])
    return s0 * np.exp(out)


def market_order_hits(
    delta: float | np.ndarray, A: float, k: float, dt: float, n_steps: int | None = None, seed: int = 0
) -> np.ndarray:
    """Avellaneda-Stoikov market-order arrivals: does a quote at distance ``delta`` get hit?

    In each step a quote at distance ``delta >= 0`` from the mid is hit with probability
    ``A * exp(-k * delta) * dt`` (one Bernoulli draw per step and per quote).

    Parameters
    ----------
    delta : float or array_like
        Quote distance(s) from the mid, price units. A scalar needs ``n_steps``; an array gives
        one draw per element (e.g. shape ``(n_steps,)`` for a path of quotes, or
        ``(n_steps, n_quotes)``).
    A, k : float
        Intensity scale (arrivals per time unit at ``delta = 0``) and decay (per price unit).
    dt : float
        Step length; ``A * dt`` must be at most 1 (it is the largest hit probability).
    n_steps : int, optional
        Number of steps when ``delta`` is a scalar.
    seed : int
        Seed of the generator.

    Returns
    -------
    numpy.ndarray
        Boolean array, True where the quote was hit.

    Examples
    --------
    >>> h = market_order_hits(0.5, A=140.0, k=1.5, dt=0.005, n_steps=1000, seed=3)
    >>> h.shape, h.dtype
    ((1000,), dtype('bool'))
    """
    _check_positive("A", A)
    _check_positive("k", k, allow_zero=True)
    _check_positive("dt", dt)
    if A * dt > 1.0:
        raise ConfigError(f"A * dt must be <= 1 (a probability per step), got A={A}, dt={dt}")
    d = np.asarray(delta, dtype=float)
    if d.ndim == 0:
        if n_steps is None:
            raise ConfigError("n_steps is required when delta is a scalar")
        d = np.full(_check_steps(n_steps), float(d))
    if not np.isfinite(d).all() or (d < 0).any():
        raise ConfigError("delta must be finite and >= 0 everywhere")
    rng = np.random.default_rng(seed)
    prob = A * np.exp(-k * d) * dt
    return rng.random(d.shape) < prob


def _refuse_sigma(func):
    """Decorator: ``func(sigma=...)`` raises ConfigError naming ``sigma_px`` (the old keyword),
    instead of Python's bare "unexpected keyword argument"."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if "sigma" in kwargs:
            raise ConfigError(f"{func.__name__}(sigma=...): {_SIGMA_PX_RENAMED}")
        return func(*args, **kwargs)

    return wrapper


@_refuse_sigma
def synthetic_l2_events(
    days: int = 1,
    seed: int = 0,
    start: str = "2024-01-02",
    session_seconds: float = 600.0,
    step_ms: int = 100,
    s0: float = 100.0,
    sigma_px: float = 0.02,
    tick: float = 0.01,
    lot: float = 1.0,
    levels: int = 10,
    spread_ticks: int = 1,
    trade_rate: float = 2.0,
    update_prob: float = 0.2,
    latency_ms: float = 2.0,
) -> np.ndarray:
    """A multi-day synthetic L2 event stream around an arithmetic Brownian mid.

    Each day opens at ``start + d days`` (00:00 UTC) with a snapshot (a ``DEPTH_CLEAR`` of each
    side, then one ``DEPTH_SNAPSHOT`` per level). Then every ``step_ms`` milliseconds the mid moves;
    the book keeps ``levels`` tick-spaced levels a side with the best bid
    ``floor(mid/tick - (spread_ticks - 1)/2)`` ticks and the best ask ``spread_ticks`` ticks above
    it (so the latent mid lies inside the spread). Each step emits, in this order: deletes
    (qty 0) of levels that left the window, new levels, random size changes (probability
    ``update_prob`` per level), and market orders (Poisson, ``trade_rate`` per second per side),
    each a ``TRADE`` at the touch followed by the ``DEPTH`` of the reduced level. Deletes come
    first, so the book is never crossed after any event. The mid carries over from one day to the
    next (overnight the path simply continues).

    Every event has the EXCH and LOCAL flags; ``local_ts = exch_ts + latency`` with a positive
    latency of about ``latency_ms`` (jittered, local timestamps still increase); ``ival`` is the
    event's index (its ``src_row``).

    Parameters
    ----------
    days : int
        Number of sessions.
    seed : int
        Seed of the generator (same seed -> identical array).
    start : str
        First session date (UTC), ``YYYY-MM-DD``.
    session_seconds : float
        Length of each session.
    step_ms : int
        Book update interval, milliseconds.
    s0 : float
        Opening mid (price units).
    sigma_px : float
        The mid's volatility in price units per square-root second (absolute, not annualised:
        the quoting configs' ``sigma_px`` with the default ``time_unit_ns`` of one second). The
        old keyword ``sigma`` raises :class:`~mmlab.errors.ConfigError` naming ``sigma_px``.
    tick, lot : float
        Price tick and size lot; sizes are whole lots.
    levels : int
        Levels per side.
    spread_ticks : int
        Quoted spread, in ticks (constant).
    trade_rate : float
        Market orders per second, per side.
    update_prob : float
        Probability per step that a level's size changes.
    latency_ms : float
        Mean feed latency.

    Returns
    -------
    numpy.ndarray
        Events in :data:`EVENT_DTYPE`, sorted by ``exch_ts``.

    Examples
    --------
    >>> ev = synthetic_l2_events(days=2, session_seconds=5, seed=1)
    >>> ev.dtype == EVENT_DTYPE, bool((np.diff(ev["exch_ts"]) >= 0).all())
    (True, True)
    >>> synthetic_l2_events(sigma=0.02)
    Traceback (most recent call last):
    mmlab.errors.ConfigError: synthetic_l2_events(sigma=...): renamed sigma_px (the mid's
    volatility in price units per sqrt(second), as the quoting configs' sigma_px); pricing's
    sigma is the annualised volatility
    """
    if int(days) != days or days < 1:
        raise ConfigError(f"days must be a positive integer, got {days!r}")
    if int(levels) != levels or levels < 1:
        raise ConfigError(f"levels must be a positive integer, got {levels!r}")
    if int(spread_ticks) != spread_ticks or spread_ticks < 1:
        raise ConfigError(f"spread_ticks must be a positive integer, got {spread_ticks!r}")
    if int(step_ms) != step_ms or step_ms < 1:
        raise ConfigError(f"step_ms must be a positive integer, got {step_ms!r}")
    for name, val in (("session_seconds", session_seconds), ("s0", s0), ("tick", tick), ("lot", lot)):
        _check_positive(name, val)
    for name, val in (("sigma_px", sigma_px), ("trade_rate", trade_rate), ("latency_ms", latency_ms)):
        _check_positive(name, val, allow_zero=True)
    if not 0.0 <= update_prob <= 1.0:
        raise ConfigError(f"update_prob must be in [0, 1], got {update_prob!r}")
    try:
        day0 = np.datetime64(start, "D")
    except ValueError as exc:
        raise ConfigError(f"start must be a date YYYY-MM-DD, got {start!r}") from exc
    if s0 / tick <= levels + spread_ticks + 2:
        raise ConfigError(f"s0 / tick must exceed levels + 2 (prices stay positive), got {s0 / tick}")

    rng = np.random.default_rng(seed)
    step_ns = int(step_ms) * 1_000_000
    n_steps = int(round(session_seconds * 1000 / step_ms))
    dt = step_ms / 1000.0
    lam = trade_rate * dt
    mean_lots = 5.0

    rows: list[tuple[int, int, int, float, float]] = []  # (ev, exch_ts, local_ts, px, qty)
    flags = EXCH_EVENT | LOCAL_EVENT
    mid = float(s0)

    def new_qty() -> float:
        return float(1 + rng.geometric(1.0 / mean_lots)) * lot

    for d in range(int(days)):
        t0 = int((day0 + np.timedelta64(d, "D")).astype("datetime64[ns]").astype(np.int64))
        bids: dict[int, float] = {}
        asks: dict[int, float] = {}
        lat = 0

        def emit(kind: int, side: int, t: int, ticks: int, qty: float) -> None:
            nonlocal lat
            lat += 1_000  # 1 us apart within a step
            rows.append((kind | flags | side, t + lat, t + lat + base_lat, ticks * tick, qty))  # noqa: B023 -- called within the iteration that binds it

        for step in range(n_steps + 1):
            t = t0 + step * step_ns
            lat = 0
            base_lat = int(latency_ms * 1e6 * (0.5 + rng.random())) if latency_ms > 0 else 0
            if step > 0:
                mid += sigma_px * math.sqrt(dt) * rng.standard_normal()
                floor_px = (levels + 2) * tick
                if mid < floor_px:  # reflect: prices stay positive
                    mid = 2 * floor_px - mid
            bb = math.floor(mid / tick - (spread_ticks - 1) / 2)
            ba = bb + int(spread_ticks)
            bid_win = range(bb - levels + 1, bb + 1)
            ask_win = range(ba, ba + levels)
            if step == 0:
                emit(DEPTH_CLEAR_EVENT, BUY_EVENT, t, 0, 0.0)
                emit(DEPTH_CLEAR_EVENT, SELL_EVENT, t, 0, 0.0)
                bids = {p: new_qty() for p in bid_win}
                asks = {p: new_qty() for p in ask_win}
                for p in reversed(bid_win):
                    emit(DEPTH_SNAPSHOT_EVENT, BUY_EVENT, t, p, bids[p])
                for p in ask_win:
                    emit(DEPTH_SNAPSHOT_EVENT, SELL_EVENT, t, p, asks[p])
                continue
            # 1. deletes of levels that left the window (first: never crossed)
            for p in sorted(p for p in bids if p > bb or p <= bb - levels):
                del bids[p]
                emit(DEPTH_EVENT, BUY_EVENT, t, p, 0.0)
            for p in sorted(p for p in asks if p < ba or p >= ba + levels):
                del asks[p]
                emit(DEPTH_EVENT, SELL_EVENT, t, p, 0.0)
            # 2. new levels
            for p in bid_win:
                if p not in bids:
                    bids[p] = new_qty()
                    emit(DEPTH_EVENT, BUY_EVENT, t, p, bids[p])
            for p in ask_win:
                if p not in asks:
                    asks[p] = new_qty()
                    emit(DEPTH_EVENT, SELL_EVENT, t, p, asks[p])
            # 3. random size changes
            for book, side in ((bids, BUY_EVENT), (asks, SELL_EVENT)):
                upd = rng.random(len(book)) < update_prob
                for p, u in zip(sorted(book), upd, strict=False):
                    if u:
                        book[p] = new_qty()
                        emit(DEPTH_EVENT, side, t, p, book[p])
            # 4. market orders: buys lift the best ask, sells hit the best bid
            for _ in range(rng.poisson(lam)):
                avail = asks[ba]
                if avail > lot:
                    q = min(float(rng.integers(1, 4)) * lot, avail - lot)
                    emit(TRADE_EVENT, BUY_EVENT, t, ba, q)
                    asks[ba] = avail - q
                    emit(DEPTH_EVENT, SELL_EVENT, t, ba, asks[ba])
            for _ in range(rng.poisson(lam)):
                avail = bids[bb]
                if avail > lot:
                    q = min(float(rng.integers(1, 4)) * lot, avail - lot)
                    emit(TRADE_EVENT, SELL_EVENT, t, bb, q)
                    bids[bb] = avail - q
                    emit(DEPTH_EVENT, BUY_EVENT, t, bb, bids[bb])

    out = np.zeros(len(rows), dtype=EVENT_DTYPE)
    if rows:
        ev, exch, local, px, qty = zip(*rows, strict=False)
        out["ev"] = np.array(ev, dtype=np.uint64)
        out["exch_ts"] = exch
        out["local_ts"] = local
        out["px"] = np.round(np.array(px), 10)
        out["qty"] = qty
        out["ival"] = np.arange(len(rows))
    return out
