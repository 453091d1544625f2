"""A dashboard inside JupyterLab: start JupyterLab on 127.0.0.1 over a copy of a tutorial, open it
in headless Chromium (Playwright), run its dashboard cells and see the Bokeh plots render.

The tutorial is ``tutorials/03_avellaneda_stoikov_reproduced.ipynb``; its dashboard cells
(``pn.extension(inline=True)``, then the gamma/k knobs object as a cell's last line) need nothing
from the cells before them. ``inline=True`` matters: a bare ``pn.extension()`` loads BokehJS and
Panel from cdn.bokeh.org / cdn.holoviz.org, and offline the cell shows nothing. JupyterLab runs from the venv with a random token, its config, runtime and
workspace directories under the pytest temp dir, no news, update checks or PyPI extension manager
(nothing leaves the machine), no terminals, in its own process group, killed at the end. Chromium is Debian's (see ``_browser``).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _browser import CHROMIUM, free_port, wait_listening

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "tutorials" / "03_avellaneda_stoikov_reproduced.ipynb"
#: the cells to run, by nbformat cell id: pn.extension(), then the dashboard object
CELLS = ["dash-03-ext", "dash-03-view"]


@contextlib.contextmanager
def jupyterlab(root: Path, home: Path):
    """JupyterLab over ``root`` on a free loopback port; yields ``(base_url, token, log_path)``."""
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTER_DATA_DIR=str(home / "data"), IPYTHONDIR=str(home / "ipython"), MPLBACKEND="Agg")  # fmt: skip
    jupyter = Path(sys.executable).parent / "jupyter"
    cmd = [str(jupyter), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--ServerApp.port_retries=0", "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.extension_manager=readonly",
           "--ServerApp.terminals_enabled=False", f"--LabApp.workspaces_dir={home / 'workspaces'}"]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI runners often run as root
        cmd.append("--allow-root")
    log = home / "jupyterlab.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=root, start_new_session=True)
    try:
        wait_listening(port, 120, proc)
        yield f"http://127.0.0.1:{port}", token, log
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


#: JS: run the cells with the given ids in the open notebook (JupyterLab's own commands)
RUN_CELLS = """async (ids) => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  await panel.sessionContext.ready;
  const nb = panel.content;
  for (const id of ids) {
    const i = nb.widgets.findIndex((c) => c.model.id === id);
    if (i < 0) throw new Error('no cell ' + id);
    nb.activeCellIndex = i;
    await app.commands.execute('notebook:run-cell');
  }
  return nb.widgets.length;
}"""

#: JS: the canvases inside the output area of the cell with the given id
CANVAS_IN_CELL = """(id) => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  const cell = nb.widgets.find((c) => c.model.id === id);
  if (!cell) return -1;
  const walk = (r) => { let n = r.querySelectorAll('canvas').length;
    for (const e of r.querySelectorAll('*')) if (e.shadowRoot) n += walk(e.shadowRoot); return n; };
  return walk(cell.node);
}"""

#: JS: the text of the cell with the given id, through the shadow roots of its output
CELL_TEXT = """(id) => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  const c = nb.widgets.find((w) => w.model.id === id);
  const walk = (r) => { let t = r.textContent || '';
    for (const e of r.querySelectorAll('*')) if (e.shadowRoot) t += walk(e.shadowRoot); return t; };
  return walk(c.node);
}"""

#: JS: run code in the notebook's kernel without adding a cell
KERNEL_EXEC = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  await kernel.requestExecute({ code }).done;
}"""


def test_dashboard_cell_renders_in_jupyterlab(tmp_path):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it")
    root, home = tmp_path / "lab", tmp_path / "home"
    root.mkdir()
    home.mkdir()
    copy = root / TUTORIAL.name
    shutil.copy(TUTORIAL, copy)
    ids = [c.get("id") for c in json.loads(copy.read_text())["cells"]]
    assert all(i in ids for i in CELLS), "the tutorial lost its dashboard cells"
    with jupyterlab(root, home) as (url, token, log), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1300})
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{url}/lab/tree/{copy.name}?token={token}", timeout=180_000)
            page.wait_for_function(
                "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                " && window.jupyterapp.shell.currentWidget.content"
                " && window.jupyterapp.shell.currentWidget.content.widgets.length > 10",
                timeout=180_000,
            )
            n_cells = page.evaluate(RUN_CELLS, CELLS)
            assert n_cells == len(ids)
            deadline = time.monotonic() + 240
            n = 0
            while n < 2 and time.monotonic() < deadline:  # the quotes chart and the profit histogram
                page.wait_for_timeout(1000)
                n = page.evaluate(CANVAS_IN_CELL, CELLS[-1])
            if n < 2:
                page.screenshot(path=str(tmp_path / "jupyterlab_failed.png"))
            assert n >= 2, f"{n} canvases in the dashboard cell; JupyterLab log:\n{log.read_text()[-3000:]}"
            # the output is the dashboard: its knobs and its table are there
            page.evaluate("(id) => window.jupyterapp.shell.currentWidget.content.widgets"
                          ".find((w) => w.model.id === id).node.scrollIntoView()", CELLS[-1])  # fmt: skip
            page.wait_for_timeout(2000)
            text = page.evaluate(CELL_TEXT, CELLS[-1])
            assert "gamma (risk aversion)" in text and "mean profit" in text, text[:2000]
            # turn a knob from the kernel: the page in the notebook follows (Panel's comm round trip);
            # gamma = 1 averages a spread of 3.02 (Avellaneda & Stoikov 2008, Table 3)
            page.evaluate(KERNEL_EXEC, "knobs.gamma = 1.0")
            deadline = time.monotonic() + 120
            while "3.02" not in text and time.monotonic() < deadline:
                page.wait_for_timeout(1000)
                text = page.evaluate(CELL_TEXT, CELLS[-1])
            assert "3.02" in text, text[-1500:]
            page.wait_for_timeout(2000)
            shot = tmp_path / "jupyterlab_dashboard.png"
            page.screenshot(path=str(shot), full_page=False)
            assert shot.stat().st_size > 20_000
            assert not errors, errors
        finally:
            browser.close()
