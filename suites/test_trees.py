"""Gradient properties of random expression trees: where composition bugs hide.

Trees are typed by shape, made of registry ops, up to 8 ops deep, and shrink to
the smallest failing tree.  They get more examples than the per-op cells.
"""

from __future__ import annotations

import pytest
from hypothesis import settings

from conformance import checks
from conformance.case import Case
from conformance.profiles import tree_examples
from conformance.registry import complex
from conformance.run_options import RunOptions
from strategies import labelled
from strategies.examples import draw_example, draw_tree_example
from strategies.trees import TREE_OPS, draw_tree
from suites.cases import cell, tree_cases
from suites.harness import judge

TREES = settings(max_examples=tree_examples())
BROADCASTING = [op for op in TREE_OPS if op.elementwise and op.arity > 1]
# Complex ops in their real views (conformance.registry.complex): a tree may start from real leaves
# (torch.complex, torch.polar), run through complex ops, and end real (abs, angle, real, vector_norm).
COMPLEX_TREE_OPS = [op for op in complex.OPS if op.in_trees]


@cell("vjp", tree_cases("float64"))
@TREES
def test_vjp_tree(case: Case, data, record, run_options: RunOptions) -> None:
    ex = draw_tree_example(labelled(data), "float64", max_ops=case.max_ops, options=run_options)
    judge(record, "vjp", ex, checks.vjp_matches_oracles(ex, seeded=True))


@cell("jvp", tree_cases("float64"))
@TREES
def test_jvp_tree(case: Case, data, record, run_options: RunOptions) -> None:
    draw = labelled(data)
    tree = draw_tree(draw, max_ops=case.max_ops, ops=[op for op in TREE_OPS if op.forward_ad])
    ex = draw_example(draw, tree, "float64", options=run_options)
    judge(record, "jvp", ex, checks.jvp_matches_oracles(ex))


@cell("second_order", tree_cases("float64", max_ops=4))
def test_second_order_tree(case: Case, data, record, run_options: RunOptions) -> None:
    draw = labelled(data)
    tree = draw_tree(draw, max_ops=case.max_ops, ops=[op for op in TREE_OPS if op.double_backward])
    ex = draw_example(draw, tree, "float64", second=True, options=run_options)
    judge(record, "second_order", ex, checks.second_order_matches_jax(ex))


@cell("float32", tree_cases("float32"))
@TREES
def test_float32_tree(case: Case, data, record, run_options: RunOptions) -> None:
    ex = draw_tree_example(labelled(data), "float32", max_ops=case.max_ops, options=run_options)
    judge(record, "float32", ex, checks.reduced_precision_matches_float64(ex))


@pytest.mark.slow  # a mode issue 14 added: see suites/test_gradients.py, NEW_MODES
@cell("autocast", tree_cases("bfloat16", max_ops=4))
@TREES
def test_autocast_tree(case: Case, data, record, run_options: RunOptions) -> None:
    """Trees under torch.autocast(bfloat16): bfloat16's tolerance where autocast lowers an op of the tree."""
    ex = draw_tree_example(labelled(data), "bfloat16", max_ops=case.max_ops, options=run_options)
    judge(record, "autocast", ex, checks.autocast_matches_float64(ex))


@cell("layout", tree_cases("float64"))
@TREES
def test_layout_tree(case: Case, data, record, run_options: RunOptions) -> None:
    ex = draw_tree_example(labelled(data), "float64", max_ops=case.max_ops, layouts=True, options=run_options)
    judge(record, "layout", ex, checks.layout_is_irrelevant(ex))


@cell("broadcast", tree_cases("float64", max_ops=4, name="tree:broadcasting"))
@TREES
def test_broadcast_tree(case: Case, data, record, run_options: RunOptions) -> None:
    """Gradients through broadcasting: trees of broadcasting binary and ternary ops only."""
    draw = labelled(data)
    ex = draw_example(draw, draw_tree(draw, max_ops=case.max_ops, ops=BROADCASTING), "float64", options=run_options)
    judge(record, "broadcast", ex, checks.vjp_matches_oracles(ex, seeded=True))


@cell("complex_vjp", tree_cases("complex128", max_ops=4))
@TREES
def test_complex_vjp_tree(case: Case, data, record, run_options: RunOptions) -> None:
    """Trees of complex ops, real → complex → real among them: y.backward(u) of the real view."""
    draw = labelled(data)
    ex = draw_example(draw, draw_tree(draw, max_ops=case.max_ops, ops=COMPLEX_TREE_OPS), "float64", options=run_options)
    judge(record, "complex_vjp", ex, checks.vjp_matches_oracles(ex, seeded=True))


@cell("complex_jvp", tree_cases("complex128", max_ops=4))
@TREES
def test_complex_jvp_tree(case: Case, data, record, run_options: RunOptions) -> None:
    """Trees of complex ops: forward mode with complex tangents (real views)."""
    draw = labelled(data)
    tree = draw_tree(draw, max_ops=case.max_ops, ops=[op for op in COMPLEX_TREE_OPS if op.forward_ad])
    ex = draw_example(draw, tree, "float64", options=run_options)
    judge(record, "complex_jvp", ex, checks.jvp_matches_oracles(ex))
