"""Feed latency and the recording machine's clock offset.

A market-data recording carries two clocks per message: the exchange's timestamp and the local
receive time. Their difference is the *feed latency*, but only if both clocks agree. In the shipped
Binance dumps the recorder's clock runs about 1.27 s **behind** Binance's, so the raw difference
``local - exch`` is negative (about -1.27 s), which is physically impossible.

The correction follows hftbacktest's ``correct_local_timestamp``: the smallest observed latency is
assumed to be the *base feed latency* (a configurable floor, e.g. the network's one-way delay), and
every local timestamp is shifted by the same constant::

    offset          = base_latency - min(local_ts - exch_ts)
    corrected_local = local_ts + offset                  # so min(corrected_local - exch) = base

Differences with hftbacktest (documented on purpose): hftbacktest shifts only when the minimum
latency is negative; mmlab always aligns the minimum to ``base_latency`` (the shipped files are in
the negative case, where both agree), and it estimates the offset only from messages that carry a
real exchange timestamp (Binance spot bookTicker messages carry none).
"""

from __future__ import annotations

import numpy as np

from mmlab.errors import ConfigError, DataError

__all__ = ["apply_clock_offset", "clock_offset_from_latency", "feed_latency"]


def feed_latency(exch_ts: np.ndarray, local_ts: np.ndarray) -> np.ndarray:
    """Feed latency ``local_ts - exch_ts`` in nanoseconds (int64).

    Examples
    --------
    >>> feed_latency(np.array([10, 20]), np.array([15, 21])).tolist()
    [5, 1]
    """
    return np.asarray(local_ts, dtype=np.int64) - np.asarray(exch_ts, dtype=np.int64)


def clock_offset_from_latency(
    exch_ts: np.ndarray, local_ts: np.ndarray, base_latency_ns: int = 0
) -> int:
    """The constant to add to ``local_ts`` so the minimum feed latency equals ``base_latency_ns``.

    Parameters
    ----------
    exch_ts, local_ts : array of int64
        Exchange and raw local timestamps (ns) of messages that carry a real exchange timestamp.
    base_latency_ns : int
        The smallest feed latency to assume (ns, >= 0).

    Returns
    -------
    int
        ``base_latency_ns - min(local_ts - exch_ts)``. Positive when the local clock is behind.

    Examples
    --------
    Local clock 1.2 s behind, true latencies 5 ms and 7 ms, base latency 1 ms:

    >>> exch = np.array([1_000_000_000, 2_000_000_000])
    >>> local = exch - 1_200_000_000 + np.array([5_000_000, 7_000_000])
    >>> clock_offset_from_latency(exch, local, base_latency_ns=1_000_000)
    1196000000
    """
    if int(base_latency_ns) != base_latency_ns or base_latency_ns < 0:
        raise ConfigError(
            f"base_latency_ns must be a non-negative integer, got {base_latency_ns!r}")
    lat = feed_latency(exch_ts, local_ts)
    if lat.size == 0:
        raise DataError("no message carries an exchange timestamp: "
                        "cannot estimate the clock offset")
    return int(base_latency_ns) - int(lat.min())


def apply_clock_offset(local_ts: np.ndarray, offset_ns: int) -> np.ndarray:
    """Local timestamps shifted by ``offset_ns`` (a new int64 array).

    Examples
    --------
    >>> apply_clock_offset(np.array([1, 2]), 10).tolist()
    [11, 12]
    """
    return np.asarray(local_ts, dtype=np.int64) + np.int64(offset_ns)
