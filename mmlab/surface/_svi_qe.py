"""The quasi-explicit SVI calibration's kernels (Zeliade 2009): exact inner solve, outer search.

The maths is in :mod:`mmlab.surface._svi` (module notes): for fixed ``(m, sigma)`` the raw SVI
fit is a 3-variable box-constrained weighted least squares in ``(a, u, v)``, solved exactly by
enumerating the 27 active sets (:func:`qe_inner`); the outer problem over ``(m, ln sigma)`` is a
grid (:func:`qe_grid`) then a bounded Nelder-Mead compiled with the inner solve
(:func:`qe_nelder_mead`). Each compiled kernel has a plain-Python twin (``*_python``) with the
same arguments and results, for tests and debugging.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = [
    "QE_IWS",
    "QE_WS",
    "qe_grid",
    "qe_inner",
    "qe_inner_python",
    "qe_inner_ws",
    "qe_inner_ws_python",
    "qe_nelder_mead",
    "qe_nelder_mead_python",
]


# ---------------------------------------------------------------------------------------------
# the inner problem: 3-variable box-constrained weighted least squares, exact


QE_WS = 42  # scratch sizes of qe_inner_ws
QE_IWS = 6


def qe_inner_python(k, wt, omega, m, sigma, a_lo, a_hi, out):
    """Exact inner solve of the quasi-explicit SVI fit for fixed ``(m, sigma)`` (plain twin).

    Minimises ``sum omega_i (a + u f1_i + v f2_i - wt_i)^2`` over the box ``a_lo <= a <= a_hi``,
    ``0 <= u, v <= 4 sigma`` with ``f1 = (s + y)/2``, ``f2 = (s - y)/2``, ``y = (k - m)/sigma``,
    ``s = sqrt(1 + y^2)``, by trying all 27 active sets (free / at lower / at upper bound per
    variable) and keeping the best feasible candidate: the problem is convex, so its minimiser is
    one of them.  The all-free set is tried first; when its solution lies in the box it is the
    minimiser and the other 26 are skipped.

    Parameters
    ----------
    k, wt, omega : numpy.ndarray
        Log-moneyness, target total variance, weights (``>= 0``).
    m, sigma : float
        The outer variables (``sigma > 0``).
    a_lo, a_hi : float
        Bounds of ``a``.
    out : numpy.ndarray
        Length 3, receives ``(a, u, v)``.

    Returns
    -------
    float
        The weighted sum of squared residuals at the optimum (``inf`` if nothing is feasible).
    """
    return qe_inner_ws_python(k, wt, omega, m, sigma, a_lo, a_hi, out, np.empty(QE_WS), np.empty(QE_IWS, np.int64))


def qe_inner_ws_python(k, wt, omega, m, sigma, a_lo, a_hi, out, ws, iws):
    """:func:`qe_inner_python` with caller-owned scratch space (plain twin of ``qe_inner_ws``).

    ``ws`` (float64, length ``QE_WS``) and ``iws`` (int64, length ``QE_IWS``) hold the normal
    equations, the elimination tableau and the candidate; the outer searches allocate them once
    instead of once per inner solve (the inner solve is a few hundred flops, so allocations were
    most of its cost).  The arithmetic is that of :func:`qe_inner_python`, operation for operation.
    """
    n = k.shape[0]
    M = ws[0:9].reshape((3, 3))
    A = ws[9:21].reshape((3, 4))
    r = ws[21:24]
    f = ws[24:27]
    lo = ws[27:30]
    hi = ws[30:33]
    x = ws[33:36]
    xf = ws[36:39]
    rr = ws[39:42]
    free = iws[0:3]
    sts = iws[3:6]
    # normal equations M x = r with f = (1, (s + y)/2, (s - y)/2), accumulated in scalars
    # (each sum term by term as wi * f[p] * f[q]; the factors 1.0 are exact)
    m00 = m01 = m02 = m11 = m12 = m21 = m22 = 0.0
    r0 = r1 = r2 = 0.0
    c0 = 0.0
    for i in range(n):
        y = (k[i] - m) / sigma
        s = math.sqrt(1.0 + y * y)
        f1 = 0.5 * (s + y)
        f2 = 0.5 * (s - y)
        wi = omega[i]
        w_ = wt[i]
        r0 += wi * w_
        r1 += wi * f1 * w_
        r2 += wi * f2 * w_
        m00 += wi
        m01 += wi * f1
        m02 += wi * f2
        m11 += wi * f1 * f1
        m12 += wi * f1 * f2
        m21 += wi * f2 * f1
        m22 += wi * f2 * f2
        c0 += wi * w_ * w_
    f[0] = 1.0
    r[0], r[1], r[2] = r0, r1, r2
    M[0, 0], M[0, 1], M[0, 2] = m00, m01, m02
    M[1, 0], M[1, 1], M[1, 2] = m01, m11, m12
    M[2, 0], M[2, 1], M[2, 2] = m02, m21, m22
    scale = M[0, 0] + M[1, 1] + M[2, 2] + 1e-300
    lo[0] = a_lo
    lo[1] = 0.0
    lo[2] = 0.0
    hi[0] = a_hi
    hi[1] = 4.0 * sigma
    hi[2] = 4.0 * sigma
    best = np.inf
    for state in range(27):
        sts[0] = state % 3
        sts[1] = (state // 3) % 3
        sts[2] = state // 9
        nf = 0
        for p in range(3):
            if sts[p] == 0:
                free[nf] = p
                nf += 1
            elif sts[p] == 1:
                x[p] = lo[p]
            else:
                x[p] = hi[p]
        ok = True
        if nf > 0:
            # right-hand side with the fixed variables moved across
            for p in range(3):
                rr[p] = r[p]
                for q in range(3):
                    if sts[q] != 0:
                        rr[p] -= M[p, q] * x[q]
            # Gaussian elimination with partial pivoting on the nf x nf free block
            for i in range(nf):
                for j in range(nf):
                    A[i, j] = M[free[i], free[j]]
                A[i, 3] = rr[free[i]]
            for col in range(nf):
                piv = col
                big = abs(A[col, col])
                for i in range(col + 1, nf):
                    if abs(A[i, col]) > big:
                        big = abs(A[i, col])
                        piv = i
                if big <= 1e-13 * scale:
                    ok = False
                    break
                if piv != col:
                    for j in range(4):
                        tmp = A[col, j]
                        A[col, j] = A[piv, j]
                        A[piv, j] = tmp
                for i in range(col + 1, nf):
                    fac = A[i, col] / A[col, col]
                    for j in range(col, 4):
                        A[i, j] -= fac * A[col, j]
            if ok:
                for i in range(nf - 1, -1, -1):
                    acc = A[i, 3]
                    for j in range(i + 1, nf):
                        acc -= A[i, j] * xf[j]
                    xf[i] = acc / A[i, i]
                for i in range(nf):
                    p = free[i]
                    v = xf[i]
                    tol = 1e-12 * (1.0 + abs(hi[p] - lo[p]))
                    if v < lo[p] - tol or v > hi[p] + tol:
                        ok = False
                        break
                    x[p] = min(max(v, lo[p]), hi[p])
        if not ok:
            continue
        obj = c0
        for p in range(3):
            obj -= 2.0 * r[p] * x[p]
            for q in range(3):
                obj += x[p] * M[p, q] * x[q]
        if obj < best:
            best = obj
            out[0] = x[0]
            out[1] = x[1]
            out[2] = x[2]
        if state == 0:
            break  # the unconstrained minimiser is feasible: it is the box optimum (convexity)
    return max(best, 0.0) if best < np.inf else best


qe_inner_ws = njit(cache=True)(qe_inner_ws_python)


@njit(cache=True)
def qe_inner(k, wt, omega, m, sigma, a_lo, a_hi, out):
    """Compiled :func:`qe_inner_python` (same arguments and result)."""
    return qe_inner_ws(k, wt, omega, m, sigma, a_lo, a_hi, out, np.empty(QE_WS), np.empty(QE_IWS, np.int64))


@njit(cache=True)
def qe_grid(k, wt, omega, ms, sigmas, a_lo, a_hi):
    out = np.empty((ms.shape[0], sigmas.shape[0]))
    x = np.zeros(3)
    ws = np.empty(QE_WS)
    iws = np.empty(QE_IWS, np.int64)
    for i in range(ms.shape[0]):
        for j in range(sigmas.shape[0]):
            out[i, j] = qe_inner_ws(k, wt, omega, ms[i], sigmas[j], a_lo, a_hi, x, ws, iws)
    return out


def qe_nelder_mead_python(k, wt, omega, z0, step, lo, hi, a_lo, a_hi, xatol, maxiter, out):
    """Outer search of the quasi-explicit fit: Nelder-Mead over ``z = (m, ln sigma)`` (plain twin).

    Standard coefficients (reflection 1, expansion 2, contraction 1/2, shrink 1/2); trial points
    are clipped to the box ``[lo, hi]``.  Stops when the simplex is smaller than ``xatol`` in
    both coordinates and its objective values agree to 1e-12 relative, when an iteration leaves
    the simplex exactly unchanged (collapsed to a point whose objective values still differ in
    the last digits: every further iteration would repeat it), or after ``maxiter`` iterations.

    Parameters
    ----------
    k, wt, omega : numpy.ndarray
        The fitted points (see :func:`qe_inner_python`).
    z0, step, lo, hi : numpy.ndarray
        Start, initial simplex step, and box of ``(m, ln sigma)``; length 2.
    a_lo, a_hi : float
        Bounds of ``a`` for the inner problem.
    xatol : float
    maxiter : int
    out : numpy.ndarray
        Length 2, receives the best ``z``.

    Returns
    -------
    tuple of (float, int)
        Best objective and the number of inner solves.
    """
    x3 = np.zeros(3)
    ws = np.empty(QE_WS)
    iws = np.empty(QE_IWS, np.int64)
    P = np.empty((3, 2))
    F = np.empty(3)
    for i in range(3):
        for j in range(2):
            P[i, j] = z0[j]
        if i > 0:
            P[i, i - 1] += step[i - 1]
        for j in range(2):
            P[i, j] = min(max(P[i, j], lo[j]), hi[j])
        F[i] = qe_inner_ws(k, wt, omega, P[i, 0], math.exp(P[i, 1]), a_lo, a_hi, x3, ws, iws)
    nfev = 3
    c = np.empty(2)
    xr = np.empty(2)
    xe = np.empty(2)
    xc = np.empty(2)
    Pp = np.empty((3, 2))
    Fp = np.empty(3)
    for it in range(maxiter):
        if it > 0:
            # a step that changed nothing will change nothing again (the iteration is
            # deterministic): stop, with the result maxiter iterations would give
            same = True
            for i in range(3):
                if F[i] != Fp[i] or P[i, 0] != Pp[i, 0] or P[i, 1] != Pp[i, 1]:
                    same = False
            if same:
                break
        for i in range(3):
            Fp[i] = F[i]
            Pp[i, 0] = P[i, 0]
            Pp[i, 1] = P[i, 1]
        # order the simplex
        for i in range(1, 3):
            j = i
            while j > 0 and F[j] < F[j - 1]:
                F[j], F[j - 1] = F[j - 1], F[j]
                for q in range(2):
                    P[j, q], P[j - 1, q] = P[j - 1, q], P[j, q]
                j -= 1
        size = 0.0
        for i in range(1, 3):
            for q in range(2):
                size = max(size, abs(P[i, q] - P[0, q]))
        if size <= xatol and (F[2] - F[0]) <= 1e-12 * abs(F[0]) + 1e-300:
            break
        for q in range(2):
            c[q] = 0.5 * (P[0, q] + P[1, q])
            xr[q] = min(max(2.0 * c[q] - P[2, q], lo[q]), hi[q])
        fr = qe_inner_ws(k, wt, omega, xr[0], math.exp(xr[1]), a_lo, a_hi, x3, ws, iws)
        nfev += 1
        if fr < F[0]:
            for q in range(2):
                xe[q] = min(max(3.0 * c[q] - 2.0 * P[2, q], lo[q]), hi[q])
            fe = qe_inner_ws(k, wt, omega, xe[0], math.exp(xe[1]), a_lo, a_hi, x3, ws, iws)
            nfev += 1
            if fe < fr:
                for q in range(2):
                    P[2, q] = xe[q]
                F[2] = fe
            else:
                for q in range(2):
                    P[2, q] = xr[q]
                F[2] = fr
        elif fr < F[1]:
            for q in range(2):
                P[2, q] = xr[q]
            F[2] = fr
        else:
            if fr < F[2]:  # outside contraction
                for q in range(2):
                    xc[q] = c[q] + 0.5 * (xr[q] - c[q])
            else:  # inside contraction
                for q in range(2):
                    xc[q] = c[q] + 0.5 * (P[2, q] - c[q])
            fc = qe_inner_ws(k, wt, omega, xc[0], math.exp(xc[1]), a_lo, a_hi, x3, ws, iws)
            nfev += 1
            if fc < min(fr, F[2]):
                for q in range(2):
                    P[2, q] = xc[q]
                F[2] = fc
            else:  # shrink towards the best point
                for i in range(1, 3):
                    for q in range(2):
                        P[i, q] = P[0, q] + 0.5 * (P[i, q] - P[0, q])
                    F[i] = qe_inner_ws(k, wt, omega, P[i, 0], math.exp(P[i, 1]), a_lo, a_hi, x3, ws, iws)
                    nfev += 1
    best = 0
    for i in range(1, 3):
        if F[i] < F[best]:
            best = i
    out[0] = P[best, 0]
    out[1] = P[best, 1]
    return F[best], nfev


qe_nelder_mead = njit(cache=True)(qe_nelder_mead_python)
