"""MarketMakingProjectManager.run_trading_cycle takes every strategy its docstring lists: here the
adaptive spread (a config, or the plain parameters of the product's preset) on the shipped AAPL
LOBSTER sample, in a paper session under the product's risk limit."""

from __future__ import annotations

import pytest

from mmlab.manager import MarketMakingProjectManager, preset_parameters, strategy_from_parameters
from mmlab.quoting import AdaptiveSpreadConfig
from mmlab.risk import RiskLimits

START, END = "2012-06-21 13:30:05", "2012-06-21 13:30:45"


@pytest.fixture(scope="module")
def mgr(tmp_path_factory):
    return MarketMakingProjectManager(universe=("AAPL",), data_dir=tmp_path_factory.mktemp("cat"),
                                      limits={"AAPL": RiskLimits(max_position=300.0)})


def test_adaptive_spread_runs_in_the_paper_session(mgr):
    params = preset_parameters("AAPL", "adaptive")  # a mapping: name, parameters, settings
    res = mgr.run_trading_cycle("AAPL", params, start=START, end=END)
    s = res.summary()
    assert s["steps"] > 100  # 40 s of feed at the default 100 ms cadence
    assert abs(s["final_position"]) <= 300.0 + 1e-9
    p = res.pnl
    assert p["spread"] + p["inventory"] + p["fees"] + p["funding"] == pytest.approx(p["total"])
    # the config object and its plain parameters are the same session (deterministic replay)
    cfg, _ = strategy_from_parameters(params)
    assert isinstance(cfg, AdaptiveSpreadConfig)
    again = mgr.run_trading_cycle("AAPL", cfg, start=START, end=END).summary()
    assert again == s


def test_every_order_book_product_has_an_adaptive_preset():
    # notebooks/strategy_comparison.ipynb compares the adaptive spread on any event data set
    from mmlab.manager import BACKTEST_PRESETS, PRODUCTS

    events = [s for s, p in PRODUCTS.items() if p.kind == "events"]
    assert set(events) == set(BACKTEST_PRESETS)
    for s in events:
        cfg, settings = strategy_from_parameters(preset_parameters(s, "adaptive"))
        assert isinstance(cfg, AdaptiveSpreadConfig), s
        assert cfg.max_inventory == settings["max_position"], s
