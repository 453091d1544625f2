"""Panel dashboards. Every public module here is a Panel app served by ``mmlab serve``.

A dashboard module keeps its compute importable and tested without a browser, and makes its app
servable only when run by the Panel server (``if __name__.startswith("bokeh"): App().servable()``).

:func:`serve_settings` and :func:`run_server` serve them: loopback by default; any other address
only with basic auth (``MMLAB_DASHBOARD_PASSWORD``); TLS through ``ssl_certfile`` /
``ssl_keyfile``; websockets only from an allowed ``Origin`` (a missing one is refused too).
"""

from mmlab.dashboards._serve import (
    COOKIE_SECRET_ENV,
    MIN_PASSWORD_LENGTH,
    PASSWORD_ENV,
    USER_ENV,
    ServeSettings,
    run_server,
    serve_settings,
)

__all__ = [
    "COOKIE_SECRET_ENV",
    "MIN_PASSWORD_LENGTH",
    "PASSWORD_ENV",
    "ServeSettings",
    "USER_ENV",
    "run_server",
    "serve_settings",
]
