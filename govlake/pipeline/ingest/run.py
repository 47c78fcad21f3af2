"""The ingest run: landing files -> harmonised base tier (the first stage of the main job).

A department's files are read in its own format, mapped through its registry entry to the
unified schema (names, code values, units, UTC, WGS-84), validated, and MERGEd into the base
Delta tables by natural key. Rows that fail validation go whole to `base.quarantine` with a
reason code. Every step but the orchestration (`ingest_departments`) is a pure DataFrame
function.

Many departments are ingested in one pass: each keeps its own batch (its own batch id, counts,
quality result and batch-log rows), but their mapped frames are unioned so that one run makes a
fixed number of Delta commits (cameras, detections, quarantine, quality results, batch log,
manifest) however many departments sent files. A department whose mapping cannot be built is
reported and left out; if the shared pass fails at run time, each department is retried on its
own, so one broken feed never blocks the others.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import reduce
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession, functions as F

from govlake.core import faults, locks, times
from govlake.core.errors import GovlakeError
from govlake.core.settings import Settings
from govlake.departments.registry import Department
from govlake.domain import quality, schemas
from govlake.governance import lake_locks
from govlake.pipeline import lines
from govlake.pipeline.ingest.gates import classification_flags, run_quality_gates, store_quality_rows
from govlake.pipeline.ingest.landing import LandingFile, archive, set_aside
from govlake.pipeline.ingest.literals import literal_array, literal_map
from govlake.pipeline.ingest.mapping import feed_shape, to_unified
from govlake.pipeline.ingest.planning import Plan, finished, nothing_landed, passes, plan_batch, processed_hashes
from govlake.pipeline.ingest.read import file_uris, plain_path, read_source
from govlake.pipeline.ingest.record import emit_lineage, record_batches, record_manifest
from govlake.pipeline.ingest.results import BatchResult, EntityResult, Phases
from govlake.pipeline.ingest.rules import constraints, first_of_each_key, known_cameras, validate, with_raw
from govlake.platform import lake

log = logging.getLogger("govlake.ingest")


ENTITIES = ("cameras", "detections", "events")  # cameras first: the others are checked against known cameras
KEY_FIELDS = {"cameras": ["camera_id"], "detections": ["detection_id"], "events": ["event_id"]}  # what identifies a record in its file


def describe_failure(exc: Exception) -> str:
    if isinstance(exc, GovlakeError):
        return str(exc)
    return f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:500]}"


def _shape_frame(
    spark: SparkSession, group: list[Plan], entity: str, schema: schemas.TableSchema, run_time: datetime,
    cameras: "DataFrame | frozenset[str] | None" = None, upto: str = "validated",
) -> DataFrame:
    """The validated rows of every batch in `group` (one feed shape): one read over all their
    files and one mapping expression (two if some files are not clean text: only their rows get
    the per-row byte checks); each row's batch and department come from its file.
    `cameras`: the known cameras, for entities that name one. `upto` ("read", "mapped" or
    "validated") stops after that step, so a benchmark can time the steps apart."""
    source = group[0].dept.sources[entity]
    by_clean: dict[bool, list[LandingFile]] = {}
    batches: list[str] = []
    depts: list[str] = []
    index: dict[str, int] = {}
    for plan in group:
        for f in plan.readable(entity):
            by_clean.setdefault(f.clean, []).append(f)
            index[str(f.path.resolve())] = len(batches)
            batches.append(plan.batch_id)
            depts.append(plan.dept.id)
    # each row's file -> its position in `batches` / `depts`: one map lookup by the URI Spark
    # reports (the decoded path is the fallback, evaluated only if the URI is not found)
    uris = file_uris(spark, list(index))
    by_uri = literal_map({uris[p]: i for p, i in index.items()})
    by_path = literal_map(index)
    position = F.coalesce(F.element_at(by_uri, F.col("_source_uri")), F.element_at(by_path, plain_path())) + 1
    frames = []
    for clean, files in sorted(by_clean.items()):
        raw = read_source(spark, source, files).withColumn("_position", position)
        raw = raw.withColumn("_batch", F.element_at(literal_array(batches), F.col("_position"))).withColumn(
            "_department", F.element_at(literal_array(depts), F.col("_position"))).drop("_position")
        if upto == "read":
            frames.append(raw)
            continue
        unified = to_unified(raw, source, group[0].dept, schema, check_encoding=not clean)
        frames.append(unified if upto == "mapped" else with_raw(validate(unified, schema, run_time, cameras)))
    return reduce(lambda a, b: a.unionByName(b, allowMissingColumns=upto == "read"), frames)


def with_lines(spark: SparkSession, bad: DataFrame, entity: str, plans: list[Plan]) -> DataFrame:
    """Rejected rows with `_line` filled in for CSV and JSON lines files (see lines.py)."""

    by_batch = {p.batch_id: p for p in plans}
    wanted: dict[tuple[str, str], set[str]] = {}
    for r in bad.where(F.col("_line").isNull()).select("batch_id", "source_file", "_raw").distinct().collect():
        plan = by_batch.get(r.batch_id)
        if plan is not None and plan.dept.sources[entity].format in ("csv", "jsonl"):
            wanted.setdefault((r.batch_id, r.source_file), set()).add(r["_raw"])
    found = []
    for (batch_id, name), raws in wanted.items():
        plan = by_batch[batch_id]
        path = plan.landing / name
        if path.is_file():
            source = plan.dept.sources[entity]
            key = [c for c in KEY_FIELDS[entity] if c in source.fields]
            located = lines.locate(path, source, raws, key_field=source.fields[key[0]].source if key else None)
            found += [(batch_id, name, raw, no) for raw, no in located.items()]
    if not found:
        return bad
    located = spark.createDataFrame(found, "_lb string, _lf string, _lr string, _ln long")
    cond = (bad["batch_id"] == located["_lb"]) & (bad["source_file"] == located["_lf"]) & (bad["_raw"] == located["_lr"])
    joined = bad.join(F.broadcast(located), cond, "left")
    return joined.withColumn("_line", F.coalesce(F.col("_line"), F.col("_ln"))).drop("_lb", "_lf", "_lr", "_ln")


def _within(schema: schemas.TableSchema, plans: list[Plan]) -> dict[str, list[str]] | None:
    """The partitions a MERGE of these plans' rows touches, for a table partitioned by department
    (`lake.merge_into`): ingests of other departments running at once do not conflict with it."""
    return {"department": [p.dept.id for p in plans]} if schema.partitioned_by == ["department"] else None


def _ingest_plans(
    spark: SparkSession, settings: Settings, plans: list[Plan], run_time: datetime, failures: dict[str, str] | None = None,
    phases: Phases | None = None,
) -> list[BatchResult]:
    """Ingest the batches of `plans` together (`_ingest_cached`); the frames it caches are released
    however it ends, so a failed shared pass does not hold its rows while each department is retried."""
    persisted: list[DataFrame] = []
    try:
        return _ingest_cached(spark, settings, plans, run_time, failures, persisted, phases or Phases())
    finally:
        for df in persisted:
            df.unpersist()


def _ingest_cached(
    spark: SparkSession, settings: Settings, plans: list[Plan], run_time: datetime, failures: dict[str, str] | None,
    persisted: list[DataFrame], phases: Phases,
) -> list[BatchResult]:
    """Ingest the batches of `plans` together (see the module docstring); every frame it caches
    is added to `persisted`.

    Order of commits: quarantine and base MERGEs (the quarantine, quality results,
    classification flags and batch log commits run side by side), then the file manifest, then
    the files move to `_ingested/`. A crash before the manifest commit leaves the files in
    place and the rerun repeats the (idempotent) MERGEs; after it, the rerun only archives.
    Each entity's quality gates and classification sampling run in a background thread while
    its rows are MERGEd and the next entity is read; they read the same cached rows.
    With `failures`, a department whose frames cannot be built is recorded there and left out;
    without it, the error propagates.
    """
    quality.warm_up()
    q_schema = schemas.load_schema(settings, "base", "quarantine")
    q_path = lake.ensure_table(spark, settings, q_schema)
    quarantine: list[DataFrame] = []
    known: DataFrame | frozenset[str] | None = None  # the cameras base knows
    done: list[tuple] = []  # (entity, counts, accepted, future of (gates, quality rows, flag rows))
    checks = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-checks")
    try:
        for entity in ENTITIES:
            schema = schemas.load_schema(settings, "base", entity)
            path = lake.ensure_table(spark, settings, schema)
            if entity != "cameras" and known is None:  # read once, after this run's cameras are in base
                known = known_cameras(spark, settings)
            with phases.measure("frames"):
                frames = _entity_frames(spark, plans, entity, schema, run_time, failures, None if entity == "cameras" else known)
            counts: dict[str, tuple[int, int]] = {}
            accepted: dict[str, int] = {}
            future = None
            if frames:
                checked = reduce(lambda a, b: a.unionByName(b), frames).persist()
                persisted.append(checked)
                bad = checked.where(F.col("_reason").isNotNull())
                with phases.measure("materialise"):
                    for r in checked.groupBy("batch_id").agg(F.count(F.lit(1)).alias("n"), F.count("_reason").alias("bad")).collect():
                        counts[r.batch_id] = (r.n, r.bad)
                faults.point("ingest.read")
                if None in counts:
                    raise GovlakeError(f"{counts[None][0]} {entity} rows could not be traced to their landing file's batch; "
                                       "check that landing paths are plain local paths")
                with phases.measure("dedup"):
                    deduped, extra = first_of_each_key(checked.where(F.col("_reason").isNull()).select(*schema.names()), schema.key)
                    persisted += extra
                    accepted = {r.batch_id: r["count"] for r in deduped.groupBy("batch_id").count().collect()}
                in_run = {p.batch_id: p.dept.id for p in plans if p.batch_id in counts}

                def run_checks(deduped=deduped, entity=entity, in_run=in_run, accepted=accepted, key=schema.key):
                    with phases.measure("gx"):
                        gates, rows = run_quality_gates(spark, settings, deduped, entity, in_run, run_time)
                    with phases.measure("classification"):
                        return gates, rows, classification_flags(settings, deduped, entity, in_run, run_time, accepted, key)

                future = checks.submit(run_checks)
                if any(bad_n for _, bad_n in counts.values()):
                    with phases.measure("quarantine"):
                        bad = with_lines(spark, bad, entity, plans)
                    quarantine.append(bad.select(
                        "batch_id", "department", F.lit(entity).alias("entity"),
                        "source_file", F.col("_line").alias("line"), F.col("_reason").alias("reason"), F.col("_raw").alias("raw"),
                        F.sha2(F.concat_ws("\u0001", "source_file", "_raw"), 256).alias("row_hash"),
                        F.lit(run_time).cast("timestamp").alias("quarantined_at"),
                    ))
                faults.point("ingest.merge")
                with phases.measure("merge"):
                    lake.merge_into(spark, path, deduped, schema.key, schema.names(), rows=sum(accepted.values()),
                                    within=_within(schema, plans))
            done.append((entity, counts, accepted, future))
        with phases.measure("waiting for checks"):
            outcomes = {entity: future.result() if future else ({}, [], []) for entity, *_, future in done}
    finally:
        checks.shutdown(wait=True)
    entity_results: dict[str, list[EntityResult]] = {p.batch_id: [] for p in plans}
    quality_rows = [r for _, rows, _ in outcomes.values() for r in rows]
    flag_rows = [r for _, _, flags in outcomes.values() for r in flags]
    for entity, counts, accepted, _ in done:
        gates = outcomes[entity][0]
        for plan in plans:
            if entity not in plan.files:
                continue
            read, quarantined = counts.get(plan.batch_id, (0, 0))
            ok = accepted.get(plan.batch_id, 0)
            d = plan.drift(entity)
            gate = gates.get(plan.batch_id)
            entity_results[plan.batch_id].append(EntityResult(
                entity, [p.name for p in plan.readable(entity)], read, ok, quarantined, read - ok - quarantined,
                d.missing, d.extra, plan.rejected.get(entity, {}), gate.status if gate else "not_run",
                gate.failed_critical if gate else [],
            ))
    batches = [BatchResult(p.batch_id, p.dept.id, entity_results[p.batch_id]) for p in plans]
    f_schema = schemas.load_schema(settings, "base", "classification_flags")
    f_path = lake.ensure_table(spark, settings, f_schema)  # exists (empty) so status can always query it

    # the data is in base: its lineage is recorded, and the bookkeeping tables written, side by side
    def store_quarantine() -> None:
        with phases.measure("quarantine"):
            q = reduce(lambda a, b: a.unionByName(b), quarantine).dropDuplicates(q_schema.key)
            lake.merge_into(spark, q_path, q, q_schema.key, q_schema.names(), within=_within(q_schema, plans))

    def store_flags() -> None:
        lake.merge_into(spark, f_path, spark.createDataFrame(flag_rows, f_schema.spark_schema()), f_schema.key, f_schema.names(), rows=len(flag_rows),
                        within=_within(f_schema, plans))

    with phases.measure("bookkeeping"), ThreadPoolExecutor(max_workers=4, thread_name_prefix="ingest-bookkeeping") as pool:
        jobs = [pool.submit(lambda: [emit_lineage(settings, p) for p in list(plans)])]
        if quarantine:  # one commit for the rejected rows of every entity
            jobs.append(pool.submit(store_quarantine))
        if quality_rows:
            jobs.append(pool.submit(store_quality_rows, spark, settings, quality_rows))
        if flag_rows:
            jobs.append(pool.submit(store_flags))
        jobs.append(pool.submit(record_batches, spark, settings, batches, run_time))
        for job in jobs:
            job.result()  # the first failure is raised, after every job has finished
    faults.point("ingest.manifest")
    with phases.measure("manifest"):
        record_manifest(spark, settings, [r for p in plans for r in p.manifest_rows], run_time)
    faults.point("ingest.archive")
    with phases.measure("archive"):
        for plan in plans:
            for entity, rejected in plan.rejected.items():
                for name, reason in rejected.items():
                    set_aside(plan.landing / name, plan.landing, reason)
            archive([f.path for fs in plan.files.values() for f in fs], plan.landing, plan.batch_id)
            finished(plan.landing)
    return batches


def _entity_frames(
    spark: SparkSession, plans: list[Plan], entity: str, schema: schemas.TableSchema,
    run_time: datetime, failures: dict[str, str] | None,
    cameras: "DataFrame | frozenset[str] | None",
) -> list[DataFrame]:
    """The validated frames of `entity`, one per feed shape. With `failures`, a department whose
    frame cannot be built is recorded there and removed from `plans`; without it, the error
    propagates."""
    frames: list[DataFrame] = []
    groups: dict[str, list[Plan]] = {}
    for plan in plans:
        if plan.readable(entity):
            groups.setdefault(feed_shape(plan.dept, entity), []).append(plan)
    for group in groups.values():
        try:
            frames.append(_shape_frame(spark, group, entity, schema, run_time, cameras))
            continue
        except Exception as exc:
            if len(group) == 1 and failures is None:
                raise
            if len(group) > 1:
                log.warning("departments %s share a feed shape but not a readable union (%s); mapping them one by one",
                            [p.dept.id for p in group], describe_failure(exc))
        for plan in group:
            try:
                frames.append(_shape_frame(spark, [plan], entity, schema, run_time, cameras))
            except Exception as exc:
                if failures is None:
                    raise
                failures[plan.dept.id] = describe_failure(exc)
                log.error("ingest of department `%s` left out of this run: %s", plan.dept.id, failures[plan.dept.id])
                plans.remove(plan)
    return frames


def check_schemas(settings: Settings) -> None:
    """The base schemas declare every constraint the row rules enforce: checked before anything
    is read, so a schema error fails the run once instead of each department on its own."""
    for entity in ENTITIES:
        constraints(schemas.load_schema(settings, "base", entity))


def ingest_department(
    spark: SparkSession, settings: Settings, dept: Department, landing: Path, run_time: datetime
) -> BatchResult | None:
    """Ingest the new landing files of `dept` exactly once; None when there is nothing new.
    Errors propagate (the caller is one department's task)."""
    run_time = times.as_utc(run_time)
    check_schemas(settings)
    with locks.lake_writer(lake_locks.space(settings), "ingest", [dept.id]):  # planned under the lock: a concurrent ingest's files are done
        if nothing_landed(dept, landing):
            return None
        plan = plan_batch(dept, landing, processed_hashes(spark, settings).get(dept.id, {}))
        return None if plan is None else _ingest_plans(spark, settings, [plan], run_time)[0]


def ingest_departments(
    spark: SparkSession, settings: Settings, work: list[tuple[Department, Path]], run_time: datetime,
    phases: Phases | None = None,
) -> tuple[list[BatchResult], dict[str, str]]:
    """Ingest the new files of many departments in one pass: (batches, failures by department).

    A department whose files or mapping fail is reported in `failures` and the others go on; if
    the shared pass fails while running, every department is retried on its own. Holds the lake
    lock shared and each department's ingest lock (core.locks), and plans under them: a file a
    concurrent ingest of the same department took is in the manifest by then, and is not read again.
    `phases`: filled with the seconds each phase took (see `Phases`); logged either way.
    """
    run_time = times.as_utc(run_time)
    check_schemas(settings)
    phases = phases if phases is not None else Phases()
    with locks.lake_writer(lake_locks.space(settings), "ingest", [dept.id for dept, _ in work]):
        try:
            return _ingest_departments(spark, settings, work, run_time, phases)
        finally:
            log.info("ingest phases (seconds, background phases overlap): %s", phases.as_dict())


def _ingest_departments(
    spark: SparkSession, settings: Settings, work: list[tuple[Department, Path]], run_time: datetime, phases: Phases,
) -> tuple[list[BatchResult], dict[str, str]]:
    failures: dict[str, str] = {}
    plans = []
    with phases.measure("planning"):
        work = [(dept, landing) for dept, landing in work if not nothing_landed(dept, landing)]
        done = processed_hashes(spark, settings) if work else {}
        for dept, landing in work:
            try:
                plan = plan_batch(dept, landing, done.get(dept.id, {}))
            except Exception as exc:
                failures[dept.id] = describe_failure(exc)
                log.error("ingest of department `%s` failed: %s", dept.id, failures[dept.id])
                continue
            if plan is not None:
                plans.append(plan)
    if not plans:
        return [], failures
    batches: list[BatchResult] = []
    retry: list[Plan] = []
    for members in passes(plans):
        if len(members) == 1:
            retry += members
            continue
        try:
            batches += _ingest_plans(spark, settings, list(members), run_time, failures, phases)
        except Exception:
            log.exception("the shared ingest pass over %d departments failed; retrying each department on its own", len(members))
            retry += members
    for plan in retry:
        if plan.dept.id in failures:
            continue
        try:
            batches += _ingest_plans(spark, settings, [plan], run_time, phases=phases)
        except Exception as exc:
            failures[plan.dept.id] = describe_failure(exc)
            log.error("ingest of department `%s` failed: %s", plan.dept.id, failures[plan.dept.id])
    return batches, failures
