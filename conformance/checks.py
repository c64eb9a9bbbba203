"""The gradient properties, each a function from an Example to Outcomes (one per oracle).

``vjp_matches_oracles``       y.backward(u) (or a scalar loss) vs JAX and finite differences
``jvp_matches_oracles``       forward mode (dual tensors; torch.func.jvp on the func and compile paths) vs JAX and
                              finite differences, and the dot-product identity
``second_order_matches_jax``  double backward vs JAX, and vs forward-over-reverse
``float32_matches_float64``   the float32 gradient vs the float64 oracle
``layout_is_irrelevant``      non-contiguous inputs give the contiguous gradient
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, cached_property

import numpy as np
import torch
from torch.autograd import forward_ad

from conformance import tolerances as tol
from conformance.compare import arrays_match, max_abs, scalars_match
from conformance.example import Example, to_numpy
from conformance.execution import TF32_RTOL_PER_OP, tf32_applies, torch_callable
from conformance.identities import dot_product_identity
from conformance.memo import FdEstimate, TorchVjpRun
from conformance.oracles import fd, jax_oracle
from conformance.singularities import near_singularity
from conformance.verdict import Outcome, Verdict


def guarded(oracle: str, what: str, fn: Callable[[], list[Outcome]]) -> list[Outcome]:
    """Run a check; torch raising where it should not is an ERROR verdict, not a crash."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - every torch exception becomes a verdict
        return [Outcome(Verdict.ERROR, oracle, message=f"{what}: torch raised {type(exc).__name__}: {exc}")]


def _torch_vjp(ex: Example, *, seeded: bool, dtype: str | None = None, layouts: bool = True) -> list[np.ndarray]:
    """torch's Jᵀu for the example's leaves (memoised: the checks of one example share it)."""
    run = TorchVjpRun(seeded, dtype, layouts)
    if run not in ex.memo.torch_vjp:
        ex.memo.torch_vjp[run] = _run_torch_vjp(ex, seeded=seeded, dtype=dtype, layouts=layouts)
    return ex.memo.torch_vjp[run]


def _vjp_to_judge(ex: Example, given: list[np.ndarray] | None, *, seeded: bool) -> list[np.ndarray]:
    """The Jᵀu a check judges: ``given`` (computed by another route), else torch's own backward."""
    if given is None:
        return _torch_vjp(ex, seeded=seeded)
    return [np.asarray(g, dtype=np.float64) for g in given]


def _run_torch_vjp(ex: Example, *, seeded: bool, dtype: str | None, layouts: bool) -> list[np.ndarray]:
    xs = ex.leaves(dtype=dtype, layouts=layouts)
    f = torch_callable(ex.tree, ex.path)
    u = ex.tensor(ex.cotangent, dtype=dtype)
    if ex.path == "func":  # torch.func.vjp instead of .backward()
        _, pullback = torch.func.vjp(f, *xs)
        return [to_numpy(g, s) for g, s in zip(pullback(u), ex.tree.leaf_shapes)]
    y = f(*xs)
    if seeded:
        y.backward(u)
    else:
        (y * u).sum().backward()
    return [to_numpy(x.grad, s) for x, s in zip(xs, ex.tree.leaf_shapes)]


def uses_dual_tensors(ex: Example) -> bool:
    """Which forward-mode API the jvp check calls: dual tensors when eager, else ``torch.func.jvp``."""
    return ex.path == "eager"


def _torch_jvp(ex: Example, tangents: list[np.ndarray]) -> tuple[torch.Tensor, str]:
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


def _fd(ex: Example, v: list[np.ndarray], grads: list[np.ndarray]) -> fd.Directional:
    """⟨u, J v⟩ by central differences (its rounding correction uses ``grads``): the forward-mode
    and reverse-mode checks of one example share it."""
    held = ex.memo.fd
    if held is None or held.grads is not grads or held.direction is not v:
        held = ex.memo.fd = FdEstimate(grads, v, _run_fd(ex, v, grads))
    return held.estimate


def _run_fd(ex: Example, v: list[np.ndarray], grads: list[np.ndarray]) -> fd.Directional:
    xs = [torch.tensor(x, dtype=torch.float64) for x in ex.inputs]
    vs = [torch.tensor(d, dtype=torch.float64) for d in v]
    gs = [torch.tensor(g, dtype=torch.float64) for g in grads]
    u = torch.tensor(ex.cotangent, dtype=torch.float64)
    magnitude = reference(ex).evaluation.magnitude
    noise = max(op.rtol.get("float64", 0.0) for op in ex.tree.ops) if ex.tree.ops else 0.0
    return fd.directional(ex.tree.torch_fn(), xs, vs, u, grad=gs, ops=ex.tree.size, magnitude=magnitude, op_noise=noise)


class Reference:
    """What JAX says about an example, computed once and shared by the checks that need it.

    Torch and JAX round differently inside the tree; where the tree cancels
    (``var`` of nearly equal values), that rounding is amplified.  Re-evaluating
    at inputs nudged by ``8·(ops+1)`` ulps (``tol.NUDGE_ULPS_PER_OP``) measures the
    amplification: it is the oracle's error term, so cancellation is not mistaken for a
    wrong gradient.
    The term only ever widens a tolerance, so it is computed when a comparison
    fails without it (``arrays_match`` takes it as a function): the verdicts are
    those of computing it always, at half the JAX calls.
    """

    def __init__(self, ex: Example):
        self._ex = ex
        self.direction = scaled_direction(ex)  # v, scaled to the inputs: the JVP's and FD's direction
        self.evaluation = jax_oracle.evaluate(ex.tree, ex.inputs, self.direction, ex.cotangent)
        self.vjp = self.evaluation.vjp(ex.cotangent)

    @cached_property
    def _nudged(self) -> jax_oracle.Evaluation:
        ex = self._ex
        nudged = nudge(ex.inputs, tol.NUDGE_ULPS_PER_OP * (ex.tree.size + 1) * fd.EPS, seed=len(ex.inputs))
        return jax_oracle.evaluate(ex.tree, nudged, self.direction, ex.cotangent)

    @cached_property
    def vjp_sensitivity(self) -> list[np.ndarray]:
        nudged = self._nudged.vjp(self._ex.cotangent)
        return [_finite(tol.SENSITIVITY_FACTOR * np.abs(a - b)) for a, b in zip(nudged, self.vjp)]

    @cached_property
    def jvp_sensitivity(self) -> np.ndarray:
        return _finite(tol.SENSITIVITY_FACTOR * np.abs(self._nudged.output_tangent - self.evaluation.output_tangent))


def nudge(inputs: list[np.ndarray], rel: float, *, seed: int) -> list[np.ndarray]:
    """Each element moved by ``rel`` relative, up or down at random (seeded): the oracle's error probe."""
    rng = np.random.default_rng(seed)
    return [x * (1 + rel * rng.choice([-1.0, 1.0], size=x.shape)) for x in inputs]


def reference(ex: Example) -> Reference:
    """JAX's value, JVP along v and VJP of u, with their rounding sensitivity (see ``Reference``)."""
    if ex.memo.reference is None:
        ex.memo.reference = Reference(ex)
    return ex.memo.reference


def _finite(a: np.ndarray) -> np.ndarray:
    return np.nan_to_num(a, nan=0.0, posinf=0.0)


def _pole(ex: Example) -> list[Outcome] | None:
    """Where the tree itself is not finite (1/0 upstream), torch raising or giving nan is not a gradient bug."""
    where = reference(ex).evaluation.singularities.pole
    if where:
        return [Outcome(Verdict.INCONCLUSIVE, "jax", message=f"the tree is not finite here (at {where}): a pole")]
    return None


def _dot(grads: list[np.ndarray], v: list[np.ndarray]) -> tuple[float, float]:
    """⟨g, v⟩ over all inputs, and Σ|g·v|: the scale its rounding is judged at."""
    return (
        sum(float(np.sum(g * d)) for g, d in zip(grads, v)),
        sum(float(np.sum(np.abs(g * d))) for g, d in zip(grads, v)),
    )


def _matches_fd(
    ex: Example,
    evaluation: jax_oracle.Evaluation,
    v: list[np.ndarray],
    grads: list[np.ndarray],
    value: float,
    scale: float,
    what: str,
) -> Outcome:
    """torch's directional value against central differences along v, unless a kink is in the FD step's reach."""
    inconclusive = near_singularity(evaluation.singularities, "fd", tol.FD_KINK_MARGIN)
    if inconclusive:
        return inconclusive
    estimate = _fd(ex, v, grads)
    return scalars_match(
        value,
        estimate.value,
        scale=scale,
        rtol=tol.fd_rtol(ex.tree.ops),
        oracle_error=estimate.error,
        useful=tol.FD_USEFUL,
        oracle="fd",
        what=what,
    )


def scaled_direction(ex: Example) -> list[np.ndarray]:
    return [d * np.maximum(1.0, np.abs(x)) for x, d in zip(ex.inputs, ex.direction)]


def vjp_matches_oracles(
    ex: Example, *, seeded: bool = True, torch_vjp: list[np.ndarray] | None = None
) -> list[Outcome]:
    """Reverse mode in float64 against JAX (elementwise) and finite differences (along v).

    ``torch_vjp``: torch's Jᵀu computed by another route (a torch.func transform, a compiled
    function), judged instead of ``y.backward(u)`` on the example's path.
    """
    if pole := _pole(ex):
        return pole
    what = "y.backward(u)" if seeded else "(y * u).sum().backward()"
    ref = reference(ex)
    v = ref.direction
    evaluation = ref.evaluation

    def run() -> list[Outcome]:
        grads = _vjp_to_judge(ex, torch_vjp, seeded=seeded)
        outcomes = []
        kink = near_singularity(evaluation.singularities, "jax", tol.EXACT_KINK_MARGIN)
        if kink:
            outcomes.append(kink)
        else:
            outcomes.append(
                arrays_match(
                    grads,
                    ref.vjp,
                    rtol=tol.jax_rtol(ex.tree.ops),
                    oracle="jax",
                    what=what,
                    oracle_error=lambda: ref.vjp_sensitivity,
                    seed_scale=max_abs(ex.cotangent),
                )
            )
        value, terms = _dot(grads, v)
        outcomes.append(_matches_fd(ex, evaluation, v, grads, value, terms, f"⟨{what} gradient, v⟩"))
        return outcomes

    return guarded("torch", what, run)


def jvp_matches_oracles(ex: Example) -> list[Outcome]:
    """Forward mode (see ``_torch_jvp``) against JAX, finite differences, and torch's own reverse mode."""
    if pole := _pole(ex):
        return pole
    ref = reference(ex)
    v = ref.direction
    evaluation = ref.evaluation

    def run() -> list[Outcome]:
        jvp_out, what = _torch_jvp(ex, v)
        jvp_np = to_numpy(jvp_out, evaluation.output.shape)
        kink = near_singularity(evaluation.singularities, "jax", tol.EXACT_KINK_MARGIN)
        if kink:
            return [kink]
        outcomes = [
            arrays_match(
                [jvp_np],
                [evaluation.output_tangent],
                rtol=tol.jax_rtol(ex.tree.ops),
                oracle="jax",
                what=what,
                oracle_error=lambda: [ref.jvp_sensitivity],
                seed_scale=max_abs(*v),
            )
        ]
        u_dot = float(np.sum(ex.cotangent * jvp_np))
        u_terms = float(np.sum(np.abs(ex.cotangent * jvp_np)))
        grads = _torch_vjp(ex, seeded=True)
        outcomes.append(_matches_fd(ex, evaluation, v, grads, u_dot, u_terms, f"⟨u, {what}⟩"))
        outcomes.append(
            dot_product_identity(
                ex.cotangent,
                jvp_np,
                grads,
                v,
                ops=ex.tree.ops,
                dtype=ex.dtype,
                floor=float(np.abs(ex.cotangent).sum()) * max_abs(*v),
                oracle="reverse",
                what="dot-product identity ⟨u, J v⟩ (forward) = ⟨Jᵀu, v⟩ (reverse)",
            )
        )
        return outcomes

    return guarded("torch", "forward mode", run)


def second_order_matches_jax(ex: Example) -> list[Outcome]:
    """∇ₓ⟨Jᵀu, w⟩ by double backward, against JAX and against torch's forward-over-reverse."""
    if pole := _pole(ex):
        return pole
    evaluation = reference(ex).evaluation

    def run() -> list[Outcome]:
        xs = ex.leaves()
        y = torch_callable(ex.tree, ex.path)(*xs)
        grads = torch.autograd.grad(y, xs, ex.tensor(ex.cotangent), create_graph=True, allow_unused=True)
        s = sum((g * ex.tensor(w)).sum() for g, w in zip(grads, ex.second) if g is not None and g.requires_grad)
        if not isinstance(s, torch.Tensor):  # the first derivative is constant: the Hessian is zero
            h = [np.zeros(sh) for sh in ex.tree.leaf_shapes]
        else:
            hs = torch.autograd.grad(s, xs, allow_unused=True)
            h = [to_numpy(g, sh) for g, sh in zip(hs, ex.tree.leaf_shapes)]
        expected = jax_oracle.second_order(ex.tree, ex.inputs, ex.cotangent, ex.second)
        rtol = tol.SECOND_ORDER_FACTOR * tol.jax_rtol(ex.tree.ops)
        return [
            near_singularity(evaluation.singularities, "jax", tol.SECOND_ORDER_KINK_MARGIN)
            or arrays_match(
                h,
                expected,
                rtol=rtol,
                oracle="jax",
                what="double backward",
                seed_scale=max_abs(ex.cotangent) * max_abs(*ex.second),
            )
        ]

    return guarded("torch", "double backward", run)


def float32_matches_float64(ex: Example, *, torch_vjp: list[np.ndarray] | None = None) -> list[Outcome]:
    """The float32 gradient at float32-exact inputs against the float64 oracle at the same inputs.

    ``torch_vjp``: the float32 Jᵀu computed by another route, judged instead of ``y.backward(u)``.

    The oracle's error term is its sensitivity to float32-sized input rounding,
    measured by re-evaluating at inputs perturbed by one float32 ulp.
    """
    if pole := _pole(ex):
        return pole
    evaluation = reference(ex).evaluation

    def run() -> list[Outcome]:
        inconclusive = near_singularity(evaluation.singularities, "float64", tol.FLOAT32_KINK_MARGIN)
        if inconclusive:
            return [inconclusive]
        expected = reference(ex).vjp

        @cache
        def sensitivity() -> list[np.ndarray]:
            nudged = nudge(ex.inputs, tol.FLOAT32_NUDGE, seed=0)
            zero = [np.zeros_like(x) for x in ex.inputs]
            nudged_grads = jax_oracle.evaluate(ex.tree, nudged, zero, ex.cotangent).vjp(ex.cotangent)
            return [tol.SENSITIVITY_FACTOR * np.abs(a - b) for a, b in zip(nudged_grads, expected)]

        grads = _vjp_to_judge(ex, torch_vjp, seeded=True)
        outcome = arrays_match(
            grads,
            expected,
            rtol=tol.float32_rtol(ex.tree.ops),
            oracle="float64",
            what="float32 gradient",
            oracle_error=sensitivity,
            seed_scale=max_abs(ex.cotangent),
        )
        if outcome.verdict is Verdict.FAIL and tf32_applies(ex.device, ex.dtype, [op.family for op in ex.tree.ops]):
            outcome = _tf32(outcome, grads, expected, sensitivity(), ex)
        return [outcome]

    return guarded("torch", "float32 backward", run)


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
        strided = _torch_vjp(ex, seeded=True, layouts=True)
        contiguous = _torch_vjp(ex, seeded=True, layouts=False)
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
