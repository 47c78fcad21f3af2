"""Erasure of one data subject: `govlake erase --subject-token T`.

The subject is named by their platform token (policies/erasure.yaml): the keyed token of their
identifier as the analytic tier holds it. The plan follows lineage downstream from each
identifying base column:

- a column whose values are the identifier itself, or a token of it (the platform key, or a
  contract's key for an application table), is matched exactly and the rows holding the
  subject's value are deleted;
- a column reached only through a non-invertible step (aggregation, generalisation, partial
  mask) holds no row of the subject: it is reported with the reason, and aggregates follow base
  at the next analytic build;
- the policy's free-text columns are searched for the raw identifier: notes are redacted,
  quarantined records deleted.

Every changed table is rewritten and vacuumed keeping no history (`lake.rewrite`, 0 hours),
so neither a data file nor time travel still holds the rows. Then every table of the warehouse is
searched again for the subject's values (the residue check) and the transaction logs of the
changed tables are searched for them; landing archives and audit entries that quote the
identifier are counted and reported (they are kept: the departments' original deliveries and
the append-only evidence).

The raw identifier is read into the driver only to match it. It is never printed, logged, put in
the report or the audit, nor written into a Delta commit: rows are matched by a MERGE against an
in-memory table, and a MERGE commit records only its join condition.
"""
from __future__ import annotations

import hashlib
import re
import time
from collections import Counter, defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from govlake.contracts import workflow
from govlake.core import config, faults, locks
from govlake.core.errors import ConfigError, GovlakeError
from govlake.core.settings import Settings
from govlake.domain import masking, schemas
from govlake.governance import audit, lake_locks, lineage, store
from govlake.platform import lake, storage
from govlake.platform.secrets import TokenKey, contract_key, held_key, token_key

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

ACTOR = "compliance"
TOKEN_SHAPE = re.compile(r"^([A-Za-z0-9]+)_([0-9a-f]{64})$")
EXACT_STEPS = ("identity", "token")


class ErasurePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    identifiers: list[str] = Field(min_length=1)
    free_text: dict[str, Literal["redact", "delete"]] = Field(default_factory=dict)
    placeholder: str = Field("[erased]", min_length=1)


def load_policy(settings: Settings, path: Path | None = None) -> ErasurePolicy:
    path = path or settings.path("policies", "erasure.yaml")
    policy = config.load_model(path, ErasurePolicy, "erasure policy", hint=" (see policies/erasure.yaml in the repository)")
    for where, name in [("identifiers", n) for n in policy.identifiers] + [("free_text", n) for n in policy.free_text]:
        dataset, column = lineage.parse_target(name)
        tier, _, table = dataset.partition(".")
        if tier != "base" or column is None:
            raise ConfigError(f"erasure policy `{path}` field `{where}`: `{name}` must be a base column, `base.<table>.<column>`")
        schema = schemas.load_schema(settings, tier, table)
        col = next((c for c in schema.columns if c.name == column), None)
        if col is None or col.type != "string":
            raise ConfigError(f"erasure policy `{path}` field `{where}`: `{name}` is {'not a column' if col is None else 'not a string column'} "
                              f"of `{dataset}`; its string columns: {[c.name for c in schema.columns if c.type == 'string']}")
    return policy


def subject_token(identifier: str, key: TokenKey) -> str:
    """The platform token of a raw identifier (what `--identifier-stdin` computes)."""
    return masking.token_py(identifier, key)


def fingerprint(token: str) -> str:
    """What the audit and the report name the subject by: enough to match a request, not the token."""
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()[:16]


def check_token(token: str, key: TokenKey, settings: Settings | None = None) -> TokenKey:
    """The key `token` was made with: `key`, or (given `settings`) an earlier key still held in
    its overlap after a rotation. Anything else is a ConfigError saying what to pass instead."""
    m = TOKEN_SHAPE.match(token or "")
    if not m:
        raise ConfigError("the subject token must look like `<key id>_<64 hex digits>`, as in analytic.detections_deidentified.plate_token; "
                          "to start from the identifier itself, pass it on standard input with --identifier-stdin")
    if m.group(1) == key.key_id:
        return key
    if settings is not None:
        return held_key(settings, m.group(1))
    raise ConfigError(f"the subject token was made with key `{m.group(1)}`, but the platform key is `{key.key_id}`; take the token "
                      "from the current analytic tier, or pass the identifier with --identifier-stdin")


def _identifiers_of(spark: "SparkSession", settings: Settings, policy: ErasurePolicy, token: str, key: TokenKey) -> set[str]:
    """The raw identifiers in base whose token under `key` is `token`."""
    from pyspark.sql import functions as F

    raw: set[str] = set()
    for ident in policy.identifiers:
        dataset, column = lineage.parse_target(ident)
        for path in dataset_paths(spark, settings, dataset):
            df = spark.read.format("delta").load(path)
            raw |= {r[0] for r in masking.keyed(df, key).where(masking.token(F.col(column), key) == F.lit(token)).select(column).distinct().collect()}
    return raw


# --- the plan -----------------------------------------------------------------------------------

@dataclass
class Node:
    """A column holding the subject's value in a known form: the raw identifier or tokens of it."""

    values: set[str]
    raw: bool
    via: str


@dataclass
class Plan:
    exact: dict[str, dict[str, Node]] = field(default_factory=lambda: defaultdict(dict))  # dataset -> column -> node
    not_erased: dict[str, str] = field(default_factory=dict)  # dataset.column -> why


def values_after(node: Node, edge: lineage.Edge, token: str, key: TokenKey) -> tuple[set[str], bool] | str:
    """The subject's values in `edge`'s output column, or why they cannot be matched there."""

    values, raw = set(node.values), node.raw
    for step in edge.transformation.split("+"):
        if step == "identity":
            continue
        if step != "token":
            kind = "an aggregate" if step == "aggregation" else f"`{step}` of the identifier"
            return f"holds {kind}, not the subject's value: no row of it is the subject's (aggregates follow base at the next analytic build)"
        if edge.contract:
            ckey = contract_key(key, edge.contract)
            values, raw = {masking.token_py(v, ckey) for v in values}, False
        elif raw:
            values, raw = {token}, False  # the platform token of the identifier is the subject token by definition
        else:
            values = {masking.token_py(v, key) for v in values}  # a token of a token
    return values, raw


def plan(settings: Settings, policy: ErasurePolicy, token: str, key: TokenKey, raw_values: set[str], edges: list[lineage.Edge]) -> Plan:
    """Which column of which dataset holds the subject's values, following lineage downstream."""
    p = Plan()
    for ident in policy.identifiers:
        dataset, column = lineage.parse_target(ident)
        p.exact[dataset][column] = Node(set(raw_values), True, ident)
    for ident in policy.identifiers:
        for _, e in lineage.walk(edges, [lineage.parse_target(ident)], "downstream"):
            src = p.exact.get(e.in_dataset, {}).get(e.in_column)
            if src is None:
                continue  # its source was not matchable: that is reported at the source
            got = values_after(src, e, token, key)
            target = f"{e.out_dataset}.{e.out_column}"
            if isinstance(got, str):
                p.not_erased.setdefault(target, f"from {e.in_dataset}.{e.in_column}: {got}")
                continue
            values, raw = got
            have = p.exact[e.out_dataset].get(e.out_column)
            via = f"{src.via} -{e.transformation}-> {target}" + (f" (contract {e.contract})" if e.contract else "")
            if have is None:
                p.exact[e.out_dataset][e.out_column] = Node(values, raw, via)
            else:
                have.values |= values
            p.not_erased.pop(target, None)
    return p


def add_contract_tables(p: Plan, specs: list, token: str, key: TokenKey) -> list[str]:
    """Add the application tables the active contracts make from a planned dataset, from the
    contracts themselves (lineage may lack an edge: a lost event, a rebuilt store), as the edge
    the contract's write would have recorded. Returns the columns added this way."""
    added = []
    for spec in specs:
        source = p.exact.get(spec.dataset)
        if not source:
            continue
        out = f"{spec.consumer_schema}.{spec.table}"
        for c in spec.columns:
            node, method = source.get(c.name), c.masking or "identity"
            if node is None or c.name in p.exact.get(out, {}):
                continue
            target = f"{out}.{c.name}"
            got = values_after(node, lineage.Edge(spec.dataset, c.name, out, c.name, method, contract=spec.id), token, key)
            if isinstance(got, str):
                p.not_erased.setdefault(target, f"from {spec.dataset}.{c.name} (contract {spec.id}): {got}")
                continue
            p.exact[out][c.name] = Node(got[0], got[1], f"{node.via} -{method}-> {target} (contract {spec.id}; from the contract, not lineage)")
            added.append(target)
    return added


def dataset_paths(spark: "SparkSession", settings: Settings, dataset: str) -> list[str]:
    """Every Delta table of a logical dataset: base/analytic by schema, an application table by
    each spec version still in the warehouse."""
    from delta.tables import DeltaTable

    schema, table = dataset.split(".", 1)
    if schema in ("base", "analytic", "governance"):
        path = lake.table_path(settings, schema, table)
        return [path] if DeltaTable.isDeltaTable(spark, path) else []
    return [p for p in storage.child_dirs(settings, lake.table_path(settings, "application", schema))
            if storage.name(p).startswith(f"{table}__") and lake.is_table(settings, p)]


def finish_retirements(settings: Settings) -> list[str]:
    """Delete what a retirement of an application table stopped half-way left (data files whose
    log's start is gone: no reader opens them, but they may hold the subject's rows). Only under
    the erasure's exclusive lock, when no publish can be writing a new table."""
    gone = []
    for schema in storage.child_dirs(settings, lake.table_path(settings, "application", "")):
        for t in storage.child_dirs(settings, schema) if storage.name(schema).startswith("app_") else []:
            if not lake.is_table(settings, t):
                lake.delete_table(settings, t)
                gone.append(t)
    return gone


# --- the run ------------------------------------------------------------------------------------

@dataclass
class ErasureReport:
    subject: str
    run_time: datetime
    dry_run: bool
    request: str | None = None
    identifier_found: bool = False
    tables: dict[str, dict] = field(default_factory=dict)
    not_erased: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    residue: dict[str, int] = field(default_factory=dict)
    log_mentions: dict[str, int] = field(default_factory=dict)
    landing_files: list[str] = field(default_factory=list)
    audit_entries_quoting: int = 0
    unsearched: list[str] = field(default_factory=list)  # free-text columns not searched (identifier unknown)
    from_contracts: list[str] = field(default_factory=list)  # application columns found from contracts, not lineage
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # lookup, tables, residue, evidence: seconds

    @property
    def complete(self) -> bool:
        return not self.failed and not self.residue and not self.unsearched

    def as_dict(self) -> dict:
        return {"subject": self.subject, "request": self.request, "run_time": self.run_time.isoformat(), "dry_run": self.dry_run,
                "identifier_found": self.identifier_found, "tables": self.tables, "not_erased": self.not_erased, "failed": self.failed,
                "residue": self.residue, "log_mentions": self.log_mentions, "landing_files": self.landing_files,
                "audit_entries_quoting": self.audit_entries_quoting, "unsearched": self.unsearched,
                "from_contracts": self.from_contracts, "complete": self.complete, "seconds": self.seconds,
                "phases": self.phases}


def _values_frame(spark: "SparkSession", values: set[str]) -> "DataFrame":
    return spark.createDataFrame([(v,) for v in sorted(values)], "v string")


def quoted_pattern(value: str) -> str:
    """A Java regex matching `value` as a whole token in text: not part of a longer plate or
    number (京A12345 must not match inside 京A12345D)."""
    quoted = "\\Q" + value + "\\E" if "\\E" not in value else re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\1", value)
    return f"(?<![A-Za-z0-9]){quoted}(?![A-Za-z0-9])"


def _column(table, column: str) -> str:
    """`column` quoted for SQL, after checking the table has it (names come from lineage events)."""
    if column not in table.toDF().columns:
        raise GovlakeError(f"lineage names column `{column}`, which the table does not have; check `govlake lineage` for that table")
    return "`" + column.replace("`", "``") + "`"


def _delete_matching(spark: "SparkSession", columns: dict[str, Node]):
    def change(table) -> None:
        for column, node in columns.items():
            if node.values:
                (table.alias("t").merge(_values_frame(spark, node.values).alias("s"), f"t.{_column(table, column)} = s.v")
                 .whenMatchedDelete().execute())
    return change


def _free_text(spark: "SparkSession", column: str, action: str, values: set[str], placeholder: str):
    def change(table) -> None:
        col = _column(table, column)
        for v in sorted(values):  # one value per MERGE: a row quoting two of them is matched once each time
            source = spark.createDataFrame([(quoted_pattern(v), placeholder)], "p string, r string")
            m = table.alias("t").merge(source.alias("s"), f"t.{col} RLIKE s.p")
            if action == "delete":
                m.whenMatchedDelete().execute()
            else:
                m.whenMatchedUpdate(set={col: f"regexp_replace(t.{col}, s.p, s.r)"}).execute()
    return change


def _count(spark: "SparkSession", path: str, columns: dict[str, set[str]], contains: dict[str, set[str]]) -> int:
    from pyspark.sql import functions as F

    df = spark.read.format("delta").load(path)
    cond = None
    for column, values in columns.items():
        if values:
            c = F.col(f"`{column}`").isin(sorted(values))
            cond = c if cond is None else cond | c
    for column, values in contains.items():
        for v in sorted(values):
            c = (F.instr(F.col(f"`{column}`"), v) > 0) & F.col(f"`{column}`").rlike(quoted_pattern(v))  # the cheap test first
            cond = c if cond is None else cond | c
    return 0 if cond is None else df.where(cond).count()


def erase(spark: "SparkSession", settings: Settings, token: str, *, identifier: str | None = None, dry_run: bool = False,
          request: str | None = None, policy: ErasurePolicy | None = None, actor: str = ACTOR, run_time: datetime | None = None,
          verify: bool = True) -> ErasureReport:
    """Erase the subject named by `token` from every tier lineage says holds them (see the module).
    With `identifier` (whose token must be `token`), free text is searched for it even when no
    base row holds it any more. An unexpected error is raised as a GovlakeError whose message has
    every value of the subject (and any long hex literal, as the token key's pads) taken out:
    Spark's messages quote the plan, and the plan holds them as literals."""
    key = token_key(settings, create=False)
    made_with = check_token(token, key, settings)
    if identifier is not None and subject_token(identifier, made_with) != token:
        raise ConfigError("the identifier given does not have the subject token given; pass one of them")
    secrets: set[str] = {token} | ({identifier} if identifier else set())
    policy = policy or load_policy(settings)
    if made_with is not key:  # a token from before a rotation: the subject, named by the active key's token
        if identifier is None:
            found = _identifiers_of(spark, settings, policy, token, made_with)
            if len(found) != 1:
                raise ConfigError(f"the token made with the earlier key `{made_with.key_id}` names "
                                  f"{'no identifier in base (erased or aged out before)' if not found else 'more than one identifier'}; "
                                  "pass the identifier itself with --identifier-stdin")
            identifier = found.pop()
            secrets.add(identifier)
        token = subject_token(identifier, key)
        secrets.add(token)
    try:
        with (nullcontext() if dry_run else locks.lake_maintenance(lake_locks.space(settings), f"erasure of {fingerprint(token)}")):
            if not dry_run:
                finish_retirements(settings)
            return _erase(spark, settings, token, key, identifier, secrets, dry_run=dry_run, request=request,
                          policy=policy, actor=actor, run_time=run_time, verify=verify)
    except GovlakeError as exc:
        try:
            clean = type(exc)(scrub(str(exc), secrets))
        except TypeError:  # a subclass with its own constructor
            clean = GovlakeError(scrub(str(exc), secrets))
        raise clean from None
    except Exception as exc:  # noqa: BLE001 - re-raised without the original (it may quote the values)
        raise GovlakeError(f"erasure of {fingerprint(token)} stopped: {type(exc).__name__}: {scrub(str(exc).splitlines()[0] if str(exc) else '', secrets)}; "
                           "what was done is kept (each table is changed in its own commit); fix the cause and run it again") from None


def scrub(message: str, secrets: set[str]) -> str:
    for value in sorted((v for v in secrets if v), key=len, reverse=True):
        message = message.replace(value, "<subject value>")
    return re.sub(r"[0-9a-fA-F]{32,}", "<hex>", message)[:500]


def _erase(spark: "SparkSession", settings: Settings, token: str, key: TokenKey, identifier: str | None, secrets: set[str], *,
           dry_run: bool, request: str | None, policy: ErasurePolicy, actor: str, run_time: datetime | None, verify: bool) -> ErasureReport:
    started = time.monotonic()
    report = ErasureReport(fingerprint(token), run_time or datetime.now(timezone.utc), dry_run, request)
    raw: set[str] = {identifier} if identifier is not None else set()
    found = _identifiers_of(spark, settings, policy, token, key)
    report.identifier_found = bool(found)
    raw |= found
    secrets |= raw

    phase = time.monotonic()
    report.phases["lookup"] = round(phase - started, 2)
    p = plan(settings, policy, token, key, raw, lineage.edges(settings))
    report.from_contracts = add_contract_tables(p, workflow.active_specs(settings), token, key)
    secrets |= {v for cols in p.exact.values() for n in cols.values() for v in n.values}
    report.not_erased = dict(sorted(p.not_erased.items()))
    changes: dict[str, list] = defaultdict(list)  # path -> [(dataset, change, columns matched, contains)]
    for dataset, columns in p.exact.items():
        for path in dataset_paths(spark, settings, dataset):
            changes[path].append((dataset, _delete_matching(spark, columns), {c: n.values for c, n in columns.items()}, {}))
    if not raw:
        report.unsearched = sorted(policy.free_text)
        for name in policy.free_text:
            report.not_erased[name] = ("not searched: no base row holds the identifier (erased or aged out before, or never there); "
                                       "to search the text for it, pass the identifier with --identifier-stdin")
    else:
        for name, action in policy.free_text.items():
            dataset, column = lineage.parse_target(name)
            for path in dataset_paths(spark, settings, dataset):
                changes[path].append((dataset, _free_text(spark, column, action, raw, policy.placeholder), {}, {column: raw}))

    # the identifying tables last: if a run stops half-way, the rerun still finds the identifier there
    identifying = {lineage.parse_target(i)[0] for i in policy.identifiers}
    copies = Counter(items[0][0] for items in changes.values())  # tables per dataset (application spec versions)
    for path, items in sorted(changes.items(), key=lambda kv: kv[1][0][0] in identifying):
        dataset = items[0][0]
        name = dataset if copies[dataset] < 2 else f"{dataset} ({storage.name(path)})"
        columns = {c: v for _, _, cols, _ in items for c, v in cols.items()}
        contains = {c: v for _, _, _, cont in items for c, v in cont.items()}
        entry = {"columns": sorted(columns), "free_text": sorted(contains),
                 "via": [p.exact[dataset][c].via for c in sorted(columns) if c in p.exact.get(dataset, {})]}
        try:
            matched = _count(spark, path, columns, contains)
            if dry_run:
                entry["would_change"] = matched
            else:
                # nothing to change still vacuums: an earlier version (before a rebuild or publish
                # that left the subject out) may hold the rows, and time travel must not reach them
                results = [lake.rewrite(spark, path, change, retain_hours=0) for _, change, _, _ in items] if matched else \
                    [lake.rewrite(spark, path, lambda table: None, retain_hours=0)]
                entry |= {"rows_deleted": sum(r["rows_deleted"] for r in results), "rows_redacted": sum(r["rows_updated"] for r in results),
                          "files_rewritten": sum(r["files_rewritten"] for r in results),
                          "files_removed": sum(r["files_removed"] or 0 for r in results),
                          "version_after": results[-1]["version_after"], "seconds": round(sum(r["seconds"] for r in results), 2)}
            report.tables[name] = entry
            faults.point("erase.table")
        except Exception as exc:  # noqa: BLE001 - reported per table, the others go on
            report.failed[name] = scrub(f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}", secrets)

    report.phases["tables"] = round(time.monotonic() - phase, 2)
    phase = time.monotonic()
    if verify and not dry_run:
        everything = {v for cols in p.exact.values() for n in cols.values() for v in n.values} | raw | {token} | \
            {s for s in secrets if TOKEN_SHAPE.match(s)}  # the token the request named, if made with an earlier key
        report.residue = residue(spark, settings, everything, raw)
        report.log_mentions = log_mentions(settings, list(changes), everything)
    report.phases["residue"] = round(time.monotonic() - phase, 2)
    phase = time.monotonic()
    report.landing_files = landing_files(settings, raw)
    report.audit_entries_quoting = audit_quoting(settings, raw)
    report.phases["evidence"] = round(time.monotonic() - phase, 2)
    report.seconds = round(time.monotonic() - started, 2)
    # a dry run is audited too: it tells whoever asks whether and where a subject's data is held
    audit.record(settings, actor, "erasure.plan" if dry_run else "erasure.run", f"subject:{report.subject}", {
        k: v for k, v in report.as_dict().items() if k not in ("landing_files",)} | {"landing_files": len(report.landing_files)})
    return report


# --- evidence -----------------------------------------------------------------------------------

def all_tables(spark: "SparkSession", settings: Settings) -> dict[str, str]:
    """name -> path of every Delta table of the tiers (base, analytic, application). The governance
    export is left out: it copies the audit, counted by `audit_quoting`."""
    out = {}
    for f in schemas.all_schema_files(settings):
        if f.parent.name not in ("base", "analytic"):
            continue
        for path in dataset_paths(spark, settings, f"{f.parent.name}.{f.stem}"):
            out[f"{f.parent.name}.{f.stem}"] = path
    apps = {d for d in lineage.datasets(settings) if d.startswith("app_")}
    # and every application table in the warehouse, whatever lineage knows
    for schema in storage.child_dirs(settings, lake.table_path(settings, "application", "")):
        if storage.name(schema).startswith("app_"):
            apps |= {f"{storage.name(schema)}.{storage.name(t).split('__')[0]}" for t in storage.child_dirs(settings, schema)
                     if lake.is_table(settings, t)}
    for dataset in sorted(apps):
        for path in dataset_paths(spark, settings, dataset):
            out[f"{dataset} ({storage.name(path)})"] = path
    return out


def residue(spark: "SparkSession", settings: Settings, values: set[str], raw: set[str]) -> dict[str, int]:
    """Rows of any table whose string columns still equal one of `values` or quote a raw value."""
    from pyspark.sql.types import StringType

    found = {}
    for name, path in all_tables(spark, settings).items():
        cols = [f.name for f in spark.read.format("delta").load(path).schema.fields if isinstance(f.dataType, StringType)]
        n = _count(spark, path, {c: values for c in cols}, {c: raw for c in cols})
        if n:
            found[name] = n
    return found


def log_mentions(settings: Settings, paths: list[str], values: set[str]) -> dict[str, int]:
    """Transaction-log files (commits and checkpoints) of the changed tables that still name a value."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    needles = [v.encode() for v in values if v]
    out = {}
    for path in paths:
        n = 0
        for f in storage.list_files(settings, f"{path}/_delta_log"):
            name = storage.name(f)
            if name.endswith((".json", ".crc")):
                data = storage.read_bytes(settings, f) or b""
            elif ".checkpoint." in name and name.endswith(".parquet"):
                data = str(pq.read_table(pa.BufferReader(storage.read_bytes(settings, f) or b"")).to_pylist()).encode()
            else:
                continue
            n += any(v in data for v in needles)
        if n:
            out[path] = n
    return out


def landing_files(settings: Settings, raw: set[str]) -> list[str]:
    """Landing files (new, archived or rejected) that contain the raw identifier: the departments'
    deliveries, kept whole; listed so they can be handled with the department."""
    if not raw or not settings.landing_root.is_dir():
        return []
    import pyarrow.parquet as pq

    needles = {enc: [v.encode(enc, errors="ignore") for v in raw] for enc in ("utf-8", "gbk")}
    out = []
    for f in sorted(settings.landing_root.rglob("*")):
        if not f.is_file():
            continue
        try:
            if f.suffix == ".parquet":
                text = str(pq.read_table(f).to_pylist())
                hit = any(v in text for v in raw)
            else:
                data = f.read_bytes()
                hit = any(n and n in data for ns in needles.values() for n in ns)
        except Exception:  # noqa: BLE001 - an unreadable file cannot be searched; it is listed as such
            hit = True
        if hit:
            out.append(str(f.relative_to(settings.landing_root)))
    return out


def audit_quoting(settings: Settings, raw: set[str]) -> int:
    """Audit entries (e.g. a query's text) that quote the raw identifier; kept, as the audit is
    append-only evidence readable by compliance officers only."""

    if not raw:
        return 0
    d = store.audit_log.c.detail
    with store.engine(settings).connect() as conn:
        return conn.execute(sa.select(sa.func.count()).where(sa.or_(*[d.contains(v, autoescape=True) for v in raw]))).scalar() or 0
