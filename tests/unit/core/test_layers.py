"""The package's layers: each stage imports only from stages below it, and no module cycle."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[3] / "pipeline"
#: Lowest first. A module may import from its own layer or any lower one, never a higher one.
LAYERS = (
    {"errors", "codes", "config", "files", "layout"},
    {"plots"},
    {"desk"},
    {"imagery"},
    {"judgement"},
    {"results"},
    {"reports"},
    {"demo", "testing"},
    # the edge: the CLI and the review app (which serves finished runs to verifiers)
    {"workflow", "review"},
)


def _layer(module: str) -> int:
    top = module.split(".")[1] if module.count(".") else ""
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"{module}: not in any layer; add its package to LAYERS")


def _imports() -> dict[str, set[str]]:
    """Module -> the pipeline modules it imports (also those imported for type checking)."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(p for p in rel.parts if p != "__init__")
        graph.setdefault(name, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                target = node.module
            elif isinstance(node, ast.Import):
                target = node.names[0].name
            else:
                continue
            if target.startswith("pipeline.") and target != name:
                graph[name].add(target)
    return graph


GRAPH = _imports()


def test_layers__no_module_imports_a_higher_stage():
    upward = [
        (a, b)
        for a, targets in GRAPH.items()
        for b in targets
        if a != "pipeline" and _layer(b) > _layer(a)
    ]
    assert not upward, f"imports from a higher layer: {upward}"


def test_layers__no_import_cycle():
    try:
        tuple(TopologicalSorter(GRAPH).static_order())
    except CycleError as err:
        raise AssertionError(f"import cycle: {err.args[1]}") from None
