"""Planted faults in custom ``torch.autograd.Function`` (issue 16's sharpness list), through torch's public API.

* ``function_backward_doubled`` – the engine calls a Function's backward through
  ``BackwardCFunction.apply``; here every gradient it returns comes back doubled;
* ``function_jvp_dropped`` – forward mode calls a Function's ``jvp`` through
  ``BackwardCFunction.apply_jvp``; here the tangent it returns is replaced by zeros;
* ``function_backward_detached`` – a Function's backward, run with grad mode on (``create_graph``, or a
  transform differentiating it), returns its gradients detached: first derivatives are right, and
  every second derivative through the Function is lost;
* ``mark_dirty_ignored`` – ``ctx.mark_dirty`` does nothing, so an in-place Function's output is a new tensor
  (not its input with a new ``grad_fn``) and modifying a leaf that requires grad raises nothing;
* ``materialize_grads_ignored`` – ``ctx.set_materialize_grads(False)`` does nothing, so a backward
  receives zeros where it was promised None for an output's missing gradient.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import torch
from torch.autograd.function import BackwardCFunction, FunctionCtx

from tests.faults.hooks import HookFault

# Every cell of the Function suite but jacfwd over jacfwd: that one fails on every torch (a known finding,
# baselines/repros/custom_function_nested_forward.py), and the faults' runs use no baseline.
SUITE = tuple(
    f"suites/test_semantics_function.py::{test}"
    for test in (
        "test_function_backward", "test_function_forward", "test_function_double_backward",
        "test_function_transforms", "test_function_nested[jacrev_jacrev-float64]",
        "test_function_nested[jacfwd_jacrev-float64]", "test_function_nested[jacrev_jacfwd-float64]", "test_function_ctx",
    )
)  # fmt: skip
# Each property runs a backward or a jvp through a Function, so a fault in one shows in several.
BACKWARD = (
    "semantics.function_backward", "semantics.function_double_backward", "semantics.function_nested", "semantics.function_ctx",
)  # fmt: skip
FORWARD = ("semantics.function_forward", "semantics.function_transforms", "semantics.function_nested")


def _scaled(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return x * 2
    if isinstance(x, tuple):
        return tuple(_scaled(g) for g in x)
    return x


def _patched(name: str, change: Callable[[Any], Any]) -> Callable[[], contextlib.AbstractContextManager[Any]]:
    original = getattr(BackwardCFunction, name)

    def patched(self: Any, *args: Any) -> Any:
        return change(original(self, *args))

    @contextlib.contextmanager
    def patch() -> Iterator[None]:
        with mock.patch.object(BackwardCFunction, name, patched):
            yield

    return patch


def _zeros(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return torch.zeros_like(x)
    if isinstance(x, tuple):
        return tuple(_zeros(t) for t in x)
    return x


def _detached_when_differentiated(x: Any) -> Any:
    if not torch.is_grad_enabled():
        return x
    if isinstance(x, torch.Tensor):
        return x.detach()
    if isinstance(x, tuple):
        return tuple(_detached_when_differentiated(g) for g in x)
    return x


@contextlib.contextmanager
def _mark_dirty_ignored() -> Iterator[None]:
    with mock.patch.object(FunctionCtx, "mark_dirty", lambda self, *tensors: None):
        yield


@contextlib.contextmanager
def _materialize_ignored() -> Iterator[None]:
    with mock.patch.object(FunctionCtx, "set_materialize_grads", lambda self, value: None):
        yield


FAULTS: list[HookFault] = [
    HookFault("function_backward_doubled", "a custom Function's gradients doubled", "semantics.function_backward",
              SUITE, _patched("apply", _scaled), allowed=BACKWARD),
    HookFault("function_jvp_dropped", "a custom Function's tangent dropped", "semantics.function_forward",
              SUITE, _patched("apply_jvp", _zeros), allowed=FORWARD),
    HookFault("function_backward_detached", "a custom Function's backward not differentiable (detached)",
              "semantics.function_nested", SUITE, _patched("apply", _detached_when_differentiated),
              allowed=("semantics.function_nested", "semantics.function_double_backward")),
    HookFault("mark_dirty_ignored", "mark_dirty ignored", "semantics.function_ctx", SUITE, _mark_dirty_ignored,
              allowed=("semantics.function_ctx",)),
    HookFault("materialize_grads_ignored", "set_materialize_grads(False) ignored", "semantics.function_ctx",
              SUITE, _materialize_ignored, allowed=("semantics.function_ctx",)),
]  # fmt: skip
