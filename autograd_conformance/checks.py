"""The gradient properties, each a function from an Example to Outcomes (one per oracle).

``vjp_matches_oracles``       y.backward(u) (or a scalar loss) vs every registered oracle (JAX, finite differences)
``jvp_matches_oracles``       forward mode (dual tensors; torch.func.jvp on the func and compile paths) vs every
                              registered oracle, and the dot-product identity
``second_order_matches_jax``  double backward vs every exact oracle with second derivatives (JAX)
``reduced_precision_matches_float64``  the float32, bfloat16 or float16 gradient vs the float64 reference (JAX)
                              at the same inputs
``autocast_matches_float64``  gradients under torch.autocast(bfloat16) vs the float64 reference
``layout_is_irrelevant``      non-contiguous inputs give the contiguous gradient
``variants_agree``            an op's other spellings (alias, method, operator form) give its value and gradients

torch's side of each comparison comes from ``autograd_conformance.torch_runs``; the oracles from the
registry in ``autograd_conformance.oracles`` (``consulted``), the shared JAX evaluation, the point's
singularities and the FD memo from ``autograd_conformance.oracles.orchestration``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch

import autograd_conformance.oracles.builtin  # noqa: F401 - registers JAX, then FD: the oracles the properties consult
from autograd_conformance import tolerances as tol
from autograd_conformance import torch_runs
from autograd_conformance.compare import arrays_match, max_abs, scalars_match
from autograd_conformance.example import Example, to_numpy
from autograd_conformance.execution import TF32_RTOL_PER_OP, tf32_applies, torch_callable
from autograd_conformance.identities import dot_product_identity, inner_product
from autograd_conformance.memo import CheckMemo
from autograd_conformance.oracles import DirectionalOracle, Estimate, ExactOracle, Oracle, consulted, fd
from autograd_conformance.oracles.orchestration import pole, reference
from autograd_conformance.oracles.orchestration import (
    scaled_direction as scaled_direction,  # suites: checks.scaled_direction
)
from autograd_conformance.registry import low_precision
from autograd_conformance.registry.complex import split_direction
from autograd_conformance.singularities import Singularities, near_singularity
from autograd_conformance.tree import single_op_tree
from autograd_conformance.verdict import Outcome, Verdict


def guarded(oracle: str, what: str, fn: Callable[[], list[Outcome]]) -> list[Outcome]:
    """Run a check; torch raising where it should not is an ERROR verdict, not a crash."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - every torch exception becomes a verdict
        return [Outcome(Verdict.ERROR, oracle, message=f"{what}: torch raised {type(exc).__name__}: {exc}")]


def _conditioned(ex: Example, eps: float) -> float:
    """What an op of the tree that is ill-conditioned here adds to a tolerance in a dtype of machine epsilon
    ``eps`` (``OpSpec.conditioning``, ``tol.CONDITIONING_FACTOR``); 0 where no op declares conditioning."""
    return tol.CONDITIONING_FACTOR * eps * reference(ex).amplification


def _cannot_tell(ex: Example, oracle: str, conditioned: float, useful: float) -> Outcome | None:
    """INCONCLUSIVE where rounding alone, amplified by an ill-conditioned op, reaches ``useful``."""
    if conditioned <= useful:
        return None
    message = f"an op of the tree amplifies {ex.dtype} rounding {reference(ex).amplification:.3g}x here (OpSpec.conditioning): cannot tell"
    return Outcome(Verdict.INCONCLUSIVE, oracle, message=message)


def _rtol(oracle: Oracle, ex: Example) -> float:
    """The oracle's tolerance for the tree, widened where an op of it is ill-conditioned here."""
    return oracle.rtol(ex.tree.ops) + _conditioned(ex, fd.EPS)


def _ill_conditioned(oracle: Oracle, ex: Example) -> Outcome | None:
    """INCONCLUSIVE where float64 rounding, amplified by an ill-conditioned op, reaches ``tol.FD_USEFUL``."""
    return _cannot_tell(ex, oracle.name, _conditioned(ex, fd.EPS), tol.FD_USEFUL)


def _elementwise(
    oracle: ExactOracle, expected: Estimate, actual: list[np.ndarray], ex: Example, what: str, seed_scale: float
) -> Outcome:
    """torch's arrays against an exact oracle's, element by element, at the oracle's tolerance for the tree."""
    return _ill_conditioned(oracle, ex) or arrays_match(
        actual,
        expected.values,
        rtol=_rtol(oracle, ex),
        oracle=oracle.name,
        what=what,
        oracle_error=expected.error,
        seed_scale=seed_scale,
    )


def _directional(
    oracle: DirectionalOracle,
    ex: Example,
    v: list[np.ndarray],
    grads: list[np.ndarray],
    value: float,
    scale: float,
    what: str,
) -> Outcome:
    """torch's ⟨u, J v⟩ (``value``, at ``scale``) against a directional oracle's (its rounding correction uses
    torch's Jᵀu, ``grads``)."""
    estimate = oracle.directional(ex, v, grads)
    return _ill_conditioned(oracle, ex) or scalars_match(
        value,
        estimate.value,
        scale=scale,
        rtol=_rtol(oracle, ex),
        oracle_error=estimate.error,
        useful=oracle.useful,
        oracle=oracle.name,
        what=what,
    )


def _near_kink(point: Singularities, oracle: Oracle) -> Outcome | None:
    """INCONCLUSIVE against ``oracle`` where the point is within its reach of a kink (or off a domain, or at a pole)."""
    return near_singularity(point, oracle.name, oracle.kink_margin)


def vjp_matches_oracles(
    ex: Example, *, seeded: bool = True, torch_vjp: list[np.ndarray] | None = None, exact_only: bool = False
) -> list[Outcome]:
    """Reverse mode in float64 against each consulted oracle: elementwise (JAX) or along v (finite differences).

    ``torch_vjp``: torch's Jᵀu computed by another route (a torch.func transform, a compiled
    function), judged instead of ``y.backward(u)`` on the example's path.  ``exact_only``: consult only
    the exact oracles (at the tails of a domain, where a finite-difference step spans whole periods).
    """
    if at_pole := pole(ex):
        return at_pole
    what = "y.backward(u)" if seeded else "(y * u).sum().backward()"
    ref = reference(ex)
    v = ref.direction
    point = ref.evaluation.singularities

    def run() -> list[Outcome]:
        grads = torch_runs.vjp_to_judge(ex, torch_vjp, seeded=seeded)
        outcomes = []
        for oracle in _consulted(ex, exact_only):
            kink = _near_kink(point, oracle)
            if isinstance(oracle, ExactOracle):
                outcomes.append(kink or _elementwise(oracle, oracle.vjp(ex), grads, ex, what, max_abs(ex.cotangent)))
            elif isinstance(oracle, DirectionalOracle):
                for part, vp in split_direction(ex.tree, v):
                    value, terms = inner_product(grads, vp)
                    outcomes.append(
                        kink or _directional(oracle, ex, vp, grads, value, terms, f"⟨{what} gradient, v⟩{part}")
                    )
        return outcomes

    return guarded("torch", what, run)


def _consulted(ex: Example, exact_only: bool) -> list:
    return [o for o in consulted(ex.tree) if isinstance(o, ExactOracle) or not exact_only]


def jvp_matches_oracles(ex: Example, *, exact_only: bool = False) -> list[Outcome]:
    """Forward mode (see ``torch_runs.torch_jvp``) against each consulted oracle (``exact_only``: as in
    ``vjp_matches_oracles``), and torch's own reverse mode.

    On a kink (an exact oracle's margin) forward mode may follow another one-sided convention than
    any oracle: the check stops there, INCONCLUSIVE.
    """
    if at_pole := pole(ex):
        return at_pole
    ref = reference(ex)
    v = ref.direction
    point = ref.evaluation.singularities

    def run() -> list[Outcome]:
        jvp_out, what = torch_runs.torch_jvp(ex, v)
        jvp_np = to_numpy(jvp_out, ref.evaluation.output.shape)
        outcomes = []
        for oracle in _consulted(ex, exact_only):
            kink = _near_kink(point, oracle)
            if isinstance(oracle, ExactOracle):
                if kink:
                    return [*outcomes, kink]
                expected = oracle.jvp(ex)
                if expected is not None:
                    outcomes.append(_elementwise(oracle, expected, [jvp_np], ex, what, max_abs(*v)))
            elif isinstance(oracle, DirectionalOracle):
                grads = torch_runs.torch_vjp(ex, seeded=True)
                for part, vp in split_direction(ex.tree, v):
                    # J is linear in v: J·v_part by forward mode is the part's share of J v
                    part_jvp = jvp_np if vp is v else to_numpy(torch_runs.torch_jvp(ex, vp)[0], jvp_np.shape)
                    u_dot, u_terms = inner_product([ex.cotangent], [part_jvp])
                    outcomes.append(kink or _directional(oracle, ex, vp, grads, u_dot, u_terms, f"⟨u, {what}⟩{part}"))
        grads = torch_runs.torch_vjp(ex, seeded=True)
        outcomes.append(
            dot_product_identity(
                ex.cotangent,
                jvp_np,
                grads,
                v,
                ops=ex.tree.ops,
                dtype=ex.dtype,
                oracle="reverse",
                what="dot-product identity ⟨u, J v⟩ (forward) = ⟨Jᵀu, v⟩ (reverse)",
            )
        )
        return outcomes

    return guarded("torch", "forward mode", run)


def second_order_matches_jax(ex: Example) -> list[Outcome]:
    """∇ₓ⟨Jᵀu, w⟩ by double backward, against each consulted exact oracle that computes it (JAX)."""
    if at_pole := pole(ex):
        return at_pole
    point = reference(ex).evaluation.singularities

    def run() -> list[Outcome]:
        h = torch_runs.double_backward(ex)
        outcomes = []
        for oracle in consulted(ex.tree):
            try:
                expected = oracle.second_order(ex) if isinstance(oracle, ExactOracle) else None
            except Exception as exc:  # noqa: BLE001 - the reference's own raise, not torch's: an ERROR that says so
                message = f"double backward's reference: {oracle.name} raised {type(exc).__name__}: {exc}"
                outcomes.append(Outcome(Verdict.ERROR, oracle.name, message=message))
                continue
            if expected is None:
                continue
            outcomes.append(
                near_singularity(point, oracle.name, tol.SECOND_ORDER_KINK_MARGIN)
                or arrays_match(
                    h,
                    expected.values,
                    rtol=tol.SECOND_ORDER_FACTOR * oracle.rtol(ex.tree.ops),
                    oracle=oracle.name,
                    what="double backward",
                    oracle_error=expected.error,
                    seed_scale=max_abs(ex.cotangent) * max_abs(*ex.second),
                )
            )
        return outcomes

    return guarded("torch", "double backward", run)


def reduced_precision_matches_float64(ex: Example, *, torch_vjp: list[np.ndarray] | None = None) -> list[Outcome]:
    """The gradient in the example's reduced dtype (float32, bfloat16, float16), at inputs exact in it, against
    the float64 reference (JAX) at the same inputs.

    ``torch_vjp``: the gradient computed by another route, judged instead of ``y.backward(u)``.

    The oracle's error term is its sensitivity to input rounding of the dtype's size
    (``Reference.rounding_sensitivity``: a re-evaluation at inputs moved by one ulp), plus the tolerance
    applied to what cancels between a tied leaf's uses (``Reference.cancelled_between_uses``) and in a
    broadcast leaf's summed gradient (``Reference.cancelled_in_broadcast``); the tolerance
    is the dtype's (``tol.reduced_rtol``: per op, with calibrated overrides for bfloat16 and float16), widened
    where an op of the tree is ill-conditioned here (``OpSpec.conditioning``, ``tol.CONDITIONING_FACTOR`` eps of
    the dtype times it; past ``tol.REDUCED_CONDITIONING_LIMIT`` times the dtype's tolerance, INCONCLUSIVE).
    """
    if at_pole := pole(ex):
        return at_pole
    ref = reference(ex)
    what = f"{ex.dtype} gradient"

    def run() -> list[Outcome]:
        inconclusive = near_singularity(ref.evaluation.singularities, "float64", tol.REDUCED_KINK_MARGIN[ex.dtype])
        if inconclusive:
            return [inconclusive]
        if overflow := _beyond_range(ex.torch_dtype, ref.evaluation.magnitude, ref.vjp, ex.cotangent):
            return [Outcome(Verdict.INCONCLUSIVE, "float64", message=overflow)]
        conditioned = _conditioned(ex, tol.ROUNDING_EPS[ex.dtype])
        limit = tol.REDUCED_CONDITIONING_LIMIT * tol.REDUCED_RTOL_PER_OP[ex.dtype]
        if ill := _cannot_tell(ex, "float64", conditioned, limit):
            return [ill]

        rtol = tol.reduced_rtol(ex.tree.ops, ex.dtype) + conditioned

        def sensitivity() -> list[np.ndarray]:
            cancelled = zip(ref.cancelled_between_uses, ref.cancelled_in_broadcast)
            return [s + rtol * (c + b) for s, (c, b) in zip(ref.rounding_sensitivity, cancelled)]

        grads = torch_runs.vjp_to_judge(ex, torch_vjp, seeded=True)
        outcome = arrays_match(
            grads,
            ref.vjp,
            rtol=rtol,
            oracle="float64",
            what=what,
            oracle_error=sensitivity,
            seed_scale=max_abs(ex.cotangent),
        )
        if outcome.verdict is Verdict.FAIL and tf32_applies(ex.device, ex.dtype, [op.family for op in ex.tree.ops]):
            outcome = _tf32(outcome, grads, ref.vjp, sensitivity(), ex)
        return [outcome]

    return guarded("torch", f"{ex.dtype} backward", run)


def autocast_matches_float64(ex: Example) -> list[Outcome]:
    """Gradients of float32 leaves under ``torch.autocast(device, dtype=torch.bfloat16)`` against the float64
    oracle.  Where autocast runs an op of the tree in bfloat16 (``low_precision.AUTOCAST_BFLOAT16``) the
    gradient is held to bfloat16's tolerance, else to float32's.  The example is drawn exact in bfloat16,
    so both precisions see exactly its inputs.  The backward runs after the autocast region, as torch's
    documentation prescribes; run inside it, autocast lowered the matmuls of tensordot's and the nuclear
    norm's backward formulas to bfloat16 while their forwards stay float32 (found by the modes soak)."""
    lowered = any(op.name in low_precision.AUTOCAST_BFLOAT16 for op in ex.tree.ops)
    judged = replace(ex, dtype="bfloat16" if lowered else "float32")

    def run() -> list[Outcome]:
        grads = torch_runs.torch_vjp(ex, seeded=True, dtype="float32", autocast="bfloat16")
        return reduced_precision_matches_float64(judged, torch_vjp=grads)

    return guarded("torch", "backward under autocast", run)


def _beyond_range(dtype: torch.dtype, magnitude: float, grads: list[np.ndarray], seed: np.ndarray) -> str | None:
    """Why the dtype cannot represent this point's computation (a value, the gradient, or the derivative the
    chain rule forms before it multiplies by the seed u, beyond its largest finite number, so it overflows to
    inf as IEEE says), or None.  Found by the soak: at x = 2.5, sinh(sinh(sinh(x))) is 1e92 and its gradient
    2e94, and float32's inf there is right, not a wrong gradient; at x = 0.03125, polygamma(1, x)'s derivative
    is -65536, past float16's 65504, though u = 0.27 times it is not.  The derivative is |g| / |u| element by
    element where the gradient has the seed's shape (exact for an elementwise op), else max |g| / max |u|."""
    largest = float(torch.finfo(dtype).max)
    finite = [np.where(np.isfinite(g), g, 0.0) for g in grads]
    u = np.abs(np.asarray(seed, dtype=np.float64))
    derivative = max(
        (float(np.max(np.abs(g)[u > 0] / u[u > 0], initial=0.0)) if g.shape == u.shape
         else max_abs(g) / max(float(u.max(initial=0.0)), 1e-300))
        for g in finite
    ) if finite else 0.0  # fmt: skip
    top = max(magnitude, max_abs(*finite), derivative)
    if top > largest:
        return f"the tree or its gradient reaches {top:.3g} here, beyond {dtype}'s range ({largest:.3g}): the check cannot tell"
    return None


def _tf32(strict: Outcome, grads: list[np.ndarray], expected: list[np.ndarray], sensitivity, ex: Example) -> Outcome:
    """TF32 is on (a setting the run record shows): within TF32 rounding is CONVENTION, beyond it FAIL naming TF32."""
    rtol = TF32_RTOL_PER_OP * max(1, ex.tree.size)
    loose = arrays_match(grads, expected, rtol=rtol, oracle="float64", what="float32 gradient (TF32 on)",
                         oracle_error=sensitivity, seed_scale=max_abs(ex.cotangent))  # fmt: skip
    if loose.verdict is Verdict.PASS:
        return Outcome(Verdict.CONVENTION, "float64", strict.error, rtol,
                       f"TF32: within TF32 rounding ({rtol:.2g}) but not float32's; {strict.message}")  # fmt: skip
    return Outcome(Verdict.FAIL, "float64", loose.error, rtol, f"beyond TF32 rounding (TF32 is on): {loose.message}")


def layout_is_irrelevant(ex: Example) -> list[Outcome]:
    """Non-contiguous leaves (transposed, step-sliced, expanded) give the contiguous leaves' gradient."""

    invalid = near_singularity(reference(ex).evaluation.singularities, "contiguous", tol.EXACT_KINK_MARGIN)
    if invalid:
        return [invalid]

    def run() -> list[Outcome]:
        strided = torch_runs.torch_vjp(ex, seeded=True, layouts=True)
        contiguous = torch_runs.torch_vjp(ex, seeded=True, layouts=False)
        return [
            arrays_match(
                strided,
                contiguous,
                rtol=tol.LAYOUT_RTOL[ex.dtype],
                oracle="contiguous",
                what=f"gradient with layouts {ex.layouts}",
                seed_scale=max_abs(ex.cotangent),
            )
        ]

    return guarded("torch", "backward on non-contiguous inputs", run)


def variants_agree(ex: Example) -> list[Outcome]:
    """Each other spelling of a single-op example's op (``OpSpec.variants``) gives the same value, Jᵀu and,
    where torch has forward mode for it, J v as the op's own template, on the same inputs and seeds.

    OpInfo's variant consistency: torch.det and torch.linalg.det, x.sum() and torch.sum(x) reach
    the same function through different bindings, and a binding can be wrong on its own."""
    (node,) = ex.tree.nodes
    op = node.op

    def spelled(template: str) -> Example:
        tree = single_op_tree(op.spelled(template), node.call, ex.tree.leaf_domains)
        return replace(ex, tree=tree, memo=CheckMemo())

    def value(e: Example) -> list[np.ndarray]:
        with torch.no_grad():
            return [to_numpy(torch_callable(e.tree, e.path)(*e.leaves(requires_grad=False)), None)]

    def tangent(e: Example) -> list[np.ndarray]:
        return [to_numpy(torch_runs.torch_jvp(e, ex.direction)[0], None)]

    def run() -> list[Outcome]:
        rtol = tol.VARIANT_RTOL[ex.dtype]
        primary_value, primary_vjp = value(ex), torch_runs.torch_vjp(ex, seeded=True)
        primary_jvp = tangent(ex) if op.forward_ad else None
        outcomes = []
        for template in op.variants:
            other = spelled(template)
            outcomes.append(
                arrays_match(value(other), primary_value, rtol=rtol, oracle="primary", what=f"{template}: value")
            )
            outcomes.append(
                arrays_match(torch_runs.torch_vjp(other, seeded=True), primary_vjp, rtol=rtol, oracle="primary",
                             what=f"{template}: Jᵀu", seed_scale=max_abs(ex.cotangent))
            )  # fmt: skip
            if primary_jvp is not None:
                outcomes.append(
                    arrays_match(tangent(other), primary_jvp, rtol=rtol, oracle="primary", what=f"{template}: J v",
                                 seed_scale=max_abs(*ex.direction))
                )  # fmt: skip
        return outcomes

    return guarded("torch", f"{op.name} spelled another way", run)
