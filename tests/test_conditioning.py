"""An op that amplifies rounding by a point-dependent factor (``OpSpec.conditioning``) widens the float64
comparisons by ``tol.CONDITIONING_FACTOR``·eps times it, and stops them where that reaches ``tol.FD_USEFUL``;
the float32 comparison likewise, with float32's eps, up to ``tol.REDUCED_CONDITIONING_LIMIT`` times its tolerance.

lstsq's residuals at B in A's range: the exact derivative is 0, and torch's is its rounded residual
times the solution, about eps·κ(A)² (found by the ci draw of the jvp tree cell at κ = 520).  pinv through
an SVD or eigh: the float32 gradient is off by a few eps·κ (found by the soak and the thorough profile).
"""

from __future__ import annotations

from dataclasses import replace

import jax.numpy as jnp
import numpy as np
import pytest
import torch

from autograd_conformance import checks
from autograd_conformance import tolerances as tol
from autograd_conformance.declare import declare_op
from autograd_conformance.example import Example
from autograd_conformance.registry import OPS_BY_NAME
from autograd_conformance.registry.decompositions import (
    DECOMPOSITION_ROUNDING,
    condition,
    eigenvector_condition,
    hermitian_pinv_condition,
    product_pinv_condition,
    squared_condition,
)
from autograd_conformance.registry.spec import OpSpec, make_call
from autograd_conformance.tree import single_op_tree
from autograd_conformance.verdict import Verdict

LSTSQ_RESIDUALS = OPS_BY_NAME["lstsq_residuals"]


def in_range(op: OpSpec, c: float, params: dict[str, str] | None = None) -> Example:
    """lstsq residuals of A = [0; 0; c 0; 1 1], B's columns 0 and e₃ (in A's range): κ(A) ≈ 1.4/c."""
    a = np.array([[0.0, 0.0], [0.0, 0.0], [c, 0.0], [1.0, 1.0]])
    b = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    v = np.array([[0.27, -0.46], [-0.92, -0.97], [0.63, 0.83], [0.21, 0.46]])
    tree = single_op_tree(op, make_call([(4, 2), (4, 2)], **({"driver": "gelsd"} if params is None else params)))
    return Example(tree, [a, b], cotangent=np.array([0.27, -0.46]), direction=[v, v[::-1].copy()])


def jax_verdicts(ex: Example) -> list[Verdict]:
    """The JAX comparisons of forward and reverse mode."""
    outcomes = checks.jvp_matches_oracles(ex) + checks.vjp_matches_oracles(ex)
    return [o.verdict for o in outcomes if o.oracle == "jax"]


def test_squared_condition() -> None:
    assert squared_condition([np.diag([2.0, 0.5])]) == pytest.approx(16.0)
    assert squared_condition([np.stack([np.eye(3), np.diag([1.0, 1.0, 0.1])])]) == pytest.approx(100.0)  # the batch's worst
    assert squared_condition([np.zeros((3, 2))]) == np.inf


@pytest.mark.parametrize("c", [0.15625**3, 1e-2, 1e-3])
def test_rounding_amplified_by_the_condition_is_not_a_failure(c: float) -> None:
    """The same torch answers fail without the op's declared conditioning: the term is what passes them."""
    assert jax_verdicts(in_range(LSTSQ_RESIDUALS, c)) == [Verdict.PASS, Verdict.PASS]
    assert Verdict.FAIL in jax_verdicts(in_range(replace(LSTSQ_RESIDUALS, conditioning=None), c))


def test_a_wrong_derivative_is_still_caught_at_moderate_condition() -> None:
    """A planted 1e-6 relative error (value and derivatives) at κ ≈ 140: the widened tolerance is 4e-11."""
    planted = replace(LSTSQ_RESIDUALS, torch=f"({LSTSQ_RESIDUALS.torch}) * (1 + 1e-6)")
    ex = in_range(planted, 1e-2)
    ex.inputs[1][0, 0] = 1.0  # a residual off A's range, so the planted factor moves the derivatives
    assert jax_verdicts(ex) == [Verdict.FAIL, Verdict.FAIL]
    assert jax_verdicts(replace(in_range(LSTSQ_RESIDUALS, 1e-2), inputs=ex.inputs)) == [Verdict.PASS, Verdict.PASS]


def test_past_the_useful_tolerance_the_check_cannot_tell() -> None:
    """κ ≈ 1.4e5: rounding alone may reach 4·eps·κ² = 1.7e-5 of the scale, past FD_USEFUL."""
    ex = in_range(LSTSQ_RESIDUALS, 1e-5)
    assert tol.CONDITIONING_FACTOR * np.finfo(np.float64).eps * squared_condition(ex.inputs) > tol.FD_USEFUL
    outcomes = [o for o in checks.vjp_matches_oracles(ex) if o.oracle == "jax"]
    assert [o.verdict for o in outcomes] == [Verdict.INCONCLUSIVE]
    assert "amplifies float64 rounding" in outcomes[0].message


def test_a_users_op_declares_its_conditioning() -> None:
    """declare_op(conditioning=...) reaches the checks as the registry's entry does."""

    def residuals(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.linalg.lstsq(a, b, driver="gelsd").residuals

    def reference(a, b):
        r = b - a @ (jnp.linalg.pinv(a) @ b)
        return jnp.sum(r**2, axis=0)

    declared = declare_op(residuals, inputs=[(4, 2), (4, 2)], jax_ref=reference, conditioning=squared_condition)
    assert declared.spec.conditioning is squared_condition
    assert jax_verdicts(in_range(declared.spec, 1e-3, params={})) == [Verdict.PASS, Verdict.PASS]
    plain = declare_op(residuals, inputs=[(4, 2), (4, 2)], jax_ref=reference)
    assert Verdict.FAIL in jax_verdicts(in_range(plain.spec, 1e-3, params={}))


def test_decomposition_conditions() -> None:
    a = np.diag([2.0, -0.5])
    assert condition([a]) == pytest.approx(DECOMPOSITION_ROUNDING * 4.0)
    assert hermitian_pinv_condition([np.array([[1.0, 3.0], [-3.0, 0.25]])]) == pytest.approx(DECOMPOSITION_ROUNDING * 4.0)  # of diag(1, 0.25)
    eigenvectors = np.array([[1.0, 1.0], [0.0, 0.01]])  # A = V diag(1, 2) V⁻¹: columns e₁ and ≈ e₁
    a = eigenvectors @ np.diag([1.0, 2.0]) @ np.linalg.inv(eigenvectors)
    expected = np.linalg.cond(eigenvectors / np.linalg.norm(eigenvectors, axis=0)) ** 2
    assert eigenvector_condition([a]) == pytest.approx(DECOMPOSITION_ROUNDING * expected) and expected > 1e4
    x, y = np.array([[1.0, 0.0], [0.0, 0.1], [0.0, 0.0]]), np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert product_pinv_condition([x, y]) == pytest.approx(DECOMPOSITION_ROUNDING * 10.0)  # σ₁/σ₂ of the rank-2 product


# Found by the thorough profile's targeting (seed 12): pinv of a rank-2 product at σ₁/σ₂ = 164, where
# torch's float32 gradient is off by 3.9 float32 eps·κ of the scale (0.00845 at -7.468).
SINGULAR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 2.0]])
SINGULAR_Y = np.array([[0.0, 0.0, 0.0625], [0.0, 1.0, 1.0]])
SEED = np.array([[0.2739, -0.4604, -0.9181], [-0.9669, 0.6265, 0.8255], [0.2133, 0.4590, 0.0872]], dtype=np.float32)


def float32_verdicts(op: OpSpec, inputs: list[np.ndarray]) -> list[Verdict]:
    ex = Example(single_op_tree(op, make_call([np.shape(x) for x in inputs])), inputs, dtype="float32",
                 cotangent=SEED.astype(np.float64), direction=[np.ones_like(x) for x in inputs])  # fmt: skip
    return [o.verdict for o in checks.reduced_precision_matches_float64(ex)]


def test_float32_rounding_amplified_by_the_condition_is_not_a_failure() -> None:
    op = OPS_BY_NAME["pinv_singular"]
    assert float32_verdicts(op, [SINGULAR_X, SINGULAR_Y]) == [Verdict.PASS]
    assert float32_verdicts(replace(op, conditioning=None), [SINGULAR_X, SINGULAR_Y]) == [Verdict.FAIL]


def test_the_planted_float32_fault_is_still_caught_at_that_condition() -> None:
    """The float32-only fault tests/faults/gradients.py plants is 1e-3 relative: here on pinv's output."""
    op = OPS_BY_NAME["pinv_singular"]
    planted = replace(op, torch=f"({op.torch}) * (1 + 1e-3)")
    assert float32_verdicts(planted, [SINGULAR_X, SINGULAR_Y]) == [Verdict.FAIL]


def test_past_the_float32_limit_the_check_cannot_tell() -> None:
    """The soak's Hermitian pinv at κ = 325: 4 eps·4κ = 6.2e-4 of the scale, past 10 × 4e-5."""
    x = np.array([[0.0, 0.0, 1.75], [-1.0, 0.625, 0.0], [2.0, -1.75, -2.0]])
    ex = Example(single_op_tree(OPS_BY_NAME["pinv_hermitian"], make_call([(3, 3)], n=3)), [x], dtype="float32",
                 cotangent=SEED.astype(np.float64), direction=[np.ones_like(x)])  # fmt: skip
    outcomes = checks.reduced_precision_matches_float64(ex)
    assert [o.verdict for o in outcomes] == [Verdict.INCONCLUSIVE]
    assert "amplifies float32 rounding" in outcomes[0].message
