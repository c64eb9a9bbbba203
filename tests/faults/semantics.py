"""Planted semantics faults: each patches torch inside the test process, through its public API only.

Each :class:`Fault` names the property that must catch it and the suite tests to run
(pytest node ids, relative to the repository root).  ``fault.patch()`` is a context
manager; everything is restored on exit.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import torch


@dataclass(frozen=True)
class Fault:
    name: str
    kind: str
    prop: str  # the conformance property that must catch it
    tests: tuple[str, ...]  # node ids to run under the fault
    patch: Callable[[], contextlib.AbstractContextManager[Any]]


def _leaves_of(t: torch.Tensor) -> list[torch.Tensor]:
    """The leaves an output's graph accumulates into (walking next_functions to AccumulateGrad)."""
    out, seen, todo = [], set(), [t.grad_fn]
    while todo:
        node = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if hasattr(node, "variable"):
            out.append(node.variable)
        todo.extend(fn for fn, _ in node.next_functions)
    return out


def _wrap_backward(change: Callable[..., tuple[tuple, dict]]) -> Callable[[], contextlib.AbstractContextManager[Any]]:
    original = torch.Tensor.backward

    @functools.wraps(original)
    def backward(self, *args: Any, **kwargs: Any) -> Any:
        args, kwargs = change(self, args, kwargs)
        return original(self, *args, **kwargs)

    return lambda: mock.patch.object(torch.Tensor, "backward", backward)


def _seed_ignored(self, args, kwargs):
    if args:
        args = (torch.ones_like(args[0]) if isinstance(args[0], torch.Tensor) else args[0], *args[1:])
    if isinstance(kwargs.get("gradient"), torch.Tensor):
        kwargs = {**kwargs, "gradient": torch.ones_like(kwargs["gradient"])}
    return args, kwargs


def _overwrite(self, args, kwargs):
    for leaf in _leaves_of(self):
        leaf.grad = None  # the fresh gradient replaces, instead of adding to, what was there
    return args, kwargs


def _always_retain(self, args, kwargs):
    return args, {**kwargs, "retain_graph": True}


def _implicit_ones(self, args, kwargs):
    if not args and kwargs.get("gradient") is None and self.numel() != 1:
        args = (torch.ones_like(self),)
    return args, kwargs


@contextlib.contextmanager
def _zero_noop() -> Iterator[None]:
    with mock.patch.object(torch.Tensor, "zero_", lambda self: self):
        yield


@contextlib.contextmanager
def _noop(owner: Any, name: str) -> Iterator[None]:
    with mock.patch.object(owner, name, lambda self, *a, **k: None):
        yield


@contextlib.contextmanager
def _sin_detached() -> Iterator[None]:
    original = torch.sin
    with mock.patch.object(torch, "sin", lambda x, *a, **k: original(x, *a, **k).detach()):
        yield


@contextlib.contextmanager
def _sin_leaf_copy() -> Iterator[None]:
    """torch.sin differentiates through a stand-in copy of a leaf: the graph ends at the wrong AccumulateGrad."""
    original = torch.sin

    def sin(x, *a, **k):
        if x.is_leaf and x.requires_grad:
            x = x.detach().clone().requires_grad_()
        return original(x, *a, **k)

    with mock.patch.object(torch, "sin", sin):
        yield


@contextlib.contextmanager
def _variable_ignores_flag() -> Iterator[None]:
    real = torch.autograd.Variable

    class Ignoring(real):  # isinstance still holds through Variable's metaclass
        def __new__(cls, data, requires_grad=False, volatile=False):
            return real(data)

    with mock.patch.object(torch.autograd, "Variable", Ignoring):
        yield


@contextlib.contextmanager
def _data_copy() -> Iterator[None]:
    base = torch._C.TensorBase.data  # the descriptor torch.Tensor.data resolves to
    with mock.patch.object(
        torch.Tensor, "data", property(lambda self: base.__get__(self).clone(), base.__set__), create=True
    ):
        yield


@contextlib.contextmanager
def _no_grad_noop() -> Iterator[None]:
    class NoGrad(contextlib.ContextDecorator):
        def __enter__(self) -> None:
            return None

        def __exit__(self, *exc: Any) -> None:
            return None

    with mock.patch.object(torch, "no_grad", NoGrad):
        yield


@contextlib.contextmanager
def _pow_tiny_error() -> Iterator[None]:
    """x ** k keeps its forward and gets a reverse-mode derivative 1e-5 too large."""
    original = torch.Tensor.__pow__

    class Pow(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            return original(x, k)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * ctx.k * original(x, ctx.k - 1) * (1 + 1e-5), None

    def pow_(self, k):
        return Pow.apply(self, k) if isinstance(k, int) and self.requires_grad else original(self, k)

    original_fn = torch.pow

    def torch_pow(x, k, *a, **kw):
        if isinstance(x, torch.Tensor) and isinstance(k, int) and x.requires_grad and not a and not kw:
            return Pow.apply(x, k)
        return original_fn(x, k, *a, **kw)

    with mock.patch.object(torch.Tensor, "__pow__", pow_), mock.patch.object(torch, "pow", torch_pow):
        yield


@contextlib.contextmanager
def _inplace_untracked() -> Iterator[None]:
    """add_ and mul_ write through .data: the version counter does not move, and leaves are not protected."""
    originals = {name: getattr(torch.Tensor, name) for name in ("add_", "mul_")}

    def make(name: str):
        def method(self, *a, **k):
            originals[name](self.detach(), *a, **k)
            return self

        return method

    with contextlib.ExitStack() as stack:
        for name in originals:
            stack.enter_context(mock.patch.object(torch.Tensor, name, make(name)))
        yield


@contextlib.contextmanager
def _requires_grad_silent() -> Iterator[None]:
    original = torch.Tensor.requires_grad_

    def requires_grad_(self, requires_grad=True):
        try:
            return original(self, requires_grad)
        except RuntimeError:
            return self

    with mock.patch.object(torch.Tensor, "requires_grad_", requires_grad_):
        yield


@contextlib.contextmanager
def _grad_touches_grad() -> Iterator[None]:
    """torch.autograd.grad implemented with backward: it fills .grad as a side effect."""
    original = torch.autograd.grad

    def grad(outputs, inputs, *a, **k):
        result = original(outputs, inputs, *a, **{**k, "retain_graph": True})
        for x, g in zip(inputs if isinstance(inputs, (list, tuple)) else [inputs], result):
            if g is not None:
                x.grad = g.detach() if x.grad is None else x.grad + g.detach()
        return result

    with mock.patch.object(torch.autograd, "grad", grad):
        yield


S = "suites/test_semantics_"
FAULTS: list[Fault] = [
    Fault("seed_ignored", "vector seed ignored", "semantics.vector_backward", (f"{S}backward.py::test_vector_backward_tree",), _wrap_backward(_seed_ignored)),
    Fault("accumulate_overwrites", "a second backward overwrites", "semantics.accumulation", (f"{S}accumulation.py::test_accumulation",), _wrap_backward(_overwrite)),
    Fault("graph_never_freed", "retain_graph always on", "semantics.accumulation", (f"{S}accumulation.py::test_retain_and_create_graph",), _wrap_backward(_always_retain)),
    Fault("implicit_seed_for_any_shape", "non-scalar backward without a seed allowed", "semantics.seed_errors", (f"{S}backward.py::test_seed_errors",), _wrap_backward(_implicit_ones)),
    Fault("zero_noop", "zero_ does nothing", "semantics.zeroing", (f"{S}accumulation.py::test_zeroing",), _zero_noop),
    Fault("module_zero_grad_noop", "Module.zero_grad does nothing", "semantics.zero_grad", (f"{S}accumulation.py::test_zero_grad[Module-float64]",), lambda: _noop(torch.nn.Module, "zero_grad")),
    Fault("optimizer_zero_grad_noop", "Optimizer.zero_grad does nothing", "semantics.zero_grad", (f"{S}accumulation.py::test_zero_grad[Optimizer-float64]",), lambda: _noop(torch.optim.Optimizer, "zero_grad")),
    Fault("sin_drops_requires_grad", "one op drops requires_grad", "semantics.requires_grad", (f"{S}requires_grad.py::test_requires_grad[sin-float64]",), _sin_detached),
    Fault("sin_leaf_copy", "graph ends at a copy of the leaf", "semantics.graph", (f"{S}graph.py::test_graph[sin-float64]",), _sin_leaf_copy),
    Fault("variable_ignores_requires_grad", "Variable ignores requires_grad", "semantics.variable", (f"{S}variable.py::test_variable",), _variable_ignores_flag),
    Fault("data_copy", ".data returns a copy", "semantics.variable", (f"{S}variable.py::test_data_shares_storage",), _data_copy),
    Fault("no_grad_noop", "no_grad does not disable grad", "semantics.grad_modes", (f"{S}requires_grad.py::test_grad_modes_nested",), _no_grad_noop),
    Fault("pow_tiny_error", "x ** k gradient 1e-5 too large", "semantics.scalar_backward", (f"{S}backward.py::test_scalar_backward_polynomial",), _pow_tiny_error),
    Fault("inplace_untracked", "in-place ops not tracked", "semantics.inplace", (f"{S}leaves.py::test_inplace",), _inplace_untracked),
    Fault("requires_grad_silent", "requires_grad_ errors swallowed", "semantics.requires_grad_errors", (f"{S}variable.py::test_requires_grad_flag_of_non_leaf", f"{S}variable.py::test_requires_grad_flag_of_integer"), _requires_grad_silent),
    Fault("autograd_grad_fills_grad", "autograd.grad touches .grad", "semantics.leaves", (f"{S}leaves.py::test_autograd_grad",), _grad_touches_grad),
]  # fmt: skip
FAULTS_BY_NAME = {f.name: f for f in FAULTS}
