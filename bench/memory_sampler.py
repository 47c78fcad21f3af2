"""Sample the peak resident memory of the Trino server and the Spark driver JVMs while a command runs.

    python bench/memory_sampler.py -- make demo

Prints the command's wall time and the peak RSS of each JVM kind (Trino: io.trino.server,
Spark driver: org.apache.spark.deploy.SparkSubmit) sampled every 0.5 s.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

KINDS = {"trino": "io.trino.server.TrinoServer", "spark_driver": "org.apache.spark.deploy.SparkSubmit"}


def sample(peaks: dict[str, float]) -> None:
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if "java" not in cmd:
                continue
            rss = next(int(ln.split()[1]) for ln in (proc / "status").read_text().splitlines() if ln.startswith("VmRSS:")) / 1024
        except (OSError, StopIteration):
            continue
        for kind, marker in KINDS.items():
            if marker in cmd:
                peaks[kind] = max(peaks.get(kind, 0.0), rss)


def main() -> int:
    cmd = sys.argv[sys.argv.index("--") + 1:]
    peaks: dict[str, float] = {}
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd)
    while proc.poll() is None:
        sample(peaks)
        time.sleep(0.5)
    wall = time.monotonic() - t0
    print(f"wall {wall:.1f}s exit {proc.returncode} " + " ".join(f"peak_{k}_mib={v:.0f}" for k, v in sorted(peaks.items())), file=sys.stderr)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
