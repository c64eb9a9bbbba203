"""How the built-in oracles are run on one example, and what their runs share.

* ``reference(ex)``: JAX's evaluation of the tree at the example's inputs (value, JVP along
  the scaled direction v, VJP of u), memoised on the example, with its rounding sensitivity.
  The evaluation also says where the point is singular (``Singularities``): ``pole`` reads it.
* ``fd_estimate(ex, v, grads)``: ⟨u, J v⟩ by central differences, memoised on the example.
* ``nudge``: inputs moved by a few ulps, the probe of an oracle's own error.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import torch

from autograd_conformance import tolerances as tol
from autograd_conformance.example import Example
from autograd_conformance.memo import FdEstimate
from autograd_conformance.oracles import fd, jax_oracle
from autograd_conformance.tree import Leaf, Node, untied
from autograd_conformance.verdict import Outcome, Verdict


def scaled_direction(ex: Example) -> list[np.ndarray]:
    """The example's direction v scaled to its inputs (``v·max(1, |x|)``): the JVP's and FD's direction."""
    return [d * np.maximum(1.0, np.abs(x)) for x, d in zip(ex.inputs, ex.direction)]


def nudge(inputs: list[np.ndarray], rel: float, *, seed: int) -> list[np.ndarray]:
    """Each element moved by ``rel`` relative, up or down at random (seeded): the oracle's error probe."""
    rng = np.random.default_rng(seed)
    return [x * (1 + rel * rng.choice([-1.0, 1.0], size=x.shape)) for x in inputs]


def finite_only(a: np.ndarray) -> np.ndarray:
    """An error term with its NaN and inf entries 0: a probe that left the domain widens nothing."""
    return np.nan_to_num(a, nan=0.0, posinf=0.0)


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
    def amplification(self) -> float:
        """The largest rounding amplification the tree's ops declare at their inputs here (``OpSpec.conditioning``;
        0 where none does)."""
        nodes = [n for n in self._ex.tree.nodes if n.op.conditioning is not None]
        return max((n.op.conditioning(self.evaluation.node_inputs[id(n)]) for n in nodes), default=0.0)

    @cached_property
    def vjp_sensitivity(self) -> list[np.ndarray]:
        nudged = self._nudged.vjp(self._ex.cotangent)
        return [finite_only(tol.SENSITIVITY_FACTOR * np.abs(a - b)) for a, b in zip(nudged, self.vjp)]

    @cached_property
    def jvp_sensitivity(self) -> np.ndarray:
        return finite_only(tol.SENSITIVITY_FACTOR * np.abs(self._nudged.output_tangent - self.evaluation.output_tangent))

    @cached_property
    def rounding_sensitivity(self) -> list[np.ndarray]:
        """How much the VJP moves when the inputs move by one ulp of the example's (reduced) dtype: the
        float64 oracle's error term for a float32, bfloat16 or float16 gradient."""
        ex = self._ex
        nudged = nudge(ex.inputs, tol.ROUNDING_EPS[ex.dtype], seed=0)
        zero = [np.zeros_like(x) for x in ex.inputs]
        nudged_grads = jax_oracle.evaluate(ex.tree, nudged, zero, ex.cotangent).vjp(ex.cotangent)
        return [tol.SENSITIVITY_FACTOR * np.abs(a - b) for a, b in zip(nudged_grads, self.vjp)]

    @cached_property
    def cancelled_between_uses(self) -> list[np.ndarray]:
        """Per leaf, Σ|cᵢ| − |Σcᵢ| over the gradient contributions cᵢ of its uses in the tree: how much of the
        magnitude torch adds up cancels.  A gradient is rounded relative to its contributions, not to their
        sum: float32 gives div(x0, x0) at x0 = 5.7e-5, u = 0.024 a gradient of -3e-5 from contributions of
        ±413 (0.6 ulp of 413), where the exact 0 leaves the nudge nothing to measure.  Zero for a leaf used
        once."""
        ex = self._ex
        tree, uses = untied(ex.tree)
        if len(set(uses)) == len(uses):  # no leaf used twice (an unused leaf has no use at all)
            return [np.zeros_like(x) for x in ex.inputs]
        inputs = [ex.inputs[i] for i in uses]
        zero = [np.zeros_like(x) for x in inputs]
        parts = jax_oracle.evaluate(tree, inputs, zero, ex.cotangent).vjp(ex.cotangent)
        total = [np.zeros_like(g) for g in self.vjp]
        for leaf, part in zip(uses, parts):
            total[leaf] = total[leaf] + np.abs(part)
        return [finite_only(np.maximum(t - np.abs(g), 0.0)) for t, g in zip(total, self.vjp)]

    @cached_property
    def cancelled_in_broadcast(self) -> list[np.ndarray]:
        """Per leaf that a one-op tree's elementwise op broadcasts: Σ|cᵢ| − |Σcᵢ| over the output elements its
        gradient sums (``sum_to_shape``).  As for a tied leaf, the gradient is rounded relative to those
        contributions, not to their sum: bfloat16 pow(0.25, y) summed contributions of ±62 into 1.16, and
        torch's 1.75 was within their rounding (found by the modes soak).  Zero for a tree of more ops (a
        broadcast below the root is not measured) and for a leaf that is not broadcast."""
        ex = self._ex
        zeros = [np.zeros_like(x) for x in ex.inputs]
        root, out = ex.tree.root, np.shape(self.evaluation.output)
        if not (isinstance(root, Node) and root.op.elementwise and all(isinstance(c, Leaf) for c in root.children)):
            return zeros
        if all(np.shape(ex.inputs[c.index]) == out for c in root.children):
            return zeros
        full = [np.broadcast_to(ex.inputs[c.index], out) for c in root.children]
        unbroadcast = root.call._replace(input_shapes=tuple(out for _ in full))
        parts = jax_oracle.op_vjp(root.op, unbroadcast, full, ex.cotangent)
        total = [np.zeros_like(g) for g in self.vjp]
        for child, part in zip(root.children, parts):
            leaf = child.index
            total[leaf] = total[leaf] + jax_oracle.sum_to_shape(np.abs(part), np.shape(ex.inputs[leaf]))
        return [finite_only(np.maximum(t - np.abs(g), 0.0)) for t, g in zip(total, self.vjp)]


def reference(ex: Example) -> Reference:
    """JAX's value, JVP along v and VJP of u, with their rounding sensitivity (see ``Reference``)."""
    if ex.memo.reference is None:
        ex.memo.reference = Reference(ex)
    return ex.memo.reference


def pole(ex: Example) -> list[Outcome] | None:
    """Where the tree itself is not finite (1/0 upstream), torch raising or giving nan is not a gradient bug."""
    where = reference(ex).evaluation.singularities.pole
    if where:
        return [Outcome(Verdict.INCONCLUSIVE, "jax", message=f"the tree is not finite here (at {where}): a pole")]
    return None


def fd_estimate(ex: Example, v: list[np.ndarray], grads: list[np.ndarray]) -> fd.Directional:
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
