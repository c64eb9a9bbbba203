"""The semantics suites' trees at a pole: torch's forward raising there is INCONCLUSIVE, elsewhere it is not excused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis.errors import UnsatisfiedAssumption

import autograd_conformance.jaxsetup  # noqa: F401
from autograd_conformance.registry import OPS_BY_NAME
from autograd_conformance.registry.spec import make_call
from autograd_conformance.reports.recorder import Recorder
from autograd_conformance.strategies.semantics import MaskedTree, reject_where_singular
from autograd_conformance.tree import Leaf, Node, Tree


def eigh_of_reciprocal() -> Tree:
    """eigvalsh(1 / x0): a zero in x0 hands eigh an inf off the diagonal, and a
    3×3 eigh raises ``_LinAlgError`` ("failed to converge") there."""
    reciprocal, eigh = OPS_BY_NAME["reciprocal"], OPS_BY_NAME["eigvalsh"]
    inner = Node(reciprocal, make_call([(3, 3)]), (Leaf(0),))
    return Tree(Node(eigh, make_call([(3, 3)], n=3), (inner,)), ((3, 3),), (reciprocal.domain_of(0),))


AT_A_POLE = np.array([[2.0, 1.0, 0.0], [-1.0, 3.0, 0.5], [2.0, -0.5, 1.5]])
FINITE = np.where(AT_A_POLE == 0, 0.25, AT_A_POLE)


def test_a_forward_that_raises_at_a_pole_is_inconclusive() -> None:
    ex = MaskedTree(eigh_of_reciprocal(), [AT_A_POLE], [True])
    record = Recorder()
    with pytest.raises(UnsatisfiedAssumption):  # Hypothesis draws another example
        reject_where_singular(record, ex)
    assert record.counts == {"inconclusive": 1}
    assert "not finite here (at eigvalsh)" in next(iter(record.undecided_reasons))


def test_a_finite_point_is_kept_and_checked() -> None:
    ex = MaskedTree(eigh_of_reciprocal(), [FINITE], [True])
    record = Recorder()
    reject_where_singular(record, ex)  # the forward runs: nothing recorded, the test goes on
    assert record.counts == {}


def test_a_raise_at_a_finite_point_is_not_excused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A forward that raises where the tree is finite is left to the test, which fails on it."""
    import torch

    def broken(*args, **kwargs):
        raise RuntimeError("planted: eigvalsh raises on a finite matrix")

    monkeypatch.setattr(torch.linalg, "eigvalsh", broken)
    ex = MaskedTree(eigh_of_reciprocal(), [FINITE], [True])
    record = Recorder()
    reject_where_singular(record, ex)
    assert record.counts == {}
    with pytest.raises(RuntimeError, match="planted"):
        ex.forward(ex.leaves())


def test_a_forward_that_raises_only_with_grad_at_a_pole_is_inconclusive() -> None:
    """svdvals(1 / x0) at x0 = 0: svd of a matrix of infs returns nan under no_grad and raises only
    when the output needs a gradient (torch then computes U and V); the probe tries both
    (README command, seed 1786388407, semantics.accumulation/repeat)."""
    import torch

    reciprocal, svdvals = OPS_BY_NAME["reciprocal"], OPS_BY_NAME["svdvals"]
    tree = Tree(Node(svdvals, make_call([(3, 3)]), (Node(reciprocal, make_call([(3, 3)]), (Leaf(0),)),)),
                ((3, 3),), (reciprocal.domain_of(0),))  # fmt: skip
    ex = MaskedTree(tree, [np.zeros((3, 3))], [False])
    with torch.no_grad():
        assert not torch.isfinite(ex.forward(ex.leaves([False]))).all()  # no raise without grad
    record = Recorder()
    with pytest.raises(UnsatisfiedAssumption):
        reject_where_singular(record, ex)
    assert record.counts == {"inconclusive": 1}


def test_a_forward_that_raises_at_an_ops_singular_point_is_inconclusive() -> None:
    """lstsq with driver 'gels' raises at a rank-deficient A, the rank drop its entry declares a kink
    (the soak, seed 2561099462, semantics.requires_grad/lstsq); a full-rank A is kept."""
    lstsq = OPS_BY_NAME["lstsq"]
    tree = Tree(Node(lstsq, make_call([(2, 2), (2, 1)], driver="gels"), (Leaf(0), Leaf(1))), ((2, 2), (2, 1)),
                (lstsq.domain_of(0), lstsq.domain_of(1)))  # fmt: skip
    rank_one = MaskedTree(tree, [np.array([[0.0, 0.0], [0.0, 1.0]]), np.zeros((2, 1))], [False, False])
    record = Recorder()
    with pytest.raises(UnsatisfiedAssumption):
        reject_where_singular(record, rank_one)
    assert record.counts == {"inconclusive": 1}
    assert "lstsq is at a singular point" in next(iter(record.undecided_reasons))
    full_rank = MaskedTree(tree, [np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros((2, 1))], [False, False])
    reject_where_singular(Recorder(), full_rank)  # the forward runs: the test goes on
