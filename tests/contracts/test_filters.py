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


TYPES = {"department": "string", "object_type": "string", "detections": "long", "observed_hour": "timestamp"}


def test_the_filter_builder_makes_literals_of_what_is_typed():
    from govlake.contracts.filters import compose

    built = compose([("object_type", "in", "motor_vehicle, bus"), ("detections", ">=", "5"), ("", "=", "ignored")], TYPES,
                    ("department", "traffic"))
    assert built == "department = 'traffic' AND object_type IN ('motor_vehicle', 'bus') AND detections >= 5"
    assert validate(built, set(TYPES))
    # a quote, a comment or a clause typed as a value stays inside one string literal
    hostile = compose([("object_type", "=", "x' OR '1'='1")], TYPES)
    assert hostile == "object_type = 'x'' OR ''1''=''1'" and validate(hostile, set(TYPES))
    text = compose([("object_type", "=", "a--b; /*c*/")], TYPES)  # comment marks inside a literal are text
    assert text == "object_type = 'a--b; /*c*/'" and validate(text, set(TYPES))
    for bad, problem in (([("detections", "=", "1 OR 1=1")], "not a number"), ([("detections", "=", "nan")], "not a number"),
                         ([("plate_no", "=", "x")], "unknown column"), ([("object_type", "; drop", "x")], "operator"),
                         ([("object_type", "in", " , ")], "at least one value")):
        with pytest.raises(FilterError, match=problem):
            compose(bad, TYPES)
    assert compose([], TYPES) is None


def test_a_filter_in_words():
    from govlake.contracts.filters import describe

    assert describe("department = 'traffic' AND (detections > 3 OR object_type IS NULL)") == \
        "department is 'traffic' and (detections is above 3 or object_type is empty)"
    assert describe("object_type IN ('bus', 'car') AND detections BETWEEN 1 AND 9", "zh-CN") == \
        "object_type 属于 'bus', 'car'，并且detections 介于 1 与 9 之间"
    assert describe(None) == "every row"
    with pytest.raises(FilterError):
        describe("detections = (SELECT 1)")


def test_the_request_offer_is_what_the_contract_rules_accept(make_settings):
    from govlake.contracts import validate as rules
    from govlake.domain import schemas

    settings = make_settings()
    offer = {o.name: o for o in rules.offers(settings, "analytic.detections_deidentified", "traffic_management")}
    assert offer["plate_token"].choices == [] and offer["plate_token"].refused.rule == "purpose-category"
    assert offer["detection_token"].choices == [("token", "L2")]  # a platform token: re-keyed or nothing
    assert (None, "L2") in offer["camera_id"].choices and ("hour", "L2") in offer["observed_hour"].choices
    security = {o.name: o for o in rules.offers(settings, "analytic.detections_deidentified", "public_security")}
    assert security["plate_token"].choices == [("token", "L3")]
    # every offered choice passes the contract rules
    schema = schemas.load_schema(settings, "analytic", "detections_deidentified")
    purpose = rules.purposes(settings)["public_security"]
    methods = rules.masking_methods(settings)
    for col in schema.columns:
        offered = dict(security[col.name].choices)
        assert all(not rules.column_problems(schema, col, m, "public_security", purpose, methods, col.name) for m in offered)
