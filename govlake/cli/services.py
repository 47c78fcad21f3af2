"""`govlake up|down|status`: the local services (Trino now; the console and Airflow later)."""
from __future__ import annotations

from govlake.cli._output import emit_json, info
from govlake.services import trino
from govlake.settings import load_settings


def register(sub) -> None:
    p = sub.add_parser("up", help="start the local services and wait until they are healthy")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=up)
    p = sub.add_parser("down", help="stop the local services")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=down)
    p = sub.add_parser("status", help="report the local services")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=status)
    register_fetch(sub)


def _show(statuses, as_json: bool) -> None:
    if as_json:
        emit_json({"services": [s.as_dict() for s in statuses]})
        return
    for s in statuses:
        mem = f", {s.memory_mb:.0f} MiB RSS" if s.memory_mb else ""
        pid = f", pid {s.pid}" if s.pid else ""
        print(f"{s.name:8} {s.state:10} {s.url}{pid}{mem}{' — ' + s.detail if s.detail else ''}")


def up(args) -> int:
    settings = load_settings()
    st = trino.start(settings, log=info)
    _show([st], args.json)
    return 0 if st.state in ("running", "external") else 1


def down(args) -> int:
    settings = load_settings()
    _show([trino.stop(settings)], args.json)
    return 0


def status(args) -> int:
    settings = load_settings()
    st = trino.status(settings)
    _show([st], args.json)
    return 0 if st.state in ("running", "external", "stopped") else 1


def register_fetch(sub) -> None:
    p = sub.add_parser("fetch", help="download and verify the Java artifacts (Delta jars, Trino server) into the cache")
    p.set_defaults(func=fetch)


def fetch(args) -> int:
    from govlake import artifacts

    settings = load_settings()
    for path in artifacts.spark_jars(settings, log=info):
        print(f"spark jar  {path}")
    print(f"trino      {artifacts.trino_install(settings, log=info)}")
    return 0
