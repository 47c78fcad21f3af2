"""govlake's own import graph, read from the source with `ast` (nothing is imported).

Used by the architecture test and by `bench/structure.py`. Every import of a govlake
module counts, wherever it stands: at module level, inside a function, or under
`if TYPE_CHECKING:`.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOTS = ("govlake", "dags", "jobs")


@dataclass(frozen=True)
class Edge:
    source: str        # importing module, dotted (dags.govlake_main, govlake.cli.run)
    target: str        # imported govlake module, dotted
    line: int
    in_function: bool  # the import runs when a function is called, not at import time


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules(root: Path) -> dict[str, Path]:
    found = {}
    for top in ROOTS:
        for path in sorted((root / top).rglob("*.py")):
            found[module_name(root, path)] = path
    return found


def _targets(node: ast.AST, known: dict[str, Path], here: str) -> list[str]:
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
        return [_resolve(n, known) for n in names if n.split(".")[0] == "govlake"]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            package = here.split(".")[: -node.level] if not known[here].name == "__init__.py" \
                else here.split(".")[: len(here.split(".")) - node.level + 1]
            base = ".".join(package + ([base] if base else []))
        if base.split(".")[0] != "govlake":
            return []
        out = []
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            out.append(sub if sub in known else _resolve(base, known))
        return out
    return []


def _resolve(name: str, known: dict[str, Path]) -> str:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name


def edges(root: Path) -> list[Edge]:
    known = modules(root)
    found: list[Edge] = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(), filename=str(path))

        def walk(node: ast.AST, in_function: bool) -> None:
            for child in ast.iter_child_nodes(node):
                inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                for target in _targets(child, known, name):
                    if target and target != name:
                        found.append(Edge(name, target, child.lineno, in_function))
                walk(child, inner)

        walk(tree, False)
    return found


def cycles(graph_edges: list[Edge]) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {}
    for e in graph_edges:
        graph.setdefault(e.source, set()).add(e.target)
        graph.setdefault(e.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    import sys
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    for v in sorted(graph):
        if v not in index:
            strong(v)
    return sorted(groups)
