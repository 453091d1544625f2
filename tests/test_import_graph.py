"""The import graph of mmlab, read statically (ast over every module, no import executed).

Two rules, checked over every import statement: module level, inside functions (lazy imports),
under ``if TYPE_CHECKING`` and literal ``importlib.import_module("mmlab....")`` calls:

(a) no cycle between packages: ``mmlab.X -> mmlab.Y -> ... -> mmlab.X`` with ``X != Y``, where
    a "package" is a first-level name under mmlab (a subpackage such as ``mmlab.data`` or a
    top-level module such as ``mmlab.cli``). The root ``mmlab`` itself is not a node: any import
    of a submodule loads it first anyway, and its own imports (``mmlab.errors``, the lazy
    ``MarketMakingProjectManager``) are its public face;
(b) no import of a private name or module of another package: a dotted path whose first
    private component (``_name``, not ``__dunder__``) belongs to a package the importer is not
    inside. ``mmlab._paths`` belongs to the root, so every mmlab module may use it;
    ``mmlab.data._events`` belongs to ``mmlab.data``, so ``mmlab.book`` may not.

No allow-list: every violation fails. A name another package needs is exported by its own
package's ``__init__`` (``from mmlab.data import EVENT_DTYPE``, not ``mmlab.data._events``), and
code two packages share lives in a neutral module both import (``mmlab.redaction`` for the
broker's adapters and the runtime's journal).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "mmlab"


@dataclass(frozen=True)
class Import:
    importer: str  # module doing the import (mmlab.book._convert)
    target: str  # dotted path imported: a module, or module.name (mmlab.data._events.BUY_EVENT)
    module: str  # the module part of target (mmlab.data._events)
    line: int

    @property
    def where(self) -> str:
        return f"{self.importer}:{self.line}"


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(ROOT.rglob("*.py")):
        parts = list(p.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


MODULES = _modules()


def _imports_of(name: str, path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    here = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []

    def add(module: str, imported: str | None, line: int) -> None:
        if module.split(".")[0] != "mmlab":
            return
        if imported is None:
            out.append(Import(name, module, module, line))
        elif f"{module}.{imported}" in MODULES:  # from pkg import submodule
            out.append(Import(name, f"{module}.{imported}", f"{module}.{imported}", line))
        else:
            out.append(Import(name, f"{module}.{imported}", module, line))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                add(a.name, None, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for a in node.names:
                add(module, None if a.name == "*" else a.name, node.lineno)
        elif isinstance(node, ast.Call):  # importlib.import_module("mmlab.x") / __import__("mmlab.x")
            f = node.func
            fname = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if fname in ("import_module", "__import__") and node.args:
                a0 = node.args[0]
                if isinstance(a0, ast.Constant) and isinstance(a0.value, str):
                    add(a0.value, None, node.lineno)
    return out


IMPORTS = [i for m, p in MODULES.items() for i in _imports_of(m, p)]


def package(module: str) -> str:
    """``mmlab.X`` of a module (the root ``mmlab`` for itself)."""
    return ".".join(module.split(".")[:2])


def private_owner(target: str) -> str | None:
    """The package (first level, as :func:`package`) owning the first private component of
    ``target`` (None if all public): the subpackages of one package (``mmlab.backtest.core``,
    ``mmlab.backtest.engine``) are one room and share their private names."""
    parts = target.split(".")
    for i, c in enumerate(parts):
        if c.startswith("_") and not (c.startswith("__") and c.endswith("__")):
            return ".".join(parts[:min(i, 2)])
    return None


def _inside(module: str, owner: str) -> bool:
    return module == owner or module.startswith(owner + ".")


def private_violations(imports: list[Import] = IMPORTS) -> list[Import]:
    return [i for i in imports
            if (o := private_owner(i.target)) is not None and not _inside(i.importer, o)]


def package_graph(imports: list[Import] = IMPORTS) -> dict[str, dict[str, list[Import]]]:
    """``{package: {imported package: [imports]}}`` between distinct packages (root excluded)."""
    g: dict[str, dict[str, list[Import]]] = defaultdict(lambda: defaultdict(list))
    for i in imports:
        a, b = package(i.importer), package(i.module)
        if a == b or "mmlab" in (a, b):
            continue
        g[a][b].append(i)
    return g


def cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one package (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def describe_cycle(graph, comp: list[str]) -> str:
    lines = [" -> ".join([*comp, comp[0]]) + " (strongly connected):"]
    for a in comp:
        for b in comp:
            for i in graph.get(a, {}).get(b, [])[:3]:
                lines.append(f"    {a} -> {b}: {i.where} imports {i.target}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------


def test_the_walker_sees_every_kind_of_import():
    # the lazy re-export pricing/__init__ once had, a relative import, a function-level import
    src = ("import mmlab.surface as s\nfrom . import _x\ndef f():\n    from mmlab.data._rates import _read_rows\n"
           "    importlib.import_module('mmlab.backtest')\n")
    p = Path(pytest.importorskip("tempfile").mkdtemp()) / "__init__.py"
    p.write_text(src)
    got = {(i.target, i.module) for i in _imports_of("mmlab.pricing", p)}
    assert got == {("mmlab.surface", "mmlab.surface"), ("mmlab.pricing._x", "mmlab.pricing"),
                   ("mmlab.data._rates._read_rows", "mmlab.data._rates"),
                   ("mmlab.backtest", "mmlab.backtest")}
    assert private_owner("mmlab.data._rates._read_rows") == "mmlab.data"
    assert private_owner("mmlab._paths.shipped") == "mmlab" and private_owner("mmlab.__version__") is None
    assert cycles({"a": {"b": []}, "b": {"c": []}, "c": {"a": []}, "d": {"a": []}}) == [["a", "b", "c"]]
    assert len(MODULES) > 150 and len(IMPORTS) > 500  # the whole package was read


def test_no_cycle_between_packages():
    graph = package_graph()
    found = cycles(graph)
    assert not found, "import cycles between packages:\n" + "\n".join(
        describe_cycle(graph, c) for c in found)


def test_no_import_of_another_packages_private_names():
    bad = private_violations()
    assert not bad, "imports of another package's private names:\n" + "\n".join(
        f"    {i.where}: {i.target} (private to {private_owner(i.target)})" for i in bad)


def test_both_rules_catch_a_planted_violation():
    # the two violations this test once listed (issue 12): book reading data's private module,
    # and broker <-> runtime (the journal using broker's redact(), the gate runtime's OrderEvent)
    planted = [Import("mmlab.book._state", "mmlab.data._events.EVENT_DTYPE", "mmlab.data._events", 1),
               Import("mmlab.book._state", "mmlab.book._kernel.apply", "mmlab.book._kernel", 2),
               Import("mmlab.book._state", "mmlab._paths.shipped", "mmlab._paths", 3),
               Import("mmlab.runtime._journal", "mmlab.broker.redact", "mmlab.broker", 4),
               Import("mmlab.broker._gate", "mmlab.runtime.OrderEvent", "mmlab.runtime", 5)]
    assert [i.line for i in private_violations(planted)] == [1]
    graph = package_graph(planted)
    assert cycles(graph) == [["mmlab.broker", "mmlab.runtime"]]
    assert "mmlab.runtime._journal:4 imports mmlab.broker.redact" in describe_cycle(
        graph, ["mmlab.broker", "mmlab.runtime"])
    assert cycles(package_graph(planted[:4])) == []
