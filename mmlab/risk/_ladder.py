"""The risk ladder: inventory usage, zones, and what each zone allows.

Notes
-----
Inventory usage on a side is the exposure that side's orders would grow, counting what is already
committed, over the hard limit:

.. math::

    u_\\text{buy} = \\max(0,\\; q + W_b + F_b) / Q, \\qquad
    u_\\text{sell} = \\max(0,\\; -(q - W_s - F_s)) / Q

with position :math:`q`, working quantity :math:`W` and in-flight (sent, not yet acknowledged)
quantity :math:`F` on each side, and hard limit :math:`Q`. Counting working and in-flight orders
means a burst of fills can never carry the position past the limit.

Zones (thresholds configurable):

* green  (:math:`u < 0.3`): normal quoting;
* yellow (:math:`0.3 \\le u < 0.7`): soft limit; on the side that grows the position sizes shrink
  and spreads widen, the inventory skew steepens (linearly across the band);
* red    (:math:`0.7 \\le u < 1`): reduce-only: no order that grows the position;
* hard   (:math:`u \\ge 1` on the position itself, or any Greek or notional limit breached):
  stop quoting, cancel everything, flatten or hedge back inside.

Whatever the zone, an order's size is clipped so that position + working + in-flight + the order
never passes the hard limit.

This module is the ladder's definition; the trading core applies it at every decision
(:func:`mmlab.backtest.run`'s ``zones`` and ``max_position`` settings, the step and loopback
drivers alike), with the breakers, the kill switch and the throttle. :func:`ladder_decision`
states one decision in plain Python (the reference the core is tested against).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

from mmlab.errors import ConfigError

__all__ = ["RiskDecision", "RiskLimits", "Zone", "ladder_decision", "side_usage", "zone_of"]

_GREEKS = ("delta", "gamma", "vega", "theta")


class Zone(IntEnum):
    """Risk zones, ordered by severity."""

    GREEN = 0
    YELLOW = 1
    RED = 2
    HARD = 3


def _positive(name: str, value: float, allow_inf: bool = True) -> None:
    if not isinstance(value, (int, float)) or math.isnan(value) or value <= 0 or (
        not allow_inf and math.isinf(value)
    ):
        raise ConfigError(f"{name}: must be a number > 0, got {value!r}")


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Limits and ladder thresholds for one instrument (or one underlying's book).

    Parameters
    ----------
    max_position : float
        Hard inventory limit, absolute, in instrument units (> 0, finite).
    yellow, red : float
        Usage thresholds of the yellow and red zones (0 < yellow < red < 1).
    yellow_min_size : float
        Size factor on the growing side at the top of the yellow band (1 at its bottom).
    yellow_max_widen : float
        Spread multiplier on the growing side at the top of the yellow band (1 at its bottom).
    yellow_max_skew : float
        Inventory-skew multiplier at the top of the yellow band (1 at its bottom).
    max_notional : float
        Hard limit on |position| x price x multiplier.
    max_delta, max_gamma, max_vega, max_theta : float
        Hard limits on the absolute portfolio Greeks (in the units the caller reports).

    Examples
    --------
    >>> lim = RiskLimits(max_position=10)
    >>> zone_of(0.5, lim).name
    'YELLOW'
    """

    max_position: float
    yellow: float = 0.30
    red: float = 0.70
    yellow_min_size: float = 0.5
    yellow_max_widen: float = 2.0
    yellow_max_skew: float = 2.0
    max_notional: float = math.inf
    max_delta: float = math.inf
    max_gamma: float = math.inf
    max_vega: float = math.inf
    max_theta: float = math.inf

    def __post_init__(self) -> None:
        _positive("max_position", self.max_position, allow_inf=False)
        if not (0.0 < self.yellow < self.red < 1.0):
            raise ConfigError(
                f"yellow, red: need 0 < yellow < red < 1, got yellow={self.yellow!r}, red={self.red!r}"
            )
        if not (0.0 < self.yellow_min_size <= 1.0):
            raise ConfigError(f"yellow_min_size: must be in (0, 1], got {self.yellow_min_size!r}")
        if not (self.yellow_max_widen >= 1.0):
            raise ConfigError(f"yellow_max_widen: must be >= 1, got {self.yellow_max_widen!r}")
        if not (self.yellow_max_skew >= 1.0):
            raise ConfigError(f"yellow_max_skew: must be >= 1, got {self.yellow_max_skew!r}")
        for name in ("max_notional", "max_delta", "max_gamma", "max_vega", "max_theta"):
            _positive(name, getattr(self, name))


def side_usage(side: int, position: float, working: float, in_flight: float,
               max_position: float) -> float:
    """Inventory usage of one side (see the module notes).

    Parameters
    ----------
    side : int
        +1 for buy, -1 for sell.
    position : float
        Signed position.
    working, in_flight : float
        Unsigned quantities of working and in-flight orders on that side.
    max_position : float
        Hard limit.

    Examples
    --------
    >>> side_usage(+1, position=2.0, working=1.0, in_flight=0.5, max_position=10.0)
    0.35
    >>> side_usage(-1, position=2.0, working=1.0, in_flight=0.5, max_position=10.0)
    0.0
    """
    exposure = side * position + working + in_flight
    return max(0.0, exposure) / max_position


#: a usage this close below a threshold is at it (a position of whole lots, summed in binary,
#: lands a hair below its level: 7 x 0.01 is 0.06999999999999999)
USAGE_TOL = 1e-9


def zone_of(usage: float, limits: RiskLimits) -> Zone:
    """The zone of a usage figure (thresholds reached within :data:`USAGE_TOL`)."""
    u = usage + USAGE_TOL
    if u >= 1.0:
        return Zone.HARD
    if u >= limits.red:
        return Zone.RED
    if u >= limits.yellow:
        return Zone.YELLOW
    return Zone.GREEN


@dataclass(frozen=True, slots=True)
class RiskDecision:
    """What the risk ladder allows for one side's quote.

    ``size`` is the allowed size (0: do not quote this side); ``spread_mult`` and ``skew_mult``
    multiply the strategy's half-spread and inventory skew on this side; ``zone`` is the side's
    zone; ``halt`` is true when the book is at a hard limit (cancel everything, flatten or hedge);
    ``reason`` says why the size or terms changed ('' when untouched).
    """

    size: float
    spread_mult: float
    skew_mult: float
    zone: Zone
    halt: bool
    reason: str


def _hard_breach(position: float, limits: RiskLimits, greeks: Mapping[str, float] | None,
                 notional: float) -> str:
    if abs(position) >= limits.max_position:
        return f"position {position} at or beyond the hard limit {limits.max_position}"
    if abs(notional) > limits.max_notional:
        return f"notional {notional} beyond the limit {limits.max_notional}"
    for g in _GREEKS:
        if greeks and g in greeks:
            value, lim = greeks[g], getattr(limits, f"max_{g}")
            if not math.isfinite(value) or abs(value) > lim:
                return f"{g} {value} beyond the limit {lim}"
    return ""


def ladder_decision(side: int, size: float, position: float, working: float, in_flight: float,
                    limits: RiskLimits, *, greeks: Mapping[str, float] | None = None,
                    notional: float = 0.0) -> RiskDecision:
    """Apply the ladder to one side's desired ``size`` (see :mod:`mmlab.risk._ladder`).

    Parameters
    ----------
    side : int
        +1 buy (bid), -1 sell (ask).
    size : float
        Desired size (>= 0).
    position : float
        Signed position.
    working, in_flight : float
        Unsigned working and in-flight quantity on this side (not counting this order).
    limits : RiskLimits
    greeks : mapping, optional
        Current portfolio Greeks (``delta``, ``gamma``, ``vega``, ``theta``) to check.
    notional : float
        Current |position| notional to check.

    Examples
    --------
    >>> lim = RiskLimits(max_position=10)
    >>> d = ladder_decision(+1, 2.0, position=5.0, working=0.0, in_flight=0.0, limits=lim)
    >>> d.zone.name, round(d.size, 3), round(d.spread_mult, 3)
    ('YELLOW', 1.5, 1.5)
    >>> ladder_decision(+1, 2.0, 8.0, 0.0, 0.0, lim).size      # red: reduce-only
    0.0
    >>> ladder_decision(-1, 2.0, 8.0, 0.0, 0.0, lim).size      # the reducing side quotes
    2.0
    """
    if side not in (1, -1):
        raise ConfigError(f"side: must be +1 or -1, got {side!r}")
    if not (math.isfinite(size) and size >= 0):
        raise ConfigError(f"size: must be finite and >= 0, got {size!r}")
    if working < 0 or in_flight < 0:
        raise ConfigError("working, in_flight: unsigned quantities must be >= 0")
    why = _hard_breach(position, limits, greeks, notional)
    if why:
        return RiskDecision(0.0, 1.0, 1.0, Zone.HARD, True, why)
    u = side_usage(side, position, working, in_flight, limits.max_position)
    zone = zone_of(u, limits)
    exposure = side * position + working + in_flight
    headroom = max(0.0, limits.max_position - exposure)
    spread_mult = skew_mult = 1.0
    reason = ""
    if zone >= Zone.RED:
        allowed, reason = 0.0, f"reduce-only: usage {u:.2f} in the red zone"
    elif zone is Zone.YELLOW:
        frac = (u - limits.yellow) / (limits.red - limits.yellow)
        allowed = size * (1.0 - frac * (1.0 - limits.yellow_min_size))
        spread_mult = 1.0 + frac * (limits.yellow_max_widen - 1.0)
        skew_mult = 1.0 + frac * (limits.yellow_max_skew - 1.0)
        reason = f"soft limit: usage {u:.2f} in the yellow zone"
    else:
        allowed = size
    if allowed > headroom:
        allowed, reason = headroom, f"clipped to the hard-limit headroom {headroom:g}"
    return RiskDecision(float(allowed), spread_mult, skew_mult, zone, False, reason)
