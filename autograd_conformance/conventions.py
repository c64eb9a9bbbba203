"""Documented, deliberate differences between torch and JAX at non-differentiable points.

Each entry was measured (float64, CPU; torch 2.13.0 against JAX 0.10.2) and says
what each library returns for the derivative at the point.  Conventions change
between torch releases, so an entry may name the torch versions it holds for.
An op is subject to a convention when its registry entry names the key
(``OpSpec.conventions``): that is the one place which op follows which convention.
At a kink, torch and JAX may disagree only as documented here: an agreement is
PASS, a documented difference is CONVENTION, and anything else is FAIL -- either
torch changed its convention or a gradient is wrong.  To add an entry, measure
both values and give a source.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

from autograd_conformance.versions import EVERY_VERSION, Versions, version_tuple

if TYPE_CHECKING:
    from autograd_conformance.registry.spec import OpSpec

NAN = math.nan


class Convention(NamedTuple):
    key: str  # the ops it applies to name it in their registry entry: OpSpec.conventions
    point: str  # "x=0", "x=-0.5", "tie", "origin"
    torch: tuple[float, ...]  # d/d(input i) at the point, as torch computes it
    jax: tuple[float, ...]
    source: str
    versions: Versions = EVERY_VERSION  # the torch versions the entry holds for


_DERIVATIVES_YAML = "https://github.com/pytorch/pytorch/blob/main/tools/autograd/derivatives.yaml"

CONVENTIONS: tuple[Convention, ...] = (
    Convention(
        "abs_at_0",
        "x=0",
        (0.0,),
        (1.0,),
        f"{_DERIVATIVES_YAML} (abs: grad * self.sgn()); JAX: d|x| = sign-select with 1 at 0",
    ),
    Convention(
        "leaky_relu_at_0",
        "x=0",
        (0.1,),
        (1.0,),
        "torch leaky_relu_backward uses self > 0; jax.nn.leaky_relu uses where(x >= 0)",
    ),
    Convention(
        "rrelu_eval_at_0",
        "x=0",
        ((1 / 8 + 1 / 3) / 2,),
        (1.0,),
        "eval-mode rrelu is leaky_relu with slope (lower+upper)/2, taken at 0 by torch",
    ),
    Convention(
        "hardtanh_at_bound",
        "x=-1",
        (0.0,),
        (0.5,),
        "torch hardtanh_backward masks min_val < x < max_val; JAX clip splits ties",
    ),
    Convention(
        "hardtanh_at_bound",
        "x=1",
        (0.0,),
        (0.5,),
        "torch hardtanh_backward masks min_val < x < max_val; JAX clip splits ties",
    ),
    Convention(
        "clamp_at_bound",
        "x=-0.5",
        (1.0,),
        (0.5,),
        f"{_DERIVATIVES_YAML} (clamp: where(min <= self <= max)); jnp.clip splits ties",
    ),
    Convention(
        "clamp_at_bound",
        "x=0.5",
        (1.0,),
        (0.5,),
        f"{_DERIVATIVES_YAML} (clamp: where(min <= self <= max)); jnp.clip splits ties",
    ),
    Convention(
        "clamp_at_bound",
        "x=0.25",
        (1.0,),
        (0.5,),
        f"{_DERIVATIVES_YAML} (clamp_min: where(self >= min)); jnp.maximum splits ties",
    ),
    Convention(
        "clamp_tensor_tie",
        "tie",
        (1.0, 0.0),
        (0.5, 0.5),
        f"{_DERIVATIVES_YAML} (clamp_min.Tensor / clamp_max.Tensor: x takes the tie, where(self >= min)); "
        "jnp.maximum / jnp.minimum split ties",
    ),
    Convention(
        "i0_at_0",
        "x=0",
        (0.0,),
        (1.0,),
        "true i0'(0) = i1(0) = 0; jax.scipy.special.i0 = exp(|x|)·i0e(x) inherits abs's 1 at 0: an oracle artifact",
    ),
    Convention(
        "fmax_tie",
        "tie",
        (1.0, 0.0),
        (0.0, 1.0),
        f"{_DERIVATIVES_YAML} (fmax: self >= other goes to self); JAX picks the second",
    ),
    Convention(
        "atan2_at_origin",
        "origin",
        (0.0, 0.0),
        (NAN, NAN),
        "torch special-cases atan2(0, 0) to a zero gradient (nan before late 2025); JAX divides by x²+y²",
    ),
    Convention(
        "hardswish_at_bounds",
        "x=-3",
        (-0.5,),
        (0.0,),
        "torch before 2.9 takes hardswish's inner slope (2x + 3)/6 at both bounds (measured: 2.6.0 gives -0.5 at "
        "x = -3 and 1.5 at x = 3; 2.9.1 and 2.13.0 give JAX's 0 and 1; 2.7 and 2.8 unmeasured)",
        versions=Versions(until=(2, 9)),
    ),
    Convention(
        "hardswish_at_bounds",
        "x=3",
        (1.5,),
        (1.0,),
        "torch before 2.9 takes hardswish's inner slope (2x + 3)/6 at both bounds (measured: 2.6.0 gives -0.5 at "
        "x = -3 and 1.5 at x = 3; 2.9.1 and 2.13.0 give JAX's 0 and 1; 2.7 and 2.8 unmeasured)",
        versions=Versions(until=(2, 9)),
    ),
    Convention(
        "copysign_at_0",
        "origin",
        (0.0, 0.0),
        (1.0, 0.0),
        "torch copysign backward is zero where self == 0; JAX differentiates abs(x) with 1 at 0",
    ),
)


class ComplexGradient(NamedTuple):
    """What each library returns as the gradient of a real loss L of a complex z = x + iy."""

    torch: str
    jax: str
    sources: tuple[str, ...]


# Not a kink convention but a global one.  The suite compares complex gradients through real views
# (autograd_conformance.registry.complex), where it does not enter; tests/test_complex_convention.py holds both
# libraries to it on real losses of complex inputs.
COMPLEX_GRADIENT = ComplexGradient(
    torch="dL/dx + i dL/dy (twice the conjugate Wirtinger derivative dL/dz*): a step against it decreases L",
    jax="dL/dx - i dL/dy, the conjugate of torch's (jax.grad of a real function of a complex input)",
    sources=(
        "https://pytorch.org/docs/stable/notes/autograd.html#complex-autograd-doc",
        "https://docs.jax.dev/en/latest/notebooks/autodiff_cookbook.html#complex-numbers-and-differentiation",
    ),
)


def documented(op: OpSpec, point: str, torch_version: str) -> Convention | None:
    """The convention ``op`` declares (``OpSpec.conventions``) for ``point`` that holds for this torch version, if any."""
    v = version_tuple(torch_version)
    for c in CONVENTIONS:
        if c.key in op.conventions and c.point == point and c.versions.holds(v):
            return c
    return None


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b
