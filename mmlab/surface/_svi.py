"""Raw SVI smiles and their quasi-explicit calibration (Zeliade 2009).

Raw SVI (Gatheral 2004; Gatheral & Jacquier 2014, eq. 3.1) gives the total implied variance
``w = sigma_BS^2 T`` of one expiry as a function of log-moneyness ``k = ln(K/F)``::

    w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2)),  b >= 0, |rho| < 1, sigma > 0.

Quasi-explicit calibration
--------------------------
Zeliade Systems, "Quasi-explicit calibration of Gatheral's SVI model" (2009): with
``y = (k - m)/sigma``, ``w = a + d y + c sqrt(y^2 + 1)`` where ``c = b sigma`` and
``d = rho b sigma``.  For fixed ``(m, sigma)`` this is *linear* in ``(a, d, c)``, and the
no-arbitrage-motivated domain of the paper, ``0 <= c <= 4 sigma``, ``|d| <= c``,
``|d| <= 4 sigma - c``, ``a_lo <= a <= max(w)``, becomes a **box** in the rotated variables
``u = c + d``, ``v = c - d`` (``0 <= u, v <= 4 sigma``): the wing slopes ``b (1 + rho) = u/sigma``
and ``b (1 - rho) = v/sigma`` are then at most 4 (Rogers & Tehranchi's bound on
``|dw/dk|``).  ``w = a + u (s + y)/2 + v (s - y)/2`` with ``s = sqrt(y^2 + 1)``.  The inner
problem is a 3-variable box-constrained weighted least squares, solved *exactly* by
enumerating the 27 active sets (each variable free, at its lower or at its upper bound) in a
numba kernel (:func:`qe_inner`, plain twin :func:`qe_inner_python`; the kernels are in
:mod:`mmlab.surface._svi_qe`).  The outer problem over
``(m, sigma)`` starts from the best point of a coarse grid and is polished by a bounded
Nelder-Mead in ``(m, ln sigma)`` compiled with the inner solve (:func:`qe_nelder_mead`, twin
:func:`qe_nelder_mead_python`), so one slice costs about a millisecond.

Fit target and weights
----------------------
The fit is in total variance against the quote's mid-price implied vol, with residuals scaled
by the bid-ask half width in total variance (``weights='spread'``, the default): a residual of
1 means "on the bid or the ask", which is what maximises the share of fitted vols inside the
quote.  ``weights='vega'`` weights vol errors by Black vega (price-error fit);
``weights='uniform'`` is a plain fit to the mids.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mmlab.errors import ConfigError
from mmlab.surface._svi_qe import (
    qe_grid,
    qe_inner,
    qe_inner_python,
    qe_nelder_mead,
    qe_nelder_mead_python,
)

__all__ = [
    "SVIParams",
    "SVISlice",
    "qe_inner",
    "qe_inner_python",
    "qe_nelder_mead",
    "qe_nelder_mead_python",
    "svi_density_g",
    "svi_total_variance",
]


# ---------------------------------------------------------------------------------------------
# the formula


def svi_total_variance(k, a, b, rho, m, sigma):
    """Raw SVI total variance ``w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2))``.

    Examples
    --------
    >>> float(svi_total_variance(0.0, 0.04, 0.1, -0.5, 0.0, 0.1))  # a + b sigma at k = m = 0
    0.05
    """
    x = np.asarray(k, dtype=float) - m
    out = a + b * (rho * x + np.sqrt(x * x + sigma * sigma))
    return out[()] if np.ndim(out) == 0 else out


def _svi_derivatives(k, a, b, rho, m, sigma):
    x = np.asarray(k, dtype=float) - m
    r = np.sqrt(x * x + sigma * sigma)
    w = a + b * (rho * x + r)
    w1 = b * (rho + x / r)
    w2 = b * sigma * sigma / r**3
    return w, w1, w2


def svi_density_g(k, a, b, rho, m, sigma):
    """Gatheral's density function ``g(k)`` of a raw SVI slice (butterfly arbitrage iff ``g < 0``).

    ``g(k) = (1 - k w'/(2w))^2 - (w'^2/4)(1/w + 1/4) + w''/2`` (Gatheral & Jacquier 2014,
    eq. 2.1); the risk-neutral density of ``k`` is ``g(k)/sqrt(2 pi w) exp(-d_-^2/2)``.  Where
    ``w <= 0`` the slice is not a volatility smile and ``g`` is returned as ``-inf``.

    Examples
    --------
    Gatheral & Jacquier's (2014, eq. 3.4) Axel Vogt slice has ``g < 0`` near ``k = 0.8``:

    >>> bool(svi_density_g(0.8, -0.0410, 0.1331, 0.3060, 0.3586, 0.4153) < 0)
    True
    """
    w, w1, w2 = _svi_derivatives(k, a, b, rho, m, sigma)
    kk = np.asarray(k, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = (1.0 - kk * w1 / (2.0 * w)) ** 2 - 0.25 * w1 * w1 * (1.0 / w + 0.25) + 0.5 * w2
    g = np.where(w > 0, g, -np.inf)
    return g[()] if np.ndim(g) == 0 else g


@dataclass(frozen=True, slots=True)
class SVIParams:
    """Raw SVI parameters of one slice (total variance, see the module notes).

    Parameters
    ----------
    a : float
        Level (total variance units).
    b : float
        Slope scale, ``>= 0``.
    rho : float
        Skew, ``-1 < rho < 1`` (``|rho| = 1`` is allowed as a limit).
    m : float
        Horizontal shift (log-moneyness).
    sigma : float
        ATM curvature scale, ``> 0``.

    Examples
    --------
    >>> p = SVIParams(0.04, 0.1, -0.5, 0.0, 0.1)
    >>> round(float(p.total_variance(0.0)), 6), round(float(p.implied_vol(0.0, 0.5)), 6)
    (0.05, 0.316228)
    >>> bool(p.min_total_variance() > 0), bool(p.g(np.array([-1.0, 0.0, 1.0])).min() > 0)
    (True, True)
    """

    a: float
    b: float
    rho: float
    m: float
    sigma: float

    def __post_init__(self) -> None:
        for name in ("a", "b", "rho", "m", "sigma"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ConfigError(f"SVIParams.{name}: must be a finite number, got {v!r}")
            object.__setattr__(self, name, float(v))
        if self.b < 0:
            raise ConfigError(f"SVIParams.b: must be >= 0, got {self.b}")
        if abs(self.rho) > 1:
            raise ConfigError(f"SVIParams.rho: must be in [-1, 1], got {self.rho}")
        if self.sigma <= 0:
            raise ConfigError(f"SVIParams.sigma: must be > 0, got {self.sigma}")

    def as_tuple(self) -> tuple[float, float, float, float, float]:
        """``(a, b, rho, m, sigma)``."""
        return (self.a, self.b, self.rho, self.m, self.sigma)

    def total_variance(self, k):
        """``w(k)``."""
        return svi_total_variance(k, *self.as_tuple())

    def derivatives(self, k):
        """``(w, dw/dk, d2w/dk2)`` at ``k``."""
        return _svi_derivatives(k, *self.as_tuple())

    def g(self, k):
        """Gatheral's density function (:func:`svi_density_g`)."""
        return svi_density_g(k, *self.as_tuple())

    def implied_vol(self, k, T):
        """Black implied vol ``sqrt(w(k)/T)`` (NaN where ``w < 0``)."""
        w = np.asarray(self.total_variance(k), dtype=float)
        with np.errstate(invalid="ignore"):
            out = np.sqrt(np.where(w >= 0, w, np.nan) / T)
        return out[()] if np.ndim(out) == 0 else out

    def min_total_variance(self) -> float:
        """``min_k w(k) = a + b sigma sqrt(1 - rho^2)``."""
        return self.a + self.b * self.sigma * math.sqrt(max(0.0, 1.0 - self.rho * self.rho))

    def wing_slopes(self) -> tuple[float, float]:
        """Asymptotic slopes ``(b(1 - rho), b(1 + rho))`` of ``w`` for ``k -> -inf, +inf``."""
        return (self.b * (1.0 - self.rho), self.b * (1.0 + self.rho))

    @classmethod
    def from_quasi_explicit(cls, a: float, u: float, v: float, m: float, sigma: float) -> SVIParams:
        """From the box variables ``(a, u = c + d, v = c - d)`` of the quasi-explicit method."""
        c = 0.5 * (u + v)
        d = 0.5 * (u - v)
        b = c / sigma
        rho = d / c if c > 0 else 0.0
        return cls(a, b, min(1.0, max(-1.0, rho)), m, sigma)


# ---------------------------------------------------------------------------------------------
# the estimator

_WEIGHTS = ("spread", "vega", "uniform")


def _black_vega_w(k, w):
    """Black vega per unit forward and per 1.00 of total-variance vol ``sqrt(w)``."""
    sw = np.sqrt(w)
    d1 = -k / sw + 0.5 * sw
    return np.exp(-0.5 * d1 * d1) / math.sqrt(2 * math.pi)


class SVISlice:
    """Raw SVI fit of one expiry by the quasi-explicit method.

    Parameters
    ----------
    weights : {'spread', 'vega', 'uniform'}, default 'spread'
        Residual scaling (module notes): by the bid-ask half width, by Black vega, or none.
    min_half_width : float, default 0.0005
        Floor on the bid-ask half width in **vol** units (0.05 vol point) for ``'spread'``, so
        one very tight quote cannot dominate.
    a_lower : float or None, default None
        Lower bound of ``a``.  Zeliade's ``a >= 0`` (pass ``0.0``) keeps ``w >= 0`` but is too
        tight for index smiles whose minimum lies far to the right (SPX); ``None`` allows
        ``a >= -max(w)``, and positivity of ``w`` is then checked with the butterfly condition.
    grid : int, default 15
        Points per axis of the starting grid over ``(m, sigma)``.

    Attributes
    ----------
    params_ : SVIParams
    T_ : float
    n_ : int
        Points fitted.
    objective_ : float
        Weighted sum of squared residuals at the optimum.
    rmse_ : float
        Vol-point RMSE against the mid vols (in vol units, 0.01 = 1 point).
    inside_ : float
        Share of fitted vols within ``[bid_iv, ask_iv]``.
    nfev_ : int
        Inner solves used by the outer search (grid + Nelder-Mead).

    Examples
    --------
    >>> true = SVIParams(0.02, 0.15, -0.6, 0.02, 0.12)
    >>> k = np.linspace(-0.4, 0.3, 41)
    >>> iv = true.implied_vol(k, 0.5)
    >>> fit = SVISlice().fit(k, 0.5, iv - 0.002, iv + 0.002)
    >>> bool(abs(fit.params_.rho - true.rho) < 1e-3), fit.inside_
    (True, 1.0)
    """

    def __init__(
        self,
        weights: str = "spread",
        min_half_width: float = 0.0005,
        a_lower: float | None = None,
        grid: int = 15,
    ) -> None:
        self.weights = weights
        self.min_half_width = min_half_width
        self.a_lower = a_lower
        self.grid = grid

    def _validate(self) -> None:
        if self.weights not in _WEIGHTS:
            raise ConfigError(f"weights: expected one of {_WEIGHTS}, got {self.weights!r}")
        if not (self.min_half_width >= 0):
            raise ConfigError(f"min_half_width: must be >= 0, got {self.min_half_width!r}")
        if not (isinstance(self.grid, int) and self.grid >= 3):
            raise ConfigError(f"grid: must be an int >= 3, got {self.grid!r}")

    def _targets(self, k, T, bid_iv, ask_iv, mid_iv):
        k = np.asarray(k, dtype=float).ravel()
        bid = np.broadcast_to(np.asarray(bid_iv, dtype=float), k.shape).ravel()
        ask = np.broadcast_to(np.asarray(ask_iv, dtype=float), k.shape).ravel()
        mid = 0.5 * (bid + ask) if mid_iv is None else np.broadcast_to(np.asarray(mid_iv, dtype=float), k.shape).ravel()
        if not (np.isfinite(T) and T > 0):
            raise ConfigError(f"T: must be a positive finite year fraction, got {T!r}")
        good = np.isfinite(k) & np.isfinite(bid) & np.isfinite(ask) & np.isfinite(mid) & (mid > 0)
        if good.sum() < 5:
            raise ConfigError(f"need at least 5 points with finite bid/ask/mid vols, got {int(good.sum())}")
        if np.any(ask[good] < bid[good]):
            raise ConfigError("ask_iv below bid_iv")
        return k[good], bid[good], ask[good], mid[good], good

    def fit(self, k, T, bid_iv, ask_iv, mid_iv=None) -> SVISlice:
        """Fit one slice.

        Parameters
        ----------
        k : array-like
            Log-moneyness ``ln(K/F)``.
        T : float
            Year fraction to expiry.
        bid_iv, ask_iv : array-like
            Bid and ask implied vols (decimals). Points with a NaN are ignored.
        mid_iv : array-like, optional
            Vol of the mid price (default: the average of bid and ask vols).

        Returns
        -------
        SVISlice
            ``self``.
        """
        self._validate()
        k, bid, ask, mid, _ = self._targets(k, T, bid_iv, ask_iv, mid_iv)
        wt = mid * mid * T
        if self.weights == "spread":
            hw = np.maximum(0.5 * (ask - bid), self.min_half_width)
            # half width in total variance: d(w)/d(vol) = 2 vol T
            omega = 1.0 / (2.0 * mid * T * hw) ** 2
        elif self.weights == "vega":
            vega = _black_vega_w(k, wt) * math.sqrt(T)
            omega = (vega / (2.0 * mid * T)) ** 2
        else:
            omega = np.ones_like(wt) / (2.0 * mid * T) ** 2
        omega = omega / omega.mean()
        wmax = float(wt.max())
        a_lo = -wmax if self.a_lower is None else float(self.a_lower)
        a_hi = wmax
        span = float(k.max() - k.min())
        span = max(span, 1e-3)
        m_lo, m_hi = float(k.min()) - 0.5 * span, float(k.max()) + 0.5 * span
        s_lo, s_hi = max(1e-4, 1e-3 * span), max(2.0 * span, 0.05)
        ms = np.linspace(m_lo, m_hi, self.grid)
        sig = np.geomspace(s_lo, s_hi, self.grid)
        obj = qe_grid(k, wt, omega, ms, sig, a_lo, a_hi)
        i, j = np.unravel_index(int(np.argmin(obj)), obj.shape)
        x = np.zeros(3)
        lo = np.array([m_lo, math.log(s_lo)])
        hi = np.array([m_hi, math.log(s_hi)])
        z0 = np.array([ms[i], math.log(sig[j])])
        step = np.array([(m_hi - m_lo) / (self.grid - 1), math.log(s_hi / s_lo) / (self.grid - 1)])
        z = np.zeros(2)
        _, nfev = qe_nelder_mead(k, wt, omega, z0, step, lo, hi, a_lo, a_hi, 1e-7, 500, z)
        nfev += obj.size
        m_, s_ = float(z[0]), float(math.exp(z[1]))
        self.objective_ = float(qe_inner(k, wt, omega, m_, s_, a_lo, a_hi, x))
        self.params_ = SVIParams.from_quasi_explicit(float(x[0]), float(x[1]), float(x[2]), m_, s_)
        self.T_ = float(T)
        self.n_ = int(k.size)
        self.nfev_ = int(nfev)
        self._score(k, bid, ask, mid)
        return self

    def _score(self, k, bid, ask, mid) -> None:
        fv = np.asarray(self.params_.implied_vol(k, self.T_), dtype=float)
        self.rmse_ = float(np.sqrt(np.nanmean((fv - mid) ** 2)))
        tol = 1e-9
        self.inside_ = float(np.mean((fv >= bid - tol) & (fv <= ask + tol)))

    def predict(self, k):
        """Fitted implied vol at log-moneyness ``k``."""
        if not hasattr(self, "params_"):
            raise ConfigError("SVISlice: call fit() first")
        return self.params_.implied_vol(k, self.T_)

    def to_frame(self) -> pd.DataFrame:
        """The fitted parameters and scores as a one-row table."""
        if not hasattr(self, "params_"):
            raise ConfigError("SVISlice: call fit() first")
        p = self.params_
        return pd.DataFrame(
            [{"T": self.T_, "a": p.a, "b": p.b, "rho": p.rho, "m": p.m, "sigma": p.sigma,
              "n": self.n_, "rmse": self.rmse_, "inside": self.inside_}]
        )  # fmt: skip
