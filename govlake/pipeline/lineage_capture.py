"""Column lineage of a Spark write, read from the DataFrame's analysed plan, sent as an
OpenLineage RunEvent (with the `columnLineage` facet) to govlake's receiver.

Every output column is traced through the plan to the columns of the tables it was read from.
The transformation on the way is named: `identity` (the value passes through, casts included),
the masking method (the column expression carries `govlake.masking` metadata, set by
`govlake.domain.masking.mark`), `aggregation`, or `derived` (any other expression). Only DIRECT
lineage is recorded; filters, joins and grouping shape rows but carry no values.

Events go to the receiver (`POST /api/v1/lineage`, bearer token) when it runs; otherwise they are
written to the governance store directly, so a job run without the services loses nothing.
"""
from __future__ import annotations

import json
import logging
import urllib.request
import uuid
from datetime import datetime, timezone

from pyspark.sql import DataFrame

from govlake.core.settings import Settings
from govlake.domain.masking import MASK_KEY
from govlake.governance import lineage
from govlake.platform import lake
from govlake.services import audit_receiver

log = logging.getLogger("govlake.lineage")

PRODUCER = "urn:govlake:spark-jobs"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
COLUMN_LINEAGE_URL = "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet"
SYMLINKS_URL = "https://openlineage.io/spec/facets/1-0-1/SymlinksDatasetFacet.json#/$defs/SymlinksDatasetFacet"
SCHEMA_FACET_URL = "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"


def _seq(s) -> list:
    return [s.apply(i) for i in range(s.size())]


def _cls(node) -> str:
    return node.getClass().getSimpleName()


def _strip_casts(e):
    while _cls(e) in ("Cast", "AnsiCast", "TryCast"):
        e = e.child()
    return e


def _has_aggregate(e) -> bool:
    return _cls(e) == "AggregateExpression" or any(_has_aggregate(c) for c in _seq(e.children()))


def _relation_path(node) -> str | None:
    try:
        location = node.relation().location()
    except Exception:  # noqa: BLE001 - not a file-based relation
        return None
    try:
        return str(location.path())  # Delta's log file index: the table root
    except Exception:  # noqa: BLE001
        roots = [str(p) for p in _seq(location.rootPaths())]
        return roots[0] if len(roots) == 1 else None


def column_origins(df: DataFrame) -> dict[str, set[tuple[str, str, tuple[str, ...]]]]:
    """Output column -> {(source table path, source column, transformation steps)}."""
    origins: dict[int, set[tuple[str, str, tuple[str, ...]]]] = {}

    def visit(node) -> None:
        children = _seq(node.children())
        for child in children:
            visit(child)
        kind = _cls(node)
        if kind == "LogicalRelation":
            path = _relation_path(node)
            if path:
                for a in _seq(node.output()):
                    origins[a.exprId().id()] = {(path.removeprefix("file:"), a.name(), ())}
            return
        if kind == "Union":
            outs = [_seq(c.output()) for c in children]
            for i, a in enumerate(_seq(node.output())):
                origins[a.exprId().id()] = set().union(*(origins.get(o[i].exprId().id(), set()) for o in outs))
            return
        for e in _seq(node.expressions()):
            if _cls(e) != "Alias":
                continue
            child = e.child()
            refs = [r.exprId().id() for r in _seq(child.references().toSeq())]
            if _cls(_strip_casts(child)) in ("AttributeReference", "Attribute"):
                step = None
            elif e.metadata().contains(MASK_KEY):
                step = e.metadata().getString(MASK_KEY)
            else:
                step = "aggregation" if _has_aggregate(child) else "derived"
            origins[e.exprId().id()] = {(p, c, steps + ((step,) if step else ())) for r in refs for (p, c, steps) in origins.get(r, ())}

    plan = df._jdf.queryExecution().analyzed()
    visit(plan)
    return {a.name(): origins.get(a.exprId().id(), set()) for a in _seq(plan.output())}


def edges(settings: Settings, df: DataFrame, out_path: str, out_name: str | None = None, contract: dict | None = None) -> list[lineage.Edge]:
    """The column edges a write of `df` to `out_path` creates (named logically where possible)."""
    out_name = out_name or lineage.logical_name(settings, out_path) or out_path
    result = []
    for column, sources in column_origins(df).items():
        for path, source_column, steps in sorted(sources):
            transformation = "+".join(steps) or "identity"
            subtype = "AGGREGATION" if "aggregation" in steps else ("IDENTITY" if not steps else "TRANSFORMATION")
            masking = any(s not in ("aggregation", "derived") for s in steps)
            result.append(lineage.Edge(lineage.logical_name(settings, path) or path, source_column, out_name, column, transformation,
                                       subtype, masking, (contract or {}).get("contract"), (contract or {}).get("consumer")))
    return result


def _physical(settings: Settings, name: str) -> str:
    """The path of an input named by `edges`: a tier table's logical name, else the path itself."""
    tier, _, table = name.partition(".")
    if tier in ("base", "analytic", "governance") and table and "/" not in name:
        return lake.table_path(settings, tier, table).removeprefix("file:")
    return name


def _dataset(settings: Settings, path: str, facets: dict | None = None) -> dict:
    facets = dict(facets or {})
    name = lineage.logical_name(settings, path)
    if name:
        facets["symlinks"] = {"_producer": PRODUCER, "_schemaURL": SYMLINKS_URL,
                              "identifiers": [{"namespace": lineage.SYMLINK_NAMESPACE, "name": name, "type": "TABLE"}]}
    return {"namespace": "file", "name": path, "facets": facets}


def run_event(settings: Settings, job: str, df: DataFrame, out_path: str, found: list[lineage.Edge], *,
              contract: dict | None = None, run_id: str | None = None, at: datetime | None = None) -> dict:
    """One OpenLineage COMPLETE RunEvent for the write of `df` to `out_path` with the column
    edges `found` (from `edges`, so the plan is walked once per write)."""
    by_name = {e.in_dataset: _physical(settings, e.in_dataset) for e in found}
    paths = set(by_name.values())
    fields: dict[str, dict] = {}
    for e in found:
        fields.setdefault(e.out_column, {"inputFields": []})["inputFields"].append({
            "namespace": "file", "name": by_name.get(e.in_dataset, e.in_dataset), "field": e.in_column,
            "transformations": [{"type": "DIRECT", "subtype": e.subtype, "description": e.transformation, "masking": e.masking}],
        })
    out_facets = {
        "schema": {"_producer": PRODUCER, "_schemaURL": SCHEMA_FACET_URL,
                   "fields": [{"name": f.name, "type": f.dataType.simpleString()} for f in df.schema.fields]},
        "columnLineage": {"_producer": PRODUCER, "_schemaURL": COLUMN_LINEAGE_URL, "fields": fields},
    }
    if contract:
        out_facets["govlake_contract"] = {"_producer": PRODUCER, "_schemaURL": "urn:govlake:facets:contract", **contract}
    return {
        "eventType": "COMPLETE",
        "eventTime": (at or datetime.now(timezone.utc)).isoformat(),
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": run_id or str(uuid.uuid4()), "facets": {}},
        "job": {"namespace": "govlake", "name": job, "facets": {}},
        "inputs": [_dataset(settings, p) for p in sorted(paths)],
        "outputs": [_dataset(settings, out_path.removeprefix("file:"), out_facets)],
    }


def mapping_event(settings: Settings, job: str, inputs: dict[str, str], out_path: str,
                  fields: dict[str, list[tuple[str, str, str]]], *, at: datetime | None = None) -> dict:
    """A COMPLETE RunEvent for a write whose column lineage is declared rather than read from a
    plan (the ingest's mapping from a department's fields): `inputs` logical name -> location,
    `fields` output column -> [(input name, input field, transformation)]."""
    out_fields = {col: {"inputFields": [{"namespace": "file", "name": inputs[ds], "field": f, "transformations": [
        {"type": "DIRECT", "subtype": "IDENTITY" if step == "identity" else "TRANSFORMATION", "description": step, "masking": False}]}
        for ds, f, step in srcs]} for col, srcs in fields.items()}
    sym = lambda name: {"symlinks": {"_producer": PRODUCER, "_schemaURL": SYMLINKS_URL,  # noqa: E731
                                     "identifiers": [{"namespace": lineage.SYMLINK_NAMESPACE, "name": name, "type": "TABLE"}]}}
    return {
        "eventType": "COMPLETE", "eventTime": (at or datetime.now(timezone.utc)).isoformat(), "producer": PRODUCER, "schemaURL": SCHEMA_URL,
        "run": {"runId": str(uuid.uuid4()), "facets": {}}, "job": {"namespace": "govlake", "name": job, "facets": {}},
        "inputs": [{"namespace": "file", "name": path, "facets": sym(name)} for name, path in sorted(inputs.items())],
        "outputs": [_dataset(settings, out_path.removeprefix("file:"), {
            "columnLineage": {"_producer": PRODUCER, "_schemaURL": COLUMN_LINEAGE_URL, "fields": out_fields}})],
    }


def emit(settings: Settings, event: dict) -> str:
    """Send to the receiver if it runs ('receiver'); else store directly ('store')."""

    port = audit_receiver.running_port(settings)
    if port is not None:
        req = urllib.request.Request(
            f"{audit_receiver.url(port)}{audit_receiver.LINEAGE_PATH}", data=json.dumps(event).encode(), method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {audit_receiver.lineage_token(settings)}"})
        try:
            with urllib.request.urlopen(req, timeout=30, context=audit_receiver.client_context(settings)) as resp:
                if 200 <= resp.status < 300:
                    return "receiver"
        except OSError as exc:
            log.warning("lineage receiver unreachable (%s); storing the event directly", exc)
    lineage.ingest(settings, event)
    return "store"


def record_write(settings: Settings, job: str, df: DataFrame, out_path: str, found: list[lineage.Edge] | None = None,
                 contract: dict | None = None) -> list[lineage.Edge]:
    """Emit the lineage of a completed write of `df` to `out_path`; returns its column edges."""
    found = found if found is not None else edges(settings, df, out_path, contract=contract)
    emit(settings, run_event(settings, job, df, out_path, found, contract=contract))
    return found
