"""The house's layout holds: no import circle between lalelu's modules or between its packages."""

from __future__ import annotations

import ast
from pathlib import Path

import lalelu

ROOT = Path(lalelu.__file__).resolve().parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(name: str, module_level: bool) -> set[str]:
    """The lalelu modules `name` imports: at module level only, or anywhere (functions too); imports that only
    a type checker runs do not count."""
    found: set[str] = set()
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking_only(child):
                continue
            if isinstance(child, ast.Import):
                if top or not module_level:
                    found.update(a.name for a in child.names if a.name.startswith("lalelu"))
            elif isinstance(child, ast.ImportFrom):
                if top or not module_level:
                    base = child.module or ""
                    if child.level:
                        base = ".".join(package.split(".")[: len(package.split(".")) - child.level + 1]
                                        + ([base] if base else []))
                    if base.startswith("lalelu"):
                        for alias in child.names:
                            sub = f"{base}.{alias.name}"
                            found.add(sub if sub in MODULES else base)
            else:
                inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                visit(child, inner)

    visit(ast.parse(MODULES[name].read_text()), True)
    return {m for m in found if m in MODULES and m != name}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := walk(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := walk(node)):
            return cycle
    return None


def package_of(module: str) -> str:
    """lalelu.gestures.kit -> lalelu.gestures; a top-level module (lalelu.trace) is a room of its own."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def test_no_import_circle_between_modules_at_module_level() -> None:
    graph = {name: imports_of(name, module_level=True) for name in MODULES}
    # a package's __init__ importing its own modules is how a package shows its face, not a circle
    for name, deps in graph.items():
        if MODULES[name].name == "__init__.py":
            graph[name] = {d for d in deps if not d.startswith(name + ".")}
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_no_import_circle_between_packages_even_inside_functions() -> None:
    graph: dict[str, set[str]] = {}
    for name in MODULES:
        deps = {package_of(d) for d in imports_of(name, module_level=False)} - {package_of(name)}
        graph.setdefault(package_of(name), set()).update(deps)
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_core_imports_no_other_room() -> None:
    for name in MODULES:
        if name.startswith("lalelu.core"):
            rooms = {package_of(d) for d in imports_of(name, module_level=False)}
            assert rooms <= {"lalelu.core", "lalelu.errors"}, name
