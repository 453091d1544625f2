"""Par-bond risk: the modified duration (and DV01) of a bond priced at par.

A par bond of maturity ``n`` years pays a semi-annual coupon equal to its yield ``y`` and is
priced at 100; its modified duration has the closed form

``D = (1 - (1 + y/2)^(-2n)) / y``

(the limit ``y -> 0`` is ``n``), and its DV01 per unit of notional is ``D x 1e-4``. Treasury bills
of the par yield curve are treated the same way by callers that want one number per tenor.
"""

from __future__ import annotations

import numpy as np

__all__ = ["par_bond_duration"]


def par_bond_duration(par_yield, years):
    """Modified duration of a par bond (semi-annual coupon = yield): ``(1 - (1 + y/2)^(-2n)) / y``.

    Parameters
    ----------
    par_yield : float or array-like
        Par yield (decimal, semi-annual bond basis).
    years : float or array-like
        Maturity in years (broadcasts with ``par_yield``).

    Returns
    -------
    float or numpy.ndarray
        Modified duration in years; ``years`` where the yield is zero.

    Examples
    --------
    >>> round(float(par_bond_duration(0.04, 10.0)), 4)   # 10-year 4 % par bond
    8.1758
    >>> float(par_bond_duration(0.0, 2.0))               # zero yield: the maturity
    2.0
    """
    y = np.asarray(par_yield, dtype=float)
    n = np.asarray(years, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = (1.0 - (1.0 + y / 2.0) ** (-2.0 * n)) / y
    out = np.where(np.abs(y) < 1e-12, n, d)
    return out[()] if out.ndim == 0 else out
