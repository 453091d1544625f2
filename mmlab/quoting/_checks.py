"""Argument checks shared by the quoting configs (raise :class:`mmlab.errors.ConfigError`)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, TypeVar

from mmlab.errors import ConfigError

__all__ = ["SIGMA_PX_RENAMED", "check_finite", "check_nonnegative", "check_positive",
           "renamed_keywords"]

_F = TypeVar("_F", bound=Callable[..., Any])

#: Why quoting's ``sigma`` became ``sigma_px`` (the message of :func:`renamed_keywords`).
SIGMA_PX_RENAMED = ("renamed sigma_px (the mid's volatility in price per sqrt(time unit)); "
                    "pricing's sigma is the annualised volatility")


def renamed_keywords(**renamed: str) -> Callable[[_F], _F]:
    """Decorator: a keyword argument that was renamed raises ConfigError(``name: why``).

    Works on a function and on a (frozen) dataclass, whose generated ``__init__`` it wraps, so
    ``Config(old=...)`` answers with the new name instead of Python's "unexpected keyword".

    Parameters
    ----------
    **renamed : str
        Old keyword -> the message (e.g. :data:`SIGMA_PX_RENAMED`).

    Examples
    --------
    >>> @renamed_keywords(sigma=SIGMA_PX_RENAMED)
    ... def spread(sigma_px):
    ...     return 2 * sigma_px
    >>> spread(sigma_px=1.0)
    2.0
    >>> spread(sigma=1.0)
    Traceback (most recent call last):
    mmlab.errors.ConfigError: spread(sigma=...): renamed sigma_px (the mid's volatility in price
    per sqrt(time unit)); pricing's sigma is the annualised volatility
    """

    def check(where: str, kwargs: dict) -> None:
        for old, why in renamed.items():
            if old in kwargs:
                raise ConfigError(f"{where}({old}=...): {why}")

    def decorate(obj: _F) -> _F:
        if isinstance(obj, type):
            init = obj.__init__  # type: ignore[misc]

            @functools.wraps(init)
            def __init__(self, *args, **kwargs):
                if kwargs:
                    check(type(self).__name__, kwargs)
                init(self, *args, **kwargs)

            obj.__init__ = __init__  # type: ignore[misc]
            return obj

        @functools.wraps(obj)
        def wrapper(*args, **kwargs):
            if kwargs:
                check(obj.__name__, kwargs)
            return obj(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


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
