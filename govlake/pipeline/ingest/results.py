"""What an ingest reports: per entity and per department batch."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field


@dataclass
class EntityResult:
    entity: str
    files: list[str]
    read: int
    accepted: int
    quarantined: int
    duplicates: int
    missing_fields: list[str] = field(default_factory=list)
    extra_fields: list[str] = field(default_factory=list)
    rejected_files: dict[str, str] = field(default_factory=dict)
    quality_status: str = "not_run"
    quality_failures: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return self.read == self.accepted + self.quarantined + self.duplicates and self.duplicates >= 0


@dataclass
class BatchResult:
    batch_id: str
    department: str
    entities: list[EntityResult]

    @property
    def totals(self) -> dict:
        keys = ("read", "accepted", "quarantined", "duplicates")
        return {k: sum(getattr(e, k) for e in self.entities) for k in keys}

    def as_dict(self) -> dict:
        return {
            "batch_id": self.batch_id,
            "department": self.department,
            "files": sorted(f for e in self.entities for f in e.files),
            **self.totals,
            "rejected_files": {k: v for e in self.entities for k, v in e.rejected_files.items()},
            "schema_drift": {e.entity: {"missing": e.missing_fields, "extra": e.extra_fields} for e in self.entities if e.missing_fields or e.extra_fields},
            "balanced": all(e.balanced for e in self.entities),
            "entities": [asdict(e) | {"balanced": e.balanced} for e in self.entities],
        }


class Phases:
    """Wall-clock seconds per phase of one ingest run (planning, materialise, dedup, MERGE, ...),
    summed over entities; phases run in background threads overlap the others, so the figures
    add up to more than the run. Logged at the end of a run; benchmarks read them."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, name: str, seconds: float) -> None:
        with self._lock:
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    @contextmanager
    def measure(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - started)

    def as_dict(self) -> dict[str, float]:
        with self._lock:
            return {k: round(v, 2) for k, v in self.seconds.items()}
