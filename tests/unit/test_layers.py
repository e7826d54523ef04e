"""The package's import graph: layers only import downwards, and no module imports itself in a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.unit.conftest import ROOT

PACKAGE = ROOT / "leanstack"
# Bottom to top (leanstack/__init__.py); a module may import its own layer and the ones below.
LAYERS = ["kube", "config", "render", "costing", "images", "components", "package", "policies", "rightsize", "scan", "cli"]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.startswith("leanstack.")}


def graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: {target for target in imports_of(path) if target in modules and target != name}
            for name, path in modules.items()}


def layer(module: str) -> int:
    top = module.split(".")[1] if module.count(".") else ""
    return LAYERS.index(top) if top in LAYERS else -1


def test_every_package_module_belongs_to_a_layer():
    assert [m for m in graph() if m != "leanstack" and layer(m) < 0] == []


def test_layers_import_only_downwards():
    upward = sorted(f"{source} -> {target}" for source, targets in graph().items() for target in targets
                    if layer(target) > layer(source))
    assert upward == []


def test_no_module_is_part_of_an_import_cycle():
    edges = graph()
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for target in sorted(edges[node]):
            if state.get(target) == "open":
                cycles.append(trail[trail.index(target):] + [target])
            elif target not in state:
                visit(target, trail + [target])
        state[node] = "done"

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert cycles == []


def imported_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return ({alias.name for n in ast.walk(tree) if isinstance(n, ast.Import) for alias in n.names}
            | {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)})


def test_tools_import_the_library_never_the_tests_and_never_edit_sys_path():
    sources = [p for folder in ("leanstack", "scripts", "bench", "policies") for p in (ROOT / folder).rglob("*.py")]
    sources.append(ROOT / "__main__.py")
    offenders = [str(p.relative_to(ROOT)) for p in sources
                 if "sys.path" in p.read_text(encoding="utf-8")
                 or any(name == "tests" or name.startswith("tests.") for name in imported_names(p))]
    assert offenders == []


# The seam where a stack file meets the components: Platform maps one onto them, offline runs it.
STACK_FILE_SEAM = {"leanstack.components.platform", "leanstack.components.offline"}


def test_renderers_and_components_take_only_resolved_inputs():
    """Below the seam, nothing sees the stack-file schema: only leanstack.config.resolve's bound inputs."""
    folders = [PACKAGE / "render", PACKAGE / "components"]
    offenders = sorted(f"{module_name(path)} -> {target}" for folder in folders for path in folder.rglob("*.py")
                       if module_name(path) not in STACK_FILE_SEAM
                       for target in imports_of(path)
                       if target.startswith("leanstack.config") and not target.startswith("leanstack.config.resolve"))
    assert offenders == []
