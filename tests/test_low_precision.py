"""bfloat16, float16 and autocast (issue 14, item 4): inputs drawn exact in the dtype, the check passing on
correct torch and failing on the planted fault ``tanh_bfloat16_only`` in bfloat16 alone, the calibrated
table's rules, and autocast's choice of tolerance."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_conformance import checks
from autograd_conformance.example import DTYPES, Example
from autograd_conformance.registry import OPS_BY_NAME, low_precision
from autograd_conformance.registry.spec import Domain, make_call
from autograd_conformance.strategies.tensors import elements, exact_in, seeds
from autograd_conformance.tolerances import REDUCED_RTOL_PER_OP
from autograd_conformance.tree import Leaf, Node, Tree, single_op_tree, untied
from autograd_conformance.verdict import Verdict, worst
from tests.faults import FAULTS_BY_NAME

LOW = ("bfloat16", "float16")


@pytest.mark.parametrize("dtype", LOW)
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_drawn_values_are_exact_in_the_dtype_and_inside_the_domain(dtype: str, data) -> None:
    domain = data.draw(st.sampled_from([Domain(-3.0, 3.0), Domain(0.1, 2.9), Domain(-1.0, 1.0, kinks=(0.0,))]))
    v = data.draw(elements(domain, dtype))
    assert float(torch.tensor(v, dtype=DTYPES[dtype]).double()) == v
    assert domain.low < v < domain.high
    u = data.draw(seeds((3,), dtype))
    np.testing.assert_array_equal(exact_in(u, dtype), u)


def test_float16_draws_nothing_subnormal() -> None:
    """float16's subnormals (below 2**-14) hold 10 bits no longer: such draws become 0."""

    @settings(max_examples=300, deadline=None)
    @given(elements(Domain(-1e-3, 1e-3), "float16"))
    def check(v: float) -> None:
        assert v == 0.0 or abs(v) >= 2.0**-14

    check()


def _example(op: str, dtype: str, x: np.ndarray) -> Example:
    tree = single_op_tree(OPS_BY_NAME[op], make_call([x.shape]))
    u = exact_in(np.array([0.5, -1.0, 0.75, 0.25]), dtype)
    return Example(tree, [exact_in(x, dtype)], dtype=dtype, cotangent=u, direction=[np.ones_like(x)])


X = np.array([-1.5, -0.25, 0.5, 2.0])


@pytest.mark.parametrize("dtype", ("float32", *LOW))
@pytest.mark.parametrize("op", ("sin", "exp", "sigmoid", "tanh"))
def test_the_check_passes_on_correct_torch(op: str, dtype: str) -> None:
    outcome = worst(checks.reduced_precision_matches_float64(_example(op, dtype, X)))
    assert outcome.verdict is Verdict.PASS, outcome.message


def test_the_planted_bfloat16_fault_fails_in_bfloat16_only() -> None:
    with FAULTS_BY_NAME["tanh_bfloat16_only"].patch():
        verdicts = {d: worst(checks.reduced_precision_matches_float64(_example("tanh", d, X))).verdict
                    for d in ("float32", *LOW)}  # fmt: skip
    assert verdicts == {"float32": Verdict.PASS, "bfloat16": Verdict.FAIL, "float16": Verdict.PASS}, verdicts


def test_a_wrong_gradient_fails_even_inside_the_bfloat16_tolerance_of_a_neighbour() -> None:
    """The per-op tolerance is 2 bfloat16 ulps (1.6%): a 10% error fails, a 0.5% one passes."""
    ex = _example("sin", "bfloat16", X)
    right = [np.cos(X) * ex.cotangent]
    assert worst(checks.reduced_precision_matches_float64(ex, torch_vjp=[right[0] * 1.10])).verdict is Verdict.FAIL
    assert worst(checks.reduced_precision_matches_float64(ex, torch_vjp=[right[0] * 1.005])).verdict is Verdict.PASS


def test_calibration_never_widens_past_the_rounding_ceiling(monkeypatch: pytest.MonkeyPatch) -> None:
    sin = OPS_BY_NAME["sin"]
    monkeypatch.setitem(low_precision.MEASURED, "sin", {"bfloat16": (25, 0.05), "float16": (25, 0.5)})
    default = REDUCED_RTOL_PER_OP["bfloat16"]
    assert low_precision.calibrated_rtol(sin, "bfloat16") == pytest.approx(2 * 0.05 - default)
    assert low_precision.calibrated_rtol(sin, "float16") == 0.0  # 0.5 is a finding, not rounding
    monkeypatch.setitem(low_precision.MEASURED, "sin", {"bfloat16": (25, 0.001)})
    assert low_precision.calibrated_rtol(sin, "bfloat16") == 0.0  # inside the default: no override
    assert low_precision.supports(sin, "bfloat16") and not low_precision.supports(sin, "float16")


def test_autocast_holds_lowered_ops_to_bfloat16_and_others_to_float32() -> None:
    """matmul runs in bfloat16 under autocast: its tolerance is bfloat16's; sin stays float32 and is held to
    float32's, so a 1e-3 error there would fail."""
    a = exact_in(np.array([[0.5, -1.0], [0.25, 2.0]]), "bfloat16")
    b = exact_in(np.array([[1.5, 0.5], [-0.75, 1.0]]), "bfloat16")
    matmul = single_op_tree(OPS_BY_NAME["matmul"], make_call([a.shape, b.shape]))
    u = exact_in(np.array([[1.0, -0.5], [0.25, 0.75]]), "bfloat16")
    lowered = Example(matmul, [a, b], dtype="bfloat16", cotangent=u, direction=[np.ones_like(a), np.ones_like(b)])
    (o,) = checks.autocast_matches_float64(lowered)
    assert o.verdict is Verdict.PASS and o.tol > 1e-2, (o.tol, o.message)
    (o,) = checks.autocast_matches_float64(_example("sin", "bfloat16", X))
    assert o.verdict is Verdict.PASS and o.tol < 1e-3, (o.tol, o.message)


def test_a_tied_leaf_is_held_to_its_uses_magnitude_not_to_their_cancelled_sum() -> None:
    """div(x0, x0)'s gradient is exactly 0, but float32 adds up +u/x0 and -u/x0 (413 each here): the soak's
    x0 = 5.7e-5, u = 0.024 gave -3e-5, 0.6 ulp of 413.  That passes; an error of 1% of 413 still fails."""
    x0, u = exact_in(np.array(5.726039671571925e-05), "float32"), exact_in(np.array(0.0236432496458292), "float32")
    div = OPS_BY_NAME["div"]
    tree = Tree(Node(div, make_call([(), ()]), (Leaf(0), Leaf(0))), ((),), (div.domain_of(0),))
    ex = Example(tree, [x0], dtype="float32", cotangent=u, direction=[np.ones_like(x0)])
    contribution = float(u / x0)
    assert (
        worst(checks.reduced_precision_matches_float64(ex, torch_vjp=[np.array(-3.0517578125e-05)])).verdict
        is Verdict.PASS
    )
    wrong = np.array(0.01 * contribution)
    assert worst(checks.reduced_precision_matches_float64(ex, torch_vjp=[wrong])).verdict is Verdict.FAIL


def test_untied_makes_every_use_of_a_leaf_its_own_input() -> None:
    mul, sin = OPS_BY_NAME["mul"], OPS_BY_NAME["sin"]
    tree = Tree(
        Node(mul, make_call([(2,), (2,)]), (Node(sin, make_call([(2,)]), (Leaf(1),)), Leaf(1))),
        ((3,), (2,)), (mul.domain_of(0), mul.domain_of(1)),
    )  # fmt: skip
    free, uses = untied(tree)
    assert (free.source, uses, free.leaf_shapes) == ("torch.sin(x0) * x1", (1, 1), ((2,), (2,)))


def test_a_broadcast_leaf_is_held_to_its_contributions_not_to_their_cancelled_sum() -> None:
    """bfloat16 pow(0.25, y): the scalar base's gradient sums u·y·0.25^(y-1) over y, here +62 and -61 into
    1.16, and torch's 1.75 (the modes soak's point) is within the rounding of those contributions, so it
    passes; an error of 10% of a contribution (6.2) still fails, and so would the soak's error without a
    broadcast to blame."""
    pow_ = OPS_BY_NAME["pow"]
    x0 = exact_in(np.array(0.25), "bfloat16")
    y = np.zeros((1, 3, 4))
    y[0, 2, 0], y[0, 2, 3] = -1.8984375, -1.875
    u = exact_in(
        np.array([[[-0.9765625, -1.0, -0.31640625, -0.3203125], [-0.5625, 0.9609375, 0.87890625, 0.29296875],
                   [-0.58984375, 0.875, -0.37890625, 0.60546875]]]), "bfloat16")  # fmt: skip
    tree = single_op_tree(pow_, make_call([(), y.shape]))
    ex = Example(tree, [x0, y], dtype="bfloat16", cotangent=u, direction=[np.ones_like(x0), np.ones_like(y)])
    reference = checks.reference(ex).vjp
    torch_says = [np.array(1.75), reference[1]]
    assert worst(checks.reduced_precision_matches_float64(ex, torch_vjp=torch_says)).verdict is Verdict.PASS
    wrong = [reference[0] + 6.2, reference[1]]
    assert worst(checks.reduced_precision_matches_float64(ex, torch_vjp=wrong)).verdict is Verdict.FAIL
