"""Trino's file-based access rules, compiled from the active contracts and the identity registry.

The rules are the second wall behind the application tier (which already holds only what a
contract grants): first match wins, no match denies.

- operators (the platform and the ETL account) may do everything;
- nobody else reads metadata tables (`t$history`, `t$partitions` with per-column min/max,
  `t$files`, `t$properties`, ...), runs procedures or table functions (`system.table_changes`),
  writes, or reads the `system` catalog;
- nobody else runs table procedures (`ALTER TABLE ... EXECUTE optimize`): file-based rules have
  no privilege for them, but Trino refuses them on a table the user reads through a row filter,
  so every rule that is not an operator's carries one (`true` where nothing else applies);
- compliance officers read every tier and the governance tables (audit log, contracts and their
  history), to review what personal data went where;
- a steward reads their own department's rows of base and analytic tables, only of tables
  partitioned by department (so a steward's query, its statistics and its scan never touch
  another department's files), and the application tables their department provides or receives;
- an analyst reads only the application tables of contracts active for their department, only
  the granted columns (Trino's rules can only deny by name, so every other column any analytic
  dataset has, and any column a table published for the contract still holds, is denied: a table
  published under an earlier specification shows nothing the current one does not grant), with
  hidden columns (`$path`, ...) denied, each masked column re-checked by a mask that nulls any
  value not in masked form, and the contract's row filter repeated;
- every application-table rule carries the contract's validity window in its filter: at
  `valid_to` the table stops answering (the query fails naming the contract) without any job
  running.

`write_rules` replaces the file atomically; Trino re-reads it every `REFRESH_PERIOD`.
"""
from __future__ import annotations

import json
import logging
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from govlake.contracts import filters
from govlake.contracts.spec import ContractSpec
from govlake.core import private
from govlake.core.settings import Settings
from govlake.domain import identities, schemas
from govlake.platform import lake, storage

log = logging.getLogger("govlake.access")

REFRESH_PERIOD = "1s"
HIDDEN_COLUMNS = ("$path", "$file_size", "$file_modified_time", "$partition")
ALL_PRIVILEGES = ["SELECT", "INSERT", "DELETE", "UPDATE", "OWNERSHIP", "GRANT_SELECT"]

# Trino expressions that pass a value already in masked form and null anything else: if a
# publish bug ever wrote a raw value, the analyst still sees NULL.
CONFORMANCE = {
    # `<key id>_<64 hex>`: shape checked with string arithmetic, cheaper than a regex per row
    "token": "CASE WHEN strpos({c}, '_') BETWEEN 2 AND 12 AND length({c}) = strpos({c}, '_') + 64 THEN {c} END",
    "mask_plate": "CASE WHEN regexp_like({c}, '^.{{2}}\\*+.{{2}}$') OR {c} = '***' THEN {c} END",
    "mask_phone": "CASE WHEN regexp_like({c}, '^[0-9]{{3}}\\*{{4}}[0-9]{{4}}$') OR {c} = '***' THEN {c} END",
    "mask_id_number": "CASE WHEN regexp_like({c}, '^[0-9]{{6}}\\**$') THEN {c} END",
    "hour": "date_trunc('hour', {c})",
    "day": "date_trunc('day', {c})",
    "age_band": "CASE WHEN regexp_like({c}, '^[0-9]+-[0-9]+$') THEN {c} END",
}


def rules_path(settings: Settings) -> Path:
    return settings.state / "trino" / "etc" / "rules.json"


def _group(*names: str) -> str:
    return "|".join(sorted(set(names)))


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _timestamp(t: datetime) -> str:
    return "TIMESTAMP '" + t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC'"


def window_filter(spec: ContractSpec) -> str:
    """True inside the contract's validity window; outside it, any row read fails the query with
    a message naming the contract (Trino never folds `fail` away, and `current_timestamp` is the
    query's start)."""
    message = (f"contract `{spec.id}` grants `{spec.consumer_schema}.{spec.table}` only from {spec.valid_from.isoformat()} "
               f"to {spec.valid_to.isoformat()}").replace("'", "")
    return (f"CASE WHEN current_timestamp >= {_timestamp(spec.valid_from)} AND current_timestamp < {_timestamp(spec.valid_to)} "
            f"THEN true ELSE fail('{message}') END")


def known_columns(settings: Settings) -> set[str]:
    """Every column any analytic dataset has: what an application table, of any specification,
    could hold."""
    out: set[str] = set()
    for path in sorted(settings.path("schemas", "analytic").glob("*.yaml")):
        out |= set(schemas.load_schema(settings, "analytic", path.stem).names())
    return out


def delta_columns(settings: Settings, table: str) -> set[str]:
    """The columns of the Delta table at `table` (a local folder or an object-store location),
    from the newest schema in its log."""
    files = storage.list_files(settings, f"{table}/_delta_log")
    for commit in sorted((f for f in files if f.endswith(".json")), reverse=True):
        for line in (storage.read_bytes(settings, commit) or b"").decode("utf-8").splitlines():
            if '"metaData"' in line:
                return {f["name"] for f in json.loads(json.loads(line)["metaData"]["schemaString"])["fields"]}
    for checkpoint in sorted((f for f in files if ".checkpoint" in storage.name(f) and f.endswith(".parquet")), reverse=True):
        import pyarrow as pa
        import pyarrow.parquet as pq

        data = storage.read_bytes(settings, checkpoint)
        for meta in pq.read_table(pa.BufferReader(data), columns=["metaData"]).column("metaData").to_pylist() if data else ():
            if meta:
                return {f["name"] for f in json.loads(meta["schemaString"])["fields"]}
    return set()


def published_columns(settings: Settings, spec: ContractSpec) -> set[str]:
    """Columns of every table published under any specification of `spec`'s application table
    that is still in the warehouse, so a column dropped from the schema files since is denied
    all the same."""
    root = lake.table_path(settings, "application", spec.consumer_schema)
    return set().union(*(delta_columns(settings, d) for d in storage.child_dirs(settings, root)
                         if storage.name(d).startswith(f"{spec.table}__")))


def _denied(granted: set[str], known: set[str]) -> list[dict]:
    """Hidden columns and every known column not granted, by name: the rule is an allow-list."""
    return [{"name": c, "allow": False} for c in (*HIDDEN_COLUMNS, *sorted(set(known) - granted))]


def analyst_rule(catalog: str, spec: ContractSpec, known: set[str] = frozenset()) -> dict:
    """The table rule that lets the consumer department read one contract's application table:
    the granted columns only (everything else in `known` denied), conformance masks, the window."""
    granted = {c.name for c in spec.columns if c.masking != "suppress"}
    columns = _denied(granted, known) + [
        {"name": c.name, "mask": CONFORMANCE[c.masking].format(c=_q(c.name))} for c in spec.columns if c.masking in CONFORMANCE]
    conditions = [window_filter(spec)]
    if spec.row_filter:
        tree = filters.validate(spec.row_filter, None)  # parsed once; never pasted
        if filters.columns_of(tree) <= granted:
            conditions.append(filters.to_sql(tree, "trino"))
    return {
        "group": _group(f"team_{spec.consumer}_analyst", f"team_{spec.consumer}_steward"),
        "catalog": catalog,
        "schema": spec.consumer_schema,
        "table": spec.table,
        "privileges": ["SELECT"],
        "columns": columns,
        "filter": " AND ".join(f"({c})" for c in conditions),
    }


def provider_rule(catalog: str, spec: ContractSpec, known: set[str] = frozenset()) -> dict:
    """The provider's steward sees what their department shares: the same columns, in the window."""
    granted = {c.name for c in spec.columns if c.masking != "suppress"}
    return {
        "group": f"team_{spec.provider}_steward", "catalog": catalog, "schema": spec.consumer_schema, "table": spec.table,
        "privileges": ["SELECT"],
        "columns": _denied(granted, known),
        "filter": window_filter(spec),
    }


def unique_targets(active: list[ContractSpec]) -> list[ContractSpec]:
    """The contracts whose application table no other active contract names. The workflow refuses
    a second open contract on one table; should a store still hold two, neither is granted."""
    counts = Counter((s.consumer_schema, s.table) for s in active)
    clashing = sorted(s.id for s in active if counts[(s.consumer_schema, s.table)] > 1)
    if clashing:
        log.error("contracts %s publish the same application table; none of them is granted until all but one end", clashing)
    return [s for s in active if counts[(s.consumer_schema, s.table)] == 1]


def compile_rules(settings: Settings, active: list[ContractSpec]) -> dict:
    cat = settings.trino_catalog
    registry = identities.load(settings)
    departments = sorted({i.department for i in registry.identities if i.role.value in ("steward", "analyst")})
    operators = [i.user for i in registry.identities if i.role.value == "operator"]
    tables: list[dict] = [
        {"group": "role_operator", "privileges": ALL_PRIVILEGES},
        # metadata tables of every table, for everyone else
        {"catalog": ".*", "table": r".*\$.*", "privileges": []},
        {"group": "role_compliance", "catalog": cat, "schema": "base|analytic|app_.*|governance", "privileges": ["SELECT"],
         "filter": "true"},
    ]
    # stewards: their own department's rows of the base and analytic tables partitioned by
    # department (physically apart: nothing of another department is scanned or estimated)
    dept_tables = []
    for tier in ("base", "analytic"):
        for path in sorted(settings.path("schemas", tier).glob("*.yaml")):
            schema = schemas.load_schema(settings, tier, path.stem)
            if schema.partitioned_by == ["department"]:
                dept_tables.append((tier, schema.table))
    for dept in departments:
        for tier, table in dept_tables:
            tables.append({
                "group": f"team_{dept}_steward", "catalog": cat, "schema": tier, "table": table,
                "privileges": ["SELECT"], "filter": f"department = '{dept}'",
                "columns": [{"name": h, "allow": False} for h in HIDDEN_COLUMNS],
            })
    known = known_columns(settings)
    for spec in sorted(unique_targets(active), key=lambda s: s.id):
        try:
            seen = known | published_columns(settings, spec)
            pair = [analyst_rule(cat, spec, seen), provider_rule(cat, spec, seen)]
        except Exception as exc:  # noqa: BLE001 - one broken contract is not granted; the others' rules still change
            log.error("contract %s is not granted: its rule cannot be compiled (%s: %s)", spec.id, type(exc).__name__, str(exc)[:300])
            continue
        tables += pair
    for rule in tables[1:]:
        if rule.get("privileges") and "filter" not in rule:
            raise AssertionError(f"rule {rule} grants without a row filter: it would let its users run table procedures")
    return {
        "catalogs": [
            {"group": "role_operator", "allow": "all"},
            {"group": "role_compliance|role_steward|role_analyst", "catalog": cat, "allow": "read-only"},
            {"catalog": ".*", "allow": "none"},
        ],
        "schemas": [{"group": "role_operator", "owner": True}, {"owner": False}],
        "tables": tables,
        "functions": [{"group": "role_operator", "privileges": ["EXECUTE", "GRANT_EXECUTE", "OWNERSHIP"]}],
        "procedures": [{"group": "role_operator", "privileges": ["EXECUTE", "GRANT_EXECUTE"]}],
        "queries": [{"group": "role_operator", "allow": ["execute", "view", "kill"]}, {"allow": ["execute"]}],
        "system_information": [{"user": "|".join(operators) or "^$", "allow": ["read", "write"]}],
        "system_session_properties": [{"group": "role_operator", "allow": True}, {"allow": False}],
        "catalog_session_properties": [{"group": "role_operator", "allow": True}, {"allow": False}],
    }


def write_rules(settings: Settings, active: list[ContractSpec]) -> dict:
    """Compile the rules for the `active` contracts and atomically replace the rules file;
    returns the compiled rules and timing."""
    t0 = time.perf_counter()
    rules = compile_rules(settings, active)
    path = rules_path(settings)
    private.private_dir(path.parent)
    private.write_private(path, json.dumps(rules, indent=1, ensure_ascii=False))
    return {"path": str(path), "contracts": len(active), "rules": len(rules["tables"]), "seconds": time.perf_counter() - t0}
