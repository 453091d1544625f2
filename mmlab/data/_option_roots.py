"""Option roots: the contract terms shared by every option of a listed root (settlement, exercise,
expiry instant), and the strict number parser the option-chain loaders share (see
:mod:`mmlab.data._options`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from mmlab.errors import ConfigError, DataError, FormatError

__all__ = ["OPTION_ROOTS", "OptionRoot"]

NEW_YORK = ZoneInfo("America/New_York")


UTC = ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class OptionRoot:
    """Contract terms shared by every option of one listed root.

    Parameters
    ----------
    root : str
        Option root as in the OCC symbol (``'SPXW'``).
    underlying : str
        Underlying symbol (``'SPX'``).
    settlement : {'AM', 'PM', 'TWAP'}
        When the settlement value is taken.
    settlement_type : {'cash', 'physical'}
    exercise : {'european', 'american'}
    expiry_time : datetime.time
        Local time of the expiry instant in ``expiry_tz``.
    expiry_tz : str
        IANA time zone of ``expiry_time``.

    Examples
    --------
    >>> OPTION_ROOTS["SPXW"].settlement, OPTION_ROOTS["SPX"].settlement
    ('PM', 'AM')
    """

    root: str
    underlying: str
    settlement: str
    settlement_type: str
    exercise: str
    expiry_time: time
    expiry_tz: str

    def __post_init__(self) -> None:
        if self.settlement not in ("AM", "PM", "TWAP"):
            raise ConfigError(f"settlement must be 'AM', 'PM' or 'TWAP', got {self.settlement!r}")
        if self.settlement_type not in ("cash", "physical"):
            raise ConfigError(f"settlement_type must be 'cash' or 'physical', got {self.settlement_type!r}")
        if self.exercise not in ("european", "american"):
            raise ConfigError(f"exercise must be 'european' or 'american', got {self.exercise!r}")
        ZoneInfo(self.expiry_tz)

    def expiry_instant(self, day: pd.Timestamp | str) -> pd.Timestamp:
        """Exact expiry instant (tz-aware UTC) of this root's options expiring on ``day``.

        Examples
        --------
        >>> str(OPTION_ROOTS["SPX"].expiry_instant("2023-09-15"))
        '2023-09-15 13:30:00+00:00'
        >>> str(OPTION_ROOTS["SPXW"].expiry_instant("2022-02-07"))
        '2022-02-07 21:00:00+00:00'
        """
        d = pd.Timestamp(day)
        local = datetime.combine(d.date(), self.expiry_time, tzinfo=ZoneInfo(self.expiry_tz))
        return pd.Timestamp(local).tz_convert("UTC")


_AM = time(9, 30)


_PM = time(16, 0)


#: Known option roots. AM-settled index options settle on the special opening quotation, so the
#: expiry instant is the 09:30 New York open; PM-settled ones at the 16:00 close.
OPTION_ROOTS: dict[str, OptionRoot] = {
    r.root: r
    for r in (
        OptionRoot("SPX", "SPX", "AM", "cash", "european", _AM, "America/New_York"),
        OptionRoot("SPXW", "SPX", "PM", "cash", "european", _PM, "America/New_York"),
        OptionRoot("NDX", "NDX", "AM", "cash", "european", _AM, "America/New_York"),
        OptionRoot("NDXP", "NDX", "PM", "cash", "european", _PM, "America/New_York"),
        OptionRoot("SPY", "SPY", "PM", "physical", "american", _PM, "America/New_York"),
        OptionRoot("BTC", "BTC", "TWAP", "cash", "european", time(8, 0), "UTC"),
    )
}


def _number(text: str, path: Path, line: int, what: str, *, allow_negative: bool = False,
            rule=None) -> float:
    """One number of a vendor field; ``rule`` (a declared FieldRule) bounds it."""
    s = text.strip().replace(",", "")
    try:
        v = float(s)
    except ValueError:
        raise FormatError(f"not a number: {text[:40]!r}", path=path, row=line, column=what) from None
    if not math.isfinite(v):
        raise FormatError(f"{text[:40]!r} is not a finite number", path=path, row=line, column=what)
    if v < 0 and not allow_negative:
        raise DataError(f"negative value {v}", path=path, row=line, column=what)
    if rule is not None:
        rule.check_scalar(v, path, line, column=what)
    return v

