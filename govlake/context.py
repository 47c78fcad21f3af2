"""One face over govlake's operations, for every shell: the CLI, the Airflow DAGs, `jobs/` and the
coming web console all call a `Context` and only present what it returns.

A `Context` holds the settings and, once an operation needs it, the Spark session. Each method is
one operation a user of govlake asks for (run the main job, approve a contract, walk the lineage,
erase a subject, report the services); what it returns is data, never text: printing, JSON and
HTML are the shells' business. Errors are govlake's own (`core.errors`), with the message a user
acts on, whichever shell shows it.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

import sqlglot
from pydantic import ValidationError
from sqlglot import exp

from govlake.compliance import erasure, reports, retention
from govlake.contracts import filters, spec as specs, validate, workflow
from govlake.contracts.spec import ContractSpec
from govlake.contracts.workflow import ContractRecord, WorkflowError
from govlake.core import times
from govlake.core.errors import ConfigError, GovlakeError, ServiceError
from govlake.core.settings import Settings, load_settings
from govlake.departments import generator, registry, synthetic
from govlake.departments.registry import Department
from govlake.domain import identities, levels, policies, schemas
from govlake.governance import audit, backup, lineage
from govlake.pii import classify, engine, proposals
from govlake.pii.recognizers import Entity
from govlake.pipeline import analytic, application, keys, main_job
from govlake.pipeline.ingest import BatchResult, ingest_department
from govlake.platform import artifacts, secrets
from govlake.platform.secrets import console_session_key, token_key
from govlake.platform.spark import get_spark
from govlake.services import (airflow_server, audit_receiver, console_process, object_store, postgres, serving, spark_cluster, sql,
                              supervisor, trino, trino_security)
from govlake.services.sql import Result
from govlake.services.trino import Status

Log = Callable[[str], None]


def _quiet(_message: str) -> None:
    pass


@dataclass(frozen=True)
class ContractCheck:
    spec: ContractSpec
    problems: list[validate.Problem]
    needs_compliance: bool


@dataclass(frozen=True)
class ServicesReport:
    services: list[Status]
    ingest: dict | None       # batch accounting through Trino; None while Trino is down
    contracts: dict[str, int]  # sharing contracts by state
    window_s: float = 86400.0  # the window of each service's `availability` (measured by the supervisor)

    @property
    def healthy(self) -> bool:
        return all(s.state in ("running", "external", "stopped") and not (s.availability or {}).get("down_since")
                   for s in self.services)


Verification = audit.Verification


class Context:
    AUDIT_OUTCOMES = audit.OUTCOMES

    def __init__(self, settings: Settings | None = None):
        self.settings = settings if settings is not None else load_settings()

    @cached_property
    def spark(self):
        """The Spark session, started the first time an operation needs it."""
        return get_spark(self.settings)

    # -- the jobs ---------------------------------------------------------------------------------

    def run(self, run_time: datetime, *, landing_root: Path | None = None, serve: bool = True) -> main_job.RunReport:
        """The main job: landing -> base -> analytic -> application -> Trino."""
        run_time = times.as_utc(run_time)  # a time without offset is refused before Spark starts
        return main_job.run(self.spark, self.settings, run_time, landing_root=landing_root, serve=serve)

    def landing_of(self, department: str) -> Path:
        return self.settings.landing_root / self.department(department).id

    def ingest(self, department: str, run_time: datetime, landing: Path | None = None) -> BatchResult | None:
        """One department's new landing files into base; None when there is nothing new."""
        dept, run_time = self.department(department), times.as_utc(run_time)
        return ingest_department(self.spark, self.settings, dept, landing or self.landing_of(dept.id), run_time)

    def publish(self, run_time: datetime, *, serve: bool = True) -> tuple[list[application.Published], dict]:
        run_time = times.as_utc(run_time)
        return main_job.publish(self.spark, self.settings, run_time, serve=serve)

    # The stages as the Airflow DAGs run them, one task each (JSON-able results for XCom).
    def stage_ingest(self, run_time: datetime) -> dict:
        run_time = times.as_utc(run_time)
        return main_job.ingest_all(self.spark, self.settings, run_time, self.settings.landing_root).as_dict()

    def stage_ingest_department(self, department: str, run_time: datetime) -> dict | None:
        result = self.ingest(department, run_time)
        return None if result is None else result.as_dict()

    def stage_analytic(self) -> dict[str, int]:
        return analytic.build(self.spark, self.settings, token_key(self.settings))

    def stage_publish(self, run_time: datetime) -> list[dict]:
        published, _ = self.publish(run_time, serve=False)
        return [p.__dict__ for p in published]

    def stage_serve(self, published: list[dict]) -> dict[str, list[str]]:
        return serving.sync(self.settings, main_job.served_tables(self.settings, [application.Published(**p) for p in published]))

    def stage_retention(self, run_time: datetime) -> dict:
        self.retire_keys(run_time)  # earlier token keys whose overlap has ended
        report = self.enforce_retention(run_time)
        if report.failed:
            raise GovlakeError(f"retention failed for {', '.join(f'`{t}`' for t in report.failed)}: {report.failed}; the other tables were "
                               "enforced (audit entry `retention.run`); fix the cause and rerun", transient=True)
        return report.as_dict()

    # -- token keys -------------------------------------------------------------------------------

    def key_status(self) -> list[dict]:
        return secrets.key_status(self.settings)

    def rotate_keys(self, when: datetime, overlap: timedelta, *, serve: bool = True) -> dict:
        return keys.rotate(self.spark, self.settings, when, overlap, serve=serve)

    def retire_keys(self, when: datetime) -> list[str]:
        return keys.retire(self.settings, when)

    # -- sharing contracts ------------------------------------------------------------------------

    def contracts(self) -> list[ContractRecord]:
        return workflow.list_all(self.settings)

    def contract(self, contract_id: str) -> ContractRecord:
        return workflow.get(self.settings, contract_id)

    @staticmethod
    def contract_file(path: str | Path) -> ContractSpec | None:
        """The specification in a contract file, or None if `path` names no file (then it is an id)."""
        path = Path(path)
        if path.suffix in (".yaml", ".yml") or path.exists():
            return specs.load_contract(path)
        return None

    def check_contract(self, target: str, when: datetime) -> ContractCheck:
        """A contract file or a recorded contract, checked against the registry, schemas and policies."""
        spec = self.contract_file(target) or self.contract(target).spec
        found = validate.problems(spec, self.settings, when)
        return ContractCheck(spec, found, not found and validate.needs_compliance(spec, self.settings))

    def request_choices(self, user: str) -> dict:
        """What `user` may ask for: the other departments, the analytic datasets, the purposes."""
        who = self.identity(user)
        return {
            "providers": [d for d in self.departments() if d.id != who.department],
            "datasets": [f"analytic.{p.stem}" for p in sorted(self.settings.path("schemas", "analytic").glob("*.yaml"))],
            "purposes": validate.purposes(self.settings),
        }

    def request_offers(self, dataset: str, purpose: str) -> list[validate.ColumnOffer]:
        """Per column of `dataset`, the masking choices the contract rules accept under `purpose`."""
        return validate.offers(self.settings, dataset, purpose)

    def draft_request(self, user: str, form: dict, when: datetime) -> tuple[ContractSpec | None, list[validate.Problem]]:
        """A contract specification from the request form's fields, and every problem the contract
        rules find in it (its shape first: a field the specification cannot hold)."""
        who = self.identity(user)
        provider, dataset, table = form.get("provider", ""), form.get("dataset", ""), form.get("table", "").strip()
        problems: list[validate.Problem] = []
        columns, types = [], {}
        if dataset in self.request_choices(user)["datasets"]:
            types = {c.name: c.type for c in schemas.load_schema(self.settings, *dataset.split(".", 1)).columns}
        for name in types:
            if form.get(f"grant_{name}"):
                columns.append({"name": name, **({"masking": form[f"mask_{name}"]} if form.get(f"mask_{name}") else {})})
        row_filter = None
        try:
            conditions = [(form.get(f"f_col_{i}", ""), form.get(f"f_op_{i}", "="), form.get(f"f_val_{i}", "")) for i in range(1, 4)]
            scope = ("department", provider) if "department" in types else None
            row_filter = filters.compose(conditions, types, scope) if types else None
        except filters.FilterError as exc:
            problems.append(validate.Problem("row_filter", "row-filter", str(exc)))
        zone = self.department(who.department).timezone
        data = {
            "id": (form.get("id") or f"{provider}-to-{who.department}-{table}".replace("_", "-"))[:64].strip("-"),
            "provider": provider, "consumer": who.department, "purpose": form.get("purpose", ""),
            "legal_basis": form.get("legal_basis", "").strip(), "requester": user, "dataset": dataset, "table": table,
            "columns": columns, "row_filter": row_filter, "retention_days": form.get("retention_days") or 0,
        }
        for fld, clock in (("valid_from", "00:00:00"), ("valid_to", "23:59:59")):
            try:
                day = datetime.fromisoformat(f"{form.get(fld, '')}T{clock}")
                data[fld] = day.replace(tzinfo=ZoneInfo(zone))
            except ValueError:
                problems.append(validate.Problem(fld, "shape", "give a date (YYYY-MM-DD)"))
        if problems:
            return None, problems
        try:
            spec = ContractSpec.model_validate({k: v for k, v in data.items() if v is not None})
        except ValidationError as exc:
            return None, [validate.Problem(".".join(str(x) for x in e["loc"]) or "contract", "shape", e["msg"]) for e in exc.errors()]
        return spec, validate.problems(spec, self.settings, when)

    def request_contract(self, spec: ContractSpec, user: str, when: datetime) -> ContractRecord:
        """Create the draft and submit it for approval, as `contract new` and `contract submit` do."""
        workflow.new(self.settings, spec, user, when)
        return workflow.submit(self.settings, spec.id, user, when)

    def contract_columns(self, spec: ContractSpec) -> list[dict]:
        """Per granted column, for a reviewer: its level and PII type, the mask, the level the
        consumer receives against the purpose's `max_level`, and the base columns it comes from
        (column lineage upstream, with each step's transformation)."""
        purpose = validate.purposes(self.settings).get(spec.purpose)
        methods = validate.masking_methods(self.settings)
        try:
            by_name = {c.name: c for c in validate.dataset_schema(self.settings, spec).columns}
        except ConfigError:
            by_name = {}
        edges = lineage.edges(self.settings)
        out = []
        for i, granted in enumerate(spec.columns):
            col = by_name.get(granted.name)
            known = granted.masking in (None, "identity") or granted.masking in methods
            after = validate.granted_level(col, granted.masking, methods) if col is not None and known and granted.masking != "suppress" else None
            found = lineage.walk(edges, [(spec.dataset, granted.name)], "upstream")
            sources = sorted({e.source for _, e in found} - {e.target for _, e in found})
            out.append({
                "name": granted.name, "masking": granted.masking, "level": col.level if col else None,
                "pii_type": col.pii_type if col else None, "level_after": after, "max_level": purpose.max_level if purpose else None,
                "over": bool(after and purpose and levels.exceeds(after, purpose.max_level)),
                "field": f"columns[{i}] ({granted.name})",
                "upstream": [{"from": ".".join(e.source), "to": ".".join(e.target), "transformation": e.transformation, "depth": d} for d, e in found],
                "sources": [".".join(n) for n in sources],
            })
        return out

    def preview_contract(self, contract_id: str, when: datetime, rows: int = 5) -> dict:
        """A few rows of the contract's table exactly as its consumer would receive them (Spark:
        the publish's own retention cut, row filter and masks), and why a publish would refuse it."""
        rec = self.contract(contract_id)
        if rec.status != "submitted":
            raise WorkflowError(f"contract `{contract_id}` is {rec.status}: a preview is for deciding on a submitted contract")
        spec = rec.spec
        problems = validate.problems(spec, self.settings, times.as_utc(when))
        if problems:  # e.g. a filter that does not restrict rows to the provider's: no row of anyone's is shown
            raise validate.ContractInvalid(spec.id, problems)
        try:
            columns, data, refusals = application.preview(self.spark, self.settings, spec, token_key(self.settings),
                                                          times.as_utc(when), rows)
        except GovlakeError:
            raise
        except Exception as exc:  # Spark's messages quote plans and literals: only the kind is passed on
            raise ServiceError(f"the preview could not be computed ({type(exc).__name__}); the publish job's log has the cause",
                               transient=True) from None
        return {"columns": columns, "rows": [[None if v is None else str(v) for v in r] for r in data], "refusals": refusals}

    def row_filter_words(self, expression: str | None, lang: str = "en") -> str | None:
        """The filter in plain words; None for a filter the rules refuse (its problem says why)."""
        try:
            return filters.describe(expression, lang)
        except filters.FilterError:
            return None

    def contract_diff(self, contract_id: str, changed: Path | None = None) -> str:
        return workflow.diff(self.settings, contract_id, self.contract_file(changed) if changed else None)

    def new_contract(self, file: str | Path, actor: str, when: datetime) -> ContractRecord:
        spec = self.contract_file(file)
        if spec is None:
            raise ConfigError(f"`{file}` is not a contract file; a new contract is made from a YAML file")
        return workflow.new(self.settings, spec, actor, when)

    def submit_contract(self, contract_id: str, actor: str, when: datetime, changed: Path | None = None) -> ContractRecord:
        return workflow.submit(self.settings, contract_id, actor, when, self.contract_file(changed) if changed else None)

    def approve_contract(self, contract_id: str, actor: str, when: datetime) -> ContractRecord:
        return workflow.approve(self.settings, contract_id, actor, when)

    def reject_contract(self, contract_id: str, actor: str, reason: str, when: datetime) -> ContractRecord:
        return workflow.reject(self.settings, contract_id, actor, reason, when)

    def revoke_contract(self, contract_id: str, actor: str, reason: str, when: datetime) -> ContractRecord:
        """Revoked at once: the workflow rewrites Trino's rules before it returns."""
        return workflow.revoke(self.settings, contract_id, actor, reason, when)

    def inbox(self, user: str) -> list[tuple[ContractRecord, str]]:
        """Contracts waiting for `user`'s decision, with the capacity they would decide in."""
        return workflow.awaiting(self.settings, user)

    def expiring_contracts(self, user: str, when: datetime, days: int = 30) -> list[ContractRecord]:
        """Contracts `user` decides on (their department's as provider; all for compliance) that end within `days` days."""
        who = self.identity(user)
        found = workflow.expiring(self.settings, times.as_utc(when), days)
        return [r for r in found if who.role.value == "compliance" or r.provider == who.department]

    def decides(self, rec: ContractRecord, user: str) -> str | None:
        """The capacity in which `user` may approve or reject `rec` now, or None."""
        return workflow.decider_capacity(rec, self.identity(user))

    def bootstrap_sample_contracts(self, when: datetime, log: Log = _quiet) -> list[ContractRecord]:
        return workflow.bootstrap_samples(self.settings, when, log=log)

    # -- lineage and the audit trail --------------------------------------------------------------

    def lineage(self, target: str, direction: str) -> dict:
        """Column lineage from `target` (`tier.table` or `tier.table.column`), each column with its
        effective classification level, and the contracts and consumers it reaches."""
        if direction not in ("upstream", "downstream"):
            raise ConfigError(f"lineage direction `{direction}` is not upstream or downstream")
        dataset, column = lineage.parse_target(target)
        edges = lineage.edges(self.settings)
        declared = schemas.declared_levels(self.settings)
        known = {n for e in edges for n in (e.source, e.target)} | set(declared)
        start = sorted(n for n in known if n[0] == dataset and (column is None or n[1] == column))
        if not start:
            raise GovlakeError(f"`{target}` has no lineage and no schema; check the name (`govlake lineage base.detections --downstream` lists what exists)")
        effective = levels.effective_levels(edges, declared, policies.deidentifications(self.settings))
        found = lineage.walk(edges, start, direction)
        contracts = sorted({(e.contract, e.consumer) for _, e in found if e.contract})
        name = ".".join
        return {
            "target": target, "direction": direction,
            "start": [{"column": name(n), "level": effective.get(n)} for n in start],
            "edges": [{"depth": d, "from": name(e.source), "to": name(e.target), "transformation": e.transformation,
                       "masking": e.masking, "from_level": effective.get(e.source), "to_level": effective.get(e.target),
                       "contract": e.contract, "consumer": e.consumer, "job": e.job} for d, e in found],
            "contracts": [{"contract": c, "consumer": d} for c, d in contracts],
            "consumers": sorted({d for _, d in contracts if d}),
        }

    def lineage_targets(self) -> list[str]:
        """Every table and column lineage or a schema knows, `tier.table` and `tier.table.column`."""
        nodes = set(schemas.declared_levels(self.settings)) | {n for e in lineage.edges(self.settings) for n in (e.source, e.target)}
        return sorted({d for d, _ in nodes} | {f"{d}.{c}" for d, c in nodes})

    def audit_entries(self, limit: int = 50, action_prefix: str | None = None) -> list[dict]:
        return audit.entries(self.settings, limit, action_prefix)

    def search_audit(self, *, actor: str | None = None, action: str | None = None, obj: str | None = None, outcome: str | None = None,
                     since: datetime | None = None, until: datetime | None = None, before: int | None = None,
                     limit: int = 100) -> tuple[list[dict], int | None]:
        """One page of audit entries, newest first, and the `before` of the next page (see audit.search)."""
        iso = lambda t: times.as_utc(t).isoformat(timespec="microseconds") if t else None  # noqa: E731
        return audit.search(self.settings, actor=actor, action=action, obj=obj, outcome=outcome, since=iso(since), until=iso(until),
                            before=before, limit=limit)

    def backup(self, out: Path, passphrase: str) -> dict:
        """An encrypted backup of the governance store and the keys that check it (see governance/backup.py)."""
        return backup.backup(self.settings, out, passphrase)

    def restore(self, file: Path, passphrase: str) -> tuple[dict, audit.Verification]:
        """Restore a backup into this state folder (which must hold no store), then verify the audit chain."""
        return backup.restore(self.settings, file, passphrase)

    def audit_entry(self, seq: int) -> dict | None:
        return audit.entry(self.settings, seq)

    def verify_audit(self, anchors: Path | None = None) -> audit.Verification:
        return audit.verify(self.settings, anchors=anchors)

    def audit_head(self) -> dict | None:
        return audit.head(self.settings)

    def anchor_audit(self, path: Path) -> dict | None:
        """Append the audit log's head to `path` (kept where govlake's account cannot rewrite it)."""
        head = self.audit_head()
        if head is not None:
            audit.append_anchor(path, head["seq"], head["hash"])
        return head

    # -- operations on the record: retention, erasure, reports ------------------------------------

    def enforce_retention(self, when: datetime, *, dry_run: bool = False) -> retention.RetentionReport:
        policy, when = retention.load_policy(self.settings), times.as_utc(when)  # both checked before Spark starts
        return retention.enforce(self.spark, self.settings, when, dry_run=dry_run, policy=policy)

    def subject_token(self, *, identifier: str | None = None, token: str | None = None) -> str:
        """The erasure subject's platform token, from the raw identifier or a token a user gave;
        a token govlake could not have made is refused."""
        if identifier is not None and not identifier:
            raise ConfigError("the identifier is empty; pipe it in, e.g. `govlake erase --identifier-stdin < request.txt`")
        key = token_key(self.settings, create=False)
        token = erasure.subject_token(identifier, key) if identifier is not None else (token or "").strip()
        erasure.check_token(token, key, self.settings)  # an earlier key still in its overlap is taken too
        erasure.load_policy(self.settings)  # a bad policy fails before Spark starts
        return token

    @staticmethod
    def subject_fingerprint(token: str) -> str:
        """What the audit and the reports name an erasure subject by (not the token)."""
        return erasure.fingerprint(token)

    def erase(self, token: str, *, identifier: str | None = None, dry_run: bool = False, request: str | None = None,
              actor: str | None = None) -> erasure.ErasureReport:
        return erasure.erase(self.spark, self.settings, token, identifier=identifier, dry_run=dry_run, request=request,
                             **({"actor": actor} if actor else {}))

    def report(self, kind: str, start: str | None, end: str | None, *, expiring_days: int = 30, log: Log = _quiet) -> tuple[dict, list[dict]]:
        """The compliance or transparency report over a window: (the report, its sections)."""
        if expiring_days < 0:
            raise ConfigError(f"--expiring-days `{expiring_days}` must be 0 or more")
        first, last = reports.window(start, end, times.now())
        if kind == "compliance":
            log("reading the governance store and the lakehouse tables (Spark)")
            inputs = reports.gather(self.settings, first, last, spark=self.spark)
            report = reports.compliance(inputs, expiring_days=expiring_days, fairness_policy=policies.fairness(self.settings))
            return report, reports.compliance_sections(report)
        if kind == "transparency":
            names = {d.id: d.name for d in registry.load_all(self.settings)}
            report = reports.transparency(reports.gather(self.settings, first, last), names, policies.purposes(self.settings))
            return report, reports.transparency_sections(report)
        raise ConfigError(f"report kind `{kind}` is not compliance or transparency")

    def report_trend(self, now: datetime, weeks: int = 8) -> list[dict]:
        """The compliance indicators the governance store holds, per week over the last `weeks`
        weeks (oldest first): accesses, incidents per 10,000 accesses, compliant share, median
        contract turnaround. (Batch and fairness figures need Spark: see `report`.)"""
        from datetime import timedelta

        end = times.as_utc(now)
        out = []
        for i in range(weeks, 0, -1):
            first, last = end - timedelta(weeks=i), end - timedelta(weeks=i - 1)
            r = reports.compliance(reports.gather(self.settings, first, last), fairness_policy=policies.fairness(self.settings))
            sec, ta = r["security"], r["contract_turnaround"]
            out.append({"from": first.date().isoformat(), "to": last.date().isoformat(), "accesses": sec["accesses"],
                        "incidents": sec["incidents"], "incidents_per_10000": sec["incidents_per_10000"],
                        "compliant_share": sec["compliant_share"], "turnaround_median_h": ta["median_hours"], "approvals": ta["count"]})
        return out

    @staticmethod
    def render_report(title: str, sections: list[dict], *, html: bool = False) -> str:
        return reports.render_html(title, sections) if html else reports.render_text(title, sections)

    # -- classification ---------------------------------------------------------------------------

    def classify(self, target: str, *, propose: bool = False, actor: str | None = None) -> dict:
        """Detected personal information per column of a sample file or a table, against the
        table's effective classification; with `propose`, disagreements become proposals."""
        path = Path(target)
        is_file = path.suffix.lower() in (".csv", ".tsv", ".txt", ".jsonl", ".json", ".ndjson", ".parquet") or path.exists()
        found = classify.classify_columns(self.settings, classify.read_sample(path) if is_file else classify.table_sample(self.settings, target))
        tier, _, name = target.partition(".")
        declared = {} if is_file else proposals.effective(self.settings, tier, name)
        columns = []
        for r in found:
            d = r.as_dict()
            if r.name in declared:
                d["declared"] = declared[r.name]
                d["disagrees"] = proposals.disagrees(r, declared[r.name])
            columns.append(d)
        recorded = proposals.propose(self.settings, target, found, actor) if propose and declared else []
        return {"target": target, "columns": columns, "proposals": recorded}

    def classification_proposals(self, *, pending_only: bool = True) -> list[dict]:
        return proposals.listing(self.settings, "pending" if pending_only else None)

    def decide_proposal(self, proposal_id: int, actor: str, accept: bool, reason: str | None = None) -> dict:
        return proposals.decide(self.settings, proposal_id, actor, accept, reason)

    def scrub(self, text: str) -> tuple[str, list[Entity]]:
        """`text` with its personal information replaced, and what was found."""
        entities = engine.analyze(text)
        return engine.anonymize(text, entities), entities

    # -- registry, identities, SQL ----------------------------------------------------------------

    def departments(self) -> list[Department]:
        return registry.load_all(self.settings)

    def department(self, department_id: str) -> Department:
        return registry.get(self.settings, department_id)

    def check_department_files(self, files: list[Path]) -> dict[Path, str | None]:
        """Each department file (default: the registry's) -> None if valid, else what is wrong."""
        out: dict[Path, str | None] = {}
        for f in files or sorted(registry.registry_dir(self.settings).glob("*.yaml")):
            try:
                registry.load_department(f)
                out[f] = None
            except ConfigError as exc:
                out[f] = str(exc)
        return out

    def generate_feeds(self, out: Path, *, department: str | None = None, synthetic_departments: int = 0, rows: int, seed: int,
                       start: datetime, fault_rate: float = 0.0, faults: tuple[str, ...] | None = None) -> dict[str, generator.Feed]:
        """Sample landing files: for one registered department (into `out`), or for that many
        synthetic departments (registry files into `out/registry`, feeds into `out/landing/<id>`).
        `faults`: the kinds injected at `fault_rate` (default: every kind)."""
        faults = tuple(generator.ROW_FAULTS + generator.FILE_FAULTS) if faults is None else faults
        unknown = set(faults) - set(generator.ROW_FAULTS + generator.FILE_FAULTS)
        if unknown:
            raise ConfigError(f"unknown fault kind(s) {sorted(unknown)}; known: {', '.join(generator.ROW_FAULTS + generator.FILE_FAULTS)}")
        if synthetic_departments:
            depts = synthetic.write_departments(out / "registry", synthetic_departments, seed=seed)
            return {d.id: generator.generate(d, out / "landing" / d.id, rows=rows, seed=seed, start=start,
                                             fault_rate=fault_rate, faults=faults) for d in depts}
        dept = self.department(department)
        return {dept.id: generator.generate(dept, out, rows=rows, seed=seed, start=start, fault_rate=fault_rate, faults=faults)}

    def identities(self) -> list[identities.Identity]:
        return identities.load(self.settings).identities

    def connection(self, user: str, *, with_password: bool = False) -> dict:
        """How `user` connects to Trino (URL, catalog, the server's certificate; the password on request)."""
        identities.load(self.settings).get(user)
        cert = trino_security.client_cert(self.settings)
        out = {"url": self.settings.trino_endpoint, "user": user, "catalog": self.settings.trino_catalog,
               "certificate": str(cert) if cert else None}
        if with_password:
            out["password"] = trino_security.password(self.settings, user)
        return out

    def sql(self, user: str, query: str, max_rows: int | None = None) -> Result:
        """`query` through Trino as `user`: the access rules decide what it may read."""
        return sql.query(self.settings, user, query, max_rows=max_rows)

    def explain_masks(self, user: str, query: str, columns: list[str]) -> list[str]:
        """Plain-language notes for result columns that arrive masked: per table the query names in
        `user`'s application schema, the active contract's masking method on each granted column
        whose name is among `columns`, with the contract and its purpose."""
        try:
            tables = {(t.db, t.name) for t in sqlglot.parse_one(query, read="trino").find_all(exp.Table) if t.db}
        except sqlglot.errors.ParseError:
            return []
        who = self.identity(user)
        methods = policies.masking_methods(self.settings)
        notes = []
        for spec in workflow.active_specs(self.settings):
            if spec.consumer != who.department or (spec.consumer_schema, spec.table) not in tables:
                continue
            for c in spec.columns:
                if c.masking not in (None, "identity", "suppress") and c.name in columns:
                    what = methods[c.masking].description if c.masking in methods else c.masking
                    notes.append(f"`{c.name}` of `{spec.consumer_schema}.{spec.table}` arrives masked with `{c.masking}` ({what}) "
                                 f"under contract `{spec.id}` for purpose `{spec.purpose}`")
        return notes

    def explain_refusal(self, user: str, query: str) -> list[str]:
        """Plain-language reasons a refused query touched data `user` may not read: per table it
        names, the contract that shared it and what became of it (revoked, expired, rejected, for
        another department), or that the tier is not shared at all. Facts from the workflow's
        record only; nothing from the data itself."""
        try:
            tables = {(t.db, t.name) for t in sqlglot.parse_one(query, read="trino").find_all(exp.Table) if t.db}
        except sqlglot.errors.ParseError:
            return []
        who = self.identity(user)
        by_target = {}
        for rec in self.contracts():
            by_target.setdefault((rec.spec.consumer_schema, rec.spec.table), []).append(rec)
        reasons = []
        for schema, table in sorted(tables):
            name = f"{schema}.{table}"
            if schema in ("base", "analytic", "governance"):
                reasons.append(f"`{name}` is in the {schema} tier, which is not shared with {who.role.value}s of a department; "
                               "data reaches another department only through a sharing contract")
                continue
            recs = sorted(by_target.get((schema, table), []), key=lambda r: r.events[-1]["at"] if r.events else "")
            if not recs:
                reasons.append(f"no sharing contract grants `{name}`")
                continue
            rec = recs[-1]
            last = rec.events[-1] if rec.events else {}
            if rec.consumer != who.department:
                reasons.append(f"`{name}` is shared by contract `{rec.id}` with department `{rec.consumer}`, not with `{who.department}`")
            elif rec.status in ("revoked", "rejected", "expired", "submitted", "draft"):
                when = f" at {last.get('at', '')[:16]} by {last.get('actor')}" if last else ""
                why = f": {last['reason']}" if last.get("reason") else ""
                reasons.append(f"contract `{rec.id}` that shared `{name}` is {rec.status}{when}{why}")
        return reasons

    # -- signing in (the console) ------------------------------------------------------------------

    def identity(self, user: str) -> identities.Identity:
        return identities.load(self.settings).get(user)

    def check_password(self, user: str, password: str) -> bool:
        """Whether `password` is `user`'s local password (the one Trino accepts)."""
        return trino_security.check_password(self.settings, user, password)

    def record_sign_in(self, user: str, outcome: str, source: str = "console") -> None:
        """Every sign-in, failure and lockout goes into the audit chain (`auth.*`)."""
        audit.record(self.settings, user, f"auth.{outcome}", f"{source}:sign-in", {"outcome": outcome})

    def console_secrets(self) -> tuple[bytes, tuple[Path, Path]]:
        """(the session-signing key, (certificate, private key)): created once, private to the service account;
        the passwords are generated with them, as for Trino."""
        trino_security.ensure(self.settings)
        return console_session_key(self.settings), trino_security.tls_files(self.settings)

    # -- the local services -----------------------------------------------------------------------

    def platform_services(self) -> list:
        """The services the settings have govlake run on this host below Trino, in start order:
        PostgreSQL, the object store, the Spark master and workers (none on the embedded profile)."""
        s = self.settings
        return [m for m, wanted in ((postgres, s.postgres_port), (object_store, s.object_store_port),
                                    (spark_cluster, s.spark_workers)) if wanted]

    def start_platform(self, log: Log = _quiet) -> list[Status]:
        """PostgreSQL, the object store and the Spark cluster, where the settings have govlake run them."""
        return [m.start(self.settings, log=log) for m in self.platform_services()]

    def start_services(self, log: Log = _quiet) -> list[Status]:
        """The platform services (cluster profile), then Trino (with its audit receiver and its
        workers), then the console, then their supervisor, which restarts whichever of Trino,
        the receiver and the console dies and measures their availability."""
        with supervisor.starting(self.settings):  # never while the supervisor starts one of them
            platform = self.start_platform(log)
            st = trino.start(self.settings, log=log)
            log(f"starting the console at {console_process.url(self.settings)}")
            console = console_process.start(self.settings)
            scheduler = [airflow_server.start(self.settings, log=log)] if self.settings.airflow_port else []
        log(f"starting the supervisor (probes every {self.settings.supervise_every_s:g} s)")
        watched = supervisor.SERVICES + supervisor.local_platform(self.settings)
        return [*platform, st, *trino.worker_status(self.settings), console, *scheduler, supervisor.start(self.settings, watched)]

    def stop_services(self) -> list[Status]:
        sup = supervisor.stop(self.settings)  # first: it would restart what is being stopped
        with supervisor.starting(self.settings):
            scheduler = [airflow_server.stop(self.settings)] if self.settings.airflow_port else []  # before the services its tasks use
            out = [*scheduler, trino.stop(self.settings), console_process.stop(self.settings), sup]
        return out + [m.stop(self.settings) for m in reversed(self.platform_services())]

    def services(self, window: timedelta = timedelta(hours=24), now: datetime | None = None) -> ServicesReport:
        """The services' state, each one's availability over `window` up to `now` as the
        supervisor measured it (with the outage it is in, loudly), the ingest's accounting (while
        Trino runs) and contracts by state."""
        st = trino.status(self.settings)
        health = self.ingest_health() if st.state in ("running", "external") else None
        state, port, detail = audit_receiver.status_line(self.settings)
        if state == "stopped" and st.state == "running":
            state = "unhealthy"  # Trino runs without its receiver: queries are kept in the spool, not yet in the chain
        receiver = Status("audit", state, audit_receiver.url(port) if port else "", detail=detail)
        sup = supervisor.status(self.settings)
        platform = [m.status(self.settings) for m in self.platform_services()]
        scheduler = [airflow_server.status(self.settings)] if self.settings.airflow_port else []
        statuses = [*platform, st, *trino.worker_status(self.settings), receiver, console_process.status(self.settings), *scheduler, sup]
        end = (now or times.now()).timestamp()
        measured = supervisor.report(self.settings, end - window.total_seconds(), end)
        for s in statuses:
            if s.name in measured:
                s.availability = supervisor.as_dict(measured[s.name])
                if s.state in ("running", "external") or sup.state != "running":
                    s.availability["down_since"] = None  # back already, or nobody watching: no outage to report now
        return ServicesReport(statuses, health, dict(Counter(r.status for r in self.contracts())), window.total_seconds())

    def ingest_health(self) -> dict | None:
        """Batch accounting and quality-gate failures from base.batch_log, through Trino."""
        try:
            totals = self.sql(
                "etl_service",
                "SELECT count(DISTINCT batch_id), coalesce(sum(quarantined), 0), "
                "count(DISTINCT CASE WHEN quality_status = 'failed' THEN batch_id END), "
                "count(DISTINCT CASE WHEN balanced <> 'true' THEN batch_id END) FROM base.batch_log",
            ).rows[0]
            failed = self.sql(
                "etl_service",
                "SELECT department, entity, batch_id FROM base.batch_log WHERE quality_status = 'failed' ORDER BY ingested_at DESC LIMIT 10",
            ).as_dicts()
        except GovlakeError:
            return None  # nothing ingested yet (no batch log table)
        try:
            flags = self.sql("etl_service",
                             "SELECT department, entity, column_name, declared_level, proposed_level FROM base.classification_flags "
                             "ORDER BY flagged_at DESC LIMIT 10").as_dicts()
            flagged = self.sql("etl_service", "SELECT count(DISTINCT entity || '.' || column_name) FROM base.classification_flags").rows[0][0]
        except GovlakeError:
            flags, flagged = [], None  # not registered yet (the next run registers it)
        return {"batches": totals[0], "quarantined_rows": totals[1], "quality_failed_batches": totals[2],
                "unbalanced_batches": totals[3], "quality_failures": failed,
                "classification_flagged_columns": flagged, "classification_flags": flags}

    def department_health(self, department: str, now: datetime) -> dict:
        """One department's feeds, through Trino as the ETL service: per entity its batches, rows
        read/accepted/quarantined, quality-gate failures and the age of its last batch; recent
        batches; quarantine reasons with the file and line (never the rejected record itself);
        failed expectations; classification flags; and the pending classification proposals on its
        own tables and on the platform tables its feeds go into (the latter decided by a compliance
        officer)."""
        dept = self.department(department)  # a registered id (letters, digits, _): safe inside the SQL below
        where = f"department = '{dept.id}'"
        out: dict = {"department": dept, "feeds": [], "batches": [], "reasons": [], "quarantined": [], "failed_checks": [], "flags": [],
                     "proposals": [p for p in self.classification_proposals() if p.get("owner") in (dept.id, proposals.PLATFORM)]}
        queries = {
            "feeds": "SELECT entity, count(*) AS batches, sum(read) AS read, sum(accepted) AS accepted, sum(quarantined) AS quarantined, "
                     "count_if(quality_status = 'failed') AS quality_failed, count_if(balanced <> 'true') AS unbalanced, "
                     f"max(ingested_at) AS last_batch FROM base.batch_log WHERE {where} GROUP BY entity ORDER BY entity",
            "batches": "SELECT batch_id, entity, read, accepted, quarantined, duplicates, balanced, quality_status, rejected_files, ingested_at "
                       f"FROM base.batch_log WHERE {where} ORDER BY ingested_at DESC, entity LIMIT 20",
            "reasons": f"SELECT entity, reason, count(*) AS rows FROM base.quarantine WHERE {where} GROUP BY entity, reason ORDER BY 3 DESC",
            "quarantined": "SELECT entity, reason, source_file, line, batch_id FROM base.quarantine "
                           f"WHERE {where} ORDER BY quarantined_at DESC, source_file, line LIMIT 50",
            "failed_checks": "SELECT batch_id, entity, expectation, column_name, critical, unexpected_count FROM base.quality_results "
                             f"WHERE {where} AND success = 'false' ORDER BY checked_at DESC LIMIT 20",
            "flags": "SELECT entity, column_name, declared_level, proposed_level, detected, flagged_at FROM base.classification_flags "
                     f"WHERE {where} ORDER BY flagged_at DESC LIMIT 20",
        }
        for name, query in queries.items():
            try:
                out[name] = self.sql("etl_service", query).as_dicts()
            except GovlakeError:
                out[name] = []  # the table does not exist before the first ingest
        for feed in out["feeds"]:
            last = feed["last_batch"]
            if last is not None:
                last = last if last.tzinfo else last.replace(tzinfo=timezone.utc)
                feed["age_min"] = round((times.as_utc(now) - last).total_seconds() / 60)
        return out

    def dag_runs(self, limit: int = 20) -> dict | None:
        """Recent DAG runs and failed task attempts from Airflow's metadata database (read only);
        None when Airflow has not run here yet."""
        db = self.settings.airflow_home / "airflow.db"
        if not db.is_file():
            return None
        import sqlalchemy as sa

        engine = sa.create_engine(f"sqlite:///file:{db}?mode=ro&uri=true")
        try:
            with engine.connect() as conn:
                runs = [dict(r) for r in conn.execute(sa.text(
                    "SELECT dag_id, run_id, state, start_date, end_date FROM dag_run ORDER BY id DESC LIMIT :n"), {"n": limit}).mappings()]
                failed = [dict(r) for r in conn.execute(sa.text(
                    "SELECT dag_id, task_id, run_id, try_number, end_date FROM task_instance WHERE state = 'failed' "
                    "ORDER BY end_date DESC LIMIT :n"), {"n": limit}).mappings()]
        except sa.exc.SQLAlchemyError as exc:
            return {"runs": [], "failed": [], "error": f"Airflow's database could not be read: {type(exc).__name__}"}
        finally:
            engine.dispose()
        return {"runs": runs, "failed": failed, "error": None}

    def fetch_artifacts(self, log: Log = _quiet) -> tuple[list[Path], Path]:
        """Download and verify the Java artifacts: (Spark jars, Trino's install folder)."""
        jars = artifacts.spark_jars(self.settings, log=log) + artifacts.s3a_jars(self.settings, log=log)
        if self.settings.object_store_port:
            jars.append(artifacts.object_store_jar(self.settings, log=log))
        return jars, artifacts.trino_install(self.settings, log=log)
