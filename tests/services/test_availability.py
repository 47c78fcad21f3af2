"""Availability from the supervisor's samples: time up over time observed, the supervisor's own
absences apart, outages from the first down sample to the next up one."""
from __future__ import annotations

import os
import sqlite3
import stat
from datetime import timedelta

import pytest

from govlake.core import times
from govlake.core.errors import ConfigError
from govlake.services import supervisor
from govlake.services.availability import Sample, measure

EVERY = 5.0
COVERS = 2 * EVERY + 10


def run(states: str, start: float = 1000.0, every: float = EVERY) -> list[Sample]:
    """One sample per character, `every` seconds apart: `u` up, `d` down."""
    return [Sample(start + i * every, c == "u", COVERS) for i, c in enumerate(states)]


def test_always_up_is_one_hundred_percent():
    a = measure(run("uuuuuuuuuu"), 1000.0, 1050.0)
    assert a.percent == 100.0 and a.observed_s == 50.0 and a.not_observed_s == 0.0 and a.outages == []


def test_a_down_stretch_is_one_outage_from_its_first_down_sample_to_the_next_up_one():
    a = measure(run("uuuudduuuu"), 1000.0, 1050.0)
    assert a.percent == 80.0
    assert [(o.start, o.end, o.down_s) for o in a.outages] == [(1020.0, 1030.0, 10.0)]
    assert a.current_outage is None


def test_an_outage_still_under_way_has_no_end():
    a = measure(run("uuuuuuuddd"), 1000.0, 1050.0)
    assert a.percent == 70.0
    assert a.current_outage is not None and a.current_outage.start == 1035.0 and a.current_outage.down_s == 15.0


def test_time_the_supervisor_was_not_running_is_not_observed_neither_up_nor_down():
    # up until 1020, the supervisor away for 1000 s, then up again for 20 s; a sample stands for at most COVERS
    samples = run("uuuuu") + run("uuuuu", start=2040.0)
    a = measure(samples, 1000.0, 2065.0)
    assert a.percent == 100.0
    assert a.observed_s == 20.0 + COVERS + 25.0
    assert a.not_observed_s == 1065.0 - a.observed_s
    down_then_away = run("uudd") + run("uu", start=2000.0)
    b = measure(down_then_away, 1000.0, 2010.0)
    assert b.observed_s == 10.0 + 5.0 + COVERS + 10.0
    assert b.up_s == 20.0 and len(b.outages) == 1 and b.outages[0].down_s == 5.0 + COVERS


def test_a_run_of_identical_probes_kept_as_one_sample_counts_as_the_probes_would():
    probes = run("uuuuuuddddduuuuu")
    kept = [Sample(1000.0, True, COVERS, until=1025.0), Sample(1030.0, False, COVERS, until=1050.0), Sample(1055.0, True, COVERS, until=1075.0)]
    assert measure(kept, 1000.0, 1080.0) == measure(probes, 1000.0, 1080.0)
    assert measure(kept, 1000.0, 1080.0).percent == round(100 * 55 / 80, 3)
    away = [Sample(1000.0, True, COVERS, until=1025.0), Sample(5000.0, True, COVERS)]  # the supervisor stopped after 1025
    assert measure(away, 1000.0, 5010.0).observed_s == 25.0 + COVERS + 10.0


def test_the_window_clips_samples_and_outages_before_it():
    samples = run("dduuuuuuuuuu")  # down 1000-1010, then up
    a = measure(samples, 1020.0, 1060.0)
    assert a.percent == 100.0 and a.outages == [] and a.observed_s == 40.0
    b = measure(samples, 1005.0, 1060.0)  # the window opens inside the outage: it counts, with its real start
    assert [(o.start, o.end, o.down_s) for o in b.outages] == [(1000.0, 1010.0, 5.0)]
    assert b.percent == round(100 * 50 / 55, 3)


def test_nothing_observed_has_no_percentage():
    a = measure([], 0.0, 3600.0)
    assert a.percent is None and a.not_observed_s == 3600.0
    assert a.as_dict()["percent"] is None


def test_samples_after_the_window_do_not_count():
    a = measure(run("uuuudddd"), 1000.0, 1020.0)
    assert a.percent == 100.0 and a.outages == []


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("30m", 1800), ("1h", 3600), ("24h", 86400), ("7d", 604800), ("1.5h", 5400)])
def test_windows_are_read_as_spans(text, seconds):
    assert times.parse_duration(text, "--window") == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "24", "h", "-1h", "0h", "1w", "1 hour"])
def test_a_window_that_is_no_span_is_refused_saying_how_to_write_one(text):
    with pytest.raises(ConfigError, match=r"`--window` .* is not a duration.*`24h`"):
        times.parse_duration(text, "`--window`")


def test_the_store_is_private_and_reports_per_service(make_settings):
    settings = make_settings()
    for i, up in enumerate([True, True, False, False, True]):
        supervisor.record_samples(settings, 1000.0 + 5 * i, {"trino": "running" if up else "stopped", "console": "running"}, EVERY)
    supervisor.record_restart(settings, "trino", 1011.0, True, "trino started again (pid 1)")
    path = supervisor.db_path(settings)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with sqlite3.connect(path) as db:  # the file grows with changes of state, not with every probe
        assert db.execute("SELECT service, at, until, up FROM samples ORDER BY service, at").fetchall() == [
            ("console", 1000.0, 1020.0, 1), ("trino", 1000.0, 1005.0, 1), ("trino", 1010.0, 1015.0, 0), ("trino", 1020.0, 1020.0, 1)]
    got = supervisor.report(settings, 1000.0, 1025.0)
    assert sorted(got) == ["console", "trino"]
    trino = supervisor.as_dict(got["trino"])
    assert trino["percent"] == 60.0 and trino["restarts"] == 1 and trino["down_since"] is None
    assert trino["outages"] == [{"start": 1010.0, "end": 1020.0, "down_s": 10.0}]
    assert trino["last_restart"] == {"at": 1011.0, "ok": True, "detail": "trino started again (pid 1)"}
    assert supervisor.as_dict(got["console"])["percent"] == 100.0
    supervisor.record_samples(settings, 1025.0, {"trino": "stopped"}, EVERY)
    supervisor.record_samples(settings, 1030.0, {"trino": "stopped"}, EVERY)
    assert supervisor.report(settings, 1028.0, 1035.0)["trino"]["down_since"] == 1025.0  # the outage began before the window
