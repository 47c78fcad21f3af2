"""Person names in free text: which Chinese lexical analyser, measured on the labelled corpora.

    .venv/bin/python bench/segmenters.py

PERSON precision, recall and time per line on `tests/cases/pii_corpus.jsonl`,
`tests/cases/pii_notes_corpus.jsonl` and `tests/holdout/pii_holdout.jsonl`, for:

- govlake: the PERSON entities of `recognizers.find` (jieba-rs words and tags + surname knowledge +
  context), as scrubbed; its time is the whole `find`, every entity type;
- rjieba raw: every word jieba-rs tags as a person name (`nr*`), nothing else;
- jieba posseg raw: the same with Python jieba's `posseg` (same dictionary, its own HMM);
- thulac raw: every word THULAC tags `np`.

jieba and THULAC are not govlake dependencies; a line is printed for each only when it is
installed (`.venv/bin/pip install jieba thulac` for the comparison; `make setup` removes them again).
"""
from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from govlake.pii import evaluate, recognizers as rec, words  # noqa: E402

CORPORA = {"pii_corpus": ROOT / "tests/cases/pii_corpus.jsonl", "pii_notes_corpus": ROOT / "tests/cases/pii_notes_corpus.jsonl",
           "pii_holdout": ROOT / "tests/holdout/pii_holdout.jsonl"}


def spans(pairs) -> list[rec.Entity]:
    out, pos = [], 0
    for w, t in pairs:
        if t.startswith("nr") or t == "np":
            if len(w) >= 2:
                out.append(rec.Entity("PERSON", pos, pos + len(w), 1.0))
        pos += len(w)
    return out


def methods() -> dict:
    out = {"govlake": lambda text, hint: [e for e in rec.find(text) if e.type == "PERSON"],
           "rjieba raw": lambda text, hint: spans((w.text, w.tag) for w in words.tag(text))}
    if importlib.util.find_spec("jieba"):
        import logging

        import jieba
        import jieba.posseg as pseg

        jieba.setLogLevel(logging.WARNING)
        out["jieba posseg raw"] = lambda text, hint: spans((p.word, p.flag) for p in pseg.cut(text))
    if importlib.util.find_spec("thulac"):
        import thulac

        th = thulac.thulac()
        out["thulac raw"] = lambda text, hint: spans(tuple(x) for x in th.cut(text))
    return out


def main() -> int:
    results = []
    for corpus, path in CORPORA.items():
        rows = [r for r in evaluate.load(path) if not r.get("hint")]  # free text, not column values
        for name, fn in methods().items():
            fn("预热", "")
            t = time.perf_counter()
            scores, _ = evaluate.score(rows, fn)
            took = time.perf_counter() - t
            p = scores["PERSON"]
            results.append({"corpus": corpus, "method": name, "lines": len(rows), "precision": p["precision"], "recall": p["recall"],
                            "tp": p["tp"], "fp": p["fp"], "fn": p["fn"], "us_per_line": round(took / len(rows) * 1e6, 1)})
            print(json.dumps(results[-1], ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
