"""The project's own modules import one another without a circle, and none is long.

A circle of imports holds together only while every import in it stays inside a function or
below the code the others need; the next import moved to the top of a file breaks start-up,
and no module in the circle can be understood (or tested) without the rest. The graph is read
from the source with `ast`: every `import` and `from` anywhere in a module (inside functions
too), except under `if TYPE_CHECKING:`, which never runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

from config import PROJECT_ROOT

# Import name prefix -> the folder its modules are imported from.
ROOTS = {
    "api": PROJECT_ROOT,
    "workers": PROJECT_ROOT,
    "utils": PROJECT_ROOT,
    "config": PROJECT_ROOT,
    "settings": PROJECT_ROOT,
    "scripts": PROJECT_ROOT,
    "simulator": PROJECT_ROOT,
    "bench": PROJECT_ROOT,
    "tts_client": PROJECT_ROOT / "client",
}
MAX_LINES = 320  # "modules under ~300 lines", with a little room before this test complains


def project_modules() -> dict[str, Path]:
    """Every module of the project (tests/ aside), by the name it is imported as."""
    modules = {}
    for name, base in ROOTS.items():
        if (base / f"{name}.py").is_file():
            modules[name] = base / f"{name}.py"
        for path in sorted((base / name).rglob("*.py")) if (base / name).is_dir() else []:
            if ".venv" in path.parts or "__pycache__" in path.parts:
                continue
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _runtime_nodes(node: ast.AST):
    """The nodes under `node` that run: `if TYPE_CHECKING:` bodies are left out."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield other
                yield from _runtime_nodes(other)
            continue
        yield child
        yield from _runtime_nodes(child)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _packages_of(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts))]


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `name` imports. Importing a.b.c runs packages a and a.b first, so
    they count, except the module's own packages: Python runs those before the module."""
    is_package = path.name == "__init__.py"
    own = set(_packages_of(name)) | ({name} if is_package else set())
    targets: set[str] = set()
    explicit: set[str] = set()

    def add(target: str) -> None:
        while target and target not in modules:  # `import a.b.c` where only a.b is ours
            target = target.rpartition(".")[0]
        if target:
            explicit.add(target)
            targets.update(p for p in _packages_of(target) if p not in own)

    for node in _runtime_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = name if is_package else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = ".".join(p for p in (package, node.module) if p)
            else:
                base = node.module or ""
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                add(submodule if submodule in modules else base)
    return (targets | explicit) - {name}


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of imports (its modules in order, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_import_graph_has_no_circle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "a circle of imports: " + " -> ".join(cycle or [])


def test_no_module_is_over_the_line_limit():
    long = {
        str(path.relative_to(PROJECT_ROOT)): n
        for path in project_modules().values()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines (split them by what they hold): {long}"


def test_the_graph_sees_imports_inside_functions_and_skips_type_checking_blocks(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pkg import c\n"
        "def f():\n    from . import b\n"
    )
    (pkg / "b.py").write_text("import pkg.a\n")
    (pkg / "c.py").write_text("from pkg.a import f\n")
    modules = {"pkg": pkg / "__init__.py", **{f"pkg.{m}": pkg / f"{m}.py" for m in "abc"}}
    graph = {name: imports_of(name, path, modules) for name, path in modules.items()}
    assert graph["pkg.a"] == {"pkg.b"}
    assert graph["pkg.b"] == {"pkg.a"}
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.a"]
