"""Planted faults specific to one execution path: CUDA, torch.compile, torch.func.

Each fault makes every random tree end in one more op, an exact identity (``Output``,
what ``.clone()`` computes), by patching :meth:`autograd_conformance.tree.Tree.torch_fn`, the
code every torch path runs.  Its forward is bit-for-bit the tree's value, so the
oracles (JAX, and finite differences through the same ``torch_fn``) are untouched;
its forward-mode rule is correct; its reverse-mode rule multiplies the gradient by
``1 + 1e-3`` only on one path.  Eager CPU ``.backward()`` stays correct, so the eager
suite passes under the compile and func faults: only the path's own property fails.

* ``compile_only_output_grad`` – wrong only in graphs that ``torch.compile`` traced:
  the wrapper reads ``torch.compiler.is_compiling()``, which Dynamo really evaluates to
  True while it traces (and bakes into the compiled graph), False in eager.  Nothing
  about compilation is simulated; the bug sits in the traced code rather than in
  Inductor's own lowering.
* ``func_only_output_grad`` – wrong only when the graph was built under a torch.func
  transform (``grad``, ``vjp``, ``jacrev``, ``vmap`` ...): the wrapper reads
  ``torch._C._functorch.maybe_current_level()``, which is set exactly while a transform
  runs.  Nothing is simulated.
* ``cuda_only_output_grad`` – wrong only when the incoming gradient lives on
  :data:`DEVICE_UNDER_TEST`, which is ``"cuda"``.  **What is simulated:** this machine
  has no GPU, so where ``torch.cuda.is_available()`` is False the trigger is the CPU
  (``DEVICE_UNDER_TEST = "cpu"``) and the plain CPU suite stands in for ``--device cuda``;
  it proves the device-type dispatch is caught by the reverse-mode properties, not that
  a CUDA kernel was run.  ``$CONFORMANCE_FAULT_DEVICE=cuda`` forces the real trigger:
  then a CPU run must pass (the fault is dormant off CUDA), which is what ``tests/test_paths.py``
  also checks.  On a GPU machine the trigger is the real CUDA device.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import torch
from torch._C._functorch import maybe_current_level

from autograd_conformance.tree import Tree
from tests.faults.semantics import Fault

FACTOR = 1 + 1e-3  # far above every tolerance (float64 1e-11, float32 4e-5 per op), still "plausible"


def device_under_test() -> str:
    """The device type whose gradients the CUDA fault corrupts (see the module docstring)."""
    forced = os.environ.get("CONFORMANCE_FAULT_DEVICE")
    if forced:
        return forced
    return "cuda" if torch.cuda.is_available() else "cpu"


DEVICE_UNDER_TEST = device_under_test()


@dataclass(frozen=True)
class PathFault(Fault):
    """A fault of one execution path.  ``allowed``: every property whose FAIL attributes it correctly;
    ``args``: extra pytest arguments that select the path (``--exec-path func``)."""

    allowed: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    path: str = "eager"


class Output(torch.autograd.Function):
    """``y -> y`` (a clone); the backward multiplies by FACTOR when ``wrong`` (decided per call)."""

    @staticmethod
    def forward(y: torch.Tensor, wrong: bool, on_device: bool) -> torch.Tensor:
        return y.clone()

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: torch.Tensor) -> None:
        ctx.wrong, ctx.on_device = inputs[1], inputs[2]

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple:
        wrong = ctx.wrong or (ctx.on_device and g.device.type == DEVICE_UNDER_TEST)
        return (g * FACTOR if wrong else g), None, None

    @staticmethod
    def jvp(ctx: Any, t: torch.Tensor, *_: Any) -> torch.Tensor:
        return t

    generate_vmap_rule = True


def _output_patch(trigger: Callable[[], bool], *, on_device: bool = False) -> Callable[[], Any]:
    original = Tree.torch_fn

    def torch_fn(self: Tree) -> Callable[..., Any]:
        fn = original(self)

        def with_output(*xs: Any) -> Any:
            y = fn(*xs)
            if isinstance(y, torch.Tensor) and y.is_floating_point():
                return Output.apply(y, trigger(), on_device)
            return y

        return with_output

    @contextlib.contextmanager
    def patch() -> Iterator[None]:
        from autograd_conformance import execution

        saved = dict(execution._COMPILED)
        execution._COMPILED.clear()  # compiled before the fault: compile again, with it
        try:
            with mock.patch.object(Tree, "torch_fn", torch_fn):
                yield
        finally:
            execution._COMPILED.clear()
            execution._COMPILED.update(saved)

    return patch


REVERSE = ("vjp", "scalar_backward", "broadcast", "jvp", "second_order", "float32")
FAULTS: list[PathFault] = [
    PathFault("cuda_only_output_grad", "a wrong gradient only on the CUDA device (simulated on the CPU without one)",
              "vjp", ("suites/test_trees.py",), _output_patch(lambda: False, on_device=True),
              allowed=REVERSE, path="cuda"),
    PathFault("compile_only_output_grad", "a wrong gradient only in torch.compile'd graphs", "compile.vjp",
              ("suites/test_exec_paths.py",), _output_patch(torch.compiler.is_compiling),
              allowed=("compile.vjp", "compile.grad"), path="compile"),
    PathFault("func_only_output_grad", "a wrong gradient only under torch.func transforms", "func.vjp",
              ("suites/test_func_transforms.py",), _output_patch(lambda: maybe_current_level() is not None),
              allowed=("func.grad", "func.vjp", "func.jacrev", "func.vmap", "func.jvp"), path="func"),
]  # fmt: skip
FAULTS_BY_NAME = {f.name: f for f in FAULTS}
