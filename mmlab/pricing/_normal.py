"""Scalar standard-normal functions compiled with numba (usable from kernels and from Python).

``norm_cdf`` goes through ``erfc`` so that it keeps full *relative* precision in the lower tail
(``norm_cdf(-30)`` is ~4.9e-198, not 0), which the implied-volatility solver relies on.
"""

from __future__ import annotations

import math

from numba import njit

__all__ = ["norm_cdf", "norm_pdf", "norm_ppf", "norm_ppf_acklam"]

_INV_SQRT_2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327


@njit(cache=True, error_model="numpy")
def norm_cdf(x: float) -> float:
    """Standard normal CDF, ``0.5 * erfc(-x / sqrt(2))``.

    Examples
    --------
    >>> float(norm_cdf(0.0)), bool(norm_cdf(-30.0) > 0.0)
    (0.5, True)
    """
    return 0.5 * math.erfc(-x * _INV_SQRT_2)


@njit(cache=True, error_model="numpy")
def norm_pdf(x: float) -> float:
    """Standard normal density.

    Examples
    --------
    >>> round(float(norm_pdf(0.0)), 12)
    0.398942280401
    """
    return _INV_SQRT_2PI * math.exp(-0.5 * x * x)


# P. J. Acklam's rational approximation of the inverse normal CDF (relative error < 1.15e-9),
# refined by one Halley step on erfc to ~1e-15.  Only used for starting points of iterations.
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
      1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
      6.680131188771972e01, -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
      3.754408661907416e00)


@njit(cache=True, error_model="numpy")
def norm_ppf_acklam(p: float) -> float:
    """Acklam's rational approximation of the inverse normal CDF alone (relative error
    < 1.15e-9), for 0 < p < 1; the cheap starting point used by the implied-vol solver.

    Examples
    --------
    >>> abs(float(norm_ppf_acklam(0.975)) - 1.959963984540054) < 3e-9
    True
    """
    if p < 0.02425:
        q = math.sqrt(-2.0 * math.log(p))
        return (((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / (
            (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0)
    if p <= 1.0 - 0.02425:
        q = p - 0.5
        r = q * q
        return (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q / (
            ((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0)
    q = math.sqrt(-2.0 * math.log(1.0 - p))
    return -(((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / (
        (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0)


@njit(cache=True, error_model="numpy")
def norm_ppf(p: float) -> float:
    """Inverse standard normal CDF (Acklam's approximation plus one Halley refinement).

    Returns ``-inf``/``inf`` at 0/1 and NaN outside [0, 1].

    Examples
    --------
    >>> round(float(norm_ppf(0.975)), 10)
    1.9599639845
    """
    if not (p > 0.0 and p < 1.0):
        if p == 0.0:
            return -math.inf
        if p == 1.0:
            return math.inf
        return math.nan
    x = norm_ppf_acklam(p)
    # one Halley step on F(x) - p
    e = norm_cdf(x) - p
    u = e * 2.5066282746310002 * math.exp(0.5 * x * x)
    return x - u / (1.0 + 0.5 * x * u)
