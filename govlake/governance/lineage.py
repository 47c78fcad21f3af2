"""Lineage: OpenLineage run events in, dataset and column edges out.

- `ingest(settings, event)` stores one OpenLineage RunEvent as received (table `lineage_events`)
  and, for a COMPLETE event, replaces the edges its job wrote into each output dataset with the
  ones the event describes (`lineage_dataset_edges`, `lineage_column_edges` from the `columnLineage` facet). The
  audit receiver calls it for `POST /api/v1/lineage`; events from any OpenLineage producer work.
- Datasets are named logically (`base.detections`, `app_traffic.police_vehicle_sightings`): from a
  `symlinks` identifier in namespace `govlake`, else from the warehouse path.
- `walk` follows column edges downstream or upstream; how classification levels travel along
  them is domain knowledge (govlake/domain/levels.py), not the record's.
"""
from __future__ import annotations

import json
from collections import defaultdict, deque
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

import sqlalchemy as sa

from govlake.core.errors import GovlakeError
from govlake.core.settings import Settings
from govlake.governance import store
from govlake.platform import storage

SYMLINK_NAMESPACE = "govlake"


class LineageEventError(GovlakeError):
    """An event the receiver cannot accept (answered 400, with this message)."""


@dataclass(frozen=True)
class Edge:
    in_dataset: str
    in_column: str
    out_dataset: str
    out_column: str
    transformation: str = "identity"  # identity | masking methods | aggregation | derived, '+'-joined in order
    subtype: str = "IDENTITY"
    masking: bool = False
    contract: str | None = None
    consumer: str | None = None
    job: str = ""

    @property
    def source(self) -> tuple[str, str]:
        return self.in_dataset, self.in_column

    @property
    def target(self) -> tuple[str, str]:
        return self.out_dataset, self.out_column

    def as_dict(self) -> dict:
        return asdict(self)


# --- naming -------------------------------------------------------------------------------------

def logical_name(settings: Settings, path: str) -> str | None:
    """`base.detections` for `<warehouse>/base/detections`; `app_x.t` for `<warehouse>/application/app_x/t__<hash>`."""
    root, p = storage.canonical(settings.warehouse_root), storage.canonical(path)
    if not p.startswith(root + "/"):
        return None
    parts = p[len(root) + 1:].split("/")
    if parts[0] == "application" and len(parts) == 3:
        return f"{parts[1]}.{parts[2].split('__')[0]}"
    if len(parts) == 2 and parts[0] in ("base", "analytic", "governance"):
        return f"{parts[0]}.{parts[1]}"
    return None


def dataset_name(settings: Settings, dataset: dict) -> str:
    for ident in ((dataset.get("facets") or {}).get("symlinks") or {}).get("identifiers") or []:
        if ident.get("namespace") == SYMLINK_NAMESPACE and ident.get("name"):
            return ident["name"]
    ns, name = dataset.get("namespace", ""), dataset.get("name", "")
    return logical_name(settings, name) or f"{ns}:{name}"


# --- events in ----------------------------------------------------------------------------------

def _require(event: dict, *path: str):
    node = event
    for key in path:
        if not isinstance(node, dict) or not node.get(key):
            raise LineageEventError(f"OpenLineage event lacks `{'.'.join(path)}`; send a RunEvent (https://openlineage.io/spec)")
        node = node[key]
    return node


def edges_of(settings: Settings, event: dict) -> dict[str, tuple[list[str], list[Edge]]]:
    """Output dataset -> (input datasets, column edges) described by one COMPLETE event."""
    job = f"{event['job']['namespace']}.{event['job']['name']}"
    inputs = event.get("inputs") or []
    names = {(d.get("namespace"), d.get("name")): dataset_name(settings, d) for d in inputs}
    out: dict[str, tuple[list[str], list[Edge]]] = {}
    for ds in event.get("outputs") or []:
        name = dataset_name(settings, ds)
        facets = ds.get("facets") or {}
        contract = facets.get("govlake_contract") or {}
        edges = []
        for column, spec in ((facets.get("columnLineage") or {}).get("fields") or {}).items():
            for f in spec.get("inputFields") or []:
                trans = f.get("transformations") or [{"type": "DIRECT", "subtype": "IDENTITY"}]
                direct = [t for t in trans if t.get("type", "DIRECT") == "DIRECT"]
                if not direct:
                    continue  # INDIRECT (filter, join, group by): shapes rows, carries no values
                steps = [t.get("description") or t.get("subtype", "transformation").lower() for t in direct]
                subtypes = {t.get("subtype", "TRANSFORMATION") for t in direct}
                in_name = names.get((f.get("namespace"), f.get("name"))) or dataset_name(settings, f)
                edges.append(Edge(
                    in_name, f["field"], name, column, "+".join(steps),
                    "AGGREGATION" if "AGGREGATION" in subtypes else ("IDENTITY" if subtypes == {"IDENTITY"} else "TRANSFORMATION"),
                    any(t.get("masking") for t in direct), contract.get("contract"), contract.get("consumer"), job,
                ))
        out[name] = (sorted(set(names.values())), edges)
    return out


def ingest(settings: Settings, event: dict, received_at: datetime | None = None) -> int:
    """Store one RunEvent; a COMPLETE event replaces its outputs' edges (unless a newer event did)."""
    if not isinstance(event, dict):
        raise LineageEventError("an OpenLineage event is a JSON object")
    etype = _require(event, "eventType")
    when = _require(event, "eventTime")
    run_id = _require(event, "run", "runId")
    _require(event, "job", "namespace"), _require(event, "job", "name")
    job = f"{event['job']['namespace']}.{event['job']['name']}"
    described = edges_of(settings, event) if etype == "COMPLETE" else {}
    with store.engine(settings).begin() as conn:
        res = conn.execute(store.lineage_events.insert().values(
            received_at=received_at or datetime.now(timezone.utc), event_time=str(when), event_type=str(etype),
            run_id=str(run_id), job=job, producer=str(event.get("producer", "")), payload=json.dumps(event, ensure_ascii=False),
        ))
        for out, (ins, edges) in described.items():
            newer = conn.execute(sa.select(sa.func.max(store.lineage_dataset_edges.c.event_time)).where(
                store.lineage_dataset_edges.c.out_dataset == out, store.lineage_dataset_edges.c.job == job)).scalar()
            if newer is not None and _instant(newer) > _instant(str(when)):
                continue
            _replace(conn, out, ins, edges, job, str(run_id), str(when))
        return res.inserted_primary_key[0]


def _instant(value: str) -> datetime:
    t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _replace(conn, out: str, ins: list[str], edges: list[Edge], job: str, run_id: str, when: str) -> None:
    """The edges `job` writes into `out` replace that job's earlier ones (several jobs may write one
    dataset: each department's ingest writes base.detections)."""
    d, c = store.lineage_dataset_edges.c, store.lineage_column_edges.c
    conn.execute(store.lineage_dataset_edges.delete().where(d.out_dataset == out, d.job == job))
    conn.execute(store.lineage_column_edges.delete().where(c.out_dataset == out, c.job == job))
    if ins:
        conn.execute(store.lineage_dataset_edges.insert(), [
            {"out_dataset": out, "in_dataset": i, "job": job, "run_id": run_id, "event_time": when} for i in ins])
    unique = {(e.out_column, e.in_dataset, e.in_column): e for e in edges}
    if unique:
        conn.execute(store.lineage_column_edges.insert(), [
            {**e.as_dict(), "run_id": run_id, "event_time": when} for e in unique.values()])


def retire(settings: Settings, datasets: list[str]) -> int:
    """Forget the edges into datasets that no longer exist (a retracted application table); the
    raw events stay. Returns the column edges removed."""
    if not datasets:
        return 0
    with store.engine(settings).begin() as conn:
        conn.execute(store.lineage_dataset_edges.delete().where(store.lineage_dataset_edges.c.out_dataset.in_(datasets)))
        return conn.execute(store.lineage_column_edges.delete().where(store.lineage_column_edges.c.out_dataset.in_(datasets))).rowcount


# --- graph --------------------------------------------------------------------------------------

def edges(settings: Settings) -> list[Edge]:
    c = store.lineage_column_edges.c
    cols = [c.in_dataset, c.in_column, c.out_dataset, c.out_column, c.transformation, c.subtype, c.masking, c.contract, c.consumer, c.job]
    with store.engine(settings).connect() as conn:
        return [Edge(*row) for row in conn.execute(sa.select(*cols))]


def datasets(settings: Settings) -> set[str]:
    with store.engine(settings).connect() as conn:
        rows = conn.execute(sa.select(store.lineage_dataset_edges.c.out_dataset, store.lineage_dataset_edges.c.in_dataset)).all()
    return {d for row in rows for d in row}


def walk(all_edges: list[Edge], start: list[tuple[str, str]], direction: str = "downstream") -> list[tuple[int, Edge]]:
    """Breadth-first edges reachable from `start` columns: (depth, edge), each edge once."""
    index: dict[tuple[str, str], list[Edge]] = defaultdict(list)
    for e in all_edges:
        index[e.source if direction == "downstream" else e.target].append(e)
    seen_nodes, seen_edges, out = set(start), set(), []
    queue = deque((node, 1) for node in start)
    while queue:
        node, depth = queue.popleft()
        for e in index.get(node, []):
            if e in seen_edges:
                continue
            seen_edges.add(e)
            out.append((depth, e))
            nxt = e.target if direction == "downstream" else e.source
            if nxt not in seen_nodes:
                seen_nodes.add(nxt)
                queue.append((nxt, depth + 1))
    return out


def parse_target(target: str) -> tuple[str, str | None]:
    """`tier.table[.column]` or `app_x.table[.column]` -> (dataset, column or None)."""
    parts = target.split(".")
    if len(parts) == 2:
        return target, None
    if len(parts) == 3:
        return f"{parts[0]}.{parts[1]}", parts[2]
    raise GovlakeError(f"`{target}` is not TABLE or TABLE.COLUMN; write it as e.g. base.detections.plate_no")
