"""SOFR fixings as flat continuously compounded rates.

SOFR is published as an annualised overnight rate on an ACT/360 simple basis. One day of
interest grows 1 into ``1 + s / 360``; compounding that growth over the 365 days of an ACT/365F
year gives the continuously compounded rate the option pricers take:

``r = 365 ln(1 + s / 360)``

(the New York Fed, "Additional Information about Reference Rates"; ACT/365F is the time basis of
:func:`mmlab.pricing.year_fraction`).
"""

from __future__ import annotations

import numpy as np

from mmlab.errors import ConfigError

__all__ = ["sofr_to_continuous"]


def sofr_to_continuous(fixing):
    """Continuously compounded ACT/365F rate of a SOFR fixing: ``365 ln(1 + s / 360)``.

    Parameters
    ----------
    fixing : float or array-like
        SOFR fixing(s) as decimals (0.053 for 5.30 %), ACT/360 simple.

    Returns
    -------
    float or numpy.ndarray

    Raises
    ------
    ConfigError
        A non-finite fixing, or one at or below -360 (no growth factor).

    Examples
    --------
    >>> round(sofr_to_continuous(0.053), 6)   # SOFR 5.30 % on 2023-09-14
    0.053732
    >>> sofr_to_continuous([0.0, 0.01]).round(6).tolist()
    [0.0, 0.010139]
    """
    s = np.asarray(fixing, dtype=float)
    bad = ~np.isfinite(s) | (s <= -360.0)
    if bad.any():
        v = s.flat[int(np.flatnonzero(bad)[0])]
        raise ConfigError(f"fixing: a finite ACT/360 decimal rate above -360, got {v!r}")
    out = 365.0 * np.log1p(s / 360.0)
    return float(out) if out.ndim == 0 else out
