"""Whole examples: a tree, its inputs, seeds and layouts, ready for ``autograd_conformance.checks``."""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from autograd_conformance import tolerances as tol
from autograd_conformance.example import LAYOUTS, Example
from autograd_conformance.registry.shapes import Draw
from autograd_conformance.registry.spec import OpSpec
from autograd_conformance.run_options import RunOptions
from autograd_conformance.strategies.tensors import arrays, seeds
from autograd_conformance.strategies.trees import draw_op_tree, draw_tree
from autograd_conformance.tree import Tree


def draw_inputs(draw: Draw, tree: Tree, dtype: str) -> list[np.ndarray]:
    return [draw(arrays(s, d, dtype), f"x{i}") for i, (s, d) in enumerate(zip(tree.leaf_shapes, tree.leaf_domains))]


def draw_example(
    draw: Draw,
    tree: Tree,
    dtype: str = "float64",
    *,
    options: RunOptions,
    layouts: bool = False,
    second: bool = False,
    third: bool = False,
) -> Example:
    """Inputs, the seeds u, v (w with ``second``, w and t with ``third``) and leaf layouts for ``tree``,
    run as ``options`` say.

    The second-order seeds w and the leaf layouts are drawn whether or not they are asked for, and dropped when
    not: every example then makes the same number of choices, so cells that share a seed (the ci profile's
    per-op cells, ``suites.cases.PER_OP_SEED``) draw the same shapes in every example, not only the first, and
    share the JAX programs compiled for them (one per op and shape: most of a cold run)."""
    inputs = draw_inputs(draw, tree, dtype)
    out_shape = _output_shape(tree, inputs)
    cotangent = draw(seeds(out_shape, dtype), "u (vector seed)")
    direction = [draw(seeds(x.shape, dtype), f"v{i} (direction)") for i, x in enumerate(inputs)]
    unused = "" if second or third else ", drawn and unused"
    w = [draw(seeds(x.shape), f"w{i} (second-order seed{unused})") for i, x in enumerate(inputs)]
    second_seeds = w if second or third else []
    third_seeds = [draw(seeds(x.shape), f"t{i} (third-order seed)") for i, x in enumerate(inputs)] if third else []
    drawn_layouts = tuple(
        draw(st.sampled_from(_layouts_for(d)), f"x{i} layout{'' if layouts else ' (drawn and unused)'}")
        for i, d in enumerate(tree.leaf_domains)
    )
    leaf_layouts: tuple[str, ...] = ()
    if layouts:
        leaf_layouts = drawn_layouts
        inputs = [_constant_along_0(x) if lay == "expanded" else x for x, lay in zip(inputs, leaf_layouts)]
    return Example(
        tree=tree,
        inputs=inputs,
        dtype=dtype,
        cotangent=cotangent,
        direction=direction,
        second=second_seeds,
        third=third_seeds,
        layouts=leaf_layouts,
        options=options,
    )


def _output_shape(tree: Tree, inputs: list[np.ndarray]) -> tuple[int, ...]:
    """The tree's output shape (for the seed u).  Where torch's forward raises at this point
    (eigh of a matrix holding inf after a pole upstream) the shape comes from JAX's shape
    evaluation, and the checks then judge the point INCONCLUSIVE rather than the draw crashing."""
    import torch

    try:
        with torch.no_grad():
            return tuple(tree.torch_fn()(*[torch.tensor(x) for x in inputs]).shape)
    except Exception:  # noqa: BLE001 - the verdict, not the strategy, decides what a raise means
        import jax

        return tuple(jax.eval_shape(tree.jax_fn(), *inputs).shape)


def _layouts_for(domain) -> tuple[str, ...]:
    """Non-contiguous layouts a leaf can take; an expanded (row-repeated) matrix would be singular."""
    return ("transposed", "sliced") if domain.matrix else LAYOUTS[1:]


def _constant_along_0(x: np.ndarray) -> np.ndarray:
    """An expanded leaf repeats one row: make the values agree with that layout."""
    return np.broadcast_to(x[:1], x.shape).copy() if x.ndim else x


def draw_op_example(draw: Draw, op: OpSpec, dtype: str = "float64", *, options: RunOptions, **kw: bool) -> Example:
    """One op on fresh inputs, kept off the op's kinks and ties (smooth checks)."""
    tree = draw_op_tree(draw, op)
    ex = draw_example(draw, tree, dtype, options=options, **kw)
    assume(not op.is_near_kink(ex.inputs, tree.nodes[0].call.kwargs, tol.draw_kink_margin(dtype)))
    return ex


def draw_tree_example(
    draw: Draw, dtype: str = "float64", *, options: RunOptions, max_ops: int = 8, **kw: bool
) -> Example:
    return draw_example(draw, draw_tree(draw, max_ops=max_ops), dtype, options=options, **kw)


def same_operand_ops(ops) -> list[OpSpec]:
    """Binary elementwise ops that can take one tensor twice (``x * x``): same domain, no tie kinks."""
    return [
        op
        for op in ops
        if op.elementwise and op.arity == 2 and op.near_kink is None and op.domain_of(0) == op.domain_of(1)
    ]


def draw_same_operand_example(draw: Draw, op: OpSpec, dtype: str = "float64", *, options: RunOptions) -> Example:
    """``op(x0, x0)``: both operands are the same tensor, so autograd must add both contributions."""
    from autograd_conformance.registry.shapes import shapes
    from autograd_conformance.registry.spec import make_call
    from autograd_conformance.tree import Leaf, Node, Tree

    shape = draw(shapes(), "shape of x0")
    params = {name: draw(strategy, f"{op.name}: {name}") for name, strategy in op.params.items()}
    tree = Tree(Node(op, make_call([shape, shape], **params), (Leaf(0), Leaf(0))), (shape,), (op.domain_of(0),))
    ex = draw_example(draw, tree, dtype, options=options)
    assume(not op.is_near_kink([ex.inputs[0], ex.inputs[0]], params, tol.DRAW_KINK_MARGIN))
    return ex
