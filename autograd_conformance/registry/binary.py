"""Binary (and ternary) elementwise ops with broadcasting."""

from __future__ import annotations

import math

import jax.numpy as jnp
import jax.scipy.special as jss
import numpy as np

from autograd_conformance.registry.shapes import Broadcast
from autograd_conformance.registry.spec import POSITIVE, REALS, WIDE, Domain, declare_family

B2 = Broadcast(arity=2)
B3 = Broadcast(arity=3)
AWAY_FROM_0 = Domain(kinks=(0.0,))


def _tie(inputs, params, margin):
    x, y = np.broadcast_arrays(inputs[0], inputs[1])
    return bool(np.any(np.abs(x - y) <= margin * np.maximum(1.0, np.abs(x))))


def _both_near_0(inputs, params, margin):
    x, y = np.broadcast_arrays(inputs[0], inputs[1])
    return bool(np.any((np.abs(x) <= margin) & (np.abs(y) <= margin)))


def _atan2_kink(inputs, params, margin):
    """atan2(y, x) jumps by 2π across y = 0 where x < 0 (the branch cut), and is singular at the origin."""
    y, x = np.broadcast_arrays(inputs[0], inputs[1])
    return _both_near_0(inputs, params, margin) or bool(
        np.any((np.abs(y) <= margin * np.maximum(1.0, np.abs(x))) & (x < 0))
    )


def _log_add_exp(x, y, exp=jnp.exp, log1p=jnp.log1p):
    """log(exp(x) + exp(y)) through the difference x - y.  jnp.logaddexp differentiates through its
    rounded output (exp(x - out)), which is off by |out|·eps in the exponent: at logaddexp(9e15 + 1, 9e15)
    its derivative in x is 1.0 (logaddexp2: 0.5), exactly 0.7311 (0.6667, torch's value).  x - y is
    exact wherever the operands are within a factor 2, so the derivative here, sigmoid(x - y), is right
    to rounding; each branch is an identity of the function, so every higher derivative is its own, and
    the exponent is never positive (no overflow, no NaN through the unselected branch)."""
    d = x - y
    first = d > 0
    return jnp.where(first, x, y) + log1p(exp(jnp.where(first, -d, d)))


def _log_add_exp2(x, y):
    return _log_add_exp(x, y, exp=jnp.exp2, log1p=lambda e: jnp.log1p(e) / math.log(2.0))


binary = declare_family("binary", rule=B2)


OPS = [
    binary("add", "{x} + {y}", jnp.add, variants=("{y}.__radd__({x})",)),
    binary("sub", "torch.sub({x}, {y})", jnp.subtract, variants=("torch.rsub({y}, {x})", "{y}.__rsub__({x})")),
    binary("mul", "{x} * {y}", jnp.multiply, variants=("{y}.__rmul__({x})",)),
    binary("div", "{x} / {y}", jnp.divide, domain=(REALS, AWAY_FROM_0), variants=("torch.true_divide({x}, {y})", "{y}.__rdiv__({x})")),
    binary("add_alpha", "torch.add({x}, {y}, alpha=2.5)", lambda x, y: x + 2.5 * y),
    binary("pow", "torch.pow({x}, {y})", jnp.power, domain=(POSITIVE, Domain(-3.0, 3.0)), variants=("{x} ** {y}", "{y}.__rpow__({x})")),
    binary("atan2", "torch.atan2({x}, {y})", jnp.arctan2, near_kink=_atan2_kink, conventions=("atan2_at_origin",)),
    binary(
        "hypot",
        "torch.hypot({x}, {y})",
        lambda x, y: jnp.sqrt(x * x + y * y),
        near_kink=_both_near_0,
        notes="JAX reference is sqrt(x²+y²): jnp.hypot's max/min formulation has a zero second derivative at "
        "|x| = |y| (and a 0.5/0.5 gradient at the origin, where torch and sqrt give nan)",
    ),
    binary("maximum", "torch.maximum({x}, {y})", jnp.maximum, near_kink=_tie, variants=("torch.max({x}, {y})",)),
    binary("minimum", "torch.minimum({x}, {y})", jnp.minimum, near_kink=_tie, variants=("torch.min({x}, {y})",)),
    binary("fmax", "torch.fmax({x}, {y})", jnp.fmax, near_kink=_tie, conventions=("fmax_tie",)),
    binary("fmin", "torch.fmin({x}, {y})", jnp.fmin, near_kink=_tie, conventions=("fmax_tie",)),
    binary("xlogy", "torch.xlogy({x}, {y})", jss.xlogy, domain=(REALS, POSITIVE)),
    binary("xlog1py", "torch.special.xlog1py({x}, {y})", jss.xlog1py, domain=(REALS, Domain(-1.0, math.inf))),
    binary("logaddexp", "torch.logaddexp({x}, {y})", _log_add_exp, domain=WIDE,
           notes="JAX reference through x - y: jnp.logaddexp's derivative is wrong at |x| ~ 1e15 (_log_add_exp)"),
    binary("logaddexp2", "torch.logaddexp2({x}, {y})", _log_add_exp2, domain=WIDE,
           notes="JAX reference through x - y: jnp.logaddexp2's derivative is wrong at |x| ~ 1e15 (_log_add_exp)"),
    binary("copysign", "torch.copysign({x}, {y})", jnp.copysign, domain=(AWAY_FROM_0, AWAY_FROM_0), conventions=("copysign_at_0",)),
    binary("squared_difference", "({x} - {y}) ** 2", lambda x, y: (x - y) ** 2),
    binary(
        "lerp",
        "torch.lerp({x}, {y}, {z})",
        lambda x, y, z: x + z * (y - x),
        family="ternary",
        rule=B3,
    ),
    binary(
        "addcmul",
        "torch.addcmul({x}, {y}, {z}, value=0.5)",
        lambda x, y, z: x + 0.5 * y * z,
        family="ternary",
        rule=B3,
    ),
    binary(
        "addcdiv",
        "torch.addcdiv({x}, {y}, {z}, value=0.5)",
        lambda x, y, z: x + 0.5 * y / z,
        family="ternary",
        rule=B3,
        domain=(REALS, REALS, AWAY_FROM_0),
    ),
]
