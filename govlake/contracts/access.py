"""Trino's file-based access rules, compiled from the active contracts and the identity registry.

The rules are the second wall behind the application tier (which already holds only what a
contract grants): first match wins, no match denies.

- operators (the platform and the ETL account) may do everything;
- nobody else reads metadata tables (`t$history`, `t$partitions` with per-column min/max,
  `t$files`, `t$properties`, ...), runs procedures or table functions (`system.table_changes`),
  writes, or reads the `system` catalog;
- compliance officers read every tier and the governance tables (audit log, contracts and their
  history), to review what personal data went where;
- a steward reads their own department's rows of base and analytic tables, and the
  application tables their department provides or receives;
- an analyst reads only the application tables of contracts active for their department, only
  the granted columns, with hidden columns (`$path`, ...) denied, each masked column re-checked by
  a mask that nulls any value not in masked form, and the contract's row filter repeated.

`write_rules` replaces the file atomically; Trino re-reads it every `REFRESH_PERIOD`.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from govlake import identities, schemas
from govlake.contracts import filters
from govlake.contracts.spec import ContractSpec
from govlake.settings import Settings

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


def analyst_rule(catalog: str, spec: ContractSpec) -> dict:
    """The table rule that lets the consumer department read one contract's application table."""
    columns: list[dict] = [{"name": h, "allow": False} for h in HIDDEN_COLUMNS]
    granted = set()
    for col in spec.columns:
        if col.masking == "suppress":
            continue
        granted.add(col.name)
        template = CONFORMANCE.get(col.masking or "")
        if template:
            columns.append({"name": col.name, "mask": template.format(c=_q(col.name))})
    rule = {
        "group": _group(f"team_{spec.consumer}_analyst", f"team_{spec.consumer}_steward"),
        "catalog": catalog,
        "schema": spec.consumer_schema,
        "table": spec.table,
        "privileges": ["SELECT"],
        "columns": columns,
    }
    if spec.row_filter:
        tree = filters.validate(spec.row_filter, None)  # parsed once; never pasted
        if filters.columns_of(tree) <= granted:
            rule["filter"] = filters.to_sql(tree, "trino")
    return rule


def compile_rules(settings: Settings, active: list[ContractSpec]) -> dict:
    cat = settings.trino_catalog
    registry = identities.load(settings)
    departments = sorted({i.department for i in registry.identities if i.role.value in ("steward", "analyst")})
    operators = [i.user for i in registry.identities if i.role.value == "operator"]
    tables: list[dict] = [
        {"group": "role_operator", "privileges": ALL_PRIVILEGES},
        # metadata tables of every table, for everyone else
        {"catalog": ".*", "table": r".*\$.*", "privileges": []},
        {"group": "role_compliance", "catalog": cat, "schema": "base|analytic|app_.*|governance", "privileges": ["SELECT"]},
    ]
    # stewards: their own department's rows of base and analytic tables with a department column
    dept_tables = []
    for tier in ("base", "analytic"):
        for path in sorted(settings.path("schemas", tier).glob("*.yaml")):
            schema = schemas.load_schema(settings, tier, path.stem)
            if "department" in schema.names():
                dept_tables.append((tier, schema.table))
    for dept in departments:
        for tier, table in dept_tables:
            tables.append({
                "group": f"team_{dept}_steward", "catalog": cat, "schema": tier, "table": table,
                "privileges": ["SELECT"], "filter": f"department = '{dept}'",
                "columns": [{"name": h, "allow": False} for h in HIDDEN_COLUMNS],
            })
    for spec in sorted(active, key=lambda s: s.id):
        tables.append(analyst_rule(cat, spec))
        # the provider's steward sees what their department shares
        tables.append({
            "group": f"team_{spec.provider}_steward", "catalog": cat, "schema": spec.consumer_schema, "table": spec.table,
            "privileges": ["SELECT"], "columns": [{"name": h, "allow": False} for h in HIDDEN_COLUMNS],
        })
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


def write_rules(settings: Settings, active: list[ContractSpec] | None = None) -> dict:
    """Compile and atomically replace the rules file; returns the compiled rules and timing."""
    if active is None:
        from govlake.contracts import workflow

        active = workflow.active_specs(settings)
    t0 = time.perf_counter()
    rules = compile_rules(settings, active)
    path = rules_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(rules, indent=1, ensure_ascii=False))
    os.replace(tmp, path)
    return {"path": str(path), "contracts": len(active), "rules": len(rules["tables"]), "seconds": time.perf_counter() - t0}
