"""Deribit ticker dumps -> rows of the option-chain table (see :mod:`mmlab.data._options` for the
columns and units); every number checked against ``RULES['deribit']``."""

from __future__ import annotations

import ast
import csv
import io
import math
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mmlab.data._option_roots import OPTION_ROOTS, _number
from mmlab.data._validate import RULES
from mmlab.errors import DataError, DuplicateError, FormatError, RangeError

__all__: list[str] = []  # private: used by mmlab.data._options

_DERIBIT_REQUIRED = [
    "expiration_timestamp", "option_type", "instrument_name", "strike", "underlying_price",
    "underlying_index", "timestamp", "stats", "open_interest", "mark_price", "mark_iv",
    "last_price", "index_price", "greeks", "bids", "bid_iv", "best_bid_price", "best_bid_amount",
    "best_ask_price", "best_ask_amount", "asks", "ask_iv",
]  # fmt: skip


_DERIBIT_NAME = re.compile(r"^([A-Z]+)-(\d{1,2}[A-Z]{3}\d{2})-(\d+(?:\.\d+)?)-([CP])$")


def _literal(text: str, path: Path, line: int, what: str, kind: type) -> Any:
    try:
        v = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        raise FormatError(f"not a Python literal: {text[:60]!r}", path=path, row=line, column=what) from None
    if not isinstance(v, kind):
        raise FormatError(f"expected a {kind.__name__}, got {type(v).__name__}", path=path, row=line, column=what)
    return v


# the declared rule each Deribit number column is checked against
_DERIBIT_RULE = {
    "timestamp": "timestamp", "expiration_timestamp": "expiration_timestamp", "strike": "strike",
    "underlying_price": "underlying_price", "index_price": "index_price",
    "best_bid_price": "price", "best_ask_price": "price", "mark_price": "price", "last_price": "price",
    "best_bid_amount": "amount", "best_ask_amount": "amount", "open_interest": "open_interest",
    "bid_iv": "iv", "ask_iv": "iv", "mark_iv": "iv",
}  # fmt: skip


def _literal_number(v: Any, path: Path, line: int, what: str, rule) -> float:
    """A number inside a Deribit dict/list literal: a real int or float, finite, within ``rule``."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise FormatError(f"not a number: {v!r}"[:80], path=path, row=line, column=what)
    if isinstance(v, int) and abs(v) > 2**53:
        raise RangeError(f"integer with {len(str(abs(v)))} digits is outside the plausible range",
                         path=path, row=line, column=what)
    x = float(v)
    if not math.isfinite(x):
        raise FormatError(f"{v!r} is not a finite number", path=path, row=line, column=what)
    rule.check_scalar(x, path, line, column=what)
    return x


def _ladder(levels: list, path: Path, line: int, what: str) -> list[tuple[float, float]]:
    """A Deribit order-book side: a list of ``[price, amount]`` pairs."""
    rules = RULES["deribit"]
    out = []
    for j, lv in enumerate(levels):
        if not isinstance(lv, (list, tuple)) or len(lv) != 2:
            raise FormatError(f"level {j} is not [price, amount]: {lv!r}"[:80], path=path, row=line, column=what)
        out.append((_literal_number(lv[0], path, line, f"{what}[{j}] price", rules["price"]),
                    _literal_number(lv[1], path, line, f"{what}[{j}] amount", rules["amount"])))
    return out


def _load_deribit(path: Path, text: str) -> pd.DataFrame:
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise FormatError(f"unreadable header ({exc})", path=path, row=1) from None
    header = [h.strip() for h in header]
    dup = next((h for i, h in enumerate(header) if h in header[:i]), None)
    if dup is not None:
        raise DuplicateError("column name appears twice in the header", path=path, row=1, column=dup)
    missing = [c for c in _DERIBIT_REQUIRED if c not in header]
    if missing:
        raise FormatError(f"missing Deribit columns {missing}", path=path, row=1)
    idx = {c: header.index(c) for c in _DERIBIT_REQUIRED}
    n = len(header)
    out: dict[str, list] = {k: [] for k in (
        "root", "expiry", "strike", "right", "bid", "ask", "last", "vendor_iv", "bid_size",
        "ask_size", "symbol", "volume", "open_interest", "vendor_delta", "vendor_gamma",
        "vendor_vega", "vendor_theta", "mark_price", "vendor_bid_iv", "vendor_ask_iv",
        "underlying_px", "index_price", "underlying_index", "ts", "src_line")}  # fmt: skip
    seen: set[str] = set()
    while True:
        try:
            f = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise FormatError(f"malformed CSV ({exc}; truncated file?)", path=path, row=reader.line_num) from None
        line = reader.line_num
        if not f or not any(x.strip() for x in f):
            continue
        if len(f) != n:
            raise FormatError(f"{len(f)} fields, expected {n} (truncated file?)", path=path, row=line)

        def g(c: str) -> str:
            return f[idx[c]].strip()  # noqa: B023 -- called within the iteration that binds it

        def num(c: str, *, allow_negative: bool = False, optional: bool = False) -> float:
            s = g(c)
            if s == "" and optional:
                return np.nan
            if s == "":
                raise FormatError("empty where a number is required", path=path, row=line, column=c)  # noqa: B023 -- called within the iteration that binds it
            rule = RULES["deribit"][_DERIBIT_RULE[c]] if c in _DERIBIT_RULE else None
            return _number(s, path, line, c, allow_negative=allow_negative, rule=rule)  # noqa: B023 -- called within the iteration that binds it

        name = g("instrument_name")
        m = _DERIBIT_NAME.match(name)
        if m is None:
            raise FormatError(f"bad instrument_name {name[:60]!r}", path=path, row=line, column="instrument_name")
        if name in seen:
            raise DuplicateError(f"duplicate instrument {name}", path=path, row=line, column="instrument_name")
        seen.add(name)
        base, dstr, kstr, cp = m.groups()
        root = OPTION_ROOTS.get(base)
        if root is None:
            raise DataError(f"unknown Deribit currency {base!r}", path=path, row=line, column="instrument_name")
        right = {"call": "C", "put": "P"}.get(g("option_type"))
        if right != cp:
            raise DataError(f"{g('option_type')[:20]!r} disagrees with {name}", path=path, row=line, column="option_type")
        strike = num("strike")
        if abs(strike - float(kstr)) > 1e-9:
            raise DataError(f"strike {strike} disagrees with {name}", path=path, row=line, column="strike")
        try:
            expiry = root.expiry_instant(datetime.strptime(dstr.title(), "%d%b%y"))
        except ValueError:
            raise FormatError(f"invalid expiry date {dstr!r} in {name}", path=path, row=line,
                              column="instrument_name") from None
        exp_ms = num("expiration_timestamp")
        if int(exp_ms) != expiry.value // 1_000_000:
            raise DataError(
                f"expiration_timestamp {int(exp_ms)} is not {name}'s 08:00 UTC expiry {expiry}",
                path=path,
                row=line,
                column="expiration_timestamp",
            )
        ts_ms = num("timestamp")
        greeks = _literal(g("greeks"), path, line, "greeks", dict)
        stats = _literal(g("stats"), path, line, "stats", dict)
        bids = _ladder(_literal(g("bids"), path, line, "bids", list), path, line, "bids")
        asks = _ladder(_literal(g("asks"), path, line, "asks", list), path, line, "asks")
        bid, ask = num("best_bid_price"), num("best_ask_price")
        for side, ladder, best in (("bids", bids, bid), ("asks", asks, ask)):
            top = ladder[0][0] if ladder else 0.0
            if abs(top - best) > 1e-12:
                raise DataError(f"best price {best} is not the top of {side} {top}", path=path, row=line,
                                column=f"best_{side[:-1]}_price")
        bid_iv, ask_iv = num("bid_iv") / 100.0, num("ask_iv") / 100.0
        mark_iv = num("mark_iv") / 100.0
        out["root"].append(base)
        out["expiry"].append(expiry)
        out["strike"].append(strike)
        out["right"].append(right)
        out["bid"].append(bid)
        out["ask"].append(ask)
        out["last"].append(num("last_price", optional=True))
        out["vendor_iv"].append(mark_iv if mark_iv > 0 else np.nan)
        out["bid_size"].append(num("best_bid_amount"))
        out["ask_size"].append(num("best_ask_amount"))
        out["symbol"].append(name)
        vol = stats.get("volume")
        out["volume"].append(
            np.nan if vol is None else _literal_number(vol, path, line, "stats volume", RULES["deribit"]["volume"]))
        out["open_interest"].append(num("open_interest"))
        for k in ("delta", "gamma", "vega", "theta"):
            if k not in greeks:
                raise FormatError(f"greeks has no {k!r}", path=path, row=line, column="greeks")
            rule = RULES["deribit"]["delta" if k == "delta" else "greek"]
            out[f"vendor_{k}"].append(_literal_number(greeks[k], path, line, f"greeks {k}", rule))
        out["mark_price"].append(num("mark_price"))
        out["vendor_bid_iv"].append(bid_iv if bid > 0 and bid_iv > 0 else np.nan)
        out["vendor_ask_iv"].append(ask_iv if ask > 0 and ask_iv > 0 else np.nan)
        out["underlying_px"].append(num("underlying_price"))
        out["index_price"].append(num("index_price"))
        out["underlying_index"].append(g("underlying_index"))
        out["ts"].append(int(ts_ms))
        out["src_line"].append(line)
    if not out["root"]:
        raise FormatError("no instrument rows after the header (truncated file?)", path=path, row=1)
    df = pd.DataFrame(out)
    df["ts"] = pd.to_datetime(df["ts"], unit="ms", utc=True).dt.as_unit("ns")
    df["expiry"] = pd.DatetimeIndex(df["expiry"]).as_unit("ns")
    df["underlying"] = df["root"].map({r: OPTION_ROOTS[r].underlying for r in df["root"].unique()})
    df["settlement"] = "TWAP"
    df["settlement_type"] = "cash"
    df["exercise"] = "european"
    df["underlying_px_source"] = "vendor_future"
    df["quote_ccy"] = df["root"]
    df["crossed"] = (df["bid"] > 0) & (df["ask"] > 0) & (df["ask"] < df["bid"])
    df["vendor"] = "deribit"
    return df

