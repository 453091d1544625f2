"""SSVI: the surface SVI of Gatheral & Jacquier (2014), arbitrage-free by parameter conditions.

``w(k, theta_t) = theta_t/2 (1 + rho phi(theta_t) k + sqrt((phi(theta_t) k + rho)^2 + 1 - rho^2))``
(their eq. 4.1), with ``theta_t`` the ATM total variance of expiry ``t`` and

* power law (their eq. 4.5): ``phi(theta) = eta / (theta^gamma (1 + theta)^(1 - gamma))``;
* Heston-like (eq. 4.3): ``phi(theta) = (1 - (1 - e^{-lambda theta})/(lambda theta)) / (lambda theta)``.

Conditions used (their Theorems 4.1 and 4.2, Remark 4.4, Corollary 4.1): calendar-spread
free when ``theta_t`` is non-decreasing, ``theta phi(theta)`` non-decreasing and ``phi`` is
such that ``0 <= d(theta phi)/d theta <= (phi/rho^2)(1 + sqrt(1 - rho^2))`` (true for the power
law with ``0 < gamma <= 1/2`` and for the Heston-like ``phi``); butterfly free when
``theta phi (1 + |rho|) < 4`` and ``theta phi^2 (1 + |rho|) <= 4`` for every theta, which holds
for the power law when ``eta (1 + |rho|) <= 2`` and for the Heston-like ``phi`` when
``lambda >= (1 + |rho|)/4``.  The fit imposes these through its parametrisation, so every
fitted surface satisfies them.

Fit: ``theta_i`` is the ATM (``k = 0``) total variance of each expiry, interpolated linearly in
``k`` from the mid vols and made non-decreasing in ``T`` (running maximum); then ``rho`` and
the ``phi`` parameters minimise the same spread-weighted squared total-variance errors as the
SVI slices (L-BFGS-B).  Each SSVI slice is a raw SVI slice with ``a = theta (1 - rho^2)/2``,
``b = theta phi/2``, ``m = -rho/phi``, ``sigma = sqrt(1 - rho^2)/phi`` (their Lemma 3.2 and
sec. 4), :meth:`SSVIFit.slice_params`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from mmlab.errors import ConfigError
from mmlab.surface._svi import SVIParams

__all__ = ["SSVIFit", "ssvi_total_variance"]


def ssvi_total_variance(k, theta, rho, phi):
    """SSVI total variance ``w(k, theta)`` for given ``phi = phi(theta)`` (broadcast).

    Examples
    --------
    >>> float(ssvi_total_variance(0.0, 0.04, -0.7, 1.5))  # w(0) = theta
    0.04
    """
    k = np.asarray(k, dtype=float)
    x = phi * k
    out = 0.5 * theta * (1.0 + rho * x + np.sqrt((x + rho) ** 2 + 1.0 - rho * rho))
    return out[()] if np.ndim(out) == 0 else out


def _atm_total_variance(pts: pd.DataFrame, T: float) -> float:
    k = pts["k"].to_numpy()
    w = pts["mid_iv"].to_numpy() ** 2 * T
    o = np.argsort(k)
    return float(np.interp(0.0, k[o], w[o]))


class SSVIFit:
    """Global SSVI surface fit (module notes).

    Parameters
    ----------
    phi : {'power_law', 'heston'}, default 'power_law'
    weights : {'spread', 'uniform'}, default 'spread'
        Residuals scaled by the bid-ask half width in total variance, or plain.
    min_half_width : float, default 0.002
        Floor of the half width in vol units.

    Attributes
    ----------
    T_, theta_ : numpy.ndarray
        Expiries and their ATM total variances (non-decreasing).
    rho_ : float
    eta_, gamma_ : float
        Power-law parameters (NaN for ``'heston'``).
    lambda_ : float
        Heston-like parameter (NaN for ``'power_law'``).

    Examples
    --------
    Recover a known power-law surface from exact quotes on three expiries:

    >>> true = SSVIFit()
    >>> Ts = [0.25, 0.5, 1.0]; thetas = [0.01, 0.02, 0.04]
    >>> k = np.linspace(-0.4, 0.3, 15)
    >>> pts = []
    >>> for T, th in zip(Ts, thetas):
    ...     phi = 0.8 / (th ** 0.4 * (1 + th) ** 0.6)
    ...     iv = np.sqrt(ssvi_total_variance(k, th, -0.6, phi) / T)
    ...     pts.append(pd.DataFrame({"k": k, "mid_iv": iv, "bid_iv": iv - 0.002, "ask_iv": iv + 0.002}))
    >>> fit = SSVIFit().fit(Ts, pts)
    >>> round(fit.rho_, 3), round(fit.eta_, 3), round(fit.gamma_, 3)
    (-0.6, 0.8, 0.4)
    """

    def __init__(self, phi: str = "power_law", weights: str = "spread", min_half_width: float = 0.002) -> None:
        self.phi = phi
        self.weights = weights
        self.min_half_width = min_half_width

    def phi_of(self, theta):
        """``phi(theta)`` with the fitted parameters."""
        th = np.asarray(theta, dtype=float)
        if self.phi == "power_law":
            return self.eta_ / (th**self.gamma_ * (1.0 + th) ** (1.0 - self.gamma_))
        lt = self.lambda_ * th
        return (1.0 - (1.0 - np.exp(-lt)) / lt) / lt

    def theta(self, T):
        """ATM total variance at ``T``: linear in ``T`` through ``(0, 0)`` and the fitted
        expiries, ``theta_n T / T_n`` beyond the last."""
        T = np.asarray(T, dtype=float)
        xs = np.concatenate([[0.0], self.T_])
        ys = np.concatenate([[0.0], self.theta_])
        out = np.where(T <= xs[-1], np.interp(T, xs, ys), ys[-1] * T / xs[-1])
        return out[()] if out.ndim == 0 else out

    def total_variance(self, k, theta):
        """``w(k, theta)``."""
        return ssvi_total_variance(k, theta, self.rho_, self.phi_of(theta))

    def slice_params(self, T: float) -> SVIParams:
        """The raw SVI parameters of the SSVI slice at ``T`` (module notes)."""
        th = float(self.theta(T))
        ph = float(self.phi_of(th))
        r = self.rho_
        return SVIParams(0.5 * th * (1 - r * r), 0.5 * th * ph, r, -r / ph, math.sqrt(1 - r * r) / ph)

    def conditions(self) -> dict:
        """The paper's sufficient no-arbitrage conditions, evaluated at the fitted parameters."""
        th = np.concatenate([self.theta_, np.geomspace(1e-6, 10.0, 200)])
        tp = th * self.phi_of(th)
        tp2 = th * self.phi_of(th) ** 2
        a = 1.0 + abs(self.rho_)
        out = {
            "theta_non_decreasing": bool(np.all(np.diff(self.theta_) >= 0)),
            "butterfly_theta_phi": bool(np.all(tp * a < 4.0)),
            "butterfly_theta_phi2": bool(np.all(tp2 * a <= 4.0 + 1e-12)),
        }
        if self.phi == "power_law":
            out["calendar_gamma"] = bool(0 < self.gamma_ <= 0.5)
        else:
            out["calendar_heston"] = bool(self.lambda_ > 0)
        return out

    def fit(self, T, points) -> SSVIFit:
        """Fit to the smiles of several expiries.

        Parameters
        ----------
        T : sequence of float
            Year fractions, one per expiry.
        points : sequence of pandas.DataFrame
            Per expiry, columns ``k, bid_iv, ask_iv, mid_iv`` (as :meth:`ChainAnalytics.smile`).

        Returns
        -------
        SSVIFit
            ``self``.
        """
        if self.phi not in ("power_law", "heston"):
            raise ConfigError(f"phi: expected 'power_law' or 'heston', got {self.phi!r}")
        if self.weights not in ("spread", "uniform"):
            raise ConfigError(f"weights: expected 'spread' or 'uniform', got {self.weights!r}")
        Ts = np.asarray(T, dtype=float)
        if Ts.size == 0 or Ts.size != len(points):
            raise ConfigError("T and points: one year fraction per expiry, at least one expiry")
        order = np.argsort(Ts, kind="stable")
        Ts = Ts[order]
        pts = [points[i] for i in order]
        thetas = np.maximum.accumulate([_atm_total_variance(p, t) for p, t in zip(pts, Ts, strict=True)])
        ks, wts, oms, ths = [], [], [], []
        for p, t, th in zip(pts, Ts, thetas, strict=True):
            mid = p["mid_iv"].to_numpy()
            hw = np.maximum(0.5 * (p["ask_iv"].to_numpy() - p["bid_iv"].to_numpy()), self.min_half_width)
            om = 1.0 / (2 * mid * t * hw) ** 2 if self.weights == "spread" else np.ones_like(mid) / (2 * mid * t) ** 2
            ks.append(p["k"].to_numpy())
            wts.append(mid * mid * t)
            oms.append(om)
            ths.append(np.full(len(p), th))
        k = np.concatenate(ks)
        wt = np.concatenate(wts)
        om = np.concatenate(oms)
        om = om / om.mean()
        th = np.concatenate(ths)
        self.T_, self.theta_ = Ts, np.asarray(thetas, dtype=float)
        scale = float(np.sum(om)) * float(np.mean(wt)) ** 2 * 1e-4  # 1 % errors -> objective ~ 1

        def unpack(z):
            rho = math.tanh(z[0]) * 0.999
            a = 1 + abs(rho)
            if self.phi == "power_law":
                s = 1.0 / (1.0 + math.exp(-z[1]))  # in (0, 1): eta (1 + |rho|) = 2 s <= 2
                gamma = 0.01 + 0.49 / (1.0 + math.exp(-z[2]))
                return rho, 2.0 * s / a, gamma
            return rho, a / 4.0 + math.exp(z[1]), np.nan

        def obj(z):
            rho, p1, p2 = unpack(z)
            if self.phi == "power_law":
                phi = p1 / (th**p2 * (1.0 + th) ** (1.0 - p2))
            else:
                lt = p1 * th
                phi = (1.0 - (1.0 - np.exp(-lt)) / lt) / lt
            w = ssvi_total_variance(k, th, rho, phi)
            return float(np.sum(om * (w - wt) ** 2)) / scale

        best = None
        starts = [[-0.8, 0.0, 0.0], [-0.3, 1.0, -1.0], [0.0, -1.0, 1.0]] if self.phi == "power_law" else [[-0.8, 0.0], [-0.3, 2.0], [0.0, -2.0]]
        for z0 in starts:
            res = minimize(obj, np.array(z0), method="L-BFGS-B")
            if best is None or res.fun < best.fun:
                best = res
        assert best is not None  # three starts
        rho, p1, p2 = unpack(best.x)
        self.rho_ = float(rho)
        if self.phi == "power_law":
            self.eta_, self.gamma_, self.lambda_ = float(p1), float(p2), np.nan
        else:
            self.eta_, self.gamma_, self.lambda_ = np.nan, np.nan, float(p1)
        self.objective_ = float(best.fun) * scale
        return self
