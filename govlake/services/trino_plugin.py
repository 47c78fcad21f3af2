"""govlake's own Trino plugin (`infra/trino/plugin/src`): the `govlake-file` password
authenticator. It checks the same bcrypt password file as Trino's file authenticator, records
every failed sign-in (and every sign-in refused during a lockout) in the audit spool before the
client gets its 401, and locks a user out after repeated failures. Trino itself logs nothing about
a failed sign-in, so without it a password-guessing attempt would leave no trace. It also holds
the `govlake-spool` event listener, which writes every completed query into the same spool from
Trino's own process, so a query is audited even while the receiver is down.

The plugin is compiled here from source, against the SPI jar of the installed Trino (part of the
checksum-verified server archive) and the bcrypt library Trino's own password plugin ships, with
the `javac` of a JDK >= 24 (the one Trino runs on, when it is a full JDK). Trino's plugin folder
for a state folder is `<state>/trino/plugin`: links to the cached plugins govlake uses, plus this
one, rebuilt only when its source changes.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

from govlake.core import private
from govlake.core.errors import JavaError
from govlake.core.settings import PROJECT_ROOT, Settings
from govlake.platform.java import Jdk, candidates, inspect

NAME = "govlake-sign-in"
SOURCE = PROJECT_ROOT / "infra" / "trino" / "plugin" / "src"
PLUGIN_CLASS = "govlake.trino.SignInPlugin"
MIN_JAVAC = 24  # the release Trino 476's SPI is compiled for
RUNTIME_JARS = ("at.favre.lib_bcrypt-", "at.favre.lib_bytes-")  # from Trino's password-authenticators plugin


def javac(preferred: Jdk | None = None) -> Path | None:
    """A `javac` of a JDK >= 24: the preferred JDK's, else any found (see platform/java.py)."""
    homes = ([preferred.home] if preferred else []) + candidates()
    for home in homes:
        jdk = inspect(home)
        if jdk and jdk.major >= MIN_JAVAC and (jdk.home / "bin" / "javac").is_file():
            return jdk.home / "bin" / "javac"
    return None


def _digest(install: Path) -> str:
    h = hashlib.sha256(install.name.encode())
    for src in sorted(SOURCE.rglob("*.java")):
        h.update(str(src.relative_to(SOURCE)).encode() + b"\0" + src.read_bytes())
    return h.hexdigest()[:16]


def plugin_dir(settings: Settings, install: Path, plugins: list[str], jdk: Jdk | None = None, *, log=print) -> Path:
    """Trino's plugin folder for this state folder: the cached plugins `plugins` and govlake's
    own, built if its source changed. Raises JavaError when no javac >= 24 is found."""
    root = private.private_dir(settings.state / "trino" / "plugin")
    for name in plugins:
        link = root / name
        if not link.is_symlink() or link.resolve() != (install / "plugin" / name).resolve():
            if link.is_symlink() or link.exists():
                link.unlink() if link.is_symlink() else shutil.rmtree(link)
            link.symlink_to(install / "plugin" / name, target_is_directory=True)
    ours = root / NAME
    jar = ours / f"{NAME}-{_digest(install)}.jar"
    if jar.is_file():
        return root
    compiler = javac(jdk)
    if compiler is None:
        raise JavaError(
            f"building govlake's Trino sign-in plugin needs the javac of a JDK >= {MIN_JAVAC}; none was found (looked at "
            f"GOVLAKE_TRINO_JAVA_HOME, JAVA_HOME, /usr/lib/jvm). Install one (e.g. Temurin 25) or point GOVLAKE_TRINO_JAVA_HOME at it"
        )
    shutil.rmtree(ours, ignore_errors=True)
    private.private_dir(ours)
    spi = next((install / "lib").glob("io.trino_trino-spi-*.jar"), None)
    if spi is None:
        raise JavaError(f"the Trino install `{install}` has no SPI jar; remove `{install}` and run `govlake fetch`")
    runtime = [p for prefix in RUNTIME_JARS for p in (install / "plugin" / "password-authenticators").glob(f"{prefix}*.jar")]
    if len(runtime) != len(RUNTIME_JARS):
        raise JavaError(f"Trino's password-authenticators plugin in `{install}` lacks the bcrypt library; remove `{install}` and run `govlake fetch`")
    build = private.scratch_dir(settings.state, "plugin-build")
    classes = build / "classes"
    shutil.rmtree(classes, ignore_errors=True)
    log(f"building govlake's Trino sign-in plugin with {compiler}")
    done = subprocess.run(
        [str(compiler), "--release", str(MIN_JAVAC), "-nowarn", "-encoding", "UTF-8", "-d", str(classes),
         "-cp", os.pathsep.join(str(p) for p in [spi, *runtime]), *[str(p) for p in sorted(SOURCE.rglob("*.java"))]],
        capture_output=True, text=True, timeout=300,
    )
    if done.returncode != 0:
        raise JavaError(f"govlake's Trino sign-in plugin does not compile with {compiler}:\n{done.stderr[-2000:]}")
    tmp = jar.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("META-INF/services/io.trino.spi.Plugin", PLUGIN_CLASS + "\n")
        for cls in sorted(classes.rglob("*.class")):
            z.write(cls, str(cls.relative_to(classes)))
    for dep in runtime:
        shutil.copyfile(dep, ours / dep.name)  # with this process's private mode, not the cache's
    tmp.replace(jar)
    shutil.rmtree(classes, ignore_errors=True)
    return root
