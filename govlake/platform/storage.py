"""Files of the warehouse from Python, wherever the warehouse is: a local folder or an S3 bucket.

Spark and Trino reach the warehouse through their own file systems (S3A, Trino's native S3);
govlake's own Python code (the erasure's transaction-log check, deleting a retired contract's
tables, the audit chain's head anchor) goes through this module, so no caller asks which kind of
storage it is. Locations are the URIs the engines use: an absolute path, `file:/…`, or
`s3a://bucket/key` (also `s3://`).

The S3 endpoint and credentials come from settings (`s3_endpoint`, `s3_access_key`,
`s3_secret_key`); for the object store govlake starts itself (`object_store_port`) they are
generated once into `<state>/secrets/object-store.json`.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlparse

from govlake.core import private
from govlake.core.errors import ConfigError, ServiceError
from govlake.core.settings import Settings

S3_SCHEMES = ("s3a", "s3", "s3n")


@dataclass(frozen=True)
class S3Credentials:
    endpoint: str
    region: str
    access_key: str
    secret_key: str

    def __repr__(self) -> str:  # never print the secret
        return f"S3Credentials(endpoint={self.endpoint!r}, access_key={self.access_key!r})"


def s3_credentials(settings: Settings) -> S3Credentials | None:
    """The S3 endpoint and keys, or None when no object store is configured."""
    endpoint = settings.s3_endpoint or (f"http://127.0.0.1:{settings.object_store_port}" if settings.object_store_port else None)
    if endpoint is None:
        return None
    if settings.s3_access_key and settings.s3_secret_key:
        return S3Credentials(endpoint, settings.s3_region, settings.s3_access_key, settings.s3_secret_key)
    if not settings.object_store_port:
        raise ConfigError("s3_endpoint is set without keys: set GOVLAKE_S3_ACCESS_KEY and GOVLAKE_S3_SECRET_KEY")
    path = settings.secrets_dir / "object-store.json"
    if not path.is_file():
        private.private_dir(settings.secrets_dir)
        private.create_private(path, json.dumps({"access_key": "govlake-" + secrets.token_hex(6),
                                                 "secret_key": secrets.token_urlsafe(30)}))
    keys = json.loads(path.read_text())
    return S3Credentials(endpoint, settings.s3_region, keys["access_key"], keys["secret_key"])


def is_object_store(uri: str) -> bool:
    return urlparse(uri).scheme in S3_SCHEMES


def canonical(uri: str) -> str:
    """One spelling per location, to compare locations: a local one as its plain path
    (`file:/a`, `file:///a` -> `/a`), an object-store one as `s3a://bucket/key` (also for s3://);
    no trailing slash."""
    parsed = urlparse(uri)
    if parsed.scheme in S3_SCHEMES:
        return f"s3a://{parsed.netloc}{parsed.path}".rstrip("/")
    if parsed.scheme == "file":
        return parsed.path.rstrip("/") or "/"
    return uri.rstrip("/") or "/"


def name(uri: str) -> str:
    """The last part of a location (a table folder's name)."""
    return uri.rstrip("/").rsplit("/", 1)[-1]


def _split(settings: Settings, uri: str):
    """(pyarrow file system, path inside it) for a location."""
    import pyarrow.fs as pafs

    parsed = urlparse(uri)
    if parsed.scheme in S3_SCHEMES:
        return _s3(settings), f"{parsed.netloc}{parsed.path}".rstrip("/")
    if parsed.scheme in ("", "file"):
        return pafs.LocalFileSystem(), (parsed.path if parsed.scheme else uri).rstrip("/") or "/"
    raise ConfigError(f"location `{uri}` has scheme `{parsed.scheme}`; govlake reads local paths and s3a:// locations")


def _s3(settings: Settings):
    creds = s3_credentials(settings)
    if creds is None:
        raise ConfigError("an s3a:// location needs an object store: set GOVLAKE_S3_ENDPOINT (or GOVLAKE_OBJECT_STORE_PORT)")
    return _s3_fs(creds)


@lru_cache(maxsize=4)
def _s3_fs(creds: S3Credentials):
    import pyarrow.fs as pafs

    url = urlparse(creds.endpoint)
    return pafs.S3FileSystem(access_key=creds.access_key, secret_key=creds.secret_key, region=creds.region,
                             endpoint_override=url.netloc, scheme=url.scheme or "https", allow_bucket_creation=False,
                             connect_timeout=5, request_timeout=30)


def exists(settings: Settings, uri: str) -> bool:
    import pyarrow.fs as pafs

    fs, path = _split(settings, uri)
    return fs.get_file_info(path).type != pafs.FileType.NotFound


def is_dir(settings: Settings, uri: str) -> bool:
    """A folder (on S3: a prefix holding at least one object)."""
    import pyarrow.fs as pafs

    fs, path = _split(settings, uri)
    if fs.get_file_info(path).type == pafs.FileType.Directory:
        return True
    if is_object_store(uri):
        return bool(fs.get_file_info(pafs.FileSelector(path, allow_not_found=True, recursive=False)))
    return False


def child_dirs(settings: Settings, uri: str) -> list[str]:
    """The folders directly inside `uri`, as locations of the same kind (sorted); none if it is missing."""
    import pyarrow.fs as pafs

    fs, path = _split(settings, uri)
    infos = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True, recursive=False))
    base = uri.rstrip("/")
    return sorted(f"{base}/{i.base_name}" for i in infos if i.type == pafs.FileType.Directory)


def list_files(settings: Settings, uri: str) -> list[str]:
    """The files directly inside `uri`, as locations of the same kind (sorted); none if it is missing."""
    import pyarrow.fs as pafs

    fs, path = _split(settings, uri)
    infos = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True, recursive=False))
    base = uri.rstrip("/")
    return sorted(f"{base}/{i.base_name}" for i in infos if i.type == pafs.FileType.File)


def delete_file(settings: Settings, uri: str) -> None:
    """Remove one file; nothing happens if it is missing."""
    fs, path = _split(settings, uri)
    try:
        fs.delete_file(path)
    except FileNotFoundError:
        pass


def delete_tree(settings: Settings, uri: str, attempts: int = 5) -> None:
    """Remove a folder and everything in it; nothing happens if it is missing. On S3 a folder is
    only a prefix: a part of it may vanish between the listing and its delete, which stops the
    delete half-way with FileNotFoundError. An object store keeping objects as files (the profile's
    s3proxy) may also leave an emptied folder behind, which a recursive listing does not show but a
    listing of its parent does (seen when pyarrow deleted a table's files in parallel): such folders
    are removed one by one, deepest first. All is repeated until nothing is left under the prefix,
    and an error names what stays (a retired table's folder must not linger: erasure and publish
    take every folder under a schema for a table)."""
    import pyarrow.fs as pafs

    fs, path = _split(settings, uri)
    for _ in range(attempts):
        try:
            fs.delete_dir_contents(path, missing_dir_ok=True)
            fs.delete_dir(path)
        except FileNotFoundError:
            pass
        if not is_dir(settings, uri):
            return
        if is_object_store(uri):
            for folder in sorted(_folders(fs, path), key=lambda f: f.count("/"), reverse=True) + [path]:
                _delete_left_folder(fs, folder)
            if not is_dir(settings, uri):
                return
    left = sorted(set(_folders(fs, path)) | {
        i.path for i in fs.get_file_info(pafs.FileSelector(path, allow_not_found=True, recursive=True))})
    raise ServiceError(f"could not delete everything under `{uri}` in {attempts} attempts ({len(left)} left, "
                       f"e.g. {left[:5]}); delete it by hand (it is not registered anywhere any more)", transient=True)


def _delete_left_folder(fs, folder: str) -> None:
    """An emptied folder s3proxy kept on disk is no object, so deleting `folder/` is refused as
    missing; made a folder object first, its delete removes it (on S3 proper nothing is left to find)."""
    try:
        fs.create_dir(folder, recursive=False)
        fs.delete_dir(folder)
    except FileNotFoundError:
        pass


def _folders(fs, path: str) -> list[str]:
    """Every folder under `path`, found by listing one level at a time (the only listing that shows
    an empty folder an object store keeps on disk)."""
    import pyarrow.fs as pafs

    found, todo = [], [path]
    while todo:
        here = todo.pop()
        for i in fs.get_file_info(pafs.FileSelector(here, allow_not_found=True, recursive=False)):
            if i.type == pafs.FileType.Directory:
                found.append(i.path)
                todo.append(i.path)
    return found


def read_bytes(settings: Settings, uri: str) -> bytes | None:
    """The file's content, or None if there is none."""
    fs, path = _split(settings, uri)
    try:
        with fs.open_input_stream(path) as f:
            return f.read()
    except FileNotFoundError:
        return None


def write_bytes(settings: Settings, uri: str, data: bytes) -> None:
    """Replace the file's content (locally: a private file written atomically)."""
    from pathlib import Path

    fs, path = _split(settings, uri)
    if not is_object_store(uri):
        private.write_private(Path(path), data)
        return
    with fs.open_output_stream(path) as f:
        f.write(data)
