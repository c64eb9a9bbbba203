"""What the transform suites share: the gradient of one plain backward, and how a transform's answer is judged.

A transform (``torch.func``, ``torch.autograd.functional``) runs the same derivative formulas
as the autograd engine, so its Jᵀu must agree with plain ``y.backward(u)`` to rounding, and with
the oracles (``against``).  A Jacobian is compared through its contractions with the example's
seeds (``contract_out``: uᵀJ, ``contract_in``: J v), with the contraction's own rounding bound
(``contraction_rounding``) added to the tolerance.  vmap-based transforms meet torch's documented
vmap limitations as INCONCLUSIVE (``vmap_limitation``).
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import torch

from autograd_conformance import checks
from autograd_conformance import tolerances as tol
from autograd_conformance.compare import arrays_match, max_abs
from autograd_conformance.example import Example, to_numpy
from autograd_conformance.identities import dot_product_identity
from autograd_conformance.singularities import near_singularity
from autograd_conformance.verdict import Outcome, Verdict, worst

# torch's documented vmap limitations (torch.func UX limitations): INCONCLUSIVE, not ERROR.
VMAP_UNSUPPORTED = re.compile(
    r"Batching rule not implemented for .*could not generate a fallback"
    r"|vmap: we do not yet support aten::"
    r"|vmap: It looks like you're calling \.item\(\)"
    r"|vmap: It looks like you're attempting to use a Tensor in some data-dependent control flow",
    re.IGNORECASE | re.DOTALL,
)


def plain_backward(ex: Example) -> list[np.ndarray]:
    """``y.backward(u)`` on fresh leaves, eager, on the example's device."""
    xs = ex.leaves(layouts=False)
    y = ex.tree.torch_fn()(*xs)
    y.backward(ex.tensor(ex.cotangent))
    return [to_numpy(x.grad, s) for x, s in zip(xs, ex.tree.leaf_shapes)]


def against(
    ex: Example, grads: list[np.ndarray], what: str, *, forward: bool = False, rounding: list[np.ndarray] | None = None
) -> list[Outcome]:
    """A transform's Jᵀu against plain backward, JAX and finite differences.

    ``forward``: the transform used forward mode (jacfwd), so at a kink or tie it may follow another
    one-sided convention than backward does: there the backward comparison is INCONCLUSIVE.
    ``rounding``: the error bound of contracting a Jacobian with u, added to the tolerance.
    """
    backward = plain_backward(ex)
    same = unclear(ex, forward=forward) or arrays_match(
        grads,
        backward,
        rtol=tol.transform_rtol(ex.tree.ops),
        oracle="backward",
        what=f"{what} vs y.backward(u)",
        oracle_error=rounding,
        seed_scale=max_abs(ex.cotangent),
    )
    return [same, *checks.vjp_matches_oracles(ex, seeded=True, torch_vjp=grads)]


def unclear(ex: Example, *, forward: bool) -> Outcome | None:
    """INCONCLUSIVE where a transform and backward may both be right and still differ.

    At a pole (JAX's value or gradient is not finite) the derivative does not exist: torch.func
    and the engine may use different formulas there (cumprod's backward divides by its input
    under torch.func, masks zeros in the engine: nan vs 0).  Forward mode against reverse mode
    (``forward``) may also follow different one-sided conventions on a kink or tie.
    """
    ref = checks.reference(ex)
    if not (np.all(np.isfinite(ref.evaluation.output)) and all(np.all(np.isfinite(g)) for g in ref.vjp)):
        return Outcome(
            Verdict.INCONCLUSIVE, "backward", message="at a pole (JAX: not finite): the derivative does not exist"
        )
    if forward:
        return near_singularity(ref.evaluation.singularities, "backward", tol.EXACT_KINK_MARGIN)
    return None


def contraction_rounding(terms: torch.Tensor, n: int) -> np.ndarray:
    """|error| of a float64 sum of ``n`` products whose absolute sum is ``terms`` (a generous 4·n·eps bound)."""
    bound = tol.CONTRACTION_ROUNDING_FACTOR * max(n, 1) * np.finfo(np.float64).eps
    return bound * terms.detach().to("cpu", torch.float64).numpy()


def vmap_limitation(what: str, call):
    """Run a vmap-based transform (vmap, jacfwd, jacrev); a documented vmap limitation is INCONCLUSIVE."""
    try:
        return call(), None
    except RuntimeError as exc:
        if VMAP_UNSUPPORTED.search(str(exc)):
            return None, Outcome(
                Verdict.INCONCLUSIVE, "vmap", message=f"{what}: documented vmap limitation: {exc}"[:500]
            )
        raise


def contract_out(jac: torch.Tensor, u: torch.Tensor, out_ndim: int) -> torch.Tensor:
    """uᵀJ for one leaf's Jacobian block (shape out + leaf)."""
    dims = list(range(out_ndim))
    return torch.tensordot(u, jac, dims=(dims, dims)) if out_ndim else u * jac


def contract_in(jac: torch.Tensor, v: torch.Tensor, out_ndim: int) -> torch.Tensor:
    """J v for one leaf's Jacobian block."""
    leaf_dims = list(range(out_ndim, jac.dim()))
    return torch.tensordot(jac, v, dims=(leaf_dims, list(range(v.dim())))) if v.dim() else jac * v


def tangent_matches_jax(ex: Example, jv: torch.Tensor, rounding: np.ndarray | None, what: str) -> Outcome:
    """A transform's J v (v: ``checks.scaled_direction``) against JAX's JVP; INCONCLUSIVE at a kink."""
    ref = checks.reference(ex)
    shape = ref.evaluation.output.shape
    extra = rounding.reshape(shape) if rounding is not None else 0.0
    tangent = arrays_match(
        [to_numpy(jv, shape)],
        [ref.evaluation.output_tangent],
        rtol=tol.jax_rtol(ex.tree.ops),
        oracle="jax",
        what=what,
        oracle_error=lambda: [ref.jvp_sensitivity + extra],  # computed only if needed
        seed_scale=max_abs(*checks.scaled_direction(ex)),
    )
    return near_singularity(ref.evaluation.singularities, "jax", tol.EXACT_KINK_MARGIN) or tangent


def jacobian_matches(ex: Example, jacs: tuple[torch.Tensor, ...], what: str, *, forward: bool) -> list[Outcome]:
    """A Jacobian (one block per input, output + input shaped) through its contractions: uᵀJ against
    plain backward and the oracles (``against``), J v against JAX's JVP, each with its rounding bound."""
    u = ex.tensor(ex.cotangent)
    gs = [to_numpy(contract_out(j, u, u.dim()), s) for j, s in zip(jacs, ex.tree.leaf_shapes)]
    rounding = [contraction_rounding(contract_out(j.abs(), u.abs(), u.dim()), u.numel()) for j in jacs]
    v = checks.scaled_direction(ex)
    jv = sum(contract_in(j, ex.tensor(d), u.dim()) for j, d in zip(jacs, v))
    jv_abs = sum(contract_in(j.abs(), ex.tensor(np.abs(d)), u.dim()) for j, d in zip(jacs, v))
    jv_rounding = contraction_rounding(jv_abs, sum(d.size for d in v))
    return [
        tangent_matches_jax(ex, jv, jv_rounding, f"{what} · v"),
        *against(ex, gs, f"uᵀ·{what}", forward=forward, rounding=rounding),
    ]


def identity_with_backward(ex: Example, jv: np.ndarray, what: str) -> Outcome:
    """⟨u, J v⟩ (J v from ``what``) = ⟨Jᵀu, v⟩ with plain backward's Jᵀu; INCONCLUSIVE where they may differ."""
    return unclear(ex, forward=True) or dot_product_identity(
        ex.cotangent,
        jv,
        plain_backward(ex),
        checks.scaled_direction(ex),
        ops=ex.tree.ops,
        dtype=ex.dtype,
        oracle="backward",
        what=f"⟨u, {what}⟩ = ⟨y.backward(u) gradient, v⟩",
    )


def vmap_vjp_matches(batch: list[Example]) -> list[Outcome]:
    """``torch.func.vmap`` of f and of its vjp over a batch of examples of one tree: each member's value is its
    unbatched f, and its Jᵀu is its own backward and oracles (``against``).  Each outcome names its member
    (``details["member"]``: judge the member ``vmap_member`` picks, whose repro replays it as a batch of one).
    A member at a pole may make the whole batched call raise: the batch is then INCONCLUSIVE, as is a tree that
    meets a documented vmap limitation."""
    tree = batch[0].tree
    f, n = tree.torch_fn(), tree.arity

    def inputs(ex: Example) -> list[torch.Tensor]:
        return ex.leaves(layouts=False, requires_grad=False)

    def member_vjp(*args: torch.Tensor) -> tuple[torch.Tensor, ...]:
        _, pullback = torch.func.vjp(f, *args[:n])
        return pullback(args[n])

    def run() -> list[Outcome]:
        stacked = [torch.stack(xs) for xs in zip(*(inputs(ex) for ex in batch))]
        us = torch.stack([ex.tensor(ex.cotangent) for ex in batch])
        both, limited = vmap_limitation(
            "torch.func.vmap", lambda: (torch.func.vmap(f)(*stacked), torch.func.vmap(member_vjp)(*stacked, us))
        )
        if limited:
            return [limited]
        values, grads = both
        outcomes = []
        for b, ex in enumerate(batch):
            unbatched = to_numpy(f(*inputs(ex)), tuple(values.shape[1:]))
            member = [
                arrays_match(
                    [to_numpy(values[b], unbatched.shape)],
                    [unbatched],
                    rtol=tol.transform_rtol(tree.ops),
                    oracle="unbatched",
                    what=f"vmap(f) member {b} vs f",
                ),
                *against(ex, [to_numpy(g[b], s) for g, s in zip(grads, tree.leaf_shapes)], f"vmap(vjp) member {b}"),
            ]
            outcomes += [replace(o, details={**o.details, "member": b}) for o in member]
        return outcomes

    at_pole = next((p for p in map(checks.pole, batch) if p), None)
    return at_pole or checks.guarded("torch", "torch.func.vmap", run)


def vmap_member(batch: list[Example], outcomes: list[Outcome]) -> Example:
    """The member of a vmapped batch that the worst outcome is about (the first, for a batch-wide outcome)."""
    return batch[int(worst(outcomes).details.get("member", 0))]
