"""Shared pytest fixtures: paths of the shipped real data and a temporary catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmlab._paths import SHIPPED_DATA


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The project's shipped data folder (``data/``)."""
    return SHIPPED_DATA


@pytest.fixture()
def catalog_tmp(tmp_path, monkeypatch) -> Path:
    """A fresh, empty catalog directory; ``MMLAB_DATA_DIR`` points at it during the test."""
    d = tmp_path / "catalog"
    d.mkdir()
    monkeypatch.setenv("MMLAB_DATA_DIR", str(d))
    return d
