"""The house's one-way imports (docs/DEVELOPING.md): no import circles in ``mustache`` or
``data_prep`` (function-level imports included, type-only ones too), nothing below the command
and web layers imports them, and ``data_prep`` never imports ``mustache``."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("mustache", "data_prep")
# the layers on top: only they (and each other) may import them
TOP = ("mustache.commands", "mustache.web", "mustache.cli", "mustache.__main__")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """``name`` (a module, or a module's attribute) -> the module of ours it loads, if any."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph() -> dict[str, set[str]]:
    """module -> the modules of ours it imports, anywhere in its text."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for mod, path in modules.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(up + ([base] if base else []))
                names = [f"{base}.{a.name}" for a in node.names] + [base]
            for n in names:
                target = _resolve(n, modules)
                # a package's own __init__ is loaded by any of its modules: not an edge of its own
                if target is not None and target != mod and not mod.startswith(target + "."):
                    edges.add(target)
        graph[mod] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
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
    return out


def _in(mod: str, prefixes) -> bool:
    return any(mod == p or mod.startswith(p + ".") for p in prefixes)


def test_graph_sees_function_level_imports():
    graph = import_graph()
    assert "mustache.paint.pipeline" in graph["mustache.paint.gan"]  # imported inside Mustacher.apply


def test_no_import_circles():
    assert _cycles(import_graph()) == []


def _room(module: str) -> str:
    """The room a module lives in: ``data_prep``, or ``mustache.<first part>``."""
    parts = module.split(".")
    return "data_prep" if parts[0] == "data_prep" else ".".join(parts[:2])


def test_rooms_import_one_way():
    """Not only modules: the rooms (docs/DEVELOPING.md's house) import one another one way."""
    rooms: dict[str, set[str]] = {}
    for mod, targets in import_graph().items():
        rooms.setdefault(_room(mod), set()).update(
            _room(t) for t in targets if _room(t) != _room(mod))
    for targets in list(rooms.values()):
        for t in targets:
            rooms.setdefault(t, set())
    assert _cycles(rooms) == []


def test_library_never_imports_commands_or_web():
    wrong = {m: sorted(t for t in ts if _in(t, TOP))
             for m, ts in import_graph().items() if not _in(m, TOP)}
    assert {m: ts for m, ts in wrong.items() if ts} == {}


def test_data_prep_never_imports_mustache():
    wrong = {m: sorted(t for t in ts if _in(t, ("mustache",)))
             for m, ts in import_graph().items() if _in(m, ("data_prep",))}
    assert {m: ts for m, ts in wrong.items() if ts} == {}


def test_the_public_names_import_in_a_fresh_interpreter():
    """The README's import paths, each in a new interpreter (a lazy package attribute that
    imports its own submodule recursed only on a cold start)."""
    import subprocess
    import sys

    for line in ("from mustache.video import VideoMustacher",
                 "from mustache import Mustacher, DonorTransfer, ApplyOptions, ApplyResult, "
                 "VideoMustacher, Style, STYLES",
                 "from mustache.apply import apply, Mustacher",
                 "from mustache.styles import STYLES, Style"):
        r = subprocess.run([sys.executable, "-c", line], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, f"{line}: {r.stderr[-500:]}"
