"""Serving the dashboards: loopback by default, basic auth beyond it, TLS, websocket Origins.

``mmlab serve`` runs the Panel (Bokeh/Tornado) server in-process through ``panel.serve``:

- **Loopback** (``127.0.0.1``, ``localhost``, ``::1``) is the default and needs nothing.
- **Any other address** is refused unless basic auth is configured: the password comes from the
  environment variable :data:`PASSWORD_ENV` (``MMLAB_DASHBOARD_PASSWORD``, at least
  :data:`MIN_PASSWORD_LENGTH` characters), the user name from :data:`USER_ENV` (default
  ``mmlab``). The password is handed to Panel's ``BasicAuthProvider`` in-process, never on a
  command line (``panel serve --basic-auth PASSWORD`` would show it in ``ps``; Panel 1.9's
  ``PANEL_BASIC_AUTH`` variable lower-cases it). Login cookies are signed with
  :data:`COOKIE_SECRET_ENV` if set, else with a random secret made at start (logins then last
  until the server restarts). With a password set, loopback is protected too.
- **TLS**: ``ssl_certfile`` / ``ssl_keyfile`` (PEM) are Bokeh's certificate options; without
  them, a non-loopback server with a password prints one warning (the password crosses the
  network in clear unless a TLS proxy sits in front).
- **Websockets** (every Bokeh page talks over one) need an allowed ``Origin``: the bound
  ``address:port`` (plus ``localhost``/``127.0.0.1`` on loopback, the host's names on a wildcard
  or IPv6 address: Bokeh's allowlist takes no IPv6 literal) and every ``allow_origins`` entry.
  Bokeh refuses a foreign Origin; Tornado lets a client that sends **no** Origin through (it
  assumes a non-browser client), so the websocket handler is replaced by one that refuses that
  too (403), as it refuses an unauthenticated one.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

from mmlab.errors import ConfigError

__all__ = ["COOKIE_SECRET_ENV", "MIN_PASSWORD_LENGTH", "PASSWORD_ENV", "USER_ENV", "ServeSettings",
           "run_server", "serve_settings"]

PASSWORD_ENV = "MMLAB_DASHBOARD_PASSWORD"
USER_ENV = "MMLAB_DASHBOARD_USER"
COOKIE_SECRET_ENV = "MMLAB_DASHBOARD_COOKIE_SECRET"
MIN_PASSWORD_LENGTH = 12

LOOPBACK = ("127.0.0.1", "localhost", "::1")
_WILDCARD = ("0.0.0.0", "::", "")
#: What Bokeh's allowlist accepts: a host name or IPv4 address (``*`` wildcards), then
#: ``:port`` or ``:*``.
_ORIGIN = re.compile(r"[A-Za-z0-9.*-]+(:(\d{1,5}|\*))?")


@dataclass(frozen=True, slots=True)
class ServeSettings:
    """How to serve the dashboards (validated by :func:`serve_settings`).

    Parameters
    ----------
    address : str
        The interface to bind.
    port : int
        TCP port.
    show : bool
        Open a browser.
    origins : tuple of str
        ``host:port`` patterns a websocket may come from (Bokeh's ``allow_websocket_origin``).
    user : str
        The basic-auth user name ("" when auth is off).
    password : str
        The basic-auth password ("" when auth is off); never shown by ``repr``.
    cookie_secret : str
        Signs the login cookies; never shown by ``repr``.
    ssl_certfile, ssl_keyfile : Path or None
        TLS certificate and key (PEM).
    """

    address: str
    port: int
    show: bool = False
    origins: tuple[str, ...] = ()
    user: str = ""
    password: str = field(default="", repr=False)
    cookie_secret: str = field(default="", repr=False)
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None

    @property
    def auth(self) -> bool:
        """True when basic auth is on."""
        return bool(self.password)

    @property
    def loopback(self) -> bool:
        """True when bound to a loopback interface only."""
        return self.address in LOOPBACK

    @property
    def scheme(self) -> str:
        """``https`` with a certificate, else ``http``."""
        return "https" if self.ssl_certfile else "http"


def serve_settings(address: str = "127.0.0.1", port: int = 5006, *, show: bool = False,
                   ssl_certfile: str | Path | None = None, ssl_keyfile: str | Path | None = None,
                   allow_origins: tuple[str, ...] | list[str] = ()) -> ServeSettings:
    """Validate the options and read the auth settings from the environment.

    Raises
    ------
    ConfigError
        One line naming the option: a non-loopback address without :data:`PASSWORD_ENV`, a
        password shorter than :data:`MIN_PASSWORD_LENGTH`, a port outside 1-65535, a
        certificate without its key (or a missing file), a malformed origin.

    Examples
    --------
    >>> serve_settings("127.0.0.1", 5006).origins
    ('127.0.0.1:5006', 'localhost:5006')
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ConfigError(f"--port: expected 1-65535, got {port!r}")
    address = str(address).strip()
    password = os.environ.get(PASSWORD_ENV, "")
    if address not in LOOPBACK and not password:
        raise ConfigError(f"--address {address or repr(address)}: serving beyond this machine "
                          f"needs authentication; set {PASSWORD_ENV} (basic auth, >= "
                          f"{MIN_PASSWORD_LENGTH} characters) or bind 127.0.0.1")
    if password and len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"{PASSWORD_ENV}: at least {MIN_PASSWORD_LENGTH} characters, got "
                          f"{len(password)}")
    user = os.environ.get(USER_ENV, "mmlab") if password else ""
    cert = None if ssl_certfile is None else Path(ssl_certfile)
    key = None if ssl_keyfile is None else Path(ssl_keyfile)
    if (cert is None) != (key is None):
        raise ConfigError("--ssl-certfile and --ssl-keyfile: give both or neither")
    for opt, p in (("--ssl-certfile", cert), ("--ssl-keyfile", key)):
        if p is not None and not p.is_file():
            raise ConfigError(f"{opt}: no such file {p}")
    origins = list(_default_origins(address, port))
    for o in allow_origins:
        o = str(o).strip()
        if not _ORIGIN.fullmatch(o):
            raise ConfigError(f"--allow-origin: expected HOST[:PORT], got {o!r}")
        origins.append(o)
    cookie = os.environ.get(COOKIE_SECRET_ENV, "") or secrets.token_urlsafe(32)
    return ServeSettings(address, port, show, tuple(dict.fromkeys(origins)), user, password,
                         cookie if password else "", cert, key)


def _default_origins(address: str, port: int) -> list[str]:
    if address in LOOPBACK:
        return [f"127.0.0.1:{port}", f"localhost:{port}"]
    if address in _WILDCARD or ":" in address:  # Bokeh's allowlist takes no IPv6 literal
        names = {socket.gethostname(), socket.getfqdn()}
        return [f"{n}:{port}" for n in sorted(n for n in names if _ORIGIN.fullmatch(n))]
    return [f"{address}:{port}"]


def server_kwargs(settings: ServeSettings) -> dict:
    """The keyword arguments of ``panel.serve`` for ``settings`` (the password included)."""
    kw: dict = {"address": settings.address, "port": settings.port, "show": settings.show,
                "websocket_origin": list(settings.origins), "title": "mmlab dashboards",
                "verbose": False}
    if settings.auth:
        kw["basic_auth"] = {settings.user: settings.password}
        kw["cookie_secret"] = settings.cookie_secret
    if settings.ssl_certfile is not None:
        kw["ssl_certfile"] = str(settings.ssl_certfile)
        kw["ssl_keyfile"] = str(settings.ssl_keyfile)
    return kw


def require_websocket_origin() -> None:
    """Make every dashboard websocket refuse a handshake without an ``Origin`` header (403).

    Replaces the ``/ws`` handler in Bokeh's per-app routes (Panel's own handler, which already
    refuses unauthenticated handshakes) with a subclass; call before the server is built.
    """
    from bokeh.server.urls import per_app_patterns
    from panel.io import server as _  # noqa: F401  (installs Panel's /ws handler)

    for i, (pattern, handler, *rest) in enumerate(per_app_patterns):
        if pattern == r"/ws" and not getattr(handler, "_mmlab_origin_required", False):
            per_app_patterns[i] = (pattern, _origin_required(handler), *rest)


def _origin_required(base):
    class OriginRequiredWSHandler(base):
        """Panel's websocket handler, refusing a handshake that carries no ``Origin``."""

        _mmlab_origin_required = True

        async def prepare(self):
            await super().prepare()
            if self._finished:
                return
            if not self.request.headers.get("Origin"):
                self.set_status(403)
                self.finish("websocket refused: no Origin header")

    return OriginRequiredWSHandler


def run_server(settings: ServeSettings, scripts: list[Path]) -> None:
    """Serve ``scripts`` (one app each, at ``/<stem>``) until interrupted."""
    import panel as pn

    require_websocket_origin()
    if not settings.loopback and settings.auth and settings.ssl_certfile is None:
        print(f"warning: {settings.address}:{settings.port} without --ssl-certfile: the password "
              "crosses the network in clear unless a TLS proxy is in front", file=sys.stderr)
    apps = {p.stem: str(p) for p in scripts}
    pn.serve(apps, start=True, **server_kwargs(settings))
