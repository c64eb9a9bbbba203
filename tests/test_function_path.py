"""The custom-Function execution path (``autograd_conformance.execution.as_function``): the wrapped tree is the
same function, first derivatives and double backward agree with eager, nested forward mode shows the
torch finding, and a repro on the path prints the Function and replays through it."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import numpy as np
import torch

import autograd_conformance.jaxsetup  # noqa: F401
from autograd_conformance import second_order
from autograd_conformance.example import Example
from autograd_conformance.execution import FUNCTION_SOURCE, torch_callable
from autograd_conformance.registry import OPS_BY_NAME
from autograd_conformance.registry.spec import make_call
from autograd_conformance.repro import repro_script
from autograd_conformance.run_options import RunOptions
from autograd_conformance.tree import single_op_tree
from autograd_conformance.verdict import Outcome, Verdict, worst

X = np.array([0.3, 1.2, -0.7])
V, W, U = np.array([1.0, -0.5, 2.0]), np.array([0.25, 1.5, -1.0]), np.array([1.0, 0.5, -2.0])


def _example(path: str) -> Example:
    tree = single_op_tree(OPS_BY_NAME["sin"], make_call([X.shape]))
    return Example(tree, [X.copy()], cotangent=U.copy(), direction=[V.copy()], second=[W.copy()],
                   options=RunOptions(path=path))  # fmt: skip


def test_the_function_is_the_tree_with_its_derivatives() -> None:
    ex = _example("function")
    wrapped, eager = torch_callable(ex.tree, "function"), torch_callable(ex.tree, "eager")
    x = torch.tensor(X, requires_grad=True)
    y = wrapped(x)
    assert y.grad_fn is not None and "Function" in type(y.grad_fn).__name__  # it went through the Function
    torch.testing.assert_close(y, eager(x))
    (g,) = torch.autograd.grad(y, x, torch.tensor(U), create_graph=True)
    torch.testing.assert_close(g, torch.tensor(U) * torch.cos(x))
    (h,) = torch.autograd.grad((g * torch.tensor(W)).sum(), x)  # double backward through torch.func.vjp
    torch.testing.assert_close(h, -torch.tensor(U * W) * torch.sin(x.detach()))


def test_nested_forward_mode_is_the_finding_on_the_function_path_only() -> None:
    assert worst(second_order.fwd_fwd_matches_jax(_example("eager"))).verdict is Verdict.PASS
    assert worst(second_order.fwd_fwd_matches_jax(_example("function"))).verdict is Verdict.FAIL


def test_a_repro_on_the_function_path_prints_and_calls_the_function() -> None:
    ex = _example("function")
    script = repro_script(ex, second_order.FWD_FWD, Outcome(Verdict.FAIL, "jax", 1.0, 0.1, "example"))
    assert FUNCTION_SOURCE.splitlines()[0] in script and "Function.apply(x0)" in script, script
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "forward over forward 0.0 " in done.stdout, done.stdout  # torch's second derivative, contracted: 0
    eager = repro_script(replace(ex, options=RunOptions()), second_order.FWD_FWD, Outcome(Verdict.FAIL, "jax", 1.0, 0.1, "x"))
    assert "class Function" not in eager
