"""Repro scripts run on their own; the convention table is keyed by torch version; a missing JAX says what to do."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import autograd_conformance.jaxsetup  # noqa: F401
from autograd_conformance.conventions import CONVENTIONS, documented
from autograd_conformance.example import Example
from autograd_conformance.registry import OPS_BY_NAME
from autograd_conformance.registry.spec import make_call
from autograd_conformance.repro import repro_script
from autograd_conformance.run_options import RunOptions
from autograd_conformance.tree import single_op_tree
from autograd_conformance.verdict import Outcome, Verdict


def test_repro_script_is_self_contained_and_runs() -> None:
    tree = single_op_tree(OPS_BY_NAME["mul"], make_call([(2, 2), (2,)]))
    ex = Example(
        tree,
        [np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -1.0])],
        cotangent=np.ones((2, 2)),
        layouts=("transposed", "sliced"),
    )
    script = repro_script(
        ex, "vjp", Outcome(Verdict.FAIL, "jax", 1.0, 0.1, "example"), expected=[np.zeros((2, 2)), np.zeros(2)]
    )
    assert "x0 * x1" in script and "y.backward(u)" in script
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "x1.grad = tensor([4., 6.]" in done.stdout, done.stdout


def test_forward_mode_repro_runs_forward_mode() -> None:
    """A forward-mode finding's repro shows J v from forward mode, beside the reverse-mode gradient."""
    tree = single_op_tree(OPS_BY_NAME["mul"], make_call([(2,), (2,)]))
    ex = Example(
        tree,
        [np.array([1.0, 2.0]), np.array([3.0, -4.0])],
        cotangent=np.ones(2),
        direction=[np.array([1.0, 0.0]), np.array([0.0, 1.0])],
    )
    for prop, api in [("jvp", "fwAD.make_dual"), ("func.jvp", "torch.func.jvp")]:
        script = repro_script(ex, prop, Outcome(Verdict.FAIL, "jax", 1.0, 0.1, "example"))
        assert api in script, f"the {prop} repro does not call {api}:\n{script}"
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        # J v = x1·v0 + x0·v1, with v scaled by max(1, |x|): [3·1 + 1·0, -4·0 + 2·4] = [3, 8]
        assert "J v = tensor([3., 8.]" in done.stdout, done.stdout


def test_autocast_repro_replays_autocast_on_float32_leaves() -> None:
    """Under autocast matmul runs in bfloat16 on float32 leaves: the repro must do the same, not run
    bfloat16 leaves without the mode.  x1 = [1 + 2^-10]: exact in float32, rounded to 1 in bfloat16, so
    the gradient of x0 @ x1 with respect to x0 (u times x1) is u exactly only where autocast lowered it."""
    tree = single_op_tree(OPS_BY_NAME["matmul"], make_call([(1, 1), (1, 1)]))
    ex = Example(tree, [np.array([[1.0]]), np.array([[1.0 + 2.0**-10]])], dtype="bfloat16", cotangent=np.ones((1, 1)))
    script = repro_script(ex, "autocast", Outcome(Verdict.FAIL, "float64", 1.0, 0.1, "example"))
    assert "torch.autocast('cpu', dtype=torch.bfloat16)" in script and "dtype=torch.float32" in script, script
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "x0.grad = tensor([[1.]])\n" in done.stdout, done.stdout  # float32 (no dtype shown), rounded x1


@pytest.mark.parametrize(
    ("prop", "path", "calls", "shows"),
    [
        ("scalar_backward", "eager", "(y * u).sum().backward()", "x0.grad = tensor([[0.5000"),
        ("func.vjp", "func", "torch.func.vjp(f", "x0.grad = tensor([[0.5000"),
        ("second_order", "eager", "create_graph=True", "reverse over reverse = (tensor([[2."),
        ("variant", "eager", "torch.det(x0)", "spelled torch.det({x}): J^T u = (tensor([[0.5000"),
        ("compile.vjp", "compile", "torch.compile(lambda x0", "x0.grad = tensor([[0.5000"),
    ],
)
def test_each_property_replays_what_it_computed(prop: str, path: str, calls: str, shows: str) -> None:
    """A repro runs the failing property's own computation (its API, path and seeds), not always y.backward(u).

    det at A = diag(2, 4), u = 1/8: Jᵀu = u·det(A)·A⁻ᵀ = diag(0.5, 0.25). With w = 16 at (1, 1),
    ⟨Jᵀu, w⟩ = u·16·∂det/∂A₁₁ = 2·A₀₀, whose gradient is [[2, 0], [0, 0]]."""
    tree = single_op_tree(OPS_BY_NAME["det"], make_call([(2, 2)]))
    ex = Example(
        tree,
        [np.array([[2.0, 0.0], [0.0, 4.0]])],
        cotangent=np.array(0.125),
        direction=[np.eye(2)],
        second=[np.array([[0.0, 0.0], [0.0, 16.0]])],
        options=RunOptions(path=path),
    )
    script = repro_script(ex, prop, Outcome(Verdict.FAIL, "jax", 1.0, 0.1, "example"))
    assert calls in script, f"the {prop} repro does not run {calls}:\n{script}"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert shows in done.stdout, done.stdout


def test_conventions_are_documented_with_sources_and_keyed_by_version() -> None:
    abs_, hardswish = OPS_BY_NAME["abs"], OPS_BY_NAME["hardswish"]
    assert all(c.source for c in CONVENTIONS)
    assert documented(abs_, "x=0", "2.13.0+cpu").torch == (0.0,)
    assert documented(abs_, "x=1", "2.13.0") is None
    assert documented(OPS_BY_NAME["sin"], "x=0", "2.13.0") is None, "an op follows only the conventions it declares"
    assert documented(hardswish, "x=-3", "2.6.0+cu124").torch == (-0.5,)
    assert documented(hardswish, "x=-3", "2.9.1") is None, "the entry holds before 2.9 only"


def test_every_declared_convention_exists_and_every_convention_is_declared() -> None:
    """One source: a registry entry names its conventions by key, and autograd_conformance.conventions defines each key."""
    keys = {c.key for c in CONVENTIONS}
    undefined = {(op.name, k) for op in OPS_BY_NAME.values() for k in op.conventions if k not in keys}
    assert not undefined, f"registry entries declare conventions that autograd_conformance/conventions.py lacks: {undefined}"
    declared = {k for op in OPS_BY_NAME.values() for k in op.conventions}
    assert keys <= declared, f"conventions no registry entry declares: {keys - declared}"


def test_missing_jax_gives_an_actionable_error() -> None:
    code = "import sys; sys.modules['jax'] = None\nimport autograd_conformance.jaxsetup"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "pip install jax jaxlib" in done.stderr and "nox -s conformance" in done.stderr, done.stderr
