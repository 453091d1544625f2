"""Calibration of the fill intensity lambda(delta) = A exp(-k delta).

The intensity at which a quote resting at distance delta from the mid is filled is the rate of
market orders reaching that deep. From trades and the book: for each trade, its depth is the
distance between its price and the mid just before it (:func:`trade_depths`); a quote at
distance delta would have been filled by every trade at least that deep, so over an observation
window of length T the count N(delta) of such trades has mean T A exp(-k delta)
(:func:`fill_counts`). :class:`IntensityFit` estimates A and k from (delta, count, exposure).

Units: A is per unit of the exposure's time (1/U), k per price unit (1/P). The quoting models
take A in 1/U per side, k in 1/P and the mid's ``sigma_px`` in price per square root of U
(P / sqrt(U), not annualised); :func:`mmlab.quoting.fit_intensity` estimates all three from an
event data set, with U = ``time_unit_ns`` (seconds by default, as the backtest).
"""

from __future__ import annotations

import math

import numpy as np

from mmlab.errors import ConfigError, DataError

__all__ = ["IntensityFit", "fill_counts", "trade_depths"]


def trade_depths(trade_px, trade_side, mid_before):
    """Distance of each trade from the mid before it, on the side it consumed.

    Parameters
    ----------
    trade_px : array_like
        Trade prices.
    trade_side : array_like
        +1 for a buyer-initiated trade (it lifts asks: depth = px - mid), -1 for a
        seller-initiated one (it hits bids: depth = mid - px).
    mid_before : array_like
        The book's mid just before each trade.

    Returns
    -------
    ndarray
        Depths in price units (negative when a trade printed through the mid).

    Raises
    ------
    DataError
        Different lengths, a non-finite value, or a side other than +1/-1 (names the row).

    Examples
    --------
    >>> trade_depths([100.2, 99.7], [1, -1], [100.0, 100.0]).round(6)
    array([0.2, 0.3])
    """
    px = np.asarray(trade_px, dtype=float)
    side = np.asarray(trade_side, dtype=float)
    mid = np.asarray(mid_before, dtype=float)
    if not (px.shape == side.shape == mid.shape) or px.ndim != 1:
        raise DataError(f"trade_px, trade_side, mid_before must be 1-D of equal length, got "
                        f"{px.shape}, {side.shape}, {mid.shape}")
    for name, arr in (("trade_px", px), ("mid_before", mid)):
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise DataError(f"{name} is not finite: {arr[bad[0]]!r}", row=int(bad[0]))
    bad = np.flatnonzero((side != 1.0) & (side != -1.0))
    if bad.size:
        raise DataError(f"trade_side must be +1 or -1, got {side[bad[0]]!r}", row=int(bad[0]))
    return side * (px - mid)


def fill_counts(depths, deltas):
    """For each quote distance in ``deltas``, the number of trades at least that deep.

    Examples
    --------
    >>> fill_counts([0.1, 0.5, 0.5, 2.0], [0.0, 0.5, 1.0, 3.0])
    array([4, 3, 1, 0])
    """
    d = np.sort(np.asarray(depths, dtype=float))
    x = np.asarray(deltas, dtype=float)
    if d.ndim != 1 or x.ndim != 1:
        raise DataError("depths and deltas must be 1-D")
    if not np.all(np.isfinite(d)):
        raise DataError("depths must be finite", row=int(np.flatnonzero(~np.isfinite(d))[0]))
    return (d.size - np.searchsorted(d, x, side="left")).astype(np.int64)


class IntensityFit:
    """Estimate A and k of lambda(delta) = A exp(-k delta) (scikit-learn style).

    Parameters
    ----------
    method : {"mle", "loglinear"}, default "mle"
        "mle": Poisson maximum likelihood, counts_i ~ Poisson(exposure_i A exp(-k delta_i)),
        solved by Newton's method on (ln A, k) (the log-likelihood is concave there); standard
        errors from the observed information. Waiting times fit the same way: a fill after
        waiting w at distance delta is count 1 with exposure w (exponential likelihood).
        "loglinear": ordinary least squares of ln(count / exposure) on delta over the rows
        with a positive count (the classic quick fit; biased when counts are small).
    max_iter : int, default 100
        Newton iterations (mle).
    tol : float, default 1e-10
        Convergence tolerance on the Newton step (mle).

    Attributes
    ----------
    A_ : float
        Intensity at delta = 0, per unit of exposure time.
    k_ : float
        Decay per price unit.
    A_se_, k_se_ : float
        Standard errors (delta method for A_).
    n_iter_ : int
        Newton iterations used (0 for loglinear).
    log_likelihood_ : float
        Poisson log-likelihood at the estimate (without the ln(count!) constant).

    Examples
    --------
    >>> deltas = np.array([0.0, 0.5, 1.0, 1.5, 2.0])
    >>> counts = np.array([1000, 472, 223, 105, 50])        # ~ 1000 exp(-1.5 delta)
    >>> fit = IntensityFit().fit(deltas, counts, exposure=10.0)
    >>> round(fit.A_, 1), round(fit.k_, 3)
    (100.0, 1.5)
    """

    def __init__(self, method: str = "mle", max_iter: int = 100, tol: float = 1e-10):
        self.method = method
        self.max_iter = max_iter
        self.tol = tol

    # -- helpers ------------------------------------------------------------------------------
    def _validate(self, deltas, counts, exposure):
        if self.method not in ("mle", "loglinear"):
            raise ConfigError(f"method must be 'mle' or 'loglinear', got {self.method!r}")
        if not isinstance(self.max_iter, (int, np.integer)) or self.max_iter < 1:
            raise ConfigError(f"max_iter must be a positive integer, got {self.max_iter!r}")
        if not (isinstance(self.tol, (int, float)) and self.tol > 0):
            raise ConfigError(f"tol must be > 0, got {self.tol!r}")
        x = np.asarray(deltas, dtype=float)
        c = np.asarray(counts, dtype=float)
        if x.ndim != 1 or c.shape != x.shape:
            raise DataError(f"deltas and counts must be 1-D of equal length, got {x.shape}, {c.shape}")
        e = np.broadcast_to(np.asarray(exposure, dtype=float), x.shape).astype(float)
        for name, arr in (("deltas", x), ("counts", c), ("exposure", e)):
            bad = np.flatnonzero(~np.isfinite(arr))
            if bad.size:
                raise DataError(f"{name} is not finite: {arr[bad[0]]!r}", row=int(bad[0]))
        bad = np.flatnonzero(c < 0)
        if bad.size:
            raise DataError(f"counts must be >= 0, got {c[bad[0]]!r}", row=int(bad[0]))
        bad = np.flatnonzero(e <= 0)
        if bad.size:
            raise DataError(f"exposure must be > 0, got {e[bad[0]]!r}", row=int(bad[0]))
        if np.unique(x).size < 2:
            raise DataError("need at least two distinct deltas to identify k")
        if c.sum() <= 0:
            raise DataError("all counts are zero: the intensity is not identified")
        return x, c, e

    @staticmethod
    def _loglinear(x, c, e):
        m = c > 0
        if np.unique(x[m]).size < 2:
            raise DataError("loglinear fit needs positive counts at two distinct deltas")
        X = np.column_stack([np.ones(m.sum()), x[m]])
        y = np.log(c[m] / e[m])
        beta, *_ = np.linalg.lstsq(X, y, rcond=None)
        resid = y - X @ beta
        dof = max(int(m.sum()) - 2, 1)
        s2 = float(resid @ resid) / dof
        cov = s2 * np.linalg.inv(X.T @ X)
        return float(beta[0]), float(-beta[1]), cov

    # -- API ----------------------------------------------------------------------------------
    def fit(self, deltas, counts, exposure=1.0):
        """Fit A and k.

        Parameters
        ----------
        deltas : array_like
            Quote distances from the mid (price units).
        counts : array_like
            Fills (or trades at least that deep) observed at each distance, >= 0.
        exposure : float or array_like, default 1.0
            Time over which each count was observed (the unit of 1 / A_), > 0.

        Returns
        -------
        self

        Raises
        ------
        DataError
            Mismatched lengths, non-finite values, negative counts, non-positive exposure
            (naming the row), fewer than two distinct deltas, or no fills at all.
        ConfigError
            Bad ``method``, ``max_iter`` or ``tol``.
        """
        x, c, e = self._validate(deltas, counts, exposure)
        if self.method == "loglinear":
            a, k, cov = self._loglinear(x, c, e)
            n_iter = 0
        else:
            # start: loglinear where possible, else a flat guess at the mean rate
            try:
                a, k, _ = self._loglinear(x, c, e)
            except DataError:
                a, k = math.log(c.sum() / e.sum()), 0.0
            n_iter = 0
            ll = self._ll(a, k, x, c, e)
            for n_iter in range(1, self.max_iter + 1):  # noqa: B007
                mu = e * np.exp(a - k * x)
                g = np.array([np.sum(c - mu), -np.sum(x * (c - mu))])
                H = np.array([[np.sum(mu), -np.sum(x * mu)], [-np.sum(x * mu), np.sum(x * x * mu)]])
                step = np.linalg.solve(H, g)  # H is the (positive-definite) negative Hessian
                t = 1.0
                while True:
                    a_new, k_new = a + t * step[0], k + t * step[1]
                    ll_new = self._ll(a_new, k_new, x, c, e)
                    if ll_new >= ll - 1e-12 * abs(ll) or t < 1e-8:
                        break
                    t *= 0.5
                a, k, ll = a_new, k_new, ll_new
                if np.max(np.abs(t * step)) < self.tol:
                    break
            else:
                raise DataError(f"intensity MLE did not converge in {self.max_iter} iterations")
            mu = e * np.exp(a - k * x)
            H = np.array([[np.sum(mu), -np.sum(x * mu)], [-np.sum(x * mu), np.sum(x * x * mu)]])
            cov = np.linalg.inv(H)
        self.A_ = math.exp(a)
        self.k_ = float(k)
        self.A_se_ = self.A_ * math.sqrt(max(cov[0, 0], 0.0))
        self.k_se_ = math.sqrt(max(cov[1, 1], 0.0))
        self.n_iter_ = n_iter
        self.log_likelihood_ = self._ll(a, k, x, c, e)
        return self

    @staticmethod
    def _ll(a, k, x, c, e):
        eta = a - k * x + np.log(e)
        return float(np.sum(c * eta - np.exp(eta)))

    def predict(self, deltas):
        """Fitted intensity A_ exp(-k_ delta) at ``deltas``.

        Examples
        --------
        >>> fit = IntensityFit().fit([0.0, 1.0], [100, 37], exposure=1.0)
        >>> round(float(fit.predict(0.0)), 6)
        100.0
        """
        if not hasattr(self, "A_"):
            raise ConfigError("IntensityFit is not fitted yet: call fit() first")
        return self.A_ * np.exp(-self.k_ * np.asarray(deltas, dtype=float))
