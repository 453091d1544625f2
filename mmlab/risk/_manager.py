"""The risk manager: the ladder, Greek and notional limits, breakers, kill switch and throttle in
one gate that every order passes between quoting and the order manager. It cannot be bypassed by
the strategy: the order manager asks it for every order it would send.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from mmlab.errors import ConfigError
from mmlab.risk._breakers import Breaker, KillSwitch
from mmlab.risk._ladder import RiskDecision, RiskLimits, Zone, side_usage, zone_of
from mmlab.risk._throttle import OrderThrottle

__all__ = ["RiskManager", "ladder_decision"]

_GREEKS = ("delta", "gamma", "vega", "theta")


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


@dataclass
class RiskManager:
    """One gate for every order: breakers and kill switch, then the ladder, then the throttle.

    Examples
    --------
    >>> rm = RiskManager(RiskLimits(max_position=5))
    >>> rm.approve(+1, 2.0, position=0.0, working=0.0, in_flight=0.0, now=0)
    2.0
    >>> rm.kill_switch.engage(ts=1, reason="desk says stop")
    >>> rm.approve(-1, 1.0, position=0.0, working=0.0, in_flight=0.0, now=2)
    0.0
    """

    limits: RiskLimits
    throttle: OrderThrottle | None = None
    breakers: list[Breaker] = field(default_factory=list)
    kill_switch: KillSwitch = field(default_factory=KillSwitch)

    def __post_init__(self) -> None:
        if not isinstance(self.limits, RiskLimits):
            raise ConfigError("limits: expected a RiskLimits")
        self.breakers = list(self.breakers)

    @property
    def halted(self) -> bool:
        """True when the kill switch is engaged or any breaker has tripped."""
        return self.kill_switch.tripped or any(b.tripped for b in self.breakers)

    def halt_reasons(self) -> list[str]:
        """Why quoting is halted (empty when it is not)."""
        out = [f"kill switch: {self.kill_switch.reason}"] if self.kill_switch.tripped else []
        out += [f"{type(b).__name__}: {b.reason}" for b in self.breakers if b.tripped]
        return out

    def decide(self, side: int, size: float, position: float, working: float, in_flight: float,
               *, greeks: Mapping[str, float] | None = None,
               notional: float = 0.0) -> RiskDecision:
        """The ladder's decision for one side, overridden by a halt."""
        if self.halted:
            return RiskDecision(0.0, 1.0, 1.0, Zone.HARD, True, "; ".join(self.halt_reasons()))
        return ladder_decision(side, size, position, working, in_flight, self.limits,
                               greeks=greeks, notional=notional)

    def approve(self, side: int, size: float, position: float, working: float, in_flight: float,
                *, now: int, orders_in_flight: int = 0,
                greeks: Mapping[str, float] | None = None, notional: float = 0.0) -> float:
        """The size this order may be sent with (0: do not send). Consumes throttle capacity."""
        d = self.decide(side, size, position, working, in_flight, greeks=greeks, notional=notional)
        if d.size <= 0:
            return 0.0
        if self.throttle is not None and not self.throttle.try_send(now, orders_in_flight):
            return 0.0
        return d.size

    def reset(self, which: Iterable[str] | None = None) -> None:
        """Reset the kill switch and breakers (all, or those whose class names are given)."""
        names = None if which is None else set(which)
        for b in [self.kill_switch, *self.breakers]:
            if names is None or type(b).__name__ in names:
                b.reset()
