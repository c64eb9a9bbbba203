"""Ops with known failures on this torch, read from its baseline file.

Random trees are built from ops whose own cells pass: a known-failing op would
make every tree that contains it fail, and the tree cells would stop telling
anything new.  The known-failing op is still checked by its own cells, which
stay in the report as known failures with their repro.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

BASELINE_DIR = Path(__file__).resolve().parent.parent / "baselines"


@cache
def known_failing_ops(torch_version: str | None = None) -> frozenset[str]:
    import torch

    from reports.baseline import load_for

    version = (torch_version or torch.__version__).split("+")[0]
    entries = load_for(BASELINE_DIR, f"torch-{version}").entries
    ops = set()
    for e in entries:
        cell = e.id.split("::")[-1] if "::" in e.id else e.id.split("@")[0]
        parts = cell.split("/")
        if len(parts) == 3 and parts[1] != "tree" and not parts[0].startswith("semantics"):
            ops.add(parts[1])
    return frozenset(ops)
