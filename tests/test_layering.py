"""The package reads like the pipeline: a module imports only its own stage or earlier ones,
and no modules import each other in a cycle. Every import counts, including those inside
functions and under TYPE_CHECKING: a lazy import is still a dependency."""

from __future__ import annotations

import ast
from pathlib import Path

QA = Path(__file__).resolve().parent.parent / "qa"

# In pipeline order. qa.errors and qa.settings are read by every stage; the package's own
# __init__ (lazy re-exports) and __main__ stand outside the pipeline.
STAGES = ["qa.errors", "qa.settings", "qa.ingest", "qa.models", "qa.index", "qa.search", "qa.answer", "qa.surfaces"]  # fmt: skip
OUTSIDE = {"qa", "qa.__main__"}


def module_name(path: Path) -> str:
    parts = path.relative_to(QA.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in QA.rglob("*.py")}


def resolve(name: str) -> str:
    """The module an imported name lives in: `qa.index.layout` if that is a module, else the
    longest prefix that is."""
    while name not in MODULES:
        name = name.rsplit(".", 1)[0]
    return name


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {resolve(a.name) for a in node.names if a.name.split(".")[0] == "qa"}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.split(".")[0] == "qa":  # fmt: skip
            found |= {resolve(f"{node.module}.{a.name}") for a in node.names}
    return found


GRAPH = {name: imports(path) - {name} for name, path in MODULES.items()}


def stage(module: str) -> int:
    for i, prefix in enumerate(STAGES):
        if module == prefix or module.startswith(prefix + "."):
            return i
    raise AssertionError(f"{module} belongs to no stage: add its package to STAGES")


def test_every_module_belongs_to_a_stage():
    for module in set(MODULES) - OUTSIDE:
        stage(module)


def test_no_module_imports_a_later_stage():
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if module not in OUTSIDE
        for target in targets
        if stage(target) > stage(module)
    )
    assert upward == []


def test_no_import_cycles():
    cycles = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(GRAPH[module]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_checks_can_fail():
    """The graph is read from the real files: an upward import would be seen."""
    assert "qa.search.hybrid" in GRAPH["qa.search.reranking"]
    assert stage("qa.surfaces.server") > stage("qa.answer.assistant") > stage("qa.ingest.passages")
