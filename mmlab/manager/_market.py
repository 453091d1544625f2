"""The catalog's data as the manager reads it: which data set of a product, as of when, how old.

:class:`MarketData` is what every pricer receives: the catalog, the manager's settings and the
selection rules (the newest data set at or before ``asof``, no older than ``max_age_days``).
"""

from __future__ import annotations

import pandas as pd

from mmlab.errors import ConfigError, DataError
from mmlab.manager._config import NS_PER_DAY, ManagerConfig, instant_ns, utc
from mmlab.manager._products import PRODUCTS, check_universe

__all__ = ["MarketData", "rows_upto"]


def rows_upto(frame: pd.DataFrame, asof_ns: int) -> pd.DataFrame:
    """The rows of a date-indexed frame at or before ``asof`` (a naive index is UTC)."""
    idx = pd.DatetimeIndex(frame.index)
    idx = idx.tz_localize("UTC") if idx.tz is None else idx
    return frame[idx.asi8 <= asof_ns]


class MarketData:
    """The catalog under ``config.data_dir`` with the manager's selection rules."""

    def __init__(self, config: ManagerConfig):
        self.config = config
        self._catalog = None

    @property
    def catalog(self):
        """The :class:`mmlab.data.Catalog` under ``config.data_dir`` (opened on first use)."""
        if self._catalog is None:
            from mmlab.data import Catalog

            self._catalog = Catalog(self.config.data_dir)
        return self._catalog

    def ensure_ready(self, universe) -> pd.DataFrame:
        """Convert the universe's data sets (plus SOFR for USD chains) once; their registry rows."""
        from mmlab.data import ensure_data_ready

        names = [d for s in universe for d in PRODUCTS[s].datasets]
        if self.config.rate is None and any(
                PRODUCTS[s].kind == "options" and PRODUCTS[s].asset_class == "equity" for s in universe):
            names.extend(PRODUCTS["SOFR"].datasets)
        names = list(dict.fromkeys(names))
        ensure_data_ready(names, catalog=self.catalog)
        df = self.catalog.list()
        return df[df["name"].isin(names)].reset_index(drop=True)

    def datasets(self, universe, start=None, end=None) -> pd.DataFrame:
        """Registered data sets of the universe overlapping ``[start, end)``, with ``symbol``."""
        reg = self.ensure_ready(universe).set_index("name")
        lo = None if start is None else instant_ns(start, "start")
        hi = None if end is None else instant_ns(end, "end")
        rows = []
        for s in universe:
            p = PRODUCTS[s]
            for d in p.datasets:
                e = reg.loc[d]
                t0, t1 = int(e["t_start"].value), int(e["t_end"].value)
                if (lo is None or t1 >= lo) and (hi is None or t0 < hi):
                    rows.append({"symbol": s, "asset_class": p.asset_class, "kind": p.kind,
                                 "name": d, "rows": int(e["rows"]), "t_start": e["t_start"],
                                 "t_end": e["t_end"]})
        return pd.DataFrame(rows, columns=["symbol", "asset_class", "kind", "name", "rows",
                                           "t_start", "t_end"])

    def latest(self, symbol: str, asof_ns: int) -> pd.Series:
        """The newest data set of ``symbol`` starting at or before ``asof``: its registry row."""
        ds = self.datasets((symbol,))
        ds = ds[ds["t_start"].map(lambda t: t.value) <= asof_ns]
        if ds.empty:
            raise DataError(f"{symbol}: no data at or before {utc(asof_ns)} "
                            f"(data sets {list(PRODUCTS[symbol].datasets)})")
        return ds.sort_values("t_start").iloc[-1]

    def check_fresh(self, symbol: str, data_ns: int, asof_ns: int, name: str) -> None:
        """Refuse data older than ``config.max_age_days`` at ``asof``."""
        age = (asof_ns - data_ns) / NS_PER_DAY
        if age > self.config.max_age_days:
            raise DataError(f"{symbol}: newest data {utc(data_ns)} ({name}) is {age:.1f} days "
                            f"before asof, beyond max_age_days={self.config.max_age_days:g}")

    def sofr_fixing(self, day: pd.Timestamp) -> float:
        """The SOFR fixing (decimal, ACT/360) on or before ``day`` (a UTC date)."""
        name = PRODUCTS["SOFR"].datasets[0]
        self.ensure_ready(("SOFR",))
        s = self.catalog.load(name)["sofr"]
        s = s[pd.DatetimeIndex(s.index) <= day]
        if s.empty:
            raise DataError(f"no SOFR fixing on or before {day.date()} in {name}")
        return float(s.iloc[-1])

    def window_events(self, universe, start, end):
        """``(symbol, dataset, events)``: the one event data set of the universe covering
        ``[start, end)``, from its first event to ``end`` (so the book at ``start`` is true)."""
        lo, hi = instant_ns(start, "start"), instant_ns(end, "end")
        if hi <= lo:
            raise ConfigError(f"end: must be after start ({utc(lo)} >= {utc(hi)})")
        uni = check_universe(universe)
        non_events = [s for s in uni if PRODUCTS[s].kind != "events"]
        if non_events:
            events = sorted(k for k, p in PRODUCTS.items() if p.kind == "events")
            raise ConfigError(f"universe: {non_events} carry no order-book events to replay; "
                              f"event products: {events}")
        ds = self.datasets(uni, lo, hi)
        if ds.empty:
            have = self.datasets(uni)
            ranges = "; ".join(f"{r.name}: {r.t_start} .. {r.t_end}" for r in have.itertuples())
            raise DataError(f"universe {list(uni)}: no data in [{utc(lo)}, {utc(hi)}) ({ranges})")
        if len(ds) > 1:
            raise ConfigError(f"universe: {len(ds)} data sets in the window ({list(ds['name'])}); "
                              "name one product")
        name = str(ds["name"].iloc[0])
        return str(ds["symbol"].iloc[0]), name, self.catalog.load(name, end=hi)
