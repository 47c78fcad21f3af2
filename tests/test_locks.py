"""The lake lock between real processes: writers share it, erasure and retention hold it alone,
a waiting erasure is not starved by new writers, one ingest per department at a time, and a wait
past its bound fails with a retryable error naming the holder."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from govlake.core import locks
from govlake.core.errors import GovlakeError

JOB = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from govlake.core import locks
    run_dir, kind, name, hold, log = Path(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4]), Path(sys.argv[5])
    depts = sys.argv[6].split(",") if len(sys.argv) > 6 and sys.argv[6] else []
    cm = locks.lake_maintenance(run_dir, name) if kind == "maintenance" else locks.lake_writer(run_dir, name, depts)
    with cm:
        with log.open("a") as f:
            f.write(f"{time.monotonic():.3f} start {name}\\n")
        time.sleep(hold)
        with log.open("a") as f:
            f.write(f"{time.monotonic():.3f} end {name}\\n")
""")


def start(tmp_path: Path, kind: str, name: str, hold: float, depts: str = "") -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", JOB, str(tmp_path / "run"), kind, name, str(hold), str(tmp_path / "log"), depts])


def events(tmp_path: Path) -> list[tuple[float, str, str]]:
    out = []
    for line in (tmp_path / "log").read_text().splitlines():
        t, what, name = line.split(" ", 2)
        out.append((float(t), what, name))
    return sorted(out)


def intervals(tmp_path: Path) -> dict[str, tuple[float, float]]:
    ev = events(tmp_path)
    return {name: (next(t for t, w, n in ev if n == name and w == "start"), next(t for t, w, n in ev if n == name and w == "end"))
            for name in {n for _, _, n in ev}}


def overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def wait_started(tmp_path: Path, name: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (tmp_path / "log").exists() and any(n == name and w == "start" for _, w, n in events(tmp_path)):
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} did not start")


def finish(*procs: subprocess.Popen) -> None:
    for p in procs:
        assert p.wait(timeout=60) == 0


def test_writers_share_the_lake_and_an_erasure_waits_for_them(tmp_path):
    a = start(tmp_path, "writer", "ingest-a", 4.0, "north")
    wait_started(tmp_path, "ingest-a")
    b = start(tmp_path, "writer", "publish", 4.0)
    wait_started(tmp_path, "publish")
    e = start(tmp_path, "maintenance", "erasure", 0.5)
    gate = tmp_path / "run" / "locks" / "lake.gate.holder"
    deadline = time.monotonic() + 20
    while '"erasure"' not in (gate.read_text() if gate.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.05)  # until the erasure waits at the gate; a writer arriving now queues behind it
    c = start(tmp_path, "writer", "build", 0.5)
    finish(a, b, e, c)
    i = intervals(tmp_path)
    assert overlap(i["ingest-a"], i["publish"])  # writers run side by side
    for writer in ("ingest-a", "publish", "build"):
        assert not overlap(i["erasure"], i[writer]), (writer, i)
    assert i["erasure"][1] <= i["build"][0]  # not starved: the later writer waited for the erasure


def test_two_ingests_of_one_department_run_one_after_the_other(tmp_path):
    a = start(tmp_path, "writer", "ingest-1", 3.0, "north,south")
    wait_started(tmp_path, "ingest-1")
    b = start(tmp_path, "writer", "ingest-2", 0.2, "north")
    c = start(tmp_path, "writer", "ingest-3", 0.2, "east")
    finish(a, b, c)
    i = intervals(tmp_path)
    assert not overlap(i["ingest-1"], i["ingest-2"])
    assert overlap(i["ingest-1"], i["ingest-3"])  # another department does not wait


def test_a_wait_past_its_bound_is_a_retryable_error_naming_the_holder(tmp_path, monkeypatch):
    e = start(tmp_path, "maintenance", "erasure of subject 1a2b", 3.0)
    wait_started(tmp_path, "erasure of subject 1a2b")
    monkeypatch.setenv("GOVLAKE_LOCK_WAIT_S", "0.5")
    with pytest.raises(locks.LockTimeout) as caught:
        with locks.lake_writer(tmp_path / "run", "publish"):
            pass
    assert caught.value.transient
    assert "erasure of subject 1a2b" in str(caught.value) and f"pid {e.pid}" in str(caught.value)
    finish(e)
    with locks.lake_writer(tmp_path / "run", "publish"):  # free again once the erasure ended
        pass


def test_a_job_holds_the_lake_once_and_cannot_erase_inside_a_write(tmp_path):
    run = tmp_path / "run"
    with locks.lake_writer(run, "main job"):
        with locks.lake_writer(run, "ingest", ["north"]):  # the main job's stages: no second wait
            with locks.lake_writer(run, "publish"):
                pass
        with pytest.raises(GovlakeError, match="run erasure and retention outside"):
            with locks.lake_maintenance(run, "erasure"):
                pass
    with locks.lake_maintenance(run, "erasure"):  # released
        pass
    assert oct((run / "locks" / "lake.lock").stat().st_mode & 0o777) == "0o600"


def test_a_job_holding_the_lake_alone_runs_its_own_writers_in_it(tmp_path):
    run = tmp_path / "run"
    with locks.lake_maintenance(run, "key rotation"):
        with locks.lake_writer(run, "analytic build"):
            pass
        with locks.lake_writer(run, "publish"):
            pass
    with locks.lake_writer(run, "publish"):  # and it is free afterwards
        pass


def test_another_thread_of_the_same_process_waits_like_another_process(tmp_path):
    import threading

    run = tmp_path / "run"
    order: list[str] = []
    def publish() -> None:
        with locks.lake_writer(run, "publish"):
            order.append("publish")

    with locks.lake_maintenance(run, "erasure from the console"):
        t = threading.Thread(target=publish)
        t.start()
        time.sleep(0.5)
        order.append("erasure done")
    t.join(10)
    assert order == ["erasure done", "publish"]
