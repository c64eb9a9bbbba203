"""Gradient properties of random expression trees: where composition bugs hide.

Trees are typed by shape, made of registry ops, up to 8 ops deep, and shrink to
the smallest failing tree.  They get more examples than the per-op cells.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance import checks
from conformance.profiles import tree_examples
from strategies import labelled
from strategies.examples import draw_example, draw_tree_example
from strategies.trees import TREE_OPS, draw_tree
from suites.cases import TreeCase, tree_cases
from suites.harness import judge

TREES = settings(max_examples=tree_examples())
BROADCASTING = [op for op in TREE_OPS if op.elementwise and op.arity > 1]


@pytest.mark.conformance(property="vjp")
@pytest.mark.parametrize("case", tree_cases("float64"))
@TREES
@given(data=st.data())
def test_vjp_tree(case: TreeCase, data, record) -> None:
    ex = draw_tree_example(labelled(data), "float64", max_ops=case.max_ops)
    judge(record, "vjp", ex, checks.vjp_matches_oracles(ex, seeded=True))


@pytest.mark.conformance(property="jvp")
@pytest.mark.parametrize("case", tree_cases("float64"))
@TREES
@given(data=st.data())
def test_jvp_tree(case: TreeCase, data, record) -> None:
    draw = labelled(data)
    tree = draw_tree(draw, max_ops=case.max_ops, ops=[op for op in TREE_OPS if op.forward_ad])
    ex = draw_example(draw, tree, "float64")
    judge(record, "jvp", ex, checks.jvp_matches_oracles(ex))


@pytest.mark.conformance(property="second_order")
@pytest.mark.parametrize("case", tree_cases("float64", max_ops=4))
@given(data=st.data())
def test_second_order_tree(case: TreeCase, data, record) -> None:
    draw = labelled(data)
    tree = draw_tree(draw, max_ops=case.max_ops, ops=[op for op in TREE_OPS if op.double_backward])
    ex = draw_example(draw, tree, "float64", second=True)
    judge(record, "second_order", ex, checks.second_order_matches_jax(ex))


@pytest.mark.conformance(property="float32")
@pytest.mark.parametrize("case", tree_cases("float32"))
@TREES
@given(data=st.data())
def test_float32_tree(case: TreeCase, data, record) -> None:
    ex = draw_tree_example(labelled(data), "float32", max_ops=case.max_ops)
    judge(record, "float32", ex, checks.float32_matches_float64(ex))


@pytest.mark.conformance(property="layout")
@pytest.mark.parametrize("case", tree_cases("float64"))
@TREES
@given(data=st.data())
def test_layout_tree(case: TreeCase, data, record) -> None:
    ex = draw_tree_example(labelled(data), "float64", max_ops=case.max_ops, layouts=True)
    judge(record, "layout", ex, checks.layout_is_irrelevant(ex))


@pytest.mark.conformance(property="broadcast")
@pytest.mark.parametrize(
    "case", [pytest.param(TreeCase("tree:broadcasting", "trees", "float64", 4), id="tree:broadcasting-float64")]
)
@TREES
@given(data=st.data())
def test_broadcast_tree(case: TreeCase, data, record) -> None:
    """Gradients through broadcasting: trees of broadcasting binary and ternary ops only."""
    draw = labelled(data)
    ex = draw_example(draw, draw_tree(draw, max_ops=case.max_ops, ops=BROADCASTING), "float64")
    judge(record, "broadcast", ex, checks.vjp_matches_oracles(ex, seeded=True))
