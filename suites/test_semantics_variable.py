"""Semantics: ``torch.autograd.Variable``, ``.data``, ``volatile`` and the ``requires_grad`` flag's errors.

The notebook this project began from wraps tensors as ``Variable(tensor, requires_grad=True)``
and zeroes through ``.data``; these properties check what those do, on random tensors.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import assume
from hypothesis import strategies as st

from autograd_conformance.case import Case
from autograd_conformance.registry.shapes import shapes
from autograd_conformance.strategies import labelled
from autograd_conformance.strategies.semantics import (
    INTEGER_FLAG,
    NON_LEAF_FLAG,
    Checks,
    draw_masked_tree,
    dyadic_array,
    leaf_code,
)
from suites.cases import cell, sem_cases

SOURCES = ["plain tensor", "leaf requiring grad", "non-leaf"]
WRITES = {"add_": "d.add_(1.5)", "mul_": "d.mul_(-2.0)", "fill_": "d.fill_(0.25)", "copy_": "d.copy_(d * 4)"}


def _apply(write: str, expected: np.ndarray) -> np.ndarray:
    return {
        "add_": expected + 1.5,
        "mul_": expected * -2.0,
        "fill_": np.full_like(expected, 0.25),
        "copy_": expected * 4,
    }[write]


@cell("semantics.variable", sem_cases("Variable"))
def test_variable(case: Case, data, record) -> None:
    """Variable(t, requires_grad=r) is a Tensor equal to t, a leaf with the flag r, no grad and no grad_fn."""
    draw = labelled(data)
    shape = draw(shapes(0, 3), "shape")
    values = dyadic_array(draw, shape, "t")
    source = draw(st.sampled_from(SOURCES), "what t is")
    r = draw(st.booleans(), "requires_grad")
    base = torch.tensor(values, requires_grad=source != "plain tensor")
    t = base * 1 if source == "non-leaf" else base
    check = Checks("semantics.variable", [leaf_code("t", values, source != "plain tensor")])
    if source == "non-leaf":
        check.code("t = t * 1  # a non-leaf")
    check.code(
        f"v = torch.autograd.Variable(t, requires_grad={r})",
        "print(type(v), v.requires_grad, v.is_leaf, v.grad, v.grad_fn)",
    )
    v = check.quiet(lambda: torch.autograd.Variable(t, requires_grad=r), "Variable(t, requires_grad=r)")
    if v is not None:
        check.expect(type(v) is torch.Tensor, f"type(v) is {type(v).__name__}, expected torch.Tensor")
        check.expect(isinstance(v, torch.autograd.Variable), "isinstance(v, Variable) is False")
        check.expect(isinstance(t, torch.autograd.Variable), "isinstance(t, Variable) is False for a plain tensor t")
        check.expect(
            v.dtype == t.dtype and v.shape == t.shape, f"v is {v.dtype}{tuple(v.shape)}, t is {t.dtype}{tuple(t.shape)}"
        )
        check.same(v.detach(), t.detach(), "v's values")
        check.expect(v.requires_grad == r, f"v.requires_grad is {v.requires_grad}, expected {r}")
        check.expect(v.is_leaf, "v.is_leaf is False")
        check.expect(v.grad is None, f"v.grad is {v.grad!r}, expected None")
        check.expect(v.grad_fn is None, f"v.grad_fn is {v.grad_fn!r}, expected None")
    check.finish(record)


@cell("semantics.variable", sem_cases("data"))
def test_data_shares_storage(case: Case, data, record) -> None:
    """.data is the same storage cut from the graph: a write through it is visible, and it has no grad_fn."""
    draw = labelled(data)
    shape = draw(shapes(0, 3), "shape")
    values = dyadic_array(draw, shape, "x")
    nonleaf = draw(st.booleans(), "take .data of a non-leaf (x * 2)")
    write = draw(st.sampled_from(sorted(WRITES)), "write through .data")
    x = torch.tensor(values, requires_grad=True)
    t = x * 2 if nonleaf else x
    expected = _apply(write, values * 2 if nonleaf else values)
    check = Checks(
        "semantics.variable",
        [
            leaf_code("x", values, True),
            f"t = {'x * 2' if nonleaf else 'x'}",
            "d = t.data",
            WRITES[write],
            "print(t, d)",
        ],
    )
    d = t.data
    check.expect(
        not d.requires_grad and d.grad_fn is None and d.is_leaf,
        f"t.data: requires_grad {d.requires_grad}, grad_fn {d.grad_fn}, is_leaf {d.is_leaf}; expected a leaf cut from the graph",
    )
    check.expect(d.data_ptr() == t.data_ptr(), "t.data does not share t's storage (data_ptr differs)")
    exec(WRITES[write], {}, {"d": d})  # noqa: S102 - one of the four writes above
    check.same(t.detach(), torch.tensor(expected), f"t after {WRITES[write]} through t.data")
    check.expect(
        t.requires_grad and (t.grad_fn is not None) == nonleaf,
        "t lost its place in the graph after a write through .data",
    )
    check.finish(record)


@cell("semantics.variable", sem_cases("volatile"))
def test_volatile_warns(case: Case, data, record) -> None:
    """Variable(t, volatile=True) warns that volatile was removed and has no effect; .volatile warns and is False.

    The legacy constructor still refuses volatile=True together with requires_grad=True (a ValueError).
    """
    draw = labelled(data)
    values = dyadic_array(draw, draw(shapes(0, 2), "shape"), "t")
    r = draw(st.booleans(), "requires_grad")
    check = Checks(
        "semantics.variable",
        [leaf_code("t", values, False), f"v = torch.autograd.Variable(t, requires_grad={r}, volatile=True)"],
    )
    t = torch.tensor(values)
    if r:
        check.raises(
            lambda: torch.autograd.Variable(t, requires_grad=True, volatile=True),
            ("volatile",),
            "Variable(t, requires_grad=True, volatile=True)",
            exc=ValueError,
        )
    else:
        check.code("v.volatile")
        v = check.warns(
            lambda: torch.autograd.Variable(t, volatile=True), ("volatile was removed",), "Variable(t, volatile=True)"
        )
        check.expect(
            not v.requires_grad and v.is_leaf,
            f"volatile=True gave requires_grad {v.requires_grad}, is_leaf {v.is_leaf}",
        )
        flag = check.warns(lambda: v.volatile, ("volatile was removed",), "v.volatile")
        check.expect(flag is False, f"v.volatile is {flag!r}, expected False")
    check.finish(record)


INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "bool"]


@cell("semantics.requires_grad_errors", sem_cases("non-leaf"))
def test_requires_grad_flag_of_non_leaf(case: Case, data, record) -> None:
    """requires_grad_(False) (or requires_grad = False) on a non-leaf raises; requires_grad_(True) is a no-op."""
    draw = labelled(data)
    ex = draw_masked_tree(draw, record)
    xs = ex.leaves()
    y = ex.forward(xs)
    # x.contiguous() of a contiguous leaf is the leaf itself (documented): no non-leaf to ask about
    assume(not any(y is x for x in xs))
    check = Checks("semantics.requires_grad_errors", ex.repro(f"y = {ex.tree.source}", "y.requires_grad_(False)"))
    if check.expect(not y.is_leaf and y.requires_grad, f"y = {ex.tree.source} is not a non-leaf requiring grad"):
        check.raises(lambda: y.requires_grad_(False), NON_LEAF_FLAG, "y.requires_grad_(False) on a non-leaf")

        def assign() -> None:
            y.requires_grad = False

        check.raises(assign, NON_LEAF_FLAG, "y.requires_grad = False on a non-leaf")
        check.quiet(lambda: y.requires_grad_(True), "y.requires_grad_(True) on a non-leaf that requires grad")
        check.expect(y.requires_grad and not y.is_leaf, "y changed its flags after the refused requires_grad_(False)")
    check.finish(record)


@cell("semantics.requires_grad_errors", sem_cases("integer"))
def test_requires_grad_flag_of_integer(case: Case, data, record) -> None:
    """Integer and bool tensors cannot require grad: requires_grad_(), the setter and the factory raise."""
    draw = labelled(data)
    dt = draw(st.sampled_from(INT_DTYPES), "dtype")
    shape = draw(shapes(0, 2), "shape")
    values = np.asarray(dyadic_array(draw, shape, "values") * 8).astype(np.int64) % (2 if dt == "bool" else 100)
    t = torch.tensor(values).to(getattr(torch, dt))
    check = Checks(
        "semantics.requires_grad_errors",
        [f"t = torch.tensor({values.tolist()}, dtype=torch.{dt})", "t.requires_grad_()"],
    )
    check.raises(lambda: t.requires_grad_(), INTEGER_FLAG, f"requires_grad_() on a {dt} tensor")

    def assign() -> None:
        t.requires_grad = True

    check.raises(assign, INTEGER_FLAG, f"requires_grad = True on a {dt} tensor")
    check.raises(
        lambda: torch.tensor(values.tolist(), dtype=getattr(torch, dt), requires_grad=True),
        INTEGER_FLAG,
        f"torch.tensor(..., dtype={dt}, requires_grad=True)",
    )
    check.quiet(lambda: t.requires_grad_(False), f"requires_grad_(False) on a {dt} tensor")
    check.expect(not t.requires_grad, f"a {dt} tensor requires grad after the refused requests")
    check.finish(record)
