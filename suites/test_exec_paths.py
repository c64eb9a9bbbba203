"""The torch.compile path: compiled trees' gradients against eager and the oracles.  Slow.

Compiling costs seconds per tree (Inductor writes and builds C++ on the CPU), so each
Hypothesis example draws one tree STRUCTURE, compiles it once (``torch_callable(tree,
"compile")``, cached per structure and shapes) and checks ``INPUTS`` inputs of it through the
same compiled code; examples are capped hard and the ops are elementwise ones and
reductions (what Inductor fuses).  Two properties, per dtype:

* ``compile.vjp``  – ``.backward(u)`` through the compiled function (AOTAutograd's compiled
  backward) against eager ``.backward(u)``, JAX and finite differences (float64), or the
  float64 oracle (float32), through ``autograd_conformance.checks`` on examples whose run options say ``path="compile"``.
* ``compile.grad`` – ``torch.compile(torch.func.grad(⟨f(x), u⟩))``: the transform traced and
  compiled (``torch.func.grad`` of an already compiled function would run eagerly: Dynamo does
  not trace under an active functorch transform), against eager backward and the same oracles.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import settings

from autograd_conformance import checks
from autograd_conformance import tolerances as tol
from autograd_conformance.compare import arrays_match, max_abs
from autograd_conformance.example import Example, to_numpy
from autograd_conformance.execution import torch_callable
from autograd_conformance.harness import judge
from autograd_conformance.run_options import RunOptions
from autograd_conformance.strategies import labelled
from autograd_conformance.strategies.examples import draw_example
from autograd_conformance.strategies.trees import TREE_OPS, draw_tree
from autograd_conformance.transforms import plain_backward
from autograd_conformance.verdict import Outcome, worst
from suites.cases import cell, tree_cases

COMPILE = settings(max_examples=min(settings().max_examples, 5))  # ~7 s per compiled structure on 2 busy cores
INPUTS = 3  # inputs checked per compiled structure
MAX_OPS = 3
COMPILE_OPS = [op for op in TREE_OPS if op.elementwise or op.family == "reduction"]
DTYPES = ("float64", "float32")
CASES = [p for dtype in DTYPES for p in tree_cases(dtype, max_ops=MAX_OPS)]

_GRAD: dict[tuple[str, str], object] = {}


def _examples(data, dtype: str, run_options: RunOptions) -> list[Example]:
    """``INPUTS`` examples of one drawn tree structure, run through ``torch.compile``."""
    draw = labelled(data)
    tree = draw_tree(draw, max_ops=MAX_OPS, ops=COMPILE_OPS)
    options = replace(run_options, path="compile")
    return [draw_example(draw, tree, dtype, options=options) for _ in range(INPUTS)]


def _vs_eager(ex: Example, grads: list[np.ndarray], what: str) -> Outcome:
    return arrays_match(
        grads,
        plain_backward(ex),
        rtol=tol.COMPILED_VS_EAGER_RTOL_PER_OP[ex.dtype] * max(1, ex.tree.size),
        oracle="eager",
        what=f"{what} vs eager y.backward(u)",
        seed_scale=max_abs(ex.cotangent),
    )


def _vs_oracles(ex: Example, grads: list[np.ndarray]) -> list[Outcome]:
    """The compiled path's Jᵀu (``grads``) against the oracles, in place of torch's own backward."""
    if ex.dtype == "float32":
        return checks.reduced_precision_matches_float64(ex, torch_vjp=grads)
    return checks.vjp_matches_oracles(ex, seeded=True, torch_vjp=grads)


def _compiled_grad(ex: Example):
    """torch.compile(torch.func.grad(⟨f, u⟩)), once per structure, shapes and dtype (u is an argument)."""
    key = (ex.tree.key, ex.dtype)
    if key not in _GRAD:
        f, argnums = ex.tree.torch_fn(), tuple(range(ex.tree.arity))
        _GRAD[key] = torch.compile(
            torch.func.grad(lambda *a: (f(*a[:-1]) * a[-1]).sum(), argnums=argnums), dynamic=False
        )
    return _GRAD[key]


def _judge_all(record, prop: str, results: list[tuple[Example, list[Outcome]]]) -> None:
    """One verdict per Hypothesis example over all its inputs; the repro is the decisive input's."""
    outcomes = [o for _, os in results for o in os]
    decisive = worst(outcomes)
    ex = next(ex for ex, os in results if any(o is decisive for o in os))
    judge(record, prop, ex, outcomes)


@pytest.mark.slow
@cell("compile.vjp", CASES)
@COMPILE
def test_compile_vjp(case, data, record, run_options: RunOptions) -> None:
    results = []
    for ex in _examples(data, case.dtype, run_options):

        def run(ex: Example = ex) -> list[Outcome]:
            xs = ex.leaves(layouts=False)
            torch_callable(ex.tree, "compile")(*xs).backward(ex.tensor(ex.cotangent))
            grads = [to_numpy(x.grad, s) for x, s in zip(xs, ex.tree.leaf_shapes)]
            return [_vs_eager(ex, grads, "compiled backward"), *_vs_oracles(ex, grads)]

        results.append((ex, checks.guarded("torch", "compiled backward", run)))
    _judge_all(record, "compile.vjp", results)


@pytest.mark.slow
@cell("compile.grad", CASES)
@COMPILE
def test_compile_grad(case, data, record, run_options: RunOptions) -> None:
    results = []
    for ex in _examples(data, case.dtype, run_options):

        def run(ex: Example = ex) -> list[Outcome]:
            xs = ex.leaves(layouts=False, requires_grad=False)
            gs = _compiled_grad(ex)(*xs, ex.tensor(ex.cotangent))
            grads = [to_numpy(g, s) for g, s in zip(gs, ex.tree.leaf_shapes)]
            return [_vs_eager(ex, grads, "compiled torch.func.grad"), *_vs_oracles(ex, grads)]

        results.append((ex, checks.guarded("torch", "compiled torch.func.grad", run)))
    _judge_all(record, "compile.grad", results)
