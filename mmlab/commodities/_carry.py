"""Roll yield, roll returns of the roll-ranked series, and implied convenience yield (cost of carry).

Conventions
-----------
* **Roll yield** between a near and a far contract: the annualised log slope
  ``ln(F_near / F_far) / (t_far - t_near)``; positive in backwardation (a long position rolled
  forward buys the cheaper deferred contract), negative in contango.
* **Roll return** on a roll date (the first row whose CL01 is a new contract): the roll-ranked CL01
  series jumps from the expiring contract to the next one, a change nobody earns. The return of the
  contract actually held, ``contract_return = ln(CL01_now / CL02_prev)``, is exactly the naive
  change ``ln(CL01_now / CL01_prev)`` plus the ``roll_return = ln(CL01_prev / CL02_prev)`` (positive
  in backwardation, measured at the previous settle). Price differences are reported as well
  (``contract_change = naive_change + roll_gap``), since they stay defined for negative settles.
* **Cost of carry** ``F(T) = S exp((r - y) tau)`` with the spot ``S`` *proxied by the front
  contract's settle* (WTI spot is the front month for delivery at Cushing) and ``tau = t_i - t_1``
  the time from the front's expiry to contract ``i``'s expiry. So ``carry_i = ln(F_i / F_1) / tau_i``
  and the implied convenience yield (net of storage costs) is ``y_i = r - carry_i``; ``r`` is the
  financing rate supplied by the caller (e.g. a SOFR fixing, :func:`mmlab.data.load_sofr`).

Logs need positive prices: where a settle is <= 0 (WTI on 2020-04-20), table outputs are NaN with
``reason = 'nonpositive_price'`` and scalar functions raise :class:`~mmlab.errors.DataError`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from mmlab.commodities._contracts import (
    _expiry_ns,
    _front,
    contract_code,
    settle_instant,
    wti_settles,
)
from mmlab.commodities._curve import FuturesCurve
from mmlab.errors import ConfigError, DataError
from mmlab.pricing import year_fraction

__all__ = ["convenience_yield", "roll_returns", "roll_yield", "roll_yield_history"]


def roll_yield(curve: FuturesCurve, near: str | int = 1, far: str | int = 2) -> float:
    """Annualised log roll yield ``ln(F_near / F_far) / (t_far - t_near)`` on one curve.

    Parameters
    ----------
    curve : FuturesCurve
        From :func:`futures_curve`.
    near, far : str or int
        Contract codes (``'CLZ23'``) or ranks (1 = front); default front and next.

    Raises
    ------
    DataError
        A settle <= 0 (the log slope is undefined; use :func:`calendar_spread`).
    ConfigError
        ``far`` does not expire after ``near``.

    Examples
    --------
    >>> from mmlab.commodities import futures_curve
    >>> round(roll_yield(futures_curve("2023-10-19")), 4)  # backwardated: 89.37 vs 88.37
    0.1323
    """
    a, b = curve.row(near), curve.row(far)
    dt = float(b["t"] - a["t"])
    if dt <= 0:
        raise ConfigError(f"far: {b.name} must expire after near {a.name}")
    fa, fb = float(a["settle"]), float(b["settle"])
    if fa <= 0 or fb <= 0:
        raise DataError(
            f"{curve.date.date()}: roll yield {a.name}->{b.name} needs positive settles, got {fa} and {fb}"
            " (negative prices are real: use calendar_spread for the price difference)"
        )
    return float(np.log(fa / fb) / dt)


def _front_k(dates: pd.DatetimeIndex) -> np.ndarray:
    fr = np.array([_front(d.date()) for d in dates], dtype=np.int64)
    return fr[:, 0] * 12 + fr[:, 1] - 1


def roll_yield_history(settles: pd.DataFrame | None = None, near: int = 1, far: int = 2) -> pd.DataFrame:
    """Front-to-next (or rank ``near`` to ``far``) annualised log roll yield on every date.

    Returns
    -------
    pandas.DataFrame
        Index ``date``; columns ``near, far`` (contract codes), ``t_near, t_far, settle_near,
        settle_far, roll_yield, reason`` (``'ok'`` or ``'nonpositive_price'``).

    Examples
    --------
    >>> h = roll_yield_history()
    >>> r = h.loc["2020-04-20"]
    >>> r["near"], bool(np.isnan(r["roll_yield"])), r["reason"]
    ('CLK20', True, 'nonpositive_price')
    """
    wide = wti_settles(settles)
    m = wide.shape[1]
    if not (1 <= near < far <= m):
        raise ConfigError(f"near, far: need 1 <= near < far <= {m}, got {near}, {far}")
    k0 = _front_k(wide.index)
    kn, kf = k0 + near - 1, k0 + far - 1
    val = np.array([settle_instant(d).value for d in wide.index], dtype=np.int64)
    en = np.array([_expiry_ns(k // 12, k % 12 + 1) for k in kn], dtype=np.int64)
    ef = np.array([_expiry_ns(k // 12, k % 12 + 1) for k in kf], dtype=np.int64)
    tn = np.asarray(year_fraction(val, en), dtype=float)
    tf = np.asarray(year_fraction(val, ef), dtype=float)
    fn = wide.iloc[:, near - 1].to_numpy(dtype=float)
    ff = wide.iloc[:, far - 1].to_numpy(dtype=float)
    pos = (fn > 0) & (ff > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ry = np.where(pos, np.log(np.where(pos, fn / ff, 1.0)) / (tf - tn), np.nan)
    return pd.DataFrame(
        {
            "near": [contract_code(k // 12, k % 12 + 1) for k in kn],
            "far": [contract_code(k // 12, k % 12 + 1) for k in kf],
            "t_near": tn,
            "t_far": tf,
            "settle_near": fn,
            "settle_far": ff,
            "roll_yield": ry,
            "reason": np.where(pos, "ok", "nonpositive_price"),
        },
        index=wide.index,
    )


def roll_returns(settles: pd.DataFrame | None = None) -> pd.DataFrame:
    """The roll-ranked CL01 series at each expiry roll: roll return vs contract return.

    A roll date is the first row whose front contract differs from the previous row's (the
    previous row is the expiring contract's last trading day, or the last settle before it).

    Returns
    -------
    pandas.DataFrame
        One row per roll, index ``date``: ``prev_date, expired, new_front, expired_settle
        (CL01 on prev_date), new_front_prev_settle (CL02 on prev_date), new_front_settle (CL01 on
        date), roll_gap = CL01_prev - CL02_prev, naive_change = CL01 - CL01_prev,
        contract_change = CL01 - CL02_prev, roll_return = ln(CL01_prev / CL02_prev),
        naive_return = ln(CL01 / CL01_prev), contract_return = ln(CL01 / CL02_prev), reason``
        (``'ok'``, ``'nonpositive_price'`` - log columns NaN, price columns kept - or
        ``'skipped_month'`` when CL02 of the previous row is not the new front).

    Examples
    --------
    >>> rr = roll_returns()
    >>> r = rr.loc["2020-04-22"]
    >>> r["expired"], r["new_front"], round(float(r["roll_return"]), 4)
    ('CLK20', 'CLM20', -0.1448)
    """
    wide = wti_settles(settles)
    if wide.shape[1] < 2:
        raise ConfigError("settles: need at least CL01 and CL02")
    k0 = _front_k(wide.index)
    idx = np.flatnonzero(np.diff(k0) != 0) + 1
    c1 = wide.iloc[:, 0].to_numpy(dtype=float)
    c2 = wide.iloc[:, 1].to_numpy(dtype=float)
    p1, p2, n1 = c1[idx - 1], c2[idx - 1], c1[idx]
    pos = (p1 > 0) & (p2 > 0) & (n1 > 0)
    skipped = k0[idx] != k0[idx - 1] + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        lg = lambda a, b: np.where(pos, np.log(np.where(pos, a / b, 1.0)), np.nan)  # noqa: E731
        out = pd.DataFrame(
            {
                "prev_date": wide.index[idx - 1],
                "expired": [contract_code(k // 12, k % 12 + 1) for k in k0[idx - 1]],
                "new_front": [contract_code(k // 12, k % 12 + 1) for k in k0[idx]],
                "expired_settle": p1,
                "new_front_prev_settle": p2,
                "new_front_settle": n1,
                "roll_gap": p1 - p2,
                "naive_change": n1 - p1,
                "contract_change": n1 - p2,
                "roll_return": lg(p1, p2),
                "naive_return": lg(n1, p1),
                "contract_return": lg(n1, p2),
                "reason": np.where(skipped, "skipped_month", np.where(pos, "ok", "nonpositive_price")),
            },
            index=wide.index[idx],
        )
    return out


def convenience_yield(curve: FuturesCurve, rate: float | Callable[[np.ndarray], np.ndarray]) -> pd.DataFrame:
    """Implied cost of carry and convenience yield term structure, spot proxied by the front month.

    Parameters
    ----------
    curve : FuturesCurve
        From :func:`futures_curve`.
    rate : float or callable
        Continuously compounded financing rate (decimal), flat, or a function of ``tau`` (years)
        returning the zero rate for each contract's carry horizon.

    Returns
    -------
    pandas.DataFrame
        Index ``contract``: ``t, tau = t - t_front, settle, rate, carry = ln(F/F_front)/tau,
        convenience_yield = rate - carry, reason`` (``'spot_proxy'`` for the front row,
        ``'nonpositive_price'``, else ``'ok'``).

    Examples
    --------
    >>> from mmlab.commodities import futures_curve
    >>> cy = convenience_yield(futures_curve("2023-10-19"), rate=0.053)
    >>> round(float(cy.loc["CLF24", "convenience_yield"]), 4)  # backwardation: y > r
    0.2122
    """
    tab = curve.table
    t = tab["t"].to_numpy(dtype=float)
    f = tab["settle"].to_numpy(dtype=float)
    tau = t - t[0]
    if callable(rate):
        r = np.broadcast_to(np.asarray(rate(tau), dtype=float), tau.shape).copy()
    else:
        r = np.full(tau.shape, float(rate))
    if not np.isfinite(r).all():
        raise ConfigError("rate: must be finite")
    pos = (f > 0) & (f[0] > 0)
    ok = pos & (tau > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        carry = np.where(ok, np.log(np.where(ok, f / f[0], 1.0)) / np.where(ok, tau, 1.0), np.nan)
    reason = np.where(~pos, "nonpositive_price", np.where(tau > 0, "ok", "spot_proxy"))
    reason[0] = "spot_proxy" if f[0] > 0 else "nonpositive_price"
    return pd.DataFrame(
        {
            "t": t,
            "tau": tau,
            "settle": f,
            "rate": r,
            "carry": carry,
            "convenience_yield": r - carry,
            "reason": reason,
        },
        index=tab.index,
    )
