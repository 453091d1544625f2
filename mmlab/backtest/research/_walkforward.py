"""Walk-forward analysis: choose a configuration in sample, judge it out of sample, window by
window.

The history is cut into windows ``[train_start, train_end)`` then ``[test_start, test_end)``
(``test_start = train_end + gap``), rolled forward by ``step`` (default: the test length, so the
test windows tile the history without overlapping). In each window every configuration of the
grid is backtested on the training events only; the one with the largest ``objective`` (Sharpe by
default; ties to the first configuration) is then backtested on the test events, and its gates
are that window's verdict. The pass rate is the share of windows whose out-of-sample run passes
all gates; the study passes when it reaches :attr:`Gates.min_pass_rate`.

Each window's events are cut by exchange time, so nothing after ``train_end`` can reach the
training run. A window that starts mid-stream begins with a snapshot of the book as it stood at
its start (``DEPTH_CLEAR`` then ``DEPTH_SNAPSHOT`` per level, built with
:class:`mmlab.book.BookState` from the exchange-side events before the start only), so a long
single-day stream such as LOBSTER's AMZN day can be cut into windows; every run starts flat.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd

from mmlab.backtest.engine._gates import Gates, budget_amount
from mmlab.backtest.research._cluster import Runner, data_sha256
from mmlab.backtest.research._sweep import _pick, _rows, expand_grid, run_config
from mmlab.errors import ConfigError

__all__ = ["WalkForwardResult", "walk_forward", "walk_forward_windows", "window_events"]

_DAY = 86_400_000_000_000
_MIN = 60_000_000_000


def _ns(x, name: str, allow_zero: bool = False) -> int:
    if isinstance(x, bool):
        raise ConfigError(f"{name}: expected a duration, got {x!r}")
    if isinstance(x, int | np.integer):
        v = int(x)
    else:
        try:
            v = int(pd.Timedelta(x).value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{name}: expected a duration (ns or e.g. '2D', '30min'), got {x!r}") from None
    if v < 0 or (v == 0 and not allow_zero):
        raise ConfigError(f"{name}: must be {'>= 0' if allow_zero else '> 0'}, got {x!r}")
    return v


def walk_forward_windows(t_first: int, t_last: int, train, test, *, step=None,
                         anchored: bool = False, gap=0, origin=None) -> pd.DataFrame:
    """The windows of a walk-forward study over ``[t_first, t_last]`` (UTC ns).

    Windows start at ``origin`` (default: ``t_first`` floored to the UTC day when all lengths
    are whole days, else to the minute); window ``k`` trains on ``[origin + k step,
    origin + k step + train)`` (from ``origin`` when ``anchored``: an expanding window) and
    tests on the following ``test`` after ``gap``. Windows are kept while their test window
    starts before ``t_last``.

    Examples
    --------
    >>> d = 86_400_000_000_000
    >>> w = walk_forward_windows(5, 4 * d - 1, "2D", "1D")
    >>> (w[["train_start", "train_end", "test_start", "test_end"]] // d).values.tolist()
    [[0, 2, 2, 3], [1, 3, 3, 4]]
    """
    tr, te = _ns(train, "train"), _ns(test, "test")
    st = te if step is None else _ns(step, "step")
    gp = _ns(gap, "gap", allow_zero=True)
    if origin is None:
        unit = _DAY if all(v % _DAY == 0 for v in (tr, te, st)) else _MIN
        o = (int(t_first) // unit) * unit
    elif isinstance(origin, int | np.integer) and not isinstance(origin, bool):
        o = int(origin)
    else:
        try:
            ts = pd.Timestamp(origin)
        except (TypeError, ValueError):
            raise ConfigError(f"origin: expected UTC ns or a timestamp, got {origin!r}") from None
        o = int((ts.tz_localize("UTC") if ts.tzinfo is None else ts).value)
    rows = []
    k = 0
    while True:
        s = o + k * st
        train_start = o if anchored else s
        train_end = s + tr
        test_start = train_end + gp
        if test_start > t_last:
            break
        rows.append((k, train_start, train_end, test_start, test_start + te))
        k += 1
    if not rows:
        raise ConfigError(f"train: the data ({(t_last - t_first) / 1e9:.0f} s) is too short for "
                          f"one window of train {train!r} + test {test!r}")
    return pd.DataFrame(rows, columns=["window", "train_start", "train_end", "test_start",
                                       "test_end"])


def window_events(events: np.ndarray, start: int, end: int, *,
                  tick_size: float | None = None) -> np.ndarray:
    """The events with exchange time in ``[start, end)``, preceded (when earlier events exist)
    by a snapshot of the book at ``start`` built from the earlier exchange-side events only.

    The snapshot is a ``DEPTH_CLEAR`` per side then one ``DEPTH_SNAPSHOT`` per level, stamped
    ``start`` on both clocks, flagged EXCH | LOCAL, with the ``ival`` of the last event before
    ``start``.

    Examples
    --------
    >>> from mmlab.data import synthetic
    >>> ev = synthetic.synthetic_l2_events(session_seconds=4, seed=1, levels=3)
    >>> t = int(ev["exch_ts"][0]) + 1_999_999_000   # between two book updates
    >>> w = window_events(ev, t, t + 1_000_000_000)
    >>> int(w["exch_ts"].min()) == t, int((w["exch_ts"] == t).sum())   # 2 clears + 6 levels
    (True, 8)
    """
    from mmlab.book import BookState
    from mmlab.data import (
        BUY_EVENT,
        DEPTH_CLEAR_EVENT,
        DEPTH_SNAPSHOT_EVENT,
        EVENT_DTYPE,
        EXCH_EVENT,
        LOCAL_EVENT,
        SELL_EVENT,
    )

    if not isinstance(events, np.ndarray) or events.dtype != EVENT_DTYPE:
        raise ConfigError("data: expected an EVENT_DTYPE array")
    ts = events["exch_ts"]
    inside = events[(ts >= start) & (ts < end)]
    before = ts < start
    if len(inside) == 0 or not before.any():
        return inside
    prior = events[before]
    book = BookState(tick_size=tick_size, side="exch").apply(prior, check_crossed=False)
    nb, na = book.n_levels
    n = max(nb, na)
    flags = np.uint64(EXCH_EVENT | LOCAL_EVENT)
    snap = np.zeros(2 + nb + na, dtype=EVENT_DTYPE)
    snap["exch_ts"] = start
    snap["local_ts"] = start
    snap["ival"] = prior["ival"][-1]
    snap["ev"][0] = np.uint64(DEPTH_CLEAR_EVENT | BUY_EVENT) | flags
    snap["ev"][1] = np.uint64(DEPTH_CLEAR_EVENT | SELL_EVENT) | flags
    if n:
        top = book.top(n).to_numpy().reshape(n, 4)  # ask px, ask qty, bid px, bid qty
        snap["ev"][2:2 + nb] = np.uint64(DEPTH_SNAPSHOT_EVENT | BUY_EVENT) | flags
        snap["px"][2:2 + nb] = top[:nb, 2]
        snap["qty"][2:2 + nb] = top[:nb, 3]
        snap["ev"][2 + nb:] = np.uint64(DEPTH_SNAPSHOT_EVENT | SELL_EVENT) | flags
        snap["px"][2 + nb:] = top[:na, 0]
        snap["qty"][2 + nb:] = top[:na, 1]
    return np.concatenate([snap, inside])


@dataclasses.dataclass
class WalkForwardResult:
    """A walk-forward study.

    Attributes
    ----------
    windows : pandas.DataFrame
        One row per window: its bounds (UTC), the chosen configuration (``config`` and its
        parameters), the in-sample objective (``is_<objective>``), the out-of-sample metrics
        and gates (``total_pnl``, ``sharpe``, ``max_drawdown``, ``passed``...).
    in_sample : pandas.DataFrame
        Every configuration's training run (``window`` column + :class:`SweepResult` rows).
    pass_rate : float
        Share of windows whose out-of-sample run passed all gates.
    passed : bool
        ``pass_rate >= gates.min_pass_rate``.
    objective, gates, budget, configs, info
    """

    windows: pd.DataFrame
    in_sample: pd.DataFrame
    pass_rate: float
    passed: bool
    objective: str
    gates: Gates
    budget: object
    configs: list
    info: dict

    def to_frame(self) -> pd.DataFrame:
        """One row per window (a copy of ``windows``)."""
        return self.windows.copy()

    def summary(self) -> dict:
        """Pass rate and verdict, out-of-sample totals, how often each configuration was chosen."""
        w = self.windows
        chosen = w["config"].value_counts()
        return {
            "windows": len(w),
            "pass_rate": self.pass_rate,
            "min_pass_rate": self.gates.min_pass_rate,
            "passed": self.passed,
            "objective": self.objective,
            "oos_total_pnl": float(w["total_pnl"].sum()),
            "oos_mean_sharpe": float(w["sharpe"].mean()),
            "oos_max_drawdown": float(w["max_drawdown"].max()),
            "is_mean_" + self.objective: float(w["is_" + self.objective].mean()),
            "most_chosen_params": dict(self.configs[int(chosen.index[0])]["params"]),
            "budget": budget_amount(self.budget),
            **self.info,
        }

    def plot(self):
        """hvPlot bars of the out-of-sample PnL per window, coloured by pass/fail."""
        import hvplot.pandas  # noqa: F401

        w = self.windows.assign(test=self.windows["test_start"].dt.strftime("%m-%d %H:%M"),
                                verdict=np.where(self.windows["passed"], "pass", "fail"))
        return w.hvplot.bar(x="test", y="total_pnl", c="verdict", cmap={"pass": "seagreen",
                                                                       "fail": "firebrick"},
                            title=f"out-of-sample PnL (pass rate {self.pass_rate:.0%})",
                            rot=45)


def walk_forward(data, strategy, grid, *, train, test, step=None, anchored: bool = False,
                 gap=0, origin=None, objective: str = "sharpe", client=None, n_workers: int = 2,
                 progress: bool = True, gates: Gates | None = None, budget="small",
                 **settings) -> WalkForwardResult:
    """Walk-forward study of ``strategy`` over ``grid`` on a long event history.

    Parameters
    ----------
    data : numpy.ndarray
        ``EVENT_DTYPE`` events sorted by exchange time: e.g. a multi-day
        :func:`~mmlab.data.synthetic.synthetic_l2_events` stream, or the LOBSTER AMZN day as L2
        (``mmlab.book.l3_to_l2(load_lobster(...))``).
    strategy, grid
        As in :func:`sweep`.
    train, test, step, gap : int (ns) or str
        Window lengths (``'2D'``, ``'60min'``...); ``step`` defaults to ``test``.
    anchored : bool
        Expanding training windows, all starting at ``origin``.
    origin : int or str, optional
        Start of the first window (see :func:`walk_forward_windows`).
    objective : str
        Metric maximised in sample (a :meth:`BacktestResult.summary` key: ``'sharpe'``,
        ``'total_pnl'``...).
    client, n_workers, progress, gates, budget, **settings
        As in :func:`sweep` (``start``/``end`` are set by the windows).

    Returns
    -------
    WalkForwardResult

    Examples
    --------
    >>> from mmlab.data import synthetic
    >>> from mmlab.backtest import GridStrategy
    >>> ev = synthetic.synthetic_l2_events(session_seconds=39, seed=4)
    >>> wf = walk_forward(ev, GridStrategy(0.01, 1.0), {"half_spread": [0.0, 0.01]},
    ...                   train="10s", test="10s", client="sync", progress=False,
    ...                   max_position=3.0, origin=int(ev["exch_ts"][0]))
    >>> len(wf.windows), bool((wf.windows["train_end"] <= wf.windows["test_start"]).all())
    (3, True)
    """
    for k in ("start", "end"):
        if k in settings or (isinstance(grid, dict) and k in grid):
            raise ConfigError(f"{k}: set by the walk-forward windows, do not pass it")
    if not isinstance(data, np.ndarray):
        raise ConfigError("data: walk_forward needs the events as a numpy array (it cuts them)")
    g = Gates() if gates is None else gates
    if not isinstance(g, Gates):
        raise ConfigError(f"gates: expected a Gates, got {type(g).__name__}")
    budget_amount(budget)
    if not isinstance(objective, str):
        raise ConfigError(f"objective: expected a metric name, got {objective!r}")
    cfgs = expand_grid(strategy, grid, settings)
    if len(data) == 0:
        raise ConfigError("data: no events")
    ts = data["exch_ts"]
    if np.any(np.diff(ts) < 0):
        raise ConfigError("data: walk_forward needs events sorted by exch_ts")
    plan = walk_forward_windows(int(ts[0]), int(ts[-1]), train, test, step=step,
                                anchored=anchored, gap=gap, origin=origin)
    tick = settings.get("tick_size")
    cuts, dropped = [], []
    for w in plan.itertuples(index=False):
        tr = window_events(data, w.train_start, w.train_end, tick_size=tick)
        te = window_events(data, w.test_start, w.test_end, tick_size=tick)
        if len(tr) == 0 or len(te) == 0:
            dropped.append(int(w.window))
            continue
        cuts.append((w, tr, te))
    if not cuts:
        raise ConfigError("train: no window has events in both its train and test parts")
    t0 = time.perf_counter()
    with Runner(client, n_workers) as r:
        handles = [r.scatter(tr) for _, tr, _ in cuts]
        calls = [(h, c["strategy"], c["settings"], False) for h in handles for c in cfgs]
        outs = r.map(run_config, calls, progress=progress, label="walk-forward in-sample")
        del handles
        n = len(cfgs)
        is_frames, chosen = [], []
        for j, (w, _, _) in enumerate(cuts):
            f = _rows(cfgs, outs[j * n:(j + 1) * n], g, budget)
            f.insert(0, "window", int(w.window))
            is_frames.append(f)
            chosen.append(_pick(f, objective))
        test_calls = [(r.scatter(te), cfgs[c]["strategy"], cfgs[c]["settings"], False)
                      for (_, _, te), c in zip(cuts, chosen, strict=True)]
        oos = r.map(run_config, test_calls, progress=progress, label="walk-forward out-of-sample")
        workers = r.workers
    wall = time.perf_counter() - t0
    rows = []
    for (w, tr, te), c, isf, (m, _) in zip(cuts, chosen, is_frames, oos, strict=True):
        row: dict[str, object] = {"window": int(w.window)}
        for k in ("train_start", "train_end", "test_start", "test_end"):
            row[k] = pd.Timestamp(int(getattr(w, k)), unit="ns", tz="UTC")
        row["train_events"], row["test_events"] = len(tr), len(te)
        row["config"] = c
        row.update({k: isf.iloc[c][k] for k in cfgs[c]["params"]})
        row["is_" + objective] = float(isf.iloc[c][objective])
        row.update(m)
        row.update(g.evaluate(m, budget))
        rows.append(row)
    windows = pd.DataFrame(rows)
    rate = float(windows["passed"].mean())
    info = {"workers": workers, "wall_seconds": wall, "dropped_windows": dropped,
            "data_sha256": data_sha256(data)}
    return WalkForwardResult(windows, pd.concat(is_frames, ignore_index=True), rate,
                             g.pass_rate_ok(rate), objective, g, budget, cfgs, info)
