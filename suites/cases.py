"""Parametrized cases as small NamedTuples with readable ids (``test_vjp[sin-float64]``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import pytest

from conformance.registry import OPS, OpSpec


class OpCase(NamedTuple):
    op: str
    family: str
    dtype: str

    @property
    def spec(self) -> OpSpec:
        from conformance.registry import OPS_BY_NAME

        return OPS_BY_NAME[self.op]

    @property
    def id(self) -> str:
        return f"{self.op}-{self.dtype}"


class TreeCase(NamedTuple):
    op: str  # "tree" (any registry op) or a family name ("tree:binary")
    family: str
    dtype: str
    max_ops: int

    @property
    def id(self) -> str:
        return f"{self.op}-{self.dtype}"


def op_cases(dtype: str, where: Callable[[OpSpec], bool] = lambda op: True) -> list:
    """One case per registry op that supports ``dtype`` and satisfies ``where``."""
    return [
        # One xdist group per op (`--dist loadgroup`): an op's JAX functions compile on one worker only.
        pytest.param(
            OpCase(op.name, op.family, dtype),
            id=OpCase(op.name, op.family, dtype).id,
            marks=pytest.mark.xdist_group(op.name),
        )
        for op in OPS
        if dtype in op.dtypes and where(op)
    ]


def tree_cases(dtype: str, max_ops: int = 8) -> list:
    case = TreeCase("tree", "trees", dtype, max_ops)
    return [pytest.param(case, id=case.id)]
