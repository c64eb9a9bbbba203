"""JAX (x64, CPU) as an independent oracle, evaluated op by op through cached jitted functions.

Calling ``jax.grad`` on a fresh function costs ~0.4 s per new shape; a jitted
call costs ~10 µs.  So each registry op gets ONE jitted function per
(parameters, shapes) computing its value, JVP and VJP together, reused across
every tree and example; a tree is evaluated by a forward sweep and a reverse
sweep over those.  Elementwise ops are flattened and padded to a bucket size
first, so one compile serves every shape.  Second order of a one-op tree uses a
per-op jitted function too (bucketed the same way); larger trees jit the whole tree.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial, wraps
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import autograd_conformance.jaxsetup  # noqa: F401
from autograd_conformance.registry.spec import Call, Operand, OpSpec
from autograd_conformance.singularities import Singularities
from autograd_conformance.tree import Leaf, Node, Tree

BUCKETS = (8, 64, 512)

# XLA:CPU keeps about 3 memory maps per loaded executable (measured: 3.2), and an executable lives as long as
# its jitted function.  A worker that compiled one program per op, parameters and shape ran into the kernel's
# limit on a process's maps (vm.max_map_count, 65530 by default) and died inside XLA's compile or its cache
# write (2026-12-02: the ci run's workers after the indexing ops, whose references compile once per index;
# a worker had 15,244 maps 12 minutes in).  So the jitted functions live in one bounded store, dropped with
# JAX's own caches when it fills; the persistent compilation cache makes their return cheap.
MAX_LIVE_PROGRAMS = 2000
_PROGRAMS: dict[tuple, Any] = {}


def program(key: tuple, make: Callable[[], Any]) -> Any:
    """The jitted function stored under ``key``, made (and stored) if absent."""
    fn = _PROGRAMS.get(key)
    if fn is None:
        if len(_PROGRAMS) >= MAX_LIVE_PROGRAMS:
            _PROGRAMS.clear()
            jax.clear_caches()
        fn = _PROGRAMS[key] = make()
    return fn


def stored(make: Callable[..., Any]) -> Callable[..., Any]:
    """``make``'s jitted function per arguments, kept in the bounded store (a bounded ``functools.cache``)."""

    @wraps(make)
    def get(*key: Any) -> Any:
        return program((make.__name__, *key), lambda: make(*key))

    return get


def bucket(n: int) -> int:
    for b in BUCKETS:
        if n <= b:
            return b
    return 1 << max(0, n - 1).bit_length()


def _fused_program(f: Any) -> Any:
    """(primals, tangents, cotangent) -> (value, JVP, VJP): one linearization, one compile for all three.

    Linearizing once and transposing the linear map traces the op a third faster
    than ``jax.jvp`` plus ``jax.vjp``: tracing is most of a new shape's cost."""

    def fused(primals: list, tangents: list, ct: Any) -> Any:
        out, jvp = jax.linearize(f, *primals)
        return out, jvp(*tangents), jax.linear_transpose(jvp, *primals)(ct)

    return jax.jit(fused)


def _second_order_program(f: Any) -> Any:
    def hvp(primals: list, u: Any, w: list) -> Any:
        def inner(*xs: Any) -> Any:
            return sum(jnp.vdot(g, wi) for g, wi in zip(jax.vjp(f, *xs)[1](u), w))

        return jax.grad(inner, argnums=tuple(range(len(primals))))(*primals)

    return jax.jit(hvp)


def _operands(params: tuple) -> tuple[tuple, dict[str, np.ndarray]]:
    """An op's parameters as a program key (each ``Operand`` stands as its shape and dtype) and the operands'
    values: a mask is an argument of the op's one program per shape, not a constant compiled into a program
    per mask."""
    key, values = [], {}
    for name, value in params:
        if isinstance(value, Operand):
            values[name] = np.asarray(value)
            key.append((name, ("operand", values[name].shape, str(values[name].dtype))))
        else:
            key.append((name, value))
    return tuple(key), values


def _per_op(make: Callable[[Any], Any], op: OpSpec, params: tuple) -> Any:
    """``make``'s program for ``op`` with ``params`` bound; where some are operands, a program whose first
    argument is their dict (traced, never differentiated)."""
    static = {k: v for k, v in params if not (isinstance(v, tuple) and v[:1] == ("operand",))}
    if len(static) == len(params):
        return make(partial(op.jax, **static))

    def with_operands(operands: dict, *args: Any) -> Any:
        return make(lambda *xs: op.jax(*xs, **static, **operands))(*args)

    return jax.jit(with_operands)


@stored
def _fused(op: OpSpec, params: tuple, shapes: tuple) -> Any:
    return _per_op(_fused_program, op, params)


@stored
def _op_second_order(op: OpSpec, params: tuple, shapes: tuple) -> Any:
    return _per_op(_second_order_program, op, params)


def _directional(f: Any, order: int) -> Any:
    """(primals, t₁, ..., tₙ) -> ∂ⁿf[t₁, ..., tₙ], output-shaped: ``jax.jvp`` nested ``order`` deep (forward over
    forward for the second derivative, three deep for the third)."""

    def nested(primals: Any, *tangents: Any) -> Any:
        g = f
        for t in tangents[:-1]:
            g = partial(_jvp_tangent, g, tuple(t))
        return jax.jvp(g, tuple(primals), tuple(tangents[-1]))[1]

    return jax.jit(nested)


def _jvp_tangent(g: Any, t: tuple, *xs: Any) -> Any:
    return jax.jvp(g, tuple(xs), t)[1]


def _second_directional(f: Any) -> Any:
    """(primals, v, w) -> ∂²f[v, w]: forward over forward, the derivative along w of J v (output-shaped)."""
    return _directional(f, 2)


@stored
def _op_second_directional(op: OpSpec, params: tuple, shapes: tuple) -> Any:
    return _per_op(_second_directional, op, params)


def _third_reverse(f: Any) -> Any:
    """(primals, u, v, w) -> (uᵀ∂³f)[v, w, ·] for each input: forward over forward over reverse (the jvp along
    w of the jvp along v of x ↦ Jᵀu), equal to torch's reverse³ ∇ₓ⟨∇ₓ⟨Jᵀu, v⟩, w⟩ by the symmetry of
    derivatives of a smooth f, and a different composition from the one it checks."""

    def third(primals: Any, u: Any, v: Any, w: Any) -> Any:
        def vjp(*xs: Any) -> Any:
            return jax.vjp(f, *xs)[1](u)

        def hvp(*xs: Any) -> Any:
            return jax.jvp(vjp, tuple(xs), tuple(v))[1]

        return jax.jvp(hvp, tuple(primals), tuple(w))[1]

    return jax.jit(third)


def _third_directional(f: Any) -> Any:
    """(primals, v, w, t) -> ∂³f[v, w, t], output-shaped: jvp nested three deep."""
    return _directional(f, 3)


@stored
def _op_third_reverse(op: OpSpec, params: tuple, shapes: tuple) -> Any:
    return _per_op(_third_reverse, op, params)


@stored
def _op_third_directional(op: OpSpec, params: tuple, shapes: tuple) -> Any:
    return _per_op(_third_directional, op, params)


def sum_to_shape(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Undo broadcasting: sum ``g`` down to ``shape``."""
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead))) if lead else g
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


class OpCall:
    """One op applied to concrete inputs.  Elementwise ops are flattened and padded to a bucket."""

    def __init__(self, op: OpSpec, call: Call, inputs: list[np.ndarray]):
        self.op, self.call, self.inputs = op, call, inputs
        self.params, self.operands = _operands(call.params)
        self.shapes = [x.shape for x in inputs]
        if op.elementwise:
            self.out_shape = np.broadcast_shapes(*self.shapes)
            self.n = math.prod(self.out_shape)
            self.key: tuple = ("flat", bucket(self.n))
            self.primals = [self._flat(x, op.domain_of(i).safe) for i, x in enumerate(inputs)]
        else:
            self.key = call.input_shapes
            self.primals = list(inputs)

    def _program(self, make: Callable[..., Any]) -> Any:
        fn = make(self.op, self.params, self.key)
        return partial(fn, self.operands) if self.operands else fn

    def _flat(self, a: np.ndarray, fill: float) -> np.ndarray:
        out = np.full(self.key[1], fill, dtype=np.float64)
        out[: self.n] = np.broadcast_to(a, self.out_shape).ravel()
        return out

    def _unflat(self, a: Any) -> np.ndarray:
        return np.asarray(a)[: self.n].reshape(self.out_shape) if self.op.elementwise else np.asarray(a)

    def _seed(self, a: np.ndarray) -> np.ndarray:
        return self._flat(a, 0.0) if self.op.elementwise else a

    def _per_input(self, gs: Any) -> list[np.ndarray]:
        if self.op.elementwise:
            return [sum_to_shape(self._unflat(g), s) for g, s in zip(gs, self.shapes)]
        return [np.asarray(g) for g in gs]

    def run(
        self, tangents: list[np.ndarray], ct: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray] | None]:
        """Value and JVP, and the VJP of ``ct`` when given (the forward sweep passes None)."""
        fn = self._program(_fused)
        seed = self._seed(ct) if ct is not None else _zero_cotangent(self)
        out, tout, cts = fn(self.primals, [self._seed(t) for t in tangents], seed)
        return self._unflat(out), self._unflat(tout), self._per_input(cts) if ct is not None else None

    def second_order(self, u: np.ndarray, w: list[np.ndarray]) -> list[np.ndarray]:
        """∇ₓ⟨Jᵀu, w⟩.  On a broadcast input ⟨sum_to_shape(G), w⟩ = ⟨G, broadcast(w)⟩, so w is broadcast."""
        fn = self._program(_op_second_order)
        if self.op.elementwise:
            ws = [self._flat(x, 0.0) for x in w]
        else:
            ws = list(w)
        return self._per_input(fn(self.primals, self._seed(u), ws))

    def second_directional(self, v: list[np.ndarray], w: list[np.ndarray]) -> np.ndarray:
        """∂²f[v, w], output-shaped.  A broadcast input's tangent is broadcast with it (padding: 0)."""
        fn = self._program(_op_second_directional)
        return self._unflat(fn(self.primals, [self._seed(t) for t in v], [self._seed(t) for t in w]))

    def third_reverse(self, u: np.ndarray, v: list[np.ndarray], w: list[np.ndarray]) -> list[np.ndarray]:
        """(uᵀ∂³f)[v, w, ·] per input.  v and w are tangents of the inputs: broadcast with them (padding: 0)."""
        fn = self._program(_op_third_reverse)
        tangents = [[self._seed(s) for s in seeds] for seeds in (v, w)]
        return self._per_input(fn(self.primals, self._seed(u), *tangents))

    def third_directional(self, v: list[np.ndarray], w: list[np.ndarray], t: list[np.ndarray]) -> np.ndarray:
        """∂³f[v, w, t], output-shaped."""
        fn = self._program(_op_third_directional)
        return self._unflat(fn(self.primals, *([self._seed(s) for s in seeds] for seeds in (v, w, t))))


_OUT_SHAPES: dict[tuple, tuple] = {}


def _zero_cotangent(c: OpCall) -> np.ndarray:
    if c.op.elementwise:
        return np.zeros(c.key[1])
    key = (id(c.op), c.call)
    shape = _OUT_SHAPES.get(key)
    if shape is None:
        shape = _OUT_SHAPES[key] = tuple(jax.eval_shape(partial(c.op.jax, **c.call.kwargs), *c.primals).shape)
    return np.zeros(shape)


def op_vjp(op: OpSpec, call: Call, primals: list[np.ndarray], ct: np.ndarray) -> list[np.ndarray]:
    c = OpCall(op, call, primals)
    return c.run([np.zeros_like(x) for x in primals], ct)[2] or []


class Evaluation:
    """A tree evaluated in JAX at one point: every node's inputs and output, the JVP along ``tangents``, and the
    point's ``singularities`` (found from those node inputs: see ``autograd_conformance.singularities``)."""

    def __init__(
        self, tree: Tree, inputs: list[np.ndarray], tangents: list[np.ndarray], cotangent: np.ndarray | None = None
    ):
        self.tree = tree
        self.inputs = inputs
        self.node_inputs: dict[int, list[np.ndarray]] = {}
        self.calls: dict[int, tuple[OpCall, list[np.ndarray]]] = {}
        self._root_vjp: tuple[np.ndarray, list[np.ndarray] | None] | None = None
        values: dict[int, tuple[np.ndarray, np.ndarray]] = {}

        def value(e: Node | Leaf) -> tuple[np.ndarray, np.ndarray]:
            if isinstance(e, Leaf):
                return inputs[e.index], tangents[e.index]
            return values[id(e)]

        for node in tree.nodes:
            args = [value(c) for c in node.children]
            primals = [a[0] for a in args]
            self.node_inputs[id(node)] = primals
            c = OpCall(node.op, node.call, primals)
            node_tangents = [a[1] for a in args]
            self.calls[id(node)] = (c, node_tangents)
            # The root's cotangent is known now: its one call gives the VJP that vjp(cotangent) starts from.
            at_root = node is tree.root and cotangent is not None
            out, tout, cts = c.run(node_tangents, cotangent if at_root else None)
            if at_root:
                self._root_vjp = (cotangent, cts)
            values[id(node)] = (out, tout)
        self.output, self.output_tangent = value(tree.root)
        self.singularities = Singularities(tree, self.node_inputs, self.output)  # poles, domain exits, kinks

    @property
    def magnitude(self) -> float:
        """The largest finite |value| anywhere in the tree: inputs, intermediates, output, and inside an op that
        says what it holds (a user's op: ``OpSpec.internal_magnitude``)."""
        arrays = [*self.inputs, self.output, *(x for xs in self.node_inputs.values() for x in xs)]
        finite = [np.abs(a[np.isfinite(a)]) for a in arrays if np.size(a)]
        inside = [n.op.internal_magnitude(self.node_inputs[id(n)]) for n in self.tree.nodes if n.op.internal_magnitude]
        return max([*(float(a.max()) for a in finite if a.size), *inside], default=0.0)

    def vjp(self, cotangent: np.ndarray) -> list[np.ndarray]:
        """Jᵀu for each leaf, by a reverse sweep of per-op VJPs."""
        grads = [np.zeros(s) for s in self.tree.leaf_shapes]
        if isinstance(self.tree.root, Leaf):
            grads[self.tree.root.index] += cotangent
            return grads
        cts: dict[int, np.ndarray] = {id(self.tree.root): cotangent}
        for node in reversed(self.tree.nodes):
            ct = cts.pop(id(node), None)
            if ct is None:
                continue
            c, node_tangents = self.calls[id(node)]
            if self._root_vjp is not None and node is self.tree.root and self._root_vjp[0] is ct:
                node_cts = self._root_vjp[1]
            else:
                node_cts = c.run(node_tangents, ct)[2]
            for child, g in zip(node.children, node_cts or []):
                if isinstance(child, Leaf):
                    grads[child.index] = grads[child.index] + g
                else:
                    cts[id(child)] = cts[id(child)] + g if id(child) in cts else g
        return grads


def evaluate(
    tree: Tree, inputs: list[np.ndarray], tangents: list[np.ndarray], cotangent: np.ndarray | None = None
) -> Evaluation:
    """The tree at ``inputs``; given the ``cotangent`` that ``vjp`` will be asked for, the root's VJP comes
    from the forward sweep's call (one JAX call fewer per evaluation: half the calls of a one-op tree)."""
    return Evaluation(tree, inputs, tangents, cotangent)


def _tree_second_order(tree: Tree) -> Any:
    return program(("second_order", tree.key), lambda: _make_tree_second_order(tree))


def _make_tree_second_order(tree: Tree) -> Any:
    f = tree.jax_fn()

    def hvp(xs: tuple, u: Any, w: tuple) -> Any:
        def inner(*xs: Any) -> Any:
            return sum(jnp.vdot(g, wi) for g, wi in zip(jax.vjp(f, *xs)[1](u), w))

        return jax.grad(inner, argnums=tuple(range(len(xs))))(*xs)

    return jax.jit(hvp)


def _one_op(tree: Tree) -> bool:
    """Whether the tree is one op applied to its leaves in order (a per-op jitted function serves it)."""
    root = tree.root
    return isinstance(root, Node) and all(isinstance(c, Leaf) and c.index == i for i, c in enumerate(root.children))


def second_order(tree: Tree, inputs: list[np.ndarray], u: np.ndarray, w: list[np.ndarray]) -> list[np.ndarray]:
    """∇ₓ ⟨Jᵀu, w⟩ for each leaf: the double backward torch must match."""
    root = tree.root
    if _one_op(tree):
        return OpCall(root.op, root.call, inputs).second_order(u, w)
    return [np.asarray(g) for g in _tree_second_order(tree)(tuple(inputs), u, tuple(w))]


def second_directional(tree: Tree, inputs: list[np.ndarray], v: list[np.ndarray], w: list[np.ndarray]) -> np.ndarray:
    """∂²f[v, w] = jax.jvp(lambda x: jax.jvp(f, x, v)[1], x, w)[1]: the forward-over-forward torch must match."""
    root = tree.root
    if _one_op(tree):
        return OpCall(root.op, root.call, inputs).second_directional(v, w)
    fn = program(("second_directional", tree.key), lambda: _second_directional(tree.jax_fn()))
    return np.asarray(fn(tuple(inputs), tuple(v), tuple(w)))


def _tree_third(kind: str, tree: Tree) -> Any:
    make = _third_reverse if kind == "reverse" else _third_directional
    return program(("third", kind, tree.key), lambda: make(tree.jax_fn()))


def third_reverse(
    tree: Tree, inputs: list[np.ndarray], u: np.ndarray, v: list[np.ndarray], w: list[np.ndarray]
) -> list[np.ndarray]:
    """(uᵀ∂³f)[v, w, ·] for each leaf: the reverse-mode third derivative torch must match."""
    root = tree.root
    if _one_op(tree):
        return OpCall(root.op, root.call, inputs).third_reverse(u, v, w)
    return [np.asarray(g) for g in _tree_third("reverse", tree)(tuple(inputs), u, tuple(v), tuple(w))]


def third_directional(
    tree: Tree, inputs: list[np.ndarray], v: list[np.ndarray], w: list[np.ndarray], t: list[np.ndarray]
) -> np.ndarray:
    """∂³f[v, w, t]: the forward-mode third derivative torch must match."""
    root = tree.root
    if _one_op(tree):
        return OpCall(root.op, root.call, inputs).third_directional(v, w, t)
    return np.asarray(_tree_third("forward", tree)(tuple(inputs), tuple(v), tuple(w), tuple(t)))
