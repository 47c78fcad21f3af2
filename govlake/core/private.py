"""Everything govlake writes on a host is private to its service account.

The state folder holds raw plates, incident notes, the audit log with every query text, secrets
and the departments' landing archives; another account on the host must not read any of it.
Three layers keep it so:

- every govlake process runs with umask 077 (set when the package is imported, so the CLI, the
  DAG tasks, the jobs, the receiver and every service they start inherit it);
- the state folder itself is 0700, so nothing under it is reachable by another account even if
  a file inside were looser; `tighten` brings a folder made by an older govlake to 0700/0600;
- the JVMs write with the same rights: Hadoop's own umask (it sets file modes explicitly,
  ignoring the process umask) is 077 for Spark, and Spark's and Trino's scratch and temp folders
  live inside the state folder (`scratch_dir`) instead of the shared /tmp.
"""
from __future__ import annotations

import os
import stat
import threading
from contextlib import contextmanager
from pathlib import Path

UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


def harden_process() -> None:
    """umask 077 for this process and every process it starts."""
    os.umask(UMASK)


def private_dir(path: Path) -> Path:
    """`path` (and missing parents) created, and `path` itself made 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if path.stat().st_uid == os.geteuid() and stat.S_IMODE(path.stat().st_mode) != DIR_MODE:
        os.chmod(path, DIR_MODE)
    return path


def write_private(path: Path, data: str | bytes) -> None:
    """Replace `path` atomically with `data`, readable by the service account only."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")  # writers in other processes never share it
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    os.chmod(tmp, FILE_MODE)  # a leftover tmp file keeps its mode through O_TRUNC
    os.replace(tmp, path)


def create_private(path: Path, data: str) -> bool:
    """Write `data` to `path` unless it exists (never replacing a secret another process made
    first); True when this call created it."""
    private_dir(path.parent)
    if path.exists():
        return False
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w") as f:
        f.write(data)
    try:
        os.link(tmp, path)  # appears whole or not at all; fails if another process made it first
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)


def tighten(root: Path) -> int:
    """Make every directory under `root` 0700 and every file 0600 (owner's only); returns how many
    modes changed. For state folders written before govlake kept them private."""
    changed = 0
    if not root.is_dir():
        return 0
    me = os.geteuid()
    for dirpath, dirnames, filenames in os.walk(root):
        for name, mode in [(dirpath, DIR_MODE)] + [(os.path.join(dirpath, f), FILE_MODE) for f in filenames]:
            try:
                st = os.lstat(name)
            except FileNotFoundError:
                continue
            if stat.S_ISLNK(st.st_mode) or st.st_uid != me:
                continue
            want = mode if stat.S_ISDIR(st.st_mode) else (stat.S_IMODE(st.st_mode) & 0o700 or FILE_MODE)
            if stat.S_IMODE(st.st_mode) != want:
                os.chmod(name, want)
                changed += 1
    return changed


def scratch_dir(state: Path, name: str) -> Path:
    """A private scratch folder inside the state folder (Spark's local dirs, JVM temp files)."""
    return private_dir(state / "tmp" / name)


@contextmanager
def exclusive(lock_file: Path):
    """Hold an exclusive lock on `lock_file` (created private) for the block: one holder at a
    time among this host's processes."""
    import fcntl

    private_dir(lock_file.parent)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock
