"""Semantics: anomaly detection and inference mode on random trees (issue 16, item 7).

The trees run node by node (``autograd_conformance.strategies.staged.Staged``): node ``h<j>`` is computed by a function
``node_h<j>``, so a forward traceback names the node.  What is checked, against torch's
documentation ("Anomaly detection", "Inference Mode"):

* ``semantics.anomaly``: a NaN is put into the backward only, by a hook on a drawn node ``h<j>``
  that sets one element of its gradient to NaN (or nothing is put in).  A plain backward, with
  observing Node hooks, finds the first Node in execution order that returns a NaN, and which of
  its outputs.  Under ``torch.autograd.detect_anomaly()`` (or ``set_detect_anomaly(True)``) the
  backward then raises "Function '<Node>' returned nan values in its <i>th output", and the
  warning that goes with it ("Error detected in <Node>") carries the forward traceback of the
  node that created it (``node_h<j>``, and no other node); where no Node returns a NaN, nothing
  is raised and the gradients are the plain ones, exactly.  With ``check_nan=False`` nothing is
  raised and the gradients are the plain ones (NaN where theirs are NaN), exactly;
* ``semantics.inference_mode``: under ``torch.inference_mode()`` tensors made from the inputs and
  the tree's output over them are inference tensors (``is_inference()``) with the plain values,
  and the tree over grad-requiring leaves records no graph (``grad_fn`` is None).  Outside the
  mode an inference tensor stays one; it cannot be saved for backward, updated in place, or made
  to require grad (the documented errors); a clone made outside is a normal tensor, and gradients
  through clones are the plain ones, exactly;
* ``semantics.inference_inplace``: an in-place update of an inference tensor outside the mode
  raises the documented error and leaves the tensor as it was.  Every torch here applies the
  update before raising (baselines/repros/inference_tensor_inplace_applied_before_error.py).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import torch
from hypothesis import strategies as st

from autograd_conformance.case import Case
from autograd_conformance.strategies import labelled
from autograd_conformance.strategies.semantics import Checks, MaskedTree, draw_masked_tree, dyadic_array, lit
from autograd_conformance.strategies.staged import Staged
from suites.cases import cell, sem_cases

ERROR_DETECTED = "Error detected in"
INFERENCE_SAVED = ("inference tensors cannot be saved for backward",)
INFERENCE_INPLACE = ("inplace update to inference tensor outside inferencemode is not allowed",)
INFERENCE_FLAG = ("setting requires_grad=true on inference tensor outside inferencemode is not allowed",)


class NanAt(NamedTuple):
    """The first Node of a backward that returns a NaN: its name, the output, and the tree node that made it."""

    name: str
    output: int
    node: int


class Injection(NamedTuple):
    """A hook on node ``h<node>`` that sets element ``index`` (flat) of its gradient to NaN."""

    node: int
    index: int

    def hook(self, h: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        mask = torch.zeros(h.numel(), dtype=torch.bool)
        mask[self.index] = True
        return lambda g: g.masked_fill(mask.view(g.shape), float("nan"))

    def code(self, shape: tuple[int, ...]) -> list[str]:
        return [
            f"mask = torch.zeros({h_numel(shape)}, dtype=torch.bool); mask[{self.index}] = True",
            f"h{self.node}.register_hook(lambda g: g.masked_fill(mask.view(g.shape), float('nan')))",
        ]


def h_numel(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _graph(root: torch.Tensor) -> list[Any]:
    """Every Node reachable from ``root``'s grad_fn (the list keeps their wrappers alive, so ids are unique)."""
    out, seen, todo = [], set(), [root.grad_fn]
    while todo:
        node = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        out.append(node)
        todo.extend(fn for fn, _ in node.next_functions)
    return out


def plain_run(ex: MaskedTree, staged: Staged, u: np.ndarray, inject: Injection | None) -> tuple[list, NanAt | None]:
    """The leaves' gradients without anomaly mode, and the first Node (in execution order) that returns a NaN."""
    xs = ex.leaves()
    hs = staged.run(xs)
    owner: dict[int, int] = {}
    alive: list[Any] = []  # Node wrappers are cached only while alive: kept, their ids stay theirs
    for j, h in enumerate(hs):  # post-order: a node's Nodes are those not already made by its children
        alive.extend(_graph(h))
        for node in alive:
            owner.setdefault(id(node), j)
    found: list[NanAt] = []

    def observe(node: Any) -> Callable[[tuple, tuple], None]:
        def hook(grad_inputs: tuple, grad_outputs: tuple) -> None:
            nans = [i for i, g in enumerate(grad_inputs) if g is not None and bool(g.isnan().any())]
            if nans:
                found.append(NanAt(node.name(), nans[0], owner[id(node)]))

        return hook

    for node in _graph(hs[-1]):
        node.register_hook(observe(node))
    if inject is not None:
        hs[inject.node].register_hook(inject.hook(hs[inject.node]))
    hs[-1].backward(torch.tensor(u))
    return [x.grad for x in xs], (found[0] if found else None)


class AnomalyRun(NamedTuple):
    grads: list
    error: RuntimeError | None
    warnings: list[str]


def anomaly_run(
    ex: MaskedTree, staged: Staged, u: np.ndarray, inject: Injection | None, api: str, check_nan: bool
) -> AnomalyRun:
    """Forward and backward under anomaly mode (looked up when called, as a user's code does)."""
    xs = ex.leaves()
    error = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mode = (
            torch.autograd.detect_anomaly(check_nan=check_nan)
            if api == "detect_anomaly"
            else torch.autograd.set_detect_anomaly(True, check_nan=check_nan)
        )
        try:
            with mode:
                hs = staged.run(xs)
                if inject is not None:
                    hs[inject.node].register_hook(inject.hook(hs[inject.node]))
                hs[-1].backward(torch.tensor(u))
        except RuntimeError as e:
            error = e
    return AnomalyRun([x.grad for x in xs], error, [str(w.message) for w in caught])


def _mode_code(api: str, check_nan: bool) -> str:
    if api == "detect_anomaly":
        return f"torch.autograd.detect_anomaly(check_nan={check_nan})"
    return f"torch.autograd.set_detect_anomaly(True, check_nan={check_nan})"


def _check_anomaly(check: Checks, got: AnomalyRun, plain: list, nan_at: NanAt | None, check_nan: bool) -> None:
    mode = f"anomaly mode (check_nan={check_nan})"
    if nan_at is None or not check_nan:
        if check.expect(got.error is None, f"{mode} raised {str(got.error)[:300]!r}; no Node returned a NaN"
                        if check_nan else f"{mode} raised {str(got.error)[:300]!r}"):  # fmt: skip
            for i, (g, w) in enumerate(zip(got.grads, plain)):
                check.same(g, w, f"x{i}.grad under {mode}")
        return
    fragment = f"Function '{nan_at.name}' returned nan values in its {nan_at.output}th output"
    if not check.expect(got.error is not None, f'{mode} did not raise; expected "{fragment}"'):
        return
    check.expect(
        fragment.lower() in str(got.error).lower(), f'{mode} raised {str(got.error)[:300]!r}; expected "{fragment}"'
    )
    reports = [w for w in got.warnings if f"{ERROR_DETECTED} {nan_at.name}" in w]
    if check.expect(
        bool(reports), f'{mode}: no warning "{ERROR_DETECTED} {nan_at.name}" among {[w[:100] for w in got.warnings]}'
    ):
        frames = set(re.findall(r"in node_h(\d+)\b", reports[0]))
        check.expect(
            frames == {str(nan_at.node)},
            f"{mode}: the forward traceback of {nan_at.name} names the tree nodes {sorted(frames)}; expected node_h{nan_at.node}, "
            f"which made it: {reports[0][:1500]!r}",
        )  # fmt: skip


@cell("semantics.anomaly", sem_cases("tree"))
def test_anomaly_mode(case: Case, data, record) -> None:
    """Anomaly mode raises at the first Node returning NaN, names its forward, and otherwise changes nothing."""
    draw = labelled(data)
    ex = draw_masked_tree(draw, record)
    staged = Staged(ex.tree)
    hs = staged.run(ex.leaves())
    u = dyadic_array(draw, tuple(hs[-1].shape), "u")
    api = draw(st.sampled_from(["detect_anomaly", "set_detect_anomaly"]), "anomaly mode API")
    targets = [j for j, h in enumerate(hs) if h.requires_grad and h.numel() > 0]
    inject = None
    if targets and draw(st.booleans(), "put a NaN into the backward"):
        j = draw(st.sampled_from(targets), "the node whose gradient gets a NaN")
        inject = Injection(j, draw(st.integers(0, hs[j].numel() - 1), f"the element of h{j}'s gradient"))
    plain, nan_at = plain_run(ex, staged, u, inject)

    for check_nan in (True, False):
        body = [*staged.lines(), *(inject.code(tuple(hs[inject.node].shape)) if inject else []), "y.backward(u)"]
        check = Checks(
            "semantics.anomaly",
            [*ex.repro(f"u = torch.tensor({lit(u)}, dtype=torch.float64)"), f"with {_mode_code(api, check_nan)}:",
             *(f"    {line}" for line in body), f"print({', '.join(f'x{i}.grad' for i in range(len(ex.inputs)))})"],
            uses=[op.name for op in ex.tree.ops],
        )  # fmt: skip
        _check_anomaly(check, anomaly_run(ex, staged, u, inject, api, check_nan), plain, nan_at, check_nan)
        if check.problems or not check_nan:
            check.finish(record)
            return


def _under_inference_mode(fn: Callable[..., Any], xs: list[torch.Tensor]) -> tuple[list, Any, Any]:
    """Under torch.inference_mode (looked up when called, as a user's code does): copies of the leaves, the tree
    over them (cloned: an in-place op on an expanded output would raise its own error first), and the tree over
    the (grad-requiring) leaves themselves."""
    with torch.inference_mode():
        ins = [x.detach().clone() for x in xs]
        return ins, fn(*ins).clone(), fn(*xs)


@cell("semantics.inference_mode", sem_cases("tree"))
def test_inference_mode(case: Case, data, record) -> None:
    """Inference tensors: made under the mode, refused by autograd and in-place ops outside it; clones are normal."""
    draw = labelled(data)
    ex = draw_masked_tree(draw, record)
    fn = ex.tree.torch_fn()
    plain_xs = ex.leaves()
    plain_y = fn(*plain_xs)
    u = dyadic_array(draw, tuple(plain_y.shape), "u")
    w_values = dyadic_array(draw, tuple(plain_y.shape), "w")
    plain_y.backward(torch.tensor(u))
    with torch.no_grad():  # without autograd, as under inference_mode (svdvals takes another kernel with grad)
        values = fn(*ex.leaves())
    names = ", ".join(f"x{i}" for i in range(len(ex.inputs)))
    check = Checks(
        "semantics.inference_mode",
        [*ex.repro(f"u = torch.tensor({lit(u)}, dtype=torch.float64)",
                   f"w = torch.tensor({lit(w_values)}, dtype=torch.float64, requires_grad=True)",
                   f"f = lambda {names}: {ex.tree.source}"),
         "with torch.inference_mode():",
         f"    ins = [x.detach().clone() for x in ({names},)]",
         "    t = f(*ins).clone()",
         f"    s = f({names})",
         "print([i.is_inference() for i in ins], t.is_inference(), s.grad_fn)",
         "t * w  # raises: inference tensors cannot be saved for backward",
         "t.requires_grad_(True)  # raises",
         f"cs = [i.clone().requires_grad_(x.requires_grad) for i, x in zip(ins, ({names},))]",
         "f(*cs).backward(u); print([c.grad for c in cs])",
         "c = t.clone(); (c * w).backward(u); print(w.grad)",
         "t.mul_(2)  # raises: in place outside the mode"],
        uses=[op.name for op in ex.tree.ops],
    )  # fmt: skip

    xs = ex.leaves()
    ins, t, s = _under_inference_mode(fn, xs)
    for i, a in enumerate(ins):
        check.expect(a.is_inference(), f"x{i}.detach().clone() under inference_mode: is_inference() is False")
    check.expect(t.is_inference(), "the tree over inference tensors, under inference_mode: is_inference() is False")
    check.same(t, values, "the tree's output under inference_mode (the value under no_grad)")
    check.expect(s.grad_fn is None, f"the tree over grad-requiring leaves under inference_mode recorded {s.grad_fn}")
    check.expect(not any(x.is_inference() for x in xs), "a leaf made outside inference_mode is an inference tensor")

    w = torch.tensor(w_values, requires_grad=True)
    check.raises(lambda: t * w, INFERENCE_SAVED, "t * w (t an inference tensor, w requiring grad)")
    check.raises(lambda: t.requires_grad_(True), INFERENCE_FLAG, "t.requires_grad_(True) outside inference_mode")

    clones = [a.clone().requires_grad_(m) for a, m in zip(ins, ex.mask)]
    check.expect(
        not any(c.is_inference() for c in clones), "a clone made outside inference_mode is an inference tensor"
    )
    check.quiet(lambda: fn(*clones).backward(torch.tensor(u)), "backward through clones of inference tensors")
    for i, (c, x) in enumerate(zip(clones, plain_xs)):
        check.same(c.grad, x.grad, f"the gradient of x{i}'s clone (made outside inference_mode)")
    c = t.clone()
    check.expect(not c.is_inference(), "t.clone() made outside inference_mode is an inference tensor")
    check.quiet(lambda: (c * w).backward(torch.tensor(u)), "(t.clone() * w).backward(u)")
    check.same(w.grad, values * torch.tensor(u), "w.grad of (t.clone() * w).backward(u)")
    check.raises(lambda: t.mul_(2), INFERENCE_INPLACE, "t.mul_(2) outside inference_mode")  # last: it modifies t
    check.finish(record)


INPLACE: dict[str, Callable[[torch.Tensor], Any]] = {
    "mul_(2)": lambda t: t.mul_(2),
    "add_(1)": lambda t: t.add_(1),
    "zero_()": lambda t: t.zero_(),
    "fill_(0.5)": lambda t: t.fill_(0.5),
    "neg_()": lambda t: t.neg_(),
}


@cell("semantics.inference_inplace", sem_cases("tree"))
def test_inference_tensor_refuses_inplace(case: Case, data, record) -> None:
    """An in-place update of an inference tensor outside the mode raises, and leaves the tensor as it was."""
    draw = labelled(data)
    ex = draw_masked_tree(draw, record)
    fn = ex.tree.torch_fn()
    op = draw(st.sampled_from(sorted(INPLACE)), "in-place op")
    _, t, _ = _under_inference_mode(fn, ex.leaves())
    before = t.clone()
    names = ", ".join(f"x{i}" for i in range(len(ex.inputs)))
    check = Checks(
        "semantics.inference_inplace",
        [*ex.repro(f"f = lambda {names}: {ex.tree.source}"), "with torch.inference_mode():",
         f"    t = f(*[x.detach().clone() for x in ({names},)]).clone()", "before = t.clone()",
         f"try:\n    t.{op}\nexcept RuntimeError as e:\n    print(e)", "print(before, t)"],
        uses=[op.name for op in ex.tree.ops],
    )  # fmt: skip
    check.raises(lambda: INPLACE[op](t), INFERENCE_INPLACE, f"t.{op} outside inference_mode")
    check.same(t, before, f"the inference tensor t after the refused t.{op}")
    check.finish(record)
