"""Built-in strategies of the compiled engine: a configuration turned into kernel parameters.

The engine runs its strategies as numba kernels (see ``_quote`` in :mod:`mmlab.backtest.engine._engine`)
so that a sweep never leaves compiled code: the fixed-spread grid below, Avellaneda–Stoikov
(finite and infinite horizon, :func:`mmlab.quoting.as_quote_kernel`) and GLFT
(:func:`mmlab.quoting.glft_quote_kernel`), the adaptive spread; the depth strategy
(:class:`mmlab.quoting.DepthConfig`) is a built-in kernel of the user protocol
(:mod:`mmlab.backtest.engine._user`), reading the market-state record's book depth: a strategy
of your own (:class:`~mmlab.backtest.engine._user.UserStrategy`) runs the same way.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from mmlab.errors import ConfigError
from mmlab.quoting import renamed_keywords

__all__ = ["ADAPTIVE_VOL_HALFLIFE", "ADAPTIVE_VOL_MIN_STEPS", "STRATEGY_CLASSES", "GridStrategy",
           "ScriptedOrders", "StrategySpec", "depth_kernel", "script_params", "strategy_class", "strategy_kernel",
           "strategy_spec"]

_CLIPS = {"none": 0, "touch": 1, "passive": 2}


#: the grid's size a level is ``order_qty`` (issue 10's one vocabulary; ``order_size`` is an
#: A-S / GLFT / adaptive config's own field)
_ORDER_QTY = "GridStrategy's size a level is order_qty"


@renamed_keywords(order_size=_ORDER_QTY, level_size=_ORDER_QTY)
@dataclass(frozen=True, slots=True)
class GridStrategy:
    """Fixed-spread quoting around a skewed mid, optionally on a grid of several levels.

    Bid ``mid - half_spread - skew * q`` (rounded down to a tick), ask
    ``mid + half_spread - skew * q`` (rounded up); ``levels`` orders a side, ``grid_step`` ticks
    apart, ``order_qty`` each. ``clip``: ``'touch'`` never quotes inside the local best
    (bid <= best bid, ask >= best ask, as hftbacktest's grid examples), ``'passive'`` only keeps
    the quote from crossing, ``'none'`` leaves it (post-only orders that cross are rejected).

    Examples
    --------
    >>> GridStrategy(half_spread=0.5, order_qty=1.0).levels
    1
    >>> GridStrategy(half_spread=-1.0, order_qty=1.0)
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: half_spread: must be finite and >= 0, got -1.0
    >>> GridStrategy(half_spread=0.5, order_size=1.0)
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: GridStrategy(order_size=...): GridStrategy's size a level is order_qty
    """

    half_spread: float
    order_qty: float
    skew: float = 0.0
    levels: int = 1
    grid_step: int = 1
    clip: str = "touch"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.half_spread) and self.half_spread >= 0):
            raise ConfigError(f"half_spread: must be finite and >= 0, got {self.half_spread!r}")
        if not (math.isfinite(self.order_qty) and self.order_qty > 0):
            raise ConfigError(f"order_qty: must be finite and > 0, got {self.order_qty!r}")
        if not math.isfinite(self.skew):
            raise ConfigError(f"skew: must be finite, got {self.skew!r}")
        if int(self.levels) != self.levels or self.levels < 1:
            raise ConfigError(f"levels: must be a positive integer, got {self.levels!r}")
        if int(self.grid_step) != self.grid_step or self.grid_step < 1:
            raise ConfigError(
                f"grid_step: must be a positive integer (ticks), got {self.grid_step!r}")
        if self.clip not in _CLIPS:
            raise ConfigError(f"clip: must be one of {sorted(_CLIPS)}, got {self.clip!r}")


@dataclass(frozen=True, slots=True)
class ScriptedOrders:
    """Orders entered at given local times: the engine's scripted order-entry facility.

    Each row is ``(ts, side, price, qty)`` or ``(ts, side, price, qty, cancel_ts)``: local time
    (UTC ns) at which the order is sent, side (+1 buy, -1 sell), limit price, quantity, and the
    optional local time at which it is cancelled. An order is sent at the first strategy step at
    or after ``ts`` (steps every ``interval`` ns from ``start``; choose ``ts`` on a step for an
    exact time), subject to ``max_position``, ``post_only`` and the latencies like any quote;
    it rests until filled or cancelled. Meant for tests and what-if checks (a few hundred rows).

    Examples
    --------
    >>> s = ScriptedOrders([(1_000_000_000, 1, 99.5, 2.0)])
    >>> s.orders[0][:4]
    (1000000000, 1, 99.5, 2.0)
    >>> ScriptedOrders([(0, 2, 1.0, 1.0)])
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: orders[0]: side must be +1 or -1, got 2
    """

    orders: tuple

    def __post_init__(self) -> None:
        if isinstance(self.orders, str | os.PathLike):  # a CSV file (the CLI's -p orders FILE)
            object.__setattr__(self, "orders", _read_script_csv(self.orders))
        rows = []
        for r, row in enumerate(self.orders):
            row = tuple(row)
            if len(row) not in (4, 5):
                raise ConfigError(f"orders[{r}]: need (ts, side, price, qty[, cancel_ts])")
            ts, side, px, qty = int(row[0]), int(row[1]), float(row[2]), float(row[3])
            cancel = int(row[4]) if len(row) == 5 and row[4] is not None else -1
            if side not in (1, -1):
                raise ConfigError(f"orders[{r}]: side must be +1 or -1, got {row[1]!r}")
            if not (math.isfinite(px) and px > 0):
                raise ConfigError(f"orders[{r}]: price must be finite and > 0, got {row[2]!r}")
            if not (math.isfinite(qty) and qty > 0):
                raise ConfigError(f"orders[{r}]: qty must be finite and > 0, got {row[3]!r}")
            if cancel != -1 and cancel < ts:
                raise ConfigError(f"orders[{r}]: cancel_ts {cancel} is before ts {ts}")
            rows.append((ts, side, px, qty, cancel))
        if not rows:
            raise ConfigError("orders: need at least one order")
        object.__setattr__(self, "orders", tuple(rows))


def _read_script_csv(path) -> list[tuple]:
    """Rows ``ts, side, price, qty[, cancel_ts]`` of a CSV file with that header (ts in UTC ns,
    side +1 / -1; an empty cancel_ts: none); errors name the file and the row."""
    import csv

    need = ["ts", "side", "price", "qty"]
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            head = [h.strip() for h in (reader.fieldnames or [])]
            if head[:4] != need or len(head) > 5 or (len(head) == 5 and head[4] != "cancel_ts"):
                raise ConfigError(f"{path}: header must be ts,side,price,qty[,cancel_ts], got "
                                  f"{','.join(head)!r}")
            rows = []
            for i, rec in enumerate(reader, start=2):
                try:
                    row = [int(rec["ts"]), int(rec["side"]), float(rec["price"]),
                           float(rec["qty"])]
                    if len(head) == 5 and (rec.get("cancel_ts") or "").strip():
                        row.append(int(rec["cancel_ts"]))
                except (TypeError, ValueError) as exc:
                    raise ConfigError(f"{path}, row {i}: {exc}") from None
                rows.append(tuple(row))
            return rows
    except OSError as exc:
        raise ConfigError(f"orders: cannot read {path}: {exc.strerror or exc}") from None


def script_params(script: ScriptedOrders, t_start: int, interval: int, tick: float) -> np.ndarray:
    """The core's rows of a script (``SCRIPT_DTYPE``: step, side, tick, qty, cancel step, order
    id), with step ``k`` at local time ``t_start + k * interval``.

    Examples
    --------
    >>> rows = script_params(ScriptedOrders([(250, -1, 10.5, 1.0, 400)]), 100, 100, 0.5)
    >>> rows[["step", "side", "tick", "cancel_step"]].tolist(), float(rows["qty"][0])
    ([(2, -1, 21, 3)], 1.0)
    """
    from mmlab.backtest.engine import _engine as E

    out = np.zeros(len(script.orders), dtype=E.SCRIPT_DTYPE)
    for r, (ts, side, px, qty, cancel) in enumerate(script.orders):
        k = max(0, -((t_start - ts) // interval))  # ceil((ts - t_start) / interval)
        kc = -1 if cancel < 0 else max(0, -((t_start - cancel) // interval))
        t = px / tick
        if abs(t - math.floor(t + 0.5)) > 1e-6:
            raise ConfigError(f"orders[{r}]: price {px!r} is not on the tick grid ({tick!r})")
        out[r] = (k, side, math.floor(t + 0.5), qty, kc, 0)
    return out


#: The engine's built-in strategies by name (the CLI's ``-s`` and the manager's parameters):
#: ``name -> (module, class)``, imported on use.
STRATEGY_CLASSES = {
    "grid": ("mmlab.backtest", "GridStrategy"),
    "as": ("mmlab.quoting", "AvellanedaStoikovConfig"),
    "as-inf": ("mmlab.quoting", "AvellanedaStoikovInfiniteConfig"),
    "glft": ("mmlab.quoting", "GLFTConfig"),
    "adaptive": ("mmlab.quoting", "AdaptiveSpreadConfig"),
    "depth": ("mmlab.quoting", "DepthConfig"),
    "scripted": ("mmlab.backtest", "ScriptedOrders"),  # -p orders FILE.csv
}


def strategy_class(name: str) -> type:
    """The configuration class of a built-in strategy name (``KeyError`` when unknown).

    Examples
    --------
    >>> strategy_class("glft").__name__
    'GLFTConfig'
    """
    import importlib

    mod, cls = STRATEGY_CLASSES[name]
    return getattr(importlib.import_module(mod), cls)


#: Adaptive spread in the engine: half-life (strategy steps) of the EWMA volatility estimate
ADAPTIVE_VOL_HALFLIFE = 50
#: ... and the number of steps before it is used (until then ``vol_mult_max`` applies)
ADAPTIVE_VOL_MIN_STEPS = 10


class StrategySpec(NamedTuple):
    """What the core runs for a strategy (:func:`strategy_spec`)."""

    code: int  #: the core's strategy code (STRAT_*)
    params: np.void  #: a built-in strategy's parameters (core.layout.QUOTE_PARAMS_DTYPE)
    user_params: np.ndarray  #: a user-protocol kernel's parameter vector (MAX_PARAMS floats)
    levels: int  #: grid: levels a side
    grid_step: int  #: grid: ticks between levels
    clip: int  #: the clip to the touch (0 none, 1 touch, 2 passive)
    description: dict  #: the strategy's name and fields (the result's provenance)


def strategy_spec(strategy, *, time_unit_ns: float = 1e9, clip: str | None = None,
                  interval: int = 100_000_000) -> StrategySpec:
    """The :class:`StrategySpec` of a strategy for the core.

    Accepts a :class:`GridStrategy`, an A-S or GLFT config or strategy object from
    :mod:`mmlab.quoting`, an adaptive-spread or depth config/strategy (the depth strategy runs
    as a user-protocol kernel, :func:`depth_kernel`, on the market-state record's book depth),
    a :class:`~mmlab.backtest.engine._user.UserStrategy` or :class:`ScriptedOrders`. A-S and
    GLFT quote one level a side; their ``sigma_px`` is in price per square root of
    ``time_unit_ns`` (seconds by default) and A-S's ``time_left`` runs to the session's end in
    that unit. The adaptive spread's volatility (same unit as its ``vol_ref``) is estimated in
    the core from the local mid at each strategy step (every ``interval`` ns): an EWMA with a
    half-life of ``ADAPTIVE_VOL_HALFLIFE`` steps, used from step ``ADAPTIVE_VOL_MIN_STEPS`` on.

    Examples
    --------
    >>> spec = strategy_spec(GridStrategy(0.5, 1.0))
    >>> spec.code, float(spec.params["half_spread"]), float(spec.params["order_qty"]), spec.clip
    (0, 0.5, 1.0, 1)
    """
    from mmlab.backtest.engine import _engine as E
    from mmlab.backtest.engine._user import MAX_PARAMS, UserStrategy
    from mmlab.quoting import (
        AdaptiveSpreadConfig,
        AdaptiveSpreadStrategy,
        AvellanedaStoikovConfig,
        AvellanedaStoikovInfiniteConfig,
        AvellanedaStoikovInfiniteStrategy,
        AvellanedaStoikovStrategy,
        DepthConfig,
        DepthStrategy,
        GLFTConfig,
        GLFTStrategy,
    )

    if clip is not None and clip not in _CLIPS:
        raise ConfigError(f"clip: must be one of {sorted(_CLIPS)}, got {clip!r}")
    cfg = getattr(strategy, "config", strategy)
    if isinstance(strategy, AvellanedaStoikovStrategy | AvellanedaStoikovInfiniteStrategy
                  | GLFTStrategy | AdaptiveSpreadStrategy | DepthStrategy):
        cfg = strategy.config
    qp = E.record(E.QUOTE_PARAMS_DTYPE)
    qp["last_mid"] = math.nan
    up = np.zeros(MAX_PARAMS)
    c = _CLIPS[clip or "passive"]

    def spec(code, desc, levels=1, grid_step=1, clip_code=c):
        return StrategySpec(code, qp, up, levels, grid_step, clip_code, desc)

    if isinstance(cfg, UserStrategy):
        up = cfg.param_array()
        return spec(E.STRAT_USER, {"strategy": f"user:{cfg.name}", "params": cfg.params})
    if isinstance(cfg, DepthConfig):  # a built-in user-protocol kernel (depth_kernel)
        up = depth_params(cfg)
        return spec(E.STRAT_USER, {"strategy": "depth", **_fields(cfg)})
    if isinstance(cfg, ScriptedOrders):
        return spec(E.STRAT_SCRIPT, {"strategy": "scripted", "n_orders": len(cfg.orders)},
                    clip_code=0)
    if isinstance(cfg, GridStrategy):
        qp["half_spread"], qp["order_qty"], qp["skew"] = cfg.half_spread, cfg.order_qty, cfg.skew
        return spec(E.STRAT_GRID, {"strategy": "grid", **_fields(cfg)}, int(cfg.levels),
                    int(cfg.grid_step), _CLIPS[clip or cfg.clip])
    if not (math.isfinite(time_unit_ns) and time_unit_ns > 0):
        raise ConfigError(f"time_unit_ns: must be finite and > 0, got {time_unit_ns!r}")
    qp["time_unit_ns"] = time_unit_ns
    if isinstance(cfg, AvellanedaStoikovConfig | AvellanedaStoikovInfiniteConfig | GLFTConfig):
        qp["gamma"], qp["sigma_px"], qp["k"] = cfg.gamma, cfg.sigma_px, cfg.k
        qp["max_inventory"], qp["order_size"] = cfg.max_inventory, cfg.order_size
    if isinstance(cfg, AvellanedaStoikovConfig):
        return spec(E.STRAT_AS, {"strategy": "avellaneda_stoikov", **_fields(cfg)})
    if isinstance(cfg, AvellanedaStoikovInfiniteConfig):
        qp["omega"] = cfg.effective_omega
        return spec(E.STRAT_AS_INF, {"strategy": "avellaneda_stoikov_infinite", **_fields(cfg)})
    if isinstance(cfg, GLFTConfig):
        qp["A"], qp["xi"] = cfg.A, cfg.effective_xi
        return spec(E.STRAT_GLFT, {"strategy": "glft", **_fields(cfg)})
    if isinstance(cfg, AdaptiveSpreadConfig):
        # volatility for the multiplier: EWMA (half-life ADAPTIVE_VOL_HALFLIFE steps) of the
        # squared change of the local mid between strategy steps, per time unit; unknown (so
        # vol_mult_max applies) for the first ADAPTIVE_VOL_MIN_STEPS steps
        if not (isinstance(interval, int | np.integer) and interval > 0):
            raise ConfigError(f"interval: must be a positive integer (ns), got {interval!r}")
        qp["adaptive"] = cfg.params()
        qp["vol_weight"] = 1.0 - 0.5 ** (1.0 / ADAPTIVE_VOL_HALFLIFE)
        qp["step_units"] = interval / time_unit_ns
        qp["vol_min_steps"] = float(ADAPTIVE_VOL_MIN_STEPS)
        return spec(E.STRAT_ADAPTIVE, {
            "strategy": "adaptive", **_fields(cfg),
            "vol_halflife_steps": ADAPTIVE_VOL_HALFLIFE, "vol_min_steps": ADAPTIVE_VOL_MIN_STEPS})
    raise ConfigError(
        "strategy: expected a GridStrategy, an Avellaneda-Stoikov, GLFT, adaptive-spread or "
        "depth config/strategy, got "
        f"{type(strategy).__name__}")


def _fields(cfg) -> dict:
    import dataclasses

    if dataclasses.is_dataclass(cfg):
        return {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)}
    return {}


def strategy_kernel(strategy):
    """The quote kernel (:class:`~mmlab.backtest.engine._user.QuoteKernel`) the core calls for
    ``strategy``: a :class:`~mmlab.backtest.engine._user.UserStrategy`'s own, the depth
    strategy's :func:`depth_kernel`, the never-called no-op for the other built-in ones.

    Examples
    --------
    >>> from mmlab.quoting import DepthConfig
    >>> strategy_kernel(DepthConfig(target_depth=1.0, tick=0.1)).name
    'depth'
    """
    from mmlab.backtest.engine._user import QuoteKernel, UserStrategy, noop_kernel
    from mmlab.quoting import DepthConfig

    cfg = getattr(strategy, "config", strategy)
    if isinstance(cfg, UserStrategy):
        if not isinstance(cfg.kernel, QuoteKernel):
            raise ConfigError(
                f"strategy: the kernel must be a QuoteKernel, got {type(cfg.kernel).__name__}")
        return cfg.kernel
    if isinstance(cfg, DepthConfig):
        return depth_kernel()
    return noop_kernel()


def depth_params(cfg) -> np.ndarray:
    """The depth kernel's parameters of a :class:`~mmlab.quoting.DepthConfig`:
    ``[target_depth, tick, improve_ticks, skew_ticks, max_inventory, order_size]``, then zeros
    up to ``MAX_PARAMS``.

    Examples
    --------
    >>> from mmlab.quoting import DepthConfig
    >>> depth_params(DepthConfig(target_depth=2.0, tick=0.1, improve_ticks=1))[:6].tolist()
    [2.0, 0.1, 1.0, 0.0, inf, 1.0]
    """
    from mmlab.backtest.engine._user import MAX_PARAMS

    p = np.zeros(MAX_PARAMS)
    p[:6] = [cfg.target_depth, cfg.tick, cfg.improve_ticks, cfg.skew_ticks, cfg.max_inventory,
             cfg.order_size]
    return p


_DEPTH = None


def depth_kernel():
    """The depth strategy as a user-protocol quote kernel (compiled once, cached on disk).

    It reads the record's book depth (``MS_BID_DEPTH``/``MS_ASK_DEPTH``, the first
    ``DEPTH_LEVELS`` levels a side) and position, and quotes one level a side with
    :func:`mmlab.quoting.depth_quote_kernel` on :func:`depth_params`: a target deeper than the
    carried levels leaves that side unquoted.

    Examples
    --------
    >>> from mmlab.backtest.engine._user import MS_BID_DEPTH, MS_ASK_DEPTH, N_OUT, N_STATE
    >>> st, out = np.zeros(N_STATE), np.full(N_OUT, np.nan)
    >>> st[MS_BID_DEPTH:MS_BID_DEPTH + 4] = [99.9, 1.0, 99.8, 2.0]
    >>> st[MS_ASK_DEPTH:MS_ASK_DEPTH + 4] = [100.1, 4.0, 100.2, 1.0]
    >>> depth_kernel().python(st, np.array([3.0, 0.1, 0.0, 0.0, np.inf, 1.0]), out)
    >>> out[:4].tolist()
    [99.8, 1.0, 100.1, 1.0]
    """
    global _DEPTH
    if _DEPTH is None:
        from mmlab.backtest.engine._user import make_depth_kernel

        _DEPTH = make_depth_kernel()
    return _DEPTH
