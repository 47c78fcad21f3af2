"""Making warehouse tables queryable in Trino.

Spark writes Delta tables; Trino's Delta Lake connector reads them once they are registered in
its metastore (`system.register_table`). `sync` registers what the pipeline produced and
unregisters application tables that were retracted, so Trino shows exactly the current tiers.
"""
from __future__ import annotations

from dataclasses import dataclass

from govlake.core.settings import Settings
from govlake.services import sql
from govlake.services.trino import SERVICE_ACCOUNT

SERVICE_USER = SERVICE_ACCOUNT


@dataclass(frozen=True)
class ServedTable:
    schema: str
    table: str
    location: str

    @property
    def trino_location(self) -> str:
        return f"local://{self.location}" if self.location.startswith("/") else self.location


def _q(settings: Settings, text: str) -> sql.Result:
    return sql.query(settings, SERVICE_USER, text)


def _location(settings: Settings, schema: str, table: str) -> str | None:
    import re

    try:
        ddl = _q(settings, f'SHOW CREATE TABLE {settings.trino_catalog}."{schema}"."{table}"').rows[0][0]
    except sql.QueryError as exc:
        if "Metadata not found in transaction log" in str(exc):
            return None  # its table directory is gone (an earlier specification's, deleted by publish): register anew
        raise
    m = re.search(r"location = '([^']*)'", ddl)
    return m.group(1) if m else None


def sync(settings: Settings, tables: list[ServedTable], *, managed_prefix: str = "app_") -> dict[str, list[str]]:
    """Register `tables`; unregister tables in `managed_prefix` schemas that are not listed."""
    cat = settings.trino_catalog
    wanted: dict[str, dict[str, ServedTable]] = {}
    for t in tables:
        wanted.setdefault(t.schema, {})[t.table] = t
    existing_schemas = {r[0] for r in _q(settings, f"SHOW SCHEMAS FROM {cat}").rows}
    report: dict[str, list[str]] = {"registered": [], "unregistered": [], "kept": []}
    for schema in sorted(set(wanted) | {s for s in existing_schemas if s.startswith(managed_prefix)}):
        if schema not in existing_schemas:
            _q(settings, f'CREATE SCHEMA {cat}."{schema}"')
        present = {r[0] for r in _q(settings, f'SHOW TABLES FROM {cat}."{schema}"').rows}
        for name, t in sorted(wanted.get(schema, {}).items()):
            if name in present and schema.startswith(managed_prefix) and _location(settings, schema, name) != t.trino_location:
                # a changed contract specification lives in a new table directory
                _q(settings, f"CALL {cat}.system.unregister_table(schema_name => '{schema}', table_name => '{name}')")
                report["unregistered"].append(f"{schema}.{name}")
            elif name in present:
                report["kept"].append(f"{schema}.{name}")
                continue
            _q(
                settings,
                f"CALL {cat}.system.register_table(schema_name => '{schema}', table_name => '{name}', "
                f"table_location => '{t.trino_location}')",
            )
            report["registered"].append(f"{schema}.{name}")
        if schema.startswith(managed_prefix):
            for name in sorted(present - set(wanted.get(schema, {}))):
                _q(settings, f"CALL {cat}.system.unregister_table(schema_name => '{schema}', table_name => '{name}')")
                report["unregistered"].append(f"{schema}.{name}")
    return report
