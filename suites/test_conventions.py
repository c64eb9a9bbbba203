"""At kinks and ties, torch and JAX may differ only as documented in ``autograd_conformance.conventions``.

Away from the kink points the same example must agree as in the smooth checks.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from autograd_conformance import facts
from autograd_conformance import tolerances as tol
from autograd_conformance.case import Case
from autograd_conformance.conventions import documented, same
from autograd_conformance.failure import conclude
from autograd_conformance.oracles.jax_oracle import op_vjp
from autograd_conformance.registry import OPS
from autograd_conformance.registry.spec import make_call
from autograd_conformance.strategies import labelled
from autograd_conformance.strategies.kinks import draw_binary_ties, draw_unary_kinks
from autograd_conformance.verdict import Outcome, Verdict
from suites.cases import cell

UNARY = [op for op in OPS if op.elementwise and op.arity == 1 and op.domain_of(0).kinks and not op.params]
BINARY = [op for op in OPS if op.elementwise and op.arity == 2 and op.near_kink is not None]


def _cases(ops) -> list:
    return [pytest.param(Case(op.name, op.family, "float64"), id=f"{op.name}-float64") for op in ops]


def _derivatives(op, inputs: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per-element derivatives (seed of ones) from torch and from JAX."""
    call = make_call([x.shape for x in inputs])
    xs = [torch.tensor(x, requires_grad=True) for x in inputs]
    op.torch_fn(call)(*xs).backward(torch.ones(inputs[0].shape, dtype=torch.float64))
    t = [x.grad.numpy() for x in xs]
    j = op_vjp(op, call, inputs, np.ones(inputs[0].shape))
    return t, j


def judge_at_kinks(record, op, inputs: list[np.ndarray], points: list[str | None]) -> None:
    t, j = _derivatives(op, inputs)
    version = torch.__version__
    worst = Outcome(Verdict.PASS, "jax", message="torch and JAX agree at and around the kinks")
    for i, point in enumerate(points):
        if point is not None and not op.is_near_kink([np.array(x[i]) for x in inputs], {}, 0.0):
            point = None  # a tie is a kink for maximum, not for atan2: judge it as a smooth point
        tv, jv = tuple(float(g[i]) for g in t), tuple(float(g[i]) for g in j)
        where = f"{op.name} at {point or 'a smooth point'} (inputs {[float(x[i]) for x in inputs]})"
        at = {"array": 0, "index": (i,)}  # autograd_conformance.facts: `at` is x0[i]
        if point is None:
            if not all(
                math.isclose(a, b, rel_tol=tol.CONVENTION_SMOOTH_RTOL, abs_tol=tol.CONVENTION_SMOOTH_ATOL)
                for a, b in zip(tv, jv)
            ):
                rel = max(abs(a - b) / max(abs(b), tol.CONVENTION_SMOOTH_ATOL) for a, b in zip(tv, jv))
                worst = Outcome(Verdict.FAIL, "jax", message=f"{where}: torch {tv} vs JAX {jv} away from the kink",
                                details={**at, "rel": rel})  # fmt: skip
            continue
        if all(same(a, b) for a, b in zip(tv, jv)):
            continue
        conv = documented(op, point, version) or (
            documented(op, "tie", version) if point == "origin" else None
        )
        if conv and all(same(a, b) for a, b in zip(tv, conv.torch)) and all(same(a, b) for a, b in zip(jv, conv.jax)):
            if worst.verdict is Verdict.PASS:
                worst = Outcome(
                    Verdict.CONVENTION,
                    "jax",
                    message=f"{where}: torch {tv}, JAX {jv}: documented as {conv.key!r} ({conv.source})",
                )
        elif conv:
            worst = Outcome(
                Verdict.FAIL,
                "jax",
                message=f"{where}: torch gives {tv}, but convention {conv.key!r} documents {conv.torch} for torch {version} "
                f"(JAX {jv}, documented {conv.jax}). Did torch change its convention? Update autograd_conformance/conventions.py with a source.",
                details=at,
            )
        else:
            worst = Outcome(
                Verdict.FAIL,
                "jax",
                message=f"{where}: torch {tv} and JAX {jv} differ, and no convention documents it. "
                "If this is deliberate, add it to autograd_conformance/conventions.py with a source; otherwise it is a wrong gradient.",
                details=at,
            )
    conclude(
        record,
        "convention",
        [worst],
        repro=lambda outcome: _repro(op, inputs, j, outcome),
        facts=facts.at_point(inputs),
    )


def _repro(op, inputs: list[np.ndarray], jax_grads: list[np.ndarray], outcome: Outcome) -> str:
    """The per-element derivatives torch computes at these points, beside JAX's."""
    names = [f"x{i}" for i in range(len(inputs))]
    lines = [
        f"# autograd conformance repro: property 'convention', op {op.name}, torch {torch.__version__}",
        f"# {outcome.message}",
        "import torch",
        "import torch.nn.functional as F",
        *(f"{n} = torch.tensor({x.tolist()!r}, dtype=torch.float64, requires_grad=True)" for n, x in zip(names, inputs)),
        f"y = {op.code(names, {})}",
        "y.backward(torch.ones_like(y))",
        *(f"print('{n}.grad =', {n}.grad.tolist(), ' JAX:', {g.tolist()!r})" for n, g in zip(names, jax_grads)),
    ]
    return "\n".join(lines) + "\n"


@cell("convention", _cases(UNARY))
def test_unary_kink_convention(case: Case, data, record) -> None:
    op = case.spec
    x, points = draw_unary_kinks(labelled(data), op)
    judge_at_kinks(record, op, [x], points)


@cell("convention", _cases(BINARY))
def test_binary_tie_convention(case: Case, data, record) -> None:
    op = case.spec
    x, y, points = draw_binary_ties(labelled(data), op)
    judge_at_kinks(record, op, [x, y], points)
