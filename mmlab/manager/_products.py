"""The universe: products, the shipped data sets that carry them, read from ``products.toml``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError, model_validator

from mmlab.errors import ConfigError
from mmlab.manager._toml import describe, read_tables

__all__ = [
    "ASSET_CLASSES",
    "KINDS",
    "PRODUCTS",
    "PRODUCTS_FILE",
    "Product",
    "check_universe",
    "dataset_product",
    "load_products",
]

ASSET_CLASSES = ("commodity", "crypto", "equity", "rates")
KINDS = ("options", "events", "futures_curve", "par_curve", "swap_curve", "fixings")
PRODUCTS_FILE = Path(__file__).with_name("products.toml")
"""The shipped universe (:func:`load_products`' default)."""


class Product(BaseModel):
    """A tradable product of the universe and the shipped data sets that carry it.

    Parameters
    ----------
    symbol : str
        Universe name (``'SPX'``, ``'BTCUSDT-PERP'``...).
    asset_class : str
        One of ``'equity'``, ``'crypto'``, ``'commodity'``, ``'rates'``.
    kind : str
        What its data is, which picks its pricer: ``'options'`` (chains), ``'events'`` (order
        book + trades), ``'futures_curve'``, ``'par_curve'``, ``'swap_curve'`` or ``'fixings'``.
    datasets : tuple of str
        Catalog names (:data:`mmlab.data.SHIPPED_SOURCES`), at least one.
    instrument : str
        Instrument-master key (tick, lot, multiplier, fees); empty for curves.
    tenors : tuple of str
        Swap curves: the tenors the pricing cycle reports.

    Examples
    --------
    >>> Product(symbol="X", asset_class="equity", kind="options", datasets=["d"]).datasets
    ('d',)
    >>> Product(symbol="X", asset_class="fx", kind="options", datasets=["d"])
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: product 'X': asset_class: Input should be 'commodity', ...
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: StrictStr = Field(min_length=1)
    asset_class: Literal["commodity", "crypto", "equity", "rates"]
    kind: Literal["options", "events", "futures_curve", "par_curve", "swap_curve", "fixings"]
    datasets: tuple[StrictStr, ...] = Field(min_length=1)
    instrument: StrictStr = ""
    tenors: tuple[StrictStr, ...] = ()

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ConfigError(f"product {data.get('symbol')!r}: {describe(exc)}") from None

    @model_validator(mode="after")
    def _tenors_for_swaps(self) -> Product:
        if (self.kind == "swap_curve") != bool(self.tenors):
            raise ValueError("tenors: required on a swap_curve product and only there")
        return self


def load_products(path: str | Path = PRODUCTS_FILE) -> Mapping[str, Product]:
    """The products of a TOML file (format in the shipped ``products.toml``), read-only.

    Raises
    ------
    ConfigError
        Naming the file, the table's line and the field.
    """
    return MappingProxyType(read_tables(path, lambda name, t: Product(symbol=name, **t)))


#: The products the shipped data covers, by universe name (``products.toml``).
PRODUCTS: Mapping[str, Product] = load_products()


def check_universe(universe, what: str = "universe") -> tuple[str, ...]:
    """Product names as a tuple (a bare name allowed), unknown ones refused, duplicates dropped."""
    if isinstance(universe, str):
        universe = (universe,)
    try:
        names = tuple(universe)
    except TypeError:
        raise ConfigError(f"{what}: expected product names, got {universe!r}") from None
    if not names:
        raise ConfigError(f"{what}: empty")
    bad = [n for n in names if n not in PRODUCTS]
    if bad:
        raise ConfigError(f"{what}: unknown product(s) {bad}; known: {sorted(PRODUCTS)}")
    return tuple(dict.fromkeys(names))


def dataset_product(name: str) -> str | None:
    """The product of a shipped data set name (``None`` if no product carries it).

    Examples
    --------
    >>> dataset_product("lobster-aapl-20120621-l10")
    'AAPL'
    """
    for s, p in PRODUCTS.items():
        if name in p.datasets:
            return s
    return None
