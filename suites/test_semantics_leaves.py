"""Semantics: leaves and non-leaves, torch.autograd.grad, and in-place operations."""

from __future__ import annotations

import inspect
import warnings

import torch
from hypothesis import strategies as st

from autograd_conformance import tolerances as tol
from autograd_conformance.case import Case
from autograd_conformance.strategies import labelled
from autograd_conformance.strategies.semantics import (
    INPLACE_LEAF,
    INPLACE_SAVED,
    NON_LEAF_GRAD,
    UNUSED,
    Checks,
    draw_masked_tree,
    dyadic_array,
    lit,
)
from suites.cases import cell, sem_cases

MATERIALIZE = "materialize_grads" in inspect.signature(torch.autograd.grad).parameters


@cell("semantics.leaves", sem_cases("backward"))
def test_leaves_and_non_leaves(case: Case, data, record) -> None:
    """Leaves not requiring grad keep .grad None; a non-leaf's .grad warns and is None; retain_grad() fills it with dL/dy."""
    draw = labelled(data)
    ex = draw_masked_tree(draw, record)
    xs = ex.leaves()
    y = ex.forward(xs)
    u = dyadic_array(draw, tuple(y.shape), "u (seed of the loss)")
    check = Checks(
        "semantics.leaves",
        ex.repro(
            f"y = {ex.tree.source}",
            "y.grad  # warns",
            "y.retain_grad()",
            f"(y * torch.tensor({lit(u)}, dtype=torch.float64)).sum().backward()",
            "print(y.grad)",
        ),
    )
    if any(y is x for x in xs):
        check.finish(record)
        return
    got = check.warns(lambda: y.grad, NON_LEAF_GRAD, "reading .grad of a non-leaf")
    check.expect(got is None, f"a non-leaf's .grad is {got!r} before backward")
    retain = draw(st.booleans(), "y.retain_grad()")
    if retain:
        y.retain_grad()
        check.expect(y.retains_grad, "y.retains_grad is False after y.retain_grad()")
    (y * torch.tensor(u)).sum().backward()
    if retain:
        check.same(y.grad, torch.tensor(u), "y.grad after retain_grad() and (y * u).sum().backward() (= u)")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check.expect(y.grad is None, "a non-leaf's .grad was filled without retain_grad()")
    for i, (x, m) in enumerate(zip(xs, ex.live())):
        if not m:
            check.expect(x.grad is None, f"x{i} does not require grad, yet x{i}.grad is {x.grad!r} after backward")
        else:
            check.expect(x.grad is not None, f"x{i} requires grad, yet x{i}.grad is None after backward")
    check.finish(record)


@cell("semantics.leaves", sem_cases("autograd.grad"))
def test_autograd_grad(case: Case, data, record) -> None:
    """torch.autograd.grad gives backward's gradient and leaves .grad alone; an unused input raises unless allow_unused."""
    draw = labelled(data)
    ex = draw_masked_tree(draw, record)
    xs = ex.leaves()
    wanted = [x for x, lv in zip(xs, ex.live()) if lv]
    unused = torch.tensor(dyadic_array(draw, (2,), "an unused input"), requires_grad=True)
    prior = draw(st.booleans(), "x.grad already holds a gradient")
    if prior:
        for x in wanted:
            x.grad = torch.full_like(x, 0.5)
    check = Checks(
        "semantics.leaves",
        ex.repro(
            "z = torch.ones(2, requires_grad=True)  # unused",
            f"loss = ({ex.tree.source}).sum()",
            "g = torch.autograd.grad(loss, [x0])",
        ),
    )
    before = [None if x.grad is None else x.grad.clone() for x in wanted]
    grads = check.quiet(lambda: torch.autograd.grad(ex.forward(xs).sum(), wanted), "torch.autograd.grad")
    for i, x in enumerate(wanted):
        check.same(x.grad, before[i], "x.grad after torch.autograd.grad (must be untouched)")
    for x in wanted:
        x.grad = None
    ex.forward(xs).sum().backward()
    if grads is not None:
        for i, x in enumerate(wanted):
            check.same(grads[i], x.grad, "torch.autograd.grad vs backward", rtol=tol.ENGINE_ENTRY_POINTS_RTOL)
    check.code(
        "torch.autograd.grad(loss, [x0, z])  # raises",
        "torch.autograd.grad(loss, [x0, z], allow_unused=True)  # (g, None)",
    )
    check.raises(
        lambda: torch.autograd.grad(ex.forward(xs).sum(), [*wanted, unused]),
        UNUSED,
        "torch.autograd.grad with an unused input",
    )
    out = check.quiet(
        lambda: torch.autograd.grad(ex.forward(xs).sum(), [*wanted, unused], allow_unused=True),
        "allow_unused=True",
    )
    if out is not None:
        check.expect(out[-1] is None, f"allow_unused=True gave {out[-1]!r} for the unused input, expected None")
        if grads is not None:
            for i in range(len(wanted)):
                check.same(
                    out[i], grads[i], "allow_unused=True: the used inputs' gradients", rtol=tol.ENGINE_ENTRY_POINTS_RTOL
                )
    if MATERIALIZE:
        out = check.quiet(
            lambda: torch.autograd.grad(
                ex.forward(xs).sum(), [*wanted, unused], allow_unused=True, materialize_grads=True
            ),
            "materialize_grads=True",
        )
        if out is not None:
            check.same(
                out[-1], torch.zeros(2, dtype=torch.float64), "materialize_grads=True: the unused input's gradient"
            )
    check.finish(record)


INPLACE = {
    "add_(0.5)": lambda t: t.add_(0.5),
    "mul_(2)": lambda t: t.mul_(2),
    "zero_()": lambda t: t.zero_(),
    "[...] = 1": lambda t: t.__setitem__(..., 1.0),
    "copy_(t * 1)": lambda t: t.copy_(t.detach() * 1),
}
SAVERS = {
    "y * y": (lambda y: y * y, "y"),
    "y.exp()": (lambda y: y.exp(), "out"),
    "torch.sin(y)": (lambda y: torch.sin(y), "y"),
    "y ** 3": (lambda y: y**3, "y"),
}


@cell("semantics.inplace", sem_cases("saved", "leaf"))
def test_inplace(case: Case, data, record) -> None:
    """Modifying a tensor saved for backward makes backward raise; an in-place op on a leaf requiring grad raises."""
    draw = labelled(data)
    ex = draw_masked_tree(draw, record)
    xs = ex.leaves()
    op = draw(st.sampled_from(sorted(INPLACE)), "in-place op")
    check = Checks("semantics.inplace", ex.repro())
    if case.op == "leaf":
        i = draw(st.sampled_from([k for k, m in enumerate(ex.mask) if m]), "the leaf")
        x = xs[i]
        check.code(f"x{i}.{op}" if not op.startswith("[") else f"x{i}{op}")
        check.raises(lambda: INPLACE[op](x), INPLACE_LEAF, f"x{i}.{op} on a leaf requiring grad")
        check.same(x, torch.tensor(ex.inputs[i]), f"x{i} after the refused in-place op")
        version = x._version
        with torch.no_grad():
            check.quiet(lambda: INPLACE[op](x), f"x{i}.{op} under no_grad")
        check.expect(
            x.is_leaf and x.requires_grad and x.grad_fn is None,
            "x is no longer a leaf requiring grad after an in-place op under no_grad",
        )
        check.expect(x._version > version, f"x._version did not increase after x.{op} under no_grad")
    else:
        saver = draw(st.sampled_from(sorted(SAVERS)), "an op that saves a tensor")
        fn, which = SAVERS[saver]
        y = ex.forward(xs) * 1  # a fresh non-view non-leaf (an expanded view cannot be written in place)
        z = fn(y)
        target = y if which == "y" else z
        name = "y" if which == "y" else "z"
        check.code(
            f"y = ({ex.tree.source}) * 1",
            f"z = {saver}",
            f"{name}.{op}" if not op.startswith("[") else f"{name}{op}",
            "z.sum().backward()",
        )
        version = target._version
        INPLACE[op](target)
        check.expect(target._version > version, f"{name}._version did not increase after {name}.{op}")
        check.raises(
            lambda: z.sum().backward(), INPLACE_SAVED, f"backward after {name}.{op} modified a tensor {saver} saved"
        )
    check.finish(record)
