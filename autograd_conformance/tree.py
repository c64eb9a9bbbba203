"""Expression trees over registry ops.

A :class:`Tree` is a root :class:`Node` (or a bare :class:`Leaf`) plus the shapes
and domains of its inputs ``x0, x1, ...``.  The same leaf may appear twice
(``x0 * x0``).  A tree renders as plain torch code, and that code *is* what runs:
``Tree.torch_fn()`` compiles the rendered source once.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from autograd_conformance.registry.spec import Call, Domain, OpSpec, Shape, compile_torch


@dataclass(frozen=True, eq=False)
class Leaf:
    index: int

    def code(self) -> str:
        return f"x{self.index}"


@dataclass(frozen=True, eq=False)
class Node:
    op: OpSpec
    call: Call
    children: tuple[Node | Leaf, ...]

    def code(self) -> str:
        return self.op.code([_operand(c.code()) for c in self.children], self.call.kwargs)


def _operand(code: str) -> str:
    """Parenthesise a child unless it is atomic (a name, call, attribute or subscript): ``(x0 - x1) ** 2``."""
    return code if _atomic(code) else f"({code})"


@lru_cache(maxsize=4096)
def _atomic(code: str) -> bool:
    node = ast.parse(code, mode="eval").body
    return isinstance(node, (ast.Name, ast.Call, ast.Attribute, ast.Subscript, ast.Constant))


Expr = Node | Leaf


@dataclass(frozen=True, eq=False)
class Tree:
    root: Expr
    leaf_shapes: tuple[Shape, ...]
    leaf_domains: tuple[Domain, ...]

    @property
    def arity(self) -> int:
        return len(self.leaf_shapes)

    @cached_property
    def source(self) -> str:
        """The tree as a torch expression over ``x0, x1, ...``."""
        return self.root.code()

    @cached_property
    def label(self) -> str:
        """A short readable id: ``sin(mul(x0, x1))``."""
        return _label(self.root)

    @cached_property
    def nodes(self) -> list[Node]:
        """Every op node, children before parents (post-order)."""
        out: list[Node] = []

        def visit(e: Expr) -> None:
            if isinstance(e, Node):
                for c in e.children:
                    visit(c)
                out.append(e)

        visit(self.root)
        return out

    @property
    def ops(self) -> list[OpSpec]:
        return [n.op for n in self.nodes]

    @property
    def size(self) -> int:
        return len(self.nodes)

    @cached_property
    def params(self) -> str:
        return ", ".join(f"x{i}" for i in range(self.arity))

    def torch_fn(self) -> Callable[..., Any]:
        return compile_torch(self.params, self.source)

    def jax_fn(self) -> Callable[..., Any]:
        """The same tree composed from the registry's JAX callables."""

        def run(*arrays: Any) -> Any:
            return _jax_eval(self.root, arrays)

        return run

    @cached_property
    def key(self) -> str:
        """Structure, parameters and shapes: equal keys compute the same function."""
        return f"{self.source} | {self.leaf_shapes}"


def _label(e: Expr) -> str:
    if isinstance(e, Leaf):
        return e.code()
    return f"{e.op.name}({', '.join(_label(c) for c in e.children)})"


def _jax_eval(e: Expr, arrays: tuple[Any, ...]) -> Any:
    if isinstance(e, Leaf):
        return arrays[e.index]
    return e.op.jax(*(_jax_eval(c, arrays) for c in e.children), **e.call.kwargs)


def untied(tree: Tree) -> tuple[Tree, tuple[int, ...]]:
    """The tree with every use of a leaf made its own input, and the leaf each input stands for:
    ``div(x0, x0)`` becomes ``div(x0, x1)`` with uses ``(0, 0)``.  A tied leaf's gradient is the sum of
    its inputs' gradients in the untied tree."""
    uses: list[int] = []

    def visit(e: Expr) -> Expr:
        if isinstance(e, Leaf):
            uses.append(e.index)
            return Leaf(len(uses) - 1)
        return Node(e.op, e.call, tuple(visit(c) for c in e.children))

    root = visit(tree.root)
    shapes = tuple(tree.leaf_shapes[i] for i in uses)
    return Tree(root, shapes, tuple(tree.leaf_domains[i] for i in uses)), tuple(uses)


def single_op_tree(op: OpSpec, call: Call, domains: tuple[Domain, ...] | None = None) -> Tree:
    """The one-node tree ``op(x0, x1, ...)`` used by the per-op properties."""
    leaves = tuple(Leaf(i) for i in range(op.arity))
    domains = domains or tuple(op.domain_of(i) for i in range(op.arity))
    return Tree(Node(op, call, leaves), call.input_shapes, domains)
