"""Spark SQL literals built by one expression parse (large maps and IN lists plan fast)."""
from __future__ import annotations

import re

from pyspark.sql import Column, functions as F


def sql_literal(value: str | int | float) -> str:
    """`value` as a Spark SQL literal (strings quoted, backslashes and quotes escaped)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise TypeError(f"no SQL literal for {type(value).__name__}")
    if isinstance(value, str):
        quote = lambda t: "'" + t.replace("\\", "\\\\").replace("'", "\\'") + "'"  # noqa: E731
        if "${" in value:  # the SQL text would substitute a variable there: `$` and `{` go in separate pieces
            return "concat(" + ", ".join(quote(t) for t in re.split(r"(?<=\$)(?=\{)", value)) + ")"
        return quote(value)
    return repr(value)


def sql_ident(name: str) -> str:
    """`name` as a quoted Spark SQL identifier."""
    return "`" + name.replace("`", "``") + "`"


def literal_map(pairs: dict) -> Column:
    """A map literal, built by one expression parse instead of a JVM call per element (large maps
    of file paths or batches would otherwise cost thousands of round trips to plan)."""
    return F.expr("map(" + ", ".join(f"{sql_literal(k)}, {sql_literal(v)}" for k, v in pairs.items()) + ")")


def literal_array(values: list) -> Column:
    return F.expr("array(" + ", ".join(map(sql_literal, values)) + ")")


def in_literals(column: str, values) -> Column:
    """`column IN (values)` as one parsed expression (Spark turns a long list into a hash set)."""
    return F.expr(f"{sql_ident(column)} IN (" + ", ".join(map(sql_literal, values)) + ")")
