"""Facts about a failing example: what a scoped known failure (``autograd_conformance.reports.baseline``) is matched on.

A baseline entry may say *where* a known failure lives (``abs(at) < 1e-4``,
``spread(x0) >= 8``, ``rel <= 1e-7``, ``oracle == fd``).  The run computes these facts
for every failing comparison and writes the decisive one's into the result record,
so the gate can check the scope again without re-running anything.

The vocabulary (every fact a scope may name):

``rel``                       the error in the units a relative tolerance is written in: |torch - oracle| / (|oracle| + scale),
                              scale the larger of the seed and the largest |oracle| (between half the plain
                              relative error and all of it where the seed is not larger)
``ratio``                     error / tolerance (above 1 fails)
``at``, ``abs(at)``           input i's element at the index where the compared array is most wrong, when that
                              array has input i's shape (for an elementwise op: the point where the gradient is wrong)
``row_spread(at)``            max(x) - min(x) over the last-axis row of input i that holds ``at`` (for an op that
                              normalizes along the last axis, such as layer_norm: the spread of the row that is wrong)
``min_abs(xN)``, ``max_abs(xN)``, ``spread(xN)``, ``min(xN)``, ``max(xN)``
                              over all elements of input N: smallest |x|, largest |x|, max(x) - min(x),
                              smallest x, largest x (a complex input's real view: over both parts)
``oracle``                    which comparison failed: jax, fd, reverse (the dot-product identity), float64, ...
``verdict``                   fail or error
``param.NAME``                the op's static parameter NAME (``param.dim == 0``)
``uses.NAME``                 1 when the example's tree contains the registry op NAME (``uses.minimum == 1``,
                              for a finding in one op that a tree cell saw); absent otherwise

A fact that does not apply to an example (``at`` of a dot product) is absent, and a
condition on an absent fact does not hold: a scope never explains what it cannot see.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from autograd_conformance.verdict import Outcome

if TYPE_CHECKING:  # numpy is imported where facts are computed: the report and gate read facts without it
    import numpy as np

Facts = dict[str, float | str]


class FailureFacts(NamedTuple):
    """A failing example's facts: its decisive failing comparison's, and its other failing comparisons'."""

    decisive: Facts
    others: list[Facts]

INPUT_FUNCTIONS = ("min_abs", "max_abs", "spread", "min", "max")
OUTCOME_FACTS = ("rel", "ratio", "at", "abs(at)", "row_spread(at)", "oracle", "verdict")
_NAME = re.compile(
    r"^(rel|ratio|at|abs\(at\)|row_spread\(at\)|oracle|verdict|(min_abs|max_abs|spread|min|max)\(x\d\)|(param|uses)\.[A-Za-z_]\w*)$"
)
VOCABULARY_HELP = (
    "facts: rel, ratio, at, abs(at), row_spread(at), oracle, verdict, min_abs(xN), max_abs(xN), spread(xN), min(xN), max(xN), param.NAME, uses.NAME "
    "(see autograd_conformance/facts.py)"
)


def is_fact(name: str) -> bool:
    """Whether ``name`` is a fact a scope may name."""
    return bool(_NAME.match(name))


def of_inputs(inputs: list[np.ndarray], params: dict[str, Any] | None = None) -> Facts:
    """Facts of an example's input point: per input, its smallest and largest |x| and its spread."""
    import numpy as np

    facts: Facts = {}
    for i, x in enumerate(inputs):
        a = np.asarray(x, dtype=np.float64)
        if not a.size:
            continue
        facts[f"min_abs(x{i})"] = float(np.min(np.abs(a)))
        facts[f"max_abs(x{i})"] = float(np.max(np.abs(a)))
        facts[f"spread(x{i})"] = float(np.max(a) - np.min(a))
        facts[f"min(x{i})"] = float(np.min(a))
        facts[f"max(x{i})"] = float(np.max(a))
    for name, value in (params or {}).items():
        if isinstance(value, (bool, int, float, str)):
            facts[f"param.{name}"] = value if isinstance(value, str) else float(value)
    return facts


def of_outcome(outcome: Outcome, inputs: list[np.ndarray]) -> Facts:
    """Facts of one comparison: its verdict, oracle, error sizes, and the input element where it is most wrong."""
    import numpy as np

    facts: Facts = {"oracle": outcome.oracle, "verdict": outcome.verdict.value}
    if math.isfinite(outcome.ratio) or outcome.error:
        facts["ratio"] = outcome.ratio
    rel = outcome.details.get("rel")
    if isinstance(rel, float):
        facts["rel"] = rel
    array, index = outcome.details.get("array"), outcome.details.get("index")
    if isinstance(array, int) and isinstance(index, tuple) and array < len(inputs):
        x = np.asarray(inputs[array])
        if x.ndim == len(index) and all(0 <= k < n for k, n in zip(index, x.shape)):
            facts["at"] = float(x[index])
            facts["abs(at)"] = abs(float(x[index]))
            if x.ndim:
                row = np.asarray(x[index[:-1]], dtype=np.float64)
                facts["row_spread(at)"] = float(np.max(row) - np.min(row))
    return facts


def at_point(
    inputs: list[np.ndarray], params: dict[str, Any] | None = None, ops: Sequence[str] = ()
) -> Callable[[Outcome], Facts]:
    """Facts of one comparison at this input point: the point's own (``of_inputs``), the ops its tree
    uses (``uses.NAME``), and the comparison's."""
    point = {**of_inputs(inputs, params), **{f"uses.{name}": 1.0 for name in ops}}
    return lambda outcome: {**point, **of_outcome(outcome, inputs)}


def jsonable(facts: Facts) -> dict[str, float | str | None]:
    """Facts for a result record: JSON has no inf or nan, so those are written as null."""
    return {k: (v if isinstance(v, str) or math.isfinite(v) else None) for k, v in facts.items()}
