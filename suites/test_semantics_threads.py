"""Semantics: backward from several Python threads, and reentrant backward, on random trees (issue 16, item 8).

Torch's autograd notes ("Multithreading"): on the CPU, ``backward`` and ``autograd.grad`` may be called
from several threads at once, each call driving its own backward; a graph shared between threads is
differentiated again with ``retain_graph=True``; and where threads share inputs, ``torch.autograd.grad``
(which accumulates into no ``.grad``) is the way to get deterministic gradients.  Concurrent
``backward()`` calls accumulating into the same ``.grad`` are documented as "technically not safe"
(the result "might be invalid"), so that is not checked.  Reentrant backward (a backward run inside
a custom Function's backward, as reentrant checkpointing does) is supported.  What is checked:

* ``semantics.threads``: 2-4 threads, released together by a barrier after their forwards, each
  differentiate a random tree: with fresh leaves per thread (``backward``), on shared leaves with a
  graph each (``autograd.grad``), or on one shared graph (``autograd.grad``, ``retain_graph=True``);
  each thread's gradients are those of the same calls run one after another, exactly, and
  ``autograd.grad`` leaves the shared leaves' ``.grad`` unset.
* ``semantics.reentrant``: a custom Function whose forward runs the tree without a graph and whose
  backward re-runs it under ``torch.enable_grad()`` and differentiates it there (``autograd.grad`` or
  ``Tensor.backward``), once or nested twice, gives the plain tree's gradients, exactly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import torch
from hypothesis import strategies as st

from autograd_conformance.case import Case
from autograd_conformance.strategies import labelled
from autograd_conformance.strategies.semantics import (
    Checks,
    MaskedTree,
    draw_masked_tree,
    dyadic_array,
    leaves_code,
    lit,
)
from suites.cases import cell, sem_cases

BARRIER_TIMEOUT_S = 60.0
MODES = ("independent graphs", "shared leaves", "shared graph")


def concurrently(n: int, forward: Callable[[int], Any], backward: Callable[[int, Any], Any]) -> list[Any]:
    """Thread k runs forward(k), waits until every thread has, then returns backward(k, forward's result)."""
    barrier = threading.Barrier(n, timeout=BARRIER_TIMEOUT_S)

    def work(k: int) -> Any:
        try:
            y = forward(k)
        except BaseException:
            barrier.abort()  # the others stop waiting (BrokenBarrierError) instead of timing out
            raise
        barrier.wait()
        return backward(k, y)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return [f.result() for f in [pool.submit(work, k) for k in range(n)]]


def _fresh_leaves_code(ex: MaskedTree) -> list[str]:
    return ["def leaves():", *(f"    {line}" for line in leaves_code(ex.inputs, ex.mask)),
            "    return [" + ", ".join(f"x{i}" for i in range(len(ex.inputs))) + "]"]  # fmt: skip


@cell("semantics.threads", sem_cases("tree"))
def test_backward_from_threads(case: Case, data, record) -> None:
    """Gradients computed in several threads at once are those computed one call after another, exactly."""
    draw = labelled(data)
    ex = draw_masked_tree(draw, record)
    n = draw(st.integers(2, 4), "threads")
    mode = draw(st.sampled_from(MODES), "what the threads share")
    fn = ex.tree.torch_fn()
    shape = tuple(fn(*ex.leaves()).shape)
    us = [torch.tensor(dyadic_array(draw, shape, f"u{k}")) for k in range(n)]
    live = [i for i, m in enumerate(ex.live()) if m]
    names = ", ".join(f"x{i}" for i in range(len(ex.inputs)))
    wanted = "[" + ", ".join(f"xs[{i}]" for i in live) + "]"

    if mode == "independent graphs":

        def forward(k: int) -> Any:
            xs = ex.leaves()
            return xs, fn(*xs)

        def backward(k: int, xy: Any) -> list:
            xs, y = xy
            y.backward(us[k])
            return [x.grad for x in xs]

        setup = [*_fresh_leaves_code(ex), "def forward(k):", "    xs = leaves()", "    return xs, f(*xs)",
                 "def backward(k, xy):", "    xs, y = xy", "    y.backward(us[k])", "    return [x.grad for x in xs]"]  # fmt: skip
        shared: list = []
    else:
        shared = ex.leaves()
        graph = fn(*shared) if mode == "shared graph" else None

        def forward(k: int) -> Any:
            return graph if graph is not None else fn(*shared)

        def backward(k: int, y: Any) -> list:
            kept = {"retain_graph": True} if mode == "shared graph" else {}
            return list(torch.autograd.grad(y, [shared[i] for i in live], us[k], allow_unused=True, **kept))

        retain = ", retain_graph=True" if mode == "shared graph" else ""
        setup = [*ex.repro(f"xs = [{names}]"),
                 *(["y = f(*xs)", "def forward(k):", "    return y"] if mode == "shared graph"
                   else ["def forward(k):", "    return f(*xs)"]),
                 "def backward(k, y):",
                 f"    return torch.autograd.grad(y, {wanted}, us[k], allow_unused=True{retain})"]  # fmt: skip

    check = Checks(
        "semantics.threads",
        ["import threading", "import torch.nn.functional as F", "from concurrent.futures import ThreadPoolExecutor",
         f"f = lambda {names}: {ex.tree.source}",
         "us = [" + ", ".join(f"torch.tensor({lit(u.numpy())}, dtype=torch.float64)" for u in us) + "]",
         *setup,
         "serial = [backward(k, forward(k)) for k in range(len(us))]",
         "barrier = threading.Barrier(len(us))",
         "def work(k):", "    y = forward(k)", "    barrier.wait()", "    return backward(k, y)",
         "with ThreadPoolExecutor(len(us)) as pool:", "    threaded = list(pool.map(work, range(len(us))))",
         "print(serial, threaded)"],
    )  # fmt: skip
    got = check.quiet(lambda: concurrently(n, forward, backward), f"{mode} in {n} threads") or []
    want = [backward(k, forward(k)) for k in range(n)]
    what = "x{}.grad" if mode == "independent graphs" else "autograd.grad's gradient for x{}"
    index = range(len(ex.inputs)) if mode == "independent graphs" else live
    for k, (g, w) in enumerate(zip(got, want)):
        for i, gi, wi in zip(index, g, w):
            check.same(gi, wi, f"{what.format(i)} in thread {k} of {n} ({mode}), against the serial run")
    for i, x in enumerate(shared):
        check.expect(x.grad is None, f"x{i}.grad was set by torch.autograd.grad called from threads ({mode})")
    check.finish(record)


class Reentrant(torch.autograd.Function):
    """``fn`` without a graph in the forward; the backward re-runs ``fn`` under ``torch.enable_grad()`` on
    detached inputs and differentiates it there, with ``torch.autograd.grad`` or ``Tensor.backward``."""

    @staticmethod
    def forward(ctx: Any, fn: Callable[..., torch.Tensor], style: str, *xs: torch.Tensor) -> torch.Tensor:
        ctx.fn, ctx.style = fn, style
        ctx.save_for_backward(*xs)
        return fn(*xs).clone()  # a new tensor even where fn returns a view of an input

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple:
        inner = [x.detach().requires_grad_(need) for x, need in zip(ctx.saved_tensors, ctx.needs_input_grad[2:])]
        with torch.enable_grad():
            y = ctx.fn(*inner)
        if ctx.style == "grad":
            got = iter(torch.autograd.grad(y, [x for x in inner if x.requires_grad], g, allow_unused=True))
            grads = [next(got) if x.requires_grad else None for x in inner]
        else:
            y.backward(g)
            grads = [x.grad for x in inner]
        return (None, None, *grads)


REENTRANT_CODE = [
    "class Reentrant(torch.autograd.Function):",
    "    @staticmethod",
    "    def forward(ctx, fn, style, *xs):",
    "        ctx.fn, ctx.style = fn, style",
    "        ctx.save_for_backward(*xs)",
    "        return fn(*xs).clone()",
    "    @staticmethod",
    "    def backward(ctx, g):",
    "        inner = [x.detach().requires_grad_(n) for x, n in zip(ctx.saved_tensors, ctx.needs_input_grad[2:])]",
    "        with torch.enable_grad():",
    "            y = ctx.fn(*inner)",
    "        if ctx.style == 'grad':",
    "            got = iter(torch.autograd.grad(y, [x for x in inner if x.requires_grad], g, allow_unused=True))",
    "            grads = [next(got) if x.requires_grad else None for x in inner]",
    "        else:",
    "            y.backward(g)",
    "            grads = [x.grad for x in inner]",
    "        return (None, None, *grads)",
]


@cell("semantics.reentrant", sem_cases("tree"))
def test_reentrant_backward(case: Case, data, record) -> None:
    """A backward inside a custom Function's backward (once or nested) gives the plain gradients, exactly."""
    draw = labelled(data)
    ex = draw_masked_tree(draw, record)
    outer = draw(st.sampled_from(["grad", "backward"]), "outer Function's inner call")
    nested = draw(st.sampled_from([None, "grad", "backward"]), "nested Function's inner call (None: not nested)")
    tree = ex.tree.torch_fn()
    fn = tree if nested is None else (lambda *xs: Reentrant.apply(tree, nested, *xs))

    xs = ex.leaves()
    y = tree(*xs)
    u = torch.tensor(dyadic_array(draw, tuple(y.shape), "u"))
    y.backward(u)
    plain = [x.grad for x in xs]

    names = ", ".join(f"x{i}" for i in range(len(ex.inputs)))
    inner = "f" if nested is None else f"lambda *a: Reentrant.apply(f, {nested!r}, *a)"
    call = f"Reentrant.apply({inner}, {outer!r}, {names})"
    check = Checks(
        "semantics.reentrant",
        ["import torch.nn.functional as F", *REENTRANT_CODE,
         *ex.repro(f"u = torch.tensor({lit(u.numpy())}, dtype=torch.float64)"),
         f"f = lambda {names}: {ex.tree.source}",
         f"f({names}).backward(u); plain = [x.grad for x in ({names},)]",
         f"for x in ({names},): x.grad = None",
         f"{call}.backward(u)", f"print(plain, [x.grad for x in ({names},)])"],
    )  # fmt: skip
    xs = ex.leaves()
    check.quiet(lambda: Reentrant.apply(fn, outer, *xs).backward(u), call)
    for i, (x, want) in enumerate(zip(xs, plain)):
        check.same(x.grad, want, f"x{i}.grad through {call}")
    check.finish(record)
