"""Landing files -> harmonised base tier (the first stage of the main job).

One module per stage, in the order a batch goes through them:

- `landing`: find a department's new files, hash them, inspect each once (`LandingFile`);
- `planning`: one batch per department, batches grouped into passes by feed shape;
- `read`: read the files with Spark in the department's own format;
- `mapping`: map raw records to the unified schema (names, codes, units, UTC, WGS-84), drift;
- `rules`: each row's rejection reason, known cameras, one row per key;
- `gates`: quality gates and the classification check on the accepted rows;
- `run`: the orchestration (MERGE into base, quarantine, passes and per-department retry);
- `record`: lineage, batch log and file manifest, written beside the data;
- `literals`, `results`: Spark literal helpers; what an ingest reports.

This face names what the rest of govlake (the main job, the CLI, the DAGs) calls.
"""
from govlake.pipeline.ingest.landing import LandingFile, digest_and_clean, inspect, landing_files
from govlake.pipeline.ingest.literals import in_literals, literal_array, literal_map
from govlake.pipeline.ingest.mapping import Drift, drift_of_files, mapping_lineage, to_unified
from govlake.pipeline.ingest.read import read_source
from govlake.pipeline.ingest.results import BatchResult, EntityResult
from govlake.pipeline.ingest.rules import first_of_each_key, known_cameras_only, validate
from govlake.pipeline.ingest.run import ingest_department, ingest_departments

__all__ = [
    "BatchResult", "Drift", "EntityResult", "LandingFile", "digest_and_clean", "drift_of_files", "first_of_each_key",
    "in_literals", "ingest_department", "ingest_departments", "inspect", "known_cameras_only", "landing_files",
    "literal_array", "literal_map", "mapping_lineage", "read_source", "to_unified", "validate",
]
