"""The paper quoting desk's compute (no browser) and the desk in a real browser."""

from __future__ import annotations

import math
import re
import time

import pytest

from mmlab.dashboards.quoting_desk import SYNTHETIC, DeskConfig, DeskSession, _status_markdown
from mmlab.errors import ConfigError


@pytest.fixture(scope="module")
def desk():
    d = DeskSession(SYNTHETIC, DeskConfig(max_position=3.0))
    d.step(6000)
    return d


def test_desk_quotes_inside_the_limits(desk):
    s = desk.snapshot()
    assert s["rows_done"] == 6000 and s["fills"] > 0
    assert abs(s["position"]) <= 3.0
    # our quotes are passive: never through the market (where a side is working)
    assert not s["our_bid"] >= s["best_ask"] and not s["our_ask"] <= s["best_bid"]
    assert not math.isnan(s["our_bid"]) or not math.isnan(s["our_ask"])
    parts = s["pnl_spread"] + s["pnl_inventory"] + s["pnl_fees"] + s["pnl_funding"]
    assert math.isclose(parts, s["pnl_total"], rel_tol=1e-12, abs_tol=1e-9)
    assert len(desk.history()) > 100 and len(desk.fills()) == s["fills"]


def test_kill_switch_cancels_and_stops_quoting(desk):
    desk.kill()
    s = desk.snapshot()
    assert s["halted"] and "kill" in s["halt_reasons"]
    # the kill cancels at once (the decision due before the next row): nothing left working
    # but cancels in flight, and nothing sent after it
    desk.step(2000)
    after = desk.snapshot()
    assert after["working_orders"] == 0
    assert after["orders_sent"] == s["orders_sent"]
    assert "HALTED" in _status_markdown(after)
    assert list(desk.session.driver.risk_events["kind"]) == ["kill_switch"]
    desk.reset_risk()
    desk.step(1500)
    again = desk.snapshot()
    assert not again["halted"] and again["orders_sent"] > s["orders_sent"]


def test_bad_config():
    with pytest.raises(ConfigError):
        DeskConfig(spread_bps=0.0)
    with pytest.raises(ConfigError, match="interval: must be an integer >= 1"):
        DeskConfig(interval=0)
    with pytest.raises(ConfigError, match="entry_latency: must be an integer >= 0"):
        DeskConfig(entry_latency=0.5)


@pytest.mark.parametrize("old, new", [("cadence_ms", "interval"), ("cadence_ns", "interval"),
                                      ("latency_ms", "entry_latency and response_latency")])
def test_retired_desk_keyword_names_the_engine_setting(old, new):
    # issue 10's one vocabulary: the desk takes the engine's names, in ns
    with pytest.raises(ConfigError, match=rf"DeskConfig\({old}=\.\.\.\): .*{new}"):
        DeskConfig(**{old: 100})


def test_desk_settings_reach_the_engine_in_ns():
    cfg = DeskConfig(interval=50_000_000, entry_latency=2_000_000, response_latency=3_000_000)
    d = DeskSession(SYNTHETIC, cfg)
    run = d.session.driver.cfg  # the BacktestConfig the session runs
    assert (run.interval, run.entry_latency, run.response_latency) == (
        50_000_000, 2_000_000, 3_000_000)


def test_desk_controls_show_ms_and_set_ns():
    from mmlab.dashboards.quoting_desk import QuotingDesk

    desk = QuotingDesk()
    w = desk.ms_inputs["interval"]
    assert w.label == "interval (ms)" and w.value == 100.0  # the default 100_000_000 ns
    w.value = 25.0
    desk.ms_inputs["entry_latency"].value = 2.5
    assert desk.interval == 25_000_000 and desk.entry_latency == 2_500_000
    desk._new_desk()
    assert desk.desk.config.interval == 25_000_000
    assert desk.desk.config.response_latency == 1_000_000


@pytest.mark.browser
def test_desk_in_browser_start_and_kill(tmp_path):
    from _browser import CHROMIUM, serving
    from playwright.sync_api import sync_playwright

    with serving(tmp_path, tmp_path / "catalog") as (url, _):
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/quoting_desk", timeout=300_000)
            page.get_by_role("button", name="Start").click(timeout=120_000)
            # the engine's ns settings, shown in ms (issue 10's one vocabulary)
            for label in ("interval (ms)", "entry latency (ms)", "response latency (ms)"):
                assert page.get_by_text(label, exact=True).count() == 1, label
            deadline, fills = time.monotonic() + 240, 0
            while time.monotonic() < deadline and fills == 0:
                page.wait_for_timeout(1000)
                text = page.locator("table").first.inner_text() if page.locator("table").count() else ""
                m = re.search(r"fills\s+(\d+)", text)
                fills = int(m.group(1)) if m else 0
            assert fills > 0, "no fill within 4 minutes of replay"
            page.get_by_role("button", name="Kill switch").click()
            deadline, halted = time.monotonic() + 60, False
            while time.monotonic() < deadline and not halted:
                page.wait_for_timeout(500)
                halted = "HALTED" in page.locator("h3").first.inner_text()
            assert halted
            page.screenshot(path=str(tmp_path / "quoting_desk.png"), full_page=True)
            browser.close()
