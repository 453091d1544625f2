"""Parameter sweeps: one backtest per point of a grid, run on Dask workers, with gates per run.

``sweep(data, strategy, grid={...}, **settings)`` expands the grid (the Cartesian product, last
key fastest) over strategy fields (``half_spread``, ``gamma``...) and engine settings
(``queue_model``, ``entry_latency``, ``seed``...), scatters the events once to every worker, runs
:func:`mmlab.backtest.run` for each configuration and returns a :class:`SweepResult`: a row of
metrics and gates per configuration.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Mapping

import numpy as np
import pandas as pd

from mmlab.backtest.engine._gates import Gates, budget_amount
from mmlab.backtest.research._cluster import Runner, data_sha256
from mmlab.errors import ConfigError

__all__ = ["SweepResult", "expand_grid", "run_config", "sweep"]

_SETTING_FIELDS = None


def _setting_fields() -> tuple[str, ...]:
    global _SETTING_FIELDS
    if _SETTING_FIELDS is None:
        from mmlab.backtest.engine._run import BacktestConfig

        _SETTING_FIELDS = tuple(f.name for f in dataclasses.fields(BacktestConfig)) + ("engine",)
    return _SETTING_FIELDS


def _strategy_config(strategy):
    """The frozen config behind a strategy (A-S / GLFT strategy objects carry a ``config``)."""
    from mmlab.backtest.engine._strategies import strategy_spec

    strategy_spec(strategy)  # a supported strategy, or ConfigError naming `strategy`
    cfg = getattr(strategy, "config", strategy)
    return cfg


def _check_settings(settings: dict, where: str) -> None:
    from mmlab.backtest.engine._run import BacktestConfig

    s = {k: v for k, v in settings.items() if k != "engine"}
    eng = settings.get("engine", "numba")
    if eng not in ("numba", "python"):
        raise ConfigError(f"{where}engine: must be 'numba' or 'python', got {eng!r}")
    try:
        BacktestConfig(**s)
    except TypeError as exc:  # an unknown keyword
        raise ConfigError(f"{where}{exc}") from None


def _name_of(msg: str, keys) -> str | None:
    for k in keys:
        if msg.startswith(f"{k}:") or msg.startswith(f"{k} "):
            return k
    return None


def expand_grid(strategy, grid: Mapping, settings: Mapping | None = None) -> list[dict]:
    """The configurations of a sweep: one ``{"params", "strategy", "settings"}`` dict per point of
    the grid (Cartesian product in key order, the last key varying fastest), every one validated.

    Raises :class:`~mmlab.errors.ConfigError` naming the argument (``grid['half_spread']``...)
    for an empty or non-list grid entry, an unknown name, a name also given as a setting, or a
    value the strategy or the engine settings reject.

    Examples
    --------
    >>> from mmlab.backtest import GridStrategy
    >>> cfgs = expand_grid(GridStrategy(0.01, 1.0), {"half_spread": [0.01, 0.02],
    ...                                              "queue_model": ["power", "log"]})
    >>> [c["params"] for c in cfgs][:2]
    [{'half_spread': 0.01, 'queue_model': 'power'}, {'half_spread': 0.01, 'queue_model': 'log'}]
    >>> expand_grid(GridStrategy(0.01, 1.0), {"half_spred": [0.01]})
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: grid['half_spred']: unknown parameter; strategy fields: ...
    """
    settings = dict(settings or {})
    if not isinstance(grid, Mapping) or len(grid) == 0:
        raise ConfigError(f"grid: must be a non-empty mapping of name -> list of values, "
                          f"got {grid!r}")
    cfg = _strategy_config(strategy)
    s_fields = tuple(f.name for f in dataclasses.fields(cfg)) if dataclasses.is_dataclass(
        cfg) else ()
    e_fields = _setting_fields()
    keys = list(grid)
    values = []
    for k in keys:
        if not isinstance(k, str):
            raise ConfigError(f"grid: names must be strings, got {k!r}")
        if k not in s_fields and k not in e_fields:
            raise ConfigError(f"grid[{k!r}]: unknown parameter; strategy fields: "
                              f"{sorted(s_fields)}, or an engine setting (BacktestConfig field)")
        if k in settings:
            raise ConfigError(f"grid[{k!r}]: also given as a fixed setting")
        v = grid[k]
        if isinstance(v, str | bytes | Mapping) or not hasattr(v, "__iter__"):
            raise ConfigError(f"grid[{k!r}]: must be a list of values, got {v!r}")
        v = list(v)
        if not v:
            raise ConfigError(f"grid[{k!r}]: empty list of values")
        values.append(v)
    _check_settings(settings, "")
    out = []
    for combo in itertools.product(*values):
        params = dict(zip(keys, combo, strict=True))
        sp = {k: v for k, v in params.items() if k in s_fields}
        ep = {k: v for k, v in params.items() if k not in s_fields}
        try:
            strat = dataclasses.replace(cfg, **sp) if sp else cfg
        except (ConfigError, TypeError, ValueError) as exc:
            k = _name_of(str(exc), sp) or next(iter(sp))
            raise ConfigError(f"grid[{k!r}] = {sp[k]!r}: {exc}") from None
        st = {**settings, **ep}
        try:
            _check_settings(st, "")
        except ConfigError as exc:
            k = _name_of(str(exc), ep)
            if k is None:
                raise
            raise ConfigError(f"grid[{k!r}] = {ep[k]!r}: {exc}") from None
        out.append({"params": params, "strategy": strat, "settings": st})
    return out


def run_config(events, strategy, settings: dict, keep: bool = False):
    """One backtest on a worker: ``(metrics, result or None)``. ``metrics`` is
    :meth:`BacktestResult.summary` plus the run's wall-clock and CPU seconds (of the thread that
    ran it: their ratio shows how much other work shared the core); with ``keep`` the full result
    comes back too (its provenance resolved first, so the event array does not travel with it)."""
    from mmlab.backtest.engine._run import run

    t0, c0 = time.perf_counter(), time.thread_time()
    res = run(events, strategy, **settings)
    m = res.summary()
    m["run_seconds"] = time.perf_counter() - t0
    m["cpu_seconds"] = time.thread_time() - c0
    if keep:
        _ = res.provenance
        return m, res
    return m, None


def _cell(v):
    if isinstance(v, int | float | str | bool | np.generic) or v is None:
        return v
    if isinstance(v, np.ndarray):
        return f"array(n={v.size}, mean={float(np.mean(v)) if v.size else math.nan:g})"
    return repr(v)


def _rows(cfgs, outs, gates: Gates, budget) -> pd.DataFrame:
    rows = []
    for i, (c, (m, _)) in enumerate(zip(cfgs, outs, strict=True)):
        r = {"config": i}
        r.update({k: _cell(v) for k, v in c["params"].items()})
        r.update(m)
        r.update(gates.evaluate(m, budget))
        rows.append(r)
    return pd.DataFrame(rows)


def _pick(frame: pd.DataFrame, objective: str, passed_only: bool = False) -> int:
    """Row position of the best configuration: the largest ``objective`` (NaN last, ties to the
    first configuration)."""
    if objective not in frame.columns:
        raise ConfigError(f"objective: no column {objective!r} in the results")
    v = pd.to_numeric(frame[objective], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(v)
    if passed_only:
        ok &= frame["passed"].to_numpy(dtype=bool)
    if not ok.any():
        raise ConfigError(f"objective: no configuration with a finite {objective!r}"
                          + (" that passed the gates" if passed_only else ""))
    v = np.where(ok, v, -np.inf)
    return int(np.argmax(v))


@dataclasses.dataclass
class SweepResult:
    """The results of a sweep: one row per configuration.

    Attributes
    ----------
    frame : pandas.DataFrame
        ``config`` (index into ``configs``), the grid parameters, the metrics of
        :meth:`BacktestResult.summary` (``total_pnl``, ``sharpe``, ``max_drawdown``...),
        ``run_seconds``, ``cpu_seconds`` and the gates (``pass_pnl``, ``pass_sharpe``,
        ``pass_drawdown``, ``passed``, ``tier``).
    configs : list of dict
        ``params``, ``strategy`` and ``settings`` of each configuration (to re-run one).
    results : list of BacktestResult or None
        The full results when the sweep ran with ``keep_results=True``.
    gates, budget
        What the gate columns were computed with.
    info : dict
        Workers, wall time, data hash.
    """

    frame: pd.DataFrame
    configs: list
    results: list | None
    gates: Gates
    budget: object
    info: dict

    def to_frame(self) -> pd.DataFrame:
        """One row per configuration (a copy of ``frame``)."""
        return self.frame.copy()

    def best(self, objective: str = "sharpe", passed_only: bool = False) -> pd.Series:
        """The row of the configuration with the largest ``objective`` (ties: the first)."""
        return self.frame.iloc[_pick(self.frame, objective, passed_only)]

    def best_config(self, objective: str = "sharpe", passed_only: bool = False) -> dict:
        """``params``, ``strategy`` and ``settings`` of :meth:`best` (to re-run it)."""
        return self.configs[_pick(self.frame, objective, passed_only)]

    def summary(self, objective: str = "sharpe") -> dict:
        """Counts of configurations and passes, the best configuration and its figures."""
        f = self.frame
        b = self.best(objective)
        return {
            "configs": len(f),
            "passed": int(f["passed"].sum()),
            "pass_pnl": int(f["pass_pnl"].sum()),
            "pass_sharpe": int(f["pass_sharpe"].sum()),
            "pass_drawdown": int(f["pass_drawdown"].sum()),
            "objective": objective,
            "best_params": dict(self.configs[int(b["config"])]["params"]),
            "best_" + objective: float(b[objective]),
            "best_total_pnl": float(b["total_pnl"]),
            "best_max_drawdown": float(b["max_drawdown"]),
            "budget": budget_amount(self.budget),
            **self.info,
        }

    def plot(self, y: str = "sharpe"):
        """hvPlot of ``y`` over the grid: a heat map for two or more parameters (the first two),
        else ``y`` against the single parameter."""
        import hvplot.pandas  # noqa: F401

        names = list(self.configs[0]["params"]) if self.configs else []
        f = self.frame
        if len(names) >= 2:
            x0, x1 = names[0], names[1]
            g = f.groupby([x0, x1], sort=True)[y].max().reset_index()
            return g.hvplot.heatmap(x=x0, y=x1, C=y, title=f"{y} (max over other parameters)")
        x = names[0] if names else "config"
        return f.hvplot.scatter(x=x, y=y, c="passed", title=y)


def sweep(data, strategy, grid: Mapping, *, client=None, n_workers: int = 2,
          progress: bool = True, gates: Gates | None = None, budget="small",
          keep_results: bool = False, **settings) -> SweepResult:
    """Backtest ``strategy`` on ``data`` for every point of ``grid``, in parallel on Dask.

    Parameters
    ----------
    data : numpy.ndarray or distributed.Future
        ``EVENT_DTYPE`` events (scattered once to every worker), or a Future already scattered.
    strategy : GridStrategy, an A-S / GLFT / adaptive-spread config or strategy, or ScriptedOrders
        The base configuration; grid names that are its fields replace them.
    grid : mapping of str -> list
        Strategy fields and/or engine settings (:class:`BacktestConfig` fields) to vary.
    client : None, "sync", str or distributed.Client
        ``None``: a new ``LocalCluster`` of ``n_workers`` single-threaded worker processes,
        closed at the end; a scheduler address; an existing ``Client`` (left open); ``"sync"``:
        run in this process, one after another.
    n_workers : int
        Workers of a new local cluster.
    progress : bool
        A text progress bar on stderr.
    gates, budget
        The :class:`Gates` (default thresholds) and the budget (tier name or capital) of the
        drawdown gate.
    keep_results : bool
        Also bring back every :class:`BacktestResult` (large: steps and fills of each run).
    **settings
        Fixed engine settings for every run (``max_position``, ``interval``, ``tick_size``...).

    Returns
    -------
    SweepResult

    Examples
    --------
    >>> from mmlab.data import synthetic
    >>> from mmlab.backtest import GridStrategy
    >>> ev = synthetic.synthetic_l2_events(session_seconds=10, seed=2)
    >>> res = sweep(ev, GridStrategy(0.01, 1.0), {"half_spread": [0.0, 0.02]}, client="sync",
    ...             progress=False, max_position=3.0)
    >>> f = res.to_frame()
    >>> len(f), list(f.columns[:2]), f["passed"].dtype.name
    (2, ['config', 'half_spread'], 'bool')
    """
    g = Gates() if gates is None else gates
    if not isinstance(g, Gates):
        raise ConfigError(f"gates: expected a Gates, got {type(g).__name__}")
    budget_amount(budget)
    cfgs = expand_grid(strategy, grid, settings)
    t0 = time.perf_counter()
    with Runner(client, n_workers) as r:
        h = r.scatter(data)
        outs = r.map(run_config, [(h, c["strategy"], c["settings"], keep_results)
                                  for c in cfgs], progress=progress, label="sweep")
        workers = r.workers
    wall = time.perf_counter() - t0
    frame = _rows(cfgs, outs, g, budget)
    info = {"workers": workers, "wall_seconds": wall, "data_sha256": data_sha256(data)}
    return SweepResult(frame, cfgs, [o[1] for o in outs] if keep_results else None, g, budget,
                       info)
