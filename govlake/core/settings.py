"""One settings object for every part of govlake.

Values come, highest priority first, from `GOVLAKE_*` environment variables, then the YAML
file named by `GOVLAKE_CONFIG` (default `govlake.yaml` in the project root, optional), then the
profile's file `infra/profiles/<profile>.yaml` (`GOVLAKE_PROFILE`, default `embedded`), then the
defaults below, which describe the one-machine setup: a local-directory warehouse, Spark in
local mode, one Trino server on loopback, SQLite. The `cluster` profile sets the same keys for a
distributed deployment (PostgreSQL, an S3 object store, a Spark master and workers, a Trino
coordinator and workers); which services govlake starts on this host follows from the keys
too (`postgres_port`, `object_store_port`, `spark_workers`, `trino_workers`). Jobs never look at
the profile's name: only the settings differ (see README, "Scaling out").

Functions take a `Settings` as a parameter; only entry points call `load_settings()`.
"""
from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, YamlConfigSettingsSource

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _config_file() -> Path:
    return Path(os.environ.get("GOVLAKE_CONFIG", PROJECT_ROOT / "govlake.yaml"))


PROFILES = PROJECT_ROOT / "infra" / "profiles"


def _profile_file(init_settings: PydanticBaseSettingsSource, config: Path) -> Path | None:
    """The profile's YAML file, named (highest first) by the caller, GOVLAKE_PROFILE or the config file."""
    import yaml

    from govlake.core.errors import ConfigError

    name, source = getattr(init_settings, "init_kwargs", {}).get("profile"), "the caller"
    if not name and os.environ.get("GOVLAKE_PROFILE"):
        name, source = os.environ["GOVLAKE_PROFILE"], "GOVLAKE_PROFILE (or --profile)"
    if not name and config.is_file():
        name, source = (yaml.safe_load(config.read_text()) or {}).get("profile"), f"`profile` in {config}"
    name = name or "embedded"
    known = sorted(p.stem for p in PROFILES.glob("*.yaml"))
    if name not in known:  # checked against the folder's files before the name goes into a path
        raise ConfigError(f"unknown profile `{name}` from {source}; the profiles are: {', '.join(known)}")
    return PROFILES / f"{name}.yaml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GOVLAKE_", extra="forbid", frozen=True)

    profile: str = Field("embedded", pattern=r"^[a-z][a-z0-9_-]*$", description="a named set of defaults: infra/profiles/<profile>.yaml (embedded | cluster)")
    home: Path = Field(PROJECT_ROOT, description="project root holding catalog/, policies/, schemas/")
    state_dir: Path | None = Field(None, description="ignored folder for warehouse, logs, secrets, service state; default <home>/.govlake (other profiles: <home>/.govlake-<profile>)")
    cache_dir: Path = Field(Path.home() / ".cache" / "govlake", description="download cache for Java artifacts, shared by clones")
    maven_repo: str = "https://repo1.maven.org/maven2"
    download_timeout_s: float = 300.0

    departments_dir: Path | None = Field(None, description="department registry folder; default <home>/catalog/departments")
    identities_file: Path | None = Field(None, description="identity registry; default <home>/catalog/identities.yaml")
    warehouse: str | None = Field(None, description="warehouse root: a local path (default <state>/warehouse) or s3a://bucket/prefix")

    governance_url: str | None = Field(None, description="SQLAlchemy URL of the governance store; default sqlite:///<state>/governance.db")
    audit_anchor_log: Path | None = Field(None, description="file the audit chain's head is appended to, kept where the service account cannot rewrite it (append-only, another host)")
    audit_anchor_every_s: float = Field(60.0, description="at most one head per this many seconds per process in the anchor log")
    app_history_grace_s: float = Field(10.0, ge=0, description="how long a replaced application-table version stays for readers already reading it; then it is vacuumed")
    spark_master: str = "local[2]"
    spark_driver_memory: str = "2g"
    spark_shuffle_partitions: int = 4
    spark_java_home: Path | None = Field(None, description="JDK for Spark; default: the JDK on PATH / JAVA_HOME (17 or 21)")
    spark_extra_conf: dict[str, str] = Field(default_factory=dict)
    spark_driver_host: str = Field("127.0.0.1", description="address executors reach the driver at (this host's address on a real cluster)")
    spark_executor_loss_timeout_s: float = Field(120.0, gt=0, description="on a cluster, a job that has had no executor this long is stopped with an error")
    spark_workers: int = Field(0, ge=0, description="Spark standalone workers govlake starts on this host (with a master at spark_master); 0: none")
    spark_master_webui_port: int = Field(8080, ge=1, le=65535)
    spark_worker_cores: int = Field(2, ge=1)
    spark_executor_cores: int | None = Field(None, ge=1, description="cores of each executor on a standalone cluster; default all of a worker's")
    spark_worker_memory: str = Field("3g", description="memory a local standalone worker offers its executors")
    spark_executor_memory: str = Field("2g", description="heap of each executor on a standalone cluster")

    # Object storage (S3 API). With `object_store_port` govlake starts its own S3-compatible server on
    # loopback (s3proxy, file-system backend under <state>/objects); otherwise `s3_endpoint` names one.
    object_store_port: int | None = Field(None, ge=1, le=65535, description="start a local S3-compatible store on this port")
    s3_endpoint: str | None = Field(None, description="S3 endpoint for Spark and Trino; default http://127.0.0.1:<object_store_port>")
    s3_region: str = "us-east-1"
    s3_access_key: str | None = Field(None, description="default: generated into <state>/secrets for the local store")
    s3_secret_key: str | None = Field(None, description="default: generated into <state>/secrets for the local store")

    # PostgreSQL: with `postgres_port` govlake runs its own cluster under <state>/postgres (Debian's binaries)
    # holding the governance store and Airflow's database, unless their URLs are given
    postgres_port: int | None = Field(None, ge=1, le=65535, description="start a local PostgreSQL on this port")
    postgres_durable: bool = Field(True, description="false only for throwaway test clusters: fsync and synchronous commit off")
    airflow_executor: str | None = Field(None, description="Airflow's executor; default Airflow's own (LocalExecutor in Airflow 3)")
    airflow_port: int | None = Field(None, ge=1, le=65535, description="run Airflow's scheduler, DAG processor and API server here, the API on this port")
    airflow_parallelism: int = Field(4, ge=1, description="task instances Airflow runs at once (each is a process with its own Spark driver)")
    airflow_db_url: str | None = Field(None, description="Airflow's metadata database; default SQLite in <state>/airflow, or the local PostgreSQL")

    trino_host: str = "127.0.0.1"
    trino_port: int = 8090
    trino_url: str | None = Field(None, description="use an existing Trino coordinator instead of the embedded one")
    trino_heap: str = "2G"
    trino_catalog: str = "lake"
    trino_java_home: Path | None = Field(None, description="JDK >= 24 for Trino; default: searched (see platform/java.py)")
    trino_start_timeout_s: float = 180.0
    trino_workers: int = Field(0, ge=0, description="Trino workers govlake starts on this host; with any, the coordinator schedules no work itself")
    trino_worker_heap: str = "1536M"
    trino_worker_port: int = Field(0, ge=0, le=65535, description="HTTPS port of the first local Trino worker (the next ones count up); 0: trino_port + 1")
    trino_metastore_dir: str | None = Field(None, description="Trino's file metastore; default <state>/trino/metastore, on the cluster profile in the object store")
    sign_in_max_failures: int = Field(5, ge=1, description="failed sign-ins within the lockout window that lock a user out of Trino")
    sign_in_lockout_s: int = Field(300, ge=1, description="the lockout window and how long a lockout lasts")
    console_port: int = Field(8443, ge=1, le=65535, description="HTTPS port of the governance console on loopback")
    console_session_s: int = Field(8 * 3600, ge=60, description="how long a console sign-in lasts")
    supervise_every_s: float = Field(5.0, ge=0.2, description="how often `govlake up`'s supervisor probes the services (and restarts a dead one)")
    console_verify_every_s: int = Field(60, ge=1, description="how old the console's last full walk of the audit chain may be before it walks it again (in the background)")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_file()
        if path.is_file():
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=path))
        profile = _profile_file(init_settings, path)
        if profile is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=profile))
        return tuple(sources)

    @cached_property
    def state(self) -> Path:
        default = self.home / (".govlake" if self.profile == "embedded" else f".govlake-{self.profile}")
        return (self.state_dir or default).resolve()

    @property
    def warehouse_root(self) -> str:
        """Warehouse root as Spark and Trino see it (a local absolute path or an object-store URI)."""
        return self.warehouse or str(self.state / "warehouse")

    @property
    def logs_dir(self) -> Path:
        return self.state / "logs"

    @property
    def secrets_dir(self) -> Path:
        return self.state / "secrets"

    @property
    def run_dir(self) -> Path:
        return self.state / "run"

    @property
    def airflow_home(self) -> Path:
        return self.state / "airflow"

    @property
    def landing_root(self) -> Path:
        return self.state / "landing"

    @property
    def identities_path(self) -> Path:
        return self.identities_file or self.path("catalog", "identities.yaml")

    @property
    def trino_endpoint(self) -> str:
        return self.trino_url or f"https://{self.trino_host}:{self.trino_port}"

    def as_env(self) -> dict[str, str]:
        """`GOVLAKE_*` variables that give a child process these same settings."""
        import json

        out = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            if value is not None:
                out[f"GOVLAKE_{name.upper()}"] = json.dumps(value) if isinstance(value, dict) else str(value)
        out["GOVLAKE_STATE_DIR"] = str(self.state)
        return out

    def path(self, *parts: str) -> Path:
        """A path inside the project (catalog/, policies/, schemas/...)."""
        return self.home.joinpath(*parts)


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
