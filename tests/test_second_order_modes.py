"""Second order by every composition (``autograd_conformance.second_order``): the JAX oracle for ∂²f[v, w] against
analytic second derivatives, each property passing on correct torch and failing on a planted wrong
composition, and each repro replaying its own composition."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import numpy as np
import pytest
import torch

import autograd_conformance.jaxsetup  # noqa: F401
from autograd_conformance import second_order
from autograd_conformance.example import Example
from autograd_conformance.oracles import jax_oracle
from autograd_conformance.registry import OPS_BY_NAME
from autograd_conformance.registry.spec import make_call
from autograd_conformance.repro import repro_script
from autograd_conformance.tree import single_op_tree
from autograd_conformance.verdict import Outcome, Verdict, worst
from tests.faults import FAULTS_BY_NAME
from tests.faults.gradients import _function, _unary_patch, _zero
from tests.helpers import sin_times_y

X = np.array([0.3, 1.2, -0.7])
V, W, U = np.array([1.0, -0.5, 2.0]), np.array([0.25, 1.5, -1.0]), np.array([1.0, 0.5, -2.0])

PROPERTIES: dict[str, Callable[[Example], list[Outcome]]] = {
    second_order.FWD_REV: second_order.fwd_rev_matches_jax,
    second_order.REV_FWD: second_order.rev_fwd_matches_jax,
    second_order.FWD_FWD: second_order.fwd_fwd_matches_jax,
}


def _example(op: str = "sin") -> Example:
    tree = single_op_tree(OPS_BY_NAME[op], make_call([X.shape]))
    return Example(tree, [X.copy()], cotangent=U.copy(), direction=[V.copy()], second=[W.copy()])


def test_second_directional_of_one_op_is_the_analytic_second_derivative() -> None:
    """sin: ∂²f[v, w] = -sin(x)·v·w (the per-op, bucketed path)."""
    (sin,) = [OPS_BY_NAME["sin"]]
    tree = single_op_tree(sin, make_call([X.shape]))
    np.testing.assert_allclose(jax_oracle.second_directional(tree, [X], [V], [W]), -np.sin(X) * V * W, rtol=1e-13)


def test_second_directional_of_a_tree_is_the_analytic_second_derivative() -> None:
    """sin(x)·y: ∂²[v, w] = -sin(x)·y·v₀w₀ + cos(x)·(v₀w₁ + w₀v₁) (the whole-tree path), and a broadcast mul."""
    y = np.array([2.0, -1.0, 0.5])
    tree = sin_times_y()
    v, w = [V, np.array([0.5, 0.5, 1.0])], [W, np.array([-1.0, 2.0, 0.0])]
    expected = -np.sin(X) * y * V * W + np.cos(X) * (V * w[1] + W * v[1])
    np.testing.assert_allclose(jax_oracle.second_directional(tree, [X, y], v, w), expected, rtol=1e-13)
    a, b = np.arange(6.0).reshape(2, 3), np.array([2.0, -1.0, 0.5])
    product = single_op_tree(OPS_BY_NAME["mul"], make_call([a.shape, b.shape]))
    va, vb, wa, wb = np.ones_like(a), np.array([1.0, 2.0, 3.0]), 2 * np.ones_like(a), np.array([0.5, 0.0, -1.0])
    np.testing.assert_allclose(
        jax_oracle.second_directional(product, [a, b], [va, vb], [wa, wb]), va * wb + wa * vb, rtol=1e-13
    )


@pytest.mark.parametrize("prop", list(PROPERTIES))
def test_each_composition_passes_on_correct_torch(prop: str) -> None:
    for op in ("sin", "exp", "cosh"):
        outcome = worst(PROPERTIES[prop](_example(op)))
        assert outcome.verdict is Verdict.PASS, f"{prop} on {op}: {outcome.message}"


# -- planted wrong compositions ---------------------------------------------------------------------
# sin whose backward g·cos(x) goes through a Function with a wrong jvp: only forward over reverse sees it.
_COS_TIMES_WRONG_JVP = _function(
    "CosTimesWrongJvp",
    forward=lambda g, x: g * torch.cos(x),
    backward=lambda i, gg: (gg * torch.cos(i[1]), -gg * i[0] * torch.sin(i[1])),
    jvp=lambda i, t: _zero(t[0], i[0]) * torch.cos(i[1]) + i[0] * torch.sin(i[1]) * _zero(t[1], i[1]),  # sign
)
# sin whose jvp t·cos(x) goes through a Function with a wrong backward: only reverse over forward sees it.
_COS_TIMES_WRONG_BACKWARD = _function(
    "CosTimesWrongBackward",
    forward=lambda t, x: t * torch.cos(x),
    backward=lambda i, gg: (gg * torch.cos(i[1]), gg * i[0] * torch.sin(i[1])),  # sign
    jvp=lambda i, t: _zero(t[0], i[0]) * torch.cos(i[1]) - i[0] * torch.sin(i[1]) * _zero(t[1], i[1]),
)
_SIN = torch.sin
PLANTED = {
    second_order.FWD_REV: _unary_patch(
        torch,
        "sin",
        _function(
            "SinFwdRev",
            forward=_SIN,
            backward=lambda i, g: (_COS_TIMES_WRONG_JVP.apply(g, i[0]),),
            jvp=lambda i, t: t[0] * torch.cos(i[0]),
        ),
    ),
    second_order.REV_FWD: _unary_patch(
        torch,
        "sin",
        _function(
            "SinRevFwd",
            forward=_SIN,
            backward=lambda i, g: (g * torch.cos(i[0]),),
            jvp=lambda i, t: _COS_TIMES_WRONG_BACKWARD.apply(t[0], i[0]),
        ),
    ),
    second_order.FWD_FWD: FAULTS_BY_NAME["cosh_forward_over_forward"].patch,
}


# Where each planted fault is dormant.  The forward-over-reverse fault shows under forward over forward
# too (torch.func's nested jvp of that Function reaches the wrong rule), so that pair is not asserted.
DORMANT = {
    second_order.FWD_REV: (second_order.REV_FWD,),
    second_order.REV_FWD: (second_order.FWD_REV, second_order.FWD_FWD),
    second_order.FWD_FWD: (second_order.FWD_REV, second_order.REV_FWD),
}


@pytest.mark.parametrize("prop", list(PROPERTIES))
def test_each_composition_fails_on_its_planted_fault(prop: str) -> None:
    """The planted fault of one composition fails that property (and passes the compositions it is dormant in:
    the fault of ``second_fwd_fwd`` is the sharpness fault ``cosh_forward_over_forward``)."""
    op = "cosh" if prop == second_order.FWD_FWD else "sin"
    with PLANTED[prop]():
        verdicts = {p: worst(check(_example(op))).verdict for p, check in PROPERTIES.items()}
    assert verdicts[prop] is Verdict.FAIL, verdicts
    assert all(verdicts[p] is Verdict.PASS for p in DORMANT[prop]), verdicts


@pytest.mark.parametrize(
    "prop, api",
    [
        (second_order.FWD_REV, "fwAD.make_dual(x0, w0)"),
        (second_order.REV_FWD, "fwAD.make_dual(x0, v0)"),
        (second_order.FWD_FWD, "torch.func.jvp(lambda *x: torch.func.jvp(f"),
    ],
)
def test_each_repro_replays_its_composition(prop: str, api: str) -> None:
    ex = _example("sin")
    script = repro_script(ex, prop, Outcome(Verdict.FAIL, "jax", 1.0, 0.1, "example"))
    assert api in script and "y.backward(u)" not in script, script
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "jax 0 =" in done.stdout, done.stdout
