"""What every gradient property does with its outcomes: record, steer, and fail with a repro."""

from __future__ import annotations

import math

from hypothesis import note, target

from conformance.example import Example
from conformance.repro import repro_script
from conformance.verdict import Outcome, worst


def judge(record, prop: str, ex: Example, outcomes: list[Outcome]) -> None:
    """Record each outcome; steer Hypothesis toward large error/tolerance; fail on FAIL or ERROR."""
    note(f"tree: {ex.tree.source}   ({ex.tree.label}, {ex.dtype}, layouts {ex.layouts or 'contiguous'})")
    decisive = worst(outcomes)
    repro = repro_script(ex, prop, decisive) if decisive.verdict.fails_test else None
    ratios: dict[str, float] = {}
    for o in outcomes:
        record.add(o, repro=repro if o is decisive else None)
        if math.isfinite(o.ratio):
            ratios[o.oracle] = max(ratios.get(o.oracle, 0.0), min(o.ratio, 1e6))
    for oracle, ratio in ratios.items():
        target(ratio, label=f"error/tolerance vs {oracle}")
    if decisive.verdict.fails_test:
        raise AssertionError(
            f"{prop}: {decisive.verdict.value.upper()} against {decisive.oracle}\n"
            f"  {decisive.message}\n"
            f"  tree: {ex.tree.source}\n"
            f"Repro (paste and run):\n{repro}"
        )
