"""Third order along random directions (issue 14, item 2): fully reverse and fully forward, against JAX.

Like ``gradgradcheck``, no third-derivative tensor is formed: each property contracts ∂³f with
seeds drawn for the example (``draw_example(..., third=True)``: u = ``cotangent``, v = ``direction``,
w = ``second``, t = ``third``).

``third_rev``  reverse over reverse over reverse: ∇ₓ⟨∇ₓ⟨∇ₓ⟨y, u⟩, v⟩, w⟩ by ``torch.autograd.grad`` with
               ``create_graph=True`` twice: (uᵀ∂³f)[v, w, ·], input-shaped; JAX's ``third_reverse``.
``third_fwd``  forward over forward over forward: ``torch.func.jvp`` along t of the jvp along w of the jvp
               along v: ∂³f[v, w, t], output-shaped; JAX's ``third_directional``.  (Eager dual tensors
               cannot nest, so this is torch.func's.)

The policy is second order's (``second_order.composition_matches_jax``): a pole upstream is
INCONCLUSIVE, a point within ``THIRD_ORDER_KINK_MARGIN`` of a kink is INCONCLUSIVE, and the tolerance is
``THIRD_ORDER_FACTOR · jax_rtol`` of the seeds' scale.  Each property owns its repro.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from autograd_conformance import tolerances as tol
from autograd_conformance.compare import max_abs
from autograd_conformance.example import Example, to_numpy
from autograd_conformance.execution import torch_callable
from autograd_conformance.oracles import jax_oracle
from autograd_conformance.oracles.orchestration import reference
from autograd_conformance.second_order import HigherOrder, higher_order_matches_jax, jax_expects_lines
from autograd_conformance.verdict import Outcome

THIRD_REV, THIRD_FWD = "third_rev", "third_fwd"
PROPERTIES = (THIRD_REV, THIRD_FWD)


def _contract(grads: tuple, seeds: list[torch.Tensor]) -> torch.Tensor | None:
    """Σᵢ⟨gᵢ, sᵢ⟩ over the gradients that still depend on the inputs; None when none does (the next
    derivative is zero)."""
    terms = [(g * s).sum() for g, s in zip(grads, seeds) if g is not None and g.requires_grad]
    return sum(terms[1:], terms[0]) if terms else None


def torch_third_reverse(ex: Example) -> list[np.ndarray]:
    """(uᵀ∂³f)[v, w, ·]: three ``autograd.grad`` calls, the first two with ``create_graph=True``."""
    xs = ex.leaves()
    y = torch_callable(ex.tree, ex.path)(*xs)
    zeros = [np.zeros(s) for s in ex.tree.leaf_shapes]
    g = torch.autograd.grad(y, xs, ex.tensor(ex.cotangent), create_graph=True, allow_unused=True)
    gv = _contract(g, [ex.tensor(v) for v in ex.direction])
    if gv is None:
        return zeros
    h = torch.autograd.grad(gv, xs, create_graph=True, allow_unused=True)
    hw = _contract(h, [ex.tensor(w) for w in ex.second])
    if hw is None:
        return zeros
    return [to_numpy(t, s) for t, s in zip(torch.autograd.grad(hw, xs, allow_unused=True), ex.tree.leaf_shapes)]


def torch_third_forward(ex: Example) -> list[np.ndarray]:
    """∂³f[v, w, t]: ``torch.func.jvp`` nested three deep."""
    xs = tuple(ex.leaves(requires_grad=False))
    f = torch_callable(ex.tree, ex.path)
    v, w, t = (tuple(ex.tensor(s) for s in seeds) for seeds in (ex.direction, ex.second, ex.third))

    def jv(*x: torch.Tensor) -> torch.Tensor:
        return torch.func.jvp(f, x, v)[1]

    def jwv(*x: torch.Tensor) -> torch.Tensor:
        return torch.func.jvp(jv, x, w)[1]

    out = torch.func.jvp(jwv, xs, t)[1]
    return [to_numpy(out, reference(ex).evaluation.output.shape)]


_THIRD = {"rtol_factor": tol.THIRD_ORDER_FACTOR, "kink_margin": tol.THIRD_ORDER_KINK_MARGIN}
_COMPUTATION: dict[str, HigherOrder] = {
    THIRD_REV: HigherOrder(
        torch_third_reverse,
        lambda ex: jax_oracle.third_reverse(ex.tree, ex.inputs, ex.cotangent, ex.direction, ex.second),
        "third order, reverse mode",
        lambda ex: max_abs(ex.cotangent) * max_abs(*ex.direction) * max_abs(*ex.second),
        **_THIRD,
    ),
    THIRD_FWD: HigherOrder(
        torch_third_forward,
        lambda ex: [jax_oracle.third_directional(ex.tree, ex.inputs, ex.direction, ex.second, ex.third)],
        "third order, forward mode",
        lambda ex: max_abs(*ex.direction) * max_abs(*ex.second) * max_abs(*ex.third),
        **_THIRD,
    ),
}


def third_order_matches_jax(ex: Example, prop: str) -> list[Outcome]:
    """torch's third derivative by ``prop`` against JAX, elementwise."""
    return higher_order_matches_jax(ex, _COMPUTATION[prop])


def third_rev_matches_jax(ex: Example) -> list[Outcome]:
    return third_order_matches_jax(ex, THIRD_REV)


def third_fwd_matches_jax(ex: Example) -> list[Outcome]:
    return third_order_matches_jax(ex, THIRD_FWD)


# -- repros: each replays its own mode ----------------------------------------------------------------


def repro_lines(ex: Example, prop: str, lit: Callable[[np.ndarray], str]) -> list[str]:
    """The script's body after the inputs and u: the third derivative ``prop`` computes, the other mode's
    contraction beside it where both apply, and what JAX expects."""
    dt = f"torch.{ex.dtype}"
    n = len(ex.inputs)
    names = ", ".join(f"x{i}" for i in range(n))
    xs = f"({names},)"
    seq = lambda p: "(" + ", ".join(f"{p}{i}" for i in range(n)) + ",)"  # noqa: E731
    lines = [f"f = lambda {names}: {ex.tree.source}"]
    for letter, seeds, what in (("v", ex.direction, "first"), ("w", ex.second, "second"), ("t", ex.third, "third")):
        if seeds:
            lines += [f"{letter}{i} = torch.tensor({lit(s)}, dtype={dt})  # {what} direction" for i, s in enumerate(seeds)]
    lines += [
        "def dot(gs, ss):  # sum_i <g_i, s_i> over the gradients that still depend on x",
        "    return sum((g * s).sum() for g, s in zip(gs, ss) if g is not None and g.requires_grad)",
        "# reverse mode, three times: (u^T d3f)[v, w, .]",
        f"g = torch.autograd.grad(f({names}), {xs}, u, create_graph=True, allow_unused=True)",
        f"h = torch.autograd.grad(dot(g, {seq('v')}), {xs}, create_graph=True, allow_unused=True)",
        f"rev = torch.autograd.grad(dot(h, {seq('w')}), {xs}, allow_unused=True)",
        "print('reverse, (u^T d3f)[v, w, .] =', rev)",
    ]
    if prop == THIRD_FWD:
        detached = ", ".join(f"x{i}.detach()" for i in range(n))
        lines += [
            "# forward mode, three times: d3f[v, w, t]",
            f"jv = lambda *x: torch.func.jvp(f, x, {seq('v')})[1]",
            f"jwv = lambda *x: torch.func.jvp(jv, x, {seq('w')})[1]",
            f"fwd = torch.func.jvp(jwv, ({detached},), {seq('t')})[1]",
            "print('forward, d3f[v, w, t] =', fwd)",
            "print('<u, d3f[v, w, t]>: forward', (u * fwd).sum().item(), ' reverse', "
            f"sum(float((r * t).sum()) for r, t in zip(rev, {seq('t')}) if r is not None))",
        ]
    return lines + jax_expects_lines(lambda: _COMPUTATION[prop].expected(ex), lit)
