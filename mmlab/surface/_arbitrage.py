"""Static-arbitrage checks of volatility smiles and surfaces, and the SVI repair.

Butterfly (Gatheral & Jacquier 2014, sec. 2): a slice ``w(k)`` is free of butterfly
arbitrage iff Gatheral's ``g(k) = (1 - k w'/(2w))^2 - (w'^2/4)(1/w + 1/4) + w''/2 >= 0`` (the
risk-neutral density is ``g(k)/sqrt(2 pi w) exp(-d_-(k)^2/2)``) and ``d_+(k) -> -inf`` as
``k -> inf``.  Checked on a grid of log-moneyness.

Calendar (their Lemma 2.1): free of calendar spread arbitrage iff the total variance
``w(k, T)`` is non-decreasing in ``T`` at every fixed ``k``.  Checked between consecutive
slices on a shared grid.

Repair (:func:`repair_svi`): re-fit one raw SVI slice to the same weighted objective with
``g(k_j) >= 0`` on its grid and ``w(k_j) >= w_prev(k_j)`` against the previous (shorter) slice as
explicit constraints (SciPy SLSQP, starting from the unconstrained quasi-explicit fit).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from mmlab.surface._svi import SVIParams, svi_density_g, svi_total_variance

__all__ = ["butterfly_check", "calendar_check", "check_grid", "repair_svi"]

#: Tolerances of the checks: ``g >= -G_TOL`` is butterfly-free; a total-variance decrease smaller
#: than ``W_TOL + W_RTOL * w`` is numerical noise (1e-6 of w is ~1e-7 of a vol point), not arbitrage.
G_TOL = 1e-9
W_TOL = 1e-12
W_RTOL = 1e-6
#: Margin of the repair's calendar constraint, relative to the slice's largest total variance.
CAL_MARGIN = 1e-5


def check_grid(k_quoted, n: int = 201, margin: float = 0.5) -> np.ndarray:
    """Grid for the checks: the quoted log-moneyness range widened by ``margin`` x its span.

    Examples
    --------
    >>> g = check_grid([-0.1, 0.1], n=5)
    >>> g.round(3).tolist()
    [-0.2, -0.1, 0.0, 0.1, 0.2]
    """
    k = np.asarray(k_quoted, dtype=float)
    lo, hi = float(np.nanmin(k)), float(np.nanmax(k))
    span = max(hi - lo, 1e-3)
    return np.linspace(lo - margin * span, hi + margin * span, n)


def butterfly_check(params: SVIParams, k) -> tuple[bool, float, float]:
    """``(ok, min g, k at the min)`` of a raw SVI slice on the grid ``k``.

    Examples
    --------
    The Axel Vogt slice of Gatheral & Jacquier (2014, eq. 3.4 and fig. 1) has butterfly
    arbitrage (``g < 0`` for ``k`` between about 0.65 and 1.25):

    >>> vogt = SVIParams(-0.0410, 0.1331, 0.3060, 0.3586, 0.4153)
    >>> ok, gmin, kmin = butterfly_check(vogt, np.linspace(-1.5, 1.5, 301))
    >>> ok, round(kmin, 1)
    (False, 0.9)
    """
    g = svi_density_g(np.asarray(k, dtype=float), *params.as_tuple())
    i = int(np.argmin(g))
    gmin = float(g[i])
    return bool(gmin >= -G_TOL), gmin, float(np.asarray(k)[i])


def calendar_check(w_short, w_long, k) -> tuple[bool, float, float]:
    """``(ok, min(w_long - w_short), k at the min)`` for two slices' total variances on ``k``
    (tolerance ``W_TOL + W_RTOL w``).

    ``w_short``/``w_long`` are callables ``k -> w`` (shorter and longer maturity).

    Examples
    --------
    >>> s = SVIParams(0.01, 0.1, -0.5, 0.0, 0.1); l = SVIParams(0.02, 0.1, -0.5, 0.0, 0.1)
    >>> calendar_check(s.total_variance, l.total_variance, np.linspace(-1, 1, 11))[:2]
    (True, 0.01)
    """
    k = np.asarray(k, dtype=float)
    ws = np.asarray(w_short(k), dtype=float)
    gap = np.asarray(w_long(k), dtype=float) - ws
    i = int(np.argmin(gap))
    ok = bool(np.all(gap >= -(W_TOL + W_RTOL * np.abs(ws))))
    return ok, float(gap[i]), float(k[i])


def repair_svi(
    params: SVIParams,
    k,
    w_target,
    omega,
    k_grid,
    w_lower=None,
    k_cal=None,
    margin: float = 1e-4,
    maxiter: int = 100,
) -> tuple[SVIParams, bool]:
    """Constrained re-fit of a raw SVI slice (butterfly and, optionally, calendar).

    Parameters
    ----------
    params : SVIParams
        Starting point (the unconstrained fit).
    k, w_target, omega : numpy.ndarray
        The fitted points: log-moneyness, target total variance, weights (as in the fit).
    k_grid : numpy.ndarray
        Grid on which ``g(k) >= margin`` is imposed.
    w_lower : callable, optional
        Total variance of the previous (shorter) slice: ``w(k) >= w_lower(k) + 1e-5 max|w_target|`` on
        ``k_cal`` (default ``k_grid``).
    margin : float, default 1e-4
        Safety margin on ``g`` (``g`` is of order 1 near the money), so the density stays
        positive between grid points too.
    maxiter : int, default 100
        SLSQP iterations.

    Returns
    -------
    tuple of (SVIParams, bool)
        The repaired parameters and whether all constraints hold at them.

    Examples
    --------
    >>> vogt = SVIParams(-0.0410, 0.1331, 0.3060, 0.3586, 0.4153)
    >>> k = np.linspace(-1.0, 1.0, 41); w = vogt.total_variance(k)
    >>> fixed, ok = repair_svi(vogt, k, w, np.ones_like(k), np.linspace(-1.5, 1.5, 151))
    >>> ok, butterfly_check(fixed, np.linspace(-1.5, 1.5, 301))[0]
    (True, True)
    """
    k = np.asarray(k, dtype=float)
    wt = np.asarray(w_target, dtype=float)
    om = np.asarray(omega, dtype=float)
    kg = np.asarray(k_grid, dtype=float)
    kc = kg if k_cal is None else np.asarray(k_cal, dtype=float)
    lower = None if w_lower is None else np.asarray(w_lower(kc), dtype=float)
    scale_w = max(float(np.max(np.abs(wt))), 1e-12)

    def unpack(x):
        a, b, rho, m, s = x
        return a * scale_w, b, rho, m, s

    def obj(x):
        w = svi_total_variance(k, *unpack(x))
        r = (w - wt) / scale_w
        return float(np.sum(om * r * r))

    def cons(x):
        p = unpack(x)
        w = svi_total_variance(kg, *p)
        wpos = w / scale_w - 1e-9
        g = svi_density_g(kg, *p)
        g = np.where(np.isfinite(g), g, -1e3)
        out = [g - margin, wpos]
        if lower is not None:
            out.append((svi_total_variance(kc, *p) - lower) / scale_w - CAL_MARGIN)
        return np.concatenate(out)

    x0 = np.array([params.a / scale_w, params.b, params.rho, params.m, params.sigma])
    f0 = obj(x0)
    res = minimize(
        lambda x: obj(x) / max(f0, 1e-6 * float(np.sum(om))),
        x0,
        method="SLSQP",
        bounds=[(None, None), (0.0, None), (-0.999, 0.999), (None, None), (1e-5, None)],
        constraints=[{"type": "ineq", "fun": cons}],
        options={"maxiter": int(maxiter), "ftol": 1e-12},
    )
    a, b, rho, m, s = unpack(res.x)
    out = SVIParams(float(a), float(b), float(rho), float(m), float(s))
    # SLSQP often stops with 'positive directional derivative' at the constrained optimum: judge
    # the result by its constraints, not by its status
    c = cons(res.x)
    ng = kg.size
    ok = bool(np.all(np.isfinite(res.x))) and bool(np.min(c[:ng]) >= -0.5 * margin) and bool(np.min(c[ng:]) >= -0.5 * CAL_MARGIN)
    return out, ok
