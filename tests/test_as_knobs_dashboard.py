"""The Avellaneda-Stoikov knobs page (mmlab.dashboards.avellaneda_stoikov), without a browser."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmlab.dashboards import avellaneda_stoikov as asx
from mmlab.errors import ConfigError

#: Average spreads printed in Avellaneda & Stoikov, Quantitative Finance 8(3) 2008, Tables 1-3
#: (k = 1.5, sigma_px = 2, T = 1): the [0, T] time averages of the closed-form spread
PRINTED_SPREAD = {0.1: 1.49, 0.01: 1.35, 1.0: 3.02}


@pytest.mark.parametrize("gamma", sorted(PRINTED_SPREAD))
def test_quotes_average_to_the_paper_spread(gamma):
    ts = np.linspace(0.0, 1.0, 11)  # the spread is linear in t: the trapezoid rule is exact
    spreads = [float(asx.as_quotes(gamma, 1.5, q=[0], t=t)["spread"].iloc[0]) for t in ts]
    assert np.trapezoid(spreads, ts) == pytest.approx(PRINTED_SPREAD[gamma], abs=0.005)


def test_quotes_skew_with_inventory():
    qt = asx.as_quotes(0.1, 1.5, q=range(-3, 4))
    # r = s - q gamma sigma_px^2 (T - t): a long book (q > 0) lowers both quotes by 0.4 per unit at t = 0
    np.testing.assert_allclose(np.diff(qt["reservation"]), -0.1 * 4.0, rtol=1e-12)
    np.testing.assert_allclose(qt["bid_offset"].to_numpy(), qt["ask_offset"].to_numpy()[::-1], rtol=1e-12)
    np.testing.assert_allclose(qt["ask"] - qt["bid"], 0.4 + 20 * math.log1p(0.1 / 1.5), rtol=1e-12)
    # a larger k (fills fall off faster with distance) narrows the quotes; at T the risk term is gone
    assert asx.as_quotes(0.1, 3.0, q=[0])["spread"].iloc[0] < qt["spread"].iloc[0]
    end = asx.as_quotes(0.1, 1.5, q=[-2, 2], t=1.0)
    np.testing.assert_allclose(end["reservation"], 100.0)
    with pytest.raises(ConfigError, match="gamma"):
        asx.as_quotes(0.0, 1.5)
    with pytest.raises(ConfigError, match="t:"):
        asx.as_quotes(0.1, 1.5, t=2.0)


def test_knob_table_and_explorer():
    t = asx.as_knob_table(0.1, 1.5, n_paths=1000, seed=3)
    assert list(t.index) == ["inventory", "symmetric"]
    # the paper's conclusion: the inventory strategy's profit and inventory are far less dispersed
    assert t.loc["inventory", "std_profit"] < 0.7 * t.loc["symmetric", "std_profit"]
    assert t.loc["inventory", "std_final_q"] < 0.5 * t.loc["symmetric", "std_final_q"]
    assert t.loc["symmetric", "spread"] == pytest.approx(PRINTED_SPREAD[0.1], abs=0.005)
    app = asx.ASExplorer(gamma=0.1, k=1.5, n_paths=500)
    assert "inventory" in app._table().object.index
    app.gamma = 1.0  # the paper's third row: a wider spread
    assert float(app._table().object.loc["inventory", "average spread"]) > 2.9
    with pytest.raises(ValueError):
        app.k = 0.0  # bounded (0.1, 5)
    assert app.__panel__() is not None
