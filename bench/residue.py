"""Personal information left in scrubbed free text, on generated notes whose labels are known.

    .venv/bin/python bench/residue.py [--notes 100000] [--seed 7]

Two generators, each labelling by construction: the incident notes of
`govlake.departments.incident_notes` (written independently of the recognizers: several people
per note, names at sentence start, compound surnames, landlines, legacy IDs, permits, VINs, IMEIs,
MACs, full addresses) and the demo's event notes (`govlake.departments.personal.note`, what the
analytic tier holds in the demo). Each note is scrubbed exactly as the analytic build scrubs it
(`recognizers.scrub`, the function inside the Spark UDF), then:

- leaked: a labelled span not completely covered by what the scrub replaced (ground truth),
- classifier / second opinion: the residue detectors of `govlake.pii.residue`, which is what
  `govlake report compliance` reports for the real table, where no labels exist.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from govlake.departments import incident_notes, personal  # noqa: E402
from govlake.pii import recognizers as rec, residue  # noqa: E402


def run(name: str, make, n: int, seed: int) -> dict:
    rng = random.Random(seed)
    leaked_notes, leaked_types, labels = 0, Counter(), Counter()
    scrubbed = []
    t = time.perf_counter()
    for _ in range(n):
        text, spans = make(rng)
        found = rec.find(text)
        scrubbed.append(rec.scrub(text, found))
        labels.update(s[0] for s in spans)
        lost = residue.leaked(text, spans, found)
        leaked_types.update(lost)
        leaked_notes += bool(lost)
    scrub_s = time.perf_counter() - t
    t = time.perf_counter()
    measured = residue.measure(scrubbed)
    return {"generator": name, "notes": n, "labels": sum(labels.values()), "scrub_s": round(scrub_s, 1),
            "scrub_notes_per_s": round(n / scrub_s), "detect_s": round(time.perf_counter() - t, 1),
            "leaked": {"notes": leaked_notes, "share": round(leaked_notes / n, 6), "by_type": dict(sorted(leaked_types.items())),
                       "label_recall_by_type": {k: round(1 - leaked_types[k] / v, 5) for k, v in sorted(labels.items())}},
            "residue": measured}


def _demo_note(rng):
    note = personal.note(rng)[2]
    return note.text, [tuple(e) for e in note.entities]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--notes", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args()
    out = [run("incident_notes", incident_notes.generate, a.notes, a.seed), run("demo event notes", _demo_note, a.notes, a.seed)]
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
