"""Precision and recall of the recognizers on a labelled set (tests/cases/pii_corpus.jsonl,
tests/cases/pii_notes_corpus.jsonl, tests/holdout/pii_holdout.jsonl).

A prediction is a true positive when a labelled span of the same type overlaps it (each label is
matched once); predictions matching no label are false positives, unmatched labels false
negatives.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Callable

from govlake.pii import recognizers as rec


def load(path: Path) -> list[dict]:
    return [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


def score(rows: list[dict], find: Callable[[str, str], list[rec.Entity]] | None = None) -> tuple[dict, list[dict]]:
    """({type: {precision, recall, tp, fp, fn}}, mistakes)."""
    find = find or (lambda text, hint: rec.find(text, hint=hint))
    tp, fp, fn = Counter(), Counter(), Counter()
    mistakes = []
    for row in rows:
        labels = [tuple(e) for e in row["entities"]]
        matched: set[int] = set()
        for e in find(row["text"], row.get("hint", "")):
            hit = next((i for i, (t, s, en) in enumerate(labels) if i not in matched and t == e.type and s < e.end and e.start < en), None)
            if hit is None:
                fp[e.type] += 1
                mistakes.append({"fp": e.type, "span": row["text"][e.start:e.end], "text": row["text"]})
            else:
                matched.add(hit)
                tp[e.type] += 1
        for i, (t, s, en) in enumerate(labels):
            if i not in matched:
                fn[t] += 1
                mistakes.append({"fn": t, "span": row["text"][s:en], "text": row["text"]})
    out = {}
    for t in rec.ENTITY_TYPES:
        p = tp[t] / (tp[t] + fp[t]) if tp[t] + fp[t] else 1.0
        r = tp[t] / (tp[t] + fn[t]) if tp[t] + fn[t] else 1.0
        out[t] = {"precision": round(p, 4), "recall": round(r, 4), "tp": tp[t], "fp": fp[t], "fn": fn[t]}
    return out, mistakes
