"""Charts in a report: HoloViews objects as plain Bokeh HTML with BokehJS inline (works offline)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["StaticChart", "bokeh_inline_html", "drop_live_loaders", "static_charts"]


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
    """BokehJS, inline, as ``<script>`` tags (AMD ``define`` hidden while it loads, so a page's
    require.js, if any, does not capture Bokeh's internal modules).

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


_LOADER_MIMES = ("application/vnd.holoviews_load.v0+json",)


def drop_live_loaders(nb) -> None:
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
