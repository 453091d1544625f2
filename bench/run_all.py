"""Run every benchmark and write ``bench/RESULTS.md``: the machine, the commit, each table.

Run: ``.venv/bin/python bench/run_all.py [--only bench_iv,vs_hftbacktest] [--quick] [--output PATH]``
(``make bench`` runs it with no arguments).

Each benchmark script (``bench/bench_*.py``, ``bench/vs_*.py``) runs in its own process, one after
the other, with the same interpreter; its standard output -- the table it prints, ratio first,
side by side with the reference tool -- is copied verbatim into ``RESULTS.md`` under a heading
naming the script, the exact command, its wall time and its exit status. The header records the
machine (CPU model, logical cores and the cores this process may use, memory, load average before
and after), the UTC date, the git commit (``+dirty`` when tracked files differ from it) and the
versions of the tools compared.

``--quick`` passes each script the smallest repeat count it accepts (the figures are noisier; the
file says so). ``--only`` runs a subset (the file lists what was left out). A script that fails is
recorded with its exit status and the end of its error output, the others still run, and the
runner exits non-zero. The file is written to a temporary name and renamed: never half-written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata as md
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent

#: Arguments making each script quicker (fewer timed repeats) under ``--quick``.
QUICK_ARGS = {
    "bench_book.py": ["--repeat", "3"],
    "bench_data.py": ["--repeat", "3"],
    "bench_iv.py": ["--repeats", "3", "--chain-repeats", "3"],
    "bench_quoting.py": ["--repeat", "3"],
    "bench_startup.py": ["--repeats", "3", "--cold-rounds", "1"],
    "bench_sweep.py": ["--repeat", "3"],
    "bench_step_driver.py": ["--repeats", "3"],
    "bench_user_strategy.py": ["--repeats", "3"],
    "bench_vs_parent.py": ["--repeats", "3"],
    "vs_hftbacktest.py": ["--repeats", "5"],
}

#: Libraries whose versions the file records (the reference tools and what mmlab runs on).
TOOLS = ("mmlab", "numpy", "numba", "pandas", "hftbacktest", "py_vollib_vectorized", "QuantLib",
         "dask", "distributed")


def scripts() -> list[Path]:
    """The benchmark scripts, in the order they run (``bench_*`` then ``vs_*``, by name)."""
    return sorted(BENCH.glob("bench_*.py")) + sorted(BENCH.glob("vs_*.py"))


def _git(*args: str, strip: bool = True) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                             timeout=30, check=True).stdout
        return out.strip() if strip else out
    except (OSError, subprocess.SubprocessError):
        return ""


def commit() -> str:
    """The checkout's commit, ``+dirty`` when tracked files differ from it (``unknown`` outside git)."""
    sha = _git("rev-parse", "HEAD")
    if not sha:
        return "unknown"
    return sha + ("+dirty" if dirty_files() else "")


def dirty_files() -> list[str]:
    """Tracked files that differ from the commit (what ``+dirty`` means)."""
    out = _git("status", "--porcelain", "--untracked-files=no", strip=False)
    return [line[3:] for line in out.splitlines() if line.strip()]


def cpu_model() -> str:
    """The CPU model name from ``/proc/cpuinfo`` (``platform.processor()`` elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gb() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1e6:.1f} GB"
    except (OSError, ValueError, IndexError):
        pass
    return "unknown"


def machine() -> list[tuple[str, str]]:
    """(item, value) rows describing the machine and the software."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    rows = [
        ("CPU", cpu_model()),
        ("logical cores", f"{os.cpu_count()} ({usable} usable by this process)"),
        ("memory", memory_gb()),
        ("OS", f"{platform.system()} {platform.release()} ({platform.machine()})"),
        ("Python", platform.python_version()),
    ]
    for name in TOOLS:
        try:
            rows.append((name, md.version(name)))
        except md.PackageNotFoundError:
            rows.append((name, "not installed"))
    return rows


def load() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def run_one(script: Path, extra: list[str], timeout: float) -> dict:
    """Run one script; return its command, output, exit status and wall time."""
    cmd = [sys.executable, str(script.relative_to(ROOT)), *extra]
    shown = " ".join([".venv/bin/python", *cmd[1:]])
    print(f"== {shown}", flush=True)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                              env=dict(os.environ, PYTHONUNBUFFERED="1"))
        out, err, rc = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        def text(b):
            return b.decode(errors="replace") if isinstance(b, bytes) else (b or "")
        out, err, rc = text(exc.stdout), text(exc.stderr) + f"\n(timed out after {timeout:.0f} s)", -1
    wall = time.perf_counter() - t0
    sys.stdout.write(out)
    if rc != 0:
        sys.stdout.write(err[-2000:])
    print(f"   ({wall:.0f} s, exit {rc})", flush=True)
    return {"script": script.name, "command": shown, "stdout": out, "stderr": err, "rc": rc,
            "wall": wall}


def render(results: list[dict], skipped: list[str], quick: bool, started: str, load_before: str,
           load_after: str, sha: str, dirty: list[str] | None = None) -> str:
    """The Markdown text of ``RESULTS.md``."""
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`bench/run_all.py`): every benchmark script run once, its table",
        "copied verbatim below. Each table puts mmlab side by side with the reference tool named in",
        "its heading (ratio first; each script's docstring says how the ratio reads and how it is",
        "timed). Figures are medians of warm repeats on this machine; other jobs running on it at the",
        "time (see the load average) make them noisier, not systematically biased, since each script",
        "alternates the tools it compares.",
        "",
        "| item | value |",
        "| --- | --- |",
        f"| date (UTC) | {started} |",
        f"| commit | `{sha}` |",
    ]
    if dirty:
        shown = ", ".join(f"`{f}`" for f in dirty[:12]) + (f" and {len(dirty) - 12} more" if len(dirty) > 12 else "")
        lines.append(f"| uncommitted changes in | {shown} |")
    lines += [f"| {k} | {v} |" for k, v in machine()]
    lines += [
        f"| load average (1/5/15 min) before | {load_before} |",
        f"| load average (1/5/15 min) after | {load_after} |",
        f"| repeats | {'reduced (`--quick`): noisier figures' if quick else 'each script default'} |",
        "",
    ]
    if skipped:
        lines += [f"Not run this time (`--only`): {', '.join(skipped)}.", ""]
    for r in results:
        status = "ok" if r["rc"] == 0 else f"**failed (exit {r['rc']})**"
        lines += [
            f"## {r['script']}",
            "",
            f"`{r['command']}`: {r['wall']:.0f} s wall, {status}.",
            "",
            "```text",
            r["stdout"].rstrip("\n") or "(no output)",
            "```",
            "",
        ]
        if r["rc"] != 0:
            lines += ["Error output (last lines):", "", "```text",
                      "\n".join(r["stderr"].rstrip().splitlines()[-25:]), "```", ""]
    return "\n".join(lines)


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="comma-separated script names (with or without .py)")
    ap.add_argument("--quick", action="store_true", help="fewest repeats each script accepts")
    ap.add_argument("--output", default=str(BENCH / "RESULTS.md"))
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per script")
    a = ap.parse_args(argv)
    available = scripts()
    wanted = {w.strip().removesuffix(".py") for w in a.only.split(",") if w.strip()}
    unknown = wanted - {p.stem for p in available}
    if unknown:
        ap.error(f"--only: no benchmark {', '.join(sorted(unknown))} "
                 f"(available: {', '.join(p.stem for p in available)})")
    chosen = [p for p in available if not wanted or p.stem in wanted]
    skipped = [p.name for p in available if p not in chosen]
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    sha, dirty, before = commit(), dirty_files(), load()
    results = [run_one(p, QUICK_ARGS.get(p.name, []) if a.quick else [], a.timeout) for p in chosen]
    text = render(results, skipped, a.quick, started, before, load(), sha, dirty)
    out = Path(a.output)
    write_atomic(out, text + "\n")
    print(f"wrote {out}")
    return 0 if all(r["rc"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
