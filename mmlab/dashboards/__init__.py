"""Panel dashboards. Every public module here is a Panel app served by ``mmlab serve``.

A dashboard module keeps its compute importable and tested without a browser, and makes its app
servable only when run by ``panel serve`` (``if __name__.startswith("bokeh"): App().servable()``).
"""
