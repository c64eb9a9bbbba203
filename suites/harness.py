"""What every gradient property does with its outcomes: record, steer, and fail with a repro.

A failing example that a scoped baseline entry explains (``where abs(at) < 1e-4``,
``reports.baseline``) is recorded as known and does not stop the test: Hypothesis goes
on looking for failures outside the scope, which still fail.
"""

from __future__ import annotations

import math

from hypothesis import note, target

from conformance import facts
from conformance.example import Example
from conformance.repro import repro_script
from conformance.verdict import Outcome, worst


def judge(record, prop: str, ex: Example, outcomes: list[Outcome]) -> None:
    """Record each outcome; steer Hypothesis toward large error/tolerance; fail on an unexplained FAIL or ERROR."""
    __tracebackhide__ = True
    note(f"tree: {ex.tree.source}   ({ex.tree.label}, {ex.dtype}, layouts {ex.layouts or 'contiguous'})")
    decisive = worst(outcomes)
    fails = decisive.verdict.fails_test
    repro = repro_script(ex, prop, decisive) if fails else None
    failure, known = None, None
    if fails:
        point = facts.of_inputs(ex.inputs, _params(ex))
        failure = facts.FailureFacts(
            {**point, **facts.of_outcome(decisive, ex.inputs)},
            [{**point, **facts.of_outcome(o, ex.inputs)} for o in outcomes if o.verdict.fails_test and o is not decisive],
        )
        known = record.explain(failure)
    ratios: dict[str, float] = {}
    for o in outcomes:
        is_decisive = o is decisive
        record.add(o, repro=repro if is_decisive else None, facts=failure if is_decisive else None, known=known)
        if math.isfinite(o.ratio):
            ratios[o.oracle] = max(ratios.get(o.oracle, 0.0), min(o.ratio, 1e6))
    for oracle, ratio in ratios.items():
        target(ratio, label=f"error/tolerance vs {oracle}")
    if known is not None:
        note(f"known failure, explained by {known.describe()}")
    elif fails:
        raise AssertionError(
            f"{prop}: {decisive.verdict.value.upper()} against {decisive.oracle}\n"
            f"  {decisive.message}\n"
            f"  tree: {ex.tree.source}\n"
            f"{_unexplained(record, failure)}"
            f"Repro (paste and run):\n{repro}"
        )


def _params(ex: Example) -> dict:
    """The op's static parameters, for a one-op example (a tree's many ops have no one parameter set)."""
    nodes = ex.tree.nodes
    return nodes[0].call.kwargs if len(nodes) == 1 else {}


def _unexplained(record, failure: facts.FailureFacts | None) -> str:
    """Why the cell's scoped known failures do not cover this example: their scopes, and its facts."""
    if not record.scoped or failure is None:
        return ""
    shown = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in failure.decisive.items())
    scopes = "; ".join(f"{e.where}: where {e.scope}" for e in record.scoped)
    return f"  not explained by the scoped known failures of this cell ({scopes})\n  facts: {shown}\n"
