"""Hand-set strategy parameters per order-book product, read from ``presets.toml``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from mmlab.errors import ConfigError
from mmlab.manager._products import PRODUCTS
from mmlab.manager._strategies import STRATEGY_NAMES
from mmlab.manager._toml import read_tables

__all__ = ["BACKTEST_PRESETS", "PRESETS_FILE", "load_presets", "preset_parameters"]

PRESETS_FILE = Path(__file__).with_name("presets.toml")
"""The shipped presets (:func:`load_presets`' default)."""

_Number = StrictInt | StrictFloat


class _ProductPresets(BaseModel):
    """One product's table: engine ``settings`` and one parameter table per strategy name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: StrictStr
    settings: dict[StrictStr, _Number]
    strategies: dict[StrictStr, dict[StrictStr, _Number]] = Field(min_length=1)


def _build(name: str, table: dict[str, Any]) -> Mapping[str, Mapping[str, Any]]:
    if name not in PRODUCTS or PRODUCTS[name].kind != "events":
        events = sorted(s for s, p in PRODUCTS.items() if p.kind == "events")
        raise ConfigError(f"not an order-book product (order-book products: {events})")
    table = dict(table)
    settings = table.pop("settings", None)
    if settings is None:
        raise ConfigError("settings: required (the engine settings, e.g. max_position)")
    unknown = sorted(set(table) - set(STRATEGY_NAMES))
    if unknown:
        raise ConfigError(f"unknown strategy name(s) {unknown}; known: {list(STRATEGY_NAMES)}")
    p = _ProductPresets(symbol=name, settings=settings, strategies=table)
    frozen = {k: MappingProxyType(dict(v)) for k, v in p.strategies.items()}
    return MappingProxyType({**frozen, "settings": MappingProxyType(dict(p.settings))})


def load_presets(path: str | Path = PRESETS_FILE) -> Mapping[str, Mapping[str, Mapping[str, Any]]]:
    """Presets of a TOML file (format in the shipped ``presets.toml``), read-only.

    Raises
    ------
    ConfigError
        Naming the file, the table's line and the field: a product that is not an order-book
        product, an unknown strategy name, a parameter that is not a number, no ``settings``.
    """
    return MappingProxyType(read_tables(path, _build))


#: Hand-set strategy parameters for the shipped order-book data (``presets.toml``): small
#: order sizes, half-spreads of a few ticks to a few basis points, ``sigma_px`` (the mid's
#: volatility in price units per square-root second, not annualised) near the data's realised
#: volatility, ``max_position`` 10 orders (crypto) or 3 orders (Nasdaq).
BACKTEST_PRESETS: Mapping[str, Mapping[str, Mapping[str, Any]]] = load_presets()


def preset_parameters(symbol: str, strategy: str) -> dict:
    """The hand-set parameters of ``strategy`` on ``symbol``'s shipped data (a fresh dict).

    Examples
    --------
    >>> p = preset_parameters("BTCUSDT-PERP", "grid")
    >>> p["strategy"], p["half_spread"], p["settings"]["max_position"]
    ('grid', 5.0, 0.1)
    """
    if symbol not in BACKTEST_PRESETS:
        raise ConfigError(f"symbol: no presets for {symbol!r}; presets: {sorted(BACKTEST_PRESETS)}")
    pre = BACKTEST_PRESETS[symbol]
    if strategy not in pre or strategy == "settings":
        names = sorted(k for k in pre if k != "settings")
        raise ConfigError(f"strategy: no preset {strategy!r} for {symbol} (presets: {names})")
    return {"strategy": strategy, **pre[strategy], "settings": dict(pre["settings"])}
