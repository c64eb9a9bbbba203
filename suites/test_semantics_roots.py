"""Semantics: which tensors a backward starts from and which it accumulates into (issue 16, item 6).

The random trees run node by node (``autograd_conformance.strategies.staged.Staged``), so every intermediate tensor
``h0 .. hK`` is at hand; the output is ``y = hK``.  What is checked, against the documentation of
``torch.Tensor.backward``, ``torch.autograd.backward`` and ``torch.autograd.grad``:

* ``semantics.backward_inputs``: ``y.backward(u, inputs=[...])`` over a drawn set of leaves and
  intermediate tensors: each listed tensor's ``.grad`` holds exactly the gradient the plain backward
  gives it (a leaf's ``.grad``, an intermediate's ``retain_grad()`` gradient; None where none
  reaches it), and every other tensor's ``.grad`` stays None;
* ``semantics.multi_root``: ``torch.autograd.backward`` of two or three roots (each a node of its own
  evaluation of the tree over the same leaves, or a leaf) with ``grad_tensors`` gives each leaf the sum of the
  separate backward calls.  Exactly where at most two gradients meet in a leaf (a + b == b + a);
  where more meet, the engine may add them in another order than the separate calls, so the
  difference is bounded by floating-point summation's worst case, n·eps·Σ|contribution| (each
  contribution measured with a Node hook in the separate calls);
* ``semantics.grads_batched``: ``torch.autograd.grad(..., is_grads_batched=True)`` over a batch of
  seeds equals a Python loop of ``torch.autograd.grad`` over the same seeds, exactly;
* ``semantics.gradient_edge``: ``torch.autograd.grad`` with some ``inputs`` given as
  ``torch.autograd.graph.get_gradient_edge(t)`` instead of ``t`` gives the same gradients, exactly
  (skipped on a torch without ``get_gradient_edge``).
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import pytest
import torch
from hypothesis import strategies as st

from autograd_conformance.case import Case
from autograd_conformance.strategies import labelled
from autograd_conformance.strategies.semantics import Checks, MaskedTree, draw_masked_tree, dyadic_array, lit
from autograd_conformance.strategies.staged import Staged
from suites.cases import cell, sem_cases

EPS = torch.finfo(torch.float64).eps
HAS_GRADIENT_EDGE = hasattr(torch.autograd.graph, "get_gradient_edge")


def grad_of(t: torch.Tensor) -> torch.Tensor | None:
    """``t.grad`` without the warning torch gives for a non-leaf that did not retain its gradient."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return t.grad


class Graph:
    """One evaluation of the staged tree on fresh leaves: the leaves ``x<i>`` and nodes ``h<j>`` by name."""

    def __init__(self, ex: MaskedTree, staged: Staged) -> None:
        self.xs = ex.leaves()
        self.hs = staged.run(self.xs)
        self.y = self.hs[-1]
        self.by_name: dict[str, torch.Tensor] = {
            **{f"x{i}": x for i, x in enumerate(self.xs)},
            **{f"h{j}": h for j, h in enumerate(self.hs)},
        }

    def differentiable(self) -> list[str]:
        """The names of the tensors that require grad, leaves first, then nodes in post-order; a node that is
        an earlier tensor itself (``x0.contiguous()`` returns x0) goes by that tensor's name only."""
        first: dict[int, str] = {}
        for n, t in self.by_name.items():
            if t.requires_grad:
                first.setdefault(id(t), n)
        return list(first.values())


def _setup(data: Any, record: Any) -> tuple[Any, MaskedTree, Staged]:
    draw = labelled(data)
    ex = draw_masked_tree(draw, record)
    return draw, ex, Staged(ex.tree)


def _draw_names(draw: Any, names: list[str], label: str) -> list[str]:
    return draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True), label)


def _seed_code(name: str, u: Any) -> str:
    return f"{name} = torch.tensor({lit(u)}, dtype=torch.float64)"


@cell("semantics.backward_inputs", sem_cases("tree"))
def test_backward_inputs(case: Case, data, record) -> None:
    """Listed leaves and intermediates get the plain gradient in .grad; every other .grad stays None."""
    draw, ex, staged = _setup(data, record)
    plain = Graph(ex, staged)
    names = plain.differentiable()
    for name in names:
        if name.startswith("h"):
            plain.by_name[name].retain_grad()
    u = dyadic_array(draw, tuple(plain.y.shape), "u")
    plain.y.backward(torch.tensor(u))
    chosen = _draw_names(draw, names, "inputs=")

    run = Graph(ex, staged)
    check = Checks(
        "semantics.backward_inputs",
        [*ex.repro(_seed_code("u", u)), *staged.lines(), f"y.backward(u, inputs=[{', '.join(chosen)}])",
         f"print({', '.join(f'{n}.grad' for n in names)})"],
        uses=[op.name for op in ex.tree.ops],
    )  # fmt: skip
    check.quiet(lambda: run.y.backward(torch.tensor(u), inputs=[run.by_name[n] for n in chosen]), "backward")
    for name in names:
        listed = name in chosen
        want = grad_of(plain.by_name[name]) if listed else None
        check.same(grad_of(run.by_name[name]), want, f"{name}.grad ({'listed in' if listed else 'not in'} inputs=)")
    check.finish(record)


def _contributions(xs: list[torch.Tensor], root: torch.Tensor, seed: torch.Tensor) -> dict[int, list[torch.Tensor]]:
    """Node hooks on ``root``'s graph that record each gradient its nodes send into a leaf's AccumulateGrad
    (the seed itself, when the root is a leaf)."""
    found: dict[int, list[torch.Tensor]] = {i: [] for i in range(len(xs))}
    leaf_of = {id(x): i for i, x in enumerate(xs)}
    if id(root) in leaf_of:
        found[leaf_of[id(root)]].append(seed)
    seen: dict[int, Any] = {}  # holds the Node wrappers: alive, their ids stay theirs
    todo = [root.grad_fn]
    while todo:
        node = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen[id(node)] = node
        edges = [(k, leaf_of.get(id(getattr(fn, "variable", None)))) for k, (fn, _) in enumerate(node.next_functions)]
        edges = [(k, i) for k, i in edges if i is not None]
        if edges:

            def hook(grad_inputs: tuple, grad_outputs: tuple, edges: list = edges) -> None:
                for k, i in edges:
                    if grad_inputs[k] is not None:
                        found[i].append(grad_inputs[k].detach().clone())

            node.register_hook(hook)
        todo.extend(fn for fn, _ in node.next_functions)
    return found


@cell("semantics.multi_root", sem_cases("tree"))
def test_multi_root_backward(case: Case, data, record) -> None:
    """torch.autograd.backward(roots, grad_tensors) gives each leaf the sum of the roots' separate backwards."""
    draw, ex, staged = _setup(data, record)
    names = Graph(ex, staged).differentiable()
    k = draw(st.integers(2, 3), "number of roots")
    roots = [draw(st.sampled_from(names), f"root {r}: a tensor of evaluation {r}") for r in range(k)]
    shapes = [tuple(Graph(ex, staged).by_name[n].shape) for n in roots]
    seeds = [dyadic_array(draw, s, f"u{r}") for r, s in enumerate(shapes)]

    separate: list[list[torch.Tensor | None]] = []
    parts: dict[int, list[torch.Tensor]] = {i: [] for i in range(len(ex.inputs))}
    for name, u in zip(roots, seeds):
        g = Graph(ex, staged)
        found = _contributions(g.xs, g.by_name[name], torch.tensor(u))
        g.by_name[name].backward(torch.tensor(u))
        separate.append([x.grad for x in g.xs])
        for i, cs in found.items():
            parts[i].extend(cs)

    xs = ex.leaves()
    evaluations = [staged.run(xs) for _ in roots]
    tensors = [hs[int(n[1:])] if n.startswith("h") else xs[int(n[1:])] for hs, n in zip(evaluations, roots)]
    check = Checks(
        "semantics.multi_root",
        [*ex.repro(*(_seed_code(f"u{r}", u) for r, u in enumerate(seeds))),
         *(line for r in range(k) for line in _evaluation(staged.lines(), r)),
         f"torch.autograd.backward([{', '.join(f'{n}_{r}' if n[0] == 'h' else n for r, n in enumerate(roots))}], grad_tensors=[{', '.join(f'u{r}' for r in range(k))}])",
         f"print({', '.join(f'x{i}.grad' for i in range(len(xs)))})"],
        uses=[op.name for op in ex.tree.ops],
    )  # fmt: skip
    check.quiet(lambda: torch.autograd.backward(tensors, grad_tensors=[torch.tensor(u) for u in seeds]), "backward")
    for i, x in enumerate(xs):
        gs = [s[i] for s in separate if s[i] is not None]
        want = None if not gs else sum(gs[1:], gs[0])
        what = f"x{i}.grad after one backward of {k} roots (the sum of the separate backwards)"
        n = len(parts[i])
        if want is None or x.grad is None or n <= 2:
            check.same(x.grad, want, what)
        elif check.expect(
            x.grad.shape == want.shape, f"{what}: shape {tuple(x.grad.shape)}, expected {tuple(want.shape)}"
        ):
            bound = n * EPS * sum(c.abs() for c in parts[i])
            close = (x.grad == want) | ((x.grad - want).abs() <= bound) | (x.grad.isnan() & want.isnan())
            check.expect(
                bool(close.all()),
                f"{what}: got {x.grad.tolist()}, expected {want.tolist()} within {n}·eps·Σ|contribution| "
                f"= {bound.tolist()} ({n} contributions, summed in an unspecified order)",
            )
    check.finish(record)


def _evaluation(lines: list[str], r: int) -> list[str]:
    """The staged lines of evaluation ``r``, its nodes renamed ``h<j>_<r>`` (each evaluation is its own graph)."""
    return [re.sub(r"\bh(\d+)\b", rf"h\1_{r}", line) for line in lines[:-1]]


@cell("semantics.grads_batched", sem_cases("tree"))
def test_grads_batched(case: Case, data, record) -> None:
    """autograd.grad with is_grads_batched=True equals a loop of autograd.grad over the batch of seeds."""
    draw, ex, staged = _setup(data, record)
    g = Graph(ex, staged)
    chosen = _draw_names(draw, g.differentiable(), "inputs")
    batch = draw(st.integers(1, 3), "batch size")
    us = dyadic_array(draw, (batch, *g.y.shape), "seeds")
    inputs = [g.by_name[n] for n in chosen]
    names = ", ".join(chosen)
    check = Checks(
        "semantics.grads_batched",
        [*ex.repro(_seed_code("us", us)), *staged.lines(),
         f"batched = torch.autograd.grad(y, [{names}], us, retain_graph=True, allow_unused=True, is_grads_batched=True)",
         f"loop = [torch.autograd.grad(y, [{names}], u, retain_graph=True, allow_unused=True) for u in us]",
         "print(batched, loop)"],
        uses=[op.name for op in ex.tree.ops],
    )  # fmt: skip
    loop = [torch.autograd.grad(g.y, inputs, torch.tensor(u), retain_graph=True, allow_unused=True) for u in us]
    got = check.quiet(
        lambda: torch.autograd.grad(
            g.y, inputs, torch.tensor(us), retain_graph=True, allow_unused=True, is_grads_batched=True
        ),
        "autograd.grad(is_grads_batched=True)",
    )
    if got is not None:
        for n, b, *per_seed in zip(chosen, got, *loop):
            want = None if per_seed[0] is None else torch.stack(per_seed)
            check.same(b, want, f"the batched gradient of {n}")
    check.finish(record)


@pytest.mark.skipif(not HAS_GRADIENT_EDGE, reason=f"torch {torch.__version__} has no get_gradient_edge")
@cell("semantics.gradient_edge", sem_cases("tree"))
def test_gradient_edge_inputs(case: Case, data, record) -> None:
    """autograd.grad with some inputs given as get_gradient_edge(t) equals passing the tensors themselves."""
    draw, ex, staged = _setup(data, record)
    g = Graph(ex, staged)
    chosen = _draw_names(draw, g.differentiable(), "inputs")
    as_edge = [draw(st.booleans(), f"{n} passed as its GradientEdge") for n in chosen]
    u = dyadic_array(draw, tuple(g.y.shape), "u")
    get = torch.autograd.graph.get_gradient_edge
    edges = [get(g.by_name[n]) if e else g.by_name[n] for n, e in zip(chosen, as_edge)]
    spelled = ", ".join(f"get_gradient_edge({n})" if e else n for n, e in zip(chosen, as_edge))
    check = Checks(
        "semantics.gradient_edge",
        ["from torch.autograd.graph import get_gradient_edge", *ex.repro(_seed_code("u", u)), *staged.lines(),
         f"print(torch.autograd.grad(y, [{spelled}], u, retain_graph=True, allow_unused=True))",
         f"print(torch.autograd.grad(y, [{', '.join(chosen)}], u, allow_unused=True))"],
        uses=[op.name for op in ex.tree.ops],
    )  # fmt: skip
    got = check.quiet(
        lambda: torch.autograd.grad(g.y, edges, torch.tensor(u), retain_graph=True, allow_unused=True),
        "autograd.grad with GradientEdge inputs",
    )
    want = torch.autograd.grad(g.y, [g.by_name[n] for n in chosen], torch.tensor(u), allow_unused=True)
    if got is not None:
        for n, e, a, b in zip(chosen, as_edge, got, want):
            check.same(
                a, b, f"the gradient of {n}" + (" given as get_gradient_edge" if e else " (a tensor, among edges)")
            )
    check.finish(record)
