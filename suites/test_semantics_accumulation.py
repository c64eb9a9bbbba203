"""Semantics: zeroing gradients and accumulating them.

The reference gradient of each example comes from ``torch.autograd.grad``, which does
not touch ``.grad``; accumulation must equal the same additions done in order.
"""

from __future__ import annotations

import warnings

import torch
from hypothesis import assume
from hypothesis import strategies as st

from autograd_conformance import tolerances as tol
from autograd_conformance.case import Case
from autograd_conformance.strategies import labelled
from autograd_conformance.strategies.semantics import (
    SECOND_BACKWARD,
    Checks,
    draw_masked_tree,
    dyadic_array,
    lit,
)
from suites.cases import cell, sem_cases

ZEROINGS = {
    "x.grad.zero_()": lambda x: x.grad.zero_(),
    "x.grad.data.zero_()": lambda x: x.grad.data.zero_(),
    "x.grad = None": lambda x: setattr(x, "grad", None),
}


def _setup(draw, record, prop: str):
    """A tree, its leaves (some requiring grad), a seed u, and fresh reference gradients of (y * u).sum()."""
    ex = draw_masked_tree(draw, record)
    xs = ex.leaves()
    with torch.no_grad():
        shape = tuple(ex.forward(xs).shape)
    u = torch.tensor(dyadic_array(draw, shape, "u (seed of the loss)"))

    def loss(seed: torch.Tensor = u) -> torch.Tensor:
        return (ex.forward(xs) * seed).sum()

    live = [x for x, lv in zip(xs, ex.live()) if lv]
    # A live leaf the backward does not reach has no x.grad to accumulate: torch gives it no gradient where
    # the loss is constant in it (lstsq's residuals are empty at a rank-deficient matrix, so their sum is 0).
    # Only the leaves it reaches are checked, and an example where it reaches none is not one.
    grads = torch.autograd.grad(loss(), live, allow_unused=True)
    wanted = [x for x, g in zip(live, grads) if g is not None]
    fresh = [g for g in grads if g is not None]
    assume(wanted)
    check = Checks(
        prop,
        ex.repro(
            f"u = torch.tensor({lit(u.numpy())}, dtype=torch.float64)",
            f"loss = lambda: (({ex.tree.source}) * u).sum()",
        ),
    )
    return ex.tree, xs, wanted, fresh, loss, check


@cell("semantics.zeroing", sem_cases("grad"))
def test_zeroing(case: Case, data, record) -> None:
    """zero_() and .data.zero_() zero x.grad in place (same object); x.grad = None resets; the next backward gives the fresh gradient."""
    draw = labelled(data)
    _, xs, wanted, fresh, loss, check = _setup(draw, record, "semantics.zeroing")
    how = draw(st.sampled_from(sorted(ZEROINGS)), "how to zero")
    check.code(
        "loss().backward()",
        "g = [x.grad for x in (x0,)]",
        how.replace("x.", "x0."),
        "loss().backward()",
        "print(x0.grad)",
    )
    loss().backward()
    before = [x.grad for x in wanted]
    for i, x in enumerate(wanted):
        ZEROINGS[how](x)
        if how == "x.grad = None":
            check.expect(x.grad is None, f"after x.grad = None, x.grad is {x.grad!r}")
        else:
            check.expect(x.grad is before[i], f"{how} replaced the x.grad object")
            check.same(x.grad, torch.zeros_like(fresh[i]), f"x.grad after {how}")
    loss().backward()
    for i, x in enumerate(wanted):
        check.same(x.grad, fresh[i], f"x.grad after {how} and one more backward (the fresh gradient)")
        if how != "x.grad = None":
            check.expect(x.grad is before[i], f"backward after {how} replaced the zeroed x.grad object")
    check.finish(record)


@cell("semantics.zero_grad", sem_cases("Module", "Optimizer"))
def test_zero_grad(case: Case, data, record) -> None:
    """Module.zero_grad / Optimizer.zero_grad: set_to_none=True (the default) sets None; False zeroes in place."""
    draw = labelled(data)
    sizes = [draw(st.integers(1, 4), f"width {k}") for k in range(draw(st.integers(2, 4), "layers"))]
    torch.manual_seed(draw(st.integers(0, 2**16), "init seed"))
    layers = [torch.nn.Linear(a, b).double() for a, b in zip(sizes, sizes[1:])]
    model = torch.nn.Sequential(*[m for layer in layers for m in (layer, torch.nn.Tanh())])
    batch = (
        torch.tensor(
            labelled(data)(
                st.lists(st.integers(-8, 8), min_size=3 * sizes[0], max_size=3 * sizes[0]), "inputs (eighths)"
            )
        )
        .double()
        .reshape(3, sizes[0])
        / 8
    )
    arg = draw(st.sampled_from(["", "set_to_none=True", "set_to_none=False"]), "zero_grad argument")
    params = list(model.parameters())
    opt = (
        draw(st.sampled_from([torch.optim.SGD, torch.optim.Adam]), "optimizer")(params, lr=0.1)
        if case.op == "Optimizer"
        else None
    )
    target = "opt" if opt else "model"
    check = Checks(
        "semantics.zero_grad",
        [
            f"torch.manual_seed(...); model = Sequential of Linear/Tanh {sizes}",
            "model(x).sum().backward()",
            f"{target}.zero_grad({arg})",
            "print([p.grad for p in model.parameters()])",
        ],
    )
    fresh = torch.autograd.grad(model(batch).sum(), params)
    model(batch).sum().backward()
    before = [p.grad for p in params]
    kwargs = {} if not arg else {"set_to_none": arg.endswith("True")}
    (opt or model).zero_grad(**kwargs)
    for k, p in enumerate(params):
        if kwargs.get("set_to_none", True):
            check.expect(
                p.grad is None,
                f"parameter {k}: grad is {type(p.grad).__name__} after {target}.zero_grad({arg}), expected None",
            )
        else:
            check.expect(p.grad is before[k], f"parameter {k}: {target}.zero_grad({arg}) replaced the grad object")
            check.same(p.grad, torch.zeros_like(p), f"parameter {k} grad after {target}.zero_grad({arg})")
    model(batch).sum().backward()
    for k, p in enumerate(params):
        check.same(p.grad, fresh[k], f"parameter {k} grad after zero_grad and one backward (the fresh gradient)")
    check.finish(record)


@cell("semantics.accumulation", sem_cases("repeat", "sum"))
def test_accumulation(case: Case, data, record) -> None:
    """k backward calls accumulate g + g + ... (≈ k·g); backward calls of different losses accumulate their sum."""
    draw = labelled(data)
    tree, xs, wanted, fresh, loss, check = _setup(draw, record, "semantics.accumulation")
    k = draw(st.integers(2, 5), "backward calls")
    retain = draw(st.booleans(), "one graph, retain_graph=True (else a new forward each time)")
    if case.op == "sum":
        seeds = [
            torch.tensor(draw(st.lists(st.integers(-8, 8), min_size=1, max_size=1), f"scale {j}")[0] / 4.0)
            for j in range(k)
        ]
        refs = [list(torch.autograd.grad(loss() * s, wanted)) for s in seeds]
        check.code(f"for s in {[float(s) for s in seeds]}: (loss() * s).backward()")
        for s in seeds:
            (loss() * s).backward()
    else:
        refs = [fresh] * k
        check.code(
            f"for _ in range({k}): loss().backward()"
            if not retain
            else f"l = loss()\nfor _ in range({k}): l.backward(retain_graph=True)"
        )
        graph = loss()
        for _ in range(k):
            (graph if retain else loss()).backward(retain_graph=retain)
    check.code("print(x0.grad)")
    for i, x in enumerate(wanted):
        expected = refs[0][i].clone()
        for r in refs[1:]:
            expected = expected + r[i]
        check.same(x.grad, expected, f"x.grad after {k} backward calls, vs the same additions in order")
        if case.op == "repeat":
            check.same(
                x.grad,
                k * fresh[i],
                f"x.grad after {k} backward calls vs {k}·g",
                rtol=tol.ACCUMULATION_RTOL_PER_CALL * k,
            )
    check.finish(record)


@cell("semantics.accumulation", sem_cases("freed", "create_graph"))
def test_retain_and_create_graph(case: Case, data, record) -> None:
    """A second backward through a freed graph raises; retain_graph allows it; create_graph accumulates out of place."""
    draw = labelled(data)
    tree, xs, wanted, fresh, _, check = _setup(draw, record, "semantics.accumulation")
    mask = [x.requires_grad for x in xs]
    with warnings.catch_warnings():  # a create_graph backward may take another formula: compare like with like
        warnings.simplefilter("ignore")
        fresh = [
            g.detach()
            for g in torch.autograd.grad(
                (tree.torch_fn()(*xs) ** 2).sum(), wanted, create_graph=case.op == "create_graph"
            )
        ]
    check.code(f"loss = (({tree.source}) ** 2).sum()  # saves y for backward")
    loss = (tree.torch_fn()(*xs) ** 2).sum()
    if case.op == "freed":
        retain = draw(st.booleans(), "retain_graph on the first backward")
        check.code(f"loss.backward(retain_graph={retain})", "loss.backward()")
        loss.backward(retain_graph=retain)
        if retain:
            check.quiet(loss.backward, "a second backward after retain_graph=True")
            for i, x in enumerate(wanted):
                check.same(x.grad, fresh[i] + fresh[i], "x.grad after two backward calls through a retained graph")
            check.raises(loss.backward, SECOND_BACKWARD, "a third backward after the second freed the graph")
        else:
            check.raises(loss.backward, SECOND_BACKWARD, "a second backward through the freed graph")
    else:
        check.code(
            "loss.backward(create_graph=True); g0 = x0.grad",
            f"(({tree.source}) ** 2).sum().backward(create_graph=True)",
            "print(x0.grad is g0)",
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # create_graph's reference-cycle warning
            loss.backward(create_graph=True)
            first = [x.grad for x in wanted]
            snapshot = [g.detach().clone() for g in first]
            (tree.torch_fn()(*xs) ** 2).sum().backward(create_graph=True)
        for i, x in enumerate(wanted):
            check.expect(x.grad is not first[i], "create_graph=True accumulated into the old x.grad in place")
            check.same(first[i], snapshot[i], "the old x.grad after an out-of-place accumulation")
            check.same(x.grad, snapshot[i] + fresh[i], "x.grad after two create_graph backward calls")
        for x in wanted:
            x.grad = None  # break the reference cycle create_graph makes
    assert mask  # keep the leaves alive until here
    check.finish(record)
