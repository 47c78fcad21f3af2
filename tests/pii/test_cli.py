"""`govlake scrub` and `govlake classify` as other tools call them: subprocesses with stdin/stdout."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone

from govlake.departments import generator, registry


def _govlake(settings, *args, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = os.environ | {"GOVLAKE_STATE_DIR": str(settings.state)}
    return subprocess.run([sys.executable, "-m", "govlake", *args], input=stdin, capture_output=True, env=env, timeout=300)


def test_scrub_json_reports_offsets_into_each_input_line(settings):
    lines = ["报警人张伟，电话13812345678。", "无个人信息的一行", "邮箱 a.b@example.com，IP 10.0.0.1，身份证440305198512310026"]
    out = _govlake(settings, "scrub", "--json", stdin=("\n".join(lines) + "\n").encode())
    assert out.returncode == 0, out.stderr.decode()
    objs = [json.loads(x) for x in out.stdout.decode().splitlines()]
    assert len(objs) == 3
    assert objs[0]["text"] == "报警人<PERSON>，电话<PHONE>。"
    assert objs[1] == {"text": "无个人信息的一行", "entities": []}
    assert [e["type"] for e in objs[2]["entities"]] == ["EMAIL", "IP_ADDRESS", "ID_NUMBER"]
    for obj in objs:
        for e in obj["entities"]:
            assert set(e) == {"type", "start", "end", "score"} and 0 < e["score"] <= 1
    assert [lines[0][e["start"]:e["end"]] for e in objs[0]["entities"]] == ["张伟", "13812345678"]
    assert lines[2][objs[2]["entities"][2]["start"]:objs[2]["entities"][2]["end"]] == "440305198512310026"


def test_scrub_plain_text_and_a_clear_error_for_bad_encoding(settings):
    out = _govlake(settings, "scrub", stdin="车牌京A12345\n".encode())
    assert out.returncode == 0 and out.stdout.decode() == "车牌<PLATE>\n"
    bad = _govlake(settings, "scrub", stdin="电话".encode("gbk") + b"\n")
    assert bad.returncode != 0 and "not valid UTF-8" in bad.stderr.decode() and "iconv" in bad.stderr.decode()
    assert "Traceback" not in bad.stderr.decode()


def test_classify_a_department_file_by_its_values(settings, tmp_path):
    dept = registry.get(settings, "police")
    feed = generator.generate(dept, tmp_path, rows=300, seed=6, start=datetime(2026, 11, 20, tzinfo=timezone.utc))
    out = _govlake(settings, "classify", str(feed.paths["events"]), "--json")
    assert out.returncode == 0, out.stderr.decode()
    cols = {c["name"]: c for c in json.loads(out.stdout)["columns"]}
    note = cols["简要情况"]  # the free-text note, named in Chinese: values decide
    assert {"PERSON", "PHONE", "PLATE"} <= set(note["entities"]) and note["level"] == "L4" and "FREE_TEXT" in note["pii_types"]
    assert cols["警情编号"]["entities"] == {} and cols["警情编号"]["level"] == "L2"
    det = json.loads(_govlake(settings, "classify", str(feed.paths["detections"]), "--json").stdout)
    plates = next(c for c in det["columns"] if c["name"] == "车牌号码")
    assert plates["entities"]["PLATE"] >= 0.97 and plates["level"] == "L4"
