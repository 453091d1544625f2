"""Read a TOML file of named tables and validate each table with a pydantic model.

Every failure is a :class:`~mmlab.errors.ConfigError` naming the file, the line of the table and
the field: a TOML syntax error (tomllib's line and column), a missing or extra key, a value of
the wrong type.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from mmlab.errors import ConfigError

__all__ = ["describe", "read_tables"]

M = TypeVar("M")


def describe(exc: ValidationError) -> str:
    """One line per pydantic error: ``field.path: message (got value)``."""
    out = []
    for e in exc.errors():
        where = ".".join(str(x) for x in e["loc"]) or "value"
        got = f" (got {e['input']!r})" if e["type"] not in ("missing",) else ""
        out.append(f"{where}: {e['msg']}{got}")
    return "; ".join(out)


def _table_line(text: str, name: str) -> int | None:
    pat = re.compile(r'^\s*\[\s*(?:"' + re.escape(name) + r'"|' + re.escape(name) + r")\s*\]")
    for i, line in enumerate(text.splitlines(), start=1):
        if pat.match(line):
            return i
    return None


def read_tables(path: str | Path, build: Callable[[str, dict[str, Any]], M]) -> dict[str, M]:
    """``{name: build(name, table)}`` over the top-level tables of a TOML file, in file order.

    ``build`` validates one table (a pydantic model's constructor, usually); its
    ``ValidationError`` or ``ConfigError`` becomes a ``ConfigError`` naming the file and line.

    Raises
    ------
    ConfigError
        Unreadable file, TOML syntax error, a top-level value that is not a table, an invalid
        table.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    if not data:
        raise ConfigError(f"{path}: no table")
    out: dict[str, M] = {}
    for name, table in data.items():
        line = _table_line(text, name)
        where = f"{path}, line {line}" if line else str(path)
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: {name!r} must be a table [{name}], got {table!r}")
        try:
            out[name] = build(name, table)
        except ValidationError as exc:
            raise ConfigError(f"{where}: [{name}] {describe(exc)}") from None
        except ConfigError as exc:
            raise ConfigError(f"{where}: [{name}] {exc}") from None
    return out
