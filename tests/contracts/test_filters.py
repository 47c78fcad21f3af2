from __future__ import annotations

import pytest

from govlake.contracts.filters import FilterError, to_sql, validate

COLUMNS = {"department", "object_type", "plate_token", "detections"}


@pytest.mark.parametrize(
    "expr",
    [
        "department = 'police'",
        "department = 'traffic' AND object_type IN ('motor_vehicle', 'non_motor_vehicle')",
        "NOT plate_token IS NULL OR detections BETWEEN 5 AND 10",
        "lower(object_type) LIKE 'motor%'",
    ],
)
def test_safe_filters_pass_and_are_rerendered(expr):
    tree = validate(expr, COLUMNS)
    assert to_sql(tree, "spark")


@pytest.mark.parametrize(
    "expr,problem",
    [
        ("department = 'a'; DROP TABLE base.detections", "statement separators"),
        ("department = 'a' -- and more", "comments"),
        ("department IN (SELECT department FROM base.detections)", "Subquery"),
        ("current_user = 'x'", "not allowed"),
        ("regexp_like(department, '.*')", "not allowed"),
        ("secret_column = 1", "unknown column `secret_column`"),
        ("d.department = 'x'", "must not be qualified"),
        ("department", "must be a boolean condition"),
    ],
)
def test_unsafe_filters_are_rejected_with_reason(expr, problem):
    with pytest.raises(FilterError, match=problem):
        validate(expr, COLUMNS)
