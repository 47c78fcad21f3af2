"""The cluster suite (`make test-cluster`, GOVLAKE_PROFILE=cluster): the root fixtures start the
profile's services on free loopback ports (tests/conftest.py `platform`), so the suite never
touches a running `govlake up --profile cluster`.

A run that loses its executors is stopped after 20 s here (120 s by default), so the worker-loss
tests fail fast and clearly."""
from __future__ import annotations

import os

os.environ.setdefault("GOVLAKE_SPARK_EXECUTOR_LOSS_TIMEOUT_S", "20")
