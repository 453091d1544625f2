"""Forwards of an option chain: put-call parity on the strikes nearest the money, or the vendor's.

Conventions in :mod:`mmlab.surface._chain` (module notes): for one expiry, ``C - P = D (F - K)``
on the two-sided, fresh strikes closest to the money gives ``F`` (a robust weighted mean of
``K + (C - P) / D``, weights the inverse squared call+put spread, outliers beyond 3 MADs
dropped); Deribit's inverse options use the vendor's future (``forward='auto'``).
"""

from __future__ import annotations

import math

import numpy as np

from mmlab.errors import ConfigError

__all__ = ["discount_factors", "expiry_forwards", "median_or_constant", "parity_forward"]


def discount_factors(discount, t: np.ndarray) -> np.ndarray:
    """Discount factors for year fractions ``t`` from a flat rate or a callable ``D(t)``."""
    if callable(discount):
        tt = np.maximum(t, 0.0)
        d = np.asarray(discount(tt), dtype=float)
        d = np.broadcast_to(d, tt.shape).astype(float)
        if not np.all(np.isfinite(d) & (d > 0)):
            raise ConfigError("discount: the callable returned non-positive or non-finite discount factors")
        return d
    try:
        r = float(discount)
    except (TypeError, ValueError):
        raise ConfigError(f"discount: a flat continuously compounded rate or a callable D(t), got {discount!r}") from None
    if not math.isfinite(r):
        raise ConfigError(f"discount: must be finite, got {discount!r}")
    return np.exp(-r * np.maximum(t, 0.0))


def parity_forward(strike, call_mid, put_mid, call_spread, put_spread, discount_factor: float, n: int = 8):
    """Forward from put-call parity on the strikes closest to the money (module notes).

    Parameters
    ----------
    strike, call_mid, put_mid, call_spread, put_spread : array-like
        One entry per strike with a two-sided call and put (premiums in USD).
    discount_factor : float
        ``D`` to the expiry.
    n : int, default 8
        Number of strikes used (smallest ``|C - P|``).

    Returns
    -------
    tuple of (float, int, float)
        ``(forward, strikes used, regression discount factor)``; the last is NaN with fewer than
        3 distinct strikes.

    Examples
    --------
    A forward of 100 with D = 0.99, exact prices:

    >>> K = np.array([90.0, 95.0, 100.0, 105.0, 110.0])
    >>> C = np.array([11.0, 7.0, 4.0, 2.0, 1.0]); P = C - 0.99 * (100.0 - K)
    >>> F, used, d = parity_forward(K, C, P, 0.1, 0.1, 0.99)
    >>> round(F, 10), used, round(d, 10)
    (100.0, 5, 0.99)
    """
    K = np.asarray(strike, dtype=float)
    diff = np.asarray(call_mid, dtype=float) - np.asarray(put_mid, dtype=float)
    spread = np.broadcast_to(np.asarray(call_spread, dtype=float) + np.asarray(put_spread, dtype=float), K.shape)
    if K.size == 0:
        return np.nan, 0, np.nan
    order = np.argsort(np.abs(diff), kind="stable")[:n]
    Ks, ds, sp = K[order], diff[order], spread[order]
    est = Ks + ds / discount_factor
    med = np.median(est)
    mad = np.median(np.abs(est - med))
    keep = np.abs(est - med) <= 3.0 * mad + 1e-12 * abs(med)
    w = 1.0 / np.maximum(sp[keep], 1e-12) ** 2
    F = float(np.sum(w * est[keep]) / np.sum(w))
    d_reg = np.nan
    if np.unique(Ks).size >= 3:
        slope = np.polyfit(Ks, ds, 1)[0]
        d_reg = float(-slope)
    return F, int(keep.sum()), d_reg


def median_or_constant(a: np.ndarray, nan: bool = False) -> float:
    """``np.median`` (``np.nanmedian`` with ``nan``) with a shortcut for a constant array (the
    usual case: one quote time and one spot per expiry), which it returns exactly."""
    if a.size and bool(np.all(a == a[0])):
        return float(a[0])
    return float(np.nanmedian(a) if nan else np.median(a))


def expiry_forwards(mid_usd, *, groups, K, is_call, spr_usd, two_sided, stale, t, dfac, inverse, upx, idx_price,
              forward, n_parity):
    """Per-expiry forwards (parity or vendor) from the mid premiums ``mid_usd``; returns the
    per-quote forward and the per-expiry rows of :attr:`ChainAnalytics.expiries`."""
    n = len(K)
    rows = []
    fwd = np.full(n, np.nan)
    for (root, expiry), idx in groups.items():
        tt = median_or_constant(t[idx])
        d = median_or_constant(dfac[idx])
        ok = two_sided[idx] & ~stale[idx]
        ci = idx[ok & is_call[idx]]
        pi = idx[ok & ~is_call[idx]]
        both, ic, ip = np.intersect1d(K[ci], K[pi], assume_unique=True, return_indices=True)
        ci, pi = ci[ic], pi[ip]
        Fp, used, d_reg = parity_forward(both, mid_usd[ci], mid_usd[pi], spr_usd[ci], spr_usd[pi], d, n_parity)
        inv = bool(inverse[idx].any())
        Fv = median_or_constant(upx[idx]) if inv and np.isfinite(upx[idx]).any() else np.nan
        use_vendor = forward == "vendor" or (forward == "auto" and inv)
        if use_vendor:
            if not np.isfinite(upx[idx]).all():
                raise ConfigError(f"forward='vendor': {root} {expiry} has no vendor future price")
            F, method = Fv, "vendor_future"
            fwd[idx] = upx[idx]  # each quote with the future it was converted with
        else:
            F, method = Fp, "parity"
            fwd[idx] = F
        if not np.isfinite(F):
            method = "none"
        if inv:
            spot = median_or_constant(idx_price[idx], nan=True) if np.isfinite(idx_price[idx]).any() else np.nan
        else:
            spot = median_or_constant(upx[idx], nan=True) if np.isfinite(upx[idx]).any() else np.nan
        r = -math.log(d) / tt if tt > 0 else np.nan
        carry = math.log(F / spot) / tt if (tt > 0 and np.isfinite(F) and np.isfinite(spot)) else np.nan
        rows.append({
            "root": root, "expiry": expiry, "t": tt, "forward": F, "forward_method": method,
            "forward_parity": Fp, "forward_vendor": Fv, "n_parity": used, "parity_df": d_reg,
            "discount_factor": d, "rate": r, "spot": spot, "carry": carry,
            "div_yield": (r - carry) if not inv else np.nan,
            "basis": (F / spot - 1.0) if np.isfinite(spot) else np.nan,
        })  # fmt: skip
    return fwd, rows
