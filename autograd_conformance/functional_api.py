"""``torch.autograd.functional`` (issue 16, item 6): each function a property, with its own repro.

Every property is one call, written once as source (``Functional.call``): the suite evaluates that
source and the repro prints it, so the repro replays exactly what was checked.  The names in scope
are ``AF`` (``torch.autograd.functional``), ``f`` (the tree), ``g`` (the scalar loss
x ↦ ⟨f(x), u⟩), ``xs`` (the inputs), ``vs`` (the direction v, scaled as the oracles scale it) and
``ws`` (the second-order direction w).  What each call returns, and how it is judged:

``vjp``       Jᵀu per input: against plain backward, JAX and finite differences (``autograd_conformance.transforms.against``);
``jvp``       J v: against JAX's JVP, and ⟨u, J v⟩ = ⟨Jᵀu, v⟩ with plain backward;
``jacobian``  blocks (output + input shape) per input: uᵀJ as ``vjp``, J v as ``jvp``; forward-mode
              Jacobians may follow another one-sided convention at a kink than backward;
``hessian``   blocks (input_i + input_j) of g's Hessian: H w per input against JAX's (uᵀ∂²f)[w, ·];
``second``    H w per input (``hvp``; ``vhp`` gives wᵀH, the same for a symmetric Hessian): likewise.

``vectorize=True`` and ``strategy="forward-mode"`` run through vmap, so torch's documented vmap
limitations are INCONCLUSIVE there, as for ``torch.func``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from autograd_conformance.example import Example

KINDS = ("vjp", "jvp", "jacobian", "hessian", "second")


@dataclass(frozen=True)
class Functional:
    prop: str
    kind: str  # one of KINDS: what the call returns
    call: str  # the call, as source
    forward: bool = False  # computes by forward mode (jacobian's strategy="forward-mode")
    vmap: bool = False  # runs through vmap (vectorize=True)

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind

    def run(self, ex: Example, f: Callable[..., torch.Tensor], vs: list[np.ndarray]) -> Any:
        """Evaluate ``call`` on the example: its inputs (not requiring grad: the function does that),
        its seed u, its direction ``vs`` and second-order direction w."""
        import torch.autograd.functional as AF  # noqa: N812

        u = ex.tensor(ex.cotangent)
        scope = {
            "AF": AF,
            "f": f,
            "g": lambda *x: (f(*x) * u).sum(),
            "u": u,
            "xs": tuple(ex.leaves(layouts=False, requires_grad=False)),
            "vs": tuple(ex.tensor(v) for v in vs),
            "ws": tuple(ex.tensor(w) for w in ex.second) if ex.second else (),
        }
        return eval(self.call, scope)  # noqa: S307 - the calls of FUNCTIONALS only


FUNCTIONALS: tuple[Functional, ...] = (
    Functional("functional.vjp", "vjp", "AF.vjp(f, xs, v=u)[1]"),
    Functional("functional.jvp", "jvp", "AF.jvp(f, xs, v=vs)[1]"),
    Functional("functional.jacobian", "jacobian", "AF.jacobian(f, xs)"),
    Functional("functional.jacobian_vectorized", "jacobian", "AF.jacobian(f, xs, vectorize=True)", vmap=True),
    Functional(
        "functional.jacobian_forward", "jacobian", "AF.jacobian(f, xs, vectorize=True, strategy='forward-mode')",
        forward=True, vmap=True,
    ),  # fmt: skip
    Functional("functional.hessian", "hessian", "AF.hessian(g, xs)"),
    Functional("functional.hessian_vectorized", "hessian", "AF.hessian(g, xs, vectorize=True)", vmap=True),
    Functional("functional.hvp", "second", "AF.hvp(g, xs, v=ws)[1]"),
    Functional("functional.vhp", "second", "AF.vhp(g, xs, v=ws)[1]"),
)
BY_PROPERTY: dict[str, Functional] = {fn.prop: fn for fn in FUNCTIONALS}
PROPERTIES = tuple(BY_PROPERTY)


def hessian_times(blocks: tuple, ws: list[torch.Tensor]) -> list[torch.Tensor]:
    """H w per input from ``hessian``'s blocks H[i][j] (shape input_i + input_j)."""
    out = []
    for i, row in enumerate(blocks):
        terms = [
            torch.tensordot(h, w, dims=(list(range(h.dim() - w.dim(), h.dim())), list(range(w.dim()))))
            for h, w in zip(row, ws)
        ]
        out.append(sum(terms[1:], terms[0]))
    return out


def repro_lines(ex: Example, prop: str, lit: Callable[[np.ndarray], str], vs: list[np.ndarray]) -> list[str]:
    """The script's body after the inputs and u: the call that was checked, with its names defined."""
    fn = BY_PROPERTY[prop]
    dt = f"torch.{ex.dtype}"
    n = len(ex.inputs)
    names = ", ".join(f"x{i}" for i in range(n))
    lines = [
        "import torch.autograd.functional as AF",
        f"f = lambda {names}: {ex.tree.source}",
        "g = lambda *x: (f(*x) * u).sum()  # the scalar loss <f(x), u>",
        f"xs = ({', '.join(f'x{i}.detach()' for i in range(n))},)",
    ]
    if "vs" in fn.call:
        lines.append("vs = (" + ", ".join(f"torch.tensor({lit(v)}, dtype={dt})" for v in vs) + ",)  # the direction v")
    if "ws" in fn.call:
        lines.append("ws = (" + ", ".join(f"torch.tensor({lit(w)}, dtype={dt})" for w in ex.second) + ",)  # w")
    lines += [f"torch_says = {fn.call}", f"print({fn.call!r}, '=', torch_says)"]
    backward = f"torch.autograd.grad(f({names}), ({names},), u)"
    return [*lines, f"print('y.backward(u) gives J^T u =', {backward})"]
