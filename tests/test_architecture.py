"""The layer table, enforced: govlake's modules import only downward, and no import circles.

Every import of a govlake module counts, wherever it stands (module level or inside a
function). There is no allow-list: a new upward import or circle fails here, and the fix is
to move the code to the layer it belongs to (docs/architecture.md says which is which).
"""
from __future__ import annotations

import ast

import pytest

from tests import importgraph

# Top to bottom. A module may import its own layer and any layer below it, never one above.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("shells", ("govlake.cli", "govlake.console", "govlake.__main__", "govlake.dag_tasks", "dags", "jobs")),
    ("facade", ("govlake.context",)),
    ("jobs", ("govlake.pipeline",)),
    ("compliance", ("govlake.compliance",)),
    ("services", ("govlake.services",)),
    ("domain", ("govlake.contracts", "govlake.pii", "govlake.departments", "govlake.domain")),
    ("record", ("govlake.governance",)),
    ("platform", ("govlake.platform",)),
    ("ground", ("govlake.core", "govlake")),
]


def layer_of(module: str) -> int:
    best = None
    for rank, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and (best is None or len(p) > best[1]):
                best = (rank, len(p))
    if best is None:
        raise AssertionError(f"module {module} is in no layer: add its folder to LAYERS and to docs/architecture.md")
    return best[0]


def upward(edges) -> list[str]:
    return [f"{e.source}:{e.line} ({LAYERS[layer_of(e.source)][0]}) imports {e.target} ({LAYERS[layer_of(e.target)][0]})"
            f"{' inside a function' if e.in_function else ''}"
            for e in edges if layer_of(e.target) < layer_of(e.source)]


@pytest.fixture(scope="module")
def edges(project_root):
    return importgraph.edges(project_root)


def test_every_module_has_a_layer(project_root):
    for module in importgraph.modules(project_root):
        layer_of(module)


def test_imports_point_only_downward(edges):
    assert upward(edges) == []


# What a shell may import of govlake besides the facade: its own layer, and the ground (settings,
# errors, times). The DAG factory also reads the department registry at parse time, to lay out one
# DAG per department (dag_tasks.scheduled_departments).
SHELL_REACH = ("govlake.context", "govlake.core", "govlake.cli", "govlake.console", "govlake.dag_tasks", "govlake.__main__")
PARSE_TIME_READS = {"govlake.dag_tasks": ("govlake.departments.registry",)}


def test_shells_reach_the_engine_only_through_the_facade(edges):
    shells = LAYERS[0][1]
    stray = [f"{e.source}:{e.line} imports {e.target}" for e in edges
             if e.source.startswith(shells) and not e.target.startswith(SHELL_REACH + PARSE_TIME_READS.get(e.source, ()))]
    assert stray == [], "a CLI command, DAG task or job calls the engine past govlake.context: add the operation to Context"


def test_no_import_circles(edges):
    assert importgraph.cycles(edges) == []


def test_the_check_sees_function_level_and_upward_imports(tmp_path):
    """The checker itself: a function-level upward import and a two-module circle are found."""
    pkg = tmp_path / "govlake"
    for sub in ("core", "pipeline"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "core" / "settings.py").write_text("def f():\n    from govlake.pipeline import job\n")
    (pkg / "pipeline" / "job.py").write_text("from govlake.core.settings import f\n")
    found = importgraph.edges(tmp_path)
    assert upward(found) == ["govlake.core.settings:2 (ground) imports govlake.pipeline.job (jobs) inside a function"]
    assert importgraph.cycles(found) == [["govlake.core.settings", "govlake.pipeline.job"]]


def test_dag_files_do_no_heavy_imports_at_module_level(project_root):
    heavy = ("pyspark", "delta", "govlake.platform.spark", "govlake.pipeline", "trino")
    for path in (project_root / "dags").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mod = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                assert not (mod or "").startswith(heavy), f"{path} imports {mod} at parse time"
