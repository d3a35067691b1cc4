"""labkit's three layers, as rules on its imports (every import statement, inside functions too):

1. ``labkit.cognito`` imports nothing else of labkit: it is a Cognito client library on its own.
2. ``labkit.emulator`` never imports ``labkit.course``.
3. No import cycles anywhere in labkit. Importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__``
   first, so those parent packages count as imported too.
"""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(root: Path, package: str = "labkit") -> dict[str, set[str]]:
    """``{module: {labkit modules it imports}}`` for every .py file under ``root/package``."""
    files = {module_name(p, root): p for p in (root / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        here = name if is_package else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")
                    base = base[:len(base) - (node.level - 1)]
                    start = ".".join(base + ([node.module] if node.module else []))
                else:
                    start = node.module or ""
                # "from x import y": y may be a module of package x, or a name in x.
                candidates = [start] + [f"{start}.{alias.name}" for alias in node.names]
            else:
                continue
            for candidate in candidates:
                if candidate in files:
                    targets.add(candidate)
        # a module imports its parent packages as it is imported; their import is part of its own
        expanded = set()
        for target in targets:
            parts = target.split(".")
            expanded.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        expanded.discard(name)
        graph[name] = {t for t in expanded if t in files and not name.startswith(t + ".")}
    return graph


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    problems = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            if module.startswith("labkit.cognito") and not target.startswith("labkit.cognito"):
                problems.append(f"{module} imports {target}: labkit.cognito imports nothing else of labkit")
            if module.startswith("labkit.emulator") and target.startswith("labkit.course"):
                problems.append(f"{module} imports {target}: labkit.emulator never imports labkit.course")
    return problems


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_labkit_keeps_its_three_layers():
    assert layer_violations(import_graph(ROOT)) == []


def test_labkit_has_no_import_cycle():
    cycle = find_cycle(import_graph(ROOT))
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_three_packages_exist_and_say_what_belongs_in_them():
    graph = import_graph(ROOT)
    for package in ("labkit.cognito", "labkit.emulator", "labkit.course"):
        assert package in graph
        init = ROOT / package.replace(".", "/") / "__init__.py"
        assert len(ast.get_docstring(ast.parse(init.read_text())) or "") > 200, f"{package} needs a docstring"


# -- the checker itself fails on a forbidden import ------------------------------------------------
def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path


BASE = {
    "labkit/__init__.py": "from .lab import Lab\n",
    "labkit/lab.py": "from .emulator import server\n",
    "labkit/cognito/__init__.py": "",
    "labkit/cognito/srp.py": "import hashlib\n",
    "labkit/emulator/__init__.py": "",
    "labkit/emulator/server.py": "from ..cognito import srp\n",
    "labkit/course/__init__.py": "",
    "labkit/course/api.py": "from ..cognito import srp\nfrom ..emulator import server\n",
}


def test_the_checker_passes_a_clean_tree(tmp_path):
    graph = import_graph(_tree(tmp_path, BASE))
    assert layer_violations(graph) == [] and find_cycle(graph) is None


@pytest.mark.parametrize("path, text, expected", [
    ("labkit/cognito/srp.py", "def f():\n    from ..emulator import server\n",
     "labkit.cognito.srp imports labkit.emulator"),
    ("labkit/cognito/srp.py", "import labkit.lab\n", "labkit.cognito.srp imports labkit"),
    ("labkit/emulator/server.py", "from labkit.course.api import x\n",
     "labkit.emulator.server imports labkit.course"),
])
def test_the_checker_names_a_forbidden_import(tmp_path, path, text, expected):
    graph = import_graph(_tree(tmp_path, {**BASE, path: text}))
    assert any(problem.startswith(expected) for problem in layer_violations(graph))


def test_the_checker_finds_a_cycle_through_a_function_level_import(tmp_path):
    tree = _tree(tmp_path, {**BASE, "labkit/emulator/server.py": "def f():\n    import labkit.lab\n"})
    cycle = find_cycle(import_graph(tree))
    assert cycle is not None and "labkit.lab" in cycle and "labkit.emulator.server" in cycle
