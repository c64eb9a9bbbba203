"""JAX (x64, CPU) as an independent oracle, evaluated op by op through cached jitted JVPs and VJPs.

Calling ``jax.grad`` on a fresh function costs ~0.4 s per new shape; a jitted call
costs ~10 µs.  So each registry op gets one jitted JVP and one jitted VJP per
(parameters, shapes), reused across every tree and example.  Elementwise ops are
flattened and padded to a bucket size first, so one compile serves every shape.
Second order uses a jitted function per whole tree (fewer examples need it).
"""

from __future__ import annotations

import math
from functools import cache, partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import conformance.jaxsetup  # noqa: F401
from conformance.registry.spec import Call, OpSpec
from conformance.tree import Leaf, Node, Tree

BUCKETS = (8, 64, 512)


def bucket(n: int) -> int:
    for b in BUCKETS:
        if n <= b:
            return b
    return 1 << max(0, n - 1).bit_length()


@cache
def _jvp(op: OpSpec, params: tuple, shapes: tuple) -> Any:
    f = partial(op.jax, **dict(params))
    return jax.jit(lambda primals, tangents: jax.jvp(f, tuple(primals), tuple(tangents)))


@cache
def _vjp(op: OpSpec, params: tuple, shapes: tuple) -> Any:
    f = partial(op.jax, **dict(params))
    return jax.jit(lambda primals, ct: jax.vjp(f, *primals)[1](ct))


def sum_to_shape(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Undo broadcasting: sum ``g`` down to ``shape``."""
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead))) if lead else g
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


class _Elementwise:
    """Flatten, pad to a bucket, run, unpad: one compile per (op, params, bucket)."""

    def __init__(self, op: OpSpec, call: Call, inputs: list[np.ndarray]):
        self.op, self.call = op, call
        self.shapes = [x.shape for x in inputs]
        self.out_shape = np.broadcast_shapes(*self.shapes)
        self.n = math.prod(self.out_shape)
        self.b = bucket(self.n)

    def flat(self, a: np.ndarray, fill: float) -> np.ndarray:
        out = np.full(self.b, fill, dtype=np.float64)
        out[: self.n] = np.broadcast_to(a, self.out_shape).ravel()
        return out

    def unflat(self, a: Any) -> np.ndarray:
        return np.asarray(a)[: self.n].reshape(self.out_shape)

    def jvp(self, primals: list[np.ndarray], tangents: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        fn = _jvp(self.op, self.call.params, ("flat", self.b))
        p = [self.flat(x, self.op.domain_of(i).safe) for i, x in enumerate(primals)]
        t = [self.flat(x, 0.0) for x in tangents]
        out, tout = fn(p, t)
        return self.unflat(out), self.unflat(tout)

    def vjp(self, primals: list[np.ndarray], ct: np.ndarray) -> list[np.ndarray]:
        fn = _vjp(self.op, self.call.params, ("flat", self.b))
        p = [self.flat(x, self.op.domain_of(i).safe) for i, x in enumerate(primals)]
        cts = fn(p, self.flat(ct, 0.0))
        return [sum_to_shape(self.unflat(g), s) for g, s in zip(cts, self.shapes)]


def op_jvp(
    op: OpSpec, call: Call, primals: list[np.ndarray], tangents: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    if op.elementwise:
        return _Elementwise(op, call, primals).jvp(primals, tangents)
    out, tout = _jvp(op, call.params, call.input_shapes)(primals, tangents)
    return np.asarray(out), np.asarray(tout)


def op_vjp(op: OpSpec, call: Call, primals: list[np.ndarray], ct: np.ndarray) -> list[np.ndarray]:
    if op.elementwise:
        return _Elementwise(op, call, primals).vjp(primals, ct)
    return [np.asarray(g) for g in _vjp(op, call.params, call.input_shapes)(primals, ct)]


class Evaluation:
    """A tree evaluated in JAX at one point: every node's inputs and output, and the JVP along ``tangents``."""

    def __init__(self, tree: Tree, inputs: list[np.ndarray], tangents: list[np.ndarray]):
        self.tree = tree
        self.inputs = inputs
        self.node_inputs: dict[int, list[np.ndarray]] = {}
        values: dict[int, tuple[np.ndarray, np.ndarray]] = {}

        def value(e: Node | Leaf) -> tuple[np.ndarray, np.ndarray]:
            if isinstance(e, Leaf):
                return inputs[e.index], tangents[e.index]
            return values[id(e)]

        for node in tree.nodes:
            args = [value(c) for c in node.children]
            primals = [a[0] for a in args]
            self.node_inputs[id(node)] = primals
            values[id(node)] = op_jvp(node.op, node.call, primals, [a[1] for a in args])
        self.output, self.output_tangent = value(tree.root)

    def vjp(self, cotangent: np.ndarray) -> list[np.ndarray]:
        """Jᵀu for each leaf, by a reverse sweep of per-op VJPs."""
        grads = [np.zeros(s) for s in self.tree.leaf_shapes]
        cts: dict[int, np.ndarray] = {id(self.tree.root): cotangent}
        if isinstance(self.tree.root, Leaf):
            grads[self.tree.root.index] += cotangent
            return grads
        for node in reversed(self.tree.nodes):
            ct = cts.pop(id(node), None)
            if ct is None:
                continue
            for child, g in zip(node.children, op_vjp(node.op, node.call, self.node_inputs[id(node)], ct)):
                if isinstance(child, Leaf):
                    grads[child.index] = grads[child.index] + g
                else:
                    cts[id(child)] = cts[id(child)] + g if id(child) in cts else g
        return grads

    def near_kink(self, margin: float) -> str | None:
        """The first node whose inputs are within ``margin`` of a kink, as ``op(...)``; None if none is."""
        for node in self.tree.nodes:
            if node.op.is_near_kink(self.node_inputs[id(node)], node.call.kwargs, margin):
                return node.op.name
        return None

    def out_of_domain(self, margin: float) -> str | None:
        for node in self.tree.nodes:
            for i, x in enumerate(self.node_inputs[id(node)]):
                if not node.op.domain_of(i).contains(x, margin):
                    return node.op.name
        return None


def evaluate(tree: Tree, inputs: list[np.ndarray], tangents: list[np.ndarray]) -> Evaluation:
    return Evaluation(tree, inputs, tangents)


_SECOND_ORDER: dict[str, Any] = {}


def _second_order(tree: Tree) -> Any:
    fn = _SECOND_ORDER.get(tree.key)
    if fn is None:
        fn = _SECOND_ORDER[tree.key] = _build_second_order(tree)
    return fn


def _build_second_order(tree: Tree) -> Any:
    f = tree.jax_fn()

    def hvp(xs: tuple, u: Any, w: tuple) -> Any:
        def inner(*xs: Any) -> Any:
            _, pullback = jax.vjp(f, *xs)
            return sum(jnp.vdot(g, wi) for g, wi in zip(pullback(u), w))

        return jax.grad(inner, argnums=tuple(range(len(xs))))(*xs)

    return jax.jit(hvp)


def second_order(tree: Tree, inputs: list[np.ndarray], u: np.ndarray, w: list[np.ndarray]) -> list[np.ndarray]:
    """∇ₓ ⟨Jᵀu, w⟩ for each leaf: the double-backward torch must match."""
    fn = _second_order(tree)
    return [np.asarray(g) for g in fn(tuple(inputs), u, tuple(w))]
