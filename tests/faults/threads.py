"""Planted faults in threaded and reentrant backward, selective checkpointing and the saved-tensor version
check (issue 16's sharpness list), through torch's public API.

* ``backward_seed_shared`` – ``Tensor.backward`` and ``torch.autograd.grad`` pass their seed (the vector
  ``gradient`` / ``grad_outputs``) through one process-wide slot, with a short pause between storing and
  reading it: serial calls are unaffected, but calls from several threads at once take another thread's seed;
* ``reentrant_grad_dropped`` – inside a custom Function's backward (``BackwardCFunction.apply``),
  ``torch.autograd.grad`` returns zeros and ``Tensor.backward`` does nothing: a reentrant backward's
  inner gradients are lost;
* ``sac_policy_ignored`` – ``torch.utils.checkpoint.create_selective_checkpoint_contexts`` ignores its policy
  and recomputes every op, so a random op the policy saves draws another value in the backward when the
  RNG state is not preserved;
* ``saved_version_check_dropped`` – a pack hook (``saved_tensors_hooks``, installed for the whole run)
  saves a copy of every tensor saved for backward, so an in-place change after the forward is no longer
  detected (the backward silently uses the old values).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import torch
import torch.utils.checkpoint
from torch.autograd.function import BackwardCFunction

from tests.faults.hooks import HookFault

THREADS = ("suites/test_semantics_threads.py",)
SAVED = ("suites/test_semantics_saved.py",)
PAUSE_S = 0.005  # long enough for the other threads, released by the same barrier, to overwrite the slot

_backward = torch.Tensor.backward
_grad = torch.autograd.grad


@contextlib.contextmanager
def _seed_shared() -> Iterator[None]:
    slot: list[Any] = [None]

    def through_slot(seed: Any) -> Any:
        slot[0] = seed
        time.sleep(PAUSE_S)
        return slot[0]

    def backward(self: torch.Tensor, gradient: Any = None, *args: Any, **kwargs: Any) -> Any:
        return _backward(self, through_slot(gradient), *args, **kwargs)

    def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, *args: Any, **kwargs: Any) -> Any:
        return _grad(outputs, inputs, through_slot(grad_outputs), *args, **kwargs)

    with mock.patch.object(torch.Tensor, "backward", backward), mock.patch.object(torch.autograd, "grad", grad):
        yield


@contextlib.contextmanager
def _reentrant_dropped() -> Iterator[None]:
    inside = threading.local()
    apply = BackwardCFunction.apply

    def in_backward(self: Any, *args: Any) -> Any:
        inside.depth = getattr(inside, "depth", 0) + 1
        try:
            return apply(self, *args)
        finally:
            inside.depth -= 1

    def reentrant() -> bool:
        return getattr(inside, "depth", 0) > 0

    def backward(self: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        return None if reentrant() else _backward(self, *args, **kwargs)

    def grad(outputs: Any, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if not reentrant():
            return _grad(outputs, inputs, *args, **kwargs)
        return tuple(torch.zeros_like(x) for x in ([inputs] if isinstance(inputs, torch.Tensor) else inputs))

    with (
        mock.patch.object(BackwardCFunction, "apply", in_backward),
        mock.patch.object(torch.Tensor, "backward", backward),
        mock.patch.object(torch.autograd, "grad", grad),
    ):
        yield


@contextlib.contextmanager
def _policy_ignored() -> Iterator[None]:
    original = torch.utils.checkpoint.create_selective_checkpoint_contexts

    def contexts(policy_fn_or_list: Any, *args: Any, **kwargs: Any) -> Any:
        recompute = torch.utils.checkpoint.CheckpointPolicy.PREFER_RECOMPUTE
        return original(lambda ctx, op, *a, **k: recompute, *args, **kwargs)

    with mock.patch.object(torch.utils.checkpoint, "create_selective_checkpoint_contexts", contexts):
        yield


@contextlib.contextmanager
def _version_check_dropped() -> Iterator[None]:
    with torch.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
        yield


FAULTS: list[HookFault] = [
    HookFault("backward_seed_shared", "a backward seed shared between threads", "semantics.threads", THREADS,
              _seed_shared, allowed=("semantics.threads",)),
    HookFault("reentrant_grad_dropped", "a reentrant backward's gradients dropped", "semantics.reentrant", THREADS,
              _reentrant_dropped, allowed=("semantics.reentrant",)),
    HookFault("sac_policy_ignored", "a selective checkpoint policy ignored", "semantics.selective_checkpoint", SAVED,
              _policy_ignored, allowed=("semantics.selective_checkpoint",)),
    HookFault("saved_version_check_dropped", "a pack hook that drops a saved tensor's version check",
              "semantics.saved_mutation", SAVED, _version_check_dropped, allowed=("semantics.saved_mutation",)),
]  # fmt: skip
