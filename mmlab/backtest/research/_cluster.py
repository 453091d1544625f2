"""Where research runs execute: a Dask ``LocalCluster`` (default), an existing scheduler, or this
process; the data is scattered once to every worker and each task returns compact metrics.

Workers are separate processes with one thread each (``LocalCluster(processes=True,
threads_per_worker=1)``): each backtest also builds pandas tables, which hold the GIL, so
processes scale where threads sharing one interpreter would not.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np

from mmlab.errors import ConfigError

__all__ = ["Runner", "research_client", "warm_worker"]

SYNC = "sync"


def warm_worker() -> float:
    """Load the compiled engine in this process (numba's on-disk cache) by running a tiny
    backtest; returns the seconds it took. Run on every worker before timing anything."""
    t0 = time.perf_counter()
    from mmlab.backtest.engine._run import run
    from mmlab.backtest.engine._strategies import GridStrategy
    from mmlab.data import synthetic

    ev = synthetic.synthetic_l2_events(session_seconds=2, seed=0)
    run(ev, GridStrategy(half_spread=0.01, order_qty=1.0), max_position=2.0).summary()
    return time.perf_counter() - t0


def research_client(address: str | None = None, n_workers: int = 2, *, warm: bool = True):
    """A ``distributed.Client``: to the scheduler at ``address`` (default: Dask's configured
    ``scheduler-address``, e.g. from ``DASK_SCHEDULER_ADDRESS``), or to a new
    ``LocalCluster(n_workers, threads_per_worker=1, processes=True)`` (no dashboard); with
    ``warm``, every worker has loaded the compiled engine before it returns.

    Close it with ``client.close()`` (a local cluster closes with it) or use it as a context
    manager.
    """
    import dask
    from distributed import Client

    if address is None:  # a scheduler configured the Dask way (DASK_SCHEDULER_ADDRESS)
        address = dask.config.get("scheduler-address", None) or None
    if address is not None:
        if not isinstance(address, str) or not address:
            raise ConfigError(f"client: expected a scheduler address string, got {address!r}")
        try:
            client = Client(address, timeout="10s")
        except OSError as e:
            raise ConfigError(f"client: no Dask scheduler reachable at {address!r} "
                              f"({type(e).__name__})") from None
    else:
        if int(n_workers) != n_workers or n_workers < 1:
            raise ConfigError(f"n_workers: must be a positive integer, got {n_workers!r}")
        # a Client that starts its own LocalCluster closes it on client.close()
        # (no dashboard; the scheduler's own HTTP endpoint on a free port, not 8787)
        client = Client(n_workers=int(n_workers), threads_per_worker=1, processes=True,
                        dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"},
                        silence_logs=logging.ERROR)
    if warm:
        client.run(warm_worker)
    return client


class _Bar:
    """Progress of a batch of calls: a ``tqdm`` bar (``tqdm.auto``: a widget in notebooks, text on
    stderr in a terminal)."""

    def __init__(self, total: int, label: str, enabled: bool):
        from tqdm.auto import tqdm

        self.n = 0
        self._bar = tqdm(total=total, desc=label, disable=not enabled, file=sys.stderr,
                         leave=True, mininterval=0.25)

    def update(self, n: int = 1) -> None:
        self.n += n
        self._bar.update(n)
        if self.n >= self._bar.total:
            self._bar.close()


class Runner:
    """Runs ``fn(*args)`` calls on Dask workers (or in this process) and returns their results in
    order.

    Parameters
    ----------
    client : None, "sync", str or distributed.Client
        ``None``: start a ``LocalCluster`` of ``n_workers`` single-threaded processes (closed at
        the end); ``"sync"``: run here, one call after another; a string: the address of a
        running scheduler; a ``Client``: use it as it is (left open).
    n_workers : int
        Workers of a new local cluster.

    Examples
    --------
    >>> with Runner("sync") as r:
    ...     h = r.scatter(np.arange(3))
    ...     r.map(np.sum, [(h,), (h,)], progress=False)
    [np.int64(3), np.int64(3)]
    """

    def __init__(self, client=None, n_workers: int = 2):
        self._spec = client
        self.n_workers = n_workers
        self.client = None
        self._own = False
        if not (client is None or client == SYNC or isinstance(client, str)
                or _is_client(client)):
            raise ConfigError(
                f"client: expected None, 'sync', a scheduler address or a distributed.Client, "
                f"got {type(client).__name__}")
        if client is None and (int(n_workers) != n_workers or n_workers < 1):
            raise ConfigError(f"n_workers: must be a positive integer, got {n_workers!r}")

    @property
    def workers(self) -> int:
        """Number of workers (1 when running in this process)."""
        if self.client is None:
            return 1
        return len(self.client.scheduler_info()["workers"])

    def __enter__(self) -> Runner:
        spec = self._spec
        if spec == SYNC:
            return self
        if _is_client(spec):
            self.client = spec
            return self
        self.client = research_client(spec, self.n_workers, warm=False)
        self._own = True
        return self

    def __exit__(self, *exc) -> None:
        if self._own and self.client is not None:
            self.client.close()
        self.client = None

    def scatter(self, data):
        """Send ``data`` to every worker once (``broadcast=True``); returns the handle to pass in
        call arguments. A Dask ``Future`` is returned unchanged."""
        if self.client is None or _is_future(data):
            return data
        return self.client.scatter(data, broadcast=True, hash=False)

    def map(self, fn: Callable, calls: Sequence[tuple], *, progress: bool = True,
            label: str = "runs") -> list:
        """``[fn(*args) for args in calls]``, on the workers; the first error cancels the rest
        and is raised here."""
        bar = _Bar(len(calls), label, bool(progress))
        if self.client is None:
            out = []
            for args in calls:
                out.append(fn(*args))
                bar.update()
            return out
        from distributed import as_completed

        futs = [self.client.submit(fn, *args, pure=False) for args in calls]
        index = {f.key: i for i, f in enumerate(futs)}
        out = [None] * len(futs)
        try:
            for f in as_completed(futs):
                out[index[f.key]] = f.result()
                bar.update()
        except BaseException:
            self.client.cancel(futs)
            raise
        return out


def _is_client(obj) -> bool:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover
        return False
    return isinstance(obj, Client)


def _is_future(obj) -> bool:
    try:
        from distributed import Future
    except ImportError:  # pragma: no cover
        return False
    return isinstance(obj, Future)


def data_sha256(events) -> str | None:
    """sha256 of an event array's bytes (provenance of a sweep); None for a scattered Future."""
    if not isinstance(events, np.ndarray):
        return None
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(events).view(np.uint8).data).hexdigest()
