"""govlake benchmarks. Results go to BENCHMARKS.md by hand, with the command and the machine.

    python bench/run.py dagbag  [--departments 100] [--repeat 3]
    python bench/run.py masking [--rows 300000] [--sample 3000]
    python bench/run.py contracts [--rows 1000000] [--repeat 15]
    python bench/run.py audit [--rows 1000000] [--repeat 3]
    python bench/run.py lineage [--rows 1000] [--repeat 5]
    python bench/run.py erasure [--rows 10000000] [--subject-rows 100]
    python bench/run.py receiver [--rows 5000] [--repeat 3]

The ingest benchmark (limit, govlake and the peer job) is `bench/ingest.py`.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from govlake.platform import lake

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench_dagbag(args) -> dict:
    from govlake.departments import synthetic

    work = Path(tempfile.mkdtemp(prefix="govlake-bench-"))
    synthetic.write_departments(work / "registry", args.departments)
    code = (
        "import time; t=time.perf_counter(); from airflow.dag_processing.dagbag import DagBag;"
        f"b=DagBag(dag_folder={str(ROOT / 'dags')!r}); el=time.perf_counter()-t;"
        "print('RESULT', len(b.dag_ids), len(b.import_errors), el)"
    )
    env = os.environ | {"GOVLAKE_DEPARTMENTS_DIR": str(work / "registry"), "AIRFLOW_HOME": str(work / "airflow"),
                        "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    times = []
    for _ in range(args.repeat):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
        _, dags, errors, elapsed = next(ln for ln in out.splitlines() if ln.startswith("RESULT")).split()
        times.append(float(elapsed))
    return {"departments": args.departments, "dags": int(dags), "import_errors": int(errors),
            "parse_s_median": round(statistics.median(times), 2), "runs": [round(t, 2) for t in times]}


def bench_masking(args) -> dict:
    """Mask the PII columns of detections (plate_no, image_ref, observed_at) and events (note,
    occurred_at) natively in Spark, versus Presidio analyze+anonymize per cell over the same
    columns (with govlake's recognizers, offline), in the same process."""
    import random

    from pyspark.sql import functions as F

    from govlake.core.settings import Settings
    from govlake.departments import generator, registry
    from govlake.domain import masking
    from govlake.pii import engine
    from govlake.platform.secrets import TokenKey
    from govlake.platform.spark import get_spark

    work = Path(tempfile.mkdtemp(prefix="govlake-bench-"))
    settings = Settings(state_dir=work / "state")
    start = datetime(2026, 11, 20, tzinfo=timezone.utc)
    dets, events, labels = [], [], []
    for d in registry.load_all(settings):
        data = generator.canonical(d, rows=args.rows // 3, seed=1, start=start)
        dets += [(r["plate_no"], r["image_ref"], r["observed_at"].replace(tzinfo=None)) for r in data.detections]
        for e in data.events:
            events.append((e["note"], e["occurred_at"].replace(tzinfo=None)))
            labels.append(data.notes[e["event_id"]])
    while len(events) < len(dets) // 10:  # police and traffic send events; top up to a tenth of detections
        rng = random.Random(len(events))
        _, _, note = generator.personal.note(rng)
        events.append((note.text, start.replace(tzinfo=None)))
        labels.append(note)
    spark = get_spark(settings)
    key = TokenKey("b1", b"k" * 32)
    det_df = spark.createDataFrame(dets, "plate_no string, image_ref string, observed_at timestamp").repartition(2).persist()
    ev_df = spark.createDataFrame(events, "note string, occurred_at timestamp").repartition(2).persist()
    det_df.count(), ev_df.count()

    import inspect

    analyze = engine.analyze
    if "settings" in inspect.signature(engine.analyze).parameters:  # the engine before issue 19 took the settings
        analyze = lambda v: engine.analyze(settings, v)  # noqa: E731

    def spark_scrub() -> None:
        ev_df.select(masking.scrub_text(F.col("note")), masking.hour(F.col("occurred_at"))).write.format("noop").mode("overwrite").save()

    def spark_mask() -> None:
        masking.keyed(det_df, key).select(masking.token(F.col("plate_no"), key), masking.hour(F.col("observed_at"))).write.format("noop").mode("overwrite").save()
        spark_scrub()

    spark_mask()  # warm-up: Python workers, code generation
    times, scrub_times = [], []
    for _ in range(args.repeat):
        t = time.perf_counter()
        spark_mask()
        times.append(time.perf_counter() - t)
        t = time.perf_counter()
        spark_scrub()
        scrub_times.append(time.perf_counter() - t)
    spark_s, scrub_s = statistics.median(times), statistics.median(scrub_times)
    spark_rows = len(dets) + len(events)
    # Presidio per cell on a sample (the full tables would take too long), same columns
    sample_d, sample_e = dets[: args.sample], events[: max(1, args.sample // 10)]
    analyze("warm-up 13812345678")
    t = time.perf_counter()
    for plate, image_ref, _ in sample_d:
        for v in (plate, image_ref):
            if v:
                engine.anonymize(v, analyze(v))
    t_notes = time.perf_counter()
    for note, _ in sample_e:
        engine.anonymize(note, analyze(note))
    presidio_notes_s = time.perf_counter() - t_notes
    presidio_s = time.perf_counter() - t
    presidio_rows = len(sample_d) + len(sample_e)
    # recall on the notes: a labelled entity is missed when its value survives the scrub
    scrubbed = {r.note: r.s for r in ev_df.select("note", masking.scrub_text(F.col("note")).alias("s")).collect()}
    total = sum(len(lab.entities) for lab in labels)
    missed = sum(1 for lab in labels for (_, s0, e0) in lab.entities if lab.text[s0:e0] in scrubbed[lab.text])
    plates_hit = sum(1 for p, _, _ in sample_d if p and analyze(p))
    return {
        "detections": len(dets), "events": len(events),
        "spark_rows_per_s": round(spark_rows / spark_s), "spark_s_median": round(spark_s, 2), "spark_runs": [round(x, 2) for x in times],
        "presidio_rows_per_s": round(presidio_rows / presidio_s), "presidio_sample_rows": presidio_rows,
        "speedup": round((spark_rows / spark_s) / (presidio_rows / presidio_s), 1),
        "spark_scrub_notes_per_s": round(len(events) / scrub_s), "spark_scrub_runs": [round(x, 2) for x in scrub_times],
        "presidio_notes_per_s": round(len(sample_e) / presidio_notes_s), "presidio_note_sample": len(sample_e),
        "scrub_speedup_on_notes": round((len(events) / scrub_s) / (len(sample_e) / presidio_notes_s), 1),
        "note_entities": total, "note_entities_left_after_spark_scrub": missed,
        "plates_in_sample": sum(1 for p, _, _ in sample_d if p), "plates_presidio_detected": plates_hit,
        "plates_tokenised_by_spark": "all (the whole column is tokenised)",
    }


def bench_contracts(args) -> dict:
    """(a) Trino rule compilation for 1,000 active contracts; (b) Trino latency of one query as a
    consumer analyst on a contract's application table (per-column conformance masks and the
    contract's row filter in the rules) versus an unmasked, unfiltered copy of the same rows, in
    the same server, interleaved runs, medians."""
    import random
    import socket

    import yaml

    from govlake.contracts import access, spec as specs, workflow
    from govlake.core.settings import Settings
    from govlake.pipeline import application
    from govlake.platform.secrets import token_key
    from govlake.platform.spark import get_spark
    from govlake.services import serving, sql, trino

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    work = Path(tempfile.mkdtemp(prefix="govlake-bench-"))
    settings = Settings(state_dir=work / "state", trino_port=port)
    os.environ.update({"GOVLAKE_STATE_DIR": str(settings.state), "GOVLAKE_TRINO_PORT": str(port)})
    base = yaml.safe_load(settings.path("policies", "contracts", "traffic-to-transport-flows.yaml").read_text())
    many = [specs.ContractSpec.model_validate({**base, "id": f"c-{i:04d}", "table": f"t{i}"}) for i in range(1000)]
    compile_times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        access.write_rules(settings, many)
        compile_times.append(time.perf_counter() - t)
    result = {"contracts": 1000, "rule_compile_s_median": round(statistics.median(compile_times), 3),
              "rules_file_kb": round(access.rules_path(settings).stat().st_size / 1024)}

    spark = get_spark(settings)
    rng = random.Random(7)
    n = args.rows
    cams = [f"1101050000132{i:07d}" for i in range(200)]
    rows = [(f"t{i}", rng.choice(["police", "traffic"]), rng.choice(cams), "110105", f"g0.01:{rng.randint(3990, 4000)}:{rng.randint(11630, 11640)}",
             datetime(2026, 11, 20, rng.randint(0, 23)), rng.choice(["motor_vehicle", "person", "non_motor_vehicle"]), rng.random(),
             "k1_" + "%064x" % rng.getrandbits(256), rng.choice(["white", "black", "red"]), "m1") for i in range(n)]
    schema = ("detection_token string, department string, camera_id string, region_code string, grid_cell string, observed_hour timestamp, "
              "object_type string, confidence double, plate_token string, vehicle_color string, model_version string")

    spark.createDataFrame(rows, schema).repartition(2).write.format("delta").mode("overwrite").save(
        lake.table_path(settings, "analytic", "detections_deidentified"))
    data = yaml.safe_load(settings.path("policies", "contracts", "police-to-traffic-vehicle-sightings.yaml").read_text())
    data["columns"] = [{"name": "plate_token", "masking": "token"}, {"name": "camera_id"}, {"name": "observed_hour", "masking": "hour"},
                       {"name": "department"}, {"name": "object_type"}, {"name": "vehicle_color"}]
    data["row_filter"] = "department = 'police' AND object_type = 'motor_vehicle'"
    spec = specs.ContractSpec.model_validate(data)
    when = datetime(2026, 11, 21, tzinfo=timezone.utc)
    trino.start(settings, log=lambda m: print(m, file=sys.stderr))
    try:
        workflow.new(settings, spec, spec.requester, when)
        workflow.submit(settings, spec.id, spec.requester, when)
        workflow.approve(settings, spec.id, "wang_police_steward", when)
        workflow.approve(settings, spec.id, "zhao_compliance", when)
        published, _ = application.publish(spark, settings, [spec], token_key(settings))
        copy_path = lake.table_path(settings, "application", "app_traffic/bench_unmasked_copy")
        spark.read.format("delta").load(published[0].path).write.format("delta").mode("overwrite").save(copy_path)
        tables = [serving.ServedTable(p.schema, p.table, p.path) for p in published]
        tables.append(serving.ServedTable("app_traffic", "bench_unmasked_copy", copy_path))
        serving.sync(settings, tables)
        rules = access.compile_rules(settings, [spec])
        rule = next(r for r in rules["tables"] if r.get("table") == spec.table and "team_traffic_analyst" in r["group"])
        assert rule.get("filter") and any("mask" in c for c in rule["columns"]), rule
        rules["tables"].insert(2, {"group": "team_traffic_analyst", "catalog": "lake", "schema": "app_traffic",
                                   "table": "bench_unmasked_copy", "privileges": ["SELECT"]})
        access.rules_path(settings).write_text(json.dumps(rules))
        time.sleep(3)  # rules refresh period
        q = ("SELECT camera_id, count(*) AS n, count(DISTINCT plate_token) AS plates, max(observed_hour) AS last_hour "
             "FROM app_traffic.{t} WHERE vehicle_color <> 'red' GROUP BY camera_id")
        user = "zhou_traffic_analyst"
        masked_rows = sql.query(settings, user, q.format(t=spec.table)).rows
        plain_rows = sql.query(settings, user, q.format(t="bench_unmasked_copy")).rows
        assert sorted(map(tuple, masked_rows)) == sorted(map(tuple, plain_rows))
        tm, tp = [], []
        for _ in range(args.repeat):
            for t_name, acc in ((spec.table, tm), ("bench_unmasked_copy", tp)):
                t = time.perf_counter()
                sql.query(settings, user, q.format(t=t_name))
                acc.append(time.perf_counter() - t)
        result.update({
            "app_rows": published[0].rows, "source_rows": n,
            "masked_filtered_s_median": round(statistics.median(tm), 3), "unmasked_copy_s_median": round(statistics.median(tp), 3),
            "ratio": round(statistics.median(tm) / statistics.median(tp), 3), "runs_each": args.repeat,
        })
    finally:
        trino.stop(settings)
        spark.stop()
    return result


def bench_audit(args) -> dict:
    """`govlake audit verify` over N chained entries in the SQLite governance store: build the
    keyed chain (entries like contract transitions, HMAC-SHA256 under the chain key), then verify
    it, median of --repeat runs."""
    import sqlalchemy as sa

    from govlake.core.settings import Settings
    from govlake.governance import audit, store

    work = Path(tempfile.mkdtemp(prefix="govlake-bench-"))
    settings = Settings(state_dir=work / "state")
    n = args.rows
    key = audit.chain_key(settings)
    t = time.perf_counter()
    prev, rows = audit.GENESIS, []
    base = datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp()
    with store.engine(settings).begin() as conn:
        audit.keyed_from(conn, key)  # keyed from the first entry, as a new store is
    for seq in range(1, n + 1):
        at = datetime.fromtimestamp(base + seq, tz=timezone.utc).isoformat(timespec="microseconds")
        detail = json.dumps({"from": "submitted", "to": "approved", "reason": None, "spec_hash": "%064x" % seq}, sort_keys=True)
        h = audit.entry_hash(seq, at, "wang_police_steward", "contract.approve", f"contract:c-{seq % 1000:04d}", detail, prev, key=key)
        rows.append({"seq": seq, "at": at, "actor": "wang_police_steward", "action": "contract.approve",
                     "object": f"contract:c-{seq % 1000:04d}", "detail": detail, "prev_hash": prev, "hash": h})
        prev = h
        if len(rows) == 200_000 or seq == n:  # in chunks: ten million entries need not sit in memory
            with store.engine(settings).begin() as conn:
                conn.execute(sa.insert(store.audit_log), rows)
            rows = []
    build_s = time.perf_counter() - t
    audit.write_anchor(settings, json.dumps({"seq": n, "hash": prev}).encode())
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        result = audit.verify(settings)
        times.append(time.perf_counter() - t)
        assert result.ok and result.entries == n, result
    with store.engine(settings).begin() as conn:  # and it does find a change near the end
        conn.execute(store.audit_log.update().where(store.audit_log.c.seq == n - 10).values(actor="mallory"))
    bad = audit.verify(settings)
    return {"entries": n, "build_s": round(build_s, 1), "verify_s_median": round(statistics.median(times), 2),
            "verify_runs": [round(x, 2) for x in times], "entries_per_s": round(n / statistics.median(times)),
            "tampered_found_at": bad.first_bad}


def bench_receiver(args) -> dict:
    """The audit receiver's drain alone: N completed-query events (the shape Trino's listeners
    write: tables, columns, masks, filters, groups) are spooled one file each, as Trino's spool
    listener does, then `drain` moves them into the keyed chain; events per second, median of
    --repeat batches, each into a chain that already holds the earlier batches. Then the same
    events again (as a retrying HTTP listener would re-send them): all recognised, none added."""
    from govlake.core.settings import Settings
    from govlake.governance import audit
    from govlake.services import audit_receiver

    work = Path(tempfile.mkdtemp(prefix="govlake-bench-"))
    settings = Settings(state_dir=work / "state")
    audit.chain_key(settings)

    def event(i: int) -> bytes:
        return json.dumps({
            "metadata": {"queryId": f"20261203_000000_{i:05d}_bench", "query": f"SELECT plate_token, camera_id FROM app_traffic.t WHERE x <> '{i}'",
                         "queryState": "FINISHED", "tables": [{"catalog": "lake", "schema": "app_traffic", "table": "t", "directlyReferenced": True,
                                                              "filters": ["(department = 'police')"],
                                                              "columns": [{"column": "plate_token", "mask": None}, {"column": "camera_id", "mask": None}]}]},
            "context": {"user": "zhou_traffic_analyst", "source": "trino-python-client", "groups": ["analyst", "traffic"]},
            "statistics": {"wallTime": 0.05, "outputRows": 10}, "ioMetadata": {"inputs": [{"catalogName": "lake", "schema": "app_traffic", "table": "t"}]},
            "createTime": "2026-12-03T00:00:00Z", "endTime": "2026-12-03T00:00:01Z"}).encode()

    rates, n = [], args.rows
    for r in range(args.repeat):
        for i in range(r * n, (r + 1) * n):
            audit_receiver.spool(settings, event(i))
        t = time.perf_counter()
        added = audit_receiver.drain(settings)
        rates.append(n / (time.perf_counter() - t))
        assert added == n, added
    for i in range(n):  # re-sent: recognised by query id, nothing added
        audit_receiver.spool(settings, event(i))
    t = time.perf_counter()
    again = audit_receiver.drain(settings)
    dedupe_rate = n / (time.perf_counter() - t)
    assert again == 0 and audit.verify(settings).ok
    return {"events_per_batch": n, "drain_events_per_s_median": round(statistics.median(rates)), "runs": [round(x) for x in rates],
            "resent_events_per_s": round(dedupe_rate), "chain_entries": n * args.repeat}


def bench_lineage(args) -> dict:
    """`govlake lineage base.detections.plate_no --downstream` when the plate feeds N application
    tables (N contracts, 1 + N downstream edges of the column, 6 N + 12 edges in the store): the
    events go in through `lineage.ingest` as the receiver stores them, then the query (as the
    command runs it, levels propagated over the whole graph) is timed, median of --repeat; and the
    command itself once, as a process."""
    from govlake.context import Context
    from govlake.core.settings import Settings
    from govlake.governance import lineage

    work = Path(tempfile.mkdtemp(prefix="govlake-bench-"))
    settings = Settings(state_dir=work / "state")
    wh = settings.warehouse_root

    def event(out: str, out_path: str, inputs: dict[str, str], fields: dict, contract: dict | None = None) -> dict:
        sym = lambda name: {"symlinks": {"identifiers": [{"namespace": "govlake", "name": name, "type": "TABLE"}]}}  # noqa: E731
        facets = {**sym(out), "columnLineage": {"fields": {
            col: {"inputFields": [{"namespace": "file", "name": inputs[ds], "field": f,
                                   "transformations": [{"type": "DIRECT", "subtype": "TRANSFORMATION" if step != "identity" else "IDENTITY",
                                                        "description": step, "masking": step not in ("identity", "aggregation")}]}
                                  for ds, f, step in srcs]} for col, srcs in fields.items()}}}
        if contract:
            facets["govlake_contract"] = contract
        return {"eventType": "COMPLETE", "eventTime": datetime.now(timezone.utc).isoformat(), "producer": "bench",
                "run": {"runId": os.urandom(8).hex()}, "job": {"namespace": "govlake", "name": out},
                "inputs": [{"namespace": "file", "name": p, "facets": sym(n)} for n, p in inputs.items()],
                "outputs": [{"namespace": "file", "name": out_path, "facets": facets}]}

    deid = "analytic.detections_deidentified"
    events = [event(deid, f"{wh}/analytic/detections_deidentified", {"base.detections": f"{wh}/base/detections", "base.cameras": f"{wh}/base/cameras"}, {
        "plate_token": [("base.detections", "plate_no", "token")], "camera_id": [("base.detections", "camera_id", "identity")],
        "observed_hour": [("base.detections", "observed_at", "hour")], "region_code": [("base.cameras", "region_code", "identity")],
        "confidence": [("base.detections", "confidence", "identity")], "object_type": [("base.detections", "object_type", "identity")],
        "vehicle_color": [("base.detections", "vehicle_color", "identity")], "model_version": [("base.detections", "model_version", "identity")],
        "department": [("base.detections", "department", "identity")],
        "grid_cell": [("base.cameras", "longitude", "grid"), ("base.cameras", "latitude", "grid")],
        "detection_token": [("base.detections", "detection_id", "token")]})]
    for i in range(args.rows):
        events.append(event(f"app_d{i % 97}.t{i}", f"{wh}/application/app_d{i % 97}/t{i}__{i:016x}", {deid: f"{wh}/analytic/detections_deidentified"}, {
            "plate_token": [(deid, "plate_token", "token")], "camera_id": [(deid, "camera_id", "identity")],
            "observed_hour": [(deid, "observed_hour", "day")], "region_code": [(deid, "region_code", "identity")],
            "object_type": [(deid, "object_type", "identity")], "vehicle_color": [(deid, "vehicle_color", "identity")]},
            {"contract": f"c-{i:04d}", "consumer": f"d{i % 97}", "purpose": "traffic_management"}))
    t = time.perf_counter()
    for e in events:
        lineage.ingest(settings, e)
    ingest_s = time.perf_counter() - t
    times, result = [], None
    for _ in range(args.repeat):
        t = time.perf_counter()
        result = Context(settings).lineage("base.detections.plate_no", "downstream")
        times.append(time.perf_counter() - t)
    assert len(result["edges"]) == args.rows + 1 and len(result["contracts"]) == args.rows, (len(result["edges"]), len(result["contracts"]))
    env = {**os.environ, "GOVLAKE_STATE_DIR": str(settings.state)}
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "govlake", "lineage", "base.detections.plate_no", "--downstream", "--json"],
                          capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    cli_s = time.perf_counter() - t
    assert len(json.loads(done.stdout)["edges"]) == args.rows + 1
    return {"app_tables": args.rows, "downstream_edges": len(result["edges"]), "edges_in_store": len(lineage.edges(settings)),
            "events": len(events), "ingest_events_per_s": round(len(events) / ingest_s), "query_s_median": round(statistics.median(times), 3),
            "query_runs": [round(x, 3) for x in times], "command_process_s": round(cli_s, 2)}


def bench_erasure(args) -> dict:
    """`govlake erase` across all tiers: a base detections table of --rows rows (synthetic, 2,000
    cameras, 200,000 plates plus one subject seen --subject-rows times), the analytic tier built
    from it by govlake (tokens, flow, fairness) and the sample police contract's application
    table published, lineage captured as in production; then one erasure (identifier lookup,
    MERGE deletes, purge, vacuum, residue check over every table) timed by phase, against a
    baseline in the same session: another subject with as many rows removed by hand (a literal
    DELETE in each of the three tables, then VACUUM with no history kept)."""
    from pyspark.sql import functions as F

    from govlake.compliance import erasure
    from govlake.contracts import workflow
    from govlake.core.settings import Settings
    from govlake.domain import masking, schemas
    from govlake.pipeline import analytic, application
    from govlake.platform.secrets import token_key
    from govlake.platform.spark import get_spark

    work = Path(tempfile.mkdtemp(prefix="govlake-bench-"))
    settings = Settings(state_dir=work / "state")
    os.environ["GOVLAKE_STATE_DIR"] = str(settings.state)
    spark = get_spark(settings)
    key = token_key(settings)
    run_time = datetime(2026, 11, 21, 0, 5, tzinfo=timezone.utc)
    workflow.bootstrap_samples(settings, run_time)
    subject_plate, other_plate, n, k = "京A9Z7X1", "京B8Y6W2", args.rows, args.subject_rows
    t = time.perf_counter()
    for table in ("batch_log", "events", "quarantine"):
        lake.ensure_table(spark, settings, schemas.load_schema(settings, "base", table))
    cams = spark.range(2000).select(
        F.format_string("110105%04d132%07d", (F.col("id") % 50).cast("int"), F.col("id").cast("int")).alias("camera_id"),
        F.when(F.col("id") % 2 == 0, "police").otherwise("traffic").alias("department"), F.lit("cam").alias("name"),
        F.format_string("1101%02d", (F.col("id") % 16).cast("int")).alias("region_code"),
        (F.lit(116.2) + (F.col("id") % 40) * 0.01).alias("longitude"), (F.lit(39.8) + (F.col("id") % 50) * 0.01).alias("latitude"),
        F.lit("WGS-84").alias("source_crs"), F.lit("online").alias("status"), F.lit("bench").alias("source_file"), F.lit("b0").alias("batch_id"))
    cam_path = lake.ensure_table(spark, settings, schemas.load_schema(settings, "base", "cameras"))
    cams.write.format("delta").mode("append").save(cam_path)
    subject_ids = {int(i * (n / k)) + 2 for i in range(k)}  # police (even), motor vehicles (not a multiple of 5): shared by the contract
    other_ids = {int(i * (n / k)) + 4 for i in range(k)}  # the baseline's subject, alike
    ids = F.col("id")
    plate = F.when(ids.isin(sorted(subject_ids)), F.lit(subject_plate)).when(ids.isin(sorted(other_ids)), F.lit(other_plate)).otherwise(
        F.format_string("京%s%05d", F.substring(F.lit("ABCDEFGHJK"), (ids % 10 + 1).cast("int"), 1), ((ids * 7919) % 200000 % 100000).cast("int")))
    dets = spark.range(n, numPartitions=max(8, n // 1_250_000)).select(
        F.format_string("d%010d", ids).alias("detection_id"), F.when(ids % 2 == 0, "police").otherwise("traffic").alias("department"),
        F.format_string("110105%04d132%07d", ((ids % 2000) % 50).cast("int"), (ids % 2000).cast("int")).alias("camera_id"),
        (F.lit(datetime(2026, 11, 20).timestamp()) + (ids % 86400)).cast("timestamp").alias("observed_at"),
        F.when(ids % 5 == 0, "person").otherwise("motor_vehicle").alias("object_type"), ((ids % 1000) / 1000.0).alias("confidence"),
        (ids % 1900).cast("int").alias("bbox_x"), (ids % 1000).cast("int").alias("bbox_y"), F.lit(64).alias("bbox_w"), F.lit(48).alias("bbox_h"),
        plate.alias("plate_no"), F.lit("white").alias("vehicle_color"), F.lit("m1").alias("model_version"),
        F.format_string("img://%d", ids).alias("image_ref"), F.lit("bench").alias("source_file"), F.lit("b0").alias("batch_id"))
    det_path = lake.ensure_table(spark, settings, schemas.load_schema(settings, "base", "detections"))
    dets.write.format("delta").mode("append").save(det_path)
    base_s = time.perf_counter() - t
    t = time.perf_counter()
    analytic.build(spark, settings, key)
    published, refused = application.publish(spark, settings, workflow.refresh_active(settings, run_time), key, run_time)
    assert not refused, refused
    build_s = time.perf_counter() - t
    token = erasure.subject_token(subject_plate, key)
    det = spark.read.format("delta").load(det_path)
    t = time.perf_counter()
    baseline_rows = det.where(F.col("plate_no") == subject_plate).count()
    scan_s = time.perf_counter() - t
    # baseline: what a hand-written job does for the other subject, knowing its three tables and
    # values: DELETE by literal in each, then VACUUM keeping no history (no lookup, no checks)
    from delta.tables import DeltaTable

    from govlake.compliance.retention import LISTING_PARALLELISM, RETENTION_CHECK
    from govlake.platform.secrets import contract_key

    other_token = erasure.subject_token(other_plate, key)
    police = next(p for p in published if p.contract == "police-to-traffic-vehicle-sightings")
    by_hand = [(det_path, f"plate_no = '{other_plate}'"),
               (lake.table_path(settings, "analytic", "detections_deidentified"), f"plate_token = '{other_token}'"),
               (police.path, f"plate_token = '{masking.token_py(other_token, contract_key(key, police.contract))}'")]
    spark.conf.set(RETENTION_CHECK, "false")
    # the same file-listing parallelism govlake's purge sets (Spark's default makes each VACUUM ~40 s here)
    spark.conf.set(LISTING_PARALLELISM, str(spark.sparkContext.defaultParallelism))
    t = time.perf_counter()
    for path, predicate in by_hand:
        table = DeltaTable.forPath(spark, path)
        table.delete(predicate)
        table.vacuum(0.0)
    baseline_s = time.perf_counter() - t
    spark.conf.unset(RETENTION_CHECK)
    spark.conf.unset(LISTING_PARALLELISM)
    t = time.perf_counter()
    report = erasure.erase(spark, settings, token, request="bench")
    erase_s = time.perf_counter() - t
    assert report.complete and report.tables["base.detections"]["rows_deleted"] == baseline_rows == k, report.as_dict()
    after = spark.read.format("delta").load(det_path)
    assert masking.keyed(after, key).where(masking.token(F.col("plate_no"), key) == token).count() == 0 and after.count() == n - 2 * k
    return {"detections": n, "subject_rows": k, "base_write_s": round(base_s, 1), "analytic_and_publish_s": round(build_s, 1),
            "app_tables": {p.table: p.rows for p in published},
            "full_scan_count_s": round(scan_s, 1), "baseline_delete_vacuum_by_hand_s": round(baseline_s, 1), "erase_total_s": round(erase_s, 1),
            "ratio_erase_to_baseline": round(erase_s / baseline_s, 2),
            "per_table": {name: {"deleted": e.get("rows_deleted"), "redacted": e.get("rows_redacted"), "files_removed": e.get("files_removed"),
                                 "s": e.get("seconds")} for name, e in report.tables.items()},
            "residue": report.residue, "not_erased": list(report.not_erased), "phase_s": report.phases}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["dagbag", "masking", "contracts", "audit", "lineage", "erasure", "receiver"])
    p.add_argument("--subject-rows", type=int, default=100, help="erasure: detections of the erased subject")
    p.add_argument("--sample", type=int, default=3000, help="masking: rows Presidio analyses per cell")
    p.add_argument("--departments", type=int, default=100)
    p.add_argument("--rows", type=int, default=10000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    result = {"dagbag": bench_dagbag, "masking": bench_masking, "contracts": bench_contracts, "audit": bench_audit,
              "lineage": bench_lineage, "erasure": bench_erasure, "receiver": bench_receiver}[args.what](args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
