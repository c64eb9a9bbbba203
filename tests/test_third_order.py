"""Third order (``autograd_conformance.third_order``): JAX's third derivatives against analytic ones, each property
passing on correct torch and failing on the planted fault ``cos_third_order`` (dormant at first and second
order), and each repro replaying its own mode."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import autograd_conformance.jaxsetup  # noqa: F401
from autograd_conformance import checks, second_order, third_order
from autograd_conformance.example import Example
from autograd_conformance.oracles import jax_oracle
from autograd_conformance.registry import OPS_BY_NAME
from autograd_conformance.registry.spec import make_call
from autograd_conformance.repro import repro_script
from autograd_conformance.tree import single_op_tree
from autograd_conformance.verdict import Outcome, Verdict, worst
from tests.faults import FAULTS_BY_NAME
from tests.helpers import sin_times_y

X = np.array([0.3, 1.2, -0.7])
U, V = np.array([1.0, 0.5, -2.0]), np.array([1.0, -0.5, 2.0])
W, T = np.array([0.25, 1.5, -1.0]), np.array([0.5, 0.5, 1.0])

PROPERTIES = {
    third_order.THIRD_REV: third_order.third_rev_matches_jax,
    third_order.THIRD_FWD: third_order.third_fwd_matches_jax,
}
# Every first- and second-order property the third-order fault must leave alone.
LOWER_ORDERS = {
    "vjp": lambda ex: checks.vjp_matches_oracles(ex, seeded=True),
    "jvp": checks.jvp_matches_oracles,
    "second_order": checks.second_order_matches_jax,
    second_order.FWD_REV: second_order.fwd_rev_matches_jax,
    second_order.REV_FWD: second_order.rev_fwd_matches_jax,
    second_order.FWD_FWD: second_order.fwd_fwd_matches_jax,
}


def _example(op: str) -> Example:
    tree = single_op_tree(OPS_BY_NAME[op], make_call([X.shape]))
    return Example(tree, [X.copy()], cotangent=U.copy(), direction=[V.copy()], second=[W.copy()], third=[T.copy()])


def test_third_derivatives_of_one_op_are_analytic() -> None:
    """sin''' = -cos: (uᵀ∂³f)[v, w, ·] = -u·cos(x)·v·w and ∂³f[v, w, t] = -cos(x)·v·w·t (per-op, bucketed)."""
    tree = single_op_tree(OPS_BY_NAME["sin"], make_call([X.shape]))
    np.testing.assert_allclose(jax_oracle.third_reverse(tree, [X], U, [V], [W])[0], -U * np.cos(X) * V * W, rtol=1e-13)
    np.testing.assert_allclose(jax_oracle.third_directional(tree, [X], [V], [W], [T]), -np.cos(X) * V * W * T, rtol=1e-13)


def test_third_derivatives_of_a_tree_are_analytic() -> None:
    """sin(x)·y (the whole-tree path): ∂³[v, w, t] = -cos(x)·y·v₀w₀t₀ - sin(x)·(v₀w₀t₁ + v₀t₀w₁ + w₀t₀v₁)."""
    y = np.array([2.0, -1.0, 0.5])
    tree = sin_times_y()
    v, w, t = [V, np.array([0.5, 0.5, 1.0])], [W, np.array([-1.0, 2.0, 0.0])], [T, np.array([1.0, -1.0, 0.5])]
    expected = -np.cos(X) * y * V * W * T - np.sin(X) * (V * W * t[1] + V * T * w[1] + W * T * v[1])
    np.testing.assert_allclose(jax_oracle.third_directional(tree, [X, y], v, w, t), expected, rtol=1e-13)
    # reverse: the gradient in x of <u, d2f[v, w]> contracted ... per leaf: d/dx and d/dy of uᵀ∂²f[v, w]
    u = U
    gx = u * (-np.cos(X) * y * V * W - np.sin(X) * (V * w[1] + W * v[1]))
    gy = u * (-np.sin(X) * V * W)
    got = jax_oracle.third_reverse(tree, [X, y], u, v, w)
    np.testing.assert_allclose(got[0], gx, rtol=1e-13)
    np.testing.assert_allclose(got[1], gy, rtol=1e-13)


def test_third_reverse_of_a_broadcast_op_sums_back_to_the_input_shape() -> None:
    """x·y·y with y broadcast along rows: the elementwise path pads and broadcasts, then sums back."""
    pow_ = OPS_BY_NAME["pow"]
    a, b = np.array([[0.5, 1.5], [1.2, 0.8]]), np.array([2.0, 3.0])
    tree = single_op_tree(pow_, make_call([a.shape, b.shape]))
    u, va, vb, wa, wb = np.ones((2, 2)), np.ones((2, 2)), np.zeros(2), np.ones((2, 2)), np.zeros(2)
    # only x moves: (uᵀ∂³f)[v, w, ·] in x is u·b(b-1)(b-2)x^(b-3); in y it is u·∂³/∂x²∂y x^b
    got = jax_oracle.third_reverse(tree, [a, b], u, [va, vb], [wa, wb])
    np.testing.assert_allclose(got[0], b * (b - 1) * (b - 2) * a ** (b - 3), rtol=1e-12)
    d_xxy = (2 * b - 1) * a ** (b - 2) + b * (b - 1) * a ** (b - 2) * np.log(a)
    np.testing.assert_allclose(got[1], d_xxy.sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("prop", list(PROPERTIES))
def test_each_property_passes_on_correct_torch(prop: str) -> None:
    for op in ("sin", "exp", "cos", "tanh", "sigmoid"):
        outcome = worst(PROPERTIES[prop](_example(op)))
        assert outcome.verdict is Verdict.PASS, f"{prop} on {op}: {outcome.message}"


def test_the_planted_third_order_fault_fails_both_properties_and_no_lower_order() -> None:
    with FAULTS_BY_NAME["cos_third_order"].patch():
        third = {p: worst(check(_example("cos"))).verdict for p, check in PROPERTIES.items()}
        lower = {p: worst(check(_example("cos"))).verdict for p, check in LOWER_ORDERS.items()}
    assert third == {p: Verdict.FAIL for p in PROPERTIES}, third
    assert lower == {p: Verdict.PASS for p in LOWER_ORDERS}, lower


@pytest.mark.parametrize(
    "prop, api",
    [
        (third_order.THIRD_REV, "rev = torch.autograd.grad(dot(h, (w0,)), (x0,), allow_unused=True)"),
        (third_order.THIRD_FWD, "fwd = torch.func.jvp(jwv, (x0.detach(),), (t0,))[1]"),
    ],
)
def test_each_repro_replays_its_mode(prop: str, api: str) -> None:
    script = repro_script(_example("sin"), prop, Outcome(Verdict.FAIL, "jax", 1.0, 0.1, "example"))
    assert api in script and "y.backward(u)" not in script, script
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "jax 0 =" in done.stdout, done.stdout
