"""Argument checks shared by the quoting configs (raise :class:`mmlab.errors.ConfigError`)."""

from __future__ import annotations

import math

from mmlab.errors import ConfigError

__all__ = ["check_finite", "check_nonnegative", "check_positive"]


def check_positive(name: str, value: float, *, allow_inf: bool = False) -> None:
    """Raise ConfigError unless ``value`` is a real number > 0 (finite unless ``allow_inf``).

    Parameters
    ----------
    name : str
        The argument's name, quoted in the error.
    value : float
        The value to check (anything ``float()`` accepts).
    allow_inf : bool
        Accept ``+inf``.

    Raises
    ------
    mmlab.errors.ConfigError
        Naming ``name`` and the value.

    Examples
    --------
    >>> check_positive("gamma", 0.1)
    >>> check_positive("gamma", 0.0)
    Traceback (most recent call last):
    mmlab.errors.ConfigError: gamma must be finite and > 0, got 0.0
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if math.isnan(v) or v <= 0.0 or (math.isinf(v) and not allow_inf):
        raise ConfigError(f"{name} must be {'> 0' if allow_inf else 'finite and > 0'}, got {value!r}")


def check_nonnegative(name: str, value: float) -> None:
    """Raise ConfigError unless ``value`` is a finite real number >= 0 (as :func:`check_positive`).

    Examples
    --------
    >>> check_nonnegative("fee", 0.0)
    >>> check_nonnegative("fee", float("nan"))
    Traceback (most recent call last):
    mmlab.errors.ConfigError: fee must be finite and >= 0, got nan
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0.0:
        raise ConfigError(f"{name} must be finite and >= 0, got {value!r}")


def check_finite(name: str, value: float) -> None:
    """Raise ConfigError unless ``value`` is a finite real number (as :func:`check_positive`).

    Examples
    --------
    >>> check_finite("skew", -1.5)
    >>> check_finite("skew", "x")
    Traceback (most recent call last):
    mmlab.errors.ConfigError: skew must be a number, got 'x'
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ConfigError(f"{name} must be finite, got {value!r}")
