"""Black-76 and Bachelier: textbook values, QuantLib calculators as oracles, limits, twins."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import QuantLib as ql

from mmlab.errors import ConfigError
from mmlab.pricing import (
    bachelier_greeks,
    bachelier_price,
    black76_greeks,
    black76_price,
    bsm_greeks,
    implied_vol,
)
from mmlab.pricing._bachelier import bachelier_greeks_kernel, bachelier_greeks_python


def test_haug_black76_example():
    # Haug, The Complete Guide to Option Pricing Formulas (2nd ed.), sec. 1.1.2 (Black 1976):
    # F=19, K=19, T=0.75, r=10%, sigma=28% -> call = put = 1.7011.
    c, p = black76_price(["c", "p"], 19.0, 19.0, 0.75, 0.1, 0.28)
    assert c == pytest.approx(1.7011, abs=5e-5)
    assert p == pytest.approx(1.7011, abs=5e-5)


def _grid():
    return list(
        itertools.product("cp", [60.0, 95.0, 100.0, 120.0, 180.0], [0.02, 0.5, 3.0], [-0.01, 0.06],
                          [0.08, 0.6])
    )


def test_black76_against_quantlib_black_calculator():
    # QuantLib BlackCalculator (forward, stdDev = sigma sqrt t, discount) as oracle, 1e-4 relative.
    grid = _grid()
    fl, K, t, r, sig = (np.array(v) for v in zip(*grid, strict=True))
    F = 100.0
    g = black76_greeks(fl, F, K, t, r, sig)
    for i, (f, k, tt, rr, s) in enumerate(grid):
        typ = ql.Option.Call if f == "c" else ql.Option.Put
        bc = ql.BlackCalculator(ql.PlainVanillaPayoff(typ, k), F, s * np.sqrt(tt), np.exp(-rr * tt))
        ref = {
            "price": bc.value(),
            "delta": bc.deltaForward(),
            "gamma": bc.gammaForward(),
            "vega": bc.vega(tt),
            # BlackCalculator with spot = forward: d2V/dF dsigma and d2V/dsigma2
            "vanna": bc.vanna(F, tt),
            # QuantLib 1.44's BlackCalculator::volga(T) is d2V/dsigma2 / sqrt(T) (checked against
            # central differences of the price, test_greeks_match_finite_differences style)
            "volga": bc.volga(tt) * np.sqrt(tt),
        }
        for k_, v in ref.items():
            # absolute floor: deep in/out of the money, vanna/volga are rounding noise of
            # size ~1e-5 in QuantLib's closed forms (our central differences agree with ours)
            floor = 1e-4 if k_ in ("vanna", "volga") else 1e-10
            assert getattr(g, k_)[i] == pytest.approx(v, rel=1e-4, abs=floor), (k_, grid[i])
    # forward held fixed: rho = -t V; theta = -dV/dt = r V - e^{-rt} F n(d1) sigma / (2 sqrt t)
    np.testing.assert_allclose(g.rho, -t * g.price, rtol=1e-12, atol=1e-14)
    P = lambda s_: black76_price(fl, F, K, t, r, s_)  # noqa: E731
    np.testing.assert_allclose(g.volga, (P(sig + 1e-4) - 2 * P(sig) + P(sig - 1e-4)) / 1e-8,
                               rtol=1e-4, atol=1e-4)
    assert np.all(np.isnan(g.dividend_rho))


def test_black76_is_bsm_with_q_equal_r():
    g76 = black76_greeks("c", 80.0, 90.0, 0.4, 0.05, 0.3)
    gbs = bsm_greeks("c", 80.0, 90.0, 0.4, 0.05, 0.3, q=0.05)
    assert g76.price == pytest.approx(gbs.price, rel=1e-14)
    assert g76.theta == pytest.approx(gbs.theta, rel=1e-14)
    assert g76.rho == pytest.approx(gbs.rho + gbs.dividend_rho, rel=1e-12)


def test_black76_rejects_nonpositive_forward():
    # WTI settled at -37.63 on 2020-04-20: Black-76 is undefined there, Bachelier is not.
    with pytest.raises(ConfigError, match="F must be > 0"):
        black76_price("c", -37.63, 10.0, 0.1, 0.0, 0.5)
    assert np.isfinite(bachelier_price("c", -37.63, 10.0, 0.1, 0.0, 50.0))


def test_bachelier_against_quantlib():
    # QuantLib BachelierCalculator / bachelierBlackFormula as oracle, forwards of any sign.
    for f, F, K, t, r, sn in itertools.product(
        "cp", [-20.0, 0.0, 0.015], [-5.0, 0.0, 0.01], [0.1, 2.0], [0.0, 0.04], [0.007, 15.0]
    ):
        typ = ql.Option.Call if f == "c" else ql.Option.Put
        bc = ql.BachelierCalculator(ql.PlainVanillaPayoff(typ, K), F, sn * np.sqrt(t), np.exp(-r * t))
        g = bachelier_greeks(f, F, K, t, r, sn)
        ref_price = ql.bachelierBlackFormula(typ, K, F, sn * np.sqrt(t), np.exp(-r * t))
        assert g.price == pytest.approx(ref_price, rel=1e-10, abs=1e-14)
        if sn < 1.0:
            # QuantLib 1.44's BachelierCalculator is wrong for out-of-the-money puts at tiny
            # stdDev (put F=5, K=1, stdDev 0.0022 -> 4.0 instead of 0; bachelierBlackFormula
            # gives 0): use the calculator only at the larger vol.
            continue
        assert g.price == pytest.approx(bc.value(), rel=1e-10, abs=1e-14)
        assert g.delta == pytest.approx(bc.deltaForward(), rel=1e-8, abs=1e-14)
        assert g.gamma == pytest.approx(bc.gammaForward(), rel=1e-8, abs=1e-14)
        assert g.vega == pytest.approx(bc.vega(t), rel=1e-8, abs=1e-14)


def test_bachelier_greeks_by_finite_differences():
    F, K, t, r, sn = -1.2, 0.5, 0.8, 0.02, 2.3
    g = bachelier_greeks("p", F, K, t, r, sn)

    def P(F=F, t=t, r=r, s=sn):
        return bachelier_price("p", F, K, t, r, s)

    h = 1e-5
    assert g.delta == pytest.approx((P(F=F + h) - P(F=F - h)) / (2 * h), rel=1e-7)
    assert g.gamma == pytest.approx((P(F=F + 1e-3) - 2 * P() + P(F=F - 1e-3)) / 1e-6, rel=1e-5)
    assert g.vega == pytest.approx((P(s=sn + h) - P(s=sn - h)) / (2 * h), rel=1e-7)
    assert g.theta == pytest.approx(-(P(t=t + h) - P(t=t - h)) / (2 * h), rel=1e-7)
    assert g.rho == pytest.approx((P(r=r + h) - P(r=r - h)) / (2 * h), rel=1e-7)
    dv = lambda F_: (P(F=F_, s=sn + h) - P(F=F_, s=sn - h)) / (2 * h)  # noqa: E731
    assert g.vanna == pytest.approx((dv(F + 1e-3) - dv(F - 1e-3)) / 2e-3, rel=1e-5)
    assert g.volga == pytest.approx((P(s=sn + 1e-3) - 2 * P() + P(s=sn - 1e-3)) / 1e-6, rel=1e-4)


def test_bachelier_put_call_parity():
    F = np.linspace(-10, 10, 21)
    c = bachelier_price("c", F, 1.0, 0.5, 0.03, 4.0)
    p = bachelier_price("p", F, 1.0, 0.5, 0.03, 4.0)
    np.testing.assert_allclose(c - p, np.exp(-0.03 * 0.5) * (F - 1.0), atol=1e-12)


@pytest.mark.parametrize("K", [95.0, 100.0, 104.0])
def test_bachelier_matches_black_as_vol_goes_to_zero(K):
    # As sigma -> 0 the normal vol implied by a Black price tends to Hagan et al.'s expansion
    # (Hagan, Kumar, Lesniewski, Woodward 2002, "Managing smile risk", eq. (B.67a) with beta=0
    # vs beta=1): sigma_n = sigma sqrt(FK) (1 + L^2/24 + L^4/1920) / (1 + sigma^2 t/24 +
    # sigma^4 t^2/5760), L = ln(F/K).  Exercises our Bachelier implied-vol solver too.
    F, t = 100.0, 1.0
    L = np.log(F / K)
    for sig in [0.05, 0.02, 0.01]:
        b = black76_price("c", F, K, t, 0.0, sig)
        if b - max(F - K, 0.0) < 1e-9:  # no time value left to imply a vol from
            continue
        iv_n, code = implied_vol(b, "c", F, K, t, 0.0, model="bachelier")
        assert code == 0
        hagan = sig * np.sqrt(F * K) * (1 + L**2 / 24 + L**4 / 1920) / (
            1 + sig**2 * t / 24 + sig**4 * t**2 / 5760
        )
        assert iv_n == pytest.approx(hagan, rel=1e-7)
        # and the Bachelier price at that vol reproduces the Black price
        assert bachelier_price("c", F, K, t, 0.0, iv_n) == pytest.approx(b, rel=1e-12)


def test_bachelier_twin_and_zero_vol():
    rng = np.random.default_rng(3)
    n = 100
    arrs = [
        np.where(rng.random(n) < 0.5, 1.0, -1.0),
        rng.normal(0, 5, n),
        rng.normal(0, 5, n),
        np.r_[0.0, rng.uniform(0, 2, n - 1)],
        np.array([0.01]),
        np.r_[rng.uniform(0.1, 5, n - 1), 0.0],
    ]
    a, b = np.empty((9, n)), np.empty((9, n))
    assert bachelier_greeks_kernel(*arrs, True, a) == (0, -1)
    assert bachelier_greeks_python(*arrs, True, b) == (0, -1)
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13, equal_nan=True)
    # zero vol: discounted intrinsic value of the forward
    assert bachelier_price("c", 3.0, 1.0, 1.0, 0.05, 0.0) == pytest.approx(2.0 * np.exp(-0.05))
    with pytest.raises(ConfigError, match="sigma_n must be >= 0"):
        bachelier_price("c", 3.0, 1.0, 1.0, 0.05, -1.0)
