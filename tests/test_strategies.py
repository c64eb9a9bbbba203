"""Meta-tests for the strategies: they produce valid inputs, in domain, exact in their dtype, off kinks."""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_conformance.jaxsetup  # noqa: F401
from autograd_conformance import tolerances as tol
from autograd_conformance.registry import OPS
from autograd_conformance.run_options import RunOptions
from autograd_conformance.strategies import labelled
from autograd_conformance.strategies.examples import draw_example, draw_op_example
from autograd_conformance.strategies.tensors import arrays
from autograd_conformance.strategies.trees import TREE_OPS, draw_op_tree, draw_tree


@settings(max_examples=3000, deadline=None)
@given(data=st.data())
def test_a_rule_that_says_it_produces_a_shape_can_draw_a_call_for_it(data) -> None:
    """Inside a tree an op is asked for any shape its parent needs (a split's input may be 6 long): where its
    rule says it ``produces`` that shape, drawing its call must not fail.  The soak found topk and the split
    family raising Hypothesis's InvalidArgument for an output longer than their pieces."""
    from autograd_conformance.strategies.trees import draw_call

    draw = labelled(data)
    op = draw(st.sampled_from(TREE_OPS), "op")
    out = tuple(draw(st.lists(st.integers(1, 6), max_size=3), "output shape"))
    if op.rule.produces(out):
        call = draw_call(draw, op, out)
        assert len(call.input_shapes) >= 1


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_op_examples_are_in_domain_off_kinks_and_run(data) -> None:
    draw = labelled(data)
    op = draw(st.sampled_from(OPS), "op")
    dtype = draw(st.sampled_from(op.dtypes), "dtype")
    ex = draw_op_example(draw, op, dtype, options=RunOptions())
    call = ex.tree.nodes[0].call
    assert [x.shape for x in ex.inputs] == list(call.input_shapes), f"{op.name}: inputs do not have the rule's shapes"
    for i, x in enumerate(ex.inputs):
        d = op.domain_of(i)
        if not d.matrix:
            assert d.contains(x, 0.0), f"{op.name}: x{i}={x} leaves {d}"
        if dtype == "float32":
            assert np.array_equal(x.astype(np.float32).astype(np.float64), x), (
                f"{op.name}: x{i} is not exact in float32"
            )
        assert np.all(np.isfinite(x))
    assert not op.is_near_kink(ex.inputs, call.kwargs, tol.DRAW_KINK_MARGIN), f"{op.name}: smooth example on a kink"
    out = ex.tree.torch_fn()(*[torch.tensor(x) for x in ex.inputs])
    assert tuple(out.shape) == ex.cotangent.shape, f"{op.name}: the seed u must have the output's shape"


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_trees_are_well_typed_and_within_budget(data) -> None:
    draw = labelled(data)
    max_ops = draw(st.integers(1, 8), "max ops")
    tree = draw_tree(draw, max_ops=max_ops)
    assert 1 <= tree.size <= max_ops, f"{tree.label}: {tree.size} ops for a budget of {max_ops}"
    assert all(op in TREE_OPS for op in tree.ops)
    ex = draw_example(draw, tree, "float64", options=RunOptions())
    torch.tensor(0)  # the rendered source must run: shapes typed correctly
    with torch.no_grad():
        out = tree.torch_fn()(*[torch.tensor(x) for x in ex.inputs])
    assert out.dtype == torch.float64


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_layouts_are_non_contiguous_but_hold_the_same_values(data) -> None:
    draw = labelled(data)
    op = draw(st.sampled_from([o for o in OPS if o.name in ("add", "mul", "sum_dim", "matmul", "transpose")]), "op")
    ex = draw_example(draw, draw_op_tree(draw, op), "float64", layouts=True, options=RunOptions())
    for i, (strided, plain) in enumerate(zip(ex.leaves(), ex.leaves(layouts=False))):
        assert torch.equal(strided, plain), f"layout {ex.layout(i)} changed the values"
        assert strided.is_leaf and strided.requires_grad


def test_float32_elements_are_exact_and_in_domain() -> None:
    from autograd_conformance.registry.spec import Domain

    @settings(max_examples=100, deadline=None)
    @given(x=arrays((4,), Domain(0.0, math.inf, kinks=(1.0,)), "float32"))
    def check(x: np.ndarray) -> None:
        assert np.all(x > 0) and np.all(np.abs(x - 1.0) > tol.DRAW_KINK_MARGIN)
        assert np.array_equal(x.astype(np.float32).astype(np.float64), x)

    check()


def test_a_wide_domain_samples_large_spreads_and_the_default_stays_bounded() -> None:
    """WIDE (the log-sum-exp family) reaches the spreads where stabilization matters; REALS keeps |x| ≤ BOUND."""
    from autograd_conformance.registry.spec import REALS, WIDE
    from autograd_conformance.strategies.tensors import BOUND

    widest: list[float] = []

    @settings(max_examples=200, deadline=None, database=None)
    @given(wide=arrays((4,), WIDE), plain=arrays((4,), REALS))
    def check(wide: np.ndarray, plain: np.ndarray) -> None:
        assert np.all(np.abs(wide) <= WIDE.spread), f"{wide} leaves |x| ≤ {WIDE.spread}"
        assert np.all(np.abs(plain) <= BOUND), f"{plain} leaves |x| ≤ {BOUND}"
        widest.append(float(np.ptp(wide)))

    check()
    assert max(widest) > 10 * BOUND / 3, f"WIDE never spread beyond {max(widest):.3g}: it is not wide"
