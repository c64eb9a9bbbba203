"""A planted fault in ``torch.autograd.functional`` (issue 16's sharpness list), through its public API.

* ``jacobian_transposed`` – ``torch.autograd.functional.jacobian`` returns a non-square Jacobian's
  entries transposed (Jᵀ's elements in J's shape); square ones stay right.  ``hessian`` calls
  ``jacobian`` for its outer derivative, so its off-diagonal blocks of different sizes are wrong too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import torch
import torch.autograd.functional as AF  # noqa: N812

from tests.faults.semantics import Fault


@dataclass(frozen=True)
class FunctionalFault(Fault):
    """``allowed``: every property whose FAIL attributes it correctly."""

    allowed: tuple[str, ...] = ()


def _as_tuple(x: Any) -> tuple:
    return x if isinstance(x, tuple) else (x,)


def _transposed(block: torch.Tensor, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    if out.numel() == x.numel():
        return block
    return block.reshape(out.numel(), x.numel()).T.contiguous().reshape(block.shape)


@contextlib.contextmanager
def _jacobian_transposed() -> Iterator[None]:
    original = AF.jacobian

    def jacobian(func: Any, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(func, inputs, *args, **kwargs)
        with torch.enable_grad():
            outs = func(*_as_tuple(inputs))
        xs = _as_tuple(inputs)
        if not isinstance(outs, tuple):
            if not isinstance(inputs, tuple):
                return _transposed(result, outs, inputs)
            return tuple(_transposed(b, outs, x) for b, x in zip(result, xs))
        if not isinstance(inputs, tuple):
            return tuple(_transposed(b, o, inputs) for b, o in zip(result, outs))
        return tuple(tuple(_transposed(b, o, x) for b, x in zip(row, xs)) for row, o in zip(result, outs))

    with mock.patch.object(AF, "jacobian", jacobian):
        yield


JACOBIAN_PROPERTIES = (
    "functional.jacobian", "functional.jacobian_vectorized", "functional.jacobian_forward",
    "functional.hessian", "functional.hessian_vectorized",
)  # fmt: skip
FAULTS: list[FunctionalFault] = [
    FunctionalFault(
        "jacobian_transposed", "jacobian returns the transpose of a non-square Jacobian", "functional.jacobian",
        ("suites/test_functional_api.py",), _jacobian_transposed, allowed=JACOBIAN_PROPERTIES,
    ),
]  # fmt: skip
