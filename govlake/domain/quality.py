"""Quality gates: Great Expectations suites (`expectations/base.<table>.json`) run on every batch.

Suites execute on Spark (GX's Spark datasource over the batch DataFrame, no pandas on the
driver). Each expectation's outcome becomes a row of `base.quality_results`; a failed
expectation marked `meta.critical` fails the batch, which then stays out of the analytic tier
until a corrected batch arrives.
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pyspark.sql import DataFrame

from govlake.core.errors import ConfigError
from govlake.core.settings import Settings

log = logging.getLogger("govlake.quality")


@dataclass
class Outcome:
    expectation: str
    column: str | None
    critical: bool
    success: bool
    unexpected_count: int | None
    detail: str


@dataclass
class QualityResult:
    suite: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "failed" if any(o.critical and not o.success for o in self.outcomes) else "passed"

    @property
    def failed_critical(self) -> list[str]:
        return [f"{o.expectation}({o.column})" for o in self.outcomes if o.critical and not o.success]


def suite_path(settings: Settings, tier: str, table: str) -> Path:
    return settings.path("expectations", f"{tier}.{table}.json")


def load_suite(settings: Settings, tier: str, table: str) -> dict:
    path = suite_path(settings, tier, table)
    try:
        suite = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"no expectation suite for `{tier}.{table}`: expected {path}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"expectation suite `{path}` is not valid JSON: {exc}") from exc
    for i, e in enumerate(suite.get("expectations", [])):
        if "type" not in e or "kwargs" not in e:
            raise ConfigError(f"expectation suite `{path}`: expectation #{i} needs `type` and `kwargs`")
    return suite


def suite_columns(suite: dict, columns: list[str]) -> list[str]:
    """The columns of `columns` that `suite`'s expectations name (any kwarg naming a column or a
    list of them). All of `columns` if an expectation has a row condition (which may name any
    column), looks at the table as a whole (its columns, say; a row count needs none), or names
    no column at all."""
    named: dict[str, None] = {}
    for e in suite.get("expectations", []):
        kwargs, kind = e["kwargs"], e["type"]
        if kind.startswith("expect_table_row_count"):
            continue
        if "row_condition" in kwargs or kind.startswith("expect_table_"):
            return list(columns)
        mine = [v for k, v in kwargs.items() if k.startswith("column") and isinstance(v, str)]
        mine += [c for k, v in kwargs.items() if k.startswith("column") and isinstance(v, list) for c in v]
        if not mine:
            return list(columns)
        named.update(dict.fromkeys(mine))
    return [c for c in columns if c in named]


_context_lock = threading.Lock()


def warm_up() -> None:
    """Import Great Expectations and build its context in the background (the import alone takes
    seconds), so that it is ready when the first batch has been read."""

    def build() -> None:
        try:
            _batch_definition()
        except Exception:  # noqa: BLE001 - the first real use raises it again, with its context
            log.debug("quality context warm-up failed", exc_info=True)

    threading.Thread(target=build, name="quality-warm-up", daemon=True).start()


def _batch_definition():
    with _context_lock:
        return _build_batch_definition()


@lru_cache(maxsize=1)
def _build_batch_definition():
    import great_expectations as gx
    from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults, ProgressBarsConfig

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        progress_bars=ProgressBarsConfig(globally=False),  # batch logs, not terminal animations
        analytics_enabled=False,
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    # persist=False: the batch is a projection of rows govlake has cached already, and GX never
    # releases what it persists (a copy of every batch would stay in memory for the session)
    source = context.data_sources.add_spark(name="govlake", persist=False)
    asset = source.add_dataframe_asset(name="batch")
    return context, asset.add_batch_definition_whole_dataframe("whole")


@lru_cache(maxsize=16)
def _suite(name: str, expectations_json: str):
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    context, _ = _batch_definition()
    suite = gx.ExpectationSuite(name=f"{name}-{abs(hash(expectations_json))}")
    for e in json.loads(expectations_json):
        suite.add_expectation_configuration(ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"], meta=e.get("meta", {})))
    return context.suites.add(suite)


def validate(df: DataFrame, suite: dict) -> QualityResult:
    """Run `suite` on the batch `df` with Spark; one Outcome per expectation."""
    _, batch_definition = _batch_definition()
    gx_suite = _suite(suite["name"], json.dumps(suite["expectations"], sort_keys=True))
    # unexpected counts, never sample values: the values may be personal data, and a zero-length
    # sample spares GX one Spark job per expectation
    result = batch_definition.get_batch(batch_parameters={"dataframe": df}).validate(
        gx_suite, result_format={"result_format": "BASIC", "partial_unexpected_count": 0})
    outcomes = []
    for r in result.results:
        cfg = r.expectation_config
        res = r.result or {}
        outcomes.append(
            Outcome(
                expectation=cfg.type,
                column=cfg.kwargs.get("column"),
                critical=bool((cfg.meta or {}).get("critical", False)),
                success=bool(r.success),
                unexpected_count=res.get("unexpected_count"),
                # never the unexpected values themselves: they may be personal data
                detail=json.dumps({k: res[k] for k in ("observed_value", "unexpected_percent") if k in res},
                                  default=str, ensure_ascii=False)[:1000],
            )
        )
    return QualityResult(suite["name"], outcomes)
