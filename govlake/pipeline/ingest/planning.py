"""Planning a run: each department's new landing files (by content hash), inspected once,
as one batch; batches grouped into passes by feed shape."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import SparkSession

from govlake.core import private
from govlake.core.settings import Settings
from govlake.departments.registry import Department
from govlake.pipeline.ingest.landing import LandingFile, archive, digest_and_clean, inspect, landing_files, set_aside
from govlake.pipeline.ingest.mapping import Drift, drift_of_files, feed_shape
from govlake.platform import lake


def processed_hashes(spark: SparkSession, settings: Settings) -> dict[str, dict[str, tuple[str, str, str]]]:
    """The files already ingested, by department: content hash -> (batch id, file name, status),
    from the manifest."""
    path = lake.table_path(settings, "base", "ingest_manifest")
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, path):
        return {}
    done: dict[str, dict[str, tuple[str, str, str]]] = {}
    for r in spark.read.format("delta").load(path).select("department", "sha256", "batch_id", "file_name", "status").collect():
        done.setdefault(r.department, {})[r.sha256] = (r.batch_id, r.file_name, r.status)
    return done


@dataclass
class Plan:
    """One department's batch: its new landing files by entity, as planning found them."""

    dept: Department
    landing: Path
    batch_id: str
    files: dict[str, list[LandingFile]]

    def readable(self, entity: str) -> list[LandingFile]:
        return [f for f in self.files.get(entity, []) if f.reject is None]

    @property
    def rejected(self) -> dict[str, dict[str, str]]:
        return {entity: {f.name: f.reject for f in files if f.reject} for entity, files in self.files.items()}

    def drift(self, entity: str) -> Drift:
        return drift_of_files(self.readable(entity), self.dept.sources[entity])

    @property
    def manifest_rows(self) -> list[tuple]:
        return [(self.dept.id, f.content_hash, f.name, entity, f.size, self.batch_id, "rejected" if f.reject else "ingested")
                for entity, files in self.files.items() for f in files]


def plan_batch(dept: Department, landing: Path, done: "dict[str, tuple[str, str, str]]") -> Plan | None:
    """Find `dept`'s new files (by content hash); archive the others; None if nothing is new.
    Each new file is read here, once, for everything the run needs to know of it (`inspect`).

    `done`: content hash -> (batch id, file name, status) of the files the manifest holds. A file
    still in the landing folder under the name the manifest has, and missing from where its batch
    left it, is the last step of an interrupted run: it goes to its batch's folder (or, rejected,
    to `_rejected/` with its reason), so the manifest and the archive agree. Any other known file
    was dropped again, and goes to `_ingested/already-ingested/`.

    A batch is written down (`JOURNAL` in the landing folder) before any of it is committed, and
    removed once its files are archived. While one is there, the next plan takes exactly its files
    that are still new: a run killed half-way is completed under the same batch id, even if more
    files arrived since (they wait for the following run), so no rows are left under a batch id
    that has no batch log entry."""
    found: dict[str, list[tuple[Path, str, bool]]] = {}
    pending = _journal(landing)
    already: list[Path] = []
    unarchived: dict[str, list[Path]] = {}
    for entity, source in dept.sources.items():
        for p in landing_files(source, landing):
            digest, is_clean = digest_and_clean(p, source)
            if digest not in done:
                if pending is None or digest in pending:
                    found.setdefault(entity, []).append((p, digest, is_clean))
                continue
            batch_id, name, status = done[digest]
            if name != p.name:
                already.append(p)
            elif status == "rejected" and not (landing / "_rejected" / name).exists():
                set_aside(p, landing, inspect(p, entity, source, digest, is_clean).reject or f"REJECTED by batch {batch_id}")
            elif status != "rejected" and not (landing / "_ingested" / batch_id / name).exists():
                unarchived.setdefault(batch_id, []).append(p)
            else:
                already.append(p)
    for batch_id, paths in unarchived.items():
        archive(paths, landing, batch_id)
    if already:
        archive(already, landing, "already-ingested")
    if not found and pending is not None:  # the written-down batch is complete: plan afresh
        finished(landing)
        return plan_batch(dept, landing, done)
    if not found:
        return None
    hashes = sorted(d for seen in found.values() for _, d, _ in seen)
    batch_id = hashlib.sha256("".join(hashes).encode()).hexdigest()[:16]
    files = {entity: [inspect(p, entity, dept.sources[entity], d, c) for p, d, c in seen] for entity, seen in found.items()}
    if pending is None:
        private.write_private(landing / JOURNAL, json.dumps({"batch_id": batch_id, "sha256": hashes}))
    return Plan(dept, landing, batch_id, files)


JOURNAL = ".batch-in-progress.json"  # hidden: `landing_files` skips dot files


def nothing_landed(dept: Department, landing: Path) -> bool:
    """No file of `dept` waits in `landing` and no batch is written down there: `plan_batch` would
    return None whatever the manifest holds, so the manifest need not be read (on a cluster,
    reading it is a Spark job that waits for an executor)."""
    return _journal(landing) is None and not any(landing_files(source, landing) for source in dept.sources.values())


def _journal(landing: Path) -> set[str] | None:
    """Content hashes of the batch written down in `landing` and not yet finished, or None."""
    try:
        return set(json.loads((landing / JOURNAL).read_text(encoding="utf-8"))["sha256"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable (cut short when it was written): nothing of its batch was committed yet


def finished(landing: Path) -> None:
    """The written-down batch of `landing` is complete (its files archived)."""
    (landing / JOURNAL).unlink(missing_ok=True)


MAX_SHAPES_PER_PASS = 8  # distinct feed shapes mapped in one Spark plan (plan analysis grows with it)


def passes(plans: list[Plan]) -> list[list[Plan]]:
    """Split plans into passes of at most MAX_SHAPES_PER_PASS distinct feed shapes."""
    passes: list[tuple[set, list[Plan]]] = []
    for plan in plans:
        shape = tuple(feed_shape(plan.dept, e) for e in sorted(plan.files))
        for shapes, members in passes:
            if shape in shapes or len(shapes) < MAX_SHAPES_PER_PASS:
                shapes.add(shape)
                members.append(plan)
                break
        else:
            passes.append(({shape}, [plan]))
    return [members for _, members in passes]
