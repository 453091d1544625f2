"""``replay(data, strategy, ...)``: a recording fed through the step driver in random batches.

The public way to drive the trading core as a session does, one batch of events at a time,
on a recording: the rows are handed over as fresh copies in batches whose sizes are drawn
uniformly in ``batch_rows`` (seeded), so the core cannot read an event before it is fed. It
returns the result type of :func:`mmlab.backtest.run`; on the same data and settings the two
give identical fills, positions and PnL (the parity tests in ``tests/test_step_driver.py``).
"""

from __future__ import annotations

import numpy as np

from mmlab.backtest import L3Events, LoopbackDriver, StepDriver, load_events, prepare_l3
from mmlab.errors import ConfigError

__all__ = ["VENUES", "replay"]

#: where the exchange side runs: ``"paper"`` (the core's simulated exchange inside the driver) or
#: ``"loopback"`` (the local side alone, the exchange side behind the venue-adapter interface)
VENUES = ("paper", "loopback")


def replay(data, strategy, *, batch_rows: tuple[int, int] = (1, 1000), batch_seed: int = 0,
           venue: str = "paper", engine: str = "numba", **settings):
    """Feed ``data`` to a :class:`~mmlab.backtest.StepDriver` in seeded random batches.

    Parameters
    ----------
    data : numpy.ndarray, L3Events or path
        ``EVENT_DTYPE`` events or a file :func:`mmlab.backtest.run` reads; L3 order events
        are rewritten by :func:`mmlab.backtest.prepare_l3` (a causal rewrite) and its records
        fed in batches (:meth:`~mmlab.backtest.StepDriver.feed_l3`).
        A dict ``{name: data}`` replays several instruments together through a
        :class:`~mmlab.backtest.PortfolioDriver` (the arguments of
        :func:`mmlab.backtest.run_portfolio`) and returns a ``PortfolioResult``.
    strategy
        Any strategy :func:`mmlab.backtest.run` takes.
    batch_rows : (int, int)
        Batch sizes are drawn uniformly from ``low`` to ``high`` rows (both included).
    batch_seed : int
        Seed of the batch sizes.
    venue : {"paper", "loopback"}
        ``"paper"``: the core's simulated exchange side runs inside the driver.
        ``"loopback"``: the local side runs alone (:class:`~mmlab.backtest.LoopbackDriver`)
        and talks to the exchange side only through request and response records, as to a
        live venue (:class:`~mmlab.backtest.SimulatedVenue` behind the
        :class:`~mmlab.backtest.VenueAdapter` interface).
    engine : {"numba", "python"}
    **settings
        :class:`~mmlab.backtest.BacktestConfig` fields; ``tick_size`` and ``lot_size`` or an
        ``instrument`` are required. ``session_end`` defaults to the recording's last timestamp
        and ``end`` to its last local timestamp (the backtest's defaults): a replayed session
        is handed its schedule, not its data.

    Returns
    -------
    BacktestResult

    Examples
    --------
    >>> from mmlab.data import synthetic
    >>> from mmlab.backtest import GridStrategy
    >>> ev = synthetic.synthetic_l2_events(session_seconds=20, seed=3)
    >>> res = replay(ev, GridStrategy(half_spread=0.01, order_qty=1.0), tick_size=0.01,
    ...              lot_size=1.0, max_position=5.0, batch_rows=(1, 50))
    >>> res.params["driver"], res.summary()["n_fills"] > 0
    ('step', True)
    """
    if venue not in VENUES:
        raise ConfigError(f"venue: one of {list(VENUES)}, got {venue!r}")
    lo, hi = _batch_range(batch_rows)
    if isinstance(data, dict):  # several instruments: the portfolio driver (run_portfolio's)
        if venue != "paper":
            raise ConfigError(f"venue: {venue!r} runs one instrument; a dict of data "
                              "replays on 'paper'")
        from mmlab.runtime._replay_portfolio import replay_portfolio

        return replay_portfolio(data, strategy, batch_rows=(lo, hi), batch_seed=batch_seed,
                                engine=engine, **settings)
    l3 = _l3_records(data, engine)
    events = l3.stream if l3 is not None else load_events(data)
    if len(events) == 0:
        raise ConfigError("data: no events")
    session_end = settings.pop("session_end", None)
    if session_end is None:
        session_end = int(max(events["exch_ts"].max(), events["local_ts"].max()))
    end = settings.pop("end", None)
    if end is None:
        end = int(events["local_ts"].max())
    cls = StepDriver if venue == "paper" else LoopbackDriver
    driver = cls(strategy, session_end=int(session_end), end=int(end), engine=engine,
                 **settings)
    rng = np.random.default_rng(batch_seed)
    i, n = 0, len(events)
    while i < n:
        m = int(rng.integers(lo, hi + 1))
        if l3 is None:
            driver.feed(events[i: i + m].copy())
        else:
            driver.feed_l3(events[i: i + m].copy(), l3.kinds[i: i + m].copy(),
                           l3.l3a[i: i + m].copy())
        i += m
    return driver.finish()


def _l3_records(data, engine):
    """The rewritten L3 records of ``data`` (``None`` for L2 data): the rewrite is causal, so
    its records are fed in batches like the market's events."""
    if isinstance(data, L3Events):
        return data
    events = load_events(data)
    kind = events["ev"] & np.uint64(0xFF)
    if not ((kind >= 10) & (kind <= 13)).any():
        return None
    return prepare_l3(events, engine=engine)


def _batch_range(batch_rows) -> tuple[int, int]:
    try:
        lo, hi = (int(v) for v in batch_rows)
        ok = 1 <= lo <= hi and (lo, hi) == tuple(batch_rows)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigError(f"batch_rows: need (low, high) integers with 1 <= low <= high, "
                          f"got {batch_rows!r}")
    return lo, hi
