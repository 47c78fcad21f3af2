"""Process helpers shared by the local services (Trino, the object store, the Spark cluster,
PostgreSQL, the supervisor, the audit receiver)."""
from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path


def running_pid(pid_file: Path) -> int | None:
    """The pid in `pid_file` while that process runs; None when the file is missing, unreadable or stale."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if alive(pid) else None


def alive(pid: int) -> bool:
    """True while `pid` runs; reaps it when it is our own exited child (no zombie counts as alive)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def stop(pid_file: Path, *, sig: int = signal.SIGTERM, timeout: float, group: bool = True) -> None:
    """Stop the process named by `pid_file`, then remove the file: send `sig`, wait up to `timeout`
    seconds for it to exit, SIGKILL it if it has not. `group` (the default) signals its whole
    process group (the services are started as session leaders, so their children go too);
    `group=False` signals the process alone. A missing or stale pid file is only removed."""
    pid = running_pid(pid_file)
    if pid is not None:
        kill = os.killpg if group else os.kill
        try:
            kill(pid, sig)
            deadline = time.monotonic() + timeout
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if alive(pid):
                kill(pid, signal.SIGKILL)
        except ProcessLookupError:  # it exited between the look and the signal
            pass
    pid_file.unlink(missing_ok=True)


def port_in_use(host: str, port: int) -> bool:
    """True when `port` on `host` cannot be bound (another program listens there)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def rss_mb(pid: int) -> float | None:
    """Resident memory of `pid` in MiB; None when it is gone or unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None
