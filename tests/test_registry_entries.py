"""Every registry entry is well formed and true to torch.

For each op, on float64 inputs inside its domain and away from its kinks:
the output has the shape the rule promised, the JAX callable computes the same
function, the VJPs agree, and the forward-mode / double-backward flags say what
torch 2.13 really does.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, Phase, assume, given, note, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_conformance.jaxsetup  # noqa: F401, I001  (x64 + CPU before jax)
from autograd_conformance.registry import OPS
from autograd_conformance.registry.spec import Call, Domain, OpSpec, make_call
from autograd_conformance.reports import baseline
from autograd_conformance.reports.results import default_label
from tests.helpers import ROOT

MARGIN = 1e-3  # relative distance kept from domain ends and kinks
BOUND = 8.0  # sampled magnitudes for unbounded domains
FORWARD_RTOL = 1e-10
VJP_RTOL = 1e-9
TERMS_FLOOR = 1e-4  # ×|cot| (VJP) or ×max|input| (forward): values that cancel to ~0 are judged against this floor

# Five examples per op and run (random: each CI run draws new ones).  At ten, this file took 1,950 of the
# project tests' 4,400 worker-seconds on 2 cores with 435 ops (twelfth session); every op's cells check
# its reference again in each suite run.
SETTINGS = settings(
    max_examples=5,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def _elements(domain: Domain) -> st.SearchStrategy[float]:
    low, high = (-1.0, 1.0) if domain.matrix else (max(domain.low, -BOUND), min(domain.high, BOUND))
    low += MARGIN * max(1.0, abs(low))
    high -= MARGIN * max(1.0, abs(high))
    # No subnormals: XLA on the CPU flushes them to zero, a JAX artefact rather than a torch finding.
    return st.floats(
        low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False, exclude_min=True, exclude_max=True
    )


def _leaf(draw, domain: Domain, shape, label: str) -> np.ndarray:
    a = draw(hnp.arrays(np.float64, shape, elements=_elements(domain), fill=st.nothing()), label)
    if domain.matrix:
        n = shape[-1]
        if domain.matrix == "spd":
            a = (a + np.swapaxes(a, -1, -2)) / 2
        elif domain.matrix != "well_conditioned":
            raise ValueError(f"unknown matrix structure {domain.matrix!r}")
        a = a + n * np.eye(n)
    return a


def _draw_example(data, op: OpSpec) -> tuple[Call, list[np.ndarray], tuple]:
    def draw(strategy, label):
        return data.draw(strategy, label=label)

    out = draw(op.rule.out_shapes().filter(op.rule.produces), "output shape")
    call = op.rule.draw(draw, out)
    extra = {name: draw(strategy, f"param {name}") for name, strategy in op.params.items()}
    call = make_call(call.input_shapes, **call.kwargs, **extra)
    arrays = [_leaf(draw, op.domain_of(i), s, f"input {i}") for i, s in enumerate(call.input_shapes)]
    return call, arrays, tuple(out)


def _rel_err(actual: np.ndarray, expected: np.ndarray, floor: float = 1e-300) -> float:
    """Max abs difference relative to the larger max abs value, or to ``floor`` when both are smaller."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    if actual.shape != expected.shape:
        return np.inf
    scale = max(float(np.max(np.abs(expected), initial=0.0)), float(np.max(np.abs(actual), initial=0.0)))
    err = float(np.max(np.abs(actual - expected), initial=0.0))
    return 0.0 if err == 0.0 else err / max(scale, floor)


def _context(op: OpSpec, call: Call, arrays) -> str:
    code = op.code(list("xyzw"[: op.arity]), call.kwargs)
    values = "\n".join(f"  {n} = torch.tensor({a.tolist()!r}, dtype=torch.float64)" for n, a in zip("xyzw", arrays))
    return f"op {op.name}: {code}\ncall {call}\ninputs:\n{values}"


# Real torch discrepancies this test finds are the suite's known findings: one source, the installed
# torch's baseline (baselines/torch-<version>.txt).  An op whose float64 first-order cells carry an
# entry is a non-strict xfail here, with that entry as the reason (hardsigmoid's float32(1/6);
# sinc's cancellation near 0, which only some draws reach; logcumsumexp's forward mode at wide spreads).
FIRST_ORDER = ("vjp", "scalar_backward", "jvp")


def known_finding(op: OpSpec, base: baseline.Baseline) -> str | None:
    """The baseline's entry for this op's float64 first-order cells, described, or None."""
    for entry in base.entries:
        for ident in entry.ids:
            prop, _, rest = ident.partition("/")
            if prop in FIRST_ORDER and rest.split("@")[0] == f"{op.name}/float64":
                return entry.describe()
    return None


KNOWN = baseline.load_for(ROOT / "baselines", default_label())  # the installed torch's, read once


def _cases(*, known: bool):
    """The ops with (``known``) or without a known finding in the installed torch's baseline."""
    for op in OPS:
        reason = known_finding(op, KNOWN)
        if bool(reason) == known:
            marks = [pytest.mark.xfail(reason=reason, strict=False)] if reason else []
            yield pytest.param(op, id=op.name, marks=marks)


@pytest.mark.parametrize("op", list(_cases(known=False)))
@SETTINGS
@given(data=st.data())
def test_registry_entry(op: OpSpec, data) -> None:
    check_entry(op, data)


# An op with a known finding is not shrunk again: its minimal repro is in the baseline, and shrinking the
# seven known ops' failures took about 540 worker-seconds of each project-test run (twelfth session).
@pytest.mark.parametrize("op", list(_cases(known=True)))
@settings(SETTINGS, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(data=st.data())
def test_registry_entry_with_a_known_finding(op: OpSpec, data) -> None:
    check_entry(op, data)


def check_entry(op: OpSpec, data) -> None:
    """One drawn example of ``op``: its shape rule, its JAX reference, its VJP and its mode flags."""
    call, arrays, out_shape = _draw_example(data, op)
    params = call.kwargs
    assume(not op.is_near_kink(arrays, params, MARGIN))
    ctx = _context(op, call, arrays)
    note(ctx)
    fn = op.torch_fn(call)

    # (a) torch's output shape is the one the rule promised
    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    assert tuple(out.shape) == out_shape, f"{ctx}\nrule promised shape {out_shape}, torch gave {tuple(out.shape)}"

    # (b) the JAX callable computes the same function
    rtol_f = max(FORWARD_RTOL, op.rtol.get("float64", 0.0))
    out_j, vjp_j = jax.vjp(lambda *a: op.jax(*a, **params), *[jnp.asarray(a) for a in arrays])
    out_t = out.detach().numpy()
    # Outputs that cancel to ~0 (gelu_tanh's 1 + tanh(z) far left) carry rounding from terms the size of the
    # inputs: measure their error against TERMS_FLOOR·max|input|, not against the tiny output itself.
    in_scale = max([1.0] + [float(np.max(np.abs(a), initial=0.0)) for a in arrays])
    err = _rel_err(out_t, np.asarray(out_j), floor=TERMS_FLOOR * in_scale)
    assert err <= rtol_f, f"{ctx}\nforward: torch {out_t!r}\n         jax   {np.asarray(out_j)!r}\nrelative error {err:.3g} > {rtol_f:g}"

    # (c) VJP with a random cotangent
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="cotangent seed"))
    cot = rng.standard_normal(out_shape)
    grads_t = torch.autograd.grad(out, tensors, torch.tensor(cot), allow_unused=True)
    grads_j = vjp_j(jnp.asarray(cot))
    rtol_b = max(VJP_RTOL, op.rtol.get("float64", 0.0))
    for i, (gt, gj) in enumerate(zip(grads_t, grads_j)):
        gt = np.zeros(arrays[i].shape) if gt is None else gt.numpy()
        # A gradient that cancels to ~0 (tanhshrink near 0, layer_norm of two far-apart values) is a sum of
        # terms the size of the cotangent: its error is measured against TERMS_FLOOR·|cot|, not against itself.
        err = _rel_err(gt, np.asarray(gj), floor=TERMS_FLOOR * float(np.max(np.abs(cot), initial=0.0)))
        assert err <= rtol_b, f"{ctx}\ncotangent {cot.tolist()!r}\nvjp wrt input {i}: torch {gt!r}\n                   jax   {np.asarray(gj)!r}\nrelative error {err:.3g} > {rtol_b:g}"

    # (d) forward mode: works iff flagged, and agrees with reverse mode (<u, J v> = <Jᵀu, v>)
    tangents = [torch.tensor(rng.standard_normal(a.shape)) for a in arrays]
    primals = [torch.tensor(a) for a in arrays]
    try:
        _, jv = torch.func.jvp(fn, tuple(primals), tuple(tangents))
        fwd_error = None
    except Exception as exc:  # noqa: BLE001 - any failure means "not supported"
        fwd_error = exc
    if op.forward_ad:
        assert fwd_error is None, f"{ctx}\nforward mode declared for {op.forward_ad_in} but torch.func.jvp raised {fwd_error!r}"
        lhs = float(np.sum(cot * jv.numpy()))
        rhs = sum(float(np.sum((np.zeros(a.shape) if g is None else g.numpy()) * t.numpy())) for g, t, a in zip(grads_t, tangents, arrays))
        scale = max(1.0, float(np.sum(np.abs(cot * jv.numpy()))))
        assert abs(lhs - rhs) <= VJP_RTOL * scale, f"{ctx}\n<u, Jv> = {lhs!r} but <Jᵀu, v> = {rhs!r}"
    else:
        assert fwd_error is not None, f"{ctx}\nforward mode declared for {op.forward_ad_in} only, but torch.func.jvp works here: widen forward_ad_in"

    # (e) double backward: works iff flagged
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    try:
        out = fn(*tensors)
        grads = torch.autograd.grad(out, tensors, torch.tensor(cot), create_graph=True, allow_unused=True)
        live = [(g, t) for g, t in zip(grads, tangents) if g is not None and g.requires_grad]
        if live:
            torch.autograd.grad(sum((g * t).sum() for g, t in live), tensors, allow_unused=True)
        dbl_error = None
    except Exception as exc:  # noqa: BLE001
        dbl_error = exc
    if op.double_backward:
        assert dbl_error is None, f"{ctx}\ndouble backward declared for {op.double_backward_in} but grad of grad raised {dbl_error!r}"
    else:
        assert dbl_error is not None, f"{ctx}\ndouble backward declared for {op.double_backward_in} only, but grad of grad works here: widen double_backward_in"
