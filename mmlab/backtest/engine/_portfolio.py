"""Several instruments in one backtest, in lock-step, under portfolio-level limits.

Design: each instrument keeps its own compiled kernel, book, orders and accounts (its run state
lives in arrays, so a kernel can pause and resume, see :func:`mmlab.backtest.engine._engine.new_state`).
All instruments share one strategy clock (``start``, ``interval``). For every strategy step
``k`` at local time ``t_k``:

1. each instrument's kernel replays its events up to ``t_k`` (everything due before its step);
2. the **portfolio check** runs on the states at ``t_k``: portfolio equity (sum of the
   instruments' equity at their exchange mids) against its running peak — the drawdown breaker
   latches when ``peak - equity > max_drawdown`` and from then on every instrument cancels its
   orders and stops quoting;
3. the instruments take their step ``k`` one after the other; before instrument ``i``'s step its
   position limit for that step becomes ``min(max_position_i, (max_notional - G_others) /
   (mid_i * multiplier_i))``, where ``G_j`` is instrument ``j``'s gross exposure (the larger of
   its long and short exposure: position plus working and in-flight orders of that side, the
   strategy's view) times its local mid and multiplier, *including orders just placed at this
   step* by the instruments before it. Hence at the marks of ``t_k`` no step takes the aggregate
   exposure above ``max_notional`` (prices moving between steps can, by revaluing positions).

Events of different instruments never interact between strategy steps (each venue matches only
its own orders), so running the kernels window by window is the same as one loop over the events
merged by local time: with limits that never bind, every instrument's result equals its
single-instrument :func:`mmlab.backtest.run` with the same ``start`` (tested). An instrument
with no step ``k`` (its ``end`` is earlier) is run to its end before the check at ``k``.

The checks, the latch and the caps live in one place, :class:`_Lockstep`, which drives
*legs*: here each instrument's kernel over its whole array (:class:`_BatchLeg`), in
:class:`~mmlab.backtest.PortfolioDriver` each instrument's step driver fed a batch at a time.
The batch run and the streaming session therefore take the same decisions in the same order
(``tests/test_portfolio_driver.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mmlab.backtest.engine import _engine as E
from mmlab.backtest.engine._run import _execute, _finish, _load, _prepare
from mmlab.errors import ConfigError

__all__ = ["PortfolioLimits", "PortfolioResult", "run_portfolio"]


@dataclass(frozen=True, slots=True)
class PortfolioLimits:
    """Portfolio-level limits of :func:`run_portfolio`.

    Parameters
    ----------
    max_notional : float
        Aggregate gross exposure (position + working orders, at local mids, quote currency).
    max_drawdown : float
        Latching breaker on portfolio equity: peak minus current, quote currency.
    check_every : int
        Strategy steps between portfolio checks (1: at every step, exact). With ``n > 1`` the
        instruments run ``n - 1`` more steps between checks with the caps of the last check
        (the notional bound then holds at the checks only); far fewer kernel calls.

    Examples
    --------
    >>> PortfolioLimits(max_notional=1e6).max_drawdown
    inf
    >>> PortfolioLimits(max_notional=0.0)
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: max_notional: must be > 0, got 0.0
    """

    max_notional: float = math.inf
    max_drawdown: float = math.inf
    check_every: int = 1

    def __post_init__(self) -> None:
        if int(self.check_every) != self.check_every or self.check_every < 1:
            raise ConfigError(f"check_every: must be an integer >= 1, got {self.check_every!r}")
        for name in ("max_notional", "max_drawdown"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and v > 0) or math.isnan(v):
                raise ConfigError(f"{name}: must be > 0, got {v!r}")


class PortfolioResult:
    """Result of :func:`run_portfolio`: one :class:`BacktestResult` per instrument plus the
    portfolio view.

    Attributes
    ----------
    results : dict[str, BacktestResult]
    portfolio : pandas.DataFrame
        One row per portfolio check (every strategy step by default): ``ts``, each instrument's equity (``equity_<name>``), the
        portfolio ``equity``, the gross exposure at the check before the steps
        (``notional_before``) and after them (``notional_after``), ``halted``.
    halted_at : int or None
        Local time (ns) of the step at which the drawdown breaker latched.
    start : int
        The common ``start`` (ns) of the strategy clock.
    """

    def __init__(self, results, portfolio, limits, halted_at, start):
        self.results = results
        self.portfolio = portfolio
        self.limits = limits
        self.halted_at = halted_at
        self.start = start

    @property
    def pnl(self) -> dict:
        """Portfolio PnL parts (sums over instruments, quote currency); they add up to
        ``total``."""
        keys = ("spread", "inventory", "fees", "funding", "total")
        return {k: float(sum(r.pnl[k] for r in self.results.values())) for k in keys}

    @property
    def equity(self) -> pd.Series:
        """Portfolio equity at each step."""
        return self.portfolio.set_index("ts")["equity"]

    def summary(self) -> dict:
        """Per-instrument summaries and the portfolio totals."""
        return {"instruments": {k: r.summary() for k, r in self.results.items()},
                "portfolio": {**self.pnl, "halted_at": self.halted_at,
                              "max_notional_seen": float(self.portfolio["notional_after"].max())
                              if len(self.portfolio) else 0.0,
                              "limits": {"max_notional": self.limits.max_notional,
                                         "max_drawdown": self.limits.max_drawdown}}}

    def to_frame(self) -> pd.DataFrame:
        """The per-step portfolio table (see :attr:`portfolio`)."""
        return self.portfolio

    def plot(self):
        """Portfolio and per-instrument equity (hvplot)."""
        import hvplot.pandas  # noqa: F401

        cols = [c for c in self.portfolio.columns if c.startswith("equity")]
        return self.portfolio.set_index("ts")[cols].hvplot.line(title="portfolio equity")


def _view(job: Any, out: np.void) -> np.void:
    """``out`` (PORTFOLIO_VIEW_DTYPE) <- gross exposure, equity, local mid of one instrument."""
    orders, acc = job.state.orders, job.state.acc
    f = E.portfolio_view if job.engine == "numba" else E.portfolio_view_python
    f(*E.rows((orders, acc, job.best, job.settings, out)))
    return out


class _BatchLeg:
    """One instrument of :func:`run_portfolio`: its kernel over the whole event array (every
    pause is reached at once)."""

    def __init__(self, job: Any) -> None:
        self.job = job

    def pause(self, k: int) -> bool:
        _execute(self.job, k)
        return True

    def step(self, next_k: int) -> None:
        _execute(self.job, -1, one_step=True)


class _Lockstep:
    """The portfolio's decisions over its instruments' kernels, shared by
    :func:`run_portfolio` (kernels over whole arrays) and
    :class:`~mmlab.backtest.PortfolioDriver` (kernels fed a batch at a time), so the two
    cannot diverge.

    A *leg* is one instrument's kernel with ``job`` (its run state; ``None`` until it starts),
    ``pause(k) -> bool`` (run until just before strategy step ``k``, or to the end when the
    instrument has no step ``k``; ``False`` while rows still to come may precede that point)
    and ``step(next_k)`` (take the step it is paused at; then run no further than step
    ``next_k``). :meth:`advance` takes every check whose legs are all paused (see the module
    notes for what a check does) and returns ``True`` once no check is left.
    """

    def __init__(self, legs: dict[str, Any], limits: PortfolioLimits) -> None:
        self.legs = legs
        self.names = list(legs)
        self.limits = limits
        self.k = 0  # the strategy step of the next check
        self.peak = -math.inf
        self.halted_at: int | None = None
        self.n_steps = -1  # known once every leg has started
        self.ts0 = 0
        self.interval = 1
        self.maxpos: dict[str, float] = {}
        self.view = {n: E.record(E.PORTFOLIO_VIEW_DTYPE) for n in self.names}
        self.rows = 0
        self.last: dict[str, float] = {"equity": math.nan, "notional": 0.0}
        self._paused: set[str] = set()
        self._t = np.zeros(0, dtype=np.int64)
        self._eq = np.zeros((len(self.names), 0))
        self._tot = self._before = self._after = np.zeros(0)
        self._halt = np.zeros(0, dtype=bool)

    def _setup(self) -> bool:
        if self.n_steps >= 0:
            return True
        jobs = {n: leg.job for n, leg in self.legs.items()}
        if any(j is None for j in jobs.values()):
            return False
        first = jobs[self.names[0]]
        self.maxpos = {n: float(j.settings["maxpos"]) for n, j in jobs.items()}
        self.n_steps = max(int(j.n_steps) for j in jobs.values())
        self.ts0 = int(first.settings["tstart"])
        self.interval = int(first.settings["interval"])
        # the portfolio table, one row per check (numpy columns: 8 bytes a cell)
        n_rows = -(-self.n_steps // self.limits.check_every)
        self._t = np.zeros(n_rows, dtype=np.int64)
        self._eq = np.zeros((len(self.names), n_rows))
        self._tot, self._before, self._after = np.zeros(n_rows), np.zeros(n_rows), \
            np.zeros(n_rows)
        self._halt = np.zeros(n_rows, dtype=bool)
        return True

    @property
    def done(self) -> bool:
        """No check is left."""
        return 0 <= self.n_steps <= self.k

    def advance(self) -> bool:
        """Take every check whose legs have all reached it; ``True`` when none is left."""
        if not self._setup():
            return False
        while self.k < self.n_steps:
            k = self.k
            for n in self.names:
                if n not in self._paused:
                    if not self.legs[n].pause(k):
                        return False
                    self._paused.add(n)
            self._check(k)
            self._paused.clear()
            self.k = k + self.limits.check_every
        return True

    def _check(self, k: int) -> None:
        """The portfolio check at step ``k`` (every leg paused just before it), then the
        legs' steps ``k`` one after the other under the notional caps."""
        names, view, limits = self.names, self.view, self.limits
        jobs = {n: self.legs[n].job for n in names}
        for n in names:
            _view(jobs[n], view[n])
        eq = [float(view[n]["equity"]) for n in names]
        tot = sum(eq)
        self.peak = max(self.peak, tot)
        if self.halted_at is None and self.peak - tot > limits.max_drawdown:
            self.halted_at = self.ts0 + k * self.interval
            for n in names:
                jobs[n].settings["halt"] = 1
        g = {n: float(view[n]["exposure"]) for n in names}
        before = sum(g.values())
        bound = math.isfinite(limits.max_notional)
        next_k = k + limits.check_every
        for n in names:
            job = jobs[n]
            if bound:
                others = sum(g[m] for m in names if m != n)
                unit = float(view[n]["local_mid"]) * float(job.settings["mult"])
                cap = (limits.max_notional - others) / unit if unit > 0 else 0.0
                job.settings["maxpos"] = min(self.maxpos[n], max(cap, 0.0))
            if k < job.n_steps:
                self.legs[n].step(next_k)
                g[n] = float(_view(job, view[n])["exposure"])
        row = self.rows
        self._t[row] = self.ts0 + k * self.interval
        self._eq[:, row] = eq
        self._tot[row], self._before[row] = tot, before
        self._after[row] = sum(g.values())
        self._halt[row] = self.halted_at is not None
        self.rows = row + 1
        self.last = {"equity": tot, "notional": float(self._after[row])}

    def frame(self) -> pd.DataFrame:
        """The portfolio table so far (:attr:`PortfolioResult.portfolio`)."""
        r = self.rows
        return pd.DataFrame({"ts": self._t[:r],
                             **{f"equity_{n}": self._eq[i, :r]
                                for i, n in enumerate(self.names)},
                             "equity": self._tot[:r], "notional_before": self._before[:r],
                             "notional_after": self._after[:r], "halted": self._halt[:r]},
                            copy=False)

    def reset(self) -> None:
        """Clear the drawdown latch; the peak restarts from the last check's equity."""
        self.halted_at = None
        self.peak = self.last["equity"] if math.isfinite(self.last["equity"]) else -math.inf
        for leg in self.legs.values():
            if leg.job is not None:
                leg.job.settings["halt"] = 0


def run_portfolio(data: dict, strategy: Any, *, max_notional: float = math.inf,
                  max_drawdown: float = math.inf, check_every: int = 1,
                  settings: dict | None = None, engine: str = "numba",
                  **common: Any) -> PortfolioResult:
    """Backtest several instruments together (e.g. the BTCUSDT and ETHUSDT perpetuals).

    Parameters
    ----------
    data : dict[str, array or path]
        Instrument name -> events (as :func:`mmlab.backtest.run`'s ``data``).
    strategy : strategy or dict[str, strategy]
        One strategy for all instruments, or one per name.
    max_notional, max_drawdown : float
        Portfolio limits (:class:`PortfolioLimits`; see the module notes for how they act).
    check_every : int
        Steps between portfolio checks (default 1: every step).
    settings : dict[str, dict], optional
        Per-instrument engine settings (tick size, fees, ``max_position``...), on top of
        ``common``.
    engine : {"numba", "python"}
    **common
        Engine settings for every instrument; ``interval`` and ``start`` are shared (``start``
        defaults to the earliest timestamp over all instruments). Linear contracts only: the
        portfolio adds PnL in one quote currency.

    Returns
    -------
    PortfolioResult

    Examples
    --------
    >>> from mmlab.data import synthetic
    >>> from mmlab.backtest import GridStrategy
    >>> a = synthetic.synthetic_l2_events(session_seconds=10, seed=1)
    >>> b = synthetic.synthetic_l2_events(session_seconds=10, seed=2)
    >>> res = run_portfolio({"A": a, "B": b}, GridStrategy(0.01, 1.0), max_notional=500.0)
    >>> p = res.pnl
    >>> abs(p["spread"] + p["inventory"] + p["fees"] + p["funding"] - p["total"]) < 1e-9
    True
    """
    limits = PortfolioLimits(max_notional, max_drawdown, check_every)
    if not isinstance(data, dict) or not data:
        raise ConfigError("data: need a non-empty dict of instrument name -> events")
    settings = settings or {}
    unknown = set(settings) - set(data)
    if unknown:
        raise ConfigError(f"settings: no data for {sorted(unknown)}")
    if isinstance(strategy, dict) and set(strategy) != set(data):
        raise ConfigError("strategy: a dict of strategies needs exactly the names of data")
    loaded = {}
    for name, d in data.items():
        ev, hashes = _load(d)
        if len(ev) == 0:
            raise ConfigError(f"data[{name!r}]: no events")
        loaded[name] = (ev, hashes)
    start = common.pop("start", None)
    if start is None:
        start = min(int(min(ev["local_ts"].min(), ev["exch_ts"].min()))
                    for ev, _ in loaded.values())
    jobs: dict[str, Any] = {}
    for name, (ev, hashes) in loaded.items():
        st = {**common, **settings.get(name, {}), "start": int(start)}
        if "interval" in settings.get(name, {}):
            raise ConfigError(f"settings[{name!r}]: the interval is shared (pass it once)")
        strat = strategy[name] if isinstance(strategy, dict) else strategy
        job: Any = _prepare(ev, strat, engine, st)
        if job.cfg.inverse:
            raise ConfigError(f"settings[{name!r}]: inverse contracts cannot be summed in one "
                              "quote currency")
        if hashes:
            job.data_hashes = hashes
        job.params["portfolio"] = {"instruments": sorted(data), "max_notional": max_notional,
                                   "max_drawdown": max_drawdown}
        jobs[name] = job
    lock = _Lockstep({n: _BatchLeg(j) for n, j in jobs.items()}, limits)
    lock.advance()
    for job in jobs.values():
        _execute(job, -1)
    results = {n: _finish(j) for n, j in jobs.items()}
    return PortfolioResult(results, lock.frame(), limits, lock.halted_at, int(start))
