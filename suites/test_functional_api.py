"""torch.autograd.functional on random trees: vjp, jvp, jacobian, hessian, hvp and vhp against the oracles.

Each cell is one call of ``autograd_conformance.functional_api.FUNCTIONALS`` (the call is written once there,
run here and printed by the repro).  First-order answers are held, like ``torch.func``'s
(``suites/test_func_transforms.py``), to plain ``y.backward(u)``, JAX and finite differences; a
Jacobian through its contractions uᵀJ and J v.  Second-order answers (``hessian``, ``hvp``, ``vhp``
of the scalar loss ⟨f(x), u⟩) are held to JAX's (uᵀ∂²f)[w, ·] with double backward's policy
(``autograd_conformance.second_order``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import settings

from autograd_conformance import checks
from autograd_conformance import tolerances as tol
from autograd_conformance.compare import max_abs
from autograd_conformance.example import Example, to_numpy
from autograd_conformance.functional_api import BY_PROPERTY, Functional, hessian_times
from autograd_conformance.harness import judge
from autograd_conformance.oracles import jax_oracle
from autograd_conformance.run_options import RunOptions
from autograd_conformance.second_order import HigherOrder, higher_order_matches_jax
from autograd_conformance.strategies import labelled
from autograd_conformance.strategies.examples import draw_example
from autograd_conformance.strategies.trees import FORWARD_TREE_OPS, SECOND_ORDER_TREE_OPS, TREE_OPS, draw_tree
from autograd_conformance.transforms import (
    against,
    identity_with_backward,
    jacobian_matches,
    tangent_matches_jax,
    vmap_limitation,
)
from autograd_conformance.verdict import Outcome
from suites.cases import cell, tree_cases

FUNCTIONAL = settings(max_examples=min(settings().max_examples, 12))
CASES = tree_cases("float64", max_ops=4)


def _example(data, run_options: RunOptions, ops) -> Example:
    draw = labelled(data)
    return draw_example(draw, draw_tree(draw, max_ops=4, ops=ops), "float64", second=True, options=run_options)


def first_order(ex: Example, fn: Functional) -> list[Outcome]:
    vs = checks.scaled_direction(ex)
    result, limited = vmap_limitation(fn.call, lambda: fn.run(ex, ex.tree.torch_fn(), vs))
    if limited:
        return [limited]
    if fn.kind == "vjp":
        return against(ex, [to_numpy(g, s) for g, s in zip(result, ex.tree.leaf_shapes)], fn.call)
    if fn.kind == "jvp":
        return [
            tangent_matches_jax(ex, result, None, fn.call),
            identity_with_backward(ex, to_numpy(result, tuple(result.shape)), fn.call),
        ]
    return jacobian_matches(ex, result, fn.call, forward=fn.forward)


def second_order(ex: Example, fn: Functional) -> list[Outcome]:
    """H w (w: the example's second-order seed) against JAX's (uᵀ∂²f)[w, ·]."""
    f = ex.tree.torch_fn()
    ran: list[Any] = []  # the call's result, where the vmap probe below already computed it

    def compute(ex: Example) -> list[np.ndarray]:
        result = ran[0] if ran else fn.run(ex, f, [])
        hw = hessian_times(result, [ex.tensor(w) for w in ex.second]) if fn.kind == "hessian" else result
        return [to_numpy(h, s) for h, s in zip(hw, ex.tree.leaf_shapes)]

    if fn.vmap:  # torch's documented vmap limitations are INCONCLUSIVE, not ERROR
        try:
            result, limited = vmap_limitation(fn.call, lambda: fn.run(ex, f, []))
        except Exception:  # noqa: BLE001 - any other raise is judged, as an ERROR, by the comparison below
            result, limited = None, None
        if limited:
            return [limited]
        if result is not None:
            ran.append(result)
    mode = HigherOrder(
        compute,
        lambda ex: jax_oracle.second_order(ex.tree, ex.inputs, ex.cotangent, ex.second),
        fn.call,
        lambda ex: max_abs(ex.cotangent) * max_abs(*ex.second),
        tol.SECOND_ORDER_FACTOR,
        tol.SECOND_ORDER_KINK_MARGIN,
    )
    return higher_order_matches_jax(ex, mode)


def check(prop: str, data, record, run_options: RunOptions) -> None:
    fn = BY_PROPERTY[prop]
    if fn.kind in ("hessian", "second", "jvp"):  # jvp is the double-backward trick
        ops = SECOND_ORDER_TREE_OPS
    else:
        ops = FORWARD_TREE_OPS if fn.forward else TREE_OPS
    ex = _example(data, run_options, ops)
    if fn.kind in ("hessian", "second"):
        judge(record, prop, ex, second_order(ex, fn))
    else:
        judge(record, prop, ex, checks.pole(ex) or checks.guarded("torch", fn.call, lambda: first_order(ex, fn)))


@cell("functional.vjp", CASES)
@FUNCTIONAL
def test_functional_vjp(case, data, record, run_options: RunOptions) -> None:
    """AF.vjp(f, xs, v=u) is Jᵀu."""
    check("functional.vjp", data, record, run_options)


@cell("functional.jvp", CASES)
@FUNCTIONAL
def test_functional_jvp(case, data, record, run_options: RunOptions) -> None:
    """AF.jvp(f, xs, v) (the double-backward trick) is J v: JAX, and the dot-product identity with backward."""
    check("functional.jvp", data, record, run_options)


@cell("functional.jacobian", CASES)
@FUNCTIONAL
def test_functional_jacobian(case, data, record, run_options: RunOptions) -> None:
    """AF.jacobian(f, xs): uᵀJ is Jᵀu and J v is JAX's JVP."""
    check("functional.jacobian", data, record, run_options)


@cell("functional.jacobian_vectorized", CASES)
@FUNCTIONAL
def test_functional_jacobian_vectorized(case, data, record, run_options: RunOptions) -> None:
    """AF.jacobian(f, xs, vectorize=True) (vmap over the rows) likewise."""
    check("functional.jacobian_vectorized", data, record, run_options)


@cell("functional.jacobian_forward", CASES)
@FUNCTIONAL
def test_functional_jacobian_forward(case, data, record, run_options: RunOptions) -> None:
    """AF.jacobian(f, xs, vectorize=True, strategy='forward-mode') likewise."""
    check("functional.jacobian_forward", data, record, run_options)


@cell("functional.hessian", CASES)
@FUNCTIONAL
def test_functional_hessian(case, data, record, run_options: RunOptions) -> None:
    """AF.hessian of ⟨f(x), u⟩, contracted with w, is JAX's (uᵀ∂²f)[w, ·]."""
    check("functional.hessian", data, record, run_options)


@cell("functional.hessian_vectorized", CASES)
@FUNCTIONAL
def test_functional_hessian_vectorized(case, data, record, run_options: RunOptions) -> None:
    """AF.hessian(..., vectorize=True) likewise."""
    check("functional.hessian_vectorized", data, record, run_options)


@cell("functional.hvp", CASES)
@FUNCTIONAL
def test_functional_hvp(case, data, record, run_options: RunOptions) -> None:
    """AF.hvp(⟨f, u⟩, xs, v=w) is H w."""
    check("functional.hvp", data, record, run_options)


@cell("functional.vhp", CASES)
@FUNCTIONAL
def test_functional_vhp(case, data, record, run_options: RunOptions) -> None:
    """AF.vhp(⟨f, u⟩, xs, v=w) is wᵀH, which is H w: the Hessian of a scalar is symmetric."""
    check("functional.vhp", data, record, run_options)
