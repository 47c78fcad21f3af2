"""Column classification by content: sample each column's values, run the recognizers, propose a level.

Column names are hints (context for the recognizers, e.g. `lon` makes a lone decimal a
coordinate), values decide: a column named `phone` full of order numbers is not a phone column.
A column's proposed level is the highest default level (policies/classification.yaml) among the
entity types found in at least `MIN_SHARE` of its sampled non-empty values; free text that holds
several types is proposed as FREE_TEXT too.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from govlake.core.errors import ConfigError, InputError
from govlake.core.settings import Settings
from govlake.domain import levels, policies
from govlake.pii import recognizers as rec
from govlake.platform import lake, storage
from govlake.platform.spark import get_spark

SAMPLE = 1000  # values per column
MIN_SHARE = 0.05  # share of sampled values an entity type needs before it decides the level
NO_PII_LEVEL = "L2"


@dataclass
class ColumnReport:
    name: str
    sampled: int
    entities: dict[str, float] = field(default_factory=dict)  # type -> share of sampled non-empty values
    level: str = NO_PII_LEVEL
    pii_types: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"name": self.name, "sampled": self.sampled, "entities": self.entities, "level": self.level, "pii_types": self.pii_types}


def level_of(types: list[str], pol: policies.ClassificationPolicy) -> str:
    return levels.highest(pol.pii_types.get(t) for t in types) or NO_PII_LEVEL


def classify_values(name: str, values: list, pol: policies.ClassificationPolicy) -> ColumnReport:
    texts = [str(v) for v in values if v is not None and str(v).strip() != ""][:SAMPLE]
    hits: Counter = Counter()
    multi = 0
    for t in texts:
        types = {e.type for e in rec.find(t, hint=name)}
        hits.update(types)
        multi += len(types) > 1 or (len(types) == 1 and len(t) > 40)
    shares = {k: round(v / len(texts), 4) for k, v in sorted(hits.items())} if texts else {}
    decided = [t for t, s in shares.items() if s >= MIN_SHARE]
    if texts and multi / len(texts) >= MIN_SHARE and decided:
        decided.append("FREE_TEXT")
    return ColumnReport(name, len(texts), shares, level_of(decided, pol), decided)


def read_sample(path: Path, n: int = SAMPLE) -> dict[str, list]:
    """The first `n` rows of a CSV (UTF-8 or GB18030), JSON lines or Parquet file, by column."""
    import pyarrow as pa

    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputError(f"`{path}` is not a file; give a CSV, JSON lines or Parquet file, or a table such as base.detections")
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        f = pq.ParquetFile(path)
        table = next(f.iter_batches(batch_size=n), None)
        table = pa.Table.from_batches([table]) if table is not None else f.schema_arrow.empty_table()
    elif suffix in (".jsonl", ".json", ".ndjson"):
        import json

        rows = []
        with path.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError:
                        continue
                if len(rows) >= n:
                    break
        cols: dict[str, list] = {}
        for r in rows:
            for k in r:
                cols.setdefault(k, [])
        return {k: [r.get(k) for r in rows] for k in cols}
    elif suffix in (".csv", ".txt", ".tsv"):
        import csv
        import io

        raw = path.read_bytes()[: 8 * 1024 * 1024]
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("gb18030", errors="replace")  # GBK feeds; a truncated last char is replaced
        reader = csv.reader(io.StringIO(text), delimiter="\t" if suffix == ".tsv" else ",")
        header = next(reader, [])
        rows = [r for _, r in zip(range(n), reader)]
        return {c: [r[i] if i < len(r) else None for r in rows] for i, c in enumerate(header)}
    else:
        raise InputError(f"`{path}`: unknown file type `{suffix}`; classify reads .csv, .jsonl and .parquet files")
    return {c: table.column(c).to_pylist() for c in table.column_names}


def classify_columns(settings: Settings, columns: dict[str, list]) -> list[ColumnReport]:
    pol = policies.classification(settings)
    return [classify_values(name, values, pol) for name, values in columns.items()]


def table_sample(settings: Settings, table: str, n: int = SAMPLE) -> dict[str, list]:
    """Sample a lakehouse table `<tier>.<table>` with Spark."""

    try:
        tier, name = table.split(".", 1)
    except ValueError:
        raise InputError(f"`{table}` is neither a file nor a table name like base.detections") from None
    path = lake.table_path(settings, tier, name)
    if not storage.is_dir(settings, f"{path}/_delta_log"):
        raise ConfigError(f"table `{table}` does not exist at {path}; run `govlake run` first or check the name")
    df = get_spark(settings).read.format("delta").load(path).limit(n)
    rows = df.collect()
    return {c: [r[c] for r in rows] for c in df.columns}
