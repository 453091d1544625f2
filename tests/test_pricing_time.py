"""Time to expiry: ACT/365F of exact elapsed nanoseconds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmlab.errors import ConfigError
from mmlab.pricing import NS_PER_YEAR, bsm_price, to_ns, year_fraction


def test_year_fraction_exact_minutes():
    # SPY's 2023-09-15 options stop trading 16:00 ET = 20:00 UTC (EDT, UTC-4).
    expiry = pd.Timestamp("2023-09-15 16:00", tz="America/New_York")
    now = pd.Timestamp("2023-09-15 15:30", tz="America/New_York")
    assert year_fraction(now, expiry) == pytest.approx(30 / (365 * 24 * 60), rel=1e-15)
    # one full ACT/365F year
    assert year_fraction(0, NS_PER_YEAR) == 1.0
    # 2024 is a leap year: 366 days -> 366/365 under ACT/365F
    assert year_fraction("2024-01-01", "2025-01-01") == pytest.approx(366 / 365, rel=1e-15)


def test_year_fraction_vectorised_and_sign():
    now = to_ns("2023-09-14T14:00:00Z")
    exp = to_ns(pd.DatetimeIndex(["2023-09-14T20:00:00Z", "2023-09-15T20:00:00Z",
                                  "2023-09-14T13:00:00Z"]))
    t = year_fraction(now, exp)
    np.testing.assert_allclose(t * 365 * 24, [6.0, 30.0, -1.0], rtol=1e-14)
    assert t[2] < 0
    with pytest.raises(ConfigError, match="t must be >= 0"):
        bsm_price("c", 100.0, 100.0, t, 0.0, 0.2)


def test_nanosecond_resolution_is_kept():
    a = to_ns("2023-09-15T19:59:59.999999999Z")
    b = to_ns("2023-09-15T20:00:00Z")
    assert year_fraction(a, b) == pytest.approx(1e-9 / (365 * 86400), rel=1e-6)


def test_bad_timestamp_raises():
    with pytest.raises(ConfigError, match="start"):
        year_fraction("not a date", "2023-09-15")
