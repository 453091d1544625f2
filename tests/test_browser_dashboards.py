"""Dashboards in a real browser: serve them, open them in headless Chromium (Playwright), wait for
the Bokeh plots to render, interact, and save a screenshot under the pytest temp dir.

Chromium is Debian's (`make test` installs it); Playwright drives it through ``executable_path``,
so nothing is downloaded.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import urllib.request

import pytest
from _browser import CHROMIUM, COUNT_CANVAS, serving

pytestmark = pytest.mark.browser

#: JS: every title, axis label, legend label and text of the page's Bokeh models (plot titles and
#: legends are drawn on canvases, so the DOM text does not hold them)
BOKEH_TEXT = """() => { const out = [];
  for (const d of (window.Bokeh ? window.Bokeh.documents : [])) {
    for (const m of d.all_models) {
      for (const k of ['text', 'axis_label', 'title']) {
        const v = m.properties && m.properties[k] ? m[k] : null;
        if (typeof v === 'string') out.push(v); }
      const l = m.properties && m.properties.label ? m.label : null;
      if (l && typeof l === 'object' && 'value' in l) out.push(l.value); else if (typeof l === 'string') out.push(l);
    } }
  return out.join('\\n'); }"""


def _book_states(page) -> int | None:
    """The book states counted by the page's header line ('..., 938 book states, 159 trades; ...')."""
    loc = page.get_by_text(re.compile(r"[\d,]+ book states, [\d,]+ trades"))
    if not loc.count():
        return None
    m = re.search(r"([\d,]+) book states", loc.first.inner_text())
    return int(m.group(1).replace(",", "")) if m else None


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`mmlab serve` on a free loopback port, with a prepared temporary catalog."""
    from mmlab.data import ensure_data_ready

    cat = tmp_path_factory.mktemp("catalog")
    # the two LOBSTER days: small enough that a page renders quickly on a busy 2-core machine
    ensure_data_ready(["lobster-aapl-20120621-l10", "lobster-amzn-20120621-l1"], catalog=cat)
    log_dir = tmp_path_factory.mktemp("server")
    with serving(log_dir, cat) as (url, proc):
        yield url, proc, log_dir


def test_server_binds_loopback_only(served):
    url, proc, _ = served
    with urllib.request.urlopen(f"{url}/market_data", timeout=300) as r:
        assert r.status == 200
    out = subprocess.run(["ss", "-ltnp"], capture_output=True, text=True).stdout \
        if shutil.which("ss") else ""
    port = url.rsplit(":", 1)[1]
    lines = [ln for ln in out.splitlines() if f":{port} " in ln]
    for ln in lines:  # every listening socket on our port is on the loopback interface
        assert "127.0.0.1:" in ln or "[::1]:" in ln, ln


def test_market_data_explorer_renders_and_reacts(served, tmp_path):
    from playwright.sync_api import sync_playwright

    url, _, log_dir = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.goto(f"{url}/market_data", timeout=300_000)
            # Bokeh draws each plot on a canvas (inside shadow roots; Playwright pierces them)
            page.wait_for_function(f"() => ({COUNT_CANVAS})() >= 3", timeout=120_000)
            table = page.locator("table").first
            table.wait_for(timeout=60_000)
            before = table.inner_text()
            assert "spread mean" in before
            # readable at a glance: a time window, human labels and durations, the trade flow
            text = page.evaluate(BOKEH_TEXT)
            for want in ("Time window (UTC)", "bid-ask band and mid", "spread in ticks", "spread in basis points",
                         "smoothed (half-life", "trade flow: signed volume per", "max in bin"):
                assert want in text, want
            for raw in ("bid_px_1", "ask_px_1", "imbalance_1", "0 days", "NaN"):
                assert raw not in text, raw
            shot1 = tmp_path / "market_data_1.png"
            page.screenshot(path=str(shot1), full_page=True)
            # narrow the time window: drag its right handle (the page's last slider handle) to the left
            n_before = _book_states(page)
            handle = page.locator(".noUi-handle").last
            box = handle.bounding_box()
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.move(x - 120, y, steps=10)
            page.mouse.up()
            deadline = time.monotonic() + 120
            n_after = n_before
            while n_after in (n_before, None) and time.monotonic() < deadline:
                page.wait_for_timeout(1000)
                n_after = _book_states(page)
            assert n_before and n_after and 0 < n_after < n_before, (n_before, n_after)  # a shorter window
            page.wait_for_timeout(1000)
            before = page.locator("table").first.inner_text()  # the summary of the narrowed window
            # pick another data set: the summary table (and the charts) must change
            select = page.locator("select").first
            options = select.locator("option").all_inner_texts()
            assert len(options) >= 2, options
            select.select_option(label=options[1])
            deadline = time.monotonic() + 240
            after = before
            while after == before and time.monotonic() < deadline:
                page.wait_for_timeout(1000)
                after = page.locator("table").first.inner_text()
            assert after != before, "the summary did not change after picking another data set"
            shot2 = tmp_path / "market_data_2.png"
            page.screenshot(path=str(shot2), full_page=True)
            assert shot1.stat().st_size > 10_000 and shot2.stat().st_size > 10_000
            # no flood of holoviews 'Discarding nonzero nanoseconds' warnings (times are sent in ms)
            assert "nanoseconds" not in (log_dir / "serve.log").read_text()
        finally:
            browser.close()
