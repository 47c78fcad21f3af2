"""Synthetic departments for scale tests: registry files modelled on the shipped ones.

Department i takes the shape of shipped department i mod 3 (GBK CSV, JSON lines, Parquet), with
its own id, name, district code and steward, so ingest, DAG parsing and benchmarks can run over
100 departments without hand-written files.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from govlake.core.settings import PROJECT_ROOT
from govlake.departments.registry import Department, load_department

TEMPLATES = ("police", "traffic", "transport")


def make_departments(n: int, *, seed: int = 1) -> list[Department]:
    shipped = [load_department(PROJECT_ROOT / "catalog" / "departments" / f"{t}.yaml") for t in TEMPLATES]
    out = []
    for i in range(n):
        tpl = shipped[i % len(shipped)]
        out.append(
            tpl.model_copy(
                update={
                    "id": f"syn{i:03d}",
                    "name": f"Synthetic department {i:03d} ({tpl.id}-style feed)",
                    "stewards": [f"steward_syn{i:03d}"],
                    "region_code": f"{110000 + 100 * (1 + (i + seed) % 99) + (i // 99) + 1:06d}"[:6],
                }
            )
        )
    return out


def write_departments(directory: Path, n: int, *, seed: int = 1) -> list[Department]:
    directory.mkdir(parents=True, exist_ok=True)
    depts = make_departments(n, seed=seed)
    for d in depts:
        data = d.model_dump(mode="json", exclude_none=True)
        (directory / f"{d.id}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return depts
