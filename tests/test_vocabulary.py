"""The one vocabulary of issue 10 in what a user reads: ``README.md``, ``tutorials/*.ipynb``,
``notebooks/*.ipynb`` (cell sources, nothing executed) and ``mmlab/reports/*.py``; the CLI's
help (``mmlab/cli.py``) and the manager's presets as text.

Two scans, both naming the file and the line of each finding:

* ``RETIRED``: regular expressions of retired names, matched on every line of prose and code
  (each with what replaced it);
* the code (notebook code cells, report modules) read with :mod:`ast`: every call of an mmlab
  callable (resolved through the document's own imports) passes only keywords it has, a
  settings entry point (``run``, ``replay``, ``StepDriver``, ``sweep``, ...) only its own
  parameters or :class:`mmlab.backtest.BacktestConfig` fields, and a ``"strategy"`` /
  ``-s`` name is one of the registry's. So ``order_size=`` stays legal on an A-S config (its own
  field) and is refused on ``GridStrategy`` (whose field is ``order_qty``); ``sigma=`` is legal in
  pricing and refused wherever the callable names the quantity ``sigma_px``.

The planted cases at the end prove the scanner fails on a bad string, including one planted in a
copy of a real tutorial.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib
import inspect
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Retired names: (pattern, what replaced it). Matched case-sensitively on every line.
RETIRED = [
    # the strategy cadence: BacktestConfig.interval, in ns of local time (the quoting desk's
    # DeskConfig.interval, shown as "interval (ms)" on screen)
    (r"\bcadence_(?:ns|ms)\b", "interval (BacktestConfig, ns)"),
    # run_trading_cycle's and fit_intensity's unit-suffixed interval: interval (ns)
    (r"\binterval_ns\b", "interval (BacktestConfig, ns)"),
    # run_trading_cycle's latencies: BacktestConfig.entry_latency / response_latency (ns)
    (r"\b(?:entry|response)_latency_ns\b", "entry_latency / response_latency (BacktestConfig, ns)"),
    # the grid's per-level quantity: GridStrategy.order_qty (and mmlab.quoting.GridConfig's)
    (r"\blevel_size\b", "order_qty (GridStrategy, GridConfig)"),
    # the second stack's order manager: the core's order state machine (mmlab.backtest.run,
    # StepDriver, LoopbackDriver)
    (r"\bOrderManager\b", "the core's order state machine (mmlab.backtest.run / StepDriver)"),
    # the paper venue: the core's exchange side (SimulatedVenue, replay(venue='loopback'))
    (r"\bPaperVenue\b", "SimulatedVenue (the core's exchange side)"),
    # the paper ledger: the core's account (BacktestResult's PnL split)
    (r"\bLedger\b", "the core's account (BacktestResult.summary's PnL split)"),
    # the Python risk manager: the core's risk ladder (BacktestConfig max_position, zones, breakers)
    (r"\bRiskManager\b", "BacktestConfig's risk settings (max_position, zones, breakers)"),
    # the deleted execution package: mmlab.backtest (the core) and mmlab.runtime (sessions)
    (r"\bmmlab\.execution\b", "mmlab.backtest / mmlab.runtime"),
    # the quote-event record of the old paper path: the quote kernel's market-state record
    (r"\bQuoteEvent\b", "the market-state record (mmlab.backtest.UserStrategy)"),
    # engine settings on the CLI are BacktestConfig fields: the hard limit is max_position
    (r"--set[\s\"',]+(?:max_inventory|order_size)\b", "--set max_position (BacktestConfig)"),
    # the quoting volatility on the CLI: -p sigma_px (price per sqrt(time unit))
    (r"(?<![\w-])-p[\s\"',]+sigma\b", "-p sigma_px"),
    # quoting's sigma, written in prose or on one line of code: sigma_px
    (r"\b(?:AvellanedaStoikov\w*|GLFT\w*|synthetic_l2_events)\([^)]*\bsigma\s*=",
     "sigma_px= (price per sqrt(time unit))"),
]
_RETIRED = [(re.compile(p), use) for p, use in RETIRED]

#: Hints for a keyword a callable does not have (the message names the replacement).
_HINT = {"sigma": "sigma_px", "max_inventory": "max_position (a setting) or the strategy's own",
         "order_size": "order_qty (grid)", "level_size": "order_qty",
         "cadence_ns": "interval", "cadence_ms": "interval", "interval_ns": "interval",
         "entry_latency_ns": "entry_latency", "response_latency_ns": "response_latency"}

#: Var-keyword parameters that take engine settings (BacktestConfig fields).
_SETTINGS_KW = ("settings", "common", "event_settings")


@functools.cache
def _registry() -> frozenset[str]:
    from mmlab.backtest import STRATEGY_CLASSES
    from mmlab.manager import STRATEGY_NAMES

    return frozenset(STRATEGY_CLASSES) | frozenset(STRATEGY_NAMES)


@functools.cache
def _setting_names() -> frozenset[str]:
    from mmlab.backtest import BacktestConfig

    return frozenset(f.name for f in dataclasses.fields(BacktestConfig))


@dataclasses.dataclass(frozen=True)
class Finding:
    where: str  # file, and cell for a notebook
    line: int  # 1-based, in the file (README, .py) or in the cell
    found: str
    use: str

    def __str__(self) -> str:
        return f"{self.where} line {self.line}: {self.found!r} -> use {self.use}"


def _text_findings(where: str, source: str) -> list[Finding]:
    out = []
    for i, line in enumerate(source.splitlines(), start=1):
        for pat, use in _RETIRED:
            out += [Finding(where, i, m.group(0), use) for m in pat.finditer(line)]
        if "backtest" in line:  # `mmlab backtest ... -s NAME` and argv lists
            for m in re.finditer(r"(?<![\w-])-s[\s\"',]+([a-z][\w-]*)", line):
                if m.group(1) not in _registry():
                    out.append(Finding(where, i, m.group(0), f"a registry name {sorted(_registry())}"))
    return out


def _tree(where: str, source: str) -> ast.Module:
    # IPython magics and shell escapes are not Python: blank them, keeping the line numbers
    lines = ["" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError as exc:  # a cell the scanner cannot read would hide findings
        pytest.fail(f"{where} line {exc.lineno}: not parseable Python ({exc.msg})")


def _aliases(trees: list[ast.Module]) -> dict[str, str]:
    """Local name -> dotted mmlab path, from the document's imports."""
    out = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mmlab"):
                for a in node.names:
                    out[a.asname or a.name] = f"{node.module}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("mmlab"):
                        out[a.asname or a.name.split(".")[0]] = a.name if a.asname else "mmlab"
    return out


def _resolve(func: ast.expr, aliases: dict[str, str]):
    """The mmlab object a call's function names, or None."""
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name) or func.id not in aliases:
        return None
    path = aliases[func.id].split(".") + parts[::-1]
    obj = None
    for i in range(len(path), 0, -1):  # the longest importable module prefix, then attributes
        try:
            obj = importlib.import_module(".".join(path[:i]))
        except ImportError:
            continue
        for name in path[i:]:
            obj = getattr(obj, name, None)
        return obj
    return obj


def _keyword_findings(where, obj, keywords, settings) -> list[Finding]:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return []
    params = sig.parameters
    var_kw = [p.name for p in params.values() if p.kind is p.VAR_KEYWORD]
    if var_kw and var_kw[0] not in _SETTINGS_KW:
        return []  # takes anything
    allowed = {n for n, p in params.items() if p.kind is not p.VAR_KEYWORD}
    if var_kw:
        allowed |= settings
    name = getattr(obj, "__name__", str(obj))
    return [Finding(where, k.lineno, f"{name}({k.arg}=...)", _HINT.get(k.arg, "one of its own "
                    "parameters" + (" or a BacktestConfig field" if var_kw else "")))
            for k in keywords if k.arg is not None and k.arg not in allowed]


def _dict_keys(node: ast.expr) -> list[tuple[str, int]]:
    if isinstance(node, ast.Dict):
        return [(k.value, k.lineno) for k in node.keys
                if isinstance(k, ast.Constant) and isinstance(k.value, str)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        return [(k.arg, k.lineno) for k in node.keywords if k.arg]
    return []


def _code_findings(where: str, tree: ast.Module, aliases: dict[str, str]) -> list[Finding]:
    out, settings, registry = [], _setting_names(), _registry()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            obj = _resolve(node.func, aliases)
            if (isinstance(node.func, ast.Attribute | ast.Name) and node.args
                    and getattr(node.func, "attr", getattr(node.func, "id", "")) == "partial"):
                obj = _resolve(node.args[0], aliases)  # functools.partial(f, kw=...)
            if obj is None:
                continue
            out += _keyword_findings(where, obj, node.keywords, settings)
            for k in node.keywords:  # PaperSession(settings=dict(...)) and the like
                if k.arg == "settings":
                    out += [Finding(where, ln, f"settings[{key!r}]", _HINT.get(key, "a "
                                    "BacktestConfig field")) for key, ln in _dict_keys(k.value)
                            if key not in settings]
        elif isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if not (isinstance(k, ast.Constant) and isinstance(v, ast.Constant)):
                    continue
                if k.value == "strategy" and isinstance(v.value, str) \
                        and not v.value.startswith("user:") and v.value not in registry:
                    out.append(Finding(where, v.lineno, f"'strategy': {v.value!r}",
                                       f"a registry name {sorted(registry)}"))
    return out


def scan_document(where: str, cells: list[tuple[str, str]]) -> list[Finding]:
    """Findings of one document: ``cells`` are ``(kind, source)`` with kind 'code' or 'text';
    a file that is not a notebook is one cell (its lines are the file's)."""
    label = (lambda i: f"{where} cell {i}") if len(cells) > 1 else (lambda i: where)
    out = []
    trees = {i: _tree(label(i), src) for i, (kind, src) in enumerate(cells) if kind == "code"}
    aliases = _aliases(list(trees.values()))
    for i, (_, src) in enumerate(cells):
        out += _text_findings(label(i), src)
        if i in trees:
            out += _code_findings(label(i), trees[i], aliases)
    return out


def _notebook_cells(path: Path) -> list[tuple[str, str]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [("code" if c["cell_type"] == "code" else "text", "".join(c["source"]))
            for c in nb["cells"]]


#: Scanned as text only (the retired-name patterns): the CLI's help strings, the presets.
TEXT_ONLY = (ROOT / "mmlab" / "cli.py", ROOT / "mmlab" / "manager" / "presets.toml")


def _documents() -> list[Path]:
    docs = [ROOT / "README.md"]
    for pattern in ("tutorials/*.ipynb", "notebooks/*.ipynb", "mmlab/reports/*.py"):
        docs += sorted(ROOT.glob(pattern))
    return docs + list(TEXT_ONLY)


def scan_file(path: Path) -> list[Finding]:
    rel = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    if path.suffix == ".ipynb":
        return scan_document(rel, _notebook_cells(path))
    kind = "code" if path.suffix == ".py" and path not in TEXT_ONLY else "text"
    return scan_document(rel, [(kind, path.read_text(encoding="utf-8"))])


def test_documents_are_found():
    docs = _documents()
    names = {p.name for p in docs}
    # a glob that matched nothing would make the scan pass vacuously
    assert {"README.md", "04_backtesting.ipynb", "backtest_report.ipynb", "headline.py"} <= names
    assert len([p for p in docs if p.suffix == ".ipynb"]) >= 13


@pytest.mark.parametrize("path", _documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_retired_name(path):
    findings = scan_file(path)
    assert not findings, "retired names (issue 10's one vocabulary):\n" + "\n".join(
        map(str, findings))


def test_demo_parameters_name_registry_strategies():
    for path in sorted(ROOT.glob("notebooks/*.ipynb")):
        meta = json.loads(path.read_text(encoding="utf-8"))["metadata"].get("mmlab", {})
        for ps in meta.get("demo_parameters", []):
            assert ps.get("strategy", "grid") in _registry(), (path.name, ps)


# planted bad strings: (kind, source, what the finding must quote); each must be caught
PLANTED = [
    ("text", "Set `cadence_ms` to 100 for a decision every 100 ms.", "cadence_ms"),
    ("text", "mmlab backtest DATA -s glft -p sigma 8 -p k 0.3", "-p sigma"),
    ("text", "mmlab backtest DATA -s grid --set max_inventory 0.1", "--set max_inventory"),
    ("code", "from mmlab.execution import OrderManager", "mmlab.execution"),
    ("code", "from mmlab.backtest import GridStrategy\n"
             "g = GridStrategy(half_spread=1.0,\n                 order_size=0.01)",
     "GridStrategy(order_size=...)"),
    ("code", "from mmlab.quoting import AvellanedaStoikovConfig as AS\n"
             "cfg = AS(gamma=0.1,\n         sigma=2.0, k=1.5)", "AvellanedaStoikovConfig(sigma=...)"),
    ("code", "import mmlab.backtest as bt\nres = bt.run(ev, g, max_inventory=0.1)",
     "run(max_inventory=...)"),
    ("code", "import functools\nfrom mmlab.data import synthetic\n"
             "gen = functools.partial(synthetic.synthetic_l2_events,\n    sigma=0.03)",
     "synthetic_l2_events(sigma=...)"),
    ("code", "from mmlab.runtime import PaperSession\n"
             "s = PaperSession(g, settings=dict(cadence_ns=10))", "settings['cadence_ns']"),
    ("code", 'params = {"strategy": "stoikov", "gamma": 0.1}', "'strategy': 'stoikov'"),
    ("text", "Call `mgr.run_trading_cycle(\"AAPL\", p, interval_ns=10**8)`.", "interval_ns"),
    ("text", "entry_latency_ns and response_latency_ns default to 0", "entry_latency_ns"),
    ("code", "from mmlab.quoting import GridConfig\ncfg = GridConfig(step=0.1,\n    order_size=2.0)",
     "GridConfig(order_size=...)"),
    ("code", "from mmlab.quoting import fit_intensity\nest = fit_intensity(ev, time_unit_ns=1e9,\n"
             "    interval_ns=10**8)", "fit_intensity(interval_ns=...)"),
]

# legitimate uses that must not be flagged: the strategies' own order_size / max_inventory,
# pricing's annualised sigma, a plain-English ledger, calls outside mmlab
LEGIT = [
    "from mmlab.quoting import AvellanedaStoikovConfig\n"
    "AvellanedaStoikovConfig(gamma=0.1, sigma_px=2.0, k=1.5, order_size=0.01, max_inventory=0.1)",
    "from mmlab.pricing import bsm_price\nbsm_price('c', 100.0, 100.0, 1.0, 0.0, sigma=0.2)",
    "from mmlab.backtest import GridStrategy, run\n"
    "run(ev, GridStrategy(half_spread=1.0, order_qty=0.01), max_position=0.1, interval=10**8)",
    "import subprocess\nsubprocess.run(cmd, capture_output=True, text=True, check=True)",
    "from mmlab.quoting import GridConfig, fit_intensity\n"
    "GridConfig(step=0.1, order_qty=2.0)\nfit_intensity(ev, interval=10**8, time_unit_ns=1e6)",
    "from mmlab.dashboards.quoting_desk import DeskConfig\n"
    "DeskConfig(interval=10**8, entry_latency=10**6, response_latency=10**6)",
]


@pytest.mark.parametrize("kind, source, quoted", PLANTED, ids=[p[2] for p in PLANTED])
def test_scanner_catches_planted(kind, source, quoted):
    findings = scan_document("planted.ipynb", [(kind, source), ("text", "")])
    assert any(quoted in f.found for f in findings), findings
    assert all(str(f).startswith("planted.ipynb cell 0 line ") for f in findings)


@pytest.mark.parametrize("source", LEGIT)
def test_scanner_passes_legitimate_uses(source):
    assert scan_document("legit.py", [("code", source)]) == []


def test_scanner_names_file_cell_and_line_of_a_real_notebook(tmp_path):
    # a real tutorial with one retired keyword planted in the third line of its settings cell
    src = ROOT / "tutorials" / "04_backtesting.ipynb"
    nb = json.loads(src.read_text(encoding="utf-8"))
    i = next(j for j, c in enumerate(nb["cells"]) if "SETTINGS = dict(" in "".join(c["source"]))
    cell = nb["cells"][i]
    cell["source"] = ["".join(cell["source"]).rstrip("\n") + "\n",
                      "res = run(btc, grid, cadence_ms=100, **SETTINGS)\n"]
    bad = tmp_path / "04_planted.ipynb"
    bad.write_text(json.dumps(nb), encoding="utf-8")
    assert scan_file(src) == []
    found = [str(f) for f in scan_file(bad)]
    line = "".join(cell["source"]).splitlines().index("res = run(btc, grid, cadence_ms=100, "
                                                     "**SETTINGS)") + 1
    assert any(f.startswith(f"{bad} cell {i} line {line}: 'cadence_ms'") for f in found), found
    assert any("run(cadence_ms=...)" in f for f in found), found  # and run has no such keyword
