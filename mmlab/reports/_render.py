"""Render one report: execute a parameterised notebook with papermill, publish it as HTML.

``mmlab report NAME -p key value`` and ``mmlab demo`` call :func:`render_report`:

1. the parameters are checked against the notebook's cell tagged ``parameters`` (an unknown one
   is refused before anything runs);
2. papermill executes ``notebooks/NAME.ipynb`` (kernel ``python3``, working directory = the
   notebook's folder) with the parameters injected after that cell, into a temporary ``.ipynb``;
3. nbconvert turns the executed notebook into a standalone HTML page: outputs only (the code is
   left out unless ``show_code``), the cell tagged ``headline`` moved right under the title, no
   script loaded from the network; the headline's record (parameters, data hashes, git SHA, date,
   checks) is embedded in the page for the index (:mod:`mmlab.reports._index`);
4. the page is written to a temporary file beside the target and renamed into place, so
   ``reports/`` never holds a half-written report.

A notebook lists its demo parameter sets in its metadata, ``metadata.mmlab.demo_parameters``
(a list of dicts); :func:`demo_parameter_sets` reads them.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mmlab._paths import PROJECT_ROOT, reports_dir
from mmlab.errors import ConfigError, MMLabError
from mmlab.reports._charts import drop_live_loaders
from mmlab.reports._params import check_parameters, param_slug
from mmlab.reports.headline import RECORD_MIME

__all__ = [
    "NOTEBOOKS_DIR",
    "RECORD_ID",
    "ReportError",
    "demo_parameter_sets",
    "find_notebook",
    "read_record",
    "render_report",
    "report_path",
]

#: Where the report notebooks live.
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"

#: ``id`` of the ``<script type="application/json">`` holding a report's record in its page.
RECORD_ID = "mmlab-report-record"

#: The page template: JupyterLab's, without the scripts it would fetch from a CDN (require.js,
#: MathJax, Mermaid, the widget manager: a report needs none of them and works offline), with the
#: record of the report embedded.
_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block extra_css %}
<style type="text/css">
.mmlab-table table { font-variant-numeric: tabular-nums; }
.mmlab-table td, .mmlab-table th { white-space: nowrap; }
</style>
{% endblock extra_css %}
{% block footer_js %}
{%- if resources.mmlab_record -%}
<script type="application/json" id="mmlab-report-record">{{ resources.mmlab_record }}</script>
{%- endif -%}
{% endblock footer_js %}
"""


class ReportError(MMLabError, RuntimeError):
    """A report notebook failed to execute (the message names the notebook and the cell)."""


def report_path(notebook: str | os.PathLike[str], parameters: Mapping[str, Any], output_dir=None) -> Path:
    """Where :func:`render_report` writes: ``<output_dir>/<notebook stem>[-<param slug>].html``."""
    stem = Path(notebook).stem
    slug = param_slug(parameters)
    return reports_dir(output_dir) / (f"{stem}-{slug}.html" if slug else f"{stem}.html")


def find_notebook(name: str | os.PathLike[str], notebooks_dir: str | os.PathLike[str] | None = None) -> Path:
    """A report notebook by name (``market_data_report``) or by path.

    Raises :class:`~mmlab.errors.ConfigError` naming the available notebooks when not found.
    """
    p = Path(name)
    if p.suffix == ".ipynb" and p.is_file():
        return p.resolve()
    base = Path(notebooks_dir) if notebooks_dir is not None else NOTEBOOKS_DIR
    cand = base / (p.name if p.suffix == ".ipynb" else f"{p.name}.ipynb")
    if cand.is_file():
        return cand.resolve()
    known = sorted(q.stem for q in base.glob("*.ipynb")) if base.is_dir() else []
    raise ConfigError(f"name: no report notebook {str(name)!r} in {base} (available: {known})")


def demo_parameter_sets(notebook: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The demo parameter sets a notebook declares (``metadata.mmlab.demo_parameters``).

    A notebook without the key is rendered once with its own defaults: ``[{}]``.
    """
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    sets = nb.get("metadata", {}).get("mmlab", {}).get("demo_parameters")
    if sets is None:
        return [{}]
    if not isinstance(sets, list) or not all(isinstance(s, dict) for s in sets):
        raise ConfigError(f"{notebook}: metadata.mmlab.demo_parameters must be a list of objects")
    return [dict(s) for s in sets]


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _headline_first(nb) -> dict[str, Any] | None:
    """Move the cells tagged ``headline`` right under the first (title) markdown cell; return the
    record their output carries (None if the notebook shows no headline)."""
    heads = [c for c in nb.cells if "headline" in _tags(c)]
    record = None
    for c in heads:
        for o in c.get("outputs", []):
            if RECORD_MIME in o.get("data", {}):
                record = dict(o["data"][RECORD_MIME])
            # the record is for the index; the page shows the HTML
            o.get("data", {}).pop(RECORD_MIME, None)
    if heads:
        rest = [c for c in nb.cells if "headline" not in _tags(c)]
        at = next((i + 1 for i, c in enumerate(rest) if c.cell_type == "markdown"), 0)
        nb.cells = rest[:at] + heads + rest[at:]
    return record


def _html(nb, show_code: bool, record: dict[str, Any] | None) -> str:
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    drop_live_loaders(nb)
    exporter = HTMLExporter(
        template_name="lab",
        template_file="mmlab_report.html.j2",
        extra_loaders=[DictLoader({"mmlab_report.html.j2": _TEMPLATE})],
        exclude_input=not show_code,
        exclude_input_prompt=not show_code,
        exclude_output_prompt=True,
    )
    payload = None
    if record is not None:  # inside <script>: no "</" may close it early
        payload = json.dumps(record, sort_keys=True, default=str).replace("</", "<\\/")
    body, _ = exporter.from_notebook_node(nb, resources={"mmlab_record": payload})
    return body


def read_record(page: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The record embedded in a rendered report (None if the page has none)."""
    text = Path(page).read_text(encoding="utf-8", errors="replace")
    found = re.findall(rf'<script\b[^>]*\bid="{RECORD_ID}"[^>]*>(.*?)</script>', text, flags=re.S)
    if not found:
        return None
    try:
        rec = json.loads(found[-1].replace("<\\/", "</"))
    except ValueError:
        return None
    return rec if isinstance(rec, dict) else None


def _write_atomic(target: Path, text: str) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".html.tmp", dir=target.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp creates 0600; a report is an ordinary file
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp_name)
        raise


def render_report(
    notebook: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    kernel_name: str = "python3",
    timeout: int = 900,
    show_code: bool = False,
) -> Path:
    """Execute ``notebook`` with ``parameters`` and write it as HTML; return the HTML path.

    Parameters
    ----------
    notebook : str or Path
        A notebook path, or the name of one in ``notebooks/``.
    parameters : mapping, optional
        Injected by papermill after the cell tagged ``parameters``; each must be one that cell
        declares.
    output_dir : str or Path, optional
        Default :func:`mmlab._paths.reports_dir` (``$MMLAB_REPORTS_DIR`` or ``reports/``).
    kernel_name : str
        Jupyter kernel (``python3``: the project venv's kernel).
    timeout : int
        Per-cell execution timeout, seconds.
    show_code : bool
        Include the code cells (default: outputs and text only).

    Returns
    -------
    Path
        ``<output_dir>/<stem>[-<param slug>].html`` (see :func:`param_slug`).

    Raises
    ------
    ConfigError
        A parameter the notebook does not declare (nothing is run).
    ReportError
        A cell raised (the message names the notebook and quotes the error).
    """
    import nbformat
    import papermill as pm

    from mmlab.provenance import git_sha

    nb_path = find_notebook(notebook)
    params = dict(parameters or {})
    effective = check_parameters(nb_path, params)
    target = report_path(nb_path, params, output_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mmlab-report-") as tmpd:
        executed = Path(tmpd) / nb_path.name
        try:
            pm.execute_notebook(
                str(nb_path),
                str(executed),
                parameters=params,
                kernel_name=kernel_name,
                language="python",
                cwd=str(nb_path.parent),
                progress_bar=False,
                log_output=False,
                execution_timeout=timeout,
                extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no start-up chatter on the terminal
            )
        except pm.PapermillExecutionError as exc:
            raise ReportError(
                f"{nb_path.name} with {params}: cell {exc.exec_count} raised {exc.ename}: {exc.evalue}"
            ) from exc
        nb = nbformat.read(executed, as_version=4)
    record = _headline_first(nb)
    if record is not None:
        record.update({
            "notebook": nb_path.stem,
            "file": target.name,
            "parameters": effective,
            "git_sha": git_sha(),
            "rendered": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "show_code": bool(show_code),
        })
    _write_atomic(target, _html(nb, show_code, record))
    return target
