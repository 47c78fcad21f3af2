"""Classification levels: the ladder, and how levels travel along lineage.

The ladder L1 < L2 < L3 < L4 is GB/T 43697-2024's grading as `policies/classification.yaml`
states it (the config test checks that file against `LEVELS`); "highest wins" (就高从严). Every
comparison of levels in govlake goes through `rank`, `highest` or `exceeds` here.

Along lineage, a derived column is at the highest level of its inputs unless the edge applies a
registered de-identification (`policies.deidentifications`: `policies/classification.yaml`
`deidentification` and every masking method with a `result_level`), and never below its own
declared level. The edges come from the record (governance.lineage.Edge); only their `source`,
`target` and `transformation` are read.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Protocol

LEVELS = ("L1", "L2", "L3", "L4")
LEVEL_RANK = {level: i + 1 for i, level in enumerate(LEVELS)}


class Edge(Protocol):
    source: tuple[str, str]
    target: tuple[str, str]
    transformation: str


def rank(level: str) -> int:
    return LEVEL_RANK[level]


def exceeds(level: str | None, limit: str) -> bool:
    """Whether `level` is above `limit` (None, an unclassified value, never is)."""
    return bool(level) and LEVEL_RANK[level] > LEVEL_RANK[limit]


def highest(levels) -> str | None:
    """The highest of `levels`, ignoring None; None when there is none."""
    levels = [lv for lv in levels if lv]
    return max(levels, key=LEVEL_RANK.__getitem__) if levels else None


def lowest(levels) -> str | None:
    levels = [lv for lv in levels if lv]
    return min(levels, key=LEVEL_RANK.__getitem__) if levels else None


def through(level: str | None, transformation: str, deid: dict[str, str]) -> str | None:
    """The level a value at `level` has after `transformation` (its '+'-joined steps, in order)."""
    for step in transformation.split("+"):
        if level and step in deid and LEVEL_RANK[deid[step]] < LEVEL_RANK[level]:
            level = deid[step]
    return level


def effective_levels(all_edges: list[Edge], declared: dict[tuple[str, str], str], deid: dict[str, str]) -> dict[tuple[str, str], str | None]:
    """Every column's effective level: the highest of its declared level and of each input's
    effective level carried through the edge's transformation."""
    incoming: dict[tuple[str, str], list[Edge]] = defaultdict(list)
    for e in all_edges:
        incoming[e.target].append(e)
    memo: dict[tuple[str, str], str | None] = {}

    def level(node, active=frozenset()):
        if node in memo:
            return memo[node]
        if node in active:  # a cycle: its own declaration only
            return declared.get(node)
        found = [through(level(e.source, active | {node}), e.transformation, deid) for e in incoming.get(node, [])]
        memo[node] = highest([declared.get(node), *found])
        return memo[node]

    nodes = set(declared) | {n for e in all_edges for n in (e.source, e.target)}
    return {n: level(n) for n in nodes}


def explain(node: tuple[str, str], all_edges: list[Edge], levels: dict, deid: dict[str, str]) -> str:
    """`base.detections.plate_no (L4) -identity-> ...`: the path that sets a column's level."""
    target = levels.get(node)
    for e in all_edges:
        if e.target == node and through(levels.get(e.source), e.transformation, deid) == target:
            return f"{explain(e.source, [x for x in all_edges if x is not e], levels, deid)} -{e.transformation}-> {'.'.join(node)} ({target})"
    return f"{'.'.join(node)} ({target})"
