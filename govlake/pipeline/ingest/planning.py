"""Planning a run: each department's new landing files (by content hash), inspected once,
as one batch; batches grouped into passes by feed shape."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import SparkSession

from govlake.core.settings import Settings
from govlake.departments.registry import Department
from govlake.pipeline.ingest.landing import LandingFile, archive, digest_and_clean, inspect, landing_files
from govlake.pipeline.ingest.mapping import Drift, drift_of_files, feed_shape
from govlake.platform import lake


def processed_hashes(spark: SparkSession, settings: Settings) -> dict[str, set[str]]:
    """Content hashes of the files already ingested, by department (from the manifest)."""
    path = lake.table_path(settings, "base", "ingest_manifest")
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, path):
        return {}
    done: dict[str, set[str]] = {}
    for r in spark.read.format("delta").load(path).select("department", "sha256").collect():
        done.setdefault(r.department, set()).add(r.sha256)
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


def plan_batch(dept: Department, landing: Path, done: set[str]) -> Plan | None:
    """Find `dept`'s new files (by content hash); archive re-dropped ones; None if nothing is new.
    Each new file is read here, once, for everything the run needs to know of it (`inspect`)."""
    found: dict[str, list[tuple[Path, str, bool]]] = {}
    already: list[Path] = []
    for entity, source in dept.sources.items():
        for p in landing_files(source, landing):
            digest, is_clean = digest_and_clean(p, source)
            if digest in done:
                already.append(p)
            else:
                found.setdefault(entity, []).append((p, digest, is_clean))
    if already:
        archive(already, landing, "already-ingested")
    if not found:
        return None
    batch_id = hashlib.sha256("".join(sorted(d for seen in found.values() for _, d, _ in seen)).encode()).hexdigest()[:16]
    files = {entity: [inspect(p, entity, dept.sources[entity], d, c) for p, d, c in seen] for entity, seen in found.items()}
    return Plan(dept, landing, batch_id, files)


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
