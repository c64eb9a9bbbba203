"""``check_op``: a user's op through the suite's properties, oracles and failure path, as one function call.

Each property is the suite's own (``autograd_conformance.checks``), run on examples drawn by the suite's
strategies (``autograd_conformance.strategies.examples.draw_op_example``) and judged by ``autograd_conformance.harness.judge``, the one
failure path every registry cell takes: a failing example raises an AssertionError carrying its repro,
Hypothesis shrinks it, and ``check_op`` re-raises the shrunk one as a single ``OpCheckError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import torch
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from autograd_conformance import checks, second_order, third_order, torch_runs
from autograd_conformance import tolerances as tol
from autograd_conformance.compare import scalars_match
from autograd_conformance.declare import (
    PROPERTIES,
    Conditioning,
    DeclarationError,
    DomainLike,
    InputsLike,
    NearKink,
    UserOp,
    declare_op,
    largest_inside,
)
from autograd_conformance.example import Example
from autograd_conformance.facts import FailureFacts
from autograd_conformance.harness import judge
from autograd_conformance.identities import inner_product
from autograd_conformance.known import known_bug
from autograd_conformance.oracles import fd
from autograd_conformance.oracles.orchestration import pole, reference, scaled_direction
from autograd_conformance.registry.spec import REALS
from autograd_conformance.reports.recorder import Recorder
from autograd_conformance.run_options import RunOptions
from autograd_conformance.singularities import near_singularity
from autograd_conformance.strategies import labelled
from autograd_conformance.strategies.examples import draw_example, draw_op_example
from autograd_conformance.transforms import vmap_member, vmap_vjp_matches
from autograd_conformance.verdict import Outcome, Verdict

# Per property: the dtype its examples are drawn in, and what else they carry (autograd_conformance.example).
DRAWS: dict[str, tuple[str, dict[str, bool]]] = {
    "vjp": ("float64", {}),
    "jvp": ("float64", {}),
    "second_order": ("float64", {"second": True}),
    **{mode: ("float64", {"second": True}) for mode in second_order.COMPOSITIONS},
    **{mode: ("float64", {"third": True}) for mode in third_order.PROPERTIES},
    "float32": ("float32", {}),
    "layout": ("float64", {"layouts": True}),
    "func.vmap": ("float64", {}),
    "compile.vjp": ("float64", {}),
    "opcheck": ("float64", {}),
}
PATHS = {"func.vmap": "func", "compile.vjp": "compile"}  # the execution path (autograd_conformance.execution) if not eager
VMAP_BATCH = 3  # members of one vmapped batch, as in the suite's func.vmap (suites/test_func_transforms.py)
COMPILE_EXAMPLES = 5  # at most, as in the suite's compile cells: Inductor takes seconds per compiled shape
DEFAULT_EXAMPLES = 25  # the suite's default profile (autograd_conformance.profiles): a local run's examples per cell
REPRO_NOTE = "Repro (paste and run):\n"


class OpCheckError(AssertionError):
    """A property of the op fails: its name, the verdict, and the shrunk example's paste-and-run repro.

    ``facts``: the shrunk example's facts (``autograd_conformance.facts``: input region, parameters, error band),
    the vocabulary a baseline's ``where`` scope is written in; None for a blind property."""

    def __init__(self, op: str, prop: str, message: str, repro: str | None, facts: FailureFacts | None = None):
        self.op, self.property, self.repro, self.facts = op, prop, repro, facts
        text = f"check_op({op}): property {prop!r} fails\n{message.rstrip()}"
        if repro:
            text += f"\n\n{REPRO_NOTE}{repro}"
        super().__init__(text)


def check_op(
    fn: Callable[..., torch.Tensor],
    *,
    inputs: InputsLike,
    domain: DomainLike | Sequence[DomainLike] = REALS,
    kinks: Sequence[float] = (),
    near_kink: NearKink | None = None,
    jax_ref: Callable[..., Any] | None = None,
    rtol: Mapping[str, float] | None = None,
    conditioning: Conditioning | None = None,
    properties: str | Sequence[str] = "all",
    max_examples: int = DEFAULT_EXAMPLES,
    seed: int | None = None,
    name: str | None = None,
) -> dict[str, str]:
    """Check ``fn``'s derivatives on random inputs; raise ``OpCheckError`` with a shrunk repro on the first failure.

    ``fn``: a function of torch ops, ``MyFunction.apply`` or a ``torch.library.custom_op``.  ``inputs``,
    ``domain``, ``kinks``, ``near_kink``, ``jax_ref``, ``rtol``, ``conditioning``, ``name``: the declaration
    (``declare_op``).
    ``properties``: "all" (every one the op has rules for) or names from ``PROPERTIES``.  ``max_examples``: examples per property.
    ``seed``: a fixed Hypothesis seed (default: random).  Tolerances are the suite's calibrated
    ones (plus ``rtol``).

    Returns each property's verdict ("pass", "inconclusive", ...), why it was not run, or the known torch bug
    (``autograd_conformance.known``) that made it fail ("known torch bug: ...").
    """
    op = declare_op(
        fn,
        inputs=inputs,
        domain=domain,
        kinks=kinks,
        near_kink=near_kink,
        jax_ref=jax_ref,
        rtol=rtol,
        conditioning=conditioning,
        name=name,
    )
    chosen = selected(op, properties)
    verdicts = {p: f"not run: {why}" for p, why in op.unsupported.items() if properties == "all"}
    for prop in chosen:
        record = Recorder()
        try:
            run_property(op, prop, record, examples=max_examples, seed=seed)
        except AssertionError as exc:
            if bug := known_bug(fn, prop):
                verdicts[prop] = f"known {bug.reason}"
                continue
            notes = getattr(exc, "__notes__", [])
            repro = next((n.removeprefix(REPRO_NOTE) for n in notes if n.startswith(REPRO_NOTE)), None)
            draws = [n for n in notes if not n.startswith(REPRO_NOTE)]
            raise OpCheckError(op.name, prop, "\n".join([str(exc), *draws]), repro, record.failing_facts) from None
        if blind := record.blind():  # most examples undecided: the check saw next to nothing
            raise OpCheckError(op.name, prop, blind + "\n(narrow domain= or add kinks= so that examples decide)", None)
        verdicts[prop] = record.verdict()
    return {p: verdicts[p] for p in PROPERTIES if p in verdicts}  # in the order they are checked


def selected(op: UserOp, properties: str | Sequence[str]) -> list[str]:
    """The properties to run: "all" means every one the op supports; a named one it does not support is an error."""
    if properties == "all":
        return [p for p in PROPERTIES if op.supports(p)]
    names = [properties] if isinstance(properties, str) else list(properties)
    unknown = [p for p in names if p not in PROPERTIES]
    if unknown:
        raise DeclarationError(f"unknown properties {unknown}; check_op checks {', '.join(PROPERTIES)}")
    missing = {p: op.unsupported[p] for p in names if not op.supports(p)}
    if missing:
        raise DeclarationError(f"{op.name} cannot be checked for {missing}")
    return names


def run_property(
    op: UserOp,
    prop: str,
    record: Any,
    *,
    options: RunOptions = RunOptions(),
    examples: int | None = None,
    seed: int | None = None,
) -> None:
    """One property of ``op`` over Hypothesis examples, each judged into ``record`` (raises on a failure)."""
    dtype, extra = DRAWS[prop]
    options = replace(options, path=PATHS.get(prop, options.path))
    count = examples or settings().max_examples
    if prop == "compile.vjp":
        count = min(count, COMPILE_EXAMPLES)

    def one_example(data: st.DataObject) -> None:
        __tracebackhide__ = True
        draw = labelled(data)
        ex = draw_op_example(draw, op.spec, dtype, options=options, **extra)
        if prop == "func.vmap":  # a batch of inputs of the same call
            batch = [ex, *(draw_example(draw, ex.tree, dtype, options=options) for _ in range(VMAP_BATCH - 1))]
            params = ex.tree.nodes[0].call.kwargs
            assume(not any(op.spec.is_near_kink(m.inputs, params, tol.draw_kink_margin(dtype)) for m in batch))
            batch_outcomes = vmap_vjp_matches(batch)
            judge(record, prop, vmap_member(batch, batch_outcomes), batch_outcomes)
            return
        judge(record, prop, ex, outcomes(op, prop, ex))

    test = given(data=st.data())(one_example)
    test = settings(
        settings(),  # the loaded profile, then what every check_op run needs:
        max_examples=count,
        deadline=None,  # a user op's first call compiles its JAX reference
        report_multiple_bugs=False,  # one failure, the shrunk one
        # No explain phase: it traces coverage around the shrunk example (a planted wrong backward's check took
        # 10 s with it, 0.3-2 s without), and would name the suite's lines, not the user's.
        phases=[p for p in settings().phases if p is not Phase.explain],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )(test)
    if seed is not None:
        test = hypothesis_seed(seed)(test)
    test()


def outcomes(op: UserOp, prop: str, ex: Example) -> list[Outcome]:
    """The suite's check for ``prop``; second order without a JAX reference is judged by finite differences."""
    if prop == "vjp":
        return checks.vjp_matches_oracles(ex, seeded=True)
    if prop == "jvp":
        return checks.jvp_matches_oracles(ex)
    if prop == "second_order":
        return checks.second_order_matches_jax(ex) if op.spec.jax_is_reference else second_order_matches_fd(ex)
    held_to_jax = {
        second_order.FWD_REV: second_order.fwd_rev_matches_jax,
        second_order.REV_FWD: second_order.rev_fwd_matches_jax,
        second_order.FWD_FWD: second_order.fwd_fwd_matches_jax,
        "third_rev": third_order.third_rev_matches_jax,
        "third_fwd": third_order.third_fwd_matches_jax,
        "float32": checks.reduced_precision_matches_float64,
    }
    if prop in held_to_jax:
        return held_to_jax[prop](ex)
    if prop == "layout":
        return checks.layout_is_irrelevant(ex)
    if prop == "compile.vjp":  # the example's path is "compile": torch's Jᵀu is the compiled function's
        return checks.vjp_matches_oracles(ex, seeded=True)
    if prop == "opcheck":
        return registrations_hold(op, ex)
    raise DeclarationError(f"unknown property {prop!r}")


def registrations_hold(op: UserOp, ex: Example) -> list[Outcome]:
    """``torch.library.opcheck`` on the example's inputs (requiring grad): the op's schema, its autograd
    registration, its fake (meta) kernel and AOT dispatch, each a FAIL where opcheck finds it wrong."""

    def run() -> list[Outcome]:
        results = torch.library.opcheck(op.library_op, tuple(ex.leaves()), raise_exception=False)
        failed = {test: result for test, result in results.items() if result not in ("SUCCESS", "SKIP")}
        return [
            Outcome(Verdict.FAIL, "opcheck", message=f"torch.library.opcheck {test}: {_first_line(result)}")
            for test, result in failed.items()
        ] or [Outcome(Verdict.PASS, "opcheck", message=f"torch.library.opcheck: {', '.join(results)} hold")]

    return checks.guarded("torch", "torch.library.opcheck", run)


def _first_line(result: Any) -> str:
    text = str(result).strip().splitlines() or [""]
    return f"{type(result).__name__}: {text[0]}" if isinstance(result, BaseException) else text[0]


def second_order_matches_fd(ex: Example) -> list[Outcome]:
    """Double backward along v, ⟨∇ₓ⟨Jᵀu, w⟩, v⟩, against central differences along v of ⟨w, Jᵀu⟩, torch's own
    first derivative (gradgradcheck's idea, with the FD oracle's error estimate): where reverse mode passes
    against finite differences, this holds the second derivative to the first."""
    if at_pole := pole(ex):
        return at_pole
    point = reference(ex).evaluation.singularities

    def run() -> list[Outcome]:
        hessian_w = torch_runs.double_backward(ex)
        v = scaled_direction(ex)
        value, scale = inner_product(hessian_w, v)
        shapes = ex.tree.leaf_shapes

        def first_derivative(*xs: torch.Tensor) -> torch.Tensor:
            with torch.enable_grad():
                leaves = [x.detach().requires_grad_() for x in xs]
                y = ex.tree.torch_fn()(*leaves)
                grads = torch.autograd.grad(y, leaves, ex.tensor(ex.cotangent), allow_unused=True)
            return torch.cat(
                [(torch.zeros(s, dtype=torch.float64) if g is None else g).reshape(-1) for g, s in zip(grads, shapes)]
            )

        as64 = [torch.tensor(a, dtype=torch.float64) for a in ex.inputs]
        w = torch.cat([torch.tensor(a, dtype=torch.float64).reshape(-1) for a in ex.second])
        estimate = fd.directional(
            first_derivative,
            as64,
            [torch.tensor(d, dtype=torch.float64) for d in v],
            w,
            grad=[torch.tensor(h, dtype=torch.float64) for h in hessian_w],
            ops=2 * ex.tree.size,  # the forward and the backward pass round
            magnitude=_backward_magnitude(ex, as64),
        )
        return [
            near_singularity(point, "fd", tol.SECOND_ORDER_KINK_MARGIN)
            or scalars_match(
                value,
                estimate.value,
                scale=scale,
                rtol=tol.SECOND_ORDER_FACTOR * tol.fd_rtol(ex.tree.ops),
                oracle_error=estimate.error,
                useful=tol.FD_USEFUL,
                oracle="fd",
                what="⟨double backward, v⟩ against finite differences of torch's Jᵀu along v",
            )
        ]

    return checks.guarded("torch", "double backward", run)


def _backward_magnitude(ex: Example, inputs: list[torch.Tensor]) -> float:
    """The largest |value| inside torch's backward at ``inputs``: the first derivative's rounding is relative to it
    (not to the forward pass's values: log(cosh(x)) reaches cosh(4) = 27 where its backward, tanh, stays below 1)."""
    leaves = [x.detach().requires_grad_() for x in inputs]
    y = ex.tree.torch_fn()(*leaves)
    return largest_inside(lambda: torch.autograd.grad(y, leaves, ex.tensor(ex.cotangent), allow_unused=True))
