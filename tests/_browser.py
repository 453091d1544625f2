"""Helpers for the browser tests: Debian's chromium, a free loopback port, `mmlab serve` in its
own process group (so the panel server under it is stopped too)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

#: JS counting the canvases through the shadow roots Bokeh and Panel render into
COUNT_CANVAS = (
    "() => { const walk = (r) => { let n = r.querySelectorAll('canvas').length;"
    " for (const e of r.querySelectorAll('*')) if (e.shadowRoot) n += walk(e.shadowRoot);"
    " return n; }; return walk(document); }"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, timeout: float, proc: subprocess.Popen) -> None:
    """Wait until the server accepts TCP connections (rendering a page may take much longer)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.25)
    raise TimeoutError(f"port {port} not listening within {timeout} s")


@contextlib.contextmanager
def serving(log_dir: Path, catalog_dir: Path):
    """Run `mmlab serve` on a free port with ``MMLAB_DATA_DIR=catalog_dir``; yields the base URL."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError("Debian's chromium is missing: `make test` installs it")
    port = free_port()
    env = dict(os.environ, MMLAB_DATA_DIR=str(catalog_dir))
    with open(Path(log_dir) / "serve.log", "w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "mmlab.cli", "serve", "--port", str(port)],
                                stdout=fh, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    try:
        wait_listening(port, 120, proc)
        yield f"http://127.0.0.1:{port}", proc
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
