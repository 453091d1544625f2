"""mmlab: a research workbench for derivatives market making.

The pipeline is visible in the sub-packages: ``data`` -> ``book`` -> ``pricing`` -> ``quoting``
-> ``risk`` -> ``execution`` -> ``backtest``.
"""

from __future__ import annotations

from mmlab.errors import (
    ConfigError,
    CrossedBookError,
    DataError,
    FormatError,
    InvalidTransitionError,
    MMLabError,
    OverfillError,
    QuoteValidationError,
    SequenceGapError,
    TimestampOrderError,
)

__version__ = "0.1.0"

__all__ = sorted(
    [
        "ConfigError",
        "CrossedBookError",
        "DataError",
        "FormatError",
        "InvalidTransitionError",
        "MMLabError",
        "OverfillError",
        "QuoteValidationError",
        "SequenceGapError",
        "TimestampOrderError",
        "__version__",
    ]
)
