"""Structure figures of a govlake tree: largest module, import circles, function-level imports of
govlake modules, and blocks of six or more lines repeated elsewhere (the `duplicates` command,
when the machine has it).

    .venv/bin/python bench/structure.py [ROOT]      # ROOT: a checkout (default: this one)
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

from tests import importgraph  # noqa: E402


def figures(root: Path) -> dict:
    mods = importgraph.modules(root)
    sizes = {name: len(path.read_text().splitlines()) for name, path in mods.items()}
    largest = max(sizes, key=sizes.get)
    edges = importgraph.edges(root)
    inner = [e for e in edges if e.in_function]
    engine = [e for e in inner if not e.source.startswith(("govlake.cli", "dags", "jobs"))]
    circles = importgraph.cycles(edges)
    out = {
        "modules": len(mods),
        "largest module": f"{largest} ({sizes[largest]} lines)",
        "import circles": f"{len(circles)} ({sum(len(c) for c in circles)} modules in them)",
        "function-level imports of govlake modules": f"{len(inner)} ({len(engine)} outside the CLI and DAGs)",
    }
    if shutil.which("duplicates"):
        line = subprocess.run(["duplicates", "--repo", str(root), "--seconds", "120"], capture_output=True, text=True).stdout.splitlines()
        out["repeated blocks (>= 6 lines)"] = line[0] if line else "?"
    return out


if __name__ == "__main__":
    for k, v in figures(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE).items():
        print(f"{k}: {v}")
