"""torch's side of every check: its Jᵀu, J v and double backward for an example, as NumPy arrays.

Each runs the tree on the example's path (``autograd_conformance.execution.torch_callable``),
dtype, layouts and device.  ``torch_vjp`` is memoised on the example: the checks of one
example share it.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch
from torch.autograd import forward_ad

from autograd_conformance.example import Example, to_numpy
from autograd_conformance.execution import torch_callable
from autograd_conformance.memo import TorchVjpRun


def torch_vjp(
    ex: Example, *, seeded: bool, dtype: str | None = None, layouts: bool = True, autocast: str | None = None
) -> list[np.ndarray]:
    """torch's Jᵀu for the example's leaves (memoised: the checks of one example share it).

    ``seeded``: ``y.backward(u)``, else the scalar loss ``(y * u).sum().backward()``; ``dtype``: None for
    the example's; ``layouts``: the leaves in their drawn layouts, else contiguous; ``autocast``: a dtype
    to run the forward under ``torch.autocast`` in.  Only the forward: torch's autocast documentation
    says to wrap the forward pass and the loss, and not the backward, whose ops autocast would lower too.
    """
    run = TorchVjpRun(seeded, dtype, layouts, autocast)
    if run not in ex.memo.torch_vjp:
        ex.memo.torch_vjp[run] = _run_torch_vjp(ex, run)
    return ex.memo.torch_vjp[run]


def vjp_to_judge(ex: Example, given: list[np.ndarray] | None, *, seeded: bool) -> list[np.ndarray]:
    """The Jᵀu a check judges: ``given`` (computed by another route), else torch's own backward."""
    if given is None:
        return torch_vjp(ex, seeded=seeded)
    return [np.asarray(g, dtype=np.float64) for g in given]


def _run_torch_vjp(ex: Example, run: TorchVjpRun) -> list[np.ndarray]:
    xs = ex.leaves(dtype=run.dtype, layouts=run.layouts)
    f = torch_callable(ex.tree, ex.path)
    u = ex.tensor(ex.cotangent, dtype=run.dtype)
    forward = (
        torch.autocast(ex.device, dtype=getattr(torch, run.autocast)) if run.autocast else contextlib.nullcontext()
    )
    if ex.path == "func":  # torch.func.vjp instead of .backward()
        with forward:
            _, pullback = torch.func.vjp(f, *xs)
        return [to_numpy(g, s) for g, s in zip(pullback(u), ex.tree.leaf_shapes)]
    with forward:
        y = f(*xs)
    if run.seeded:
        y.backward(u)
    else:
        (y * u).sum().backward()
    return [to_numpy(x.grad, s) for x, s in zip(xs, ex.tree.leaf_shapes)]


def uses_dual_tensors(ex: Example) -> bool:
    """Which forward-mode API the jvp check calls: dual tensors when eager, else ``torch.func.jvp``."""
    return ex.path == "eager"


def torch_jvp(ex: Example, tangents: list[np.ndarray]) -> tuple[torch.Tensor, str]:
    """torch's J v, and the API that computed it.

    Eager: ``torch.autograd.forward_ad`` dual tensors, the engine's own forward mode (4x
    cheaper per call than ``torch.func.jvp``, which wraps it).  The func and compile paths
    use ``torch.func.jvp``; the ``func.jvp`` property also tests it on every tree.
    """
    xs = ex.leaves(requires_grad=False)
    ts = [ex.tensor(d) for d in tangents]
    f = torch_callable(ex.tree, ex.path)
    if not uses_dual_tensors(ex):
        return torch.func.jvp(f, tuple(xs), tuple(ts))[1], "torch.func.jvp"
    with forward_ad.dual_level():
        out = f(*(forward_ad.make_dual(x, t) for x, t in zip(xs, ts)))
        primal, tangent = forward_ad.unpack_dual(out)
        return (torch.zeros_like(primal) if tangent is None else tangent), "forward-mode AD (dual tensors)"


def double_backward(ex: Example) -> list[np.ndarray]:
    """∇ₓ⟨Jᵀu, w⟩ for each leaf by double backward (``create_graph=True``), u = ``ex.cotangent``, w = ``ex.second``."""
    xs = ex.leaves()
    y = torch_callable(ex.tree, ex.path)(*xs)
    grads = torch.autograd.grad(y, xs, ex.tensor(ex.cotangent), create_graph=True, allow_unused=True)
    s = sum((g * ex.tensor(w)).sum() for g, w in zip(grads, ex.second) if g is not None and g.requires_grad)
    if not isinstance(s, torch.Tensor):  # the first derivative is constant: the Hessian is zero
        return [np.zeros(sh) for sh in ex.tree.leaf_shapes]
    hs = torch.autograd.grad(s, xs, allow_unused=True)
    return [to_numpy(g, sh) for g, sh in zip(hs, ex.tree.leaf_shapes)]
