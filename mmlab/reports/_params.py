"""Report parameters: command-line coercion, file-name slugs, and the notebook's declared set."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mmlab.errors import ConfigError

__all__ = ["check_parameters", "coerce_parameter", "notebook_parameters", "param_slug"]


def coerce_parameter(value: str) -> Any:
    """Turn a command-line string into int, float, bool or None where it reads as one.

    Examples
    --------
    >>> [coerce_parameter(v) for v in ["3", "2.5", "true", "None", "binance-usdm"]]
    [3, 2.5, True, None, 'binance-usdm']
    """
    if not isinstance(value, str):
        return value
    low = value.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def param_slug(parameters: Mapping[str, Any], max_len: int = 80) -> str:
    """The file-name part naming a parameter set: its values, slugified, joined by ``-``.

    Long slugs are cut and suffixed with a short hash so distinct sets keep distinct names.

    Examples
    --------
    >>> param_slug({"dataset": "binance-usdm-btcusdt-20240808"})
    'binance-usdm-btcusdt-20240808'
    >>> param_slug({"dataset": "x", "start": "2024-08-08 21:00"})
    'x-2024-08-08-21-00'
    >>> param_slug({})
    ''
    """
    parts = []
    for value in parameters.values():
        s = re.sub(r"[^A-Za-z0-9.]+", "-", str(value)).strip("-.")
        parts.append(s or "none")
    slug = "-".join(parts)
    if len(slug) > max_len:
        digest = hashlib.sha256(json.dumps(dict(parameters), sort_keys=True, default=str).encode())
        slug = slug[: max_len - 9].rstrip("-") + "-" + digest.hexdigest()[:8]
    return slug


def _parameters_source(notebook: str | os.PathLike[str]) -> str | None:
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            src = cell.get("source", "")
            return "".join(src) if isinstance(src, list) else str(src)
    return None


def notebook_parameters(notebook: str | os.PathLike[str]) -> dict[str, Any]:
    """The parameters a notebook declares in its cell tagged ``parameters``, with their defaults.

    Each top-level assignment ``name = value`` of that cell is a parameter; its default is the
    literal value (``ast.literal_eval``), or the expression's source text when it is not a literal.

    Raises
    ------
    ConfigError
        The notebook has no cell tagged ``parameters``, or that cell is not valid Python.

    Examples
    --------
    >>> from mmlab.reports import find_notebook
    >>> notebook_parameters(find_notebook("vol_surface_report"))["n_smiles"]
    4
    """
    src = _parameters_source(notebook)
    if src is None:
        raise ConfigError(f"{Path(notebook).name}: no cell tagged 'parameters' (the notebook takes none)")
    try:
        tree = ast.parse(src)
    except SyntaxError as exc:
        raise ConfigError(f"{Path(notebook).name}: parameters cell, line {exc.lineno}: {exc.msg}") from None
    out: dict[str, Any] = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        value = getattr(node, "value", None)
        for t in targets:
            if not isinstance(t, ast.Name) or value is None:
                continue
            try:
                out[t.id] = ast.literal_eval(value)
            except ValueError:
                out[t.id] = ast.get_source_segment(src, value)
    return out


def check_parameters(notebook: str | os.PathLike[str], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Refuse parameters the notebook does not declare; return the effective set (defaults
    overlaid with ``parameters``).

    Raises
    ------
    ConfigError
        Naming the unknown parameter(s) (``-p NAME``) and the ones the notebook takes.
    """
    declared = notebook_parameters(notebook) if parameters or _parameters_source(notebook) is not None else {}
    unknown = [k for k in parameters if k not in declared]
    if unknown:
        known = ", ".join(declared) or "none"
        names = ", ".join(f"-p {k}" for k in unknown)
        raise ConfigError(f"{names}: {Path(notebook).name} has no such parameter (its parameters: {known})")
    return {**declared, **parameters}
