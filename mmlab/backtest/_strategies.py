"""Built-in strategies of the compiled engine: a configuration turned into kernel parameters.

The engine runs its strategies as numba kernels (see ``_quote`` in :mod:`mmlab.backtest._engine`)
so that a sweep never leaves compiled code: the fixed-spread grid below, Avellaneda–Stoikov
(finite and infinite horizon, :func:`mmlab.quoting.as_quote_kernel`) and GLFT
(:func:`mmlab.quoting.glft_quote_kernel`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mmlab.errors import ConfigError

__all__ = ["GridStrategy", "strategy_spec"]

_CLIPS = {"none": 0, "touch": 1, "passive": 2}


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


def strategy_spec(strategy, *, time_unit_ns: float = 1e9, clip: str | None = None):
    """``(code, params, levels, grid_step, clip_code, description)`` of a strategy for the engine.

    Accepts a :class:`GridStrategy`, an A-S or GLFT config or strategy object from
    :mod:`mmlab.quoting`. A-S and GLFT quote one level a side; their ``sigma`` is per square
    root of ``time_unit_ns`` (seconds by default) and A-S's ``time_left`` runs to the end of the
    data in that unit.

    Examples
    --------
    >>> code, p, lv, st, cl, d = strategy_spec(GridStrategy(0.5, 1.0))
    >>> code, p.tolist(), lv, cl
    (0, [0.5, 1.0, 0.0], 1, 1)
    """
    from mmlab.backtest import _engine as E
    from mmlab.quoting import (
        AvellanedaStoikovConfig,
        AvellanedaStoikovInfiniteConfig,
        AvellanedaStoikovInfiniteStrategy,
        AvellanedaStoikovStrategy,
        GLFTConfig,
        GLFTStrategy,
    )

    if clip is not None and clip not in _CLIPS:
        raise ConfigError(f"clip: must be one of {sorted(_CLIPS)}, got {clip!r}")
    cfg = getattr(strategy, "config", strategy)
    if isinstance(strategy, AvellanedaStoikovStrategy | AvellanedaStoikovInfiniteStrategy
                  | GLFTStrategy):
        cfg = strategy.config
    if isinstance(cfg, GridStrategy):
        p = [cfg.half_spread, cfg.order_qty, cfg.skew]
        return (E.STRAT_GRID, np.array(p, dtype=np.float64), int(cfg.levels), int(cfg.grid_step),
                _CLIPS[clip or cfg.clip], {"strategy": "grid", **_fields(cfg)})
    if not (math.isfinite(time_unit_ns) and time_unit_ns > 0):
        raise ConfigError(f"time_unit_ns: must be finite and > 0, got {time_unit_ns!r}")
    c = _CLIPS[clip or "passive"]
    if isinstance(cfg, AvellanedaStoikovConfig):
        p = [cfg.gamma, cfg.sigma, cfg.k, cfg.max_inventory, cfg.order_size, time_unit_ns]
        return E.STRAT_AS, np.array(p, float), 1, 1, c, {"strategy": "avellaneda_stoikov",
                                                          **_fields(cfg)}
    if isinstance(cfg, AvellanedaStoikovInfiniteConfig):
        p = [cfg.gamma, cfg.sigma, cfg.k, cfg.effective_omega, cfg.max_inventory, cfg.order_size]
        return E.STRAT_AS_INF, np.array(p, float), 1, 1, c, {
            "strategy": "avellaneda_stoikov_infinite", **_fields(cfg)}
    if isinstance(cfg, GLFTConfig):
        p = [cfg.gamma, cfg.sigma, cfg.A, cfg.k, cfg.effective_xi, cfg.order_size,
             cfg.max_inventory]
        return E.STRAT_GLFT, np.array(p, float), 1, 1, c, {"strategy": "glft", **_fields(cfg)}
    raise ConfigError(
        "strategy: expected a GridStrategy, an Avellaneda-Stoikov or GLFT config/strategy, got "
        f"{type(strategy).__name__}")


def _fields(cfg) -> dict:
    import dataclasses

    if dataclasses.is_dataclass(cfg):
        return {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)}
    return {}
