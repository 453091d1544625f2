"""Implied volatility for Black-Scholes-Merton, Black-76 and Bachelier, with reason codes.

The solver is mmlab's own (see :mod:`mmlab.pricing._iv_kernels` for the maths); it never raises
on an unsolvable element: that element gets NaN and a reason code.  Invalid *arguments* (a flag
that is not 'c'/'p', shapes that do not broadcast, an unknown model) raise ``ConfigError``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mmlab.errors import ConfigError
from mmlab.pricing import _iv_kernels as _k
from mmlab.pricing._inputs import as_flags, broadcast_inputs, flag_scalar, reshape_output, scalars

__all__ = ["IVCode", "ImpliedVolResult", "implied_vol"]


class IVCode(enum.IntEnum):
    """Reason code of each implied-volatility element.

    ====  ======================  ==================================================================
    code  name                    meaning
    ====  ======================  ==================================================================
    0     OK                      solved
    1     BELOW_INTRINSIC         price < discounted intrinsic value of the forward (arbitrage)
    2     AT_INTRINSIC            price == intrinsic (in the money: within 4 eps max(F, K), the
                                  rounding of F - K): no time value, vol 0 or undetermined -> NaN
    3     ABOVE_UPPER_BOUND       call >= e^{-qt} S (e^{-rt} F), put >= e^{-rt} K: vol infinite
    4     NONPOSITIVE_TIME        t <= 0 (expired: no vol to imply)
    5     NONPOSITIVE_PRICE       price <= 0
    6     INVALID_INPUT           NaN or infinite input; S, F or K <= 0 for the lognormal models
    7     NOT_CONVERGED           no finite root in double precision: the normalised time
                                  value is a subnormal below 4.9e-312 (fewer than 12
                                  significant digits), or the vol would overflow a double;
                                  otherwise not expected (please report)
    ====  ======================  ==================================================================
    """

    OK = _k.OK
    BELOW_INTRINSIC = _k.BELOW_INTRINSIC
    AT_INTRINSIC = _k.AT_INTRINSIC
    ABOVE_UPPER_BOUND = _k.ABOVE_UPPER_BOUND
    NONPOSITIVE_TIME = _k.NONPOSITIVE_TIME
    NONPOSITIVE_PRICE = _k.NONPOSITIVE_PRICE
    INVALID_INPUT = _k.INVALID_INPUT
    NOT_CONVERGED = _k.NOT_CONVERGED


_CODE_NAMES = np.array([c.name for c in IVCode])


@dataclass(frozen=True, slots=True)
class ImpliedVolResult:
    """Implied vols with a reason code per element.

    Unpacks as ``iv, code = implied_vol(...)``; ``np.asarray(result)`` gives the vols.

    Attributes
    ----------
    iv : numpy.ndarray or numpy.float64
        Implied volatility (lognormal, or normal in price units for Bachelier); NaN where
        ``code != 0``.
    code : numpy.ndarray or numpy.int8
        :class:`IVCode` per element.
    model : str
        ``'bsm'``, ``'black76'`` or ``'bachelier'``.

    Examples
    --------
    >>> res = implied_vol([10.45058357, 0.01, 200.0], "c", 100.0, 100.0, 1.0, 0.05)
    >>> res.reason.tolist()
    ['OK', 'BELOW_INTRINSIC', 'ABOVE_UPPER_BOUND']
    >>> round(float(res.iv[0]), 8)
    0.2
    """

    iv: np.ndarray | np.floating
    code: np.ndarray | np.integer
    model: str

    def __iter__(self):
        return iter((self.iv, self.code))

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.iv, dtype=dtype)

    @property
    def ok(self) -> np.ndarray:
        """True where the vol was solved."""
        return np.asarray(self.code) == IVCode.OK

    @property
    def reason(self) -> np.ndarray:
        """Code names per element (``'OK'``, ``'BELOW_INTRINSIC'``...)."""
        return _CODE_NAMES[np.asarray(self.code, dtype=np.intp)]

    def to_frame(self) -> pd.DataFrame:
        """Columns ``iv``, ``code``, ``reason`` (flattened)."""
        return pd.DataFrame(
            {"iv": np.ravel(self.iv), "code": np.ravel(self.code), "reason": np.ravel(self.reason)}
        )

    def summary(self) -> pd.Series:
        """Number of elements per reason."""
        return self.to_frame()["reason"].value_counts().rename("count")

    def plot(self, x=None):
        """Scatter of the solved vols against ``x`` (default: the element index)."""
        import matplotlib.pyplot as plt

        iv = np.ravel(self.iv)
        xs = np.arange(iv.size) if x is None else np.ravel(x)
        fig, ax = plt.subplots()
        ax.plot(xs, iv, "o", ms=3)
        ax.set_ylabel(f"implied vol ({self.model})")
        return ax


_MODELS = ("bsm", "black76", "bachelier")


def implied_vol(price, flag, S, K, t, r, q=0.0, model: str = "bsm") -> ImpliedVolResult:
    """Implied volatility of European option prices, vectorised.

    Parameters
    ----------
    price : float or array-like
        Option premium (present value).
    flag : str or array-like
        ``'c'`` or ``'p'``.
    S : float or array-like
        Spot for ``model='bsm'``; the forward/futures price for ``'black76'`` and ``'bachelier'``.
    K : float or array-like
        Strike.
    t : float or array-like
        Time to expiry in years (ACT/365F, :func:`year_fraction`).
    r : float or array-like
        Continuously compounded discount rate.
    q : float or array-like, default 0
        Dividend yield (``'bsm'`` only; must be 0 for the forward models).
    model : {'bsm', 'black76', 'bachelier'}
        Pricing model; Bachelier returns the normal vol (price units per sqrt(year)).

    Returns
    -------
    ImpliedVolResult
        ``iv`` (NaN where unsolvable) and ``code`` (:class:`IVCode`) with the broadcast shape.

    Raises
    ------
    ConfigError
        Unknown model, bad flag, shapes that do not broadcast, q != 0 with a forward model.

    Notes
    -----
    Accuracy on Jaeckel's 1,000 reference cases (``data/reference/
    lets_be_rational_test_values.json``): wherever vega > 1e-8, ``|d sigma|`` is at most 0.028
    of the bound ``1e-12 + 16 eps price/vega`` and within 4e-15 of Jaeckel's own solver
    (``tests/test_pricing_implied_vol.py``).  ``bench/bench_iv.py`` times it against
    py_vollib_vectorized.

    Examples
    --------
    >>> iv, code = implied_vol([4.7594, 0.5], "c", 42.0, 40.0, [0.5, 0.0], 0.1)
    >>> round(float(iv[0]), 3), code.tolist()
    (0.2, [0, 4])
    """
    if model not in _MODELS:
        raise ConfigError(f"model: expected one of {_MODELS}, got {model!r}")
    th = flag_scalar(flag)
    if th is not None and scalars(price, S, K, t, r, q) and (model == "bsm" or q == 0.0):
        # single option: the scalar kernels directly
        if model == "bachelier":
            v, c = _k._bachelier_iv_one(float(price), th, float(S), float(K), float(t), float(r))
        else:
            v, c = _k._black_iv_one(float(price), th, float(S), float(K), float(t), float(r),
                                    float(q), model == "bsm")
        return ImpliedVolResult(np.float64(v), np.int8(c), model)
    fl = as_flags(flag)
    if model == "bachelier":
        if np.any(np.asarray(q) != 0.0):
            raise ConfigError("q: must be 0 for model='bachelier' (S is the forward)")
        shape, arrs = broadcast_inputs(price=price, flag=fl, F=S, K=K, t=t, r=r)
        n = int(np.prod(shape))
        iv = np.empty(n)
        code = np.empty(n, dtype=np.int8)
        _k.bachelier_iv_kernel(*arrs, iv, code)
    else:
        if model == "black76" and np.any(np.asarray(q) != 0.0):
            raise ConfigError("q: must be 0 for model='black76' (S is the forward)")
        shape, arrs = broadcast_inputs(price=price, flag=fl, S=S, K=K, t=t, r=r, q=q)
        n = int(np.prod(shape))
        iv = np.empty(n)
        code = np.empty(n, dtype=np.int8)
        _k.black_iv_kernel(*arrs, model == "bsm", iv, code)
    return ImpliedVolResult(reshape_output(iv, shape), reshape_output(code, shape), model)
