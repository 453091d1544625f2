"""The results of a backtest: equity curve, fills, the exact PnL split, statistics, provenance."""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mmlab.backtest.engine import _engine as E
from mmlab.errors import ConfigError, FormatError

__all__ = ["BacktestResult", "read_result"]

_YEAR_NS = 365.0 * 86400e9


def fills_frame(fills: np.ndarray) -> pd.DataFrame:
    """The fills table of :attr:`BacktestResult.fills` from the core's FILL_DTYPE rows."""
    return pd.DataFrame({
        "ts": fills["ts"], "local_ts": fills["local_ts"],
        "side": fills["side"].astype(np.int8),
        "price": fills["price"], "qty": fills["qty"], "maker": fills["maker"] == 1,
        "fee": fills["fee"], "mid": fills["mid"], "spread_capture": fills["spread_capture"],
        "order_id": fills["order_id"], "seq": fills["seq"],
    })


def risk_frame(rk: np.ndarray) -> pd.DataFrame:
    """The risk events table: ``ts`` (local ns), ``kind`` (``drawdown``, ``daily_loss``,
    ``kill_switch``, ``stale_feed``, ``abnormal_spread``, ``vol_surge``, ``cooldown_end``,
    ``daily_loss_reset``, ``reset``) and ``value`` (the marked equity of a loss breaker, the
    feed's age in ns, the spread or the mid move that tripped, the breakers cleared)."""
    return pd.DataFrame({"ts": rk["ts"].copy(),
                         "kind": [E.RK_KINDS.get(int(k), str(int(k))) for k in rk["kind"]],
                         "value": rk["value"].copy()})


@dataclass
class BacktestResult:
    """What a backtest produced.

    Attributes
    ----------
    steps : pandas.DataFrame
        One row per strategy step (``ts``, local time ns): exchange ``mid`` (the mark),
        ``local_mid``, ``position`` (fills booked at the exchange), ``local_position`` (as the
        strategy knows it), ``balance`` (cash flows - fees + funding), ``equity`` (balance +
        position at the mid = PnL from a flat start), the cumulative PnL parts, exchange best
        bid/ask and our quoted prices.
    fills : pandas.DataFrame
        ``ts`` (exchange), ``local_ts`` (when the strategy learns it), ``side``, ``price``,
        ``qty``, ``maker``, ``fee`` (negative = rebate), ``mid`` (the mark used),
        ``spread_capture``, ``order_id``, ``seq`` (order of all accounting events).
    funding : pandas.DataFrame
        ``ts``, ``rate``, ``mark``, ``amount``, ``seq``.
    pnl : dict
        ``spread``, ``inventory``, ``fees`` (negative when paid), ``funding``, ``total``: the
        parts add up to the total exactly (the definitions of the core's account:
        :mod:`mmlab.backtest.core.primitives`).
    counters : dict
        Orders sent, rejected, cancelled; maker and taker fills.
    params, provenance, assumptions
        The settings, where the data and code came from, and the modelling assumptions
        (among them: no market impact).
    step_stats : dict
        Running statistics the kernel kept over every strategy step (``steps``, count, mean and
        sample sd of the per-step equity changes, downside deviation, ``max_drawdown``, mean
        and max absolute position): exact even when ``record_every`` thins ``steps``. Empty
        for a result built by hand (the statistics then come from ``steps``).
    risk_events : pandas.DataFrame
        Every breaker trip, kill switch, cooldown end and reset (``ts``, ``kind``, ``value``;
        see :func:`risk_frame`).
    """

    steps: pd.DataFrame
    fills: pd.DataFrame
    funding: pd.DataFrame
    pnl: dict
    counters: dict
    params: dict
    provenance_: dict | None
    assumptions: tuple = ()
    n_events: int = 0
    multiplier: float = 1.0
    inverse: bool = False
    max_position: float = math.inf
    final_book: dict = field(default_factory=dict)
    step_stats: dict = field(default_factory=dict)
    _prov_src: tuple | None = field(default=None, repr=False)
    risk_events: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {"ts": np.zeros(0, np.int64), "kind": np.zeros(0, object),
         "value": np.zeros(0, np.float64)}))

    @property
    def provenance(self) -> dict:
        """Data hashes (sha256 of the source files, or of the event array's bytes), git SHA,
        parameters (with the seed) and library versions; computed on first access."""
        if self.provenance_ is None:
            if self._prov_src is None:
                raise ConfigError("provenance: this result was built with provenance_=None "
                                  "and nothing to compute it from")
            data_hashes, events, params = self._prov_src
            if events is not None:
                import hashlib

                data_hashes = {"events": hashlib.sha256(
                    np.ascontiguousarray(events).view(np.uint8).data).hexdigest()}
            self.provenance_ = _collect(data_hashes, params)
            self._prov_src = None
        return self.provenance_

    # ------------------------------------------------------------------ construction
    @classmethod
    def _from_kernel(cls, steps, fills, fu, sc, acc, *, n_events, params, data_hashes,
                     multiplier, inverse, max_position, final_book, assumptions, seed,
                     events=None, risk=None):
        # every column is a view of the kernel's step arrays (no copy: the table's memory is
        # the kernel's, 136 bytes a row)
        cols = {"ts": steps["ts"]}
        cols.update({name: steps[name] for name in E.STEP_FLOATS})
        cols["seq"] = steps["seq"]
        cols["events_applied"] = steps["events_applied"]
        steps = pd.DataFrame(cols, copy=False)
        n = float(acc["dn"])
        step_stats = {
            "steps": int(acc["nsteps"]), "pnl_changes": int(n),
            "mean_change": float(acc["dmean"]) if n else 0.0,
            "sd_change": math.sqrt(max(float(acc["dm2"]), 0.0) / (n - 1)) if n > 1 else 0.0,
            "downside_dev": math.sqrt(float(acc["dneg2"]) / n) if n else 0.0,
            "max_drawdown": float(acc["mdd"]),
            "mean_abs_position": (float(acc["sabs"] / acc["nsteps"])
                                  if acc["nsteps"] else 0.0),
            "max_abs_position": float(acc["mabs"]),
        }
        fills = fills_frame(fills)
        funding = pd.DataFrame({"ts": fu["ts"], "rate": fu["rate"], "mark": fu["mark"],
                                "amount": fu["amount"], "seq": fu["seq"]})
        pnl = {
            "spread": float(acc["spread"]), "inventory": float(acc["inv"]),
            "fees": -float(acc["fees"]), "funding": float(acc["fund"]),
        }
        pnl["total"] = pnl["spread"] + pnl["inventory"] + pnl["fees"] + pnl["funding"]
        counters = {
            "orders_sent": int(sc["nsent"]), "rejected": int(sc["nreject"]),
            "cancelled": int(sc["ncancel"]), "maker_fills": int(sc["nmaker"]),
            "taker_fills": int(sc["ntaker"]), "position": float(acc["pos"]),
            "cash": float(acc["cash"]), "volume": float(acc["vol"]),
            "last_mark": float(acc["mark"]),
            "modifies_sent": int(sc["nmodify"]), "modified": int(sc["nmodified"]),
            "out_of_band": int(sc["nbanded"]), "self_cross": int(sc["nselfcross"]),
        }
        extra = {}
        if risk is not None:
            extra["risk_events"] = risk_frame(risk)
            counters["risk_events"] = int(sc["nrisk"])
            counters["throttled"] = int(sc["nthrottled"])
        return cls(steps, fills, funding, pnl, counters, params, None, tuple(assumptions),
                   int(n_events), float(multiplier), bool(inverse), float(max_position),
                   dict(final_book), step_stats, (data_hashes, events, {**params, "seed": seed}),
                   **extra)

    # ------------------------------------------------------------------ statistics
    def value(self, price):
        """Value coordinate x(p) of one contract (``m p``, or ``-m / p`` inverse)."""
        p = np.asarray(price, dtype=float)
        return -self.multiplier / p if self.inverse else self.multiplier * p

    @property
    def equity(self) -> pd.Series:
        """Equity curve (PnL from a flat start) indexed by UTC time."""
        return pd.Series(self.steps["equity"].to_numpy(),
                         index=pd.to_datetime(self.steps["ts"].to_numpy(), utc=True), name="equity")

    def _interval_ns(self) -> float:
        if self.step_stats and "interval" in self.params:
            return float(self.params["interval"])
        ts = self.steps["ts"].to_numpy()
        if ts.size > 1:
            return float(np.median(np.diff(ts)))
        return float(self.params.get("interval", 1))

    def sharpe(self) -> float:
        """Annualised Sharpe ratio of the per-step PnL changes (365-day year, no risk-free rate;
        0 when the PnL never moves). Over every strategy step, also those a thinned step table
        (``record_every``) does not keep."""
        st = self.step_stats
        if st:
            if st["pnl_changes"] < 2 or st["sd_change"] == 0:
                return 0.0
            return float(st["mean_change"] / st["sd_change"]
                         * math.sqrt(_YEAR_NS / self._interval_ns()))
        d = np.diff(self.steps["equity"].to_numpy())
        d = d[np.isfinite(d)]
        if d.size < 2 or np.std(d) == 0:
            return 0.0
        return float(np.mean(d) / np.std(d, ddof=1) * math.sqrt(_YEAR_NS / self._interval_ns()))

    def sortino(self) -> float:
        """Annualised Sortino ratio (downside deviation of per-step PnL changes below 0), over
        every strategy step."""
        st = self.step_stats
        if st:
            if st["pnl_changes"] < 2:
                return 0.0
            if st["downside_dev"] == 0:
                return 0.0 if st["mean_change"] == 0 else math.inf
            return float(st["mean_change"] / st["downside_dev"]
                         * math.sqrt(_YEAR_NS / self._interval_ns()))
        d = np.diff(self.steps["equity"].to_numpy())
        d = d[np.isfinite(d)]
        if d.size < 2:
            return 0.0
        dd = math.sqrt(float(np.mean(np.minimum(d, 0.0) ** 2)))
        if dd == 0:
            return 0.0 if np.mean(d) == 0 else math.inf
        return float(np.mean(d) / dd * math.sqrt(_YEAR_NS / self._interval_ns()))

    def max_drawdown(self) -> float:
        """Largest fall of the equity curve from a running peak (>= 0, settlement currency),
        over every strategy step."""
        if self.step_stats:
            return float(self.step_stats["max_drawdown"])
        e = self.steps["equity"].to_numpy()
        e = e[np.isfinite(e)]
        if e.size == 0:
            return 0.0
        peak = np.maximum.accumulate(np.maximum(e, 0.0))
        return float(np.max(peak - e))

    def markouts(self, horizons_ns=(1_000_000_000, 5_000_000_000, 30_000_000_000)) -> pd.DataFrame:
        """Per-fill markouts ``side * (mid(t + h) - price)`` (:func:`mmlab.risk.markouts`),
        against the exchange mid at the recorded strategy steps (with ``record_every > 1`` the
        mid is known every ``record_every`` steps)."""
        from mmlab.risk import markouts

        mid = self.steps["mid"].to_numpy()
        ok = np.isfinite(mid)
        m = markouts(self.fills["ts"].to_numpy(), self.fills["side"].to_numpy(),
                     self.fills["price"].to_numpy(), self.steps["ts"].to_numpy()[ok], mid[ok],
                     horizons_ns=horizons_ns)
        return pd.DataFrame(m, columns=[f"markout_{h / 1e9:g}s" for h in horizons_ns])

    def inventory_distribution(self, bins: int = 20) -> pd.DataFrame:
        """Share of strategy steps spent at each position bucket."""
        pos = self.steps["position"].to_numpy()
        if pos.size == 0:
            return pd.DataFrame({"low": [], "high": [], "share": []})
        h, edges = np.histogram(pos, bins=bins)
        return pd.DataFrame({"low": edges[:-1], "high": edges[1:], "share": h / pos.size})

    def summary(self) -> dict:
        """Headline figures as a dict (``pd.DataFrame([res.summary()])`` for one row).

        ``steps`` counts every strategy step, ``step_rows`` the rows the step table kept; the
        Sharpe, Sortino, drawdown and mean/max absolute position are over every step, the
        position quantiles over the kept rows."""
        pos = self.steps["position"].to_numpy()
        st = self.step_stats
        f = self.fills
        mk = self.markouts() if len(f) else None
        out = {
            "strategy": self.params.get("strategy"),
            "events": self.n_events,
            "steps": st["steps"] if st else len(self.steps),
            "step_rows": len(self.steps),
            "total_pnl": self.pnl["total"],
            "spread_pnl": self.pnl["spread"],
            "inventory_pnl": self.pnl["inventory"],
            "fee_pnl": self.pnl["fees"],
            "funding_pnl": self.pnl["funding"],
            "sharpe": self.sharpe(),
            "sortino": self.sortino(),
            "max_drawdown": self.max_drawdown(),
            "n_fills": len(f),
            "maker_fills": int(f["maker"].sum()) if len(f) else 0,
            "orders_sent": self.counters["orders_sent"],
            "rejected": self.counters["rejected"],
            "fill_rate": (len(f) / self.counters["orders_sent"]
                          if self.counters["orders_sent"] else 0.0),
            "turnover": self.counters["volume"],
            "final_position": self.counters["position"],
            "mean_abs_position": (st["mean_abs_position"] if st else
                                  float(np.mean(np.abs(pos))) if pos.size else 0.0),
            "max_abs_position": (st["max_abs_position"] if st else
                                 float(np.max(np.abs(pos))) if pos.size else 0.0),
            "position_p05": float(np.quantile(pos, 0.05)) if pos.size else 0.0,
            "position_p95": float(np.quantile(pos, 0.95)) if pos.size else 0.0,
            "no_market_impact": True,
        }
        if mk is not None:
            for c in mk.columns:
                col = mk[c].to_numpy()
                out[f"mean_{c}"] = float(np.nanmean(col)) if np.isfinite(col).any() else math.nan
        return out

    def to_frame(self) -> pd.DataFrame:
        """The per-step table with a UTC ``time`` column."""
        df = self.steps.copy()
        df.insert(0, "time", pd.to_datetime(df["ts"].to_numpy(), utc=True))
        return df

    def plot(self):
        """hvPlot of the equity curve and the position (a HoloViews layout)."""
        import hvplot.pandas  # noqa: F401

        df = self.to_frame()
        eq = df.hvplot.line(x="time", y=["equity", "spread_pnl", "inventory_pnl"],
                            title="PnL", ylabel="PnL")
        pos = df.hvplot.step(x="time", y="position", title="position")
        return (eq + pos).cols(1)

    # ------------------------------------------------------------------ persistence
    def to_parquet(self, path) -> Path:
        """Save as one Parquet file (steps, fills and funding rows; metadata in the schema),
        written to a temporary file and renamed (never half-written)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = Path(path)
        parts = []
        for kind, df in (("step", self.steps), ("fill", self.fills), ("funding", self.funding)):
            d = df.copy()
            for c in d.columns:  # nullable dtypes: the union table keeps int64 exact
                if d[c].dtype.kind in "iu":
                    d[c] = d[c].astype("Int64")
                elif d[c].dtype.kind == "b":
                    d[c] = d[c].astype("boolean")
            d.columns = [f"{kind}.{c}" for c in d.columns]
            d.insert(0, "record", kind)
            parts.append(d)
        table = pa.Table.from_pandas(pd.concat(parts, ignore_index=True), preserve_index=False)
        meta = {
            "pnl": self.pnl, "counters": self.counters, "params": self.params,
            "provenance": self.provenance, "assumptions": list(self.assumptions),
            "n_events": self.n_events, "multiplier": self.multiplier, "inverse": self.inverse,
            "max_position": self.max_position, "final_book": self.final_book,
            "step_stats": self.step_stats,
        }
        md = dict(table.schema.metadata or {})
        md[b"mmlab.backtest"] = json.dumps(meta, default=_json_default).encode()
        table = table.replace_schema_metadata(md)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        os.close(fd)
        try:
            pq.write_table(table, tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return path


_CACHE: dict = {}


def _collect(data_hashes, params) -> dict:
    """mmlab.provenance.collect, with the git SHA and library versions looked up once a process."""
    import datetime as _dt

    from mmlab.provenance import Provenance, git_sha, library_versions

    if "sha" not in _CACHE:
        _CACHE["sha"] = git_sha() or "unknown"
        _CACHE["versions"] = library_versions()
    now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    return Provenance(data={str(k): str(v) for k, v in data_hashes.items()}, git_sha=_CACHE["sha"],
                      parameters=dict(params), versions=dict(_CACHE["versions"]),
                      created=now).to_dict()


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, float | int | str | bool) or o is None:
        return o
    return repr(o)


def read_result(path) -> BacktestResult:
    """Load a :class:`BacktestResult` saved by :meth:`BacktestResult.to_parquet`.

    Raises :class:`~mmlab.errors.FormatError` naming the file if it is not such a file.
    """
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.exists():
        raise ConfigError(f"path: no such file {str(path)!r}")
    table = pq.read_table(path)
    raw = (table.schema.metadata or {}).get(b"mmlab.backtest")
    if raw is None:
        raise FormatError(f"{path}: not a saved backtest result (no mmlab.backtest metadata)")
    meta = json.loads(raw)
    df = table.to_pandas()
    frames = {}
    for kind in ("step", "fill", "funding"):
        d = df[df["record"] == kind]
        cols = [c for c in d.columns if c.startswith(kind + ".")]
        d = d[cols].reset_index(drop=True)
        d.columns = [c.split(".", 1)[1] for c in cols]
        frames[kind] = d
    for c in ("ts", "seq", "events_applied"):
        frames["step"][c] = frames["step"][c].astype(np.int64)
    f = frames["fill"]
    for c in ("ts", "local_ts", "order_id", "seq"):
        f[c] = f[c].astype(np.int64)
    f["side"] = f["side"].astype(np.int8)
    f["maker"] = f["maker"].astype(bool)
    for c in ("ts", "seq"):
        frames["funding"][c] = frames["funding"][c].astype(np.int64)
    fb = {k: tuple(v) for k, v in meta["final_book"].items()}
    return BacktestResult(frames["step"], f, frames["funding"], meta["pnl"], meta["counters"],
                          meta["params"], meta["provenance"], tuple(meta["assumptions"]),
                          int(meta["n_events"]), float(meta["multiplier"]), bool(meta["inverse"]),
                          float(meta["max_position"]), fb, dict(meta.get("step_stats", {})))
