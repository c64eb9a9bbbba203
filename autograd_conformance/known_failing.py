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

    from autograd_conformance.reports.baseline import load_for

    version = (torch_version or torch.__version__).split("+")[0]
    entries = load_for(BASELINE_DIR, f"torch-{version}").entries
    ops = set()
    for ident in (i for e in entries for i in e.ids if "::" not in i):
        prop, op, _ = ident.split("@")[0].split("/")
        if op != "tree" and not prop.startswith("semantics"):
            ops.add(op)
    return frozenset(ops)
