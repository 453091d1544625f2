"""Strategies from plain parameters: the CLI's names, their parameters and engine settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mmlab.backtest import STRATEGY_CLASSES, strategy_class
from mmlab.errors import ConfigError

__all__ = ["STRATEGY_NAMES", "strategy_from_parameters"]

# the built-in strategies are the backtest's table (mmlab.backtest.STRATEGY_CLASSES, the names of
# ``mmlab backtest -s``); the long aliases the results use in ``params['strategy']`` map onto it
_ALIASES = {"avellaneda_stoikov": "as", "avellaneda_stoikov_infinite": "as-inf"}
STRATEGY_NAMES = tuple(sorted([*STRATEGY_CLASSES, *_ALIASES]))


def _class(name: str) -> type:
    return strategy_class(_ALIASES.get(name, name))


def strategy_from_parameters(parameters: Mapping[str, Any]) -> tuple[Any, dict]:
    """``(strategy, settings)`` from a plain mapping (a notebook parameter, a JSON file).

    ``parameters['strategy']`` is a name (``grid``, ``as``, ``as-inf``, ``glft``, ``adaptive``, as in
    ``mmlab backtest -s``) or a ready strategy/config object; ``parameters['settings']``
    (optional) holds engine settings; every other key is a parameter of the strategy.

    Examples
    --------
    >>> s, st = strategy_from_parameters({"strategy": "grid", "half_spread": 0.5,
    ...                                   "order_qty": 1.0, "settings": {"max_position": 3}})
    >>> type(s).__name__, s.half_spread, st
    ('GridStrategy', 0.5, {'max_position': 3})
    >>> strategy_from_parameters({"strategy": "magic"})
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: parameters['strategy']: one of ['adaptive', 'as', ...], got 'magic'
    """
    if not isinstance(parameters, Mapping):
        raise ConfigError(f"parameters: expected a mapping, got {type(parameters).__name__}")
    params = dict(parameters)
    if "strategy" not in params:
        raise ConfigError("parameters: needs a 'strategy' (a name or a strategy object)")
    name = params.pop("strategy")
    settings = params.pop("settings", None) or {}
    if not isinstance(settings, Mapping):
        raise ConfigError("parameters['settings']: must be a mapping of engine settings")
    if not isinstance(name, str):
        if params:
            raise ConfigError(f"parameters: {sorted(params)} given beside a strategy object")
        return name, dict(settings)
    if name not in STRATEGY_NAMES:
        raise ConfigError(f"parameters['strategy']: one of {list(STRATEGY_NAMES)}, got {name!r}")
    try:
        return _class(name)(**params), dict(settings)
    except TypeError as exc:
        raise ConfigError(f"parameters for strategy {name!r}: {exc}") from None
