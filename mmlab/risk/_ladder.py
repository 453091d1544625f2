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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

from mmlab.errors import ConfigError

__all__ = ["RiskDecision", "RiskLimits", "Zone", "side_usage", "zone_of"]


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


def zone_of(usage: float, limits: RiskLimits) -> Zone:
    """The zone of a usage figure."""
    if usage >= 1.0:
        return Zone.HARD
    if usage >= limits.red:
        return Zone.RED
    if usage >= limits.yellow:
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
