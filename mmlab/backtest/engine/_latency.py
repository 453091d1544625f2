"""Order-entry and response latencies: a constant, or a recorded distribution to draw from."""

from __future__ import annotations

import numpy as np

from mmlab.errors import ConfigError

__all__ = ["latency_array"]


def latency_array(value, name: str) -> np.ndarray:
    """Latency setting -> int64 nanoseconds array (length 1: constant; longer: drawn uniformly,
    with the run's seed, from these recorded values).

    Examples
    --------
    >>> latency_array(1_000_000, "entry_latency").tolist()
    [1000000]
    >>> latency_array([1, 2, 3], "entry_latency").tolist()
    [1, 2, 3]
    >>> latency_array(-1, "entry_latency")
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: entry_latency: latencies must be finite integers >= 0 (ns)
    """
    a = np.atleast_1d(np.asarray(value))
    if a.ndim != 1 or a.size == 0:
        raise ConfigError(f"{name}: need a number or a non-empty 1-d array of nanoseconds")
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise ConfigError(f"{name}: latencies must be finite integers >= 0 (ns)")
    elif a.dtype.kind not in "iu":
        raise ConfigError(f"{name}: latencies must be finite integers >= 0 (ns)")
    a = a.astype(np.int64)
    if np.any(a < 0):
        raise ConfigError(f"{name}: latencies must be finite integers >= 0 (ns)")
    return np.ascontiguousarray(a)
