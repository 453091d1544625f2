"""De-Americanisation: European-equivalent premiums of American option quotes.

A surface of European (Black-76) vols needs European prices.  For an American quote ``P_A`` the
*early-exercise premium* ``EEP(sigma) = A(sigma) - E(sigma)`` of a model is taken out:
``P_E = P_A - EEP(sigma*)`` at the vol ``sigma*`` that reprices the quote,
``E(sigma*) + EEP(sigma*) = P_A``.  The Black-76 vol of ``P_E`` is then ``sigma*``, the
quote's American implied vol, and put-call parity holds again for the ``P_E`` (it does not
for American premia: the put premium biases a parity forward low).

Model
-----
A Cox-Ross-Rubinstein tree of ``n`` steps, the last one by the Black-Scholes formula (the BBS
tree of Broadie & Detemple 1996, which removes the odd-even oscillation across strikes), on the
*escrowed* price ``S*`` (Black-Scholes with discrete dividends, Haug 2007, sec. 9.1):
``S*_0 = D(T) F`` with ``F`` the expiry's forward, so the tree's European value converges to
Black-76 on ``F``.  The stock a holder receives by exercising at time ``t`` is worth
``S*_t + PV_t(dividends still capturable in (t, T))``.  A dividend is capturable until the
close (16:00 New York) of the weekday before its ex-date (exercise then delivers the stock
cum dividend); one whose deadline has passed is already out of the price.  American and
European values come from the same tree, so their difference carries little of the tree's
discretisation error (the control variate of Hull & White 1988): with 64 steps the premium
of a 3-month at-the-money put is within about 4e-4 of 800 steps.  Without a dividend schedule
no dividend is capturable: calls carry no premium and puts are valued on the escrowed price
(an upper bound of their premium).

In :func:`mmlab.surface.analyze_chain` (American rows of the chain's ``exercise`` column):
premium at the Black-76 vol of the American mid on the American parity forward; forwards again
from the premium-free mids; premium once more at the vol of the premium-free mid on that
forward, taken out of the bid, mid and ask (``dEEP/dsigma`` is a small fraction of vega, so one
correction suffices); final forwards from those mids.  Two tree valuations per quote
(about 10 us each).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["EEP_STEPS", "eep_crr", "eep_crr_python"]

EEP_STEPS = 64
"""Tree steps of the chain's de-Americanisation (premium within about 1e-3 of 800 steps on a
3-month at-the-money put; see tests/test_surface.py)."""


@njit(cache=True)
def _ncdf(x):
    return 0.5 * math.erfc(-x * 0.7071067811865476)


def eep_crr_python(th, S_esc, K, T, r, sig, div_t, div_amt, n, out):
    """Early-exercise premium ``American - European`` on a CRR tree, per option (plain twin).

    Parameters
    ----------
    th, S_esc, K, T, r, sig : numpy.ndarray
        Per option: +1 call / -1 put, escrowed spot ``D(T) F``, strike, year fraction, rate,
        vol.  NaN or non-positive ``T``/``sig`` give NaN.
    div_t, div_amt : numpy.ndarray
        Discrete dividends (ex-date year fractions, cash amounts), shared by all options; those
        at or after an option's ``T`` are ignored.
    n : int
        Tree steps.
    out : numpy.ndarray
        Receives the premiums.

    Examples
    --------
    A 3-month at-the-money put at 5 % rates has an early-exercise premium; the call on a stock
    without capturable dividends has none:

    >>> one = lambda v: np.array([v])
    >>> out = np.empty(1)
    >>> eep_crr_python(one(-1.0), one(100.0), one(100.0), one(0.25), one(0.05), one(0.2),
    ...                np.empty(0), np.empty(0), 64, out)
    >>> 0.10 < out[0] < 0.11
    np.True_
    >>> eep_crr(one(1.0), one(100.0), one(100.0), one(0.25), one(0.05), one(0.2),
    ...         np.empty(0), np.empty(0), 64, out)
    >>> float(out[0])
    0.0
    """
    m = th.shape[0]
    V = np.empty(n + 1)
    E = np.empty(n + 1)
    for o in range(m):
        t_, s_ = T[o], sig[o]
        if not (t_ > 0.0 and s_ > 0.0 and S_esc[o] > 0.0):
            out[o] = math.nan
            continue
        dt = t_ / n
        u = math.exp(s_ * math.sqrt(dt))
        d = 1.0 / u
        g = math.exp(r[o] * dt)
        p = (g - d) / (u - d)
        disc = 1.0 / g
        k_, w = K[o], th[o]
        # last step analytic (Broadie & Detemple 1996): at step n - 1 the continuation value is
        # the Black-Scholes price over the remaining dt, which removes the tree's odd-even
        # oscillation in the strike
        u2 = u * u
        sq = s_ * math.sqrt(dt)
        dk = k_ * disc
        j = n - 1
        tj = j * dt
        add = 0.0
        for q in range(div_t.shape[0]):
            if div_t[q] > tj and div_t[q] < t_:
                add += div_amt[q] * math.exp(-r[o] * (div_t[q] - tj))
        s = S_esc[o] * d**j
        for i in range(j + 1):
            d1 = (math.log(s / dk)) / sq + 0.5 * sq
            c = w * (s * _ncdf(w * d1) - dk * _ncdf(w * (d1 - sq)))
            x = w * (s + add - k_)
            V[i] = c if c > x else x
            E[i] = c
            s *= u2
        for j in range(n - 2, -1, -1):
            tj = j * dt
            add = 0.0
            for q in range(div_t.shape[0]):
                if div_t[q] > tj and div_t[q] < t_:
                    add += div_amt[q] * math.exp(-r[o] * (div_t[q] - tj))
            s = S_esc[o] * d**j
            for i in range(j + 1):
                c = disc * (p * V[i + 1] + (1.0 - p) * V[i])
                x = w * (s + add - k_)
                V[i] = c if c > x else x
                E[i] = disc * (p * E[i + 1] + (1.0 - p) * E[i])
                s *= u2
        out[o] = V[0] - E[0]


eep_crr = njit(cache=True)(eep_crr_python)
