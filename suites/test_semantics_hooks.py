"""Semantics: backward hooks on random trees (issue 16, item 2).

Each property runs a random tree's backward twice, plain and with hooks, and holds the hooked run
to the plain one exactly: a hook that only observes changes nothing, and one that scales a
gradient by a power of two (exact in binary floating point) scales exactly what it should.  What
is checked, against torch's documentation ("Backward Hooks execution"):

* ``Tensor.register_hook`` on leaves: a hook sees the leaf's gradient and may replace it; it runs
  once per backward, and not at all on a leaf no gradient reaches; hooks on one tensor run in the
  order they were registered, each seeing the one before's result; a removed hook never runs;
* a hook on the output and ``grad_fn`` hooks: the tensor's hook runs before its Node's pre-hook
  (which sees the replaced gradient), and a Node pre-hook's return value replaces ``grad_outputs``;
* ``register_post_accumulate_grad_hook``: runs once per backward, after ``.grad`` holds the
  accumulated gradient (twice the plain one after a second backward);
* ``torch.autograd.graph.register_multi_grad_hook``: ``mode="all"`` runs once with every tensor's
  gradient (None where none reached it), ``mode="any"`` once with the first gradient;
* ``nn.Module`` full backward hooks: the pre-hook sees the output's gradient and may replace it;
  the hook sees the inputs' gradients.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import torch
from hypothesis import strategies as st

from autograd_conformance.case import Case
from autograd_conformance.strategies import labelled
from autograd_conformance.strategies.semantics import Checks, MaskedTree, draw_masked_tree, dyadic_array, identical, lit
from suites.cases import cell, sem_cases

POWERS_OF_TWO = (0.5, 2.0, -1.0, 4.0, -0.25)


class Plain:
    """An example's draws and its plain backward: the tree (``ex``), the leaves that require grad
    (``live``), the seed u, and every leaf's gradient (None where none reaches)."""

    def __init__(self, data: Any, record: Any) -> None:
        self.draw = labelled(data)
        self.ex = ex = draw_masked_tree(self.draw, record)
        self.live = [i for i, m in enumerate(ex.mask) if m]
        xs = ex.leaves()
        y = ex.forward(xs)
        self.u = dyadic_array(self.draw, tuple(y.shape), "u")
        y.backward(torch.tensor(self.u))
        self.grads = [x.grad for x in xs]
        self.reached = [g is not None for g in self.grads]

    def seed(self) -> torch.Tensor:
        return torch.tensor(self.u)


def _repro(ex: MaskedTree, plain: Plain, *lines: str) -> list[str]:
    return ex.repro(f"u = torch.tensor({lit(plain.u)}, dtype=torch.float64)", f"y = {ex.tree.source}", *lines)


@cell("semantics.tensor_hook", sem_cases("tree"))
def test_tensor_hooks_on_leaves(case: Case, data, record) -> None:
    """Leaf hooks observe, replace (by a power of two), run in order, once each, and not once removed."""
    plain = Plain(data, record)
    draw, ex, live = plain.draw, plain.ex, plain.live
    scaled = draw(st.sampled_from(live), "the leaf whose hook scales its gradient")
    c = draw(st.sampled_from(POWERS_OF_TWO), "scale")
    removed = draw(st.sampled_from(live), "the leaf whose (zeroing) hook is removed")
    seen: dict[int, list[torch.Tensor]] = defaultdict(list)
    removed_calls: list[int] = []

    xs = ex.leaves()
    for i in live:
        if i == scaled:
            xs[i].register_hook(lambda g: g * c)  # first: the observer after it sees the replaced gradient
        xs[i].register_hook(lambda g, i=i: seen[i].append(g.clone()))
        if i == removed:
            xs[i].register_hook(lambda g: removed_calls.append(1) or torch.zeros_like(g)).remove()
    ex.forward(xs).backward(plain.seed())

    check = Checks(
        "semantics.tensor_hook",
        _repro(ex, plain, f"x{scaled}.register_hook(lambda g: g * {c})", "seen = {}",
               *(f"x{i}.register_hook(lambda g, i={i}: seen.setdefault(i, []).append(g))" for i in live),
               f"x{removed}.register_hook(lambda g: torch.zeros_like(g)).remove()", "y.backward(u)",
               "print([x.grad for x in (" + ", ".join(f"x{i}" for i in live) + ",)], seen)"),
    )  # fmt: skip
    for i in live:
        want = None if plain.grads[i] is None else plain.grads[i] * (c if i == scaled else 1.0)
        check.same(xs[i].grad, want, f"x{i}.grad" + (f" with a hook g -> g * {c}" if i == scaled else ""))
        check.expect(
            len(seen[i]) == plain.reached[i],
            f"x{i}'s hook ran {len(seen[i])} times in one backward; expected {int(plain.reached[i])}",
        )
        if seen[i]:
            check.same(seen[i][0], want, f"the gradient x{i}'s second hook saw (after the first's)")
    check.expect(not removed_calls, f"x{removed}'s removed hook ran {len(removed_calls)} times")
    check.finish(record)


@cell("semantics.node_hook", sem_cases("tree"))
def test_output_and_node_hooks(case: Case, data, record) -> None:
    """The output's tensor hook runs before its grad_fn's pre-hook; a pre-hook's return replaces grad_outputs."""
    plain = Plain(data, record)
    draw, ex = plain.draw, plain.ex
    c = draw(st.sampled_from(POWERS_OF_TWO), "tensor hook scale")
    d = draw(st.sampled_from(POWERS_OF_TWO), "node pre-hook scale")
    xs = ex.leaves()
    y = ex.forward(xs)
    k = y.output_nr  # y's place among its Node's outputs (slogdet(x).logabsdet is the second)
    scale = f"tuple(g * {d} if k == {k} and g is not None else g for k, g in enumerate(gO))"
    check = Checks(
        "semantics.node_hook",
        _repro(ex, plain, "seen = []", f"y.register_hook(lambda g: g * {c})",
               f"y.grad_fn.register_prehook(lambda gO: seen.append(gO[{k}]) or {scale})", "y.backward(u)",
               "print(seen, [x.grad for x in (" + ", ".join(f"x{i}" for i in range(len(xs))) + ",)])"),
    )  # fmt: skip
    if y.grad_fn is None:  # an op that returns its input (x0.contiguous() is x0): a leaf has no Node to hook
        check.expect(any(y is x for x in xs), "the output requires grad but has no grad_fn, and is not an input leaf")
        check.finish(record)
        return
    seen: list[torch.Tensor] = []

    def prehook(g_out: tuple) -> tuple:
        seen.append(g_out[k].clone())
        return tuple(g * d if j == k and g is not None else g for j, g in enumerate(g_out))

    y.register_hook(lambda g: g * c)
    y.grad_fn.register_prehook(prehook)
    y.backward(plain.seed())
    check.expect(len(seen) == 1, f"the pre-hook ran {len(seen)} times; expected once")
    if seen:
        check.same(seen[0], plain.seed() * c, "grad_outputs the pre-hook saw (after the tensor hook)")
    for i, x in enumerate(xs):
        want = None if plain.grads[i] is None else plain.grads[i] * (c * d)
        check.same(x.grad, want, f"x{i}.grad with the output's gradient scaled by {c} * {d}")
    check.finish(record)


@cell("semantics.post_accumulate_hook", sem_cases("tree"))
def test_post_accumulate_grad_hook(case: Case, data, record) -> None:
    """The hook runs once per backward, after .grad holds the accumulated gradient."""
    plain = Plain(data, record)
    ex, live = plain.ex, plain.live
    seen: dict[int, list[torch.Tensor | None]] = defaultdict(list)
    xs = ex.leaves()
    for i in live:
        xs[i].register_post_accumulate_grad_hook(
            lambda p, i=i: seen[i].append(None if p.grad is None else p.grad.clone())
        )
    y = ex.forward(xs)
    y.backward(plain.seed(), retain_graph=True)
    y.backward(plain.seed())
    check = Checks(
        "semantics.post_accumulate_hook",
        _repro(ex, plain, "seen = {}",
               *(f"x{i}.register_post_accumulate_grad_hook(lambda p, i={i}: seen.setdefault(i, []).append(p.grad.clone()))"
                 for i in live),
               "y.backward(u, retain_graph=True)", "y.backward(u)", "print(seen)"),
    )  # fmt: skip
    for i in live:
        runs = 2 if plain.reached[i] else 0
        check.expect(len(seen[i]) == runs, f"x{i}'s post-accumulate hook ran {len(seen[i])} times; expected {runs}")
        if len(seen[i]) == 2:
            check.same(seen[i][0], plain.grads[i], f"x{i}.grad inside its hook after the first backward")
            check.same(seen[i][1], plain.grads[i] * 2, f"x{i}.grad inside its hook after the second backward")
    check.finish(record)


@cell("semantics.multi_grad_hook", sem_cases("tree"))
def test_multi_grad_hook(case: Case, data, record) -> None:
    """mode="all": once, with every gradient (None where none reached); mode="any": once, with one of them."""
    plain = Plain(data, record)
    ex, live = plain.ex, plain.live
    xs = ex.leaves()
    every: list[tuple] = []
    first: list[torch.Tensor] = []
    tensors = [xs[i] for i in live]
    torch.autograd.graph.register_multi_grad_hook(tensors, lambda gs: every.append(tuple(gs)), mode="all")
    torch.autograd.graph.register_multi_grad_hook(tensors, lambda g: first.append(g), mode="any")
    y = ex.forward(xs)
    y.backward(plain.seed())
    names = "[" + ", ".join(f"x{i}" for i in live) + "]"
    root_is_leaf = any(y is x for x in xs)  # x0.contiguous() is x0: the backward starts at a leaf of the hook
    check = Checks(
        "semantics.multi_grad_hook",
        params={"root_is_leaf": float(root_is_leaf)},
        repro=_repro(ex, plain, "from torch.autograd.graph import register_multi_grad_hook",
               f"register_multi_grad_hook({names}, lambda gs: print('all:', gs), mode='all')",
               f"register_multi_grad_hook({names}, lambda g: print('any:', g), mode='any')", "y.backward(u)"),
    )  # fmt: skip
    reached = any(plain.reached[i] for i in live)
    check.expect(len(every) == reached, f"the mode='all' hook ran {len(every)} times; expected {int(reached)}")
    if every:
        for g, i in zip(every[0], live, strict=True):
            check.same(g, plain.grads[i], f"the gradient of x{i} given to the mode='all' hook")
    check.expect(len(first) == reached, f"the mode='any' hook ran {len(first)} times; expected {int(reached)}")
    if first:
        candidates = [plain.grads[i] for i in live if plain.grads[i] is not None]
        check.expect(
            any(g.shape == first[0].shape and identical(g, first[0]) for g in candidates),
            f"the mode='any' hook got {first[0].tolist()}, which is none of the inputs' gradients",
        )
    check.finish(record)


class TreeModule(torch.nn.Module):
    def __init__(self, ex: MaskedTree) -> None:
        super().__init__()
        self.ex = ex

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return self.ex.forward(list(xs))


@cell("semantics.module_hook", sem_cases("tree"))
def test_module_full_backward_hooks(case: Case, data, record) -> None:
    """The pre-hook sees the output's gradient and may replace it; the hook sees the inputs' gradients."""
    plain = Plain(data, record)
    draw, ex = plain.draw, plain.ex
    c = draw(st.sampled_from(POWERS_OF_TWO), "pre-hook scale")
    module, outputs, inputs = TreeModule(ex), [], []
    module.register_full_backward_pre_hook(lambda m, g_out: outputs.append(g_out[0].clone()) or (g_out[0] * c,))
    module.register_full_backward_hook(lambda m, g_in, g_out: inputs.append(tuple(g_in)))
    xs = ex.leaves()
    module(*xs).backward(plain.seed())
    names = ", ".join(f"x{i}" for i in range(len(xs)))
    check = Checks(
        "semantics.module_hook",
        [*ex.repro(f"u = torch.tensor({lit(plain.u)}, dtype=torch.float64)"),
         "class M(torch.nn.Module):", f"    def forward(self, {names}):", f"        return {ex.tree.source}",
         "m = M()", f"m.register_full_backward_pre_hook(lambda m, gO: (gO[0] * {c},))",
         "m.register_full_backward_hook(lambda m, gI, gO: print('grad_input', gI))",
         f"m({names}).backward(u)", f"print({names.replace(', ', '.grad, ')}.grad)"],
    )  # fmt: skip
    check.expect(len(outputs) == 1, f"the full backward pre-hook ran {len(outputs)} times; expected once")
    if outputs:
        check.same(outputs[0], plain.seed(), "grad_output the pre-hook saw")
    check.expect(len(inputs) == 1, f"the full backward hook ran {len(inputs)} times; expected once")
    for i, x in enumerate(xs):
        want = None if plain.grads[i] is None else plain.grads[i] * c
        check.same(x.grad, want, f"x{i}.grad with the module's grad_output scaled by {c}")
        if inputs and ex.mask[i]:
            check.same(inputs[0][i], want, f"grad_input[{i}] the full backward hook saw")
    check.finish(record)
