"""Calendar spreads between any two CL contract months."""

from __future__ import annotations

import pandas as pd

from mmlab.commodities._curve import FuturesCurve, contract_history
from mmlab.errors import ConfigError

__all__ = ["calendar_spread", "calendar_spread_history"]


def calendar_spread(curve: FuturesCurve, near: str | int, far: str | int) -> float:
    """Calendar spread ``F_near - F_far`` in USD/bbl on one curve (positive = backwardation).

    Defined for any sign of the settles (the spread is a price difference, not a log).

    Parameters
    ----------
    curve : FuturesCurve
        From :func:`futures_curve`.
    near, far : str or int
        Contract codes (``'CLZ23'``) or ranks (1 = front).

    Examples
    --------
    >>> from mmlab.commodities import futures_curve
    >>> round(calendar_spread(futures_curve("2020-04-20"), "CLK20", "CLM20"), 2)  # May-June, -37.63 - 20.43
    -58.06
    """
    a, b = curve.row(near), curve.row(far)
    if a.name == b.name:
        raise ConfigError(f"near, far: the same contract {a.name}")
    return float(a["settle"] - b["settle"])


def calendar_spread_history(near: str, far: str, settles: pd.DataFrame | None = None) -> pd.DataFrame:
    """Daily ``near - far`` spread of two fixed contract months over the dates both are listed.

    Returns
    -------
    pandas.DataFrame
        Index ``date``: ``near, far`` (settles of each contract) and ``spread``.

    Examples
    --------
    >>> h = calendar_spread_history("CLK20", "CLM20")
    >>> float(h.loc["2020-04-21", "spread"])  # 10.01 - 11.57 on CLK20's last day
    -1.56
    """
    a = contract_history(near, settles)
    b = contract_history(far, settles)
    if a.name == b.name:
        raise ConfigError(f"near, far: the same contract {a.name}")
    both = pd.concat({"near": a, "far": b}, axis=1, join="inner")
    if both.empty:
        raise ConfigError(f"near, far: {a.name} and {b.name} are never listed on the same date in the file")
    both["spread"] = both["near"] - both["far"]
    both.attrs.update(near=a.name, far=b.name, units="USD per barrel")
    return both
