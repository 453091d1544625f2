"""Implied-volatility kernels (numba) for Black/BSM and Bachelier, with plain Python twins.

Method (Black)
--------------
Prices are undiscounted and normalised as in Jaeckel, "By Implication" (Wilmott 2006) and
"Let's Be Rational" (Wilmott 2015): with ``x = ln(F/K)`` and ``s = sigma sqrt(t)``,

    b(x, s) = e^{x/2} N(x/s + s/2) - e^{-x/2} N(x/s - s/2),   beta = price e^{rt} / sqrt(F K).

In-the-money options are mapped to out-of-the-money ones by put-call parity (subtracting the
intrinsic value in price space) and puts to calls by ``b_put(x) = b_call(-x)``, so only
``x <= 0`` and ``0 < beta < e^{x/2}`` remain.  ``b`` is convex in ``s`` below the inflection
point ``s_c = sqrt(2|x|)`` and concave above it.  The starting points (the upper one is Jaeckel's, 2006):

* ``beta < b(s_c)``: two Newton steps on the model ``ln(b/b_c) ~ -x^2/2 (1/s^2 - 1/s_c^2) -
  (s^2 - s_c^2)/8 + c ln(s/s_c)`` (leading terms of ``ln b`` as ``s -> 0``, ``c`` matching
  ``b'/b`` at ``s_c``), falling back to ``sqrt(2 x^2 / (|x| - 4 ln(beta / b_c)))``,
* ``beta >= b(s_c)``: ``s0 = -2 N^{-1}((e^{x/2} - beta) / (e^{x/2} - b_c) N(-s_c/2))``,

then third-order Householder steps on a log-transformed objective that is close to linear in
its branch, ``ln b(s) - ln beta`` below ``s_c`` and ``ln(e^{x/2} - beta) - ln(e^{x/2} - b(s))``
above it (``e^{x/2} - b = e^{x/2} N(-x/s - s/2) + e^{-x/2} N(x/s - s/2)`` has no
cancellation), inside a bracket that bisects whenever a step leaves it.  The derivatives use
``b' = e^{x/2} n(x/s + s/2)``, ``b''/b' = x^2/s^3 - s/4`` and
``b'''/b' = (x^2/s^3 - s/4)^2 - 3 x^2/s^4 - 1/4``.  Two or three
evaluations reach machine precision (2.1 on average over random options).

Method (Bachelier)
------------------
Time value ``v(s) = s n(a/s) - a N(-a/s)`` with ``a = |F - K|``, ``s = sigma_n sqrt(t)``;
``v' = n(a/s)``, ``v''/v' = a^2/s^3``.  It is bracketed by ``v sqrt(2 pi) <= s <=
(v + a/2) sqrt(2 pi)``; Householder steps on ``ln v(s) - ln v`` from an asymptotic start.

Reason codes are those of :class:`mmlab.pricing.IVCode`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from numba import njit

from mmlab.pricing._normal import norm_cdf, norm_ppf_acklam

__all__ = [
    "bachelier_iv_kernel",
    "bachelier_iv_python",
    "black_iv_kernel",
    "black_iv_python",
    "normalised_black",
    "normalised_implied_vol",
]

# reason codes (kept in sync with mmlab.pricing._implied_vol.IVCode)
OK = 0
BELOW_INTRINSIC = 1
AT_INTRINSIC = 2
ABOVE_UPPER_BOUND = 3
NONPOSITIVE_TIME = 4
NONPOSITIVE_PRICE = 5
INVALID_INPUT = 6
NOT_CONVERGED = 7

_INV_SQRT_2PI = 0.3989422804014327
_SQRT_2PI = 2.5066282746310002
_MAX_ITER = 30
_TOL = 1e-13  # relative step below which the (cubically convergent) iteration stops
_RESOLUTION = 4.0 * 2.220446049250313e-16  # ITM time value below this x max(F, K) is rounding
_CUBIC_STOP = 1e-6  # a third-order step this small leaves an error ~(1e-6)^3: stop
_NOISE = 1e-10  # after _MAX_ITER, a last step this small means rounding noise, not failure
_TINY = 4.9406564584124654e-324 / 1e-12  # subnormals below this carry < 12 significant digits


@njit(cache=True, error_model="numpy")
def normalised_black(x, s):
    """Normalised undiscounted Black call ``b(x, s)``, used for ``x <= 0``.

    Examples
    --------
    >>> round(float(normalised_black(0.0, 0.2)), 12)  # = 2 N(0.1) - 1
    0.079655674554
    """
    if s <= 0.0:
        return max(math.exp(0.5 * x) - math.exp(-0.5 * x), 0.0)
    h = x / s
    t = 0.5 * s
    return math.exp(0.5 * x) * norm_cdf(h + t) - math.exp(-0.5 * x) * norm_cdf(h - t)


@njit(cache=True, error_model="numpy")
def _black_complement(x, s, ex, emx):
    """``e^{x/2} - b(x, s)`` computed without cancellation (``ex, emx = e^{x/2}, e^{-x/2}``)."""
    h = x / s
    t = 0.5 * s
    return ex * norm_cdf(-h - t) + emx * norm_cdf(h - t)


@njit(cache=True, error_model="numpy")
def _black_fast(x, s, ex, emx):
    """``b(x, s)`` for s > 0 with the exponentials precomputed."""
    h = x / s
    t = 0.5 * s
    return ex * norm_cdf(h + t) - emx * norm_cdf(h - t)


@njit(cache=True, error_model="numpy")
def _householder(s, g, g1, g2, g3, lo, hi):
    """One third-order Householder step for g(s)=0, kept inside (lo, hi) (bisect otherwise).

    Returns ``(s_new, cubic)``; ``cubic`` is False when a safeguard replaced the step.
    """
    nw = -g / g1
    h2 = g2 / g1
    h3 = g3 / g1
    den = 1.0 + nw * (h2 + h3 * nw / 6.0)
    step = nw * (1.0 + 0.5 * h2 * nw) / den if den > 0.0 else nw
    sn = s + step
    if (sn > lo and sn < hi) and math.isfinite(sn):
        return sn, den > 0.0
    sn = s + nw
    if not (sn > lo and sn < hi) or not math.isfinite(sn):
        if math.isinf(hi):
            sn = 2.0 * s if s > 0.0 else 1.0
        elif lo > 0.0:
            sn = math.sqrt(lo) * math.sqrt(hi)  # geometric bisection for ranges spanning decades
        else:
            sn = 0.5 * (lo + hi)
    return sn, False


@njit(cache=True, error_model="numpy")
def normalised_implied_vol(beta, x):
    """Normalised implied vol ``s`` with ``b(x, s) = beta`` for an OTM call (``x <= 0``).

    ``beta`` must satisfy ``0 < beta < e^{x/2}``; returns NaN if no root was found.

    Examples
    --------
    >>> round(float(normalised_implied_vol(normalised_black(-0.5, 0.3), -0.5)), 14)
    0.3
    """
    bmax = math.exp(0.5 * x)
    emx = 1.0 / bmax
    ax = -x
    sc = math.sqrt(2.0 * ax)
    bc = _black_fast(x, sc, bmax, emx) if sc > 0.0 else 0.0
    lower = beta < bc
    if lower:
        lo = 0.0
        hi = sc
        # Model ln(b/b_c) ~ -x^2/2 (1/s^2 - 1/s_c^2) - (s^2 - s_c^2)/8 + c ln(s/s_c), with c
        # matching the slope b'/b at s_c; two Newton steps in w = 1/s^2 from w_c.  Only a
        # starting point: the bracketed iteration below makes any guess safe.
        L = math.log(beta / bc)
        x2 = x * x
        c = sc * (_INV_SQRT_2PI * math.exp(-0.5 * ax) / bc - x2 / (sc * sc * sc) + 0.25 * sc)
        wc = 1.0 / (sc * sc)
        w = wc
        for _ in range(2):
            fv = -0.5 * x2 * (w - wc) - 0.125 * (1.0 / w - 1.0 / wc) - 0.5 * c * math.log(w / wc) - L
            fp = -0.5 * x2 + 0.125 / (w * w) - 0.5 * c / w
            w = w - fv / fp
        if w > 0.0 and math.isfinite(w):
            s = 1.0 / math.sqrt(w)
        else:  # Jaeckel's (2006) asymptotic guess
            s = math.sqrt(2.0 * x2 / (ax - 4.0 * L))
        target = math.log(beta)
    else:
        lo = sc
        hi = math.inf
        ct = bmax - beta
        cc = bmax - bc
        s = -2.0 * norm_ppf_acklam(ct / cc * norm_cdf(-0.5 * sc))
        target = math.log(ct)
    if not (s > lo and s < hi):
        s = sc if sc > 0.0 else 1.0
        if not (s > lo and s < hi):
            s = 0.5 * sc if lower else 2.0 * sc + 1.0
    x2 = x * x
    last = math.inf
    for _ in range(_MAX_ITER):
        h2 = x2 / (s * s * s) - 0.25 * s
        h3 = h2 * h2 - 3.0 * x2 / (s * s * s * s) - 0.25
        bp = _INV_SQRT_2PI * math.exp(-0.5 * (x2 / (s * s) + 0.25 * s * s))
        if lower:
            b = _black_fast(x, s, bmax, emx)
            if b <= 0.0:  # underflow: far below the root
                lo = s
                s = math.sqrt(lo) * math.sqrt(hi) if hi < math.inf else 2.0 * s
                continue
            g = math.log(b) - target
            nu = bp / b
            g1 = nu
            g2 = nu * h2 - nu * nu
            g3 = nu * h3 - 3.0 * nu * nu * h2 + 2.0 * nu * nu * nu
        else:
            c = _black_complement(x, s, bmax, emx)
            if c <= 0.0:  # underflow: far above the root
                hi = s
                s = math.sqrt(lo) * math.sqrt(hi) if lo > 0.0 else 0.5 * s
                continue
            g = target - math.log(c)
            mu = bp / c
            g1 = mu
            g2 = mu * h2 + mu * mu
            g3 = 3.0 * mu * mu * h2 + 2.0 * mu * mu * mu + mu * h3
        if g == 0.0:
            return s
        if g < 0.0:
            lo = s
        else:
            hi = s
        if not (g1 > 0.0) or not math.isfinite(g1):
            sn = math.sqrt(lo) * math.sqrt(hi) if (lo > 0.0 and hi < math.inf) else (
                2.0 * s if hi == math.inf else 0.5 * (lo + hi))
        elif abs(g) <= _TOL * s * g1:  # converged: the last (Newton) correction is negligible
            return s - g / g1
        else:
            sn, cubic = _householder(s, g, g1, g2, g3, lo, hi)
            if cubic and abs(sn - s) <= _CUBIC_STOP * s:
                return sn  # third order: the error left is ~ C (step / s)^3 s
        last = abs(sn - s)
        if last <= _TOL * s:
            return sn
        s = sn
        if hi - lo <= _TOL * s:
            return s
    return s if last <= _NOISE * s else math.nan


@njit(cache=True, error_model="numpy")
def _black_iv_one(price, th, S, K, t, r, q, is_bsm):
    """Implied Black(-Scholes-Merton) volatility of one option: returns ``(sigma, code)``."""
    if not (price == price and S == S and K == K and t == t and r == r and q == q):
        return math.nan, INVALID_INPUT
    if t <= 0.0:
        return math.nan, NONPOSITIVE_TIME
    if not (S > 0.0 and K > 0.0) or math.isinf(S) or math.isinf(K):
        return math.nan, INVALID_INPUT
    if price <= 0.0:
        return math.nan, NONPOSITIVE_PRICE
    F = S * math.exp((r - q) * t) if is_bsm else S
    p = price * math.exp(r * t)  # undiscounted
    intrinsic = max(th * (F - K), 0.0)
    if p < intrinsic:
        return math.nan, BELOW_INTRINSIC
    if p >= (F if th > 0.0 else K):
        return math.nan, ABOVE_UPPER_BOUND
    tv = p - intrinsic  # time value = price of the OTM option with the same strike
    if tv <= 0.0 or (intrinsic > 0.0 and tv <= _RESOLUTION * max(F, K)):
        # no time value, or less than the rounding of F - K: the vol is not determined
        return math.nan, AT_INTRINSIC
    x = -abs(math.log(F / K))
    beta = tv / math.sqrt(F * K)
    if not (beta < math.exp(0.5 * x)):
        return math.nan, ABOVE_UPPER_BOUND
    if beta < _TINY:  # subnormal with < 12 significant digits: no vol to trust
        return math.nan, NOT_CONVERGED
    s = normalised_implied_vol(beta, x)
    sig = s / math.sqrt(t)
    if not (math.isfinite(sig) and sig > 0.0):  # no root, or a vol beyond double range
        return math.nan, NOT_CONVERGED
    return sig, OK


def black_iv_python(price, flag, S, K, t, r, q, is_bsm, out_iv, out_code):
    """Implied vols of n options (plain Python twin of :func:`black_iv_kernel`).

    Arguments are 1-D float64 arrays of length 1 (broadcast) or n; ``S`` is the spot when
    ``is_bsm`` (forward ``S e^{(r-q)t}``), else the forward (Black-76, ``q`` ignored).
    Results go to ``out_iv`` (float64) and ``out_code`` (int8).
    """
    n = out_iv.shape[0]
    sp = 1 if price.shape[0] > 1 else 0
    sf = 1 if flag.shape[0] > 1 else 0
    sS = 1 if S.shape[0] > 1 else 0
    sK = 1 if K.shape[0] > 1 else 0
    st = 1 if t.shape[0] > 1 else 0
    sr = 1 if r.shape[0] > 1 else 0
    sq = 1 if q.shape[0] > 1 else 0
    for i in range(n):
        v, c = _black_iv_one(price[i * sp], flag[i * sf], S[i * sS], K[i * sK], t[i * st],
                             r[i * sr], q[i * sq], is_bsm)
        out_iv[i] = v
        out_code[i] = c


black_iv_kernel: Callable[..., None] = njit(cache=True, error_model="numpy")(black_iv_python)


@njit(cache=True, error_model="numpy")
def _bachelier_tv(a, s):
    """Bachelier time value ``s n(a/s) - a N(-a/s)`` (a >= 0, s > 0)."""
    u = a / s
    return s * _INV_SQRT_2PI * math.exp(-0.5 * u * u) - a * norm_cdf(-u)


@njit(cache=True, error_model="numpy")
def normalised_bachelier_iv(v, a):
    """``s = sigma_n sqrt(t)`` with Bachelier time value ``v`` at distance ``a = |F-K|``."""
    if a == 0.0:
        return v * _SQRT_2PI
    lo = v * _SQRT_2PI
    hi = (v + 0.5 * a) * _SQRT_2PI
    tau = v / a
    if tau < 0.1:
        # asymptotic start: ln tau ~ -u^2/2 - ln sqrt(2 pi) - 3 ln u
        u = math.sqrt(max(-2.0 * math.log(tau * _SQRT_2PI), 1.0))
        for _ in range(3):
            u = math.sqrt(max(-2.0 * (math.log(tau * _SQRT_2PI) + 3.0 * math.log(u)), 1e-3))
        s = a / u
    else:
        s = v * _SQRT_2PI + 0.25 * a
    if not (s > lo and s < hi):
        s = math.sqrt(lo) * math.sqrt(hi)
    target = math.log(v)
    a2 = a * a
    last = math.inf
    for _ in range(_MAX_ITER):
        val = _bachelier_tv(a, s)
        if val <= 0.0:
            lo = s
            s = math.sqrt(lo) * math.sqrt(hi)
            continue
        g = math.log(val) - target
        if g == 0.0:
            return s
        if g < 0.0:
            lo = s
        else:
            hi = s
        u = a / s
        vp = _INV_SQRT_2PI * math.exp(-0.5 * u * u)
        h2 = a2 / (s * s * s)
        h3 = h2 * (h2 - 3.0 / s)
        nu = vp / val
        g1 = nu
        g2 = nu * h2 - nu * nu
        g3 = nu * h3 - 3.0 * nu * nu * h2 + 2.0 * nu * nu * nu
        if not (g1 > 0.0) or not math.isfinite(g1):
            sn = math.sqrt(lo) * math.sqrt(hi)
        elif abs(g) <= _TOL * s * g1:
            return s - g / g1
        else:
            sn, cubic = _householder(s, g, g1, g2, g3, lo, hi)
            if cubic and abs(sn - s) <= _CUBIC_STOP * s:
                return sn  # third order: the error left is ~ C (step / s)^3 s
        last = abs(sn - s)
        if last <= _TOL * s:
            return sn
        s = sn
        if hi - lo <= _TOL * s:
            return s
    return s if last <= _NOISE * s else math.nan


@njit(cache=True, error_model="numpy")
def _bachelier_iv_one(price, th, F, K, t, r):
    if not (price == price and F == F and K == K and t == t and r == r):
        return math.nan, INVALID_INPUT
    if math.isinf(F) or math.isinf(K):
        return math.nan, INVALID_INPUT
    if t <= 0.0:
        return math.nan, NONPOSITIVE_TIME
    if price <= 0.0:
        return math.nan, NONPOSITIVE_PRICE
    p = price * math.exp(r * t)
    m = F - K
    intrinsic = max(th * m, 0.0)
    if p < intrinsic:
        return math.nan, BELOW_INTRINSIC
    tv = p - intrinsic
    if tv <= 0.0 or (intrinsic > 0.0 and tv <= _RESOLUTION * max(abs(F), abs(K))):
        return math.nan, AT_INTRINSIC
    if math.isinf(tv):
        return math.nan, ABOVE_UPPER_BOUND
    if tv < _TINY:
        return math.nan, NOT_CONVERGED
    s = normalised_bachelier_iv(tv, abs(m))
    sig = s / math.sqrt(t)
    if not (math.isfinite(sig) and sig > 0.0):
        return math.nan, NOT_CONVERGED
    return sig, OK


def bachelier_iv_python(price, flag, F, K, t, r, out_iv, out_code):
    """Implied normal vols of n options (plain Python twin of :func:`bachelier_iv_kernel`)."""
    n = out_iv.shape[0]
    sp = 1 if price.shape[0] > 1 else 0
    sf = 1 if flag.shape[0] > 1 else 0
    sF = 1 if F.shape[0] > 1 else 0
    sK = 1 if K.shape[0] > 1 else 0
    st = 1 if t.shape[0] > 1 else 0
    sr = 1 if r.shape[0] > 1 else 0
    for i in range(n):
        v, c = _bachelier_iv_one(price[i * sp], flag[i * sf], F[i * sF], K[i * sK], t[i * st],
                                 r[i * sr])
        out_iv[i] = v
        out_code[i] = c


bachelier_iv_kernel: Callable[..., None] = njit(cache=True, error_model="numpy")(bachelier_iv_python)
