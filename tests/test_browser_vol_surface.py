"""The vol-surface inspector in a real browser: `mmlab serve`, headless Chromium (Playwright),
wait for the Bokeh plots, pick another expiry, check the smile view changed, save screenshots
under the pytest temp dir.

Chromium is Debian's (`make test` installs it); Playwright drives it through ``executable_path``,
so nothing is downloaded. The inspector's default chain is the small Deribit file, so the page
renders quickly even on a busy 2-core machine (still: minutes are allowed).
"""

from __future__ import annotations

import time

import pytest
from _browser import CHROMIUM, COUNT_CANVAS, serving

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`mmlab serve` on a free loopback port (its own process group, killed at the end)."""
    cat = tmp_path_factory.mktemp("catalog")  # the market-data app's catalog: empty is fine here
    log_dir = tmp_path_factory.mktemp("server")
    with serving(log_dir, cat) as (url, _proc):
        yield url, log_dir / "serve.log"


def _summary_text(page) -> str:
    """The Markdown summary of the selected expiry: its title line ('<label> (<chain>)') and its
    figures line ('T = ..., N quotes fitted, vol RMSE ...')."""
    out = []
    for text in ("(deribit_btc_2020-05-21.csv)", "quotes fitted"):
        loc = page.get_by_text(text, exact=False)
        out.append(loc.first.inner_text() if loc.count() else "")
    return "\n".join(out) if all(out) else ""


def test_vol_surface_inspector_renders_and_reacts(served, tmp_path):
    from playwright.sync_api import sync_playwright

    url, log = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1400})
            page.goto(f"{url}/vol_surface", timeout=300_000)
            # smile, g(k), term structure, Greeks and heatmap: five Bokeh plots, each on a canvas
            deadline = time.monotonic() + 300
            n = 0
            while n < 5 and time.monotonic() < deadline:
                page.wait_for_timeout(1000)
                n = page.evaluate(COUNT_CANVAS)
            assert n >= 5, f"only {n} canvases rendered; server log:\n{log.read_text()[-3000:]}"
            before = _summary_text(page)
            while not before and time.monotonic() < deadline:
                page.wait_for_timeout(1000)
                before = _summary_text(page)
            # the default is the Deribit chain's first fitted expiry (the 23 May 2020 weekly)
            assert "BTC 2020-05-23 08:00" in before and "deribit_btc_2020-05-21.csv" in before, before
            table = page.locator("table").first
            table.wait_for(timeout=60_000)
            report = table.inner_text()
            assert "BTC 2020-12-25 08:00" in report  # the fit report lists every expiry
            # the unfitted 22 May daily: its errors are a dash, never NaN / <NA>
            assert "too few points" in report and "\u2014" in report
            assert "NaN" not in report and "<NA>" not in report and "nan" not in report
            shot1 = tmp_path / "vol_surface_1.png"
            page.screenshot(path=str(shot1), full_page=True)

            # the expiry select is the one offering the chain's expiry labels
            selects = page.locator("select")
            target = None
            for i in range(selects.count()):
                opts = selects.nth(i).locator("option").all_inner_texts()
                if "BTC 2020-06-26 08:00" in opts:
                    target = selects.nth(i)
            assert target is not None, "no expiry select on the page"
            target.select_option(label="BTC 2020-06-26 08:00")
            deadline = time.monotonic() + 240
            after = before
            while (after == before or "2020-06-26" not in after) and time.monotonic() < deadline:
                page.wait_for_timeout(1000)
                after = _summary_text(page)
            assert "BTC 2020-06-26 08:00" in after, after
            assert after != before
            page.wait_for_timeout(3000)  # let the smile redraw before the screenshot
            assert page.evaluate(COUNT_CANVAS) >= 5
            shot2 = tmp_path / "vol_surface_2.png"
            page.screenshot(path=str(shot2), full_page=True)
            assert shot1.stat().st_size > 10_000 and shot2.stat().st_size > 10_000
            assert shot1.read_bytes() != shot2.read_bytes()
            assert "nanoseconds" not in log.read_text()  # no holoviews 'Discarding nonzero nanoseconds' flood
        finally:
            browser.close()
