"""The oracle seam: a registered oracle is consulted by the properties, and can fail them.

A toy exact oracle that knows one op, a lone ``sin``, and its derivative ``cos`` by NumPy
(``sign=-1`` plants the wrong derivative ``-cos``), registered the way a real one is
(``autograd_conformance.oracles.register``).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from autograd_conformance import checks, oracles
from autograd_conformance.example import Example
from autograd_conformance.oracles import Estimate, ExactOracle
from autograd_conformance.registry import OPS_BY_NAME
from autograd_conformance.registry.spec import make_call
from autograd_conformance.tree import Tree, single_op_tree
from autograd_conformance.verdict import Outcome, Verdict


class NumpySin(ExactOracle):
    """d sin(x) = cos(x) dx, so Jᵀu = cos(x)·u (times ``sign``)."""

    def __init__(self, sign: float = 1.0):
        self.name, self.sign = "numpy-sin", sign

    def supports(self, tree: Tree) -> bool:
        return [op.name for op in tree.ops] == ["sin"]

    def vjp(self, ex: Example) -> Estimate:
        return Estimate([self.sign * np.cos(ex.inputs[0]) * ex.cotangent])


def example(op: str) -> Example:
    """A fresh example of one op on three inputs (nothing memoised yet)."""
    tree = single_op_tree(OPS_BY_NAME[op], make_call([(3,)]))
    return Example(tree, [np.array([0.3, -0.7, 1.1])], cotangent=np.array([1.0, 0.5, -2.0]), direction=[np.ones(3)])


def summary(outcomes: list[Outcome]) -> list[tuple[str, Verdict]]:
    return [(o.oracle, o.verdict) for o in outcomes]


@pytest.fixture
def toy(request: pytest.FixtureRequest) -> Iterator[NumpySin]:
    """The toy oracle, registered for one test (``sign`` by indirect parametrization, else 1)."""
    oracle = oracles.register(NumpySin(getattr(request, "param", 1.0)))
    try:
        yield oracle
    finally:
        oracles.unregister(oracle)


def test_only_the_builtin_oracles_are_registered() -> None:
    assert [o.name for o in oracles.ORACLES] == ["jax", "fd"]


def test_the_vjp_property_consults_a_registered_oracle(toy: NumpySin) -> None:
    assert summary(checks.vjp_matches_oracles(example("sin"))) == [
        ("jax", Verdict.PASS),
        ("fd", Verdict.PASS),
        ("numpy-sin", Verdict.PASS),
    ]
    # an oracle is asked only about the trees it supports, and only what it computes (no jvp here)
    assert summary(checks.vjp_matches_oracles(example("cos"))) == [("jax", Verdict.PASS), ("fd", Verdict.PASS)]
    assert [o.oracle for o in checks.jvp_matches_oracles(example("sin"))] == ["jax", "fd", "reverse"]


@pytest.mark.parametrize("toy", [-1.0], indirect=True)
def test_a_wrong_oracle_fails_the_property(toy: NumpySin) -> None:
    """torch is right and so are JAX and FD: only the comparison with the wrong toy oracle fails."""
    outcomes = checks.vjp_matches_oracles(example("sin"))
    assert summary(outcomes) == [("jax", Verdict.PASS), ("fd", Verdict.PASS), ("numpy-sin", Verdict.FAIL)]
    assert "numpy-sin gives" in outcomes[-1].message


def test_unregistering_restores_the_outcomes() -> None:
    before = checks.vjp_matches_oracles(example("sin"))
    oracle = oracles.register(NumpySin(-1.0))
    try:
        assert len(checks.vjp_matches_oracles(example("sin"))) == len(before) + 1
        with pytest.raises(ValueError, match="already registered"):
            oracles.register(NumpySin())
    finally:
        oracles.unregister(oracle)
    assert checks.vjp_matches_oracles(example("sin")) == before
