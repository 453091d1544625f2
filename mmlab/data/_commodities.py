"""Commodity loader: NYMEX WTI crude oil futures settles, roll-ranked CL01..CLnn."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from mmlab.data._rates import _check_order, _dates, _numeric, _read_rows
from mmlab.data._validate import RULES
from mmlab.errors import ConfigError, FormatError

__all__ = ["load_wti_settles"]

_RANK = re.compile(r"^CL(\d{2})$")


def load_wti_settles(path: str | Path, *, layout: str = "wide") -> pd.DataFrame:
    """Load daily NYMEX WTI (CL) futures settlement prices, ranked by time to expiry.

    Parameters
    ----------
    path : str or Path
        CSV ``date,CL01,CL02,...,CLnn`` with ISO dates ascending. ``CL01`` is the front
        (nearest-to-expiry) contract *on that date*, ``CL02`` the next, and so on: the columns
        are ranks that roll when the front contract expires, **not** fixed contract months.
    layout : {'wide', 'long'}
        ``'wide'``: index ``date``, columns ``CL01..CLnn``. ``'long'``: columns ``date, rank
        (1 = front), symbol ('CL01'), settle``.

    Returns
    -------
    pandas.DataFrame
        Settles in USD per barrel (contract size 1,000 barrels, see the instrument master).
        Negative settles are real data and kept exactly: the May 2020 contract (CL01 on
        2020-04-20, a day before it expired) settled at -37.63.

    Raises
    ------
    FormatError
        Columns not ``date`` then ``CL01..CLnn`` consecutive; an empty or non-numeric settle; a bad date;
        a truncated file (:class:`~mmlab.errors.TruncatedError`).
    RangeError
        A settle outside the declared plausible range (``RULES['wti']``: -1,000 to 10,000 USD/bbl).
    TimestampOrderError, DataError
        Dates going backwards; a duplicated date.

    Examples
    --------
    >>> from mmlab._paths import shipped
    >>> wti = load_wti_settles(shipped("commodities", "wti_cl01-cl36_settles_2007-2023.csv"))
    >>> float(wti.loc["2020-04-20", "CL01"])
    -37.63
    """
    if layout not in ("wide", "long"):
        raise ConfigError(f"layout must be 'wide' or 'long', got {layout!r}")
    path = Path(path)
    header, rows, lines = _read_rows(path)
    header = [h.strip() for h in header]
    ranks = [_RANK.match(h) for h in header[1:]]
    if header[0].lower() != "date" or not ranks or any(m is None for m in ranks):
        raise FormatError(f"expected columns 'date,CL01,CL02,...', got {header[:4]}...", path=path, row=1)
    nums = [int(m.group(1)) for m in ranks if m is not None]
    if nums != list(range(1, len(nums) + 1)):
        raise FormatError(f"rank columns must run CL01..CL{len(nums):02d} without gaps", path=path, row=1)
    raw = pd.DataFrame(rows, columns=header)
    dates = _dates(raw[header[0]], ("%Y-%m-%d", "%m/%d/%Y"), path, lines, header[0])
    _check_order(dates, path, lines, allow_descending=False)
    rule = RULES["wti"]["settle"]
    vals = {}
    for c in header[1:]:
        vals[c] = _numeric(raw[c], c, path, lines, allow_blank=False)
        rule.check(vals[c], path, lines, column=c)
    wide = pd.DataFrame(vals, index=pd.DatetimeIndex(dates, name="date"))
    wide.attrs["units"] = "USD per barrel; CL01 = front contract on each date (roll-ranked)"
    if layout == "wide":
        return wide
    long = wide.rename_axis(columns="symbol").stack().rename("settle").reset_index()
    long.insert(1, "rank", long["symbol"].str[2:].astype(np.int64))
    long.attrs.update(wide.attrs)
    return long
