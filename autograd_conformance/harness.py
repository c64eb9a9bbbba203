"""What every gradient property does with its outcomes: the one failure path (``autograd_conformance.failure``).

A failing example that a scoped baseline entry explains (``where abs(at) < 1e-4``,
``autograd_conformance.reports.baseline``) is recorded as known and does not stop the test: Hypothesis goes
on looking for failures outside the scope, which still fail.
"""

from __future__ import annotations

import pytest
from hypothesis import note

from autograd_conformance import facts
from autograd_conformance.example import Example
from autograd_conformance.execution import FUNCTION_PATH_UNSUPPORTED
from autograd_conformance.failure import conclude
from autograd_conformance.repro import repro_script
from autograd_conformance.run_options import RunOptions
from autograd_conformance.verdict import Outcome


def judge(record, prop: str, ex: Example, outcomes: list[Outcome]) -> None:
    """Record each outcome; steer Hypothesis toward large error/tolerance; fail on an unexplained FAIL or ERROR."""
    __tracebackhide__ = True
    note(f"tree: {ex.tree.source}   ({ex.tree.label}, {ex.dtype}, layouts {ex.layouts or 'contiguous'})")
    conclude(
        record,
        prop,
        outcomes,
        repro=lambda decisive: repro_script(ex, prop, decisive),
        facts=facts.at_point(ex.inputs, _params(ex), [op.name for op in ex.tree.ops]),
        context=f"tree: {ex.tree.source}",
    )


def skip_unsupported_path(run_options: RunOptions, prop: str) -> None:
    """Skip ``prop`` where the run's execution path cannot express it (``FUNCTION_PATH_UNSUPPORTED``)."""
    if run_options.path == "function" and prop in FUNCTION_PATH_UNSUPPORTED:
        pytest.skip(f"{prop} on the function path: the wrapper's torch.func rules do not nest in dual tensors")


def _params(ex: Example) -> dict:
    """The op's static parameters, for a one-op example (a tree's many ops have no one parameter set)."""
    nodes = ex.tree.nodes
    return nodes[0].call.kwargs if len(nodes) == 1 else {}
