"""The portfolio driver: several instruments' cores fed from Python a batch at a time, under
the portfolio limits of :func:`mmlab.backtest.run_portfolio`.

:func:`~mmlab.backtest.run_portfolio` runs each instrument's kernel over its whole event array
and takes the portfolio checks (drawdown latch, notional caps) in lock-step at the strategy
steps. :class:`PortfolioDriver` runs the *same* lock-step (``_portfolio._Lockstep``, one piece
of code for both) over one :class:`~mmlab.backtest.StepDriver` per instrument: each is held
just before the next check's strategy step (the step driver's pause hook), and the check runs
once every instrument has reached it, that is once no row still to come can precede that step
(or, past an instrument's last step, once its session is over). The decisions, and their
order, are those of the batch run: on the same data and settings the two give identical fills,
positions, PnL and portfolio table (``tests/test_portfolio_driver.py``).

Nothing is read off data the driver has not been fed: each instrument's tick and lot come from
its instrument (or settings), its horizon from ``session_end``, the shared strategy clock's
``start`` from the settings or the first batch fed.

An instrument that goes quiet holds the portfolio's checks back (a check needs every
instrument's state at its time): call :meth:`PortfolioDriver.advance_to` with a live clock,
as for the step driver.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from mmlab.backtest.engine._driver import StepDriver
from mmlab.backtest.engine._portfolio import PortfolioLimits, PortfolioResult, _Lockstep
from mmlab.data import EVENT_DTYPE
from mmlab.errors import ConfigError

__all__ = ["PortfolioDriver"]


def _paused_at(d: StepDriver, k: int) -> bool:
    """True when ``d``'s core stands just before its strategy step ``k`` (or, for an
    instrument without step ``k``, at its end).

    The kernel returns at ``k == pos["kstop"]`` only when the step is its next action and no row
    still to come can precede it; otherwise it returns to wait for rows, which it does only
    when a clock has run out of rows and the action is not before the watermark
    (:func:`mmlab.backtest.engine._engine.run_kernel`'s streaming contract). Reading that
    contract back from the state tells the two returns apart."""
    job: Any = d._job
    pos = job.state.pos
    if pos["done"] == 1:
        return True
    if k >= job.n_steps or int(pos["k"]) != k:
        return False
    if pos["fin"] == 1:
        return True
    t_k = int(job.settings["tstart"]) + k * int(job.settings["interval"])
    run_out = pos["iex"] >= d._n or pos["ilo"] >= d._n
    return not (t_k >= pos["wm"] and run_out)


class _StreamLeg:
    """One instrument of the portfolio driver: its step driver, held before the next check."""

    def __init__(self, driver: StepDriver) -> None:
        self.driver = driver

    @property
    def job(self) -> Any:
        return self.driver._job

    def pause(self, k: int) -> bool:
        d = self.driver
        d._k_stop = k
        if d._job is None:
            return False
        d._run()
        return _paused_at(d, k)

    def step(self, next_k: int) -> None:
        d = self.driver
        d._run(one_step=True)
        d._k_stop = next_k


class PortfolioDriver:
    """Several instruments' trading cores driven a batch of events at a time, under one
    notional limit and one drawdown breaker (the streaming :func:`run_portfolio`).

    Parameters
    ----------
    instruments : dict[str, (instrument or dict, strategy)]
        Name -> (the instrument (an :class:`mmlab.data.Instrument` or its name in the
        instrument master) or a dict of :class:`~mmlab.backtest.BacktestConfig` settings for
        this instrument (``tick_size`` and ``lot_size`` or ``instrument``; may hold its own
        ``session_end`` and ``end``), the strategy).
    session_end : int, optional
        The session's horizon (ns) of every instrument without its own.
    end : int, optional
        The strategy's last step time (ns; default each instrument's ``session_end``).
    start : int, optional
        The shared strategy clock's start (ns; the first step is at ``start + interval``);
        default: the earliest stamp of the first batch fed.
    max_notional, max_drawdown, check_every
        The portfolio limits (:class:`PortfolioLimits`), applied as :func:`run_portfolio`
        applies them.
    engine : {"numba", "python"}
    **common
        Settings for every instrument (the ``interval`` is shared: pass it here only).

    Examples
    --------
    >>> from mmlab.data import synthetic
    >>> from mmlab.backtest import GridStrategy, run_portfolio
    >>> a = synthetic.synthetic_l2_events(session_seconds=10, seed=1)
    >>> b = synthetic.synthetic_l2_events(session_seconds=10, seed=2)
    >>> kw = dict(tick_size=0.01, lot_size=1.0, max_position=5.0)
    >>> ends = {n: int(max(e["exch_ts"].max(), e["local_ts"].max())) for n, e in
    ...         (("A", a), ("B", b))}
    >>> last = {n: int(e["local_ts"].max()) for n, e in (("A", a), ("B", b))}
    >>> t0 = int(min(a["exch_ts"].min(), a["local_ts"].min(), b["exch_ts"].min(),
    ...              b["local_ts"].min()))
    >>> g = GridStrategy(0.01, 1.0)
    >>> d = PortfolioDriver({n: ({"session_end": ends[n], "end": last[n]}, g) for n in "AB"},
    ...                     start=t0, max_notional=500.0, **kw)
    >>> for i in range(0, max(len(a), len(b)), 700):
    ...     d.feed("A", a[i:i + 700])
    ...     d.feed("B", b[i:i + 700])
    >>> res = d.finish()
    >>> ref = run_portfolio({"A": a, "B": b}, g, max_notional=500.0, **kw)
    >>> all(res.results[n].fills.equals(ref.results[n].fills) for n in "AB")
    True
    """

    def __init__(self, instruments: dict, *, session_end: int | None = None,
                 end: int | None = None, start: int | None = None,
                 max_notional: float = math.inf, max_drawdown: float = math.inf,
                 check_every: int = 1, engine: str = "numba", **common: Any) -> None:
        self.limits = PortfolioLimits(max_notional, max_drawdown, check_every)
        if not isinstance(instruments, dict) or not instruments:
            raise ConfigError("instruments: need a non-empty dict of name -> (instrument or "
                              "settings, strategy)")
        self._specs: dict[str, tuple[dict, Any]] = {}
        for name, spec in instruments.items():
            if not (isinstance(spec, tuple) and len(spec) == 2):
                raise ConfigError(f"instruments[{name!r}]: need (instrument or settings, "
                                  f"strategy), got {type(spec).__name__}")
            inst, strategy = spec
            st = dict(inst) if isinstance(inst, dict) else {"instrument": inst}
            if "interval" in st:
                raise ConfigError(f"instruments[{name!r}]: the interval is shared (pass it "
                                  "once)")
            if "start" in st:
                raise ConfigError(f"instruments[{name!r}]: the start is shared (pass it once)")
            st.setdefault("session_end", session_end)
            st.setdefault("end", end)
            if st["session_end"] is None:
                raise ConfigError(f"instruments[{name!r}]: session_end: needed (here or for "
                                  "every instrument)")
            self._specs[name] = ({**common, **st}, strategy)
        self.engine = engine
        self.start = None if start is None else int(start)
        self._kill_pending = False
        self._result: PortfolioResult | None = None
        self._build()

    def _build(self) -> None:
        """One step driver per instrument (rebuilt once when the first batch fixes ``start``:
        nothing has been fed to them then)."""
        self._drivers: dict[str, StepDriver] = {}
        for name, (st, strategy) in self._specs.items():
            st = dict(st)
            se, en = st.pop("session_end"), st.pop("end")
            if self.start is not None:
                st["start"] = self.start
            try:
                d = StepDriver(strategy, session_end=se, end=en, engine=self.engine, **st)
            except ConfigError as exc:
                raise ConfigError(f"instruments[{name!r}]: {exc}") from None
            if d.cfg.inverse:
                raise ConfigError(f"instruments[{name!r}]: inverse contracts cannot be summed "
                                  "in one quote currency")
            d._k_stop = 0  # held before the first check
            self._drivers[name] = d
        self._lock = _Lockstep({n: _StreamLeg(d) for n, d in self._drivers.items()},
                               self.limits)
        if self._kill_pending:
            for d in self._drivers.values():
                d.kill()

    # ---- feeding ---------------------------------------------------------------------------
    def _driver(self, name: str, what: str) -> StepDriver:
        if self._result is not None:
            raise ConfigError(f"{what}: the session is finished")
        d = self._drivers.get(name)
        if d is None:
            raise ConfigError(f"{what}: no instrument {name!r} (have {sorted(self._drivers)})")
        return d

    def _fix_start(self, batch: np.ndarray) -> bool:
        """Fix the shared clock's start at the first batch's earliest stamp (True if it did)."""
        if self.start is not None or not isinstance(batch, np.ndarray) \
                or batch.dtype != EVENT_DTYPE or len(batch) == 0:
            return False
        self.start = int(min(batch["exch_ts"].min(), batch["local_ts"].min()))
        self._build()
        return True

    def _feed(self, name: str, what: str, batch: np.ndarray, *more: np.ndarray) -> None:
        self._driver(name, what)
        fixed = self._fix_start(batch)
        d = self._drivers[name]
        try:
            if what == "feed":
                d.feed(batch)
            else:
                d.feed_l3(batch, *more)
        except Exception:
            if fixed:  # a refused first batch fixes nothing
                self.start = None
                self._build()
            raise
        self._lock.advance()

    def feed(self, name: str, batch: np.ndarray) -> None:
        """Append ``batch`` (``EVENT_DTYPE`` rows of instrument ``name``, in its stream
        order) and take every decision the rows received allow."""
        self._feed(name, "feed", batch)

    def feed_l3(self, name: str, stream: np.ndarray, kinds: np.ndarray,
                l3a: np.ndarray) -> None:
        """Append L3 records of instrument ``name`` (see :meth:`StepDriver.feed_l3`)."""
        self._feed(name, "feed_l3", stream, kinds, l3a)

    def advance_to(self, t: int) -> None:
        """Promise that no row fed later, of any instrument, is stamped before ``t`` (ns), and
        take every decision due before ``t``."""
        if self._result is not None:
            raise ConfigError("advance_to: the session is finished")
        for d in self._drivers.values():
            d.advance_to(t)
        self._lock.advance()

    def finish(self) -> PortfolioResult:
        """Every stream is complete: run to the end; returns the :class:`PortfolioResult`."""
        if self._result is not None:
            return self._result
        for name, d in self._drivers.items():
            if d._job is None:
                raise ConfigError(f"finish: instrument {name!r}: no event with both an "
                                  "exchange and a local clock was fed")
        for d in self._drivers.values():
            d._finished = True
            job: Any = d._job
            job.state.pos["fin"] = 1
        if not self._lock.advance():  # with every stream complete each check is reached
            raise RuntimeError("portfolio driver: a check was not reached at the end")
        results = {}
        info = {"instruments": sorted(self._drivers), "max_notional": self.limits.max_notional,
                "max_drawdown": self.limits.max_drawdown}
        for name, d in self._drivers.items():
            d._k_stop = -1
            job = d._job
            job.params["portfolio"] = info
            results[name] = d.finish()
        self._result = PortfolioResult(results, self._lock.frame(), self.limits,
                                       self._lock.halted_at, int(self.start or 0))
        return self._result

    # ---- state a session shows -------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """The instruments, in the order their steps are taken at a check."""
        return list(self._drivers)

    @property
    def drivers(self) -> dict[str, StepDriver]:
        """Each instrument's step driver (read its state; feed through this driver only)."""
        return dict(self._drivers)

    @property
    def halted_at(self) -> int | None:
        """Local time (ns) of the check at which the portfolio drawdown breaker latched."""
        return self._lock.halted_at

    @property
    def portfolio(self) -> pd.DataFrame:
        """The portfolio table so far (the columns of :attr:`PortfolioResult.portfolio`)."""
        return self._lock.frame().copy()

    def fills_since(self, name: str, k: int) -> pd.DataFrame:
        """Instrument ``name``'s fills booked after its first ``k``."""
        d = self._drivers.get(name)
        if d is None:
            raise ConfigError(f"fills_since: no instrument {name!r}")
        return d.fills_since(k)

    def snapshot(self) -> dict:
        """The portfolio now: each instrument's :meth:`StepDriver.snapshot`, the PnL summed
        over them, the portfolio equity, its peak and the gross exposure at the last check,
        the limits, the drawdown latch and the checks taken."""
        legs = {n: d.snapshot() for n, d in self._drivers.items()}
        keys = ("spread", "inventory", "fees", "funding", "total")
        lock = self._lock
        return {"instruments": legs,
                "pnl": {k: float(sum(s["pnl"][k] for s in legs.values())) for k in keys},
                "equity": lock.last["equity"], "peak": lock.peak,
                "notional": lock.last["notional"], "max_notional": self.limits.max_notional,
                "max_drawdown": self.limits.max_drawdown,
                "halted": lock.halted_at is not None or any(s["halted"] for s in legs.values()),
                "halted_at": lock.halted_at, "checks": lock.rows, "next_step": lock.k}

    def kill(self) -> None:
        """The kill switch of every instrument (:meth:`StepDriver.kill`): latched until
        :meth:`reset`."""
        if self.start is None:
            self._kill_pending = True
        for d in self._drivers.values():
            d.kill()

    def reset(self) -> None:
        """Clear every instrument's latched breakers and the portfolio's drawdown latch (its
        peak restarts from the last check's equity)."""
        self._kill_pending = False
        for d in self._drivers.values():
            d.reset()
        self._lock.reset()
