"""Expression trees typed by shape, built top-down with an op budget.

``draw_tree`` picks an output shape, then at each position either a leaf or an
op whose shape rule can produce the wanted shape; its children get the shapes
the rule asks for.  Ops with a restricted domain (log, acos, cholesky ...) take
leaves drawn inside their domain, so every intermediate value stays valid.
A leaf may be reused (``x0 * x0``).  Booleans shrink to False and op choices to
the registry's first (simplest) entries, so a failure shrinks to a small tree.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

from autograd_conformance.known_failing import known_failing_ops
from autograd_conformance.registry import OPS
from autograd_conformance.registry.shapes import Draw, shapes
from autograd_conformance.registry.spec import REALS, Call, Domain, OpSpec, Shape, make_call
from autograd_conformance.tree import Expr, Leaf, Node, Tree, single_op_tree

# Known-failing ops are left out of trees (see autograd_conformance.known_failing); their own cells still run.
TREE_OPS: tuple[OpSpec, ...] = tuple(op for op in OPS if op.in_trees and op.name not in known_failing_ops())
# The tree ops a property may use by what it asks of them: forward mode (dual tensors, jacfwd), a double
# backward (create_graph, jacrev of jacrev, and a Function whose jvp is its vjp transposed by a second vjp),
# or both.  An op without one raises "the derivative for ... is not implemented" there (cdist, pdist).
FORWARD_TREE_OPS: tuple[OpSpec, ...] = tuple(op for op in TREE_OPS if op.forward_ad)
SECOND_ORDER_TREE_OPS: tuple[OpSpec, ...] = tuple(op for op in TREE_OPS if op.double_backward)
SECOND_FORWARD_TREE_OPS: tuple[OpSpec, ...] = tuple(op for op in SECOND_ORDER_TREE_OPS if op.forward_ad)


def draw_call(draw: Draw, op: OpSpec, out: Shape) -> Call:
    """The op's input shapes and all of its parameters (shape ones and static ones)."""
    call = op.rule.draw(draw, out)
    if not op.params:
        return call
    extra = {name: draw(strategy, f"{op.name}: {name}") for name, strategy in op.params.items()}
    return make_call(call.input_shapes, **call.kwargs, **extra)


def draw_op_tree(draw: Draw, op: OpSpec) -> Tree:
    """A one-op tree for the per-op properties: the op applied to fresh inputs."""
    out = draw(op.rule.out_shapes(), f"{op.name}: output shape")
    return single_op_tree(op, draw_call(draw, op, out))


class _Builder:
    def __init__(self, draw: Draw, ops: Sequence[OpSpec], budget: int, must_grow: int = 0):
        self.draw, self.ops, self.budget, self.must_grow = draw, ops, budget, must_grow
        self.shapes: list[Shape] = []
        self.domains: list[Domain] = []

    def leaf(self, shape: Shape, domain: Domain) -> Leaf:
        if domain.is_reals:
            same = [i for i, (s, d) in enumerate(zip(self.shapes, self.domains)) if s == shape and d.is_reals]
            if same and self.draw(st.booleans(), f"reuse an input of shape {shape}"):
                return Leaf(self.draw(st.sampled_from(same), "reused input"))
        self.shapes.append(shape)
        self.domains.append(domain)
        return Leaf(len(self.shapes) - 1)

    def expr(self, shape: Shape, domain: Domain = REALS) -> Expr:
        candidates = [op for op in self.ops if op.rule.produces(shape)]
        if self.budget <= 0 or not candidates:
            return self.leaf(shape, domain)
        if self.must_grow <= 0 and not self.draw(st.booleans(), f"grow an op of shape {shape}"):
            return self.leaf(shape, domain)
        self.must_grow -= 1
        op = self.draw(st.sampled_from(candidates), f"op of shape {shape}")
        self.budget -= 1
        call = draw_call(self.draw, op, shape)
        children = []
        for i, child_shape in enumerate(call.input_shapes):
            if op.restricted:  # its inputs must stay in its domain: give it leaves drawn there
                children.append(self.leaf(child_shape, op.domain_of(i)))
            else:
                children.append(self.expr(child_shape))
        return Node(op, call, tuple(children))


def draw_tree(draw: Draw, *, max_ops: int = 8, ops: Sequence[OpSpec] = TREE_OPS, min_ops: int = 1) -> Tree:
    """A random tree of ``min_ops``..``max_ops`` registry ops."""
    out = draw(shapes(0, 3), "tree output shape")
    builder = _Builder(draw, ops, max_ops, must_grow=min_ops - 1)
    candidates = [op for op in ops if op.rule.produces(out)]
    op = draw(st.sampled_from(candidates), "root op")
    builder.budget -= 1
    call = draw_call(draw, op, out)
    children = tuple(
        builder.leaf(s, op.domain_of(i)) if op.restricted else builder.expr(s) for i, s in enumerate(call.input_shapes)
    )
    tree = Tree(Node(op, call, children), tuple(builder.shapes), tuple(builder.domains))
    return tree
