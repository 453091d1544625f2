"""`mmlab serve` security: no non-loopback bind without auth (one line, non-zero exit); with basic
auth (password from the environment) and TLS, a login is required for pages and websockets, and a
websocket needs an allowed Origin (a missing one is refused too). The server runs in a subprocess
on 127.0.0.1, bounded in time; clients are aiohttp and (marked `browser`) Debian's chromium."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from _browser import CHROMIUM, free_port, wait_listening
from typer.testing import CliRunner

from mmlab import dashboards
from mmlab.cli import app
from mmlab.dashboards._serve import server_kwargs

PASSWORD = "correct-horse-battery-7"
USER = "desk"


def _one_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert len(lines) == 1, lines
    return lines[0]


def test_non_loopback_without_auth_exits_with_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMLAB_DASHBOARD_")}
    port = free_port()
    res = subprocess.run([sys.executable, "-m", "mmlab.cli", "serve", "--address", "0.0.0.0",
                          "--port", str(port)], capture_output=True, text=True, env=env,
                         timeout=120)
    assert res.returncode != 0 and res.stdout == ""
    line = _one_line(res.stderr)
    assert "--address 0.0.0.0" in line and dashboards.PASSWORD_ENV in line


@pytest.mark.parametrize(("args", "env", "words"), [
    (["--address", "192.168.10.5"], {}, "needs authentication"),
    (["--address", "0.0.0.0"], {"MMLAB_DASHBOARD_PASSWORD": "short"}, "at least 12 characters"),
    (["--ssl-certfile", "cert.pem"], {}, "give both or neither"),
    (["--ssl-certfile", "nope.pem", "--ssl-keyfile", "nope.key"], {}, "no such file"),
    (["--allow-origin", "http://evil/x"], {}, "--allow-origin"),
    (["--allow-origin", "[::1]:5006"], {}, "--allow-origin"),
    (["--port", "70000"], {}, "--port"),
])
def test_bad_serve_options_are_one_line_errors(monkeypatch, args, env, words):
    monkeypatch.delenv(dashboards.PASSWORD_ENV, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    started = []
    monkeypatch.setattr(dashboards, "run_server", lambda *a: started.append(a))
    res = CliRunner().invoke(app, ["serve", *args])
    assert res.exit_code == 1 and started == []
    line = _one_line(res.output)
    assert line.startswith("error:") and words in line
    assert "short" not in line  # the password is never echoed


def test_auth_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv(dashboards.PASSWORD_ENV, PASSWORD)
    monkeypatch.setenv(dashboards.USER_ENV, USER)
    started = []
    monkeypatch.setattr(dashboards, "run_server", lambda s, scripts: started.append(s))
    res = CliRunner().invoke(app, ["serve", "--address", "0.0.0.0", "--port", "5999",
                                   "--allow-origin", "desk-host:5999"])
    assert res.exit_code == 0, res.output
    s = started[0]
    assert s.auth and s.user == USER and "desk-host:5999" in s.origins
    assert PASSWORD not in repr(s) and PASSWORD not in res.output
    kw = server_kwargs(s)
    assert kw["basic_auth"] == {USER: PASSWORD} and len(kw["cookie_secret"]) >= 32
    assert kw["address"] == "0.0.0.0" and "ssl_certfile" not in kw


def _self_signed(tmp_path):
    """A throw-away certificate for 127.0.0.1 (valid one day)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`mmlab serve` on 127.0.0.1 with basic auth and TLS; yields the base URL."""
    tmp = tmp_path_factory.mktemp("serve_auth")
    cert, key = _self_signed(tmp)
    port = free_port()
    env = dict(os.environ, MMLAB_DATA_DIR=str(tmp / "catalog"), MMLAB_DASHBOARD_USER=USER,
               MMLAB_DASHBOARD_PASSWORD=PASSWORD)
    with open(tmp / "serve.log", "w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "mmlab.cli", "serve", "--port", str(port),
                                 "--ssl-certfile", str(cert), "--ssl-keyfile", str(key)],
                                stdout=fh, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    try:
        wait_listening(port, 120, proc)
        yield f"https://127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)
        assert PASSWORD not in (tmp / "serve.log").read_text()


async def _probe(base: str) -> dict:
    """Log in (or not) and try the quoting desk's websocket with various Origin headers."""
    import aiohttp

    wss = base.replace("https://", "wss://") + "/quoting_desk/ws"
    out = {}

    def session():
        return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False),
                                     cookie_jar=aiohttp.CookieJar(unsafe=True),
                                     timeout=aiohttp.ClientTimeout(total=120))

    async def ws_status(s, headers, token):
        try:
            ws = await s.ws_connect(wss, headers=headers, protocols=("bokeh", token))
        except aiohttp.WSServerHandshakeError as e:
            return e.status
        msg = await asyncio.wait_for(ws.receive(), 60)
        await ws.close()
        return 101 if "ACK" in str(msg.data) else f"opened: {msg.type}"

    async with session() as s:
        r = await s.get(base + "/quoting_desk", allow_redirects=False)
        out["page_without_login"] = (r.status, r.headers.get("Location", ""))
        r = await s.post(base + "/login", data={"username": USER, "password": "wrong-password-1"},
                         allow_redirects=False)
        out["wrong_password_cookies"] = sorted(c.key for c in s.cookie_jar)
        r = await s.post(base + "/login", data={"username": USER, "password": PASSWORD},
                         allow_redirects=False)
        out["login"] = r.status
        r = await s.get(base + "/quoting_desk")
        html = await r.text()
        out["page_after_login"] = r.status
        token = re.search(r'"token":\s*"([^"]+)"', html).group(1)
        out["no_origin"] = await ws_status(s, {}, token)
        out["foreign_origin"] = await ws_status(s, {"Origin": "https://evil.example"}, token)
        out["allowed_origin"] = await ws_status(s, {"Origin": base}, token)
    async with session() as s:  # no login cookie, a valid token and an allowed Origin
        out["unauthenticated"] = await ws_status(s, {"Origin": base}, token)
    return out


def test_login_and_allowed_origin_are_required(server):
    out = asyncio.run(_probe(server))
    status, where = out["page_without_login"]
    assert status == 302 and "login?next=" in where, out
    assert "user" not in out["wrong_password_cookies"], out
    assert out["login"] == 302 and out["page_after_login"] == 200, out
    # the control: a logged-in client from the allowed Origin gets Bokeh's ACK
    assert out["allowed_origin"] == 101, out
    assert out["no_origin"] == 403, out  # Tornado alone would accept it (no Origin check)
    assert out["foreign_origin"] == 403, out
    assert out["unauthenticated"] == 403, out


@pytest.mark.browser
def test_browser_logs_in_and_sees_the_desk(server, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            ctx = browser.new_context(ignore_https_errors=True,
                                      viewport={"width": 1400, "height": 1000})
            page = ctx.new_page()
            frames = []  # what the page's websockets receive (Bokeh ACKs the connection)
            page.on("websocket", lambda ws: ws.on("framereceived",
                                                  lambda f: frames.append((ws.url, f))))
            page.goto(f"{server}/quoting_desk", timeout=120_000)
            assert "/login" in page.url
            page.fill("input[name=username]", USER)
            page.fill("input[name=password]", "not-the-password")
            page.click("button[type=submit], input[type=submit]")
            page.wait_for_url(re.compile(r".*/login\?.*error=.*"), timeout=60_000)
            page.fill("input[name=username]", USER)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit], input[type=submit]")
            # (after a failed attempt Panel sends a login to the index page; then open the desk)
            page.wait_for_url(lambda u: "/login" not in u, timeout=120_000)
            if not page.url.endswith("/quoting_desk"):
                page.goto(f"{server}/quoting_desk", timeout=120_000)
            page.get_by_text("Kill switch").first.wait_for(timeout=120_000)
            # the page's own websocket (same Origin, login cookie) is accepted: Bokeh's ACK
            deadline = time.monotonic() + 120
            while not any("ACK" in str(f) for _, f in frames) and time.monotonic() < deadline:
                page.wait_for_timeout(250)
            assert any(u.endswith("/quoting_desk/ws") and "ACK" in str(f) for u, f in frames)
            page.screenshot(path=str(tmp_path / "desk_after_login.png"), full_page=True)
            assert (tmp_path / "desk_after_login.png").stat().st_size > 10_000
        finally:
            browser.close()


@pytest.mark.parametrize("problem", ["port-taken", "bad-certificate"])
def test_server_start_failures_are_one_line(tmp_path, problem):
    import socket

    env = {k: v for k, v in os.environ.items() if not k.startswith("MMLAB_DASHBOARD_")}
    args = []
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        if problem == "bad-certificate":
            held.close()
            (tmp_path / "c.pem").write_text("not a certificate")
            (tmp_path / "k.pem").write_text("not a key")
            args = ["--ssl-certfile", str(tmp_path / "c.pem"),
                    "--ssl-keyfile", str(tmp_path / "k.pem")]
        res = subprocess.run([sys.executable, "-m", "mmlab.cli", "serve", "--port", str(port),
                              *args], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 1, res.stderr[-500:]
    assert _one_line(res.stderr).startswith(f"error: serving 127.0.0.1:{port}")
