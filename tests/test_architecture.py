"""The dependency rule: the engine never imports the CLI or the DAGs."""
from __future__ import annotations

import ast


def test_engine_does_not_import_cli_or_dags(project_root):
    offenders = []
    for path in (project_root / "govlake").rglob("*.py"):
        if "cli" in path.relative_to(project_root / "govlake").parts or path.name == "__main__.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path}: {n}" for n in names if n.startswith(("govlake.cli", "dags"))]
    assert offenders == []


def test_dag_files_do_no_heavy_imports_at_module_level(project_root):
    heavy = ("pyspark", "delta", "govlake.platform.spark", "govlake.pipeline", "trino")
    for path in (project_root / "dags").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mod = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                assert not (mod or "").startswith(heavy), f"{path} imports {mod} at parse time"
