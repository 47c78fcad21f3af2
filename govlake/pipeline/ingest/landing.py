"""Landing files: finding them, hashing them, and inspecting each once into a `LandingFile`;
keeping rejected files aside and archiving ingested ones."""
from __future__ import annotations

import codecs
import csv
import hashlib
import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from govlake.departments.registry import Source

REPLACEMENT_CHAR = "\ufffd"


def landing_files(source: Source, landing: Path) -> list[Path]:
    return sorted(p for p in landing.glob(source.pattern) if p.is_file() and not p.name.startswith("."))


def _csv_header(path: Path, source: Source) -> list[str]:
    with path.open("rb") as f:
        first = f.readline().decode(source.encoding).lstrip("\ufeff")
    return next(csv.reader([first], delimiter=source.delimiter)) if first.strip() else []


def digest_and_clean(path: Path, source: Source) -> tuple[str, bool]:
    """(hex SHA-256 of the file, whether its text is clean), in one read. Clean: a CSV or JSON
    lines file that decodes strictly in the source's encoding and holds no U+FFFD, so none of its
    rows can be INVALID_ENCODING and the per-row byte checks are skipped for it. A Parquet file
    is never called clean (its strings are checked row by row)."""
    h = hashlib.sha256()
    decoder = codecs.getincrementaldecoder(source.encoding)("strict") if source.format in ("csv", "jsonl") else None
    clean = decoder is not None
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            if clean:
                try:
                    clean = REPLACEMENT_CHAR not in decoder.decode(chunk)
                except UnicodeDecodeError:
                    clean = False
    if clean:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            clean = False
    return h.hexdigest(), clean


@dataclass(frozen=True)
class LandingFile:
    """One landing file, as planning found it: read once for these facts (content hash and clean
    text in one pass, then the header, Parquet footer or JSON sample) and passed down, so no later
    step opens the file again to learn them."""

    path: Path
    entity: str
    content_hash: str
    size: int
    clean: bool = False                   # text that decodes strictly and holds no U+FFFD
    fields: tuple[str, ...] = ()          # source fields present: CSV header, Parquet schema, keys of the first JSON records
    arrays: frozenset[str] = frozenset()  # JSON lines: sampled fields that held an array
    reject: str | None = None             # why the whole file cannot be ingested (kept aside, reported), or None

    @property
    def name(self) -> str:
        return self.path.name


def inspect(path: Path, entity: str, source: Source, content_hash: str, clean: bool, sample_lines: int = 50) -> LandingFile:
    """The `LandingFile` of a file whose hash and cleanliness `digest_and_clean` found."""
    seen = LandingFile(path, entity, content_hash, path.stat().st_size, clean)
    if seen.size == 0:
        return replace(seen, reject="EMPTY_FILE")
    if source.format == "parquet":
        import pyarrow.parquet as pq

        try:
            names = pq.ParquetFile(path).schema_arrow.names
        except Exception as exc:  # pyarrow raises several types for a corrupt footer
            return replace(seen, reject=f"UNREADABLE_PARQUET: {str(exc)[:200]}")
        return replace(seen, fields=tuple(names))
    if source.format == "csv":
        try:
            header = _csv_header(path, source)
        except UnicodeDecodeError:
            return replace(seen, reject=f"HEADER_NOT_{source.encoding.upper()}")
        mapped = {fm.source for fm in source.fields.values()}
        if not mapped & set(header):
            return replace(seen, fields=tuple(header), reject="HEADER_MISMATCH: none of the mapped fields is in the header")
        return replace(seen, fields=tuple(header))
    sampled = _json_sample([path], source, sample_lines)
    return replace(seen, fields=tuple(sampled), arrays=frozenset(k for k, is_array in sampled.items() if is_array))


def _json_sample(paths: list[Path], source: Source, sample_lines: int) -> dict[str, bool]:
    """Field -> whether it held an array, over the first `sample_lines` records of each file."""
    fields: dict[str, bool] = {}
    for p in paths:
        with p.open("rb") as f:
            for _, line in zip(range(sample_lines), f):
                try:
                    record = json.loads(line.decode(source.encoding, errors="replace"))
                except ValueError:
                    continue
                if isinstance(record, dict):
                    for k, v in record.items():
                        fields[k] = fields.get(k, False) or isinstance(v, list)
    return fields


def set_aside(path: Path, landing: Path, reason: str) -> None:
    """Keep an unreadable file, with its reason, in `<landing>/_rejected/`."""
    target = landing / "_rejected"
    target.mkdir(exist_ok=True)
    shutil.move(str(path), target / path.name)
    (target / f"{path.name}.reason.txt").write_text(reason + "\n", encoding="utf-8")


def archive(paths: list[Path], landing: Path, batch_id: str) -> None:
    target = landing / "_ingested" / batch_id
    target.mkdir(parents=True, exist_ok=True)
    for p in paths:
        if p.exists():
            shutil.move(str(p), target / p.name)
