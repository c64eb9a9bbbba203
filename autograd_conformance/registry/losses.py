"""Common losses from torch.nn.functional, reduced to a 0-d tensor, and similarities.

Targets that are data rather than variables (class indices) are static parameters;
probability targets are a second tensor input with domain (0, 1).
Simplest first: Hypothesis's ``sampled_from`` shrinks toward the first entry.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st

from autograd_conformance.registry.shapes import ClassTargets, PairLoss, ReduceAll, ReduceDimPair
from autograd_conformance.registry.spec import REALS, Domain, declare_family

PAIR = PairLoss()
PROB = Domain(0.0, 1.0)
REDUCTION = st.sampled_from(("mean", "sum"))


loss = declare_family("loss", rule=PAIR)


def _reduce(values, reduction):
    return jnp.mean(values) if reduction == "mean" else jnp.sum(values)


def _diff_near(key: str | None):
    """|x - y| within margin of 0 (l1) or of ``params[key]`` (smooth_l1's beta, huber's delta)."""

    def near(inputs, params, margin):
        d = np.abs(inputs[0] - inputs[1])
        points = [0.0] if key is None else [params[key]]
        return any(bool(np.any(np.abs(d - p) <= margin * max(1.0, p))) for p in points)

    return near


def _smooth_l1(x, y, reduction, beta):
    d = jnp.abs(x - y)
    return _reduce(jnp.where(d < beta, 0.5 * d**2 / beta, d - 0.5 * beta), reduction)


def _huber(x, y, reduction, delta):
    d = jnp.abs(x - y)
    return _reduce(jnp.where(d < delta, 0.5 * d**2, delta * (d - 0.5 * delta)), reduction)


def _cross_entropy(x, target):
    logp = jax.nn.log_softmax(x, axis=1)
    return -jnp.mean(jnp.take_along_axis(logp, jnp.array(target, dtype=jnp.int64)[:, None], axis=1))


def _kl_div(x, y):
    # reduction='batchmean': the sum over all elements divided by the size of dim 0
    return jnp.sum(y * (jnp.log(y) - x)) / x.shape[0]


def _zero_vector_pair(inputs, params, margin):
    d = params["dim"]
    return bool(
        np.any(np.linalg.norm(inputs[0], axis=d) <= margin) or np.any(np.linalg.norm(inputs[1], axis=d) <= margin)
    )


def _cosine_similarity(x, y, dim):
    eps = 1e-8
    nx = jnp.maximum(jnp.linalg.norm(x, axis=dim), eps)
    ny = jnp.maximum(jnp.linalg.norm(y, axis=dim), eps)
    return jnp.sum(x * y, axis=dim) / (nx * ny)


def _pairwise_distance(x, y, dim):
    return jnp.linalg.norm(x - y + 1e-6, axis=dim)


def _pairwise_near_0(inputs, params, margin):
    return bool(np.any(np.linalg.norm(inputs[0] - inputs[1] + 1e-6, axis=params["dim"]) <= margin))


OPS = [
    loss(
        "mse_loss",
        "F.mse_loss({x}, {y}, reduction={reduction})",
        lambda x, y, reduction: _reduce((x - y) ** 2, reduction),
        params={"reduction": REDUCTION},
    ),
    loss(
        "l1_loss",
        "F.l1_loss({x}, {y}, reduction={reduction})",
        lambda x, y, reduction: _reduce(jnp.abs(x - y), reduction),
        params={"reduction": REDUCTION},
        near_kink=_diff_near(None),
        conventions=("abs_at_0",),
    ),
    loss(
        "smooth_l1_loss",
        "F.smooth_l1_loss({x}, {y}, reduction={reduction}, beta={beta})",
        _smooth_l1,
        params={"reduction": REDUCTION, "beta": st.sampled_from((1.0, 0.5))},
        near_kink=_diff_near("beta"),
        notes="C1 at |x - y| = beta: the second derivative jumps there",
    ),
    loss(
        "huber_loss",
        "F.huber_loss({x}, {y}, reduction={reduction}, delta={delta})",
        _huber,
        params={"reduction": REDUCTION, "delta": st.sampled_from((1.0, 0.5))},
        near_kink=_diff_near("delta"),
        notes="C1 at |x - y| = delta: the second derivative jumps there",
    ),
    loss("cross_entropy", "F.cross_entropy({x}, torch.tensor({target}))", _cross_entropy, rule=ClassTargets()),
    loss("nll_loss", "F.nll_loss(F.log_softmax({x}, dim=1), torch.tensor({target}))", _cross_entropy, rule=ClassTargets()),
    loss(
        "binary_cross_entropy_with_logits",
        "F.binary_cross_entropy_with_logits({x}, {y})",
        lambda x, y: jnp.mean(jax.nn.softplus(x) - x * y),
        domain=(REALS, PROB),
    ),
    loss(
        "binary_cross_entropy",
        "F.binary_cross_entropy({x}, {y})",
        lambda x, y: -jnp.mean(y * jnp.log(x) + (1 - y) * jnp.log1p(-x)),
        domain=(PROB, PROB),
    ),
    loss(
        "kl_div",
        "F.kl_div({x}, {y}, reduction='batchmean')",
        _kl_div,
        domain=(REALS, PROB),
        notes="x holds log-probabilities, y probabilities",
    ),
    loss(
        "soft_margin_loss",
        "F.soft_margin_loss({x}, torch.ones_like({x}))",
        lambda x: jnp.mean(jax.nn.softplus(-x)),
        rule=ReduceAll(),
        notes="torch refuses a target that requires grad, so the target is a constant of ones",
    ),
    loss(
        "poisson_nll_loss",
        "F.poisson_nll_loss({x}, {y})",
        lambda x, y: jnp.mean(jnp.exp(x) - y * x),
        domain=(REALS, Domain(0.0, float("inf"))),
        notes="log_input=True: exp(x) - y·x",
    ),
    loss(
        "gaussian_nll_loss",
        "F.gaussian_nll_loss({x}, {y}, {z})",
        lambda x, y, z: jnp.mean(0.5 * (jnp.log(jnp.maximum(z, 1e-6)) + (x - y) ** 2 / jnp.maximum(z, 1e-6))),
        rule=PairLoss(arity=3),
        domain=(REALS, REALS, Domain(0.01, float("inf"))),
        notes="var clamped at eps=1e-6; sampled above it",
    ),
    loss(
        "cosine_similarity",
        "F.cosine_similarity({x}, {y}, dim={dim})",
        _cosine_similarity,
        family="similarity",
        rule=ReduceDimPair(),
        near_kink=_zero_vector_pair,
    ),
    loss(
        "pairwise_distance",
        "F.pairwise_distance({x}, {y})",
        lambda x, y, dim: _pairwise_distance(x, y, -1),
        family="similarity",
        rule=ReduceDimPair(last_dim=True),
        near_kink=_pairwise_near_0,
        notes="norm of x - y + eps (eps=1e-6) over the last dim",
    ),
]
