"""Argument checks shared by the quoting configs (raise :class:`mmlab.errors.ConfigError`)."""

from __future__ import annotations

import math

from mmlab.errors import ConfigError


def check_positive(name: str, value: float, *, allow_inf: bool = False) -> None:
    """Raise ConfigError unless ``value`` is a real number > 0 (finite unless ``allow_inf``)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if math.isnan(v) or v <= 0.0 or (math.isinf(v) and not allow_inf):
        raise ConfigError(f"{name} must be {'> 0' if allow_inf else 'finite and > 0'}, got {value!r}")


def check_nonnegative(name: str, value: float) -> None:
    """Raise ConfigError unless ``value`` is a finite real number >= 0."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0.0:
        raise ConfigError(f"{name} must be finite and >= 0, got {value!r}")


def check_finite(name: str, value: float) -> None:
    """Raise ConfigError unless ``value`` is a finite real number."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ConfigError(f"{name} must be finite, got {value!r}")
