"""Row filters of sharing contracts: parsed, never pasted.

A filter must be one boolean expression over the dataset's columns built only from literals,
comparisons, AND/OR/NOT, IN, BETWEEN, LIKE, IS NULL and an allow-list of functions. Anything
else (subqueries, other functions, comments, several statements) is rejected, so a filter can
never carry SQL into the publish job or Trino's rules.
"""
from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

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
    try:  # comments and separators as the parser sees them (inside a string literal they are text)
        tokens = sqlglot.Dialect.get_or_raise("trino").tokenize(expression)
    except sqlglot.errors.TokenError as exc:
        raise FilterError(f"not a valid SQL expression: {exc}") from exc
    if any(t.comments for t in tokens) or any(t.token_type == TokenType.SEMICOLON for t in tokens):
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


OPERATORS = {"=": exp.EQ, "<>": exp.NEQ, ">": exp.GT, ">=": exp.GTE, "<": exp.LT, "<=": exp.LTE, "in": exp.In, "like": exp.Like}
NUMERIC = ("int", "long", "double", "float", "decimal")


def compose(conditions: list[tuple[str, str, str]], types: dict[str, str], scope: tuple[str, str] | None = None) -> str | None:
    """A filter from a form's rows (column, operator, value), ANDed, after `scope` (`department =
    'provider'`) when given. Values become literals of the column's type (an IN takes a comma-
    separated list); nothing typed is pasted as SQL. The result still goes through `validate`."""
    parts: list[exp.Expression] = []
    if scope is not None:
        parts.append(exp.EQ(this=exp.column(scope[0]), expression=exp.Literal.string(scope[1])))
    for column, op, value in conditions:
        if not column:
            continue
        if column not in types:
            raise FilterError(f"unknown column `{column}`; the dataset has {', '.join(sorted(types))}")
        if op not in OPERATORS:
            raise FilterError(f"operator `{op}` is not one of {', '.join(OPERATORS)}")

        def literal(text: str) -> exp.Expression:
            text = text.strip()
            if types[column] in NUMERIC:
                if not re.fullmatch(r"-?\d{1,18}(\.\d{1,18})?", text):
                    raise FilterError(f"`{column}` is a number column; `{text}` is not a number")
                return exp.Literal.number(text)
            return exp.Literal.string(text)

        if op == "in":
            values = [v for v in value.split(",") if v.strip()]
            if not values:
                raise FilterError(f"`{column} in` needs at least one value (comma-separated)")
            parts.append(exp.In(this=exp.column(column), expressions=[literal(v) for v in values]))
        else:
            parts.append(OPERATORS[op](this=exp.column(column), expression=literal(value)))
    if not parts:
        return None
    tree = parts[0]
    for part in parts[1:]:
        tree = exp.And(this=tree, expression=part)
    return tree.sql(dialect="trino")


WORDS = {
    "en": {"and": " and ", "or": " or ", "not": "not ", exp.EQ: "{a} is {b}", exp.NEQ: "{a} is not {b}", exp.GT: "{a} is above {b}",
           exp.GTE: "{a} is at least {b}", exp.LT: "{a} is below {b}", exp.LTE: "{a} is at most {b}", exp.In: "{a} is one of {b}",
           exp.Like: "{a} matches the pattern {b}", exp.Between: "{a} is between {b} and {c}", "null": "{a} is empty", "any": "every row"},
    "zh-CN": {"and": "，并且", "or": "，或者", "not": "并非", exp.EQ: "{a} 等于 {b}", exp.NEQ: "{a} 不等于 {b}", exp.GT: "{a} 大于 {b}",
              exp.GTE: "{a} 不小于 {b}", exp.LT: "{a} 小于 {b}", exp.LTE: "{a} 不大于 {b}", exp.In: "{a} 属于 {b}",
              exp.Like: "{a} 匹配模式 {b}", exp.Between: "{a} 介于 {b} 与 {c} 之间", "null": "{a} 为空", "any": "全部行"},
}


def describe(expression: str | None, lang: str = "en") -> str:
    """A validated filter in plain words (`department = 'traffic' AND hour >= 6` -> "department
    is 'traffic' and hour is at least 6"); parts without words are shown as SQL."""
    w = WORDS.get(lang, WORDS["en"])
    if not expression:
        return w["any"]
    tree = validate(expression, None)

    def say(node: exp.Expression) -> str:
        node = node.unnest() if isinstance(node, exp.Paren) else node
        if isinstance(node, exp.And):
            return say(node.left) + w["and"] + say(node.right)
        if isinstance(node, exp.Or):
            return "(" + say(node.left) + w["or"] + say(node.right) + ")"
        if isinstance(node, exp.Not):
            return w["not"] + say(node.this)
        if isinstance(node, exp.In):
            return w[exp.In].format(a=node.this.sql(), b=", ".join(e.sql() for e in node.expressions))
        if isinstance(node, exp.Between):
            return w[exp.Between].format(a=node.this.sql(), b=node.args["low"].sql(), c=node.args["high"].sql())
        if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
            return w["null"].format(a=node.this.sql())
        if type(node) in w:
            return w[type(node)].format(a=node.left.sql(), b=node.right.sql())
        return node.sql(dialect="trino")

    return say(tree)
