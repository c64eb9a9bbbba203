"""Semantics: scalar and vector-seeded backward, and the seed's errors.

Generalises the notebook's ``y = x**3 + 3; y.backward()`` at 3 -> 27: random polynomials
at dyadic points, whose derivative is computed exactly with fractions and must match
bit for bit; random trees against the oracles; and ``y.backward(v)`` = vᵀJ.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

from autograd_conformance import checks
from autograd_conformance import tolerances as tol
from autograd_conformance.case import Case
from autograd_conformance.harness import judge
from autograd_conformance.registry.shapes import shapes
from autograd_conformance.run_options import RunOptions
from autograd_conformance.strategies import labelled
from autograd_conformance.strategies.examples import draw_tree_example
from autograd_conformance.strategies.semantics import (
    SCALAR_ONLY,
    SEED_SHAPE,
    Checks,
    draw_masked_tree,
    dyadic_array,
    leaf_code,
    lit,
    polynomials,
    wrong_shapes,
)
from suites.cases import cell, sem_cases


@cell("semantics.scalar_backward", sem_cases("polynomial"))
def test_scalar_backward_polynomial(case: Case, data, record) -> None:
    """p(x).backward() (summed for a vector x) gives p'(x) exactly, computed from the coefficients."""
    draw = labelled(data)
    p = draw(polynomials(), "polynomial")
    values = dyadic_array(draw, draw(shapes(0, 1), "shape of x"), "x")
    x = torch.tensor(values, requires_grad=True)
    loss = "y" if x.dim() == 0 else "y.sum()"
    check = Checks(
        "semantics.scalar_backward",
        [leaf_code("x", values, True), f"y = {p.source}", f"{loss}.backward()", "print(x.grad)"],
    )
    y = eval(p.source, {"torch": torch}, {"x": x})  # noqa: S307 - rendered from drawn integer coefficients
    check.quiet(lambda: (y if x.dim() == 0 else y.sum()).backward(), f"{loss}.backward()")
    want = np.vectorize(p.derivative, otypes=[np.float64])(values)
    check.code(f"# expected p'(x) = {lit(want)} (exact: dyadic x, integer coefficients {list(p.coeffs)})")
    check.same(x.grad, torch.tensor(want), f"x.grad for y = {p.source}")
    check.finish(record)


@cell("semantics.scalar_backward", sem_cases("tree"))
def test_scalar_backward_tree(case: Case, data, record, run_options: RunOptions) -> None:
    """(y * u).sum().backward() on a random tree gives the oracles' gradient."""
    ex = draw_tree_example(labelled(data), "float64", max_ops=4, options=run_options)
    judge(record, "semantics.scalar_backward", ex, checks.vjp_matches_oracles(ex, seeded=False))


@cell("semantics.vector_backward", sem_cases("linear"))
def test_vector_backward_linear(case: Case, data, record) -> None:
    """The notebook's y = a*x1 + b*x2 with x2 not requiring grad: y.backward(v) gives x1.grad = a*v exactly, x2.grad None."""
    draw = labelled(data)
    shape = draw(shapes(1, 2), "shape")
    x1v, x2v, v = (dyadic_array(draw, shape, name) for name in ("x1", "x2", "v"))
    a, b = draw(st.integers(-4, 4), "a"), draw(st.integers(-4, 4), "b")
    r2 = draw(st.booleans(), "x2 requires grad")
    x1, x2 = torch.tensor(x1v, requires_grad=True), torch.tensor(x2v, requires_grad=r2)
    check = Checks(
        "semantics.vector_backward",
        [
            leaf_code("x1", x1v, True),
            leaf_code("x2", x2v, r2),
            f"v = torch.tensor({lit(v)}, dtype=torch.float64)",
            f"y = x1 * {a} + x2 * {b}",
            "y.backward(v)",
            "print(x1.grad, x2.grad)",
        ],
    )
    check.quiet(lambda: (x1 * a + x2 * b).backward(torch.tensor(v)), "y.backward(v)")
    check.same(x1.grad, torch.tensor(a * v), "x1.grad")
    check.same(x2.grad, torch.tensor(b * v) if r2 else None, "x2.grad")
    check.finish(record)


@cell("semantics.vector_backward", sem_cases("tree"))
def test_vector_backward_tree(case: Case, data, record) -> None:
    """y.backward(v) gives vᵀJ: the same as (y * v).sum().backward(), and 2v gives twice the gradient."""
    draw = labelled(data)
    ex = draw_masked_tree(draw, record)
    with torch.no_grad():
        out_shape = tuple(ex.forward([torch.tensor(x) for x in ex.inputs]).shape)
    v = dyadic_array(draw, out_shape, "v (vector seed)")
    check = Checks(
        "semantics.vector_backward",
        ex.repro(
            f"v = torch.tensor({lit(v)}, dtype=torch.float64)",
            f"y = {ex.tree.source}",
            "y.backward(v)",
            "print([x.grad for x in (x0,)])",
        ),
    )

    def grads(how: str) -> list:
        xs = ex.leaves()
        y = ex.forward(xs)
        vt = torch.tensor(v)
        check.quiet(
            {
                "seed": lambda: y.backward(vt),
                "double": lambda: y.backward(2 * vt),
                "sum": lambda: (y * vt).sum().backward(),
            }[how],
            f"backward ({how})",
        )
        return [x.grad for x in xs]

    seeded, doubled, summed = grads("seed"), grads("double"), grads("sum")
    for i in range(len(ex.inputs)):
        if ex.mask[i]:
            check.same(
                seeded[i],
                summed[i],
                f"x{i}.grad from y.backward(v) vs (y * v).sum().backward()",
                rtol=tol.ENGINE_ENTRY_POINTS_RTOL,
            )
            if seeded[i] is not None and doubled[i] is not None:
                check.same(
                    doubled[i],
                    2 * seeded[i],
                    f"x{i}.grad from y.backward(2 * v) vs twice y.backward(v)",
                    rtol=tol.ENGINE_ENTRY_POINTS_RTOL,
                )
        else:
            check.expect(seeded[i] is None, f"x{i} does not require grad, yet x{i}.grad is {seeded[i]!r}")
    check.finish(record)


@cell("semantics.seed_errors", sem_cases("tree"))
def test_seed_errors(case: Case, data, record) -> None:
    """backward() without a seed needs a one-element output; a seed of another shape raises."""
    draw = labelled(data)
    ex = draw_masked_tree(draw, record)
    xs = ex.leaves()
    y = ex.forward(xs)
    check = Checks("semantics.seed_errors", ex.repro(f"y = {ex.tree.source}"))
    if y.numel() != 1:
        check.code("y.backward()  # non-scalar, no seed")
        check.raises(
            lambda: y.backward(retain_graph=True),
            SCALAR_ONLY,
            f"backward() without a seed on a {tuple(y.shape)} output",
        )
    else:
        check.code("y.backward()  # one element: allowed without a seed")
        check.quiet(
            lambda: y.backward(retain_graph=True), f"backward() without a seed on a one-element {tuple(y.shape)} output"
        )
        implicit = [x.grad for x in xs]
        again = ex.leaves()
        ex.forward(again).backward(torch.ones(y.shape, dtype=y.dtype))
        for i in range(len(xs)):
            check.same(
                implicit[i],
                again[i].grad,
                f"x{i}.grad from the implicit seed vs backward(torch.ones({tuple(y.shape)}))",
            )
    bad = draw(wrong_shapes(tuple(y.shape)), "a seed of the wrong shape")
    check.code(f"y.backward(torch.ones({bad}, dtype=torch.float64))  # wrong shape")
    check.raises(
        lambda: y.backward(torch.ones(bad, dtype=y.dtype), retain_graph=True),
        SEED_SHAPE,
        f"backward with a {bad} seed on a {tuple(y.shape)} output",
    )
    check.finish(record)
