"""mmlab: a research workbench for derivatives market making.

The pipeline is visible in the sub-packages: ``data`` -> ``book`` -> ``pricing`` -> ``quoting``
-> ``risk`` -> ``backtest`` (the one trading core: orders, risk, account and the simulated
exchange), driven by ``runtime`` and, live, by ``broker``'s venue adapters.
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

__all__ = [
    "ConfigError",
    "CrossedBookError",
    "DataError",
    "FormatError",
    "InvalidTransitionError",
    "MMLabError",
    "MarketMakingProjectManager",
    "OverfillError",
    "QuoteValidationError",
    "SequenceGapError",
    "TimestampOrderError",
    "__version__",
]


def __getattr__(name: str):
    # the orchestrator imports most of the package: load it on first use only
    if name == "MarketMakingProjectManager":
        from mmlab.manager import MarketMakingProjectManager

        return MarketMakingProjectManager
    raise AttributeError(f"module 'mmlab' has no attribute {name!r}")
