"""Go/no-go gates of a research run and the budget tiers they are measured against.

A backtest *passes* when it made money (``total_pnl > 0``), had a positive Sharpe ratio and its
largest drawdown stayed within ``max_drawdown_frac`` (40 %) of the risk budget it was allocated.
A walk-forward study passes when at least ``min_pass_rate`` of its out-of-sample windows pass.

Budget tiers
------------
A tier is a named allocation of capital (settlement currency); the drawdown gate of a run in that
tier is ``max_drawdown <= max_drawdown_frac * capital``. Every run also reports the *smallest*
tier whose budget would have contained its drawdown (``tier``; ``"none"`` beyond the largest):

==============  ===========  =====================================
tier            capital      drawdown allowed (40 %)
==============  ===========  =====================================
``micro``       1,000        400
``small``       10,000       4,000
``medium``      100,000      40,000
``large``       1,000,000    400,000
``desk``        10,000,000   4,000,000
==============  ===========  =====================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from mmlab.errors import ConfigError

__all__ = ["BUDGET_TIERS", "BudgetTier", "Gates", "budget_amount", "evaluate_gates", "tier_for"]


@dataclass(frozen=True, slots=True)
class BudgetTier:
    """A named capital allocation (settlement currency).

    Examples
    --------
    >>> BudgetTier("small", 10_000.0).capital
    10000.0
    """

    name: str
    capital: float

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"name: must be a non-empty string, got {self.name!r}")
        if not (math.isfinite(self.capital) and self.capital > 0):
            raise ConfigError(f"capital: must be finite and > 0, got {self.capital!r}")


BUDGET_TIERS: tuple[BudgetTier, ...] = (
    BudgetTier("micro", 1_000.0),
    BudgetTier("small", 10_000.0),
    BudgetTier("medium", 100_000.0),
    BudgetTier("large", 1_000_000.0),
    BudgetTier("desk", 10_000_000.0),
)
_TIERS = {t.name: t for t in BUDGET_TIERS}


def budget_amount(budget) -> float:
    """The capital of ``budget``: a tier name, a :class:`BudgetTier` or a positive number.

    Examples
    --------
    >>> budget_amount("medium"), budget_amount(2500)
    (100000.0, 2500.0)
    """
    if isinstance(budget, BudgetTier):
        return float(budget.capital)
    if isinstance(budget, str):
        if budget not in _TIERS:
            raise ConfigError(f"budget: unknown tier {budget!r}; tiers: {list(_TIERS)}")
        return _TIERS[budget].capital
    try:
        b = float(budget)
    except (TypeError, ValueError):
        raise ConfigError(
            f"budget: expected a tier name, a BudgetTier or a number, got {budget!r}") from None
    if not (math.isfinite(b) and b > 0):
        raise ConfigError(f"budget: must be finite and > 0, got {budget!r}")
    return b


@dataclass(frozen=True, slots=True)
class Gates:
    """Pass/fail thresholds reported for every run.

    Parameters
    ----------
    min_pnl : float
        A run passes the PnL gate when ``total_pnl > min_pnl`` (default 0: positive PnL).
    min_sharpe : float
        ... the Sharpe gate when ``sharpe > min_sharpe`` (default 0: positive Sharpe).
    max_drawdown_frac : float
        ... the drawdown gate when ``max_drawdown <= max_drawdown_frac * budget`` (default 0.4).
    min_pass_rate : float
        A walk-forward study passes when the share of its out-of-sample windows passing all
        three gates is at least this (default 0.5).

    Examples
    --------
    >>> g = Gates()
    >>> g.evaluate({"total_pnl": 12.0, "sharpe": 1.3, "max_drawdown": 500.0}, budget="micro")
    {'pass_pnl': True, 'pass_sharpe': True, 'pass_drawdown': False, 'passed': False,
     'tier': 'small'}
    >>> Gates(max_drawdown_frac=1.5)
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: max_drawdown_frac: must be in (0, 1], got 1.5
    """

    min_pnl: float = 0.0
    min_sharpe: float = 0.0
    max_drawdown_frac: float = 0.4
    min_pass_rate: float = 0.5

    def __post_init__(self) -> None:
        for name in ("min_pnl", "min_sharpe"):
            if not math.isfinite(getattr(self, name)):
                raise ConfigError(f"{name}: must be finite, got {getattr(self, name)!r}")
        if not (math.isfinite(self.max_drawdown_frac) and 0 < self.max_drawdown_frac <= 1):
            raise ConfigError(
                f"max_drawdown_frac: must be in (0, 1], got {self.max_drawdown_frac!r}")
        if not (math.isfinite(self.min_pass_rate) and 0 <= self.min_pass_rate <= 1):
            raise ConfigError(f"min_pass_rate: must be in [0, 1], got {self.min_pass_rate!r}")

    def evaluate(self, metrics, budget="small") -> dict:
        """Gate columns of one run: ``pass_pnl``, ``pass_sharpe``, ``pass_drawdown``, ``passed``
        and ``tier`` (the smallest budget tier whose drawdown limit holds the run's drawdown).

        ``metrics`` is a :class:`~mmlab.backtest.BacktestResult` or a mapping with
        ``total_pnl``, ``sharpe`` and ``max_drawdown``. A NaN figure fails its gate.
        """
        if isinstance(metrics, Mapping):
            m = metrics
        elif hasattr(metrics, "summary"):
            res = metrics
            m = {"total_pnl": res.pnl["total"], "sharpe": res.sharpe(),
                 "max_drawdown": res.max_drawdown()}
        else:
            raise ConfigError(
                f"metrics: expected a BacktestResult or a mapping, got {type(metrics).__name__}")
        try:
            pnl, sh, dd = (float(m[k]) for k in ("total_pnl", "sharpe", "max_drawdown"))
        except KeyError as exc:
            raise ConfigError(f"metrics: missing {exc.args[0]!r}") from None
        cap = budget_amount(budget)
        out: dict[str, bool | str] = {
            "pass_pnl": bool(pnl > self.min_pnl),
            "pass_sharpe": bool(sh > self.min_sharpe),
            "pass_drawdown": bool(dd <= self.max_drawdown_frac * cap),
        }
        out["passed"] = all(out.values())
        out["tier"] = tier_for(dd, self.max_drawdown_frac)
        return out

    def pass_rate_ok(self, rate: float) -> bool:
        """Whether a walk-forward pass rate meets ``min_pass_rate``."""
        return bool(math.isfinite(rate) and rate >= self.min_pass_rate)


def tier_for(max_drawdown: float, max_drawdown_frac: float = 0.4) -> str:
    """Name of the smallest tier in :data:`BUDGET_TIERS` whose drawdown limit
    (``max_drawdown_frac * capital``) holds ``max_drawdown``; ``"none"`` if none does.

    Examples
    --------
    >>> tier_for(0.0), tier_for(400.0), tier_for(400.01), tier_for(5e6)
    ('micro', 'micro', 'small', 'none')
    """
    dd = float(max_drawdown)
    if not math.isfinite(dd):
        return "none"
    for t in BUDGET_TIERS:
        if dd <= max_drawdown_frac * t.capital:
            return t.name
    return "none"


def evaluate_gates(metrics, gates: Gates | None = None, budget="small") -> dict:
    """Shorthand for ``(gates or Gates()).evaluate(metrics, budget)``.

    Examples
    --------
    >>> evaluate_gates({"total_pnl": -1.0, "sharpe": 0.5, "max_drawdown": 3.0})["passed"]
    False
    """
    g = Gates() if gates is None else gates
    if not isinstance(g, Gates):
        raise ConfigError(f"gates: expected a Gates, got {type(g).__name__}")
    return g.evaluate(metrics, budget)
