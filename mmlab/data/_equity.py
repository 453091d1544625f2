"""Equity loader: S&P 500 index daily OHLCV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mmlab.data._rates import _check_order, _dates, _numeric, _read_rows
from mmlab.data._validate import RULES
from mmlab.errors import DataError, FormatError

__all__ = ["load_sp500_daily"]

_COLUMNS = {"Date": "date", "Open": "open", "High": "high", "Low": "low", "Close": "close",
            "Adj Close": "adj_close", "Volume": "volume"}  # fmt: skip


def load_sp500_daily(path: str | Path) -> pd.DataFrame:
    """Load S&P 500 daily bars (``Date,Open,High,Low,Close,Adj Close,Volume``, CSV or .csv.gz).

    Parameters
    ----------
    path : str or Path
        Dates ``M/D/YYYY`` or ``YYYY-MM-DD``, strictly ascending.

    Returns
    -------
    pandas.DataFrame
        Index ``date``; columns ``open, high, low, close, adj_close`` in index points and
        ``volume`` (int64, shares traded in the index constituents as the vendor reports it).

    Raises
    ------
    FormatError
        Truncated gzip, missing/renamed columns, empty or non-numeric fields, bad dates.
    TimestampOrderError, DataError
        Dates going backwards or repeated; negative or zero prices, negative volume, a bar whose
        high is below its open/close/low or whose low is above them.
    RangeError
        A price or volume outside ``RULES['sp500']`` (volume a whole number up to 10^15, checked
        before the cast to int64: ``Volume=1e308`` is refused, not wrapped to -9.2e18).

    Examples
    --------
    >>> from mmlab._paths import shipped
    >>> spx = load_sp500_daily(shipped("equity", "sp500_daily_1999-2018.csv.gz"))
    >>> len(spx), float(spx["close"].iloc[-1])  # last row: 12/31/2018 close 2506.850098
    (5031, 2506.850098)
    """
    path = Path(path)
    header, rows, lines = _read_rows(path)
    header = [h.strip() for h in header]
    if header != list(_COLUMNS):
        raise FormatError(f"expected columns {list(_COLUMNS)}, got {header}", path=path, row=1)
    raw = pd.DataFrame(rows, columns=header)
    dates = _dates(raw["Date"], ("%m/%d/%Y", "%Y-%m-%d"), path, lines, "Date")
    _check_order(dates, path, lines, allow_descending=False)
    out = pd.DataFrame(index=pd.DatetimeIndex(dates, name="date"))
    rules = RULES["sp500"]
    for src, dst in list(_COLUMNS.items())[1:]:
        v = _numeric(raw[src], src, path, lines, allow_blank=False)
        bad = np.flatnonzero(v < 0 if dst == "volume" else v <= 0)
        if bad.size:
            i = int(bad[0])
            raise DataError(f"{'negative' if dst == 'volume' else 'non-positive'} value {v[i]}", path=path,
                            row=lines[i], column=src)
        # ranges (Volume: a bounded whole number) checked before the cast to int64
        rules.check("Volume" if dst == "volume" else "price", v, path, lines, src)
        out[dst] = v
    out["volume"] = out["volume"].to_numpy().astype(np.int64)
    o, h, lo, c = (out[k].to_numpy() for k in ("open", "high", "low", "close"))
    bad = np.flatnonzero((h < np.maximum(np.maximum(o, c), lo)) | (lo > np.minimum(np.minimum(o, c), h)))
    if bad.size:
        i = int(bad[0])
        raise DataError(f"inconsistent bar: open {o[i]} high {h[i]} low {lo[i]} close {c[i]}", path=path, row=lines[i])
    out.attrs["units"] = "index points; volume in shares"
    return out
