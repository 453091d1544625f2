"""The instrument master: the shipped instruments by ``"VENUE:SYMBOL"`` and the contract builders.

:class:`InstrumentMaster` holds the shipped instruments (read from ``instruments.toml`` next to
this module, where each figure's source is written down) and builds option and CL futures
contracts on the fly from their root's template. Keys are ``"VENUE:SYMBOL"``
(``"BINANCE_USDM:BTCUSDT"``); a bare symbol works when it is unique. :func:`default_master` is
the shipped master read once, :func:`get_instrument` a look-up in it.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Iterable, Iterator
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from mmlab.data._calendars import cl_expiry
from mmlab.data._fees import FeeSchedule
from mmlab.data._instrument import Instrument
from mmlab.data._options import OPTION_ROOTS
from mmlab.errors import ConfigError

__all__ = ["InstrumentMaster", "default_master", "get_instrument"]

INSTRUMENTS_TOML = Path(__file__).with_name("instruments.toml")
_MONTH_CODES = "FGHJKMNQUVXZ"


# ---------------------------------------------------------------------------------------------
# the master


def _occ_symbol(root: str, day: date, right: str, strike: float) -> str:
    return f"{root}{day:%y%m%d}{right}{int(round(strike * 1000)):08d}"


def _deribit_symbol(root: str, day: date, right: str, strike: float) -> str:
    k = f"{strike:.0f}" if float(strike).is_integer() else f"{strike:g}"
    return f"{root}-{day.day}{day:%b%y}".upper() + f"-{k}-{right}"


class InstrumentMaster:
    """A set of instruments by ``"VENUE:SYMBOL"``, with builders for options and CL futures.

    Parameters
    ----------
    instruments : iterable of Instrument
        Keys must be unique.

    Examples
    --------
    >>> m = InstrumentMaster.from_toml()
    >>> m.get("BTCUSDT", venue="BINANCE_USDM").tick_size
    0.1
    >>> m.option("SPX", "2023-09-15", 4500, "P").expiry  # AM: 09:30 New York
    Timestamp('2023-09-15 13:30:00+0000', tz='UTC')
    >>> m.future("CLK20").expiry
    Timestamp('2020-04-21 18:30:00+0000', tz='UTC')
    """

    def __init__(self, instruments: Iterable[Instrument] = ()) -> None:
        self._by_key: dict[str, Instrument] = {}
        for inst in instruments:
            self.add(inst)

    @classmethod
    def from_toml(cls, path: str | Path | None = None) -> InstrumentMaster:
        """Read ``[[instrument]]`` tables (default: the shipped ``instruments.toml``)."""
        p = Path(path) if path is not None else INSTRUMENTS_TOML
        try:
            doc = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: invalid TOML ({exc})") from None
        items = doc.get("instrument")
        if not isinstance(items, list) or not items:
            raise ConfigError(f"{p}: no [[instrument]] tables")
        names = {f.name for f in dataclasses.fields(Instrument)}
        out = []
        for i, raw in enumerate(items):
            raw = dict(raw)
            fees = raw.pop("fees", {})
            unknown = set(raw) - names
            if unknown:
                raise ConfigError(f"{p}: instrument #{i + 1}: unknown fields {sorted(unknown)}")
            try:
                fee = FeeSchedule(**fees)
            except TypeError as exc:
                raise ConfigError(f"{p}: instrument #{i + 1}: fees: {exc}") from None
            if "tick_ladder" in raw:
                raw["tick_ladder"] = tuple(tuple(x) for x in raw["tick_ladder"])
            is_template = raw.get("kind") in ("option", "future") and "expiry" not in raw
            raw.setdefault("template", is_template)
            try:
                out.append(Instrument(fees=fee, **raw))
            except TypeError as exc:
                raise ConfigError(f"{p}: instrument #{i + 1}: {exc}") from None
        return cls(out)

    # ------------------------------------------------------------------ mapping
    def add(self, inst: Instrument) -> None:
        """Add an instrument (its key must be new)."""
        if not isinstance(inst, Instrument):
            raise ConfigError(f"expected an Instrument, got {type(inst).__name__}")
        if inst.key in self._by_key:
            raise ConfigError(f"duplicate instrument {inst.key}")
        self._by_key[inst.key] = inst

    def get(self, symbol: str, venue: str | None = None) -> Instrument:
        """Look up by ``"VENUE:SYMBOL"``, by ``symbol`` + ``venue``, or by a unique bare symbol."""
        if venue is not None:
            symbol = f"{venue}:{symbol}"
        if symbol in self._by_key:
            return self._by_key[symbol]
        if ":" not in symbol:
            hits = [k for k, v in self._by_key.items() if v.symbol == symbol]
            if len(hits) == 1:
                return self._by_key[hits[0]]
            if len(hits) > 1:
                raise ConfigError(f"symbol: {symbol!r} is ambiguous, use one of {sorted(hits)}")
        raise ConfigError(f"symbol: unknown instrument {symbol!r} (known: {sorted(self._by_key)})")

    def __getitem__(self, key: str) -> Instrument:
        return self.get(key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._by_key

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    @property
    def keys(self) -> list[str]:
        """Sorted ``"VENUE:SYMBOL"`` keys."""
        return sorted(self._by_key)

    def to_frame(self) -> pd.DataFrame:
        """One row per instrument, indexed by key."""
        return pd.DataFrame([i.to_dict() for i in self], index=pd.Index([i.key for i in self], name="key"))

    # ------------------------------------------------------------------ builders
    def _template(self, root: str, kind: str) -> Instrument:
        hits = [i for i in self if i.template and i.kind == kind and i.symbol == root]
        if not hits:
            known = sorted(i.symbol for i in self if i.template and i.kind == kind)
            raise ConfigError(f"root: no {kind} template {root!r} (known: {known})")
        return hits[0]

    def option(self, root: str, expiry: Any, strike: float, right: str) -> Instrument:
        """The option ``root`` ``expiry`` ``strike`` ``right`` with the root's terms.

        ``expiry`` may be a date (the root's expiry time is applied: 09:30 New York for AM
        roots, 16:00 for PM, 08:00 UTC for Deribit) or a tz-aware instant, which must match.
        """
        tpl = self._template(root, "option")
        if right not in ("C", "P"):
            raise ConfigError(f"right: must be 'C' or 'P', got {right!r}")
        spec = OPTION_ROOTS.get(root)
        if spec is None:
            raise ConfigError(f"root: {root!r} has a template but no expiry rule in OPTION_ROOTS")
        e = pd.Timestamp(expiry)
        if e.tzinfo is None:
            if e != e.normalize():
                raise ConfigError(f"expiry: a naive expiry must be a date, got {expiry!r}")
            inst = spec.expiry_instant(e)
        else:
            day = e.tz_convert(spec.expiry_tz).date()
            inst = spec.expiry_instant(pd.Timestamp(day))
            if inst != e.tz_convert("UTC"):
                raise ConfigError(f"expiry: {e} is not {root}'s expiry instant on {day} ({inst})")
        day = inst.tz_convert(spec.expiry_tz).date()
        sym = (_deribit_symbol if tpl.venue == "DERIBIT" else _occ_symbol)(root, day, right, float(strike))
        return dataclasses.replace(
            tpl, symbol=sym, expiry=inst, expiry_tz=spec.expiry_tz, strike=float(strike), right=right, template=False
        )

    def future(self, code: str) -> Instrument:
        """A CL futures contract by code ``'CLK20'``/``'CLK2020'`` (month letter + year)."""
        m = re.fullmatch(r"([A-Z]{2})([FGHJKMNQUVXZ])(\d{2}|\d{4})", code)
        if m is None:
            raise ConfigError(f"code: expected e.g. 'CLK20', got {code!r}")
        root, letter, yy = m.groups()
        tpl = self._template(root, "future")
        if root != "CL":
            raise ConfigError(f"code: only CL futures have an expiry rule, got {root!r}")
        year = int(yy) + 2000 if len(yy) == 2 else int(yy)
        month = _MONTH_CODES.index(letter) + 1
        return dataclasses.replace(
            tpl, symbol=f"CL{letter}{year % 100:02d}", expiry=cl_expiry(year, month),
            expiry_tz="America/New_York", template=False,
        )  # fmt: skip


@lru_cache(maxsize=1)
def default_master() -> InstrumentMaster:
    """The shipped instrument master (``mmlab/data/instruments.toml``), read once."""
    return InstrumentMaster.from_toml()


def get_instrument(symbol: str, venue: str | None = None) -> Instrument:
    """Look an instrument up in the shipped master (see :meth:`InstrumentMaster.get`).

    Examples
    --------
    >>> get_instrument("DERIBIT:BTC").tick_size, get_instrument("NYMEX:CL").multiplier
    (0.0005, 1000.0)
    """
    return default_master().get(symbol, venue)
