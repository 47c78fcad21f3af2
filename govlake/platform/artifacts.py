"""Java artifacts from Maven Central: fetched once, checksum-verified, cached.

The list lives in `infra/artifacts.yaml` with a pinned SHA-256 per file. A cached file is
re-verified (by size and a stamp of its verified digest) before every use; a download goes to a
`.part` file that is renamed only after its digest matches, so an interrupted download never
leaves a file that looks complete.
"""
from __future__ import annotations

import hashlib
import shutil
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from pydantic import BaseModel, field_validator

from govlake.core import config
from govlake.core.errors import DownloadError
from govlake.core.settings import Settings


class Artifact(BaseModel):
    coordinate: str
    ext: str
    role: str
    sha256: str
    classifier: str | None = None  # e.g. `jar-with-dependencies`: the file is name-version-classifier.ext

    @field_validator("coordinate")
    @classmethod
    def _three_parts(cls, v: str) -> str:
        if len(v.split(":")) != 3:
            raise ValueError(f"coordinate `{v}` must be group:artifact:version")
        return v

    @property
    def group(self) -> str:
        return self.coordinate.split(":")[0]

    @property
    def name(self) -> str:
        return self.coordinate.split(":")[1]

    @property
    def version(self) -> str:
        return self.coordinate.split(":")[2]

    @property
    def filename(self) -> str:
        tail = f"-{self.classifier}" if self.classifier else ""
        return f"{self.name}-{self.version}{tail}.{self.ext}"

    @property
    def relpath(self) -> str:
        return f"{self.group.replace('.', '/')}/{self.name}/{self.version}/{self.filename}"


class ArtifactManifest(BaseModel):
    artifacts: list[Artifact]
    trino_plugins: list[str]

    def by_role(self, role: str) -> list[Artifact]:
        return [a for a in self.artifacts if a.role == role]


def load_manifest(settings: Settings) -> ArtifactManifest:
    path = settings.path("infra", "artifacts.yaml")
    return config.load_model(path, ArtifactManifest, "artifact manifest")


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _verified(path: Path, sha256: str) -> bool:
    """True when `path` exists and was verified against `sha256` (stamp matches size and mtime)."""
    stamp = path.with_name(path.name + ".sha256ok")
    if not path.is_file():
        return False
    st = path.stat()
    key = f"{sha256} {st.st_size} {st.st_mtime_ns}"
    if stamp.is_file() and stamp.read_text() == key:
        return True
    if sha256_file(path) != sha256:
        return False
    stamp.write_text(key)
    return True


def fetch(artifact: Artifact, settings: Settings, *, log=print, retries: int = 3) -> Path:
    """Return the cached, verified file for `artifact`, downloading it if needed."""
    dest = settings.cache_dir / "maven" / artifact.relpath
    if _verified(dest, artifact.sha256):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    url = f"{settings.maven_repo.rstrip('/')}/{artifact.relpath}"
    part = dest.with_name(dest.name + ".part")
    last: Exception | None = None
    for attempt in range(1, retries + 1):
        try:
            log(f"fetching {artifact.coordinate} ({artifact.ext}) from {settings.maven_repo}")
            with urllib.request.urlopen(url, timeout=settings.download_timeout_s) as resp, part.open("wb") as out:
                shutil.copyfileobj(resp, out, length=1 << 20)
            break
        except urllib.error.HTTPError as exc:
            part.unlink(missing_ok=True)
            raise DownloadError(
                f"download of `{artifact.coordinate}` failed: HTTP {exc.code} for {url}; check the version in "
                f"infra/artifacts.yaml or set GOVLAKE_MAVEN_REPO to a reachable Maven repository"
            ) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            part.unlink(missing_ok=True)
            last = exc
            time.sleep(min(2**attempt, 10))
    else:
        raise DownloadError(
            f"download of `{artifact.coordinate}` failed after {retries} attempts ({last}); check the network or "
            f"GOVLAKE_MAVEN_REPO, then rerun",
            transient=True,
        )
    actual = sha256_file(part)
    if actual != artifact.sha256:
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"checksum mismatch for `{artifact.coordinate}`: expected sha256 {artifact.sha256}, got {actual}; "
            f"the download was deleted. If the pinned value in infra/artifacts.yaml is right, the repository "
            f"served a different file: do not use it"
        )
    part.replace(dest)
    _verified(dest, artifact.sha256)
    return dest


def spark_jars(settings: Settings, *, log=print) -> list[Path]:
    manifest = load_manifest(settings)
    return [fetch(a, settings, log=log) for a in manifest.by_role("spark")]


def s3a_jars(settings: Settings, *, log=print) -> list[Path]:
    """Hadoop's S3A connector and the AWS SDK it calls (Spark's classpath), fetched only when an
    object store is configured (`s3_endpoint` or `object_store_port`); none otherwise, so the
    embedded profile never downloads the SDK's 686 MB bundle."""
    if not (settings.s3_endpoint or settings.object_store_port):
        return []
    return [fetch(a, settings, log=log) for a in load_manifest(settings).by_role("s3a")]


def object_store_jar(settings: Settings, *, log=print) -> Path:
    """The S3-compatible server govlake runs on loopback for `object_store_port` (s3proxy)."""
    (server,) = load_manifest(settings).by_role("object_store")
    return fetch(server, settings, log=log)


def trino_install(settings: Settings, *, log=print) -> Path:
    """Unpack the Trino server (core and the plugins govlake uses) once; return its directory."""
    manifest = load_manifest(settings)
    (server,) = manifest.by_role("trino")
    target = settings.cache_dir / f"trino-server-{server.version}"
    marker = target / ".govlake-complete"
    wanted = sorted(manifest.trino_plugins)
    if marker.is_file() and marker.read_text().split() == wanted:
        return target
    archive = fetch(server, settings, log=log)
    log(f"unpacking Trino {server.version} (core + plugins {', '.join(wanted)})")
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    top = f"trino-server-{server.version}/"
    keep = (top + "bin/", top + "lib/", *(f"{top}plugin/{p}/" for p in wanted))
    with tarfile.open(archive, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(keep) or m.name == top + "NOTICE"]
        tar.extractall(tmp, members=members, filter="tar")
    shutil.rmtree(target, ignore_errors=True)
    (tmp / top.rstrip("/")).replace(target)
    shutil.rmtree(tmp, ignore_errors=True)
    marker.write_text("\n".join(wanted))
    return target
