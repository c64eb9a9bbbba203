"""Activations (elementwise and along a dim) and normalizations, as users call them from torch.nn.functional.

Simplest first: Hypothesis's ``sampled_from`` shrinks toward the first entry.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st

from autograd_conformance.registry.shapes import AlongDim, Halve, Same
from autograd_conformance.registry.spec import WIDE, Domain, declare_family
from autograd_conformance.versions import NO_VERSION

U = Same()
AT_0 = Domain(kinks=(0.0,))
RRELU_SLOPE = (1.0 / 8 + 1.0 / 3) / 2  # F.rrelu in eval mode: the mean of lower and upper


act = declare_family("activation", rule=U)


def _softplus(x, beta, threshold):
    return jnp.where(x * beta > threshold, x, jnp.log1p(jnp.exp(jnp.minimum(x * beta, threshold))) / beta)


def _softplus_switch(inputs, params, margin):
    # torch switches to the identity above threshold/beta: a (tiny) jump, so a kink.
    k = params["threshold"] / params["beta"]
    return bool(np.any(np.abs(inputs[0] - k) <= margin * max(1.0, abs(k))))


def _zero_vector(dim_key: str):
    def near(inputs, params, margin):
        return bool(np.any(np.linalg.norm(inputs[0], axis=params[dim_key]) <= margin))

    return near


def _normalize(x, dim):
    return x / jnp.maximum(jnp.linalg.norm(x, axis=dim, keepdims=True), 1e-12)


def _layer_norm(x):
    mean = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.mean((x - mean) ** 2, axis=-1, keepdims=True)
    return (x - mean) / jnp.sqrt(var + 1e-5)


OPS = [
    act("relu", "torch.relu({x})", jax.nn.relu, domain=AT_0, variants=("F.relu({x})",)),
    act("relu6", "F.relu6({x})", jax.nn.relu6, domain=Domain(kinks=(0.0, 6.0))),
    act(
        "leaky_relu",
        "F.leaky_relu({x}, {negative_slope})",
        lambda x, negative_slope: jax.nn.leaky_relu(x, negative_slope),
        domain=AT_0,
        params={"negative_slope": st.sampled_from((0.01, 0.1, 0.2))},
        conventions=("leaky_relu_at_0",),
    ),
    act(
        "rrelu_eval",
        "F.rrelu({x}, training=False)",
        lambda x: jax.nn.leaky_relu(x, RRELU_SLOPE),
        domain=AT_0,
        conventions=("rrelu_eval_at_0",),
    ),
    act(
        "elu",
        "F.elu({x}, alpha={alpha})",
        lambda x, alpha: jax.nn.elu(x, alpha),
        domain=AT_0,
        params={"alpha": st.sampled_from((1.0, 0.5))},
    ),
    act("selu", "F.selu({x})", jax.nn.selu, domain=AT_0),
    act(
        "celu",
        "F.celu({x}, alpha={alpha})",
        lambda x, alpha: jax.nn.celu(x, alpha),
        domain=AT_0,
        params={"alpha": st.sampled_from((1.0, 0.5))},
    ),
    act(
        "gelu",
        "F.gelu({x})",
        lambda x: jax.nn.gelu(x, approximate=False),
        notes="torch's default is exact; JAX's is the tanh approximation",
    ),
    act("gelu_tanh", "F.gelu({x}, approximate='tanh')", lambda x: jax.nn.gelu(x, approximate=True)),
    act("silu", "F.silu({x})", jax.nn.silu),
    act("mish", "F.mish({x})", lambda x: x * jnp.tanh(jax.nn.softplus(x))),
    act(
        "softplus",
        "F.softplus({x}, beta={beta}, threshold={threshold})",
        _softplus,
        params={"beta": st.sampled_from((1.0, 2.0, 0.5)), "threshold": st.sampled_from((20.0, 5.0))},
        near_kink=_softplus_switch,
        notes="torch returns x itself above threshold/beta; the JAX callable copies that switch",
    ),
    act("logsigmoid", "F.logsigmoid({x})", jax.nn.log_sigmoid),
    act(
        "hardtanh",
        "F.hardtanh({x})",
        lambda x: jnp.clip(x, -1.0, 1.0),
        domain=Domain(kinks=(-1.0, 1.0)),
        conventions=("hardtanh_at_bound",),
    ),
    act(
        "hardsigmoid",
        "F.hardsigmoid({x})",
        jax.nn.hard_sigmoid,
        domain=Domain(kinks=(-3.0, 3.0)),
        double_backward_in=NO_VERSION,
        notes="hardsigmoid_backward has no derivative (2.3.1 to 2.13.0); the float64 CPU gradient is float32(1/6), 3e-8 off",
    ),
    act("hardswish", "F.hardswish({x})", jax.nn.hard_swish, domain=Domain(kinks=(-3.0, 3.0)), conventions=("hardswish_at_bounds",)),
    act("softsign", "F.softsign({x})", jax.nn.soft_sign, domain=AT_0, notes="second derivative jumps at 0"),
    act("tanhshrink", "F.tanhshrink({x})", lambda x: x - jnp.tanh(x)),
    act(
        "softshrink",
        "F.softshrink({x}, 0.5)",
        lambda x: jnp.where(x > 0.5, x - 0.5, jnp.where(x < -0.5, x + 0.5, 0.0)),
        domain=Domain(kinks=(-0.5, 0.5)),
    ),
    act(
        "hardshrink", "F.hardshrink({x}, 0.5)", lambda x: jnp.where(jnp.abs(x) > 0.5, x, 0.0), domain=Domain(kinks=(-0.5, 0.5))
    ),
    act("threshold", "F.threshold({x}, 0.5, -1.0)", lambda x: jnp.where(x > 0.5, x, -1.0), domain=Domain(kinks=(0.5,))),
    act("softmax", "torch.softmax({x}, dim={dim})", lambda x, dim: jax.nn.softmax(x, axis=dim), domain=WIDE, rule=AlongDim(),
        variants=("torch.softmax({x}, dim={dim}, dtype=torch.float64)", "torch.ops.aten._safe_softmax.default({x}, {dim})")),
    act(
        "log_softmax",
        "F.log_softmax({x}, dim={dim})",
        lambda x, dim: jax.nn.log_softmax(x, axis=dim),
        domain=WIDE,
        rule=AlongDim(),
        variants=("torch.log_softmax({x}, dim={dim}, dtype=torch.float64)",),
    ),
    act("softmin", "F.softmin({x}, dim={dim})", lambda x, dim: jax.nn.softmax(-x, axis=dim), domain=WIDE, rule=AlongDim(),
        variants=("F.softmin({x}, dim={dim}, dtype=torch.float64)",)),
    act("glu", "F.glu({x}, dim={dim})", lambda x, dim: jax.nn.glu(x, axis=dim), rule=Halve()),
    act(
        "normalize",
        "F.normalize({x}, dim={dim})",
        _normalize,
        rule=AlongDim(),
        family="normalization",
        near_kink=_zero_vector("dim"),
    ),
    act(
        "layer_norm",
        "F.layer_norm({x}, {x}.shape[-1:])",
        _layer_norm,
        rule=Same(min_rank=1, elementwise=False),
        family="normalization",
    ),
]
