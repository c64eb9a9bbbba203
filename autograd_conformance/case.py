"""The one case type: what a conformance test is parametrized over (its column of the matrix).

A cell of the matrix is a property (the test's row) × a case: an op, a tree, or a semantics
scenario, in a dtype.  ``suites/cases.py`` builds the parameter lists; the results plugin reads
the cell back from the case (``autograd_conformance.reports.recorder.cell_of``).  Torch-free.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from autograd_conformance.registry import OpSpec


class Case(NamedTuple):
    op: str  # a registry op, "tree" (trees of any registry ops), or a semantics scenario ("Module", "freed", ...)
    family: str  # the op's registry family, "trees" or "semantics"
    dtype: str
    max_ops: int = 1  # the most ops a drawn tree may have (1: a single op)

    @property
    def id(self) -> str:
        """The test id's parameter part: ``test_vjp[sin-float64]``."""
        return f"{self.op}-{self.dtype}"

    @property
    def spec(self) -> OpSpec:
        """The registry entry of a single-op case."""
        from autograd_conformance.registry import OPS_BY_NAME, complex

        table = complex.OPS_BY_NAME if self.dtype in complex.COMPLEX_DTYPES else OPS_BY_NAME
        return table[self.op]
