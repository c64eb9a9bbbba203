"""Second order by the other compositions of forward and reverse mode (``second_order`` is reverse over reverse).

Each is a property: a function from an Example (drawn with ``second=True``, so it carries
u, v = ``direction`` and w = ``second``) to Outcomes, judged against JAX elementwise with
``second_order``'s policy (``SECOND_ORDER_FACTOR · jax_rtol``, ``SECOND_ORDER_KINK_MARGIN``,
a pole upstream is INCONCLUSIVE).

``second_fwd_rev``  forward over reverse: the tangent along w of ``autograd.grad(y, x, u, create_graph=True)``
                    computed on dual tensors (x + εw): (uᵀ∂²f)[w, ·], JAX's ``second_order(u, w)``
``second_rev_fwd``  reverse over forward: ``autograd.grad(⟨u, J v⟩, x)`` where J v is the tangent of a
                    dual-tensor forward pass along v: (uᵀ∂²f)[v, ·], JAX's ``second_order(u, v)``
``second_fwd_fwd``  forward over forward: ``torch.func.jvp`` along w of ``x ↦ torch.func.jvp(f, x, v)``:
                    ∂²f[v, w] (output-shaped), JAX's ``jvp`` of ``jvp``.  Eager dual tensors cannot
                    nest (``forward_ad.dual_level`` raises "Nested forward mode AD is not supported"),
                    so this one composition is torch.func's.

Each property also owns its repro (``repro_lines``): the script replays the composition that
failed, and prints reverse over reverse beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch.autograd import forward_ad

from autograd_conformance import tolerances as tol
from autograd_conformance.checks import guarded
from autograd_conformance.compare import arrays_match, max_abs
from autograd_conformance.example import Example, to_numpy
from autograd_conformance.execution import torch_callable
from autograd_conformance.oracles import jax_oracle
from autograd_conformance.oracles.orchestration import finite_only, pole, reference
from autograd_conformance.singularities import near_singularity
from autograd_conformance.verdict import Outcome

FWD_REV, REV_FWD, FWD_FWD = "second_fwd_rev", "second_rev_fwd", "second_fwd_fwd"
COMPOSITIONS = (FWD_REV, REV_FWD, FWD_FWD)


def _per_leaf(ts: tuple, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    return [to_numpy(t, s) for t, s in zip(ts, shapes)]


def _tangent(t: torch.Tensor | None) -> torch.Tensor | None:
    return None if t is None else forward_ad.unpack_dual(t).tangent


def torch_fwd_rev(ex: Example) -> list[np.ndarray]:
    """d/dε of Jᵀ(x + εw) u: backward with create_graph on dual tensors, the tangent of each gradient."""
    xs = ex.leaves()
    f = torch_callable(ex.tree, ex.path)
    with forward_ad.dual_level():
        duals = [forward_ad.make_dual(x, ex.tensor(w)) for x, w in zip(xs, ex.second)]
        grads = torch.autograd.grad(f(*duals), xs, ex.tensor(ex.cotangent), create_graph=True, allow_unused=True)
        return _per_leaf(tuple(_tangent(g) for g in grads), ex.tree.leaf_shapes)


def torch_rev_fwd(ex: Example) -> list[np.ndarray]:
    """∇ₓ⟨u, J v⟩: J v the tangent of a dual-tensor forward pass along v, then autograd.grad of ⟨u, J v⟩."""
    xs = ex.leaves()
    f = torch_callable(ex.tree, ex.path)
    with forward_ad.dual_level():
        jv = _tangent(f(*(forward_ad.make_dual(x, ex.tensor(v)) for x, v in zip(xs, ex.direction))))
        if jv is None or not jv.requires_grad:  # J v does not depend on x: the Hessian is zero
            return [np.zeros(s) for s in ex.tree.leaf_shapes]
        hs = torch.autograd.grad((jv * ex.tensor(ex.cotangent)).sum(), xs, allow_unused=True)
        return _per_leaf(hs, ex.tree.leaf_shapes)


def torch_fwd_fwd(ex: Example) -> list[np.ndarray]:
    """∂²f[v, w]: ``torch.func.jvp`` along w of ``x ↦ torch.func.jvp(f, x, v)[1]``."""
    xs = tuple(ex.leaves(requires_grad=False))
    f = torch_callable(ex.tree, ex.path)
    vs = tuple(ex.tensor(v) for v in ex.direction)
    ws = tuple(ex.tensor(w) for w in ex.second)
    out = torch.func.jvp(lambda *x: torch.func.jvp(f, x, vs)[1], xs, ws)[1]
    return [to_numpy(out, reference(ex).evaluation.output.shape)]


@dataclass(frozen=True)
class HigherOrder:
    """One higher-order property: torch's computation, JAX's, and how they are compared."""

    compute: Callable[[Example], list[np.ndarray]]  # torch's derivative, contracted with the example's seeds
    expected: Callable[[Example], list[np.ndarray]]  # JAX's, contracted the same way
    what: str
    seed_scale: Callable[[Example], float]  # the product of the seeds' magnitudes: the comparison's scale
    rtol_factor: float  # times ``jax_rtol`` of the tree's ops
    kink_margin: float


_SECOND = {"rtol_factor": tol.SECOND_ORDER_FACTOR, "kink_margin": tol.SECOND_ORDER_KINK_MARGIN}
_COMPOSITION: dict[str, HigherOrder] = {
    FWD_REV: HigherOrder(
        torch_fwd_rev,
        lambda ex: jax_oracle.second_order(ex.tree, ex.inputs, ex.cotangent, ex.second),
        "forward over reverse",
        lambda ex: max_abs(ex.cotangent) * max_abs(*ex.second),
        **_SECOND,
    ),
    REV_FWD: HigherOrder(
        torch_rev_fwd,
        lambda ex: jax_oracle.second_order(ex.tree, ex.inputs, ex.cotangent, ex.direction),
        "reverse over forward",
        lambda ex: max_abs(ex.cotangent) * max_abs(*ex.direction),
        **_SECOND,
    ),
    FWD_FWD: HigherOrder(
        torch_fwd_fwd,
        lambda ex: [jax_oracle.second_directional(ex.tree, ex.inputs, ex.direction, ex.second)],
        "forward over forward",
        lambda ex: max_abs(*ex.direction) * max_abs(*ex.second),
        **_SECOND,
    ),
}


def composition_matches_jax(ex: Example, prop: str) -> list[Outcome]:
    """torch's second derivative by the composition ``prop`` against JAX, elementwise (``second_order``'s policy)."""
    return higher_order_matches_jax(ex, _COMPOSITION[prop])


def higher_order_matches_jax(ex: Example, mode: HigherOrder) -> list[Outcome]:
    """torch's derivative ``mode.compute(ex)`` against JAX's ``mode.expected(ex)``, elementwise: a pole
    upstream is INCONCLUSIVE, so is a point within ``mode.kink_margin`` of a kink; a raise is an ERROR
    against torch."""
    if at_pole := pole(ex):
        return at_pole
    evaluation = reference(ex).evaluation

    def run() -> list[Outcome]:
        actual = mode.compute(ex)
        expected = mode.expected(ex)
        return [
            near_singularity(evaluation.singularities, "jax", mode.kink_margin)
            or arrays_match(
                actual,
                expected,
                rtol=mode.rtol_factor * tol.jax_rtol(ex.tree.ops),
                oracle="jax",
                what=mode.what,
                oracle_error=lambda: sensitivity(ex, mode, expected),  # computed only if needed
                seed_scale=mode.seed_scale(ex),
            )
        ]

    return guarded("torch", mode.what, run)


def sensitivity(ex: Example, mode: HigherOrder, expected: list[np.ndarray]) -> list[np.ndarray]:
    """The oracle's error term of a higher derivative: how much JAX's answer moves when every input moves by
    ``8·(ops+1)`` ulps of the largest |x| (``tol.NUDGE_ULPS_PER_OP``), times ``tol.SENSITIVITY_FACTOR``.

    First derivatives nudge each element relative to itself (``orchestration.Reference``); a higher derivative
    cancels across elements, so the step is absolute.  corrcoef of a 1-D x is c/c, identically 1: every
    third derivative is 0, yet torch's and JAX's are ±3e-9 at x = [0, 0, 0.0078125], where the terms that
    cancel are 6|c'|³/c³ = 5.6e7 (0.4 and 0.5 of eps times that); a relative nudge leaves the zeros
    where they are and measured 1.4e-10, the absolute one 2e-8."""
    step = tol.NUDGE_ULPS_PER_OP * (ex.tree.size + 1) * np.finfo(np.float64).eps * max(max_abs(*ex.inputs), 1e-300)
    rng = np.random.default_rng(len(ex.inputs))
    nudged = [x + step * rng.choice([-1.0, 1.0], size=x.shape) for x in ex.inputs]
    moved = mode.expected(replace(ex, inputs=nudged))
    return [finite_only(tol.SENSITIVITY_FACTOR * np.abs(a - b)) for a, b in zip(moved, expected)]


def fwd_rev_matches_jax(ex: Example) -> list[Outcome]:
    return composition_matches_jax(ex, FWD_REV)


def rev_fwd_matches_jax(ex: Example) -> list[Outcome]:
    return composition_matches_jax(ex, REV_FWD)


def fwd_fwd_matches_jax(ex: Example) -> list[Outcome]:
    return composition_matches_jax(ex, FWD_FWD)


# -- repros: each replays its own composition ---------------------------------------------------------


def repro_lines(ex: Example, prop: str, lit: Callable[[np.ndarray], str]) -> list[str]:
    """The script's body after the inputs and u: the composition ``prop``, reverse over reverse beside it,
    and what JAX expects."""
    dt = f"torch.{ex.dtype}"
    n = len(ex.inputs)
    names = ", ".join(f"x{i}" for i in range(n))
    xs = f"({names},)"
    lines = [f"f = lambda {names}: {ex.tree.source}"]
    lines += [f"v{i} = torch.tensor({lit(v)}, dtype={dt})  # first direction" for i, v in enumerate(ex.direction)]
    lines += [f"w{i} = torch.tensor({lit(w)}, dtype={dt})  # second direction" for i, w in enumerate(ex.second)]
    vs = "(" + ", ".join(f"v{i}" for i in range(n)) + ",)"
    ws = "(" + ", ".join(f"w{i}" for i in range(n)) + ",)"
    lines.append("import torch.autograd.forward_ad as fwAD")
    if prop == FWD_REV:
        duals = ", ".join(f"fwAD.make_dual(x{i}, w{i})" for i in range(n))
        lines += [
            "with fwAD.dual_level():  # forward over reverse: the tangent along w of J^T u",
            f"    g = torch.autograd.grad(f({duals}), {xs}, u, create_graph=True, allow_unused=True)",
            "    torch_says = [None if gi is None else fwAD.unpack_dual(gi).tangent for gi in g]",
            "print('forward over reverse, (u^T d2f)[w, .] =', torch_says)",
        ]
        lines += double_backward_lines(xs, ws)
    elif prop == REV_FWD:
        duals = ", ".join(f"fwAD.make_dual(x{i}, v{i})" for i in range(n))
        lines += [
            "with fwAD.dual_level():  # reverse over forward: grad of <u, J v>, J v from dual tensors",
            f"    jv = fwAD.unpack_dual(f({duals})).tangent",
            f"    torch_says = torch.autograd.grad((jv * u).sum(), {xs}, allow_unused=True)",
            "print('reverse over forward, (u^T d2f)[v, .] =', torch_says)",
        ]
        lines += double_backward_lines(xs, vs)
    else:
        detached = ", ".join(f"x{i}.detach()" for i in range(n))
        lines += [
            "# forward over forward: the jvp along w of x -> jvp(f, x, v)",
            f"torch_says = torch.func.jvp(lambda *x: torch.func.jvp(f, x, {vs})[1], ({detached},), {ws})[1]",
            "print('forward over forward, d2f[v, w] =', torch_says)",
            "# the same contracted with u, by reverse over reverse: <u, d2f[v, w]> = <grad_x <J^T u, v>, w>",
            f"g = torch.autograd.grad(f({names}), {xs}, u, create_graph=True)",
            f"h = torch.autograd.grad(sum((gi * vi).sum() for gi, vi in zip(g, {vs})), {xs}, allow_unused=True)",
            f"print('<u, d2f[v, w]>: forward over forward', (u * torch_says).sum().item(), "
            f"' reverse over reverse', sum(float((hi * wi).sum()) for hi, wi in zip(h, {ws}) if hi is not None))",
        ]
    return lines + jax_expects_lines(lambda: _COMPOSITION[prop].expected(ex), lit)


def jax_expects_lines(expected: Callable[[], list[np.ndarray]], lit: Callable[[np.ndarray], str]) -> list[str]:
    """Repro lines printing what JAX expects, or none where JAX cannot say (a repro without them is still one)."""
    try:
        values = expected()
    except Exception:  # noqa: BLE001 - a repro without JAX's numbers is still a repro
        return []
    lines = ["# what JAX expects (x64):"]
    return lines + [f"print('jax {i} =', torch.tensor({lit(np.asarray(e))}, dtype=torch.float64))" for i, e in enumerate(values)]


def double_backward_lines(xs: str, seeds: str) -> list[str]:
    """Repro lines: reverse over reverse, ∇ₓ⟨Jᵀu, s⟩ for the seeds ``s`` (f, u and the leaves ``xs`` defined)."""
    return [
        "# the same by reverse over reverse (double backward):",
        f"g = torch.autograd.grad(f{xs}, {xs}, u, create_graph=True)",
        f"print('reverse over reverse =', torch.autograd.grad(sum((gi * si).sum() for gi, si in zip(g, {seeds})), "
        f"{xs}, allow_unused=True))",
    ]
