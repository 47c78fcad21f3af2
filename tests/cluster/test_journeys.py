"""The embedded profile's journeys, unchanged, on the cluster profile: the main job (ingest with
quarantine and exactly-once, analytic build, publish) runs as an application on the Spark
standalone cluster with the warehouse in the object store and the governance store on
PostgreSQL; Trino's coordinator plans and its worker executes; the red-team refusals, masks,
revocation, audit and lineage checks are the very tests `make test` runs on one machine.

The functions are imported, so each runs here against this package's fixtures: the session's
settings come from GOVLAKE_PROFILE=cluster (`make test-cluster`)."""
from __future__ import annotations

import pytest

from tests.contracts.test_red_team import *  # noqa: F401,F403
from tests.governance.test_lineage import (  # noqa: F401 - collected here, on the cluster
    test_jobs_send_their_events_through_the_receiver,
    test_plate_numbers_downstream_through_every_tier,
    test_publish_refuses_a_column_whose_lineage_carries_plates,
)
from tests.test_end_to_end import *  # noqa: F401,F403

pytestmark = [pytest.mark.cluster, pytest.mark.spark, pytest.mark.trino]


@pytest.fixture(scope="session", autouse=True)
def _on_the_cluster_profile(settings):
    if settings.profile != "cluster":
        pytest.fail("the cluster suite runs with GOVLAKE_PROFILE=cluster: use `make test-cluster`")
