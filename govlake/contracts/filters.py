"""Row filters of sharing contracts: parsed, never pasted.

A filter must be one boolean expression over the dataset's columns built only from literals,
comparisons, AND/OR/NOT, IN, BETWEEN, LIKE, IS NULL and an allow-list of functions. Anything
else (subqueries, other functions, comments, several statements) is rejected, so a filter can
never carry SQL into the publish job or Trino's rules.
"""
from __future__ import annotations

import sqlglot
from sqlglot import exp

ALLOWED_NODES = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren,
    exp.And, exp.Or, exp.Not,
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ,
    exp.In, exp.Between, exp.Like, exp.Is, exp.Tuple,
    exp.Lower, exp.Upper, exp.Trim, exp.Length, exp.Substring, exp.Coalesce,
    exp.Cast, exp.DataType, exp.Neg,
)


class FilterError(ValueError):
    pass


def validate(expression: str, columns: set[str] | None) -> exp.Expression:
    """Parse `expression`; raise FilterError naming the offending part unless it is safe.
    `columns`: the columns it may name (None: any unqualified column)."""
    if "--" in expression or "/*" in expression or ";" in expression:
        raise FilterError("comments and statement separators are not allowed")
    try:
        statements = sqlglot.parse(expression, read="trino")
    except sqlglot.errors.ParseError as exc:
        raise FilterError(f"not a valid SQL expression: {exc.errors[0]['description'] if exc.errors else exc}") from exc
    if len(statements) != 1 or statements[0] is None:
        raise FilterError("must be exactly one expression")
    tree = statements[0]
    if not isinstance(tree, (exp.Connector, exp.Not, exp.Predicate, exp.Paren, exp.Boolean)):
        raise FilterError(f"must be a boolean condition, got {type(tree).__name__}")
    for node in tree.walk():
        if not isinstance(node, ALLOWED_NODES):
            raise FilterError(f"`{node.sql(dialect='trino')[:60]}` ({type(node).__name__}) is not allowed in a row filter")
        if isinstance(node, exp.Column):
            if node.table:
                raise FilterError(f"column `{node.sql()}` must not be qualified")
            if columns is not None and node.name not in columns:
                raise FilterError(f"unknown column `{node.name}`; the dataset has {', '.join(sorted(columns))}")
    return tree


def to_sql(tree: exp.Expression, dialect: str) -> str:
    """Re-render the parsed filter (never the original text) for Spark or Trino."""
    return tree.sql(dialect=dialect)


def columns_of(tree: exp.Expression) -> set[str]:
    """Names of the columns a parsed filter refers to."""
    return {c.name for c in tree.find_all(exp.Column)}
