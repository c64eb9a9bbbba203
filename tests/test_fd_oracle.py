"""The finite-difference oracle: accurate on functions with known derivatives, and honest about its error."""

from __future__ import annotations

import math

import pytest
import torch

from autograd_conformance.oracles import fd

F64 = torch.float64


def _t(values) -> torch.Tensor:
    return torch.tensor(values, dtype=F64)


KNOWN = [
    # name, f, x, exact Jᵀu for u = ones
    ("sin", torch.sin, [0.3, 1.0, -2.0], lambda x: torch.cos(x)),
    ("exp", torch.exp, [0.0, 1.5, -3.0], lambda x: torch.exp(x)),
    ("cube", lambda x: x**3 + 3, [3.0, -0.5, 2.0], lambda x: 3 * x**2),
    ("log", torch.log, [0.5, 2.0, 10.0], lambda x: 1 / x),
]


@pytest.mark.parametrize("name, f, x, dfdx", KNOWN, ids=[k[0] for k in KNOWN])
def test_directional_matches_known_derivative(name, f, x, dfdx) -> None:
    x = _t(x)
    v = _t([0.25, -0.5, 1.0]) * x.abs().clamp(min=1.0)
    u = torch.ones(3, dtype=F64)
    est = fd.directional(f, [x], [v], u)
    exact = float((dfdx(x) * v).sum())
    assert abs(est.value - exact) <= 1e-9 * max(1.0, abs(exact)), f"{name}: FD {est.value!r} vs exact {exact!r}"
    assert abs(est.value - exact) <= 2 * est.error + 1e-15, (
        f"{name}: error {abs(est.value - exact):.3g} exceeds the estimate {est.error:.3g}"
    )
    assert est.error < 1e-6 * max(1.0, abs(exact)), f"{name}: estimate {est.error:.3g} too loose to be useful"


def test_the_notebook_example_x_cubed_plus_3_at_3_is_27() -> None:
    est = fd.directional(lambda x: x**3 + 3, [_t(3.0)], [_t(1.0) * 3], _t(1.0))
    assert math.isclose(est.value / 3, 27.0, rel_tol=1e-10), est


def test_two_inputs_and_a_matrix_product() -> None:
    a, b = _t([[1.0, 2.0], [3.0, 4.0]]), _t([[0.5, -1.0], [2.0, 0.25]])
    va, vb = _t([[1.0, 0.0], [0.5, -1.0]]), _t([[0.0, 1.0], [1.0, 1.0]])
    u = _t([[1.0, -2.0], [0.5, 1.0]])
    est = fd.directional(lambda x, y: x @ y, [a, b], [va, vb], u)
    exact = float((u * (va @ b + a @ vb)).sum())  # the product rule, exactly (bilinear: FD is exact up to rounding)
    assert abs(est.value - exact) < 1e-9, (est, exact)


def test_noisy_function_gets_a_large_error_estimate() -> None:
    """A forward that is only accurate to 1e-10 cannot support a 1e-9 verdict: the estimate must say so."""
    x = _t([0.7])
    est = fd.directional(torch.sin, [x], [_t([1.0])], _t([1.0]), op_noise=1e-10)
    assert est.error > 1e-6, f"op_noise 1e-10 divided by a ~6e-6 step must show in the estimate, got {est.error:.3g}"


def test_rounded_displacement_is_corrected_with_the_claimed_gradient() -> None:
    """Large |x| makes x ± t·v round; given the true gradient the estimate stays at truncation level."""
    x = _t([12345.678, -9876.54321])
    v = _t([1.0, 1.0]) * x.abs()
    u = _t([1.0, 1.0])
    est = fd.directional(torch.sin, [x], [v], u, grad=[torch.cos(x)])
    exact = float((torch.cos(x) * v).sum())
    assert abs(est.value - exact) <= 2 * est.error + 1e-12 * abs(exact), (est, exact)
