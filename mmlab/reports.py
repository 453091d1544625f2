"""The report runner: execute a parameterised notebook with papermill, publish it as HTML.

``mmlab report NAME -p key value`` and ``mmlab demo`` call :func:`render_report`:

1. papermill executes ``notebooks/NAME.ipynb`` (kernel ``python3``, working directory = the
   notebook's folder) with the given parameters injected after its cell tagged ``parameters``,
   into a temporary ``.ipynb``;
2. nbconvert turns the executed notebook into a standalone HTML page (code, outputs, charts);
3. the page is written to a temporary file beside the target and renamed into place, so
   ``reports/`` never holds a half-written report.

A notebook lists its demo parameter sets in its metadata, ``metadata.mmlab.demo_parameters``
(a list of dicts); :func:`demo_parameter_sets` reads them and :func:`run_demo` renders them all.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mmlab._paths import PROJECT_ROOT, reports_dir
from mmlab.errors import ConfigError, MMLabError

__all__ = [
    "NOTEBOOKS_DIR",
    "ReportError",
    "StaticChart",
    "coerce_parameter",
    "demo_parameter_sets",
    "find_notebook",
    "param_slug",
    "render_report",
    "report_path",
    "run_demo",
    "static_charts",
]

#: Where the report notebooks live.
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"


class ReportError(MMLabError, RuntimeError):
    """A report notebook failed to execute (the message names the notebook and the cell)."""


class StaticChart:
    """A HoloViews/hvPlot object shown as plain Bokeh HTML (a ``<div>`` and its ``<script>``).

    nbconvert copies such output into the report verbatim, so once :func:`static_charts` has put
    BokehJS inline in the page, the HTML report shows its charts with no network access (the
    notebook's usual HoloViews output would load BokehJS and Panel from a CDN).
    """

    __slots__ = ("obj",)

    def __init__(self, obj: Any):
        self.obj = obj

    def _repr_html_(self) -> str:
        import holoviews as hv
        from bokeh.embed import components

        script, div = components(hv.render(self.obj, backend="bokeh"))
        return div + script


def bokeh_inline_html() -> str:
    """BokehJS, inline, as ``<script>`` tags (AMD ``define`` hidden while it loads, so the
    page's require.js does not capture Bokeh's internal modules).

    The library file is read from the installed ``bokeh`` package (not through
    ``bokeh.resources``, which Panel re-points at its own server paths inside a kernel).
    """
    import bokeh

    js_dir = Path(bokeh.__file__).resolve().parent / "server" / "static" / "js"
    lib = (js_dir / "bokeh.min.js").read_text(encoding="utf-8").replace("</script", "<\\/script")
    return (
        "<script>window._mmlabDefine = window.define; window.define = undefined;</script>"
        f"<script type=\"text/javascript\">\n{lib}\n</script>"
        "<script>window.define = window._mmlabDefine;</script>"
    )


def static_charts():
    """Put BokehJS inline in the notebook's output once; return ``show(obj)`` -> :class:`StaticChart`.

    Use in report notebooks so the rendered HTML is self-contained::

        show = static_charts()
        show(df.hvplot.line(y="mid"))
    """
    from IPython.display import HTML, display

    display(HTML(bokeh_inline_html()))
    return StaticChart


def coerce_parameter(value: str) -> Any:
    """Turn a command-line string into int, float, bool or None where it reads as one.

    Examples
    --------
    >>> [coerce_parameter(v) for v in ["3", "2.5", "true", "None", "binance-usdm"]]
    [3, 2.5, True, None, 'binance-usdm']
    """
    if not isinstance(value, str):
        return value
    low = value.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def param_slug(parameters: Mapping[str, Any], max_len: int = 80) -> str:
    """The file-name part naming a parameter set: its values, slugified, joined by ``-``.

    Long slugs are cut and suffixed with a short hash so distinct sets keep distinct names.

    Examples
    --------
    >>> param_slug({"dataset": "binance-usdm-btcusdt-20240808"})
    'binance-usdm-btcusdt-20240808'
    >>> param_slug({"dataset": "x", "start": "2024-08-08 21:00"})
    'x-2024-08-08-21-00'
    >>> param_slug({})
    ''
    """
    parts = []
    for value in parameters.values():
        s = re.sub(r"[^A-Za-z0-9.]+", "-", str(value)).strip("-.")
        parts.append(s or "none")
    slug = "-".join(parts)
    if len(slug) > max_len:
        digest = hashlib.sha256(json.dumps(dict(parameters), sort_keys=True, default=str).encode())
        slug = slug[: max_len - 9].rstrip("-") + "-" + digest.hexdigest()[:8]
    return slug


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


_LOADER_MIMES = ("application/vnd.holoviews_load.v0+json",)


def _drop_live_loaders(nb) -> None:
    """If the notebook shows its charts through :func:`static_charts`, drop the HoloViews/Panel
    loader outputs: they fetch BokehJS from a CDN, which the static page does not need and which,
    offline, races with the inline BokehJS."""
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    if not any("_mmlabDefine" in str(o.get("data", {}).get("text/html", "")) for o in outputs):
        return
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                o for o in cell.get("outputs", []) if not any(m in o.get("data", {}) for m in _LOADER_MIMES)
            ]


def _html(executed: Path) -> str:
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(executed, as_version=4)
    _drop_live_loaders(nb)
    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(nb)
    return body


def render_report(
    notebook: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    kernel_name: str = "python3",
    timeout: int = 900,
) -> Path:
    """Execute ``notebook`` with ``parameters`` and write it as HTML; return the HTML path.

    Parameters
    ----------
    notebook : str or Path
        A notebook path, or the name of one in ``notebooks/``.
    parameters : mapping, optional
        Injected by papermill after the cell tagged ``parameters``.
    output_dir : str or Path, optional
        Default :func:`mmlab._paths.reports_dir` (``$MMLAB_REPORTS_DIR`` or ``reports/``).
    kernel_name : str
        Jupyter kernel (``python3``: the project venv's kernel).
    timeout : int
        Per-cell execution timeout, seconds.

    Returns
    -------
    Path
        ``<output_dir>/<stem>[-<param slug>].html`` (see :func:`param_slug`).

    Raises
    ------
    ReportError
        A cell raised (the message names the notebook and quotes the error).
    """
    import papermill as pm

    nb_path = find_notebook(notebook)
    params = dict(parameters or {})
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
            )
        except pm.PapermillExecutionError as exc:
            raise ReportError(
                f"{nb_path.name} with {params}: cell {exc.exec_count} raised {exc.ename}: {exc.evalue}"
            ) from exc
        html = _html(executed)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".html.tmp", dir=target.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp creates 0600; a report is an ordinary file
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp_name)
        raise
    return target


def run_demo(
    output_dir: str | os.PathLike[str] | None = None,
    notebooks: Iterable[str | os.PathLike[str]] | None = None,
    catalog: Any = None,
    echo=print,
) -> list[Path]:
    """Ensure the demo data is ready, then render every report notebook's demo parameter sets.

    Parameters
    ----------
    output_dir : str or Path, optional
        Where the HTML goes (default ``reports/``).
    notebooks : iterable of paths, optional
        Default: every ``*.ipynb`` in ``notebooks/``.
    catalog : Catalog or path, optional
        The data catalog (default ``Catalog()``).
    echo : callable
        Progress messages.

    Returns
    -------
    list of Path
        The reports written, in order.
    """
    from mmlab.data._catalog import DEMO_DATASETS, SHIPPED_SOURCES, ensure_data_ready

    nbs = sorted(Path(p) for p in notebooks) if notebooks is not None else sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
    plan = [(nb, params) for nb in nbs for params in demo_parameter_sets(nb)]
    needed = list(DEMO_DATASETS)
    for _, params in plan:
        ds = params.get("dataset")
        if isinstance(ds, str) and ds in SHIPPED_SOURCES and ds not in needed:
            needed.append(ds)
    from mmlab.data._catalog import Catalog

    cat = catalog if isinstance(catalog, Catalog) else Catalog(catalog)
    echo(f"preparing data in {cat.path}: {', '.join(needed)}")
    ensure_data_ready(needed, catalog=cat)
    out = []
    saved = os.environ.get("MMLAB_DATA_DIR")
    os.environ["MMLAB_DATA_DIR"] = str(cat.path)  # the notebooks' kernels see the same catalog
    try:
        for nb, params in plan:
            echo(f"rendering {nb.name} {params or ''}".rstrip())
            out.append(render_report(nb, params, output_dir))
            echo(f"  -> {out[-1]}")
    finally:
        if saved is None:
            os.environ.pop("MMLAB_DATA_DIR", None)
        else:
            os.environ["MMLAB_DATA_DIR"] = saved
    return out
