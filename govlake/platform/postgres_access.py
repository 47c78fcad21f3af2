"""How govlake signs in to the PostgreSQL it runs itself (`postgres_port`, services/postgres.py).

The governance store (governance/store.py) and Airflow's environment (services/airflow_env.py)
both connect to that cluster; they take its URLs from here, a layer below both. The role is
`govlake`; its password is generated once into `<state>/secrets/postgres.json` (never in the
repository, never on a command line) and set when the cluster is created.
"""
from __future__ import annotations

import json
import secrets
from pathlib import Path
from urllib.parse import quote

from govlake.core import private
from govlake.core.errors import ConfigError
from govlake.core.settings import Settings

USER = "govlake"
HOST = "127.0.0.1"


def password_file(settings: Settings) -> Path:
    return settings.secrets_dir / "postgres.json"


def password(settings: Settings) -> str:
    """The `govlake` role's password, generated on first use."""
    path = password_file(settings)
    if not path.is_file():
        private.private_dir(settings.secrets_dir)
        private.create_private(path, json.dumps({"user": USER, "password": secrets.token_urlsafe(24)}))
    try:
        return str(json.loads(path.read_text())["password"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"`{path}` holds no PostgreSQL password (`{{\"password\": \"...\"}}`); restore it from a backup "
                          "of the secrets folder") from exc


def url(settings: Settings, database: str, driver: str = "psycopg") -> str:
    """SQLAlchemy URL of `database` on the local PostgreSQL, password included."""
    if not settings.postgres_port:
        raise ConfigError("no local PostgreSQL is configured: set GOVLAKE_POSTGRES_PORT (the cluster profile sets it)")
    return f"postgresql+{driver}://{USER}:{quote(password(settings), safe='')}@{HOST}:{settings.postgres_port}/{database}"
