"""Bad input everywhere gives a clear error and writes nothing: seeded, mutation-based fuzzing of
every file a person edits (contracts, the department registry, the identity registry, the policy
files) and of the audit receiver's event bodies. Each case must either load or raise govlake's
own error (a message, no traceback); a case that hangs fails by the alarm (a hang detector, not
a timing check). Reproducible: the seed and the case number are in every failure message."""
from __future__ import annotations

import copy
import json
import random
import signal
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from govlake.core import config
from govlake.core.errors import GovlakeError

SEED, CASES = 20261203, 2000
ROOT = Path(__file__).resolve().parents[1]

ODD_VALUES = [None, "", " ", "x" * 100_000, -1, 0, 10 ** 30, 1.5e308, float("inf"), True, [], {}, [[[[[]]]]],
              {"a": {"b": {"c": None}}}, "<script>alert(1)</script>", "京A12345", "'; DROP TABLE contracts; --",
              "2026-02-30T25:61:00+08:00", "\u0000", "\ud7ff" * 3, "../../etc/passwd", "!!python/object/apply:os.system ['id']"]
ODD_TEXT = ["\t", ":", ": :", "- ", "&a ", "*a", "!!python/object/apply:os.system ['id']", "{", "}", "[", "'", '"', "%YAML 9.9",
            "\ufeff", "---\n---", "? ", "|", ">-", "\\", "\x85", "\u2028"]


@contextmanager
def no_hang(seconds: int, what: str):
    def fail(*_):
        raise AssertionError(f"{what} did not finish within {seconds} s")
    old = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _paths(v, prefix + (i,))


def _replace(data, path, value):
    if not path:
        return value
    node = data
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return data


def mutations(text: str, rng: random.Random, n: int):
    """`n` variants of a YAML file: values swapped for odd ones (structure kept), lines dropped,
    repeated or cut, odd characters inserted, bytes that are not UTF-8, and a few classics
    (an alias bomb, deep nesting, a huge file, an empty one)."""
    data = yaml.safe_load(text)
    paths = list(_paths(data))
    lines = text.splitlines(True)
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n"
                                                         for p, c in zip("abcdefgh", "bcdefghi"))
    classics = [b"", b"\xff\xfe\x00bad", ("[" * 20_000).encode(), ("- " * 5_000 + "x").encode(), bomb.encode() + text.encode(),
                ("x: " + "y" * 3_000_000).encode(), text.encode()[: len(text) // 2], b"\x00" * 100, text.encode("utf-16")]
    for i in range(n):
        if i < len(classics):
            yield classics[i]
            continue
        kind = rng.randrange(5)
        if kind == 0:
            mutated = _replace(yaml.safe_load(text), rng.choice(paths), copy.deepcopy(rng.choice(ODD_VALUES)))
            yield yaml.safe_dump(mutated, allow_unicode=True).encode("utf-8", "surrogatepass")
        elif kind == 1:
            cut = list(lines)
            for _ in range(rng.randint(1, 3)):
                if cut:
                    j = rng.randrange(len(cut))
                    if rng.random() < 0.5:
                        del cut[j]
                    else:
                        cut.insert(j, cut[j])
            yield "".join(cut).encode()
        elif kind == 2:
            j = rng.randrange(len(text) + 1)
            yield (text[:j] + rng.choice(ODD_TEXT) + text[j:]).encode("utf-8", "surrogatepass")
        elif kind == 3:
            raw = bytearray(text.encode())
            for _ in range(rng.randint(1, 4)):
                raw[rng.randrange(len(raw))] = rng.randrange(256)
            yield bytes(raw)
        else:
            yield text.encode()[: rng.randrange(len(text) + 1)]


def _fuzz(tmp_path: Path, source: Path, load, name: str | None = None, cases: int = CASES) -> tuple[int, int]:
    rng = random.Random(f"{SEED}:{source.name}")
    path = tmp_path / (name or source.name)
    loaded = refused = 0
    for i, body in enumerate(mutations(source.read_text(encoding="utf-8"), rng, cases)):
        path.write_bytes(body)
        try:
            with no_hang(20, f"{source.name} case {i} (seed {SEED})"):
                load(path)
            loaded += 1
        except GovlakeError as exc:
            assert str(exc).strip() and "Traceback" not in str(exc), f"{source.name} case {i}: an empty error"
            refused += 1
        except Exception as exc:  # noqa: BLE001 - the point: anything but govlake's own error is a defect
            pytest.fail(f"{source.name} case {i} (seed {SEED}) raised {type(exc).__name__}: {str(exc)[:300]}")
    return loaded, refused


def test_contract_files(tmp_path):
    from govlake.contracts.spec import load_contract

    loaded, refused = _fuzz(tmp_path, ROOT / "policies/contracts/police-to-traffic-vehicle-sightings.yaml", load_contract)
    assert refused > CASES // 2 and loaded > 0


def test_department_registry_files(tmp_path):
    from govlake.departments.registry import load_department

    loaded, refused = _fuzz(tmp_path, ROOT / "catalog/departments/traffic.yaml", load_department)
    assert refused > CASES // 2 and loaded > 0


def test_identity_registry(tmp_path):
    from govlake.domain.identities import IdentityRegistry

    loaded, refused = _fuzz(tmp_path, ROOT / "catalog/identities.yaml", lambda p: config.load_model(p, IdentityRegistry, "identity registry"))
    assert refused > CASES // 2 and loaded > 0


@pytest.mark.parametrize("name", ["classification.yaml", "masking.yaml", "purposes.yaml", "fairness.yaml", "retention.yaml", "erasure.yaml"])
def test_policy_files(tmp_path, make_settings, name):
    from govlake.compliance import erasure, retention
    from govlake.domain import policies

    loaders = {**{k: (lambda p, m=m: config.load_model(p, m, "policy file")) for k, m in policies.FILES.items()},
               "retention.yaml": lambda p: retention.load_policy(make_settings(), p),
               "erasure.yaml": lambda p: erasure.load_policy(make_settings(), p)}
    loaded, refused = _fuzz(tmp_path, ROOT / "policies" / name, loaders[name], cases=CASES // 2)
    assert refused > 0 and loaded > 0


def test_a_contract_the_workflow_refuses_writes_nothing(tmp_path, make_settings):
    import sqlalchemy as sa

    from govlake.context import Context
    from govlake.governance import store

    ctx = Context(make_settings())
    source = ROOT / "policies/contracts/traffic-to-transport-flows.yaml"
    rng = random.Random(f"{SEED}:workflow")

    def counts():
        with store.engine(ctx.settings).connect() as conn:
            return [conn.execute(sa.select(sa.func.count()).select_from(t)).scalar() for t in
                    (store.contracts, store.contract_versions, store.contract_events, store.audit_log)]

    path = tmp_path / "traffic-to-transport-flows.yaml"
    made = 0
    for i, body in enumerate(mutations(source.read_text(encoding="utf-8"), rng, 300)):
        path.write_bytes(body)
        before = counts()
        try:
            rec = ctx.new_contract(path, "li_transport_analyst", config_now())
            made += 1
            ctx.revoke_contract(rec.id, "zhao_compliance", "fuzz case", config_now()) if rec.status != "draft" else None
        except GovlakeError:
            assert counts() == before, f"case {i}: a refused contract left rows behind"
        except Exception as exc:  # noqa: BLE001
            pytest.fail(f"workflow case {i} (seed {SEED}) raised {type(exc).__name__}: {str(exc)[:300]}")
    assert made >= 1


def config_now():
    from datetime import datetime, timezone

    return datetime(2026, 11, 21, tzinfo=timezone.utc)


def test_receiver_event_bodies_go_into_the_chain_or_aside_never_jam_the_spool(make_settings):
    from govlake.governance import audit
    from govlake.services import audit_receiver

    settings = make_settings()
    rng = random.Random(f"{SEED}:receiver")
    good = json.loads((ROOT / "tests/cases/trino_query_completed.json").read_text()) if (ROOT / "tests/cases/trino_query_completed.json").is_file() else {
        "metadata": {"queryId": "q1", "query": "SELECT 1", "queryState": "FINISHED", "tables": []},
        "context": {"user": "li_transport_analyst", "source": "trino-cli", "groups": ["transport"]},
        "statistics": {"wallTime": 0.1, "outputRows": 1}, "ioMetadata": {"inputs": []}, "createTime": "2026-11-21T00:00:00Z"}
    bodies = [b"", b"null", b"[]", b"[1, 2]", b'"x"', b"{}", ("[" * 100_000).encode(), ('{"a":' * 50_000 + "1" + "}" * 50_000).encode(),
              b'{"metadata": 1, "statistics": 2}', b'{"govlake_sign_in": [1]}', b'{"govlake_refused": "x"}', b"\xff\xfe"]
    for i in range(CASES):
        event = json.loads(json.dumps(good))
        for _ in range(rng.randint(1, 3)):
            event = _replace(event, rng.choice(list(_paths(event))), copy.deepcopy(rng.choice(ODD_VALUES)))
        try:
            bodies.append(json.dumps(event, allow_nan=True).encode("utf-8", "surrogatepass"))
        except (TypeError, ValueError):
            continue
    for i, body in enumerate(bodies):
        audit_receiver.spool(settings, body)
        with no_hang(20, f"receiver body {i}"):
            audit_receiver.drain(settings)  # never raises: an unreadable event is set aside and recorded
        assert not audit_receiver.pending(settings), f"receiver body {i} (seed {SEED}) jammed the spool"
    assert audit.verify(settings).ok
