"""``reports/index.html``: every report in a folder with its parameters, data hashes, git SHA,
date and checks, read from the record each rendered page embeds."""

from __future__ import annotations

import datetime as _dt
import html
import json
import os
from pathlib import Path
from typing import Any

from mmlab._paths import reports_dir
from mmlab.reports._render import _write_atomic, read_record
from mmlab.reports.tables import DASH

__all__ = ["INDEX_NAME", "index_rows", "write_index"]

INDEX_NAME = "index.html"

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em; color: #1f2328; }
table { border-collapse: collapse; font-size: 90%; }
th, td { border-bottom: 1px solid #d0d7de; padding: 0.4em 0.6em; vertical-align: top; text-align: left; }
th { background: #f6f8fa; }
code { font-size: 90%; }
.ok { color: #1a7f37; font-weight: 600; } .bad { color: #cf222e; font-weight: 600; }
.warn { color: #9a6700; font-weight: 600; } .muted { color: #57606a; }
ul { margin: 0; padding-left: 1.1em; }
"""


def index_rows(folder: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """One dict per report page in ``folder`` (its record, or just its file name), sorted by file."""
    rows = []
    for page in sorted(Path(folder).glob("*.html")):
        if page.name == INDEX_NAME or page.name.startswith("."):
            continue
        rec = read_record(page) or {}
        rows.append({**rec, "file": page.name, "has_record": bool(rec)})
    return rows


def _checks_cell(r: dict[str, Any]) -> str:
    if not r.get("has_record"):
        return '<span class="muted">no record (rendered by an older mmlab)</span>'
    passed, total = r.get("checks_passed", 0), r.get("checks_total", 0)
    failed, soft = r.get("checks_failed", 0), r.get("checks_not_enforced", 0)
    cls = "bad" if failed or not total else ("warn" if soft else "ok")
    head = f'<span class="{cls}">{passed} / {total} passed</span>'
    bad = [c for c in r.get("checks", []) if not c.get("ok")]
    if bad:
        head += "<ul>" + "".join(
            f"<li>{'FAIL' if c.get('required') else 'not enforced'}: {html.escape(c.get('name', ''))}</li>"
            for c in bad) + "</ul>"
    return head


def _row_html(r: dict[str, Any]) -> str:
    f = html.escape(r["file"])
    title = html.escape(r.get("title") or r["file"])
    params = r.get("parameters") or {}
    p = "<br>".join(f"<code>{html.escape(k)}</code> = <code>{html.escape(json.dumps(v, default=str))}</code>"
                    for k, v in params.items()) or '<span class="muted">defaults</span>'
    hashes = r.get("data_hashes") or {}
    h = "<br>".join(f'{html.escape(k)}: <code title="{html.escape(str(v))}">{html.escape(str(v)[:12])}</code>'
                    for k, v in hashes.items()) or f'<span class="muted">{DASH}</span>'
    figs = r.get("figures") or []
    fg = "<br>".join(f"{html.escape(x.get('label', ''))}: <b>{html.escape(x.get('value', ''))}</b>"
                     + (' <span class="warn">\u26a0</span>' if x.get("flag") else "") for x in figs)
    sha = str(r.get("git_sha", DASH))
    rendered = html.escape(str(r.get("rendered", DASH)))
    return (f'<tr><td><a href="{f}">{title}</a><br><span class="muted">{f}</span></td>'
            f"<td>{html.escape(r.get('notebook', ''))}</td><td>{p}</td><td>{h}</td><td>{fg}</td>"
            f'<td><code title="{html.escape(sha)}">{html.escape(sha[:10])}{"+dirty" if "dirty" in sha else ""}</code></td>'
            f"<td>{rendered}</td><td>{_checks_cell(r)}</td></tr>")


def write_index(output_dir: str | os.PathLike[str] | None = None) -> Path:
    """Write ``<output_dir>/index.html`` listing every report page there; return its path."""
    folder = reports_dir(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    rows = index_rows(folder)
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    n_bad = sum(1 for r in rows if not r.get("has_record") or r.get("checks_failed"))
    body = "".join(_row_html(r) for r in rows) or '<tr><td colspan="8">no reports yet</td></tr>'
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>mmlab reports</title>"
        f"<style>{_CSS}</style></head><body>"
        "<h1>mmlab reports</h1>"
        f"<p>{len(rows)} report(s) in <code>{html.escape(str(folder))}</code>, listed {now}. "
        "Each opens with its headline (what was run, on what data, the numbers that matter, its checks); "
        "the data hashes are the sha256 of the files each report read, the git SHA the code that made it"
        f"{'' if not n_bad else f' ({n_bad} without a passing record)'}.</p>"
        "<table><thead><tr><th>report</th><th>notebook</th><th>parameters</th><th>data sha256</th>"
        "<th>headline figures</th><th>git SHA</th><th>rendered</th><th>checks</th></tr></thead>"
        f"<tbody>{body}</tbody></table></body></html>\n"
    )
    target = folder / INDEX_NAME
    _write_atomic(target, page)
    return target
