"""Semantic validation of a sharing contract against the catalog and the policies.

Every problem names the contract, the field and the rule it breaks, so a steward can fix the
file without reading code. Rules:

- `unknown-department`, `self-sharing`: provider and consumer are registered, different departments;
- `requester`: the requester is a registered identity of the consumer department;
- `unknown-dataset`, `unknown-column`, `duplicate-column`: the dataset is an analytic table and
  every granted column exists once;
- `unknown-masking`, `masking-type`: the masking method exists and fits the column's type;
- `platform-token`: a column holding platform tokens is re-keyed for the contract (`token`) or
  suppressed, never passed on as it is (the platform token is joinable across consumers and is
  the erasure subject's token);
- `unknown-purpose`, `purpose-category`: the purpose exists and may use each column's data
  category (PIPL art. 26: images and identity data from public cameras only for public security);
- `level-unmasked`, `level-after-masking`: a column above the purpose's `max_level` needs a
  masking method whose result is within it;
- `window-empty`, `window-past`, `window-range`: the validity window is not empty, has not already
  ended, and lies within the years 2000-2999;
- `row-filter`: the filter is a safe boolean expression (see filters.py) over the dataset;
- `provider-scope`: on a dataset holding several departments' rows, the filter must restrict
  rows to the provider's (`department = '<provider>' AND ...`): a steward can only share their own.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from govlake.contracts import filters
from govlake.contracts.spec import ContractSpec
from govlake.core.errors import ConfigError, GovlakeError
from govlake.core.settings import Settings
from govlake.departments import registry
from govlake.domain import identities, levels, policies, schemas

FIRST_YEAR, LAST_YEAR = 2000, 2999  # a validity window Trino's rules render as timestamps


@dataclass(frozen=True)
class Problem:
    field: str
    rule: str
    message: str

    def render(self, contract: str) -> str:
        return f"contract `{contract}` field `{self.field}` [{self.rule}]: {self.message}"


class ContractInvalid(GovlakeError):
    def __init__(self, contract: str, problems: list[Problem]):
        self.contract = contract
        self.problems = problems
        super().__init__("\n".join(p.render(contract) for p in problems))


def purposes(settings: Settings) -> dict:
    return policies.purposes(settings)


def masking_methods(settings: Settings) -> dict:
    return policies.masking_methods(settings)


def granted_level(column: schemas.Column, method: str | None, methods: dict) -> str:
    """The level a consumer receives: the column's, lowered by the masking method's result level."""
    if method in (None, "identity"):
        return column.level
    result = methods[method].result_level or column.level
    return levels.lowest([column.level, result])


def needs_compliance(spec: ContractSpec, settings: Settings) -> bool:
    """Compliance co-approval: a granted column is sensitive personal information (L4) or important data."""
    schema = dataset_schema(settings, spec)
    by_name = {c.name: c for c in schema.columns}
    return any(
        c.name in by_name and c.masking != "suppress" and (by_name[c.name].level == "L4" or by_name[c.name].important)
        for c in spec.columns
    )


def dataset_schema(settings: Settings, spec: ContractSpec) -> schemas.TableSchema:
    tier, table = spec.dataset.split(".", 1)
    return schemas.load_schema(settings, tier, table)


def problems(spec: ContractSpec, settings: Settings, now: datetime) -> list[Problem]:
    out: list[Problem] = []
    departments = {d.id for d in registry.load_all(settings)}
    for fld in ("provider", "consumer"):
        if getattr(spec, fld) not in departments:
            out.append(Problem(fld, "unknown-department", f"`{getattr(spec, fld)}` is not a registered department; known: {', '.join(sorted(departments))}"))
    if spec.provider == spec.consumer:
        out.append(Problem("consumer", "self-sharing", "provider and consumer are the same department; no contract is needed"))
    ids = identities.load(settings)
    try:
        who = ids.get(spec.requester)
        if who.department != spec.consumer:
            out.append(Problem("requester", "requester", f"`{spec.requester}` belongs to `{who.department}`, not to the consumer `{spec.consumer}`"))
    except GovlakeError as exc:
        out.append(Problem("requester", "requester", str(exc)))

    try:
        schema = dataset_schema(settings, spec)
    except ConfigError:
        out.append(Problem("dataset", "unknown-dataset", f"`{spec.dataset}` is not an analytic table (schemas/analytic/*.yaml)"))
        schema = None

    purpose = purposes(settings).get(spec.purpose)
    if purpose is None:
        out.append(Problem("purpose", "unknown-purpose", f"`{spec.purpose}` is not in policies/purposes.yaml; known: {', '.join(purposes(settings))}"))
    methods = masking_methods(settings)

    if schema is not None:
        by_name = {c.name: c for c in schema.columns}
        seen: set[str] = set()
        for i, granted in enumerate(spec.columns):
            where = f"columns[{i}] ({granted.name})"
            col = by_name.get(granted.name)
            if col is None:
                out.append(Problem(where, "unknown-column", f"`{spec.dataset}` has no column `{granted.name}`; it has {', '.join(schema.names())}"))
                continue
            if granted.name in seen:
                out.append(Problem(where, "duplicate-column", f"`{granted.name}` is granted twice"))
            seen.add(granted.name)
            out += column_problems(schema, col, granted.masking, spec.purpose, purpose, methods, where)
        if spec.row_filter is not None:
            try:
                tree = filters.validate(spec.row_filter, set(schema.names()))
            except filters.FilterError as exc:
                out.append(Problem("row_filter", "row-filter", str(exc)))
            else:
                if "department" in schema.names() and not _restricts_to(tree, "department", spec.provider):
                    out.append(Problem("row_filter", "provider-scope", f"`{spec.dataset}` holds several departments' rows; the filter must start with `department = '{spec.provider}' AND ...` so only the provider's rows are shared"))
        elif "department" in schema.names():
            out.append(Problem("row_filter", "provider-scope", f"`{spec.dataset}` holds several departments' rows; add `row_filter: \"department = '{spec.provider}'\"`"))
    for fld in ("valid_from", "valid_to"):
        year = getattr(spec, fld).year
        if not FIRST_YEAR <= year <= LAST_YEAR:
            out.append(Problem(fld, "window-range", f"year {year} is outside {FIRST_YEAR}-{LAST_YEAR}; give a date the access rules can hold"))
            return out
    if spec.valid_to <= spec.valid_from:
        out.append(Problem("valid_to", "window-empty", f"the validity window is empty: valid_to {spec.valid_to.isoformat()} is not after valid_from {spec.valid_from.isoformat()}"))
    elif spec.valid_to <= now:
        out.append(Problem("valid_to", "window-past", f"the validity window ended at {spec.valid_to.isoformat()}, before now ({now.isoformat()})"))
    return out


def column_problems(schema: schemas.TableSchema, col: schemas.Column, method: str | None, purpose_name: str,
                    purpose: policies.Purpose | None, methods: dict, where: str) -> list[Problem]:
    """The rules on one granted column with masking `method` under a purpose."""
    out: list[Problem] = []
    if method is not None:
        if method not in methods or method == "grid":
            usable = sorted(m for m in methods if m != "grid")
            return [Problem(f"{where}.masking", "unknown-masking", f"`{method}` is not a column masking method; use one of {', '.join(usable)}")]
        applies = methods[method].applies_to
        if applies != "any" and col.type not in applies.split("|"):
            return [Problem(f"{where}.masking", "masking-type", f"`{method}` applies to {applies} columns; `{col.name}` is {col.type}")]
    if method == "suppress":
        return []
    if col.platform_token and method != "token":
        out.append(Problem(f"{where}.masking", "platform-token", f"`{col.name}` holds platform tokens, which every consumer could join on and which name erasure subjects; grant it with `masking: token` (re-keyed for this contract) or `suppress`"))
    category = col.category or schema.category
    if purpose is not None:
        if category not in purpose.categories:
            extra = " (PIPL art. 26: images and identity data from public cameras serve public security only)" if category in ("images", "identity") else ""
            out.append(Problem(where, "purpose-category", f"purpose `{purpose_name}` may not use `{category}` data{extra}"))
        limit = purpose.max_level
        level = granted_level(col, method, methods)
        if levels.exceeds(level, limit):
            if method in (None, "identity"):
                out.append(Problem(where, "level-unmasked", f"`{col.name}` is {col.level}{' (' + col.pii_type + ')' if col.pii_type else ''} but purpose `{purpose_name}` allows at most {limit}; name a masking method that lowers it, or drop the column"))
            else:
                out.append(Problem(f"{where}.masking", "level-after-masking", f"`{method}` leaves `{col.name}` at {level}, above {limit} allowed for `{purpose_name}`; choose a stronger method"))
    return out


@dataclass
class ColumnOffer:
    """What a requester may ask for of one column under a purpose: the masking choices the rules
    accept (None: the value as it is), each with the level the consumer would receive, or why
    the column cannot be had at all (the first rule it breaks with every choice)."""
    name: str
    type: str
    level: str
    pii_type: str | None
    category: str
    choices: list[tuple[str | None, str]]
    refused: Problem | None


def offers(settings: Settings, dataset: str, purpose_name: str) -> list[ColumnOffer]:
    """Per column of `dataset`, the masking choices `column_problems` accepts under `purpose_name`:
    the request form offers exactly what the workflow would accept, from the same rules."""
    tier, table = dataset.split(".", 1)
    schema = schemas.load_schema(settings, tier, table)
    purpose = purposes(settings).get(purpose_name)
    methods = masking_methods(settings)
    out = []
    for col in schema.columns:
        choices, found_any = [], []
        # offered: the value as it is, a method that lowers its level, `token` (a join key
        # without the value) and a generalisation made for the column's type (an hour, an age
        # band); the rules decide which of these the purpose accepts
        candidates = [None] + sorted(m for m in methods if m not in ("grid", "suppress", "identity") and (
            m == "token" or levels.exceeds(col.level, granted_level(col, m, methods))
            or methods[m].applies_to not in ("any", "string")))
        for method in candidates:
            found = column_problems(schema, col, method, purpose_name, purpose, methods, col.name)
            if not found:
                choices.append((method, granted_level(col, method, methods)))
            else:
                found_any += [p for p in found if p.rule != "masking-type"]
        # why nothing is offered: a rule on the column itself (its category) before one on a method
        refused = next((p for p in found_any if p.rule == "purpose-category"), found_any[0] if found_any else None)
        out.append(ColumnOffer(col.name, col.type, col.level, col.pii_type, col.category or schema.category, choices,
                               None if choices else refused))
    return out


def _restricts_to(tree: exp.Expression, column: str, value: str) -> bool:
    """True when `tree` is a conjunction containing `column = 'value'` at its top level."""
    node = tree.unnest() if isinstance(tree, exp.Paren) else tree
    if isinstance(node, exp.And):
        return _restricts_to(node.left, column, value) or _restricts_to(node.right, column, value)
    if isinstance(node, exp.EQ):
        sides = {type(node.left), type(node.right)}
        if sides == {exp.Column, exp.Literal}:
            col = node.left if isinstance(node.left, exp.Column) else node.right
            lit = node.right if isinstance(node.right, exp.Literal) else node.left
            return col.name == column and lit.is_string and lit.this == value
    return False


def check(spec: ContractSpec, settings: Settings, now: datetime) -> None:
    found = problems(spec, settings, now)
    if found:
        raise ContractInvalid(spec.id, found)
