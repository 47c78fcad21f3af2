# govlake — the two commands: `make demo` and `make test`. Everything else is setup they share.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
STAMP := $(VENV)/.govlake-synced
# uv lives in its own small venv: `uv pip sync` removes whatever the lock does not list from .venv
TOOLS := .venv-tools
UV := $(TOOLS)/bin/uv

.PHONY: demo test test-faults test-cluster test-fast setup fetch browser postgres-server down lock clean bench

demo: setup
	$(BIN)/govlake demo

# pytest exits 5 when it collected no tests: that is a failure here, not a pass.
# The fault suite (jobs killed with SIGKILL at named points and rerun; jobs overlapping as real
# processes) is a session of its own, so `make test` stays within its time; CI runs both.
test: setup browser
	@$(BIN)/python -m pytest -m "not faults and not cluster"; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

test-faults: setup
	@$(BIN)/python -m pytest -m faults; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no fault tests: failing" >&2; exit 1; fi; exit $$rc

# The cluster profile on loopback (PostgreSQL, an S3 object store, a Spark master and worker, a Trino
# coordinator and worker): the scale-out suite brings it up, runs the main journeys on it, brings it down.
test-cluster: setup postgres-server
	@GOVLAKE_PROFILE=cluster $(BIN)/govlake fetch > /dev/null
	@GOVLAKE_PROFILE=cluster $(BIN)/python -m pytest -m cluster; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no cluster tests: failing" >&2; exit 1; fi; exit $$rc

test-fast: setup
	$(BIN)/python -m pytest -m "not spark and not trino and not airflow and not cluster"

setup: $(STAMP) fetch

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"govlake needs Python 3.11, found {sys.version.split()[0]} at {sys.executable}; set PYTHON=/path/to/python3.11"'
	$(PYTHON) -m venv $(VENV)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

# Re-sync only when the lock or the project metadata changed.
$(STAMP): requirements.lock pyproject.toml | $(BIN)/python $(UV)
	$(UV) pip sync --python $(BIN)/python requirements.lock
	$(UV) pip install --python $(BIN)/python --no-deps -e .
	touch $@

fetch: $(STAMP)
	@$(BIN)/govlake fetch > /dev/null

# The console's browser tests drive Debian's Chromium through chromium-driver; a fresh machine gets
# them here, with a small Chinese font (1.6 MB) so the screenshots of the zh-CN pages are legible.
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] || [ ! -f $(CJK_FONT) ]; then \
	  echo "installing Debian's chromium, chromium-driver and fonts-wqy-microhei (the console's browser tests)" >&2; \
	  SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >/dev/null; \
	fi

# The cluster profile's governance store and Airflow database run on a local PostgreSQL
# (services/postgres.py) with Debian's server binaries; a fresh machine gets them here.
postgres-server:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "installing Debian's postgresql (the cluster profile's governance store and Airflow database)" >&2; \
	  SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; \
	fi

down:
	@if [ -x $(BIN)/govlake ]; then $(BIN)/govlake down; fi

lock: | $(UV)
	$(UV) pip compile requirements.in --python-version 3.11 -o requirements.lock

bench: setup
	$(BIN)/python bench/run.py dagbag
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/freshness.py

clean: down
	rm -rf .govlake
