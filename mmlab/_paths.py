"""Where the project's files are: shipped data, the catalog directory, reports."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PROJECT_ROOT", "SHIPPED_DATA", "catalog_dir", "reports_dir", "shipped"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Real market-data samples shipped with the project (see data/README.md).
SHIPPED_DATA = PROJECT_ROOT / "data"


def shipped(*parts: str) -> Path:
    """Path of a shipped data file, e.g. ``shipped("lobster", "AAPL_..._message_10.csv")``."""
    return SHIPPED_DATA.joinpath(*parts)


def catalog_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The catalog directory: ``override``, else ``$MMLAB_DATA_DIR``, else ``data/catalog``."""
    if override is not None:
        return Path(override)
    env = os.environ.get("MMLAB_DATA_DIR")
    if env:
        return Path(env)
    return SHIPPED_DATA / "catalog"


def reports_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Where rendered reports go: ``override``, else ``$MMLAB_REPORTS_DIR``, else ``reports/``."""
    if override is not None:
        return Path(override)
    env = os.environ.get("MMLAB_REPORTS_DIR")
    return Path(env) if env else PROJECT_ROOT / "reports"
