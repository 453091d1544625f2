"""N-seed campaigns: the same configuration under N random seeds, to see how much of a result is
luck.

The seed is the engine's ``seed`` (the draws from recorded latency distributions); when ``data``
is a callable it is also the seed of the market-data stream, generated on the worker as
``data(seed=s)`` (e.g. ``functools.partial(synthetic_l2_events, days=2)``), so each run sees a
different synthetic history.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import pandas as pd

from mmlab.backtest.engine._gates import Gates, budget_amount
from mmlab.backtest.research._cluster import Runner, data_sha256
from mmlab.backtest.research._sweep import _check_settings, _strategy_config, run_config
from mmlab.errors import ConfigError

__all__ = ["CampaignResult", "run_seeded", "seed_campaign"]


def run_seeded(data, seed: int, strategy, settings: dict, keep: bool = False):
    """One campaign run on a worker: the stream ``data(seed=seed)`` when ``data`` is callable
    (else ``data`` itself) and the engine ``seed``; returns ``(metrics, result or None)``."""
    events = data(seed=seed) if callable(data) else data
    return run_config(events, strategy, {**settings, "seed": int(seed)}, keep)


@dataclasses.dataclass
class CampaignResult:
    """An N-seed campaign: one row per seed (metrics and gates).

    Attributes
    ----------
    frame : pandas.DataFrame
        ``seed``, the :meth:`BacktestResult.summary` metrics, ``run_seconds``, ``cpu_seconds``
        and the gates.
    results : list of BacktestResult or None
        With ``keep_results=True``.
    gates, budget, info
    """

    frame: pd.DataFrame
    results: list | None
    gates: Gates
    budget: object
    info: dict

    def to_frame(self) -> pd.DataFrame:
        """One row per seed (a copy of ``frame``)."""
        return self.frame.copy()

    def summary(self, level: float = 0.95) -> dict:
        """Distribution of the total PnL over seeds (mean, standard deviation, Student-t
        confidence interval of the mean at ``level``, min, max), mean Sharpe, share passing."""
        from scipy import stats

        p = self.frame["total_pnl"].to_numpy(dtype=float)
        n = p.size
        mean = float(np.mean(p))
        sd = float(np.std(p, ddof=1)) if n > 1 else math.nan
        if n > 1 and sd > 0:
            h = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
        else:
            h = 0.0 if n > 1 else math.nan
        return {
            "seeds": n,
            "mean_total_pnl": mean,
            "std_total_pnl": sd,
            f"ci{int(round(level * 100))}_low": mean - h,
            f"ci{int(round(level * 100))}_high": mean + h,
            "min_total_pnl": float(np.min(p)),
            "max_total_pnl": float(np.max(p)),
            "mean_sharpe": float(self.frame["sharpe"].mean()),
            "pass_share": float(self.frame["passed"].mean()),
            "budget": budget_amount(self.budget),
            **self.info,
        }

    def plot(self):
        """hvPlot histogram of the total PnL over seeds."""
        import hvplot.pandas  # noqa: F401

        return self.frame.hvplot.hist(y="total_pnl", bins=min(30, max(5, len(self.frame) // 2)),
                                      title=f"total PnL over {len(self.frame)} seeds")


def seed_campaign(data, strategy, *, seeds=8, client=None, n_workers: int = 2,
                  progress: bool = True, gates: Gates | None = None, budget="small",
                  keep_results: bool = False, **settings) -> CampaignResult:
    """Run one configuration under ``seeds`` seeds on Dask workers.

    Parameters
    ----------
    data : numpy.ndarray, distributed.Future or callable
        Fixed events (scattered once; the seed then only changes latency draws, so give
        ``entry_latency``/``response_latency`` as recorded distributions), or a picklable
        callable called on the worker as ``data(seed=s)`` returning the events of seed ``s``.
    strategy
        As in :func:`sweep`.
    seeds : int or list of int
        ``N`` (seeds ``0..N-1``) or the seeds themselves (distinct, >= 0).
    client, n_workers, progress, gates, budget, keep_results, **settings
        As in :func:`sweep` (``seed`` is set by the campaign).

    Returns
    -------
    CampaignResult

    Notes
    -----
    On fixed events, identical rows for every seed do not mean the seed was lost: each run
    draws its latencies with its own seed (``params['seed']`` of a kept result), but a draw
    only matters if it moves an order or a response across a market event. Events that
    arrive in bursts with quiet gaps longer than the largest draw hide it: on
    ``synthetic_l2_events`` (the book changes every ``step_ms`` = 100 ms and the strategy
    steps every 100 ms just after a burst) every entry latency below ~97 ms reaches the
    exchange in the same gap, so ``entry_latency=[1 ms, 40 ms, 90 ms]`` gives the same fills
    for every seed, and ``[1 ms, 150 ms]`` does not. On the Binance BTCUSDT file (events micro-
    to milliseconds apart) ``[1 ms, 3 ms, 8 ms]`` gives different fills per seed
    (tests/test_backtest_latency_seed.py).

    Examples
    --------
    >>> import functools
    >>> from mmlab.data import synthetic
    >>> from mmlab.backtest import GridStrategy
    >>> gen = functools.partial(synthetic.synthetic_l2_events, session_seconds=5)
    >>> c = seed_campaign(gen, GridStrategy(0.0, 1.0), seeds=3, client="sync", progress=False,
    ...                   max_position=2.0)
    >>> c.to_frame()["seed"].tolist(), c.summary()["seeds"]
    ([0, 1, 2], 3)
    """
    if "seed" in settings:
        raise ConfigError("seed: set by the campaign (pass seeds=...)")
    if isinstance(seeds, bool):
        raise ConfigError(f"seeds: expected a count or a list of seeds, got {seeds!r}")
    if isinstance(seeds, int | np.integer):
        if seeds < 1:
            raise ConfigError(f"seeds: must be >= 1, got {seeds!r}")
        seed_list = list(range(int(seeds)))
    else:
        try:
            seed_list = [int(s) for s in seeds]
        except (TypeError, ValueError):
            raise ConfigError(f"seeds: expected a count or a list of integers, got {seeds!r}") \
                from None
        if not seed_list or any(s < 0 for s in seed_list) or len(set(seed_list)) != len(
                seed_list):
            raise ConfigError(f"seeds: need distinct integers >= 0, got {seeds!r}")
    g = Gates() if gates is None else gates
    if not isinstance(g, Gates):
        raise ConfigError(f"gates: expected a Gates, got {type(g).__name__}")
    budget_amount(budget)
    strat = _strategy_config(strategy)
    _check_settings(dict(settings), "")
    t0 = time.perf_counter()
    with Runner(client, n_workers) as r:
        h = data if callable(data) else r.scatter(data)
        outs = r.map(run_seeded, [(h, s, strat, dict(settings), keep_results) for s in seed_list],
                     progress=progress, label="seed campaign")
        workers = r.workers
    wall = time.perf_counter() - t0
    rows = []
    for s, (m, _) in zip(seed_list, outs, strict=True):
        rows.append({"seed": s, **m, **g.evaluate(m, budget)})
    info = {"workers": workers, "wall_seconds": wall,
            "data_sha256": None if callable(data) else data_sha256(data),
            "data_per_seed": bool(callable(data))}
    return CampaignResult(pd.DataFrame(rows), [o[1] for o in outs] if keep_results else None, g,
                          budget, info)
