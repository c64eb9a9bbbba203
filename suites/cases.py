"""The suites' parameter lists (``autograd_conformance.case.Case`` with readable ids, ``test_vjp[sin-float64]``)
and ``cell``, the decorator that makes a test one row of the conformance matrix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st

from autograd_conformance.case import Case
from autograd_conformance.registry import OPS, OpSpec, complex, low_precision

Test = TypeVar("Test", bound=Callable[..., Any])

# Under a derandomized profile (ci) every per-op cell draws from this one seed, so an op's cells draw the
# same shapes and parameters (vjp, scalar_backward, jvp, second_order and variant the same inputs too) and share
# the JAX programs compiled for them.  Measured on a 10% sample of the ci cells, cold (twelfth session): 750 programs and
# 145 s with a seed per property, 467 programs and 102 s with this one.  Tree and scenario cells keep
# their own seeds (Hypothesis derives one from each test function).  The cells share every example's shapes,
# not only the first's, because every example makes the same choices whatever the cell uses of them
# (autograd_conformance/strategies/examples.draw_example): the sample's 412 programs became 340 (thirteenth session).
PER_OP_SEED = 0


def cell(property: str, cases: list[Any]) -> Callable[[Test], Test]:
    """A conformance test: ``property`` names its row in the report, one cell per case, one
    Hypothesis ``data`` per example.  The test takes ``case``, ``data`` and whatever fixtures
    it uses (``record``, ``run_options``).  A ``@settings`` below it applies to every case."""

    def decorate(test: Test) -> Test:
        test = given(data=st.data())(test)
        if settings().derandomize and all(_is_per_op(param.values[0]) for param in cases):
            test = seed(PER_OP_SEED)(test)
        test = pytest.mark.parametrize("case", cases)(test)
        return pytest.mark.conformance(property=property)(test)

    return decorate


def _is_per_op(case: Any) -> bool:
    return isinstance(case, Case) and case.family not in ("trees", "semantics")


def op_cases(dtype: str, where: Callable[[OpSpec], bool] = lambda op: True) -> list[Any]:
    """One case per registry op that supports ``dtype`` (bfloat16 and float16: measured to, in
    ``autograd_conformance.registry.low_precision``; complex128 and complex64: the ops of
    ``autograd_conformance.registry.complex``) and satisfies ``where``."""
    ops = complex.OPS if dtype in complex.COMPLEX_DTYPES else OPS
    return [
        # One xdist group per op (`--dist loadgroup`): an op's JAX functions compile on one worker only.
        pytest.param(case, id=case.id, marks=pytest.mark.xdist_group(op.name))
        for op in ops
        if (dtype in op.dtypes or low_precision.supports(op, dtype)) and where(op)
        for case in [Case(op.name, op.family, dtype)]
    ]


def tree_cases(dtype: str, max_ops: int = 8, name: str = "tree") -> list[Any]:
    """One case: random trees of up to ``max_ops`` registry ops (``name`` says which ops, "tree" for any)."""
    case = Case(name, "trees", dtype, max_ops)
    return [pytest.param(case, id=case.id)]


def sem_cases(*names: str, dtype: str = "float64") -> list[Any]:
    """One case per semantics scenario."""
    return [pytest.param(case, id=case.id) for name in names for case in [Case(name, "semantics", dtype)]]
