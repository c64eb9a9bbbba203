"""torch.func on random trees: grad, vjp, jvp, jacrev, jacfwd and vmap, against plain backward and the oracles.

Each property computes one transform's answer on a random tree (float64, on the run's
``--device``) and holds it to

* plain ``y.backward(u)`` on fresh leaves (oracle ``backward``): the transform and the
  autograd engine run the same derivative formulas, so they agree to rounding;
* the CPU float64 oracles, JAX (elementwise) and finite differences (along v), through
  ``autograd_conformance.checks``: the transform's Jᵀu is handed to ``checks.vjp_matches_oracles``
  (its ``torch_vjp`` argument) in place of torch's own backward, the transform's J v is
  compared with JAX's JVP.

vmap maps the vjp over a batch of inputs of one tree, and each batch member is held
to its own unbatched backward and oracles.  torch documents what vmap cannot do
(torch.func "UX Limitations"): an op with no batching rule whose fallback cannot run
("Batching rule not implemented for ... We could not generate a fallback"), ops it
explicitly refuses ("vmap: we do not yet support aten::X": rrelu, even with
``training=False``, where it is deterministic), ``.item()`` and data-dependent
Python control flow inside the function.  A tree that hits one of
those documented errors is INCONCLUSIVE: vmap cannot express it, which says nothing
about its gradient.  An op with no batching rule that falls back to the (slow, per
example) loop is *not* excused: its results must match.  Any other exception is an
ERROR, and a wrong number a FAIL.
"""

from __future__ import annotations

from dataclasses import replace

import torch
from hypothesis import settings

from autograd_conformance import checks
from autograd_conformance.example import Example, to_numpy
from autograd_conformance.harness import judge
from autograd_conformance.run_options import RunOptions
from autograd_conformance.strategies import labelled
from autograd_conformance.strategies.examples import draw_example
from autograd_conformance.strategies.trees import FORWARD_TREE_OPS, TREE_OPS, draw_tree
from autograd_conformance.transforms import (
    against,
    contraction_rounding,
    identity_with_backward,
    jacobian_matches,
    vmap_limitation,
    vmap_member,
    vmap_vjp_matches,
)
from autograd_conformance.transforms import contract_out as _contract_out
from autograd_conformance.verdict import Outcome
from suites.cases import cell, tree_cases

FUNC = settings(max_examples=min(settings().max_examples, 12))
MAX_OPS = 4
CASES = tree_cases("float64", max_ops=MAX_OPS)


def _argnums(ex: Example) -> tuple[int, ...]:
    return tuple(range(ex.tree.arity))


def _inputs(ex: Example) -> list[torch.Tensor]:
    return ex.leaves(layouts=False, requires_grad=False)


def _example(data, run_options: RunOptions, ops=TREE_OPS) -> Example:
    """A tree example whose gradients go through ``torch.func``."""
    draw = labelled(data)
    return draw_example(draw, draw_tree(draw, max_ops=MAX_OPS, ops=ops), "float64", options=_func(run_options))


def _func(run_options: RunOptions) -> RunOptions:
    return replace(run_options, path="func")


@cell("func.grad", CASES)
@FUNC
def test_func_grad(case, data, record, run_options: RunOptions) -> None:
    """torch.func.grad of the scalar loss ⟨f(x), u⟩ is Jᵀu."""
    ex = _example(data, run_options)

    def run() -> list[Outcome]:
        f, u = ex.tree.torch_fn(), ex.tensor(ex.cotangent)
        gs = torch.func.grad(lambda *xs: (f(*xs) * u).sum(), argnums=_argnums(ex))(*_inputs(ex))
        return against(ex, [to_numpy(g, s) for g, s in zip(gs, ex.tree.leaf_shapes)], "torch.func.grad")

    judge(record, "func.grad", ex, checks.pole(ex) or checks.guarded("torch", "torch.func.grad", run))


@cell("func.vjp", CASES)
@FUNC
def test_func_vjp(case, data, record, run_options: RunOptions) -> None:
    """torch.func.vjp's pullback of u is Jᵀu."""
    ex = _example(data, run_options)

    def run() -> list[Outcome]:
        _, pullback = torch.func.vjp(ex.tree.torch_fn(), *_inputs(ex))
        gs = pullback(ex.tensor(ex.cotangent))
        return against(ex, [to_numpy(g, s) for g, s in zip(gs, ex.tree.leaf_shapes)], "torch.func.vjp")

    judge(record, "func.vjp", ex, checks.pole(ex) or checks.guarded("torch", "torch.func.vjp", run))


@cell("func.jvp", CASES)
@FUNC
def test_func_jvp(case, data, record, run_options: RunOptions) -> None:
    """torch.func.jvp against JAX and FD (``checks.jvp_matches_oracles``), and ⟨u, J v⟩ = ⟨backward, v⟩."""
    ex = _example(data, run_options, FORWARD_TREE_OPS)

    def run() -> list[Outcome]:
        outcomes = checks.jvp_matches_oracles(ex)  # reverse side of its identity: torch.func.vjp (path "func")
        v = checks.scaled_direction(ex)
        _, out = torch.func.jvp(ex.tree.torch_fn(), tuple(_inputs(ex)), tuple(ex.tensor(d) for d in v))
        jv = to_numpy(out, tuple(out.shape))
        return [*outcomes, identity_with_backward(ex, jv, "torch.func.jvp")]

    judge(record, "func.jvp", ex, checks.pole(ex) or checks.guarded("torch", "torch.func.jvp", run))


@cell("func.jacrev", CASES)
@FUNC
def test_func_jacrev(case, data, record, run_options: RunOptions) -> None:
    """The reverse-mode Jacobian contracted with u is Jᵀu."""
    ex = _example(data, run_options)

    def run() -> list[Outcome]:
        jacs, limited = vmap_limitation(
            "torch.func.jacrev", lambda: torch.func.jacrev(ex.tree.torch_fn(), argnums=_argnums(ex))(*_inputs(ex))
        )
        if limited:
            return [limited]
        u = ex.tensor(ex.cotangent)
        gs = [to_numpy(_contract_out(j, u, u.dim()), s) for j, s in zip(jacs, ex.tree.leaf_shapes)]
        rounding = [contraction_rounding(_contract_out(j.abs(), u.abs(), u.dim()), u.numel()) for j in jacs]
        return against(ex, gs, "uᵀ·torch.func.jacrev", rounding=rounding)

    judge(record, "func.jacrev", ex, checks.pole(ex) or checks.guarded("torch", "torch.func.jacrev", run))


@cell("func.jacfwd", CASES)
@FUNC
def test_func_jacfwd(case, data, record, run_options: RunOptions) -> None:
    """The forward-mode Jacobian: uᵀJ is Jᵀu (backward, JAX, FD) and J v is JAX's JVP."""
    ex = _example(data, run_options, FORWARD_TREE_OPS)

    def run() -> list[Outcome]:
        jacs, limited = vmap_limitation(
            "torch.func.jacfwd", lambda: torch.func.jacfwd(ex.tree.torch_fn(), argnums=_argnums(ex))(*_inputs(ex))
        )
        return [limited] if limited else jacobian_matches(ex, jacs, "torch.func.jacfwd", forward=True)

    judge(record, "func.jacfwd", ex, checks.pole(ex) or checks.guarded("torch", "torch.func.jacfwd", run))


BATCH = 3


@cell("func.vmap", CASES)
@FUNC
def test_func_vmap(case, data, record, run_options: RunOptions) -> None:
    """vmap of the vjp over a batch of inputs of one tree: each member is its own backward and oracles."""
    draw = labelled(data)
    tree = draw_tree(draw, max_ops=MAX_OPS)
    batch = [draw_example(draw, tree, "float64", options=_func(run_options)) for _ in range(BATCH)]
    outcomes = vmap_vjp_matches(batch)
    judge(record, "func.vmap", vmap_member(batch, outcomes), outcomes)
