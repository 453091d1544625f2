"""The settings of one run of the trading core: :class:`BacktestConfig` (validated, frozen), and
the layering and risk-zone specifications it accepts."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from mmlab.backtest.engine import _engine as E
from mmlab.backtest.engine._fees import FeeModel
from mmlab.backtest.engine._latency import latency_array
from mmlab.backtest.engine._queue import queue_model_code
from mmlab.errors import ConfigError
from mmlab.quoting import renamed_keywords

__all__ = ["DEFAULT_LAYERS", "RENAMED_SETTINGS", "BacktestConfig", "config_from", "layer_spec",
           "zone_spec"]

#: Retired setting names (issue 10's one vocabulary) -> what replaced them: ``BacktestConfig(old=...)``
#: and :func:`config_from` raise a ConfigError with this message.
RENAMED_SETTINGS = {
    "cadence_ns": "renamed interval (ns of local time)",
    "cadence_ms": "renamed interval (ns of local time: 100 ms is interval=100_000_000)",
    "interval_ns": "renamed interval (ns of local time)",
    "entry_latency_ns": "renamed entry_latency (ns)",
    "response_latency_ns": "renamed response_latency (ns)",
    "max_inventory": "the hard limit is max_position (a strategy's max_inventory is its own field)",
}


@renamed_keywords(**RENAMED_SETTINGS)
@dataclass(frozen=True, slots=True)
class BacktestConfig:
    """Settings of one backtest run (all validated).

    Parameters
    ----------
    tick_size, lot_size : float, optional
        Price grid and size lot; default from ``instrument``, else inferred from the data.
    queue_model : str
        ``'risk_averse'``, ``'power'`` (default, with ``queue_power=2``: hftbacktest's
        ``power_prob_queue_model(2.0)``), ``'log'``, ``'power2'``, ``'log2'``, ``'power3'``;
        ``'fifo'`` on L3 data (exact position by order, :mod:`mmlab.backtest.engine._l3`).
    queue_power : float
        Exponent n of the power models.
    partial_fills : bool
        False: hftbacktest's no-partial-fill exchange (an order fills in full or not at all).
    entry_latency, response_latency : int or array of int
        Nanoseconds; an array is a recorded distribution drawn from with ``seed``.
    interval : int
        Strategy cadence, nanoseconds of local time (default 100 ms).
    maker_fee, taker_fee, fee_per_contract : float
        Rates on traded value (negative maker = rebate) and fixed fee per contract.
    multiplier : float
    inverse : bool
        Coin-margined contract: PnL in coin through ``x(p) = -multiplier / p``.
    max_position : float
        Hard limit: position + working + in-flight orders of a side never exceed it.
    post_only : bool
        Orders are GTX (rejected if they would cross on arrival).
    roi : (float, float), optional
        Price range of the dense book; default: the traded range +- 10 % (the quoted range
        +- 10 % without trades). Levels outside are ignored (they cannot touch orders inside
        it); quotes outside it are not sent.
    funding : (array, array), optional
        Funding times (exchange ns) and rates of a perpetual.
    record_every : int or "auto"
        The step table (equity curve, positions, quotes) keeps one row every ``record_every``
        strategy steps: the last step of each group. Each row costs 136 bytes, so a fine
        cadence over sparse data (100 ms steps through a quiet day or the nights) can make the
        table larger than the event array. ``"auto"`` (default): every step, unless the table
        would take more than ``AUTO_RECORD_SHARE`` (60 %) of the event array's bytes; then the
        smallest ``record_every`` that fits (``params["record_every_used"]``), so a backtest
        adds no more memory than its data (the other 40 % is left for the run's working
        arrays: book, orders, fills, the summary's temporaries). ``1`` keeps every step
        whatever the cost. Fills, PnL, counters and the Sharpe / Sortino / drawdown statistics
        (kept by the kernel over every step) are unaffected; markouts use the recorded mids.
    max_orders : int
        Capacity of simultaneous orders.
    seed : int
        Seed of the latency draws.
    time_unit_ns : float
        Time unit of A-S / GLFT parameters (seconds by default).
    start, end : int, optional
        Local-time window of the strategy (ns): it first runs at ``start + interval``; default
        the whole stream (``start`` = the earliest timestamp in the data, as hftbacktest).
    max_drawdown, max_daily_loss : float
        Breakers on the local side's equity marked at its own mid (quote currency, contract
        value units), evaluated at every strategy decision: a fall from the equity's peak
        above ``max_drawdown``, or from the trading day's (UTC) first decision above
        ``max_daily_loss``, cancels every order and stops quoting (latched: until reset;
        daily loss also until the next day). Default: off.
    stale_after : int
        Stale-feed breaker (ns): no market event seen locally for this long pulls the quotes.
        0: off.
    max_spread, max_mid_move : float
        Abnormal-spread breaker (local best ask - best bid above ``max_spread``, price) and
        vol-surge breaker (|local mid change| between two decisions above ``max_mid_move``,
        price). Default: off.
    breaker_cooldown : int
        The stale, spread and vol breakers clear themselves this long (ns) after the last
        decision at which they held (default 5 s).
    max_order_rate, order_burst : float
        The throttle on new orders (cancels are never held back): a token bucket refilled at
        ``max_order_rate`` per second holding at most ``order_burst`` (default: the rate, at
        least 1), so at most ``order_burst + max_order_rate x s`` new orders go out in any
        ``s`` seconds; orders held back are counted (``counters["throttled"]``). Default off.
    price_band : float
        A fat-finger check on what a strategy computes: no order or modify is sent at a price
        further from the local mid than this share of it (default 0.1: 10 %; ``inf``: off);
        those held back are counted (``counters["out_of_band"]``). :class:`ScriptedOrders` are
        sent as written.
    zones : bool or mmlab.risk.RiskLimits, optional
        The risk ladder's soft zones on each side's usage ``max(0, side x position) /
        max_position``: in yellow (from ``yellow``, 0.3) sizes shrink to ``yellow_min_size``
        (0.5) and distances from the mid widen to ``yellow_max_widen`` (2x), linearly across the
        band; in red (from ``red``, 0.7) the side that grows the position does not quote.
        ``True``: :class:`~mmlab.risk.RiskLimits`'s thresholds; a ``RiskLimits``: its own.
        Default off (the hard limit ``max_position`` always applies).
    layers : bool or (sequence of float, sequence of float), optional
        Layering of a one-level strategy (A-S, GLFT, adaptive, a one-level grid): ``True``
        quotes 3 levels a side at 1x / 2x / 4x the strategy's distance from the mid with
        40 / 35 / 25 % of its size (:mod:`mmlab.quoting`'s ladder defaults); a pair
        ``(distances, shares)`` sets them (at most 8 levels; distances >= 1, increasing;
        shares > 0 adding up to at most 1). The risk limit applies to the whole ladder.
    toxicity_window, toxicity_threshold, toxicity_widen, toxicity_size, toxicity_recovery
        The toxicity response (:class:`mmlab.risk.ToxicityMonitor`'s rule, in the core): when
        more than ``toxicity_threshold`` (0.8) of our last ``toxicity_window`` (50) fills are
        on one side, distances from the mid are multiplied by ``toxicity_widen`` (2) and sizes
        by ``toxicity_size`` (0.5) until ``toxicity_recovery`` (100) consecutive clean fills.
        ``toxicity_window=0`` turns it off (as hftbacktest, for a like-for-like comparison).
    modify_orders : bool
        ``True``: a working order the strategy no longer wants is re-priced or re-sized by a
        *modify* request to a level it wants and has no order at (one order id, one round
        trip) instead of cancel + new; the exchange applies the queue-priority rule (a new
        price or a larger size joins the back of the level's queue, a smaller size keeps its
        place). A modify counts against the throttle and the hard limit like a new order.
        Default ``False`` (cancel + new, as hftbacktest).
    self_trade_prevention : bool
        ``True`` (default): no order or modify is sent at a price that would lock or cross one
        of our own live orders of the other side (working, in flight, being cancelled or
        modified: the venue may still hold it); it waits until that order is gone (counted,
        ``counters["self_cross"]``). ``False``: sent regardless, as hftbacktest does (its
        simulated exchange never matches our own orders with each other), for a like-for-like
        comparison.
    session_end : int, optional
        The session's horizon (ns): A-S's ``time_left`` runs to it and the run stops after it.
        Default: the last timestamp of the data (the step driver, which sees no data in
        advance, needs it given).
    """

    tick_size: float | None = None
    lot_size: float | None = None
    queue_model: str = "power"
    queue_power: float = 2.0
    partial_fills: bool = True
    entry_latency: object = 0
    response_latency: object = 0
    interval: int = 100_000_000
    maker_fee: float = 0.0
    taker_fee: float = 0.0
    fee_per_contract: float = 0.0
    multiplier: float = 1.0
    inverse: bool = False
    max_position: float = math.inf
    post_only: bool = True
    roi: tuple | None = None
    funding: tuple | None = None
    max_orders: int = 64
    record_every: int | str = "auto"
    seed: int = 0
    time_unit_ns: float = 1e9
    start: int | None = None
    end: int | None = None
    session_end: int | None = None
    max_drawdown: float = math.inf
    max_daily_loss: float = math.inf
    stale_after: int = 0
    max_spread: float = math.inf
    max_mid_move: float = math.inf
    breaker_cooldown: int = 5_000_000_000
    max_order_rate: float = math.inf
    price_band: float = 0.1
    order_burst: float | None = None
    zones: object = None
    layers: object = None
    toxicity_window: int = 50
    toxicity_threshold: float = 0.8
    toxicity_widen: float = 2.0
    toxicity_size: float = 0.5
    toxicity_recovery: int = 100
    modify_orders: bool = False
    self_trade_prevention: bool = True
    clip: str | None = None
    instrument: object = field(default=None)

    def __post_init__(self) -> None:
        queue_model_code(self.queue_model)
        if not (self.price_band > 0):
            raise ConfigError(f"price_band: a share of the mid > 0 (inf: off), got "
                              f"{self.price_band!r}")
        if not isinstance(self.modify_orders, bool):
            raise ConfigError(f"modify_orders: True or False, got {self.modify_orders!r}")
        if not isinstance(self.self_trade_prevention, bool):
            raise ConfigError("self_trade_prevention: True or False, got "
                              f"{self.self_trade_prevention!r}")
        for name in ("tick_size", "lot_size"):
            v = getattr(self, name)
            if v is not None and not (math.isfinite(v) and v > 0):
                raise ConfigError(f"{name}: must be finite and > 0, got {v!r}")
        if not (math.isfinite(self.queue_power) and self.queue_power > 0):
            raise ConfigError(f"queue_power: must be finite and > 0, got {self.queue_power!r}")
        if int(self.interval) != self.interval or self.interval <= 0:
            raise ConfigError(f"interval: must be a positive integer (ns), got {self.interval!r}")
        FeeModel(self.maker_fee, self.taker_fee, self.fee_per_contract)
        if not (math.isfinite(self.multiplier) and self.multiplier > 0):
            raise ConfigError(f"multiplier: must be finite and > 0, got {self.multiplier!r}")
        if not self.max_position > 0:
            raise ConfigError(f"max_position: must be > 0, got {self.max_position!r}")
        r = self.record_every
        if not (r == "auto" if isinstance(r, str) else (
                not isinstance(r, bool) and isinstance(r, int | float | np.integer)
                and int(r) == r and r >= 1)):
            raise ConfigError(f"record_every: must be 'auto' or an integer >= 1, got {r!r}")
        if int(self.max_orders) != self.max_orders or not 1 <= self.max_orders <= 4096:
            raise ConfigError(
                f"max_orders: must be an integer in [1, 4096], got {self.max_orders!r}")
        latency_array(self.entry_latency, "entry_latency")
        latency_array(self.response_latency, "response_latency")
        for name in ("max_drawdown", "max_daily_loss", "max_spread", "max_mid_move"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0:
                raise ConfigError(f"{name}: must be a number > 0 (inf: off), got {v!r}")
        for name in ("stale_after", "breaker_cooldown"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 0:
                raise ConfigError(f"{name}: must be an integer >= 0 (ns), got {v!r}")
        if isinstance(self.max_order_rate, bool) or not self.max_order_rate > 0:
            raise ConfigError(f"max_order_rate: must be > 0 (inf: off), got "
                              f"{self.max_order_rate!r}")
        if self.order_burst is not None and not (math.isfinite(self.order_burst)
                                                 and self.order_burst >= 1):
            raise ConfigError(f"order_burst: must be finite and >= 1, got {self.order_burst!r}")
        layer_spec(self.layers)
        zone_spec(self.zones)
        tw, tr = self.toxicity_window, self.toxicity_recovery
        if isinstance(tw, bool) or not isinstance(tw, int | np.integer) or not \
                (tw == 0 or 2 <= tw <= E.TOX_MAX):
            raise ConfigError(f"toxicity_window: 0 (off) or an integer in [2, {E.TOX_MAX}], "
                              f"got {tw!r}")
        if isinstance(tr, bool) or not isinstance(tr, int | np.integer) or tr < 1:
            raise ConfigError(f"toxicity_recovery: must be an integer >= 1, got {tr!r}")
        if not 0.5 <= self.toxicity_threshold < 1.0:
            raise ConfigError(f"toxicity_threshold: must be in [0.5, 1), got "
                              f"{self.toxicity_threshold!r}")
        if not (self.toxicity_widen >= 1.0 and 0.0 < self.toxicity_size <= 1.0):
            raise ConfigError("toxicity_widen >= 1 and 0 < toxicity_size <= 1 required")
        for name in ("start", "end", "session_end"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | np.integer)):
                raise ConfigError(f"{name}: must be an integer (ns), got {v!r}")
        if self.roi is not None:
            lo, hi = self.roi
            if not (math.isfinite(lo) and math.isfinite(hi) and 0 <= lo < hi):
                raise ConfigError(f"roi: need 0 <= low < high, got {self.roi!r}")

    def public(self) -> dict:
        """The settings as plain values (for provenance)."""
        d = {}
        for k, v in asdict(self).items():
            if isinstance(v, np.ndarray):
                v = {"n": int(v.size), "mean": float(v.mean())}
            elif k == "funding" and v is not None:
                v = {"n": int(len(v[0]))}
            elif k == "instrument" and v is not None:
                v = str(getattr(v, "key", v))
            d[k] = v
        return d


#: the default ladder of ``layers=True``: distances 1x / 2x / 4x, sizes 40 / 35 / 25 %
DEFAULT_LAYERS = ((1.0, 2.0, 4.0), (0.40, 0.35, 0.25))


def zone_spec(zones):
    """``(yellow, red, yellow_min_size, yellow_max_widen)`` of a ``zones`` setting (``None``:
    off)."""
    if zones is None or zones is False:
        return None
    from mmlab.risk import RiskLimits

    if zones is True:
        zones = RiskLimits(max_position=1.0)
    if not isinstance(zones, RiskLimits):
        raise ConfigError(f"zones: True or a mmlab.risk.RiskLimits, got {zones!r}")
    return (zones.yellow, zones.red, zones.yellow_min_size, zones.yellow_max_widen)


def layer_spec(layers):
    """``(distances, shares)`` of a ``layers`` setting (``None``: no layering); ConfigError
    when they are not a ladder."""
    if layers is None or layers is False:
        return None
    if layers is True:
        return DEFAULT_LAYERS
    try:
        d, w = layers
        d = tuple(float(x) for x in d)
        w = tuple(float(x) for x in w)
    except (TypeError, ValueError):
        raise ConfigError(f"layers: True or (distances, shares), got {layers!r}") from None
    ok = (1 <= len(d) == len(w) <= E.MAX_LEVELS and all(math.isfinite(x) for x in d + w)
          and d[0] >= 1.0 and all(b > a for a, b in zip(d, d[1:], strict=False))
          and all(x > 0 for x in w) and sum(w) <= 1.0 + 1e-12)
    if not ok:
        raise ConfigError(f"layers: need 1-{E.MAX_LEVELS} distances >= 1, increasing, and as "
                          f"many shares > 0 adding up to <= 1, got {layers!r}")
    return d, w


def config_from(settings: dict) -> BacktestConfig:
    """A :class:`BacktestConfig` from keyword settings; a name that is not a setting is a
    ``ConfigError`` naming it and the settings there are (not a ``TypeError``).

    Examples
    --------
    >>> config_from({"max_position": 5.0}).max_position
    5.0
    >>> config_from({"bogus": 1})
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: bogus: not a backtest setting (settings: breaker_cooldown, clip, ...)
    >>> config_from({"cadence_ns": 10**8})
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: cadence_ns: renamed interval (ns of local time)
    """
    names = set(BacktestConfig.__dataclass_fields__)
    for k in settings:
        if k in RENAMED_SETTINGS:
            raise ConfigError(f"{k}: {RENAMED_SETTINGS[k]}")
    unknown = sorted(k for k in settings if k not in names)
    if unknown:
        listed = ", ".join(sorted(names))
        raise ConfigError(f"{', '.join(unknown)}: not a backtest setting (settings: {listed})")
    return BacktestConfig(**settings)
