"""The rendered reports as a reader opens them: Chromium on ``index.html`` and one small report
per shipped notebook, rendered here into a temporary folder (a temporary catalog too), with no
code cell, the headline first, no ``NaN`` shown and no console error."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from _browser import CHROMIUM, COUNT_CANVAS

from mmlab.reports import read_record, report_path, write_index

#: One small parameter set per notebook (the smallest shipped data each one reads).
SMALL = [
    ("market_data_report", {"dataset": "lobster-amzn-20120621-l1", "start": "2012-06-21 13:30", "end": "2012-06-21 13:45"}),
    ("vol_surface_report", {"chain": "deribit_btc_2020-05-21.csv"}),
    ("backtest_report", {"dataset": "lobster-aapl-20120621-l10", "strategy": "glft"}),
    ("strategy_comparison", {"dataset": "lobster-aapl-20120621-l10", "strategies": '["grid", "glft"]'}),
]

#: JS: what a reader would see of code: input prompts, editors, code cells that show their input.
CODE_ON_PAGE = (
    "() => document.querySelectorAll('.jp-InputPrompt, .jp-CodeMirrorEditor, "
    ".jp-CodeCell:not(.jp-mod-noInput)').length"
)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The four small reports and the index, in a temporary folder, from a temporary catalog.

    Each is rendered by ``mmlab report`` in its own process, two at a time (the kernels' start-up
    and imports dominate; the machine has two cores)."""
    from mmlab.data import Catalog, ensure_data_ready

    root = tmp_path_factory.mktemp("reports")
    cat = Catalog(root / "catalog")
    ensure_data_ready(sorted({p["dataset"] for _, p in SMALL if "dataset" in p}), catalog=cat)
    env = dict(os.environ, MMLAB_DATA_DIR=str(cat.path))  # the kernels read the temporary catalog
    out = root / "out"
    cmds = [[sys.executable, "-m", "mmlab.cli", "report", nb, "-o", str(out),
             *[x for k, v in params.items() for x in ("-p", k, str(v))]] for nb, params in SMALL]
    logs = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for res in pool.map(lambda c: subprocess.run(c, env=env, capture_output=True, text=True, timeout=900), cmds):
            logs.append(res)
    for res in logs:
        assert res.returncode == 0, res.stderr[-3000:]
    pages = [Path(r.stdout.strip().splitlines()[-1]) for r in logs]
    assert pages == [report_path(nb, params, out) for nb, params in SMALL]
    return write_index(out), pages


def test_every_report_has_a_passing_record_and_is_indexed(rendered):
    index, pages = rendered
    html = index.read_text()
    for (nb, params), page in zip(SMALL, pages, strict=True):
        rec = read_record(page)
        assert rec is not None and rec["notebook"] == nb, page.name
        assert {k: rec["parameters"][k] for k in params} == params
        assert rec["checks_total"] >= 6 and rec["checks_failed"] == 0, rec["checks"]
        assert rec["data_hashes"] and all(len(v) == 64 for v in rec["data_hashes"].values())
        assert 3 <= len(rec["figures"]) <= 5
        assert f'href="{page.name}"' in html
    # the backtest's Sharpe is stated with its basis and flagged: the AAPL sample is 49 s long
    sharpe = next(f for f in read_record(pages[2])["figures"] if f["label"].startswith("Sharpe"))
    assert "annualised" in sharpe["note"] and "too short to mean anything" in sharpe["note"] and sharpe["flag"]


@pytest.mark.browser
def test_reports_open_without_code_or_console_errors(rendered, tmp_path):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it")
    index, pages = rendered
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            for target in [index, *pages]:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                errors: list[str] = []
                page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                page.goto(target.as_uri(), wait_until="load", timeout=120_000)
                if target == index:
                    links = page.eval_on_selector_all("a", "els => els.map(e => e.getAttribute('href'))")
                    assert sorted(links) == sorted(q.name for q in pages)
                    assert page.locator("text=passed").count() == len(pages)
                else:
                    deadline = 60
                    while page.evaluate(COUNT_CANVAS) == 0 and deadline > 0:  # Bokeh draws on canvases
                        page.wait_for_timeout(500)
                        deadline -= 0.5
                    assert page.evaluate(COUNT_CANVAS) > 0, f"{target.name}: no chart rendered"
                    assert page.evaluate(CODE_ON_PAGE) == 0, f"{target.name}: code shown"
                    # the headline is the first thing after the title
                    first = page.evaluate(
                        "() => [...document.querySelectorAll('.mmlab-headline, .mmlab-table, h2')][0].className")
                    assert first == "mmlab-headline", f"{target.name}: {first}"
                    # no NaN / <NA> in any table cell or the headline
                    cells = page.eval_on_selector_all("td, th, .mmlab-headline", "els => els.map(e => e.innerText)")
                    assert not [c for c in cells if "NaN" in c or "<NA>" in c or c.strip().lower() == "nan"], target.name
                    csv = page.eval_on_selector_all("a.mmlab-csv", "els => els.map(e => e.href.slice(0, 30))")
                    assert csv and all(h.startswith("data:text/csv") for h in csv)
                page.wait_for_timeout(300)
                page.screenshot(path=str(tmp_path / f"{target.stem}.png"))
                assert not errors, f"{target.name}: console errors {errors}"
                page.close()
        finally:
            browser.close()
