"""Planted faults in in-place ops on views (issue 16's sharpness list), through torch's public API.

* ``inplace_view_untracked`` – an in-place op on a view whose gradient skips the base:
  ``Tensor.mul_``, ``add_`` and the suite's other in-place methods, on a view with grad mode on, run under
  ``torch.no_grad()``, so the value changes but autograd never records the op (no CopySlices; the
  gradient misses the op's derivative);
* ``inplace_view_tangent_dropped`` – an in-place op on a view of a dual tensor leaves the base's tangent
  alone: ``Tensor.mul_``, ``add_`` and the others on such a view write through ``detach()``, which
  changes the value but not the tangent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import torch
import torch.autograd.forward_ad as fwAD  # noqa: N812

from tests.faults.hooks import HookFault

FILE = "suites/test_semantics_inplace.py"
# The case whose base requires grad from the start: its plain sibling meets a known torch finding
# (baselines/torch-*.txt, param.stale_view), and runs with a fault, or without one, use no baseline.
REVERSE = (f"{FILE}::test_inplace_on_views[tree-float64]", f"{FILE}::test_inplace_errors")
FORWARD = (f"{FILE}::test_inplace_forward",)
# The in-place methods the suite's programs call by name (indexing assignment goes through C++, not these).
NAMES = (
    "mul_",
    "div_",
    "add_",
    "sub_",
    "addcmul_",
    "copy_",
    "neg_",
    "sin_",
    "cos_",
    "pow_",
    "zero_",
    "fill_",
    "exp_",
    "tanh_",
)


def _patched(wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> Callable[[], Any]:
    @contextlib.contextmanager
    def patch() -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            for name in NAMES:
                stack.enter_context(mock.patch.object(torch.Tensor, name, wrap(getattr(torch.Tensor, name))))
            yield

    return patch


def _untracked(original: Callable[..., Any]) -> Callable[..., Any]:
    def op(self: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        if self._base is not None and torch.is_grad_enabled():
            with torch.no_grad():
                return original(self, *args, **kwargs)
        return original(self, *args, **kwargs)

    return op


def _tangent_dropped(original: Callable[..., Any]) -> Callable[..., Any]:
    def op(self: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        if self._base is not None and fwAD.unpack_dual(self).tangent is not None:
            original(self.detach(), *args, **kwargs)
            return self
        return original(self, *args, **kwargs)

    return op


FAULTS: list[HookFault] = [
    HookFault("inplace_view_untracked", "an in-place op on a view whose gradient skips the base",
              "semantics.inplace_view", REVERSE, _patched(_untracked),
              allowed=("semantics.inplace_view", "semantics.inplace_errors")),
    HookFault("inplace_view_tangent_dropped", "an in-place op on a view of a dual tensor that skips the base's tangent",
              "semantics.inplace_forward", FORWARD, _patched(_tangent_dropped), allowed=("semantics.inplace_forward",)),
]  # fmt: skip
