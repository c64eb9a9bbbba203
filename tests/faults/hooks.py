"""Planted faults in backward hooks and checkpointing (issue 16's sharpness list), through torch's public API.

* ``hook_called_twice`` – ``Tensor.register_hook`` registers a hook that runs the user's hook twice
  (on its own result), so an observer counts two calls and a replacing hook applies twice;
* ``hook_never_called`` – ``Tensor.register_hook`` returns a handle but registers nothing;
* ``checkpoint_forgets_rng`` – ``torch.utils.checkpoint.checkpoint`` recomputes without restoring the
  RNG state (``preserve_rng_state=False`` whatever the caller asked), so a random op in the
  checkpointed function draws another mask in the backward.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import torch
import torch.utils.checkpoint
from torch.utils.hooks import RemovableHandle

from tests.faults.semantics import Fault

SUITE = ("suites/test_semantics_hooks.py",)
ALLOWED = ("semantics.tensor_hook", "semantics.node_hook")  # both register tensor hooks


@dataclass(frozen=True)
class HookFault(Fault):
    """``allowed``: every property whose FAIL attributes it correctly."""

    allowed: tuple[str, ...] = ALLOWED


def _patched(register: Callable[[torch.Tensor, Callable[..., Any]], Any]) -> Callable[[], Any]:
    @contextlib.contextmanager
    def patch() -> Iterator[None]:
        with mock.patch.object(torch.Tensor, "register_hook", register):
            yield

    return patch


_original = torch.Tensor.register_hook


def _twice(self: torch.Tensor, hook: Callable[[torch.Tensor], Any]) -> Any:
    def both(g: torch.Tensor) -> Any:
        once = hook(g)
        again = hook(g if once is None else once)
        return once if again is None else again

    return _original(self, both)


_NOWHERE: OrderedDict = OrderedDict()  # a handle needs a (weakly referenced) dict of hooks: this one holds none


def _never(self: torch.Tensor, hook: Callable[[torch.Tensor], Any]) -> RemovableHandle:
    return RemovableHandle(_NOWHERE)


_checkpoint = torch.utils.checkpoint.checkpoint


@contextlib.contextmanager
def _forgets_rng() -> Iterator[None]:
    def checkpoint(function: Any, *args: Any, **kwargs: Any) -> Any:
        return _checkpoint(function, *args, **{**kwargs, "preserve_rng_state": False})

    with mock.patch.object(torch.utils.checkpoint, "checkpoint", checkpoint):
        yield


FAULTS: list[HookFault] = [
    HookFault("hook_called_twice", "a hook called twice", "semantics.tensor_hook", SUITE, _patched(_twice)),
    HookFault("hook_never_called", "a hook never called", "semantics.tensor_hook", SUITE, _patched(_never)),
    HookFault(
        "checkpoint_forgets_rng", "checkpoint recomputation that ignores the RNG state", "semantics.checkpoint",
        ("suites/test_semantics_saved.py",), _forgets_rng,
        allowed=("semantics.checkpoint", "semantics.saved_tensor_hooks"),
    ),
]  # fmt: skip
