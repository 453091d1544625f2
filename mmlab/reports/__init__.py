"""Reports: parameterised notebooks executed with papermill, published as self-contained HTML.

``mmlab report NAME -p key value`` renders one (:func:`render_report`), ``mmlab demo`` renders the
demo sets of every notebook in ``notebooks/`` and writes ``reports/index.html``
(:func:`run_demo`, :func:`write_index`).

A report page shows the outputs, not the code (``show_code=True`` / ``--show-code`` includes it),
opens with its :class:`~mmlab.reports.headline.Headline` (what was run, on what data, the numbers
that matter, the checks), formats its tables with :func:`~mmlab.reports.tables.table` (vols in %,
prices at tick precision, thousands separators, the full table as CSV inside the page), states
ratios with their :class:`~mmlab.reports.headline.RatioBasis`, and draws its charts with BokehJS
inline (:func:`static_charts`): it opens offline.
"""

from mmlab.reports._charts import StaticChart, bokeh_inline_html, drop_live_loaders, static_charts
from mmlab.reports._demo import run_demo
from mmlab.reports._index import INDEX_NAME, index_rows, write_index
from mmlab.reports._params import (
    check_parameters,
    coerce_parameter,
    notebook_parameters,
    param_slug,
)
from mmlab.reports._render import (
    NOTEBOOKS_DIR,
    ReportError,
    demo_parameter_sets,
    find_notebook,
    read_record,
    render_report,
    report_path,
)
from mmlab.reports.headline import Check, Checks, ChecksFailed, Figure, Headline, RatioBasis
from mmlab.reports.tables import Table, price, table, tick_decimals

__all__ = [
    "INDEX_NAME",
    "NOTEBOOKS_DIR",
    "Check",
    "Checks",
    "ChecksFailed",
    "Figure",
    "Headline",
    "RatioBasis",
    "ReportError",
    "StaticChart",
    "Table",
    "bokeh_inline_html",
    "check_parameters",
    "coerce_parameter",
    "demo_parameter_sets",
    "drop_live_loaders",
    "find_notebook",
    "index_rows",
    "notebook_parameters",
    "param_slug",
    "price",
    "read_record",
    "render_report",
    "report_path",
    "run_demo",
    "static_charts",
    "table",
    "tick_decimals",
    "write_index",
]
