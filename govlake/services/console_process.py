"""The console as a local service: started in the background by `govlake up` (as
`govlake console`, its own process), stopped by `govlake down`, reported by `govlake status`."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from govlake.core.errors import ServiceError
from govlake.core.settings import Settings
from govlake.platform.processes import alive, running_pid
from govlake.services.trino import Status


def url(settings: Settings) -> str:
    return f"https://{settings.trino_host}:{settings.console_port}/"


def _pid_file(settings: Settings) -> Path:
    return settings.run_dir / "console.pid"


def _pid(settings: Settings) -> int | None:
    return running_pid(_pid_file(settings))


def _listening(settings: Settings) -> bool:
    with socket.socket() as s:
        s.settimeout(2.0)  # a peer that never answers must not hang `govlake status` or the supervisor
        return s.connect_ex((settings.trino_host, settings.console_port)) == 0


def status(settings: Settings) -> Status:
    pid = _pid(settings)
    if pid is None:
        return Status("console", "stopped", url(settings))
    return Status("console", "running" if _listening(settings) else "starting", url(settings), pid)


def start(settings: Settings, *, timeout_s: float = 60.0) -> Status:
    current = status(settings)
    if current.state == "running":
        return current
    if current.state == "stopped" and _listening(settings):
        raise ServiceError(f"port {settings.console_port} is taken by another program; set GOVLAKE_CONSOLE_PORT to a free port")
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    if current.pid is None:
        out = (settings.logs_dir / "console.log").open("ab")
        proc = subprocess.Popen([sys.executable, "-m", "govlake", "console"], env={**os.environ, **settings.as_env()},
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=str(settings.home))
        _pid_file(settings).write_text(str(proc.pid))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        st = status(settings)
        if st.state == "running":
            return st
        if st.state == "stopped":
            break
        time.sleep(0.2)
    raise ServiceError(f"the console did not start; see {settings.logs_dir / 'console.log'}")


def stop(settings: Settings) -> Status:
    pid = _pid(settings)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if not alive(pid):
                break
            time.sleep(0.1)
    _pid_file(settings).unlink(missing_ok=True)
    return status(settings)
