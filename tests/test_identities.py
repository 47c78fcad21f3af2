from __future__ import annotations

import pytest

from govlake.core.errors import IdentityError
from govlake.domain import identities


def test_group_file_gives_each_user_department_and_role(settings):
    text = identities.trino_group_file(identities.load(settings))
    groups = dict(line.split(":") for line in text.splitlines())
    assert "li_transport_analyst" in groups["dept_transport"].split(",")
    assert "li_transport_analyst" in groups["role_analyst"].split(",")
    assert "li_transport_analyst" not in groups["dept_traffic"].split(",")
    # one group for department and role together, so one access rule can require both
    assert groups["team_transport_analyst"] == "li_transport_analyst"
    assert "wang_police_steward" in groups["team_police_steward"].split(",")


def test_unknown_user_is_refused_with_the_known_ones(settings):
    with pytest.raises(IdentityError, match=r"unknown user `mallory`.*li_transport_analyst"):
        identities.load(settings).get("mallory")


def test_duplicate_user_is_rejected():
    with pytest.raises(ValueError, match="listed twice"):
        identities.IdentityRegistry.model_validate(
            {"identities": [{"user": "a_b", "department": "x1", "role": "analyst"}] * 2}
        )
