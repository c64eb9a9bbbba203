"""``autograd_conformance.check_op``: a right Function passes, planted wrong rules are caught by the property
that must catch them with a repro that reproduces, and a bad declaration is a clear error.

The planted faults are user-style Functions (``tests/faults/user_ops.py``); few examples keep this fast.
"""

from __future__ import annotations

import contextlib
import io

import jax.numpy as jnp
import pytest
import torch

from autograd_conformance import PROPERTIES, DeclarationError, OpCheckError, check_op, declare_op
from tests.faults.user_ops import BACKWARD_ERROR, FAULTS, Cube, CubeNoJvp, UserFault

NEEDS_LIBRARY = pytest.mark.skipif(
    not hasattr(torch.library, "custom_op"), reason="torch.library.custom_op is new in 2.4"
)

EXAMPLES = 8  # enough: every fault is wrong on almost every input


def cube_reference(x):
    return x**3


def test_a_right_function_passes_every_property() -> None:
    verdicts = check_op(Cube.apply, inputs=[(3,)], jax_ref=cube_reference, max_examples=EXAMPLES, seed=0)
    known = ("second_fwd_fwd", "third_fwd")  # pytorch/pytorch#197867: nested torch.func.jvp through a Function
    assert list(verdicts) == list(PROPERTIES)
    assert {p: v for p, v in verdicts.items() if p not in (*known, "opcheck")} == dict.fromkeys(
        [p for p in PROPERTIES if p not in (*known, "opcheck")], "pass"
    )
    assert all(verdicts[p].startswith("known torch bug pytorch/pytorch#197867") for p in known)
    assert verdicts["opcheck"].startswith("not run: not a torch.library op")


def test_without_a_jax_reference_finite_differences_judge_alone() -> None:
    checked = ["vjp", "jvp", "second_order", "layout"]
    verdicts = check_op(Cube.apply, inputs=[(2, 3)], properties=checked, max_examples=EXAMPLES, seed=0)
    assert verdicts == dict.fromkeys(checked, "pass")
    unsupported = declare_op(Cube.apply, inputs=[(2, 3)]).unsupported
    assert unsupported["float32"] == unsupported["third_rev"] == "needs jax_ref: it is held to JAX's derivatives"


def test_a_function_without_jvp_is_checked_in_reverse_mode_only() -> None:
    verdicts = check_op(CubeNoJvp.apply, inputs=[(3,)], properties=["vjp", "second_order"], max_examples=EXAMPLES)
    assert verdicts == {"vjp": "pass", "second_order": "pass"}
    unsupported = declare_op(CubeNoJvp.apply, inputs=[(3,)]).unsupported
    assert unsupported["jvp"].startswith("forward mode raised NotImplementedError")
    assert unsupported["second_rev_fwd"].startswith("needs forward mode: forward mode raised")
    assert unsupported["func.vmap"].startswith("torch.func.vmap of the op and of its vjp raised RuntimeError")
    with pytest.raises(DeclarationError, match="CubeNoJvp cannot be checked for .*jvp"):
        check_op(CubeNoJvp.apply, inputs=[(3,)], properties=["jvp"])


def _run_repro(repro: str) -> dict:
    scope: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(repro, "<repro>", "exec"), scope)  # noqa: S102 - the repro under test
    return scope


def _discrepancy(fault: UserFault, scope: dict) -> float:
    """How far the repro's own result is from the true derivative of x³ at its inputs (relative)."""
    x, u = scope["x0"].detach(), scope["u"]
    if fault.catches == "vjp":
        got, want = scope["x0"].grad, 3 * x * x * u
    elif fault.catches == "func.vmap":  # the member as a batch of one: its value (a wrong vmap rule's x²)
        got, want = scope["batched_value"], x**3
    elif fault.catches == "jvp":
        got, want = scope["jv"], 3 * x * x * scope["v0"]
    else:  # double backward of the repro's f, u and w0: ∇ₓ⟨Jᵀu, w⟩ = 6 x u w for x³
        xs = scope["x0"]
        (g,) = torch.autograd.grad(scope["f"](xs), (xs,), u, create_graph=True)
        (got,) = torch.autograd.grad((g * scope["w0"]).sum(), (xs,))
        want = 6 * x * u * scope["w0"]
    return float((got - want).abs().max() / want.abs().max())


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_a_planted_fault_is_caught_by_its_property_with_a_repro_that_reproduces(fault: UserFault) -> None:
    with pytest.raises(OpCheckError) as caught:
        check_op(fault.function.apply, inputs=[(3,)], max_examples=EXAMPLES, seed=0)
    failure = caught.value
    assert failure.property == fault.catches
    assert f"property {fault.catches!r} fails" in str(failure)
    assert failure.repro and f"from tests.faults.user_ops import {fault.function.__name__}" in failure.repro
    assert _discrepancy(fault, _run_repro(failure.repro)) > BACKWARD_ERROR / 2


def test_a_tiny_backward_error_is_caught_against_jax_too() -> None:
    (fault,) = [f for f in FAULTS if f.catches == "vjp"]
    with pytest.raises(OpCheckError, match="property 'vjp' fails\nvjp: FAIL against (jax|fd)"):
        check_op(fault.function.apply, inputs=[(3,)], jax_ref=cube_reference, max_examples=EXAMPLES, seed=0)


@NEEDS_LIBRARY
def test_a_torch_library_custom_op_with_register_autograd() -> None:
    @torch.library.custom_op("conformance_tests::cube", mutates_args=())
    def cube(x: torch.Tensor) -> torch.Tensor:
        return x**3

    cube.register_fake(torch.empty_like)  # what torch.compile and opcheck's fake-tensor test need
    cube.register_autograd(
        lambda ctx, g: g * 3 * ctx.x**2, setup_context=lambda ctx, inputs, output: setattr(ctx, "x", inputs[0])
    )
    checked = ["vjp", "second_order", "third_rev", "float32", "compile.vjp", "opcheck"]
    verdicts = check_op(cube, inputs=[(4,)], jax_ref=cube_reference, max_examples=EXAMPLES, seed=0)
    assert {p: verdicts[p] for p in checked} == dict.fromkeys(checked, "pass")
    # torch.library custom ops give forward mode no tangent and no error (torch 2.9 and 2.13): not checked
    assert verdicts["jvp"] == "not run: forward mode gives no tangent at all (None): the op has no forward-mode rule"


@NEEDS_LIBRARY
def test_opcheck_catches_a_wrong_fake_kernel_that_every_derivative_misses() -> None:
    from tests.faults.user_ops import cube_wrong_fake

    assert check_op(cube_wrong_fake, inputs=[(3,)], properties=["vjp", "second_order"], max_examples=EXAMPLES)
    with pytest.raises(OpCheckError) as caught:
        check_op(cube_wrong_fake, inputs=[(3,)], properties=["opcheck"], max_examples=EXAMPLES, seed=0)
    failure = caught.value
    assert failure.property == "opcheck" and "test_faketensor" in str(failure)
    assert "torch.library.opcheck(torch.ops.conformance_faults.cube_wrong_fake, (x0,))" in failure.repro
    assert "import tests.faults.user_ops" in failure.repro
    with pytest.raises(Exception, match="(?i)fake"):  # the repro raises opcheck's own error
        _run_repro(failure.repro)


@NEEDS_LIBRARY
def test_an_op_registered_through_torch_library_is_called_as_torch_ops() -> None:
    """An op defined with torch.library.define (how a C++ extension's op appears: torch.ops.<ns>.<op>)."""
    name = "conformance_tests::square"
    if not hasattr(torch.ops.conformance_tests, "square"):
        torch.library.define(name, "(Tensor x) -> Tensor")
        torch.library.impl(name, "CompositeExplicitAutograd")(lambda x: x * x)
        torch.library.register_fake(name)(lambda x: torch.empty_like(x))
        torch.library.register_autograd(
            name, lambda ctx, g: 2 * g * ctx.x, setup_context=lambda ctx, inputs, output: setattr(ctx, "x", inputs[0])
        )
    op = torch.ops.conformance_tests.square
    assert declare_op(op, inputs=[(3,)]).spec.torch == "torch.ops.conformance_tests.square({x})"
    verdicts = check_op(op, inputs=[(3,)], properties=["vjp", "opcheck"], max_examples=EXAMPLES, seed=0)
    assert verdicts == {"vjp": "pass", "opcheck": "pass"}


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        ({"inputs": (3,)}, r"an input shape is a tuple of sizes, like \(3,\) or \(2, 3\); got 3"),
        ({"inputs": []}, "inputs= declares 0 tensors; an op takes 1 to 4"),
        ({"inputs": [(3,)], "domain": (1.0, -1.0)}, r"domain \(1.0, -1.0\) is empty"),
        ({"inputs": [(3,)], "domain": [(0, 1), (0, 1)]}, "domain= gives 2 domains for 1 inputs"),
        ({"inputs": [(3,)], "domain": (0.0, 1.0), "kinks": [2.0]}, r"kinks \[2.0\] lie outside the domain"),
        ({"inputs": [(3,), (3,)]}, r"Cube raised on float64 inputs of shapes \[\(3,\), \(3,\)\]"),
        (
            {"inputs": [(3,)], "jax_ref": lambda x: jnp.sum(x)},
            r"jax_ref of Cube returns shape \(\), but Cube returns \(3,\)",
        ),
        ({"inputs": [(3,)], "properties": ["vjpp"]}, r"unknown properties \['vjpp'\]"),
    ],
)
def test_a_bad_declaration_is_a_clear_error(declaration: dict, message: str) -> None:
    with pytest.raises(DeclarationError, match=message):
        check_op(Cube.apply, max_examples=1, **declaration)


def test_the_probe_point_is_generic_and_takes_0_d_inputs() -> None:
    """The op is tried once at a pseudo-random point, another per input: a 4×2 least-squares problem has full
    rank there (a constant matrix has rank 1, and torch returns no residuals), and a 0-d input is a tensor."""

    def residuals(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.linalg.lstsq(a, b, driver="gelsd").residuals

    def reference(a, b):
        return jnp.sum((b - a @ (jnp.linalg.pinv(a) @ b)) ** 2, axis=0)

    assert declare_op(residuals, inputs=[(4, 2), (4, 2)], jax_ref=reference).unsupported.get("jvp") is None
    assert check_op(lambda x, y: x * y, inputs=[(), ()], jax_ref=lambda x, y: x * y, max_examples=3, seed=0)["vjp"] == "pass"
