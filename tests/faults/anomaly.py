"""Planted faults in anomaly mode, backward roots and inference mode (issue 16's sharpness list), through
torch's public API.

* ``anomaly_mode_silent`` – ``torch.autograd.detect_anomaly`` and ``set_detect_anomaly`` become context
  managers that enable nothing, so a NaN in the backward goes unreported;
* ``backward_inputs_ignored`` – ``Tensor.backward`` drops its ``inputs`` argument, so every leaf gets
  its gradient and no listed intermediate does;
* ``inference_mode_is_no_grad`` – ``torch.inference_mode`` is ``torch.no_grad``: tensors made under it
  are normal tensors, which autograd saves and in-place ops update without complaint.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any
from unittest import mock

import torch

from tests.faults.hooks import HookFault

ANOMALY = "suites/test_semantics_anomaly.py"


class _Silent(contextlib.ContextDecorator):
    """A stand-in for detect_anomaly / set_detect_anomaly that takes their arguments and enables nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


@contextlib.contextmanager
def _anomaly_silent() -> Iterator[None]:
    with (
        mock.patch.object(torch.autograd, "detect_anomaly", _Silent),
        mock.patch.object(torch.autograd, "set_detect_anomaly", _Silent),
    ):
        yield


_backward = torch.Tensor.backward


@functools.wraps(_backward)
def _backward_without_inputs(self: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
    kwargs.pop("inputs", None)
    return _backward(self, *args[:3], **kwargs)  # gradient, retain_graph, create_graph; inputs dropped


class _NoGrad(torch.no_grad):
    """torch.no_grad taking inference_mode's argument."""

    def __init__(self, mode: bool = True) -> None:
        super().__init__()


@contextlib.contextmanager
def _inference_is_no_grad() -> Iterator[None]:
    with mock.patch.object(torch, "inference_mode", _NoGrad):
        yield


FAULTS: list[HookFault] = [
    HookFault("anomaly_mode_silent", "anomaly mode that enables nothing", "semantics.anomaly",
              (f"{ANOMALY}::test_anomaly_mode",), _anomaly_silent, allowed=("semantics.anomaly",)),
    HookFault("backward_inputs_ignored", "backward(inputs=) ignored", "semantics.backward_inputs",
              ("suites/test_semantics_roots.py::test_backward_inputs",),
              lambda: mock.patch.object(torch.Tensor, "backward", _backward_without_inputs),
              allowed=("semantics.backward_inputs",)),
    # Only the inference_mode test: the inference_inplace cell fails on every torch here (a baselined finding),
    # and the runs without faults use no baseline.
    HookFault("inference_mode_is_no_grad", "inference_mode replaced by no_grad", "semantics.inference_mode",
              (f"{ANOMALY}::test_inference_mode",), _inference_is_no_grad,
              allowed=("semantics.inference_mode", "semantics.inference_inplace")),
]  # fmt: skip
