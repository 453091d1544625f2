"""``replay({name: data, ...}, ...)``: several recordings fed through the portfolio driver.

The recordings are merged in arrival order (each instrument's rows keep their order; rows of
different instruments by local time) and handed over as fresh copies in batches whose sizes
are drawn uniformly in ``batch_rows`` (seeded), as a desk's feed handler receives them. It
returns the result type of :func:`mmlab.backtest.run_portfolio`; on the same data and
settings the two give identical fills, positions, PnL and portfolio table
(``tests/test_portfolio_driver.py``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mmlab.backtest import PortfolioDriver, PortfolioResult, load_events
from mmlab.errors import ConfigError

__all__ = ["merged_order", "replay_portfolio"]


def merged_order(events: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The rows of several streams merged by local time, each stream's own order kept:
    ``(stream index, row index)`` arrays (a row sorts at its stream's latest local stamp so
    far; ties go to the earlier stream).

    Examples
    --------
    >>> from mmlab.data import EVENT_DTYPE
    >>> a, b = np.zeros(3, EVENT_DTYPE), np.zeros(2, EVENT_DTYPE)
    >>> a["local_ts"], b["local_ts"] = [1, 5, 4], [2, 5]
    >>> merged_order([a, b])
    (array([0, 1, 0, 0, 1], dtype=int32), array([0, 0, 1, 2, 1]))
    """
    key = np.concatenate([np.maximum.accumulate(ev["local_ts"]) for ev in events])
    tag = np.concatenate([np.full(len(ev), j, dtype=np.int32) for j, ev in enumerate(events)])
    row = np.concatenate([np.arange(len(ev)) for ev in events])
    order = np.argsort(key, kind="stable")
    return tag[order], row[order]


def replay_portfolio(data: dict, strategy: Any, *, batch_rows: tuple[int, int], batch_seed: int,
                     engine: str = "numba", settings: dict | None = None,
                     max_notional: float = math.inf, max_drawdown: float = math.inf,
                     check_every: int = 1, **common: Any) -> PortfolioResult:
    """Feed the recordings of ``data`` to a :class:`~mmlab.backtest.PortfolioDriver` in
    seeded random batches (the arguments of :func:`mmlab.backtest.run_portfolio`, with
    ``batch_rows`` and ``batch_seed`` as :func:`mmlab.runtime.replay`'s). The session is
    handed its schedule as the backtest reads it off the recordings: the shared ``start``
    (the earliest stamp), each instrument's ``session_end`` (its last stamp) and ``end`` (its
    last local stamp), unless given."""
    lo, hi = batch_rows
    if not isinstance(data, dict) or not data:
        raise ConfigError("data: need a non-empty dict of instrument name -> events")
    settings = dict(settings or {})
    unknown = set(settings) - set(data)
    if unknown:
        raise ConfigError(f"settings: no data for {sorted(unknown)}")
    if isinstance(strategy, dict) and set(strategy) != set(data):
        raise ConfigError("strategy: a dict of strategies needs exactly the names of data")
    names = list(data)
    events = {}
    for name in names:
        ev = load_events(data[name])
        if len(ev) == 0:
            raise ConfigError(f"data[{name!r}]: no events")
        kind = ev["ev"] & np.uint64(0xFF)
        if ((kind >= 10) & (kind <= 13)).any():
            raise ConfigError(f"data[{name!r}]: L3 order events: a portfolio replay takes L2 "
                              "events (rebuild the levels with mmlab.backtest.prepare_l3 and "
                              "feed PortfolioDriver.feed_l3)")
        events[name] = ev
    start = common.pop("start", None)
    if start is None:
        start = min(int(min(ev["local_ts"].min(), ev["exch_ts"].min()))
                    for ev in events.values())
    instruments = {}
    for name, ev in events.items():
        st = {**settings.get(name, {})}
        if "session_end" not in st and "session_end" not in common:
            st["session_end"] = int(max(ev["exch_ts"].max(), ev["local_ts"].max()))
        if "end" not in st and "end" not in common:
            st["end"] = int(ev["local_ts"].max())
        instruments[name] = (st, strategy[name] if isinstance(strategy, dict) else strategy)
    driver = PortfolioDriver(instruments, start=int(start), max_notional=max_notional,
                             max_drawdown=max_drawdown, check_every=check_every, engine=engine,
                             **common)
    tag, row = merged_order([events[n] for n in names])
    rng = np.random.default_rng(batch_seed)
    i, n = 0, len(tag)
    while i < n:
        m = int(rng.integers(lo, hi + 1))
        bt, br = tag[i: i + m], row[i: i + m]
        for j, name in enumerate(names):
            rows = br[bt == j]
            if rows.size:  # an instrument's rows of a batch are consecutive in its stream
                driver.feed(name, events[name][int(rows[0]): int(rows[-1]) + 1].copy())
        i += m
    return driver.finish()
