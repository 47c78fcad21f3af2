"""What the whole suite left on the host, inspected after every other test (marker `last`):

- nothing govlake or a service it started wrote is readable by another account (tried for real
  as `nobody` when the suite runs as root, and by the mode bits in any case);
- no log carries a value of a classified column, a result-page URI, the token key or its HMAC
  pads, the audit chain key, a password, the receiver's tokens or Trino's internal secret; no
  error recorded in the audit log carries one.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from govlake.domain import masking
from govlake.governance import audit
from govlake.pii.checksums import id_check_digit
from govlake.platform.secrets import token_key
from govlake.services import audit_receiver

pytestmark = [pytest.mark.last, pytest.mark.spark, pytest.mark.trino]

NOBODY = 65534
SESSION_START = time.time()


def _everything(root: Path) -> list[Path]:
    out = [root]
    for dirpath, dirnames, filenames in os.walk(root):
        out += [Path(dirpath, n) for n in dirnames + filenames]
    return out


def _mode(p: Path) -> int | None:
    """Permission bits of `p`; None for a symlink or a file gone meanwhile (a drained spool file)."""
    try:
        st = p.lstat()
    except FileNotFoundError:
        return None
    return None if stat.S_ISLNK(st.st_mode) else stat.S_IMODE(st.st_mode)


READ_AS_OTHER = r"""
import json, os, sys
readable = []
for p in json.load(sys.stdin):
    try:
        if os.path.isdir(p) and not os.path.islink(p):
            os.listdir(p)
        else:
            with open(p, "rb") as f:
                f.read(1)
        readable.append(p)
    except OSError:
        pass
print(json.dumps(readable))
"""


def test_no_other_account_reads_anything_govlake_wrote(settings, lakehouse):
    state = settings.state
    paths = _everything(state)
    assert len(paths) > 100 and (state / "governance.db").is_file()
    loose = [f"{oct(mode)} {p}" for p in paths if (mode := _mode(p)) is not None and mode & 0o077]
    assert loose == [], loose[:20]
    # the attempt itself, as another account: the parent lets it in, the state folder must not
    if os.geteuid() == 0:
        python = shutil.which("python3", path="/usr/bin:/bin")
        assert python, "a system python3 for the `nobody` account"
        targets = [str(p) for p in paths if p.name in ("governance.db", "trino-server.log", "audit-receiver.log", "passwords.json")
                   or p.suffix == ".parquet"][:200] + [str(state), str(state / "warehouse"), str(state / "landing")]
        done = subprocess.run([python, "-c", READ_AS_OTHER], input=json.dumps(targets), capture_output=True, text=True,
                              user=NOBODY, group=NOBODY, extra_groups=[], timeout=120, cwd="/")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == []
    # Spark's and the JVMs' scratch files stay inside the state folder, not in the shared /tmp
    tmp = Path(tempfile.gettempdir())
    strays = [p for pattern in ("blockmgr-*", "spark-*") for p in tmp.glob(pattern)
              if p.stat().st_uid == os.geteuid() and p.stat().st_mtime >= SESSION_START]
    assert strays == []


def _logs(settings) -> dict[Path, str]:
    found = {}
    for p in _everything(settings.state):
        if p.is_file() and (p.suffix == ".log" or ".log" in p.name or "logs" in p.parts):
            try:
                found[p] = p.read_text(encoding="utf-8", errors="replace")
            except FileNotFoundError:
                continue
    return found


def _sample_identifiers(sample_data) -> set[str]:
    values = set()
    for data in sample_data.values():
        values |= {d["plate_no"] for d in data.detections if d.get("plate_no")}
        for note in data.notes.values():
            values |= {note.text[a:b] for kind, a, b in note.entities if b - a >= 5 or kind == "PERSON" and b - a >= 3}
    return values


PLATE = re.compile(r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][A-HJ-NP-Z0-9]{5,6}")
ID_NUMBER = re.compile(r"(?<!\d)[1-8]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dX](?!\d)")


def _key_material(settings) -> set[str]:
    forms = set()
    key = token_key(settings, create=False)
    for raw in (key.key, *masking._pads(key.key), audit.chain_key(settings, create=False)):
        forms |= {raw.hex(), raw.hex().upper(), base64.b64encode(raw).decode()}
    passwords = json.loads((settings.secrets_dir / "trino" / "passwords.json").read_text())
    tokens = {audit_receiver.token(settings), audit_receiver.lineage_token(settings),
              (settings.secrets_dir / "trino" / "shared-secret").read_text().strip()}
    return forms | set(passwords.values()) | tokens


def test_no_log_carries_a_classified_value_a_result_uri_or_a_key(settings, lakehouse, sample_data):
    logs = _logs(settings)
    assert any(p.name == "trino-server.log" for p in logs) and any(p.name == "audit-receiver.log" for p in logs)
    identifiers = _sample_identifiers(sample_data)
    assert len(identifiers) > 100
    secrets = _key_material(settings)
    problems = []
    for path, text in logs.items():
        problems += [f"{path}: a sample identifier" for v in identifiers if v in text][:3]
        problems += [f"{path}: plate-shaped {m}" for m in PLATE.findall(text)][:3]
        problems += [f"{path}: resident ID {m}" for m in ID_NUMBER.findall(text) if id_check_digit(m[:17]) == m[17]][:3]
        problems += [f"{path}: key material or password" for v in secrets if v in text][:1]
        if "/v1/statement/executing/" in text:
            problems.append(f"{path}: a result-page URI")
    assert problems == [], problems[:20]


def test_no_recorded_error_carries_a_key(settings, lakehouse):
    """Errors of failed and refused queries are kept in the audit log (compliance reads them)."""
    from govlake.core.errors import QueryError
    from govlake.services import sql

    marker = f"errors-{time.time_ns()}"
    for query in (f"SELECT '{marker}' FROM base.detections", f"SELECT CAST('{marker}' AS integer)"):
        with pytest.raises(QueryError):
            sql.query(settings, "zhou_traffic_analyst", query)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 30 and sum(marker in e["detail"] for e in audit.entries(settings, 200, "query.")) < 2:
        time.sleep(0.5)
    secrets = _key_material(settings)
    errors = [e["detail"] for e in audit.entries(settings, 100_000, "query.") if '"error": {' in e["detail"]]
    assert sum(marker in e for e in errors) == 2  # a refusal and a failure, with their messages
    assert not [e for e in errors if any(v in e for v in secrets)]
