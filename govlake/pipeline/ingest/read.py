"""Reading a department's landing files with Spark, in its own format (CSV, JSON lines, Parquet)."""
from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession, functions as F
from pyspark.sql.types import StructType

from govlake.departments.registry import Source
from govlake.pipeline.ingest.landing import LandingFile

CORRUPT = "_corrupt_record"


HELPERS = {CORRUPT, "_source_file", "_source_uri", "_department", "_batch", "_row_index"}  # columns added by the reader, not sent by departments


RAW_LINE = "_raw_line"  # the text of a line that could not be parsed


def read_source(spark: SparkSession, source: Source, files: list[LandingFile]) -> DataFrame:
    """Raw records as the department sent them, plus the file each came from and, for a line
    that could not be parsed, its text in `_corrupt_record`."""
    paths = [str(f.path) for f in files]
    if source.format == "csv":
        from pyspark.sql.types import StringType, StructField

        by_header: dict[tuple[str, ...], list[str]] = {}
        for f in files:
            by_header.setdefault(f.fields, []).append(str(f.path))
        frames = []
        for header, group in by_header.items():
            schema = StructType([StructField(c, StringType()) for c in header] + [StructField(CORRUPT, StringType())])
            frames.append(
                spark.read.option("header", True)
                .option("encoding", source.encoding)
                .option("sep", source.delimiter)
                .option("mode", "PERMISSIVE")
                .option("columnNameOfCorruptRecord", CORRUPT)
                .option("enforceSchema", False)
                .schema(schema)
                .csv(group)
                .withColumn("_source_file", F.col("_metadata.file_name"))
                .withColumn("_source_uri", F.col("_metadata.file_path"))
            )
        df = frames[0]
        for other in frames[1:]:
            df = df.unionByName(other, allowMissingColumns=True)
        return df
    if source.format == "jsonl":
        df = (
            spark.read.option("encoding", source.encoding)
            .option("mode", "PERMISSIVE")
            .option("columnNameOfCorruptRecord", CORRUPT)
            .schema(json_schema(files, source))
            .json(paths)
        )
    else:
        df = (
            spark.read.option("mergeSchema", True).parquet(*paths).withColumn(CORRUPT, F.lit(None).cast("string"))
            .withColumn("_row_index", F.col("_metadata.row_index"))
        )
    return df.withColumn("_source_file", F.col("_metadata.file_name")).withColumn("_source_uri", F.col("_metadata.file_path"))


def json_schema(files: list[LandingFile], source: Source) -> StructType:
    """The read schema of JSON lines files, without a pass over the data: every field is text
    (a nested value keeps its JSON text) except arrays. Fields are the mapped ones plus those in
    the first records of each file sampled by `inspect` (as in the schema-drift report), so unmapped
    fields still reach quarantined rows' `_raw`. A field is an array if the sample shows one, or
    if the mapping indexes into it and the sample does not show it at all; a mapping that indexes
    into a field the sample shows as a plain value fails as a mapping error, as it should."""
    from pyspark.sql.types import ArrayType, StringType, StructField

    sampled: dict[str, bool] = {}
    for f in files:
        for name in f.fields:
            sampled[name] = sampled.get(name, False) or name in f.arrays
    indexed = {fm.source for fm in source.fields.values() if fm.index is not None}
    names = dict.fromkeys([fm.source for fm in source.fields.values()] + list(sampled))
    names.pop(CORRUPT, None)
    array = lambda n: sampled[n] if n in sampled else n in indexed  # noqa: E731
    return StructType([StructField(n, ArrayType(StringType()) if array(n) else StringType()) for n in names]
                      + [StructField(CORRUPT, StringType())])


def plain_path() -> Column:
    """The scanned file's absolute local path from `_source_uri` (Spark gives a URI: `file:`
    prefix, %-escapes; a literal `+` stays `+`, so it is protected from form decoding)."""
    uri = F.regexp_replace(F.regexp_replace(F.col("_source_uri"), "^file:", ""), r"\+", "%2B")
    return F.url_decode(uri)


def file_uris(spark: SparkSession, paths: list[str]) -> dict[str, str]:
    """Local path -> the URI Spark reports for it in `_metadata.file_path` (Hadoop's qualified
    path), so a row's file is found without decoding its URI row by row."""
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    out = {}
    for p in paths:
        hp = jvm.org.apache.hadoop.fs.Path(p)
        out[p] = hp.getFileSystem(conf).makeQualified(hp).toUri().toString()
    return out
