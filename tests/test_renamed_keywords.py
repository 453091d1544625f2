"""Issue 10's one vocabulary at the API: every retired keyword of the second stack raises a
:class:`mmlab.errors.ConfigError` naming what replaced it (not Python's bare ``TypeError``
"unexpected keyword argument"), and the new name works.

The retired names and their replacements are the issue's list ("interval / cadence_ns /
cadence_ms; order_qty / order_size / level_size; max_position / max_inventory") and the
run_trading_cycle / quoting-desk keywords that carried a unit suffix.
"""

from __future__ import annotations

import pytest

from mmlab.backtest import BacktestConfig, GridStrategy
from mmlab.errors import ConfigError

# (old keyword, the name the message must give)
SETTINGS = [("cadence_ns", "interval"), ("cadence_ms", "interval"), ("interval_ns", "interval"),
            ("entry_latency_ns", "entry_latency"), ("response_latency_ns", "response_latency"),
            ("max_inventory", "max_position")]


@pytest.mark.parametrize("old, new", SETTINGS)
def test_backtest_config_retired_setting(old, new):
    with pytest.raises(ConfigError, match=rf"BacktestConfig\({old}=\.\.\.\): .*\b{new}\b"):
        BacktestConfig(**{old: 1})
    assert getattr(BacktestConfig(**{new: 7}), new) == 7  # the new name is the field


@pytest.mark.parametrize("old, new", SETTINGS)
def test_config_from_retired_setting(old, new):
    from mmlab.backtest.engine._config import config_from  # mmlab.backtest's own module

    with pytest.raises(ConfigError, match=rf"^{old}: .*\b{new}\b"):
        config_from({"max_position": 2.0, old: 1})


@pytest.mark.parametrize("old", ["order_size", "level_size"])
def test_grid_strategy_retired_size(old):
    with pytest.raises(ConfigError, match=rf"GridStrategy\({old}=\.\.\.\): .*order_qty"):
        GridStrategy(half_spread=0.5, **{old: 1.0})
    assert GridStrategy(half_spread=0.5, order_qty=1.0).order_qty == 1.0


def test_a_strategy_own_order_size_and_max_inventory_stay_legal():
    # order_size / max_inventory are the A-S, GLFT and adaptive configs' own fields
    from mmlab.quoting import AdaptiveSpreadConfig

    c = AdaptiveSpreadConfig(base_spread=0.1, order_size=2.0, max_inventory=5.0)
    assert (c.order_size, c.max_inventory) == (2.0, 5.0)


def test_entry_points_taking_settings_name_the_new_setting():
    # run, replay and PaperSession take BacktestConfig settings: a retired one is named
    from mmlab.backtest import run
    from mmlab.data import synthetic_l2_events
    from mmlab.runtime import PaperSession, replay

    ev = synthetic_l2_events(session_seconds=2, seed=1)
    g = GridStrategy(half_spread=0.05, order_qty=1.0)
    with pytest.raises(ConfigError, match=r"^cadence_ns: renamed interval"):
        run(ev, g, cadence_ns=10**8)
    with pytest.raises(ConfigError, match=r"^interval_ns: renamed interval"):
        replay(ev, g, interval_ns=10**8)
    with pytest.raises(ConfigError, match=r"^entry_latency_ns: renamed entry_latency"):
        PaperSession(g, session_end=10**12, settings={"entry_latency_ns": 10**6})
