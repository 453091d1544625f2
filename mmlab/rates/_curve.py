"""A bootstrapped discount curve: discount factors, zero and forward rates, its instruments.

Time on a :class:`Curve` is measured in years of Act/365F from the curve date (``t = days / 365``),
whatever the instruments' own accrual conventions; dates may be given instead of times anywhere.
Between pillars the curve interpolates log-linearly in the discount factor (piecewise-flat
instantaneous forwards), QuantLib's ``PiecewiseLogLinearDiscount``; it does not extrapolate.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

import numpy as np
import pandas as pd
import QuantLib as ql

from mmlab.errors import ConfigError
from mmlab.rates._conventions import to_ql_date, to_timestamp

__all__ = ["Curve"]

#: Largest repricing error a bootstrap may leave: rate quotes (decimal) and price quotes (per 100).
RATE_TOL, PRICE_TOL = 1e-10, 1e-8

_COMPOUNDING = ("continuous", "annual", "semiannual", "simple")


class Curve:
    """A discount curve bootstrapped by :func:`~mmlab.rates.swap_curve` or
    :func:`~mmlab.rates.treasury_curve` (built by those functions, not by hand).

    Attributes
    ----------
    date : pandas.Timestamp
        Curve (valuation) date: ``discount(date) == 1``.
    name : str
        What the curve is (``'USD SOFR'``, ``'UST par'``).
    instruments : pandas.DataFrame
        One row per input quote: ``kind, name, tenor, quote, rate, start, end, pillar, used,
        note, model_quote, error``. ``used`` is False for instruments the overlap rules dropped
        (``note`` says why); ``model_quote`` is QuantLib's repricing after the bootstrap.
    conventions : Conventions or TreasuryConventions
        The conventions the curve was built with.

    Examples
    --------
    >>> from mmlab.rates import swap_curve
    >>> c = swap_curve("2023-10-19")
    >>> float(c.discount(0.0))
    1.0
    >>> round(float(c.zero_rate("2033-10-19")), 6)
    0.045182
    """

    def __init__(
        self,
        date,
        dates,
        discounts,
        *,
        name: str,
        instruments: pd.DataFrame,
        conventions,
        rebuild: Callable[[float], Curve],
        bump_bp: float = 0.0,
    ):
        self.date = to_timestamp(date, "date")
        self.name = name
        self.instruments = instruments
        self.conventions = conventions
        self.bump_bp = float(bump_bp)
        self._rebuild = rebuild
        self._node_dates = pd.DatetimeIndex([to_timestamp(d, "dates") for d in dates])
        self._node_df = np.asarray(discounts, dtype=float)
        if self._node_dates[0] != self.date or abs(self._node_df[0] - 1.0) > 1e-15:
            raise ConfigError("dates/discounts: the first node must be the curve date with discount 1")
        # A curve fixed on its nodes: independent of QuantLib's global evaluation date and of
        # the rate helpers it was bootstrapped from.
        self._ql = ql.DiscountCurve([to_ql_date(d, "dates") for d in self._node_dates], list(self._node_df),
                                    ql.Actual365Fixed())
        self._t_max = float((self._node_dates[-1] - self.date).days) / 365.0

    # ------------------------------------------------------------------ QuantLib access
    @property
    def ql_curve(self) -> ql.YieldTermStructure:
        """The QuantLib term structure (a ``DiscountCurve`` on the bootstrapped nodes)."""
        return self._ql

    def handle(self) -> ql.YieldTermStructureHandle:
        """A QuantLib handle on the curve, for engines and indexes."""
        return ql.YieldTermStructureHandle(self._ql)

    @property
    def max_date(self) -> pd.Timestamp:
        """Last pillar date; the curve does not extrapolate beyond it."""
        return self._node_dates[-1]

    # ------------------------------------------------------------------ times
    def times(self, x, name: str = "t") -> np.ndarray:
        """Act/365F year fractions from the curve date of ``x`` (years, or dates).

        Examples
        --------
        >>> from mmlab.rates import swap_curve
        >>> swap_curve("2023-10-19").times(["2024-10-19", "2023-10-19"]).tolist()
        [1.0027397260273974, 0.0]
        """
        if isinstance(x, (str, pd.Timestamp, _dt.date, np.datetime64)):
            return np.asarray(float((to_timestamp(x, name) - self.date).days) / 365.0)
        arr = np.asarray(x)
        if arr.dtype.kind in "OUSM":
            idx = pd.DatetimeIndex([to_timestamp(v, name) for v in arr.ravel()])
            t = np.asarray((idx - self.date).days, dtype=float) / 365.0
            return t.reshape(arr.shape)
        if arr.dtype.kind not in "iuf":
            raise ConfigError(f"{name}: expected year fractions or dates, got dtype {arr.dtype}")
        return arr.astype(float)

    def _checked(self, x, name: str) -> np.ndarray:
        t = self.times(x, name)
        if np.isnan(t).any():
            raise ConfigError(f"{name}: NaN time")
        if (t < 0).any():
            raise ConfigError(f"{name}: before the curve date {self.date.date()} (t = {float(t.min()):.6g})")
        if (t > self._t_max + 1e-12).any():
            raise ConfigError(
                f"{name}: beyond the last pillar {self.max_date.date()} (t = {float(t.max()):.6g} > "
                f"{self._t_max:.6g}); the curve does not extrapolate"
            )
        return t

    # ------------------------------------------------------------------ values
    def discount(self, x):
        """Discount factor(s) to ``x`` (years from the curve date, or dates).

        Examples
        --------
        >>> from mmlab.rates import swap_curve
        >>> round(float(swap_curve("2023-10-19").discount(10.0)), 6)
        0.636471
        """
        t = self._checked(x, "x")
        out = np.array([self._ql.discount(float(v)) for v in t.ravel()]).reshape(t.shape)
        return out if out.ndim else np.float64(out)

    def zero_rate(self, x, compounding: str = "continuous"):
        """Zero rate(s) to ``x`` with the given compounding over Act/365F years.

        ``compounding``: ``'continuous'`` (``-ln P / t``), ``'annual'``, ``'semiannual'`` or
        ``'simple'``. At ``t = 0`` the limit (the first instantaneous forward) is returned.

        Examples
        --------
        >>> from mmlab.rates import swap_curve
        >>> round(float(swap_curve("2023-10-19").zero_rate(5.0, "annual")), 6)
        0.046347
        """
        if compounding not in _COMPOUNDING:
            raise ConfigError(f"compounding must be one of {list(_COMPOUNDING)}, got {compounding!r}")
        t = self._checked(x, "x")
        tt = np.where(t > 0, t, 1.0 / 365.0 / 24.0)
        p = np.array([self._ql.discount(float(v)) for v in tt.ravel()]).reshape(tt.shape)
        out = _rate_from_growth(1.0 / p, tt, compounding)
        return out if out.ndim else np.float64(out)

    def forward_rate(self, x1, x2, compounding: str = "simple"):
        """Forward rate(s) between ``x1`` and ``x2`` (years or dates), over Act/365F years.

        ``'simple'``: ``(P1 / P2 - 1) / (t2 - t1)``; ``'continuous'``: ``ln(P1 / P2) / (t2 - t1)``;
        ``'annual'``/``'semiannual'`` compounding likewise. Requires ``t2 > t1``.

        Examples
        --------
        >>> from mmlab.rates import swap_curve
        >>> round(float(swap_curve("2023-10-19").forward_rate(1.0, 2.0, "continuous")), 6)
        0.045325
        """
        if compounding not in _COMPOUNDING:
            raise ConfigError(f"compounding must be one of {list(_COMPOUNDING)}, got {compounding!r}")
        t1, t2 = np.broadcast_arrays(self._checked(x1, "x1"), self._checked(x2, "x2"))
        if (t2 <= t1).any():
            raise ConfigError("x1, x2: the forward period must have x2 after x1")
        p1 = np.array([self._ql.discount(float(v)) for v in t1.ravel()]).reshape(t1.shape)
        p2 = np.array([self._ql.discount(float(v)) for v in t2.ravel()]).reshape(t2.shape)
        out = _rate_from_growth(p1 / p2, t2 - t1, compounding)
        return out if out.ndim else np.float64(out)

    # ------------------------------------------------------------------ derived curves
    def bumped(self, bp: float = 1.0) -> Curve:
        """The curve re-bootstrapped with every input quote moved by ``bp`` basis points.

        Rates (deposits, swaps, par yields) go up by ``bp``; futures prices go down by
        ``bp / 100`` (their rate goes up by ``bp``). Bumps add up: ``c.bumped(1).bumped(1)`` is
        the curve bumped by 2 bp.
        """
        if isinstance(bp, bool) or not isinstance(bp, (int, float)) or not np.isfinite(bp) or abs(bp) > 500:
            raise ConfigError(f"bp must be a finite number of basis points in [-500, 500], got {bp!r}")
        return self._rebuild(self.bump_bp + float(bp))

    # ------------------------------------------------------------------ results protocol
    def to_frame(self) -> pd.DataFrame:
        """The pillars: ``date, t, discount, zero_cc`` (continuous zero rate) and ``fwd_cc`` (the
        flat continuous forward from this pillar to the next; NaN on the last).

        Examples
        --------
        >>> from mmlab.rates import treasury_curve
        >>> treasury_curve("2024-12-31").to_frame().columns.tolist()
        ['date', 't', 'discount', 'zero_cc', 'fwd_cc']
        """
        t = np.asarray((self._node_dates - self.date).days, dtype=float) / 365.0
        p = self._node_df
        with np.errstate(divide="ignore", invalid="ignore"):
            zero = np.where(t > 0, -np.log(p) / np.where(t > 0, t, 1.0), np.nan)
        fwd = np.full(len(t), np.nan)
        fwd[:-1] = np.log(p[:-1] / p[1:]) / np.diff(t)
        zero[0] = fwd[0]
        return pd.DataFrame({"date": self._node_dates, "t": t, "discount": p, "zero_cc": zero, "fwd_cc": fwd})

    def summary(self) -> str:
        """A few lines: name, date, instruments used and dropped, worst repricing error."""
        ins = self.instruments
        used = ins[ins["used"]]
        lines = [
            f"{self.name} curve on {self.date.date()}"
            + (f" (quotes bumped {self.bump_bp:+g} bp)" if self.bump_bp else ""),
            f"  instruments: {len(used)} used, {len(ins) - len(used)} dropped; last pillar {self.max_date.date()}",
            f"  worst QuantLib repricing error: {float(np.abs(used['error']).max()):.2e} (quote units)",
        ]
        for _, r in ins[~ins["used"]].iterrows():
            lines.append(f"  dropped {r['name']}: {r['note']}")
        return "\n".join(lines)

    def plot(self, ax=None, *, horizon: float | None = None):
        """Zero rates (continuous) and 1-day forwards (simple, Act/365F) in percent.

        Returns the matplotlib Axes.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4))
        end = self._t_max if horizon is None else min(float(horizon), self._t_max)
        t = np.linspace(1.0 / 365.0, end - 1.0 / 365.0, 600)
        ax.plot(t, 100 * self.zero_rate(t), label="zero (continuous)")
        ax.plot(t, 100 * self.forward_rate(t, t + 1.0 / 365.0), label="1-day forward", lw=0.8)
        used = self.instruments[self.instruments["used"]]
        tp = self.times(used["pillar"].to_numpy())
        tp = tp[tp <= end]
        ax.plot(tp, 100 * self.zero_rate(tp), "k.", label="pillars")
        ax.set_xlabel("years (Act/365F)")
        ax.set_ylabel("%")
        ax.set_title(f"{self.name} {self.date.date()}")
        ax.legend()
        return ax

    def __repr__(self) -> str:
        n = int(self.instruments["used"].sum())
        return f"Curve({self.name!r}, {self.date.date()}, {n} instruments, to {self.max_date.date()})"


def _rate_from_growth(g: np.ndarray, t: np.ndarray, compounding: str) -> np.ndarray:
    if compounding == "continuous":
        return np.log(g) / t
    if compounding == "simple":
        return (g - 1.0) / t
    n = 1.0 if compounding == "annual" else 2.0
    return n * (g ** (1.0 / (n * t)) - 1.0)


def check_repriced(instruments: pd.DataFrame, day: pd.Timestamp, path) -> None:
    """Raise DataError if a used instrument's QuantLib repricing misses its quote.

    Tolerances :data:`RATE_TOL` for rate quotes, :data:`PRICE_TOL` for prices (futures, bonds).
    """
    from mmlab.errors import DataError

    used = instruments[instruments["used"]]
    price = used["kind"].isin(["future", "bond"]).to_numpy()
    tol = np.where(price, PRICE_TOL, RATE_TOL)
    bad = ~(np.abs(used["error"].to_numpy()) <= tol)
    if bad.any():
        r = used[bad].iloc[0]
        raise DataError(
            f"bootstrap on {day.date()} does not reprice {r['name']}: quote {r['quote']!r}, "
            f"model {r['model_quote']!r}", path=path,
        )
