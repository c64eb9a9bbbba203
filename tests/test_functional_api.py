"""torch.autograd.functional as properties (``autograd_conformance.functional_api``, ``suites/test_functional_api.py``):
the Hessian contraction, every call against its analytic answer, and each repro replaying its own call."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import autograd_conformance.jaxsetup  # noqa: F401
from autograd_conformance.example import Example, to_numpy
from autograd_conformance.functional_api import FUNCTIONALS, hessian_times
from autograd_conformance.oracles.orchestration import scaled_direction
from autograd_conformance.repro import repro_script
from autograd_conformance.verdict import Outcome, Verdict
from tests.helpers import sin_times_y

X, Y = np.array([0.3, 1.2, -0.7]), np.array([2.0, -1.0, 0.5])
U, V0, V1 = np.array([1.0, 0.5, -2.0]), np.array([1.0, -0.5, 2.0]), np.array([0.5, 0.5, 1.0])
W0, W1 = np.array([0.25, 1.5, -1.0]), np.array([-1.0, 2.0, 0.0])


def _example() -> Example:
    """f(x, y) = sin(x)·y, elementwise."""
    return Example(sin_times_y(), [X.copy(), Y.copy()], cotangent=U.copy(), direction=[V0.copy(), V1.copy()],
                   second=[W0.copy(), W1.copy()])  # fmt: skip


def test_hessian_times_contracts_each_block_with_its_input_direction() -> None:
    a = torch.tensor([[2.0, 1.0], [0.0, 3.0]], dtype=torch.float64)
    x, w = torch.tensor([1.0, -1.0], dtype=torch.float64), torch.tensor([0.5, 2.0], dtype=torch.float64)
    blocks = torch.autograd.functional.hessian(lambda z: z @ a @ z, (x,))
    (hw,) = hessian_times(blocks, [w])
    torch.testing.assert_close(hw, (a + a.T) @ w, rtol=0, atol=1e-15)


def _analytic(kind: str, ex: Example) -> list[np.ndarray]:
    """What each kind of call must give for sin(x)·y: Jᵀu, J v, or H w of ⟨f, u⟩."""
    v0, v1 = scaled_direction(ex)
    if kind == "vjp":
        return [np.cos(X) * Y * U, np.sin(X) * U]
    if kind == "jvp":
        return [np.cos(X) * Y * v0 + np.sin(X) * v1]
    return [U * (-np.sin(X) * Y * W0 + np.cos(X) * W1), U * np.cos(X) * W0]  # H w: hessian, hvp, vhp


@pytest.mark.parametrize("fn", FUNCTIONALS, ids=lambda fn: fn.prop)
def test_every_call_gives_the_analytic_answer(fn) -> None:
    ex = _example()
    result = fn.run(ex, ex.tree.torch_fn(), scaled_direction(ex))
    if fn.kind == "jacobian":  # blocks: contract with u for Jᵀu
        u = ex.tensor(U)
        got = [to_numpy(torch.tensordot(u, j, dims=1), (3,)) for j in result]
        kind = "vjp"
    elif fn.kind == "hessian":
        got = [h.numpy() for h in hessian_times(result, [ex.tensor(w) for w in ex.second])]
        kind = "second"
    else:
        got, kind = [r.detach().numpy() for r in (result if isinstance(result, tuple) else (result,))], fn.kind
    for g, e in zip(got, _analytic(kind, ex), strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("fn", FUNCTIONALS, ids=lambda fn: fn.prop)
def test_each_repro_replays_its_own_call(fn, tmp_path) -> None:
    ex = _example()
    script = repro_script(ex, fn.prop, Outcome(Verdict.FAIL, "jax", message="planted"))
    assert fn.call in script, "the repro prints the call that was checked"
    path = tmp_path / "repro.py"
    path.write_text(script)
    proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"{fn.call} =" in proc.stdout, proc.stdout
