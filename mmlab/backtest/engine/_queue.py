"""Queue-position models for a resting order estimated from L2 data, as pure scalar functions.

Our order at a price level has ``front``: the quantity estimated ahead of it. The models follow
hftbacktest's definitions (``RiskAdverseQueueModel``, ``ProbQueueModel`` with
``PowerProbQueueFunc(n)`` / ``LogProbQueueFunc``; hftbacktest ``src/backtest/models/queue.rs``):

* on arrival: ``front`` = the quantity resting at the price (we join the back of the queue);
* a trade of ``qty`` at our price: ``front -= qty`` (the probabilistic models also add it to
  ``cum_trade``, the part of the next quantity decrease already explained by trades);
* a quantity change ``prev -> new`` at our price:

  - risk-averse: ``front = min(front, new)`` (cancels are assumed behind us unless the level
    shrinks below our position);
  - probabilistic: ``chg = prev - new - cum_trade`` and ``cum_trade = 0``; an increase
    (``chg < 0``) joins behind us (``front = min(front, new)``); a decrease is split with
    ``p = f(back) / (f(back) + f(front))`` (the share behind us, ``back = prev - front``):
    ``front' = min(front - (1 - p) chg + min(back - p chg, 0), new)``.
    The share attributed ahead of us is ``1 - p = f(front) / (f(front) + f(back))``, with
    ``f(x) = x**n`` (power) or ``f(x) = log(1 + x)`` (log);

* ``'fifo'`` (L3 data only): the queue ahead is the exact size of the orders that arrived
  before ours; it falls only when *those* orders are cancelled, reduced or executed (see
  :mod:`mmlab.backtest.engine._l3`); an L2 update at our level falls back to risk-averse;

* the order is filled once ``round(front / lot) < 0``; the quantity executable is
  ``floor(-front / lot) * lot``.

Each function has a plain-Python twin ``*_python``; the compiled versions are built from the same
code (``njit(cache=True)``).
"""

from __future__ import annotations

import math

from numba import njit

__all__ = [
    "QUEUE_LOG",
    "QUEUE_FIFO",
    "QUEUE_LOG2",
    "QUEUE_MODELS",
    "QUEUE_POWER",
    "QUEUE_POWER2",
    "QUEUE_POWER3",
    "QUEUE_RISK_AVERSE",
    "queue_depth",
    "queue_depth_python",
    "queue_filled_qty",
    "queue_filled_qty_python",
    "queue_model_code",
    "queue_prob",
    "queue_prob_python",
    "queue_trade",
    "queue_trade_python",
]

QUEUE_RISK_AVERSE = 0  #: position advances only with trades at our price
QUEUE_POWER = 1  #: p = f(back) / (f(back) + f(front)), f(x) = x**n
QUEUE_LOG = 2  #: p = f(back) / (f(back) + f(front)), f(x) = log(1 + x)
QUEUE_POWER2 = 3  #: p = f(back) / f(back + front), f(x) = x**n
QUEUE_LOG2 = 4  #: p = f(back) / f(back + front), f(x) = log(1 + x)
QUEUE_POWER3 = 5  #: p = 1 - f(front / (front + back)), f(x) = x**n
QUEUE_FIFO = 6  #: exact FIFO by order on L3 data (see mmlab.backtest.engine._l3)

#: Model names accepted by :func:`queue_model_code` (hftbacktest's names and short aliases).
QUEUE_MODELS = {
    "risk_averse": QUEUE_RISK_AVERSE,
    "risk_adverse": QUEUE_RISK_AVERSE,
    "power": QUEUE_POWER,
    "power_prob": QUEUE_POWER,
    "log": QUEUE_LOG,
    "log_prob": QUEUE_LOG,
    "power2": QUEUE_POWER2,
    "log2": QUEUE_LOG2,
    "power3": QUEUE_POWER3,
    "fifo": QUEUE_FIFO,
    "l3": QUEUE_FIFO,
}


def queue_model_code(name: str) -> int:
    """The integer code of a queue model name.

    Examples
    --------
    >>> queue_model_code("power"), queue_model_code("risk_averse")
    (1, 0)
    """
    from mmlab.errors import ConfigError

    key = str(name).lower().replace("-", "_").replace("_queue_model", "").replace("_model", "")
    if key not in QUEUE_MODELS:
        raise ConfigError(
            f"queue_model: unknown model {name!r}; choose from {sorted(QUEUE_MODELS)}")
    return QUEUE_MODELS[key]


def _f_python(model, n, x):
    """f(x) of the model: x**n (power) or log(1 + x) (log), kept inside its real domain."""
    if model == QUEUE_LOG or model == QUEUE_LOG2:
        return math.log(1.0 + x) if x > -1.0 else -math.inf
    if x < 0.0 and n != math.floor(n):
        return math.nan
    return x ** n


def queue_prob_python(model, n, front, back):
    """Probability that a quantity decrease at our level happened *behind* us (NaN for 0/0).

    Examples
    --------
    >>> queue_prob_python(QUEUE_POWER, 2.0, 3.0, 1.0)   # 1 / (1 + 9)
    0.1
    >>> round(queue_prob_python(QUEUE_LOG, 0.0, 1.0, 1.0), 12)
    0.5
    """
    if model == QUEUE_POWER or model == QUEUE_LOG:
        num = _f_python(model, n, back)
        den = num + _f_python(model, n, front)
    elif model == QUEUE_POWER2 or model == QUEUE_LOG2:
        num = _f_python(model, n, back)
        den = _f_python(model, n, back + front)
    elif model == QUEUE_POWER3:
        if front + back == 0.0:
            return math.nan
        return 1.0 - _f_python(model, n, front / (front + back))
    else:
        return 0.0
    if den == 0.0:
        return math.inf if num > 0.0 else (-math.inf if num < 0.0 else math.nan)
    return num / den


def queue_trade_python(model, front, cum_trade, qty):
    """A trade of ``qty`` at our price: ``(front, cum_trade)`` after it.

    Examples
    --------
    >>> queue_trade_python(QUEUE_POWER, 5.0, 0.0, 2.0)
    (3.0, 2.0)
    """
    if model == QUEUE_RISK_AVERSE:
        return front - qty, cum_trade
    if model == QUEUE_FIFO:  # L3: the orders' own fills move the queue (mmlab.backtest.engine._l3)
        return front, cum_trade
    return front - qty, cum_trade + qty


def queue_depth_python(model, n, front, cum_trade, prev_qty, new_qty):
    """The level at our price changed from ``prev_qty`` to ``new_qty``: ``(front, cum_trade)``.

    Examples
    --------
    >>> queue_depth_python(QUEUE_RISK_AVERSE, 0.0, 5.0, 0.0, 10.0, 7.0)   # cancels behind us
    (5.0, 0.0)
    >>> f, c = queue_depth_python(QUEUE_POWER, 2.0, 5.0, 0.0, 10.0, 8.0)  # front = back: half
    >>> f, c
    (4.0, 0.0)
    """
    if model == QUEUE_RISK_AVERSE or model == QUEUE_FIFO:
        # FIFO: an L2 update at our level is outside the L3 accounting; risk-averse fallback
        return min(front, new_qty), cum_trade
    chg = prev_qty - new_qty - cum_trade
    cum_trade = 0.0
    if chg < 0.0:
        return min(front, new_qty), cum_trade
    back = prev_qty - front
    p = queue_prob_python(model, n, front, back)
    if math.isinf(p):
        p = 1.0
    if math.isnan(p):  # hftbacktest: the estimate is NaN and Rust's NaN.min(new) gives new
        return new_qty, cum_trade
    est = front - (1.0 - p) * chg + min(back - p * chg, 0.0)
    return min(est, new_qty), cum_trade


def queue_filled_qty_python(front, lot):
    """Quantity executable once the queue ahead is consumed: ``floor(-front/lot)*lot`` when
    ``round(front / lot) < 0`` (rounding half away from zero), else 0.

    Examples
    --------
    >>> queue_filled_qty_python(-2.5, 1.0), queue_filled_qty_python(-0.4, 1.0)
    (2.0, 0.0)
    """
    x = front / lot
    if x <= -0.5:
        return math.floor(-x + 1e-9) * lot  # 1e-9: round-off of sums of lot multiples
    return 0.0


_f = njit(cache=True)(_f_python)
queue_trade = njit(cache=True)(queue_trade_python)
queue_filled_qty = njit(cache=True)(queue_filled_qty_python)


def _bind(f, **helpers):
    import types

    ns = dict(globals())
    ns.update(helpers)
    g = types.FunctionType(f.__code__, ns, f.__name__.removesuffix("_python"), f.__defaults__)
    g.__qualname__ = g.__name__
    g.__doc__ = f.__doc__
    g.__module__ = f.__module__
    return g


queue_prob = njit(cache=True)(_bind(queue_prob_python, _f_python=_f))
queue_depth = njit(cache=True)(_bind(queue_depth_python, queue_prob_python=queue_prob))
