"""Provenance of a result: which data (sha256), which code (git SHA), which parameters and libraries.

Every report states these so a reader can reproduce it: :func:`collect` gathers them into a
:class:`Provenance` whose :meth:`~Provenance.to_frame` is the table a report prints.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib.metadata as _md
import os
import platform
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmlab._paths import PROJECT_ROOT
from mmlab.errors import ConfigError

__all__ = [
    "DEFAULT_LIBRARIES",
    "Provenance",
    "collect",
    "file_sha256",
    "git_sha",
    "library_versions",
]

#: Libraries whose versions every report records.
DEFAULT_LIBRARIES = (
    "mmlab",
    "numpy",
    "pandas",
    "pyarrow",
    "duckdb",
    "numba",
    "scipy",
    "holoviews",
    "hvplot",
    "panel",
    "papermill",
    "QuantLib",
    "hftbacktest",
)


def file_sha256(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """The sha256 hex digest of a file's bytes.

    Examples
    --------
    >>> from mmlab._paths import shipped
    >>> file_sha256(shipped("rates", "usd_swap_curve_quotes_2023-10-19.json"))[:12]
    'bed3a52b8918'
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"not a file: {p}")
    h = hashlib.sha256()
    with p.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def git_sha(root: str | os.PathLike[str] | None = None) -> str:
    """The current commit of the checkout at ``root`` (``+dirty`` if tracked files changed).

    Returns ``'unknown'`` when ``root`` is not a git checkout or git is not installed.

    Examples
    --------
    >>> s = git_sha()
    >>> s == "unknown" or len(s.split("+")[0]) == 40
    True
    """
    cwd = Path(root) if root is not None else PROJECT_ROOT
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10
        )
        if sha.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd, capture_output=True, text=True, timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    out = sha.stdout.strip()
    if dirty.returncode == 0 and dirty.stdout.strip():
        out += "+dirty"
    return out


def library_versions(names: Iterable[str] = DEFAULT_LIBRARIES) -> dict[str, str]:
    """Installed versions of ``names`` (``'not installed'`` where missing), plus Python's.

    Examples
    --------
    >>> v = library_versions(["numpy"])
    >>> sorted(v) == ["numpy", "python"]
    True
    """
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = _md.version(name)
        except _md.PackageNotFoundError:
            out[name] = "not installed"
    return out


@dataclass(frozen=True, slots=True)
class Provenance:
    """What a result was made from.

    Attributes
    ----------
    data : dict
        Source file name -> sha256 of its bytes.
    git_sha : str
        Code version (commit SHA, ``+dirty`` if modified, or ``'unknown'``).
    parameters : dict
        The run's parameters.
    versions : dict
        Library -> version.
    created : str
        UTC time of collection, ISO 8601.
    """

    data: dict[str, str]
    git_sha: str
    parameters: dict[str, Any]
    versions: dict[str, str]
    created: str = field(default="")

    def __post_init__(self) -> None:
        if not self.git_sha:
            raise ConfigError("git_sha must be a non-empty string ('unknown' if not known)")

    def to_frame(self):
        """A two-column table (``item``, ``value``) listing everything, for a report."""
        import pandas as pd

        rows = [("code version (git SHA)", self.git_sha), ("created (UTC)", self.created)]
        rows += [(f"data sha256: {k}", v) for k, v in self.data.items()]
        rows += [(f"parameter: {k}", repr(v)) for k, v in self.parameters.items()]
        rows += [(f"version: {k}", v) for k, v in self.versions.items()]
        return pd.DataFrame(rows, columns=["item", "value"])

    def summary(self) -> str:
        """A short plain-text summary."""
        return "\n".join(f"{i}: {v}" for i, v in self.to_frame().itertuples(index=False))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {
            "data": dict(self.data),
            "git_sha": self.git_sha,
            "parameters": dict(self.parameters),
            "versions": dict(self.versions),
            "created": self.created,
        }


def collect(
    data_files: Iterable[str | os.PathLike[str]] | Mapping[str, str] = (),
    parameters: Mapping[str, Any] | None = None,
    libraries: Iterable[str] = DEFAULT_LIBRARIES,
) -> Provenance:
    """Gather the provenance of a run.

    Parameters
    ----------
    data_files : iterable of paths, or mapping name -> sha256
        The source files the run read (hashed here), or hashes already known (e.g. from the
        catalog, :meth:`mmlab.data.Catalog.show`).
    parameters : mapping, optional
        The run's parameters.
    libraries : iterable of str
        Libraries whose versions to record.

    Examples
    --------
    >>> from mmlab._paths import shipped
    >>> p = collect([shipped("rates", "usd_swap_curve_quotes_2023-10-19.json")], {"x": 1})
    >>> list(p.data), p.parameters
    (['usd_swap_curve_quotes_2023-10-19.json'], {'x': 1})
    """
    if isinstance(data_files, Mapping):
        data = {str(k): str(v) for k, v in data_files.items()}
    else:
        data = {Path(f).name: file_sha256(f) for f in data_files}
    now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    return Provenance(
        data=data,
        git_sha=git_sha(),
        parameters=dict(parameters or {}),
        versions=library_versions(libraries),
        created=now,
    )
