"""The WTI futures curve on one date: roll ranks mapped to contract months and times to expiry."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mmlab.commodities._contracts import (
    _add_months,
    _expiry_ns,
    _front,
    _last_trade,
    contract_code,
    parse_contract,
    settle_instant,
    wti_settles,
)
from mmlab.errors import ConfigError
from mmlab.pricing import year_fraction

__all__ = ["FuturesCurve", "contract_history", "futures_curve"]


@dataclass(frozen=True, slots=True)
class FuturesCurve:
    """Settles of every listed rank on one date, with contract months and year fractions.

    Attributes
    ----------
    date : pandas.Timestamp
        The settlement date.
    valuation : pandas.Timestamp
        The settle instant, 14:30 New York on ``date`` (UTC).
    table : pandas.DataFrame
        One row per rank, index ``contract`` (``'CLK20'``): ``rank, symbol, year, month,
        last_trade, expiry (UTC instant, 14:30 New York on the last trading day), t (ACT/365F
        from the settle to the expiry), settle`` (USD/bbl; may be negative).
    """

    date: pd.Timestamp
    valuation: pd.Timestamp
    table: pd.DataFrame

    @property
    def contracts(self) -> list[str]:
        """Contract codes, front first."""
        return list(self.table.index)

    @property
    def front(self) -> str:
        """The front contract's code (``CL01``)."""
        return str(self.table.index[0])

    def row(self, contract: str | int) -> pd.Series:
        """The row of a contract code (``'CLZ23'``) or a rank (1 = front)."""
        if isinstance(contract, int | np.integer) and not isinstance(contract, bool):
            if not 1 <= int(contract) <= len(self.table):
                raise ConfigError(f"contract: rank must be 1..{len(self.table)}, got {contract!r}")
            return self.table.iloc[int(contract) - 1]
        y, m = parse_contract(str(contract))
        code = contract_code(y, m)
        if code not in self.table.index:
            raise ConfigError(
                f"contract: {code} is not on the {self.date.date()} curve ({self.front}..{self.table.index[-1]})"
            )
        return self.table.loc[code]

    def settle(self, contract: str | int) -> float:
        """Settle of a contract code or rank."""
        return float(self.row(contract)["settle"])

    def t(self, contract: str | int) -> float:
        """Year fraction from the settle to the contract's expiry."""
        return float(self.row(contract)["t"])

    def to_frame(self) -> pd.DataFrame:
        """The per-contract table (a copy)."""
        return self.table.copy()

    def summary(self) -> str:
        """One line: date, front, number of contracts, front/back settles and the shape."""
        s = self.table["settle"].to_numpy()
        shape = "backwardation" if s[0] > s[1] else ("contango" if s[0] < s[1] else "flat")
        return (
            f"WTI curve {self.date.date()}: {len(s)} contracts {self.front}..{self.table.index[-1]}, "
            f"front {s[0]:.2f}, next {s[1]:.2f}, last {s[-1]:.2f} USD/bbl ({shape} at the front)"
        )

    def plot(self, ax=None):
        """Settle against time to expiry, labelled by contract (matplotlib)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        ax.plot(self.table["t"], self.table["settle"], "o-")
        for code, r in self.table.iloc[::6].iterrows():
            ax.annotate(code, (r["t"], r["settle"]), fontsize=7)
        ax.axhline(0.0, color="0.7", lw=0.8)
        ax.set_xlabel("years to expiry (ACT/365F)")
        ax.set_ylabel("settle, USD/bbl")
        ax.set_title(f"NYMEX WTI futures curve {self.date.date()}")
        return ax


def futures_curve(date, settles: pd.DataFrame | None = None) -> FuturesCurve:
    """The futures curve of a settlement date, ranks mapped to NYMEX CL contract months.

    Parameters
    ----------
    date : str, date or Timestamp
        A date present in the settles.
    settles : pandas.DataFrame, optional
        Wide roll-ranked settles (:func:`mmlab.data.load_wti_settles`); default the shipped file.

    Returns
    -------
    FuturesCurve

    Raises
    ------
    ConfigError
        ``date`` not in the file.

    Examples
    --------
    The day WTI went negative: the May 2020 contract (expiring the next day) settled at -37.63.

    >>> c = futures_curve("2020-04-20")
    >>> c.contracts[:3], c.settle("CLK20"), round(c.t("CLK20") * 365, 6)
    (['CLK20', 'CLM20', 'CLN20'], -37.63, 1.0)
    """
    wide = wti_settles(settles)
    day = pd.Timestamp(date).normalize()
    if day.tzinfo is not None:
        day = day.tz_localize(None)
    if day not in wide.index:
        raise ConfigError(
            f"date: {day.date()} has no settles (file covers {wide.index[0].date()}..{wide.index[-1].date()},"
            " trading days only)"
        )
    vals = wide.loc[day].to_numpy(dtype=float)
    y0, m0 = _front(day.date())
    ym = [_add_months(y0, m0, i) for i in range(len(vals))]
    val = settle_instant(day)
    exp_ns = np.array([_expiry_ns(y, m) for y, m in ym], dtype=np.int64)
    table = pd.DataFrame(
        {
            "rank": np.arange(1, len(vals) + 1),
            "symbol": list(wide.columns),
            "year": [y for y, _ in ym],
            "month": [m for _, m in ym],
            "last_trade": [_last_trade(y, m) for y, m in ym],
            "expiry": pd.to_datetime(exp_ns, utc=True),
            "t": np.asarray(year_fraction(int(val.value), exp_ns), dtype=float),
            "settle": vals,
        },
        index=pd.Index([contract_code(y, m) for y, m in ym], name="contract"),
    )
    return FuturesCurve(date=day, valuation=val, table=table)


def contract_history(contract: str, settles: pd.DataFrame | None = None) -> pd.Series:
    """Settles of one fixed contract month over its life in the file (picking its rank each day).

    Examples
    --------
    >>> h = contract_history("CLK20")
    >>> h.index[-1].date(), float(h.iloc[-1]), float(h.loc["2020-04-20"])
    (datetime.date(2020, 4, 21), 10.01, -37.63)
    """
    y, m = parse_contract(contract)
    wide = wti_settles(settles)
    target = y * 12 + m - 1
    fronts = np.array([_front(d.date()) for d in wide.index], dtype=np.int64)
    rank = target - (fronts[:, 0] * 12 + fronts[:, 1] - 1)  # 0-based column
    ok = (rank >= 0) & (rank < wide.shape[1])
    vals = wide.to_numpy(dtype=float)[np.flatnonzero(ok), rank[ok]]
    out = pd.Series(vals, index=wide.index[ok], name=contract_code(y, m))
    out.attrs["units"] = "USD per barrel"
    return out
