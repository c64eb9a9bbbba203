"""Strategies and checking helpers for the autograd API's semantics (``suites/test_semantics_*.py``).

Every draw is labelled (``draw(strategy, label)`` from :func:`autograd_conformance.strategies.labelled`).
The values here are exact on purpose: dyadic inputs and coefficients make many
expected gradients exact in float64, so a check can demand bit equality.

:class:`Checks` gathers the expectations of one example, records one Outcome and
fails with a self-explaining message and a paste-and-run repro.  Error and warning
messages are compared on their stable fragments only, case-insensitively, so a
reworded suffix in a newer torch is not a failure.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np
from hypothesis import note, reject
from hypothesis import strategies as st

from autograd_conformance import facts
from autograd_conformance import tolerances as tol
from autograd_conformance.failure import conclude
from autograd_conformance.registry.shapes import Draw
from autograd_conformance.registry.spec import OpSpec
from autograd_conformance.strategies.examples import draw_inputs
from autograd_conformance.strategies.trees import TREE_OPS, draw_op_tree, draw_tree
from autograd_conformance.tree import Tree
from autograd_conformance.verdict import Outcome, Verdict

ORACLE = "semantics"

# The documented messages, reduced to the fragments that have been stable across releases.
SCALAR_ONLY = ("grad can be implicitly created only for scalar outputs",)
SEED_SHAPE = ("mismatch in shape",)
SECOND_BACKWARD = ("trying to backward through the graph a second time",)
NON_LEAF_GRAD = ("the .grad attribute of a tensor that is not a leaf tensor is being accessed",)
INPLACE_SAVED = ("one of the variables needed for gradient computation has been modified by an inplace operation",)
INPLACE_LEAF = ("leaf variable that requires grad is being used in an in-place operation",)
NON_LEAF_FLAG = ("you can only change requires_grad flags of leaf variables",)
INTEGER_FLAG = ("only tensors of floating point", "can require gradients")
UNUSED = ("appears to not have been used in the graph",)
VOLATILE = ("volatile", "no effect")


def stable_match(message: str, fragments: tuple[str, ...]) -> bool:
    low = message.lower()
    return all(f.lower() in low for f in fragments)


# -- repro snippets ------------------------------------------------------------------------------
def lit(a: Any) -> str:
    return repr(np.asarray(a).tolist())


def leaf_code(name: str, values: np.ndarray, requires: bool, dtype: str = "float64") -> str:
    flag = ", requires_grad=True" if requires else ""
    return f"{name} = torch.tensor({lit(values)}, dtype=torch.{dtype}{flag})"


def leaves_code(inputs: list[np.ndarray], mask: list[bool], dtype: str = "float64") -> list[str]:
    return [leaf_code(f"x{i}", x, r, dtype) for i, (x, r) in enumerate(zip(inputs, mask))]


def identical(a: Any, b: Any) -> bool:
    """Tensors equal element by element, nan where the other is nan (a gradient at a pole is nan in both runs)."""
    import torch

    return torch.equal(a.isnan(), b.isnan()) and torch.equal(a.nan_to_num(0.0), b.nan_to_num(0.0))


# -- the checker -----------------------------------------------------------------------------------
class Checks:
    """The expectations of one example.  ``finish(record)`` records PASS or FAIL and raises on FAIL."""

    def __init__(
        self,
        prop: str,
        repro: list[str] | None = None,
        *,
        uses: Sequence[str] = (),
        params: dict[str, float] | None = None,
    ) -> None:
        """``uses``: the registry ops of the example's tree, and ``params``: features of the example, both facts a
        baseline scope may name (``uses.abs == 1``, ``param.stale_view == 1``)."""
        self.prop = prop
        self.repro: list[str] = ["import torch", *(repro or [])]
        self.uses = tuple(uses)
        self.params = dict(params or {})
        self.problems: list[str] = []
        self.conventions: list[str] = []

    def convention(self, message: str) -> None:
        """A documented, deliberate deviation: recorded as a CONVENTION verdict (visible in the report), not a FAIL."""
        self.conventions.append(message)

    def code(self, *lines: str) -> None:
        self.repro.extend(lines)

    def expect(self, ok: bool, problem: str) -> bool:
        if not ok:
            self.problems.append(problem)
        return ok

    def same(self, got: Any, want: Any, what: str, *, rtol: float = 0.0, floor: float = 0.0) -> bool:
        """Tensors equal exactly (rtol=0) or within rtol of the larger magnitude, at least ``floor`` (the seed's
        size, as ``compare.arrays_match`` takes it: a Jacobian's rows are vjps of unit seeds, so where a
        derivative cancels to 0 one side's 1e-16 of rounding is not a wrong derivative); None equals None only."""
        import torch

        if got is None or want is None:
            return self.expect(got is None and want is None, f"{what}: got {got!r}, expected {want!r}")
        g = torch.as_tensor(got).detach().to(torch.float64)
        w = torch.as_tensor(want).detach().to(torch.float64)
        if g.shape != w.shape:
            return self.expect(False, f"{what}: shape {tuple(g.shape)}, expected {tuple(w.shape)}")
        if rtol == 0.0:
            ok = identical(g, w)
        else:
            scale = torch.maximum(g.abs(), w.abs()).clamp_min(max(floor, 1e-300))
            ok = torch.equal(g.isnan(), w.isnan()) and bool(
                ((g - w).abs() <= rtol * scale).logical_or(g == w).logical_or(g.isnan()).all()
            )
        if ok:
            return True
        return self.expect(
            False, f"{what}: got {g.tolist()}, expected {w.tolist()}" + (f" (rtol {rtol:g})" if rtol else " (exactly)")
        )

    def raises(self, fn: Callable[[], Any], fragments: tuple[str, ...], what: str, exc: type = RuntimeError) -> bool:
        try:
            fn()
        except exc as e:  # noqa: PERF203
            return self.expect(
                stable_match(str(e), fragments),
                f"{what}: raised {type(e).__name__}({str(e)[:200]!r}), expected a message with {fragments}",
            )
        return self.expect(False, f"{what}: did not raise; expected {exc.__name__} with {fragments}")

    def quiet(self, fn: Callable[[], Any], what: str) -> Any:
        """Run fn, which must not raise; a raise is a FAIL of this property, with the message."""
        try:
            return fn()
        except Exception as e:  # noqa: BLE001
            self.problems.append(f"{what}: raised {type(e).__name__}: {str(e)[:300]}")
            return None

    def warns(self, fn: Callable[[], Any], fragments: tuple[str, ...], what: str) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = fn()
        msgs = [str(w.message) for w in caught]
        self.expect(
            any(stable_match(m, fragments) for m in msgs),
            f"{what}: warnings {[m[:120] for m in msgs]}, expected one with {fragments}",
        )
        return out

    def finish(self, record: Any) -> None:
        repro = "\n".join(self.repro) + "\n"
        if not self.problems:
            if self.conventions:
                record.add(Outcome(Verdict.CONVENTION, ORACLE, message="; ".join(self.conventions)[:2000]))
            else:
                record.add(Outcome(Verdict.PASS, ORACLE))
            return
        message = "; ".join(self.problems)
        outcome = Outcome(Verdict.FAIL, ORACLE, message=message[:2000], details={"problems": self.problems[:10]})
        conclude(record, self.prop, [outcome], repro=lambda _: repro, facts=facts.at_point([], self.params, self.uses))


# -- strategies ------------------------------------------------------------------------------------
def dyadics(limit: int = 24, denominator: int = 8) -> st.SearchStrategy[float]:
    """n / denominator for |n| <= limit: exact, with few significant bits."""
    return st.integers(-limit, limit).map(lambda n: n / denominator)


def dyadic_array(draw: Draw, shape: tuple[int, ...], label: str) -> np.ndarray:
    from hypothesis.extra import numpy as hnp

    return draw(hnp.arrays(np.float64, shape, elements=dyadics(), fill=st.nothing()), label)


def connected(tree: Tree) -> list[bool]:
    """Which leaves feed the output differentiably: a template's ``{y}.detach()`` cuts its argument off."""
    from autograd_conformance.registry.spec import TENSOR_NAMES
    from autograd_conformance.tree import Leaf

    out = [False] * tree.arity

    def visit(e: Any) -> None:
        if isinstance(e, Leaf):
            out[e.index] = True
            return
        for i, child in enumerate(e.children):
            if "{" + TENSOR_NAMES[i] + "}.detach()" not in e.op.torch:
                visit(child)

    visit(tree.root)
    return out


def live(tree: Tree, mask: list[bool]) -> list[bool]:
    """The leaves that require grad and feed the output differentiably."""
    return [m and c for m, c in zip(mask, connected(tree))]


def masks(draw: Draw, n: int, *, at_least_one: bool = False, tree: Tree | None = None) -> list[bool]:
    """Which inputs require grad; ``at_least_one``: at least one (connected, when ``tree`` is given) does."""
    mask = [draw(st.booleans(), f"x{i} requires grad") for i in range(n)]
    among = connected(tree) if tree is not None else [True] * n
    if at_least_one and not any(m and a for m, a in zip(mask, among)):
        choices = [i for i in range(n) if among[i]]
        mask[draw(st.sampled_from(choices), "the input that requires grad")] = True
    return mask


@dataclass(frozen=True)
class Polynomial:
    """Σ coeffs[k]·x^k (k ≥ 0), rendered in one of three forms; the derivative is computed exactly."""

    coeffs: tuple[int, ...]
    form: str  # "powers" (c*x**k), "pow" (torch.pow), "horner"

    @property
    def source(self) -> str:
        c = self.coeffs
        if self.form == "horner":
            expr = f"{c[-1]}"
            for k in range(len(c) - 2, -1, -1):
                expr = f"({expr}) * x + {c[k]}"
            return expr
        terms = []
        for k, ck in enumerate(c):
            if k == 0:
                terms.append(f"{ck}")
            elif self.form == "pow":
                terms.append(f"{ck} * torch.pow(x, {k})")
            else:
                terms.append(f"{ck} * x ** {k}" if k > 1 else f"{ck} * x")
        return " + ".join(reversed(terms))

    def derivative(self, x: float) -> float:
        fx = Fraction(x)
        exact = sum((k * ck * fx ** (k - 1) for k, ck in enumerate(self.coeffs) if k), Fraction(0))
        return float(exact)


@st.composite
def polynomials(draw_: Any, max_degree: int = 5) -> Polynomial:
    degree = draw_(st.integers(1, max_degree))
    coeffs = draw_(st.lists(st.integers(-9, 9), min_size=degree + 1, max_size=degree + 1))
    if coeffs[-1] == 0:
        coeffs[-1] = 1
    return Polynomial(tuple(coeffs), draw_(st.sampled_from(["powers", "pow", "horner"])))


def draw_tree_inputs(
    draw: Draw, *, max_ops: int = 4, dtype: str = "float64", ops: Sequence[OpSpec] = TREE_OPS
) -> tuple[Tree, list[np.ndarray]]:
    tree = draw_tree(draw, max_ops=max_ops, ops=ops)
    inputs = draw_inputs(draw, tree, dtype)
    note(f"tree: {tree.source}")
    return tree, inputs


class MaskedTree(NamedTuple):
    """The start of most semantics examples: a tree, its float64 inputs, and which of them require grad."""

    tree: Tree
    inputs: list[np.ndarray]
    mask: list[bool]

    def leaves(self, mask: list[bool] | None = None) -> list[Any]:
        """Fresh leaf tensors of the inputs, requiring grad where ``mask`` (by default this example's) says."""
        import torch

        flags = self.mask if mask is None else mask
        return [torch.tensor(x, requires_grad=m) for x, m in zip(self.inputs, flags)]

    def forward(self, xs: list[Any]) -> Any:
        """The tree applied to the tensors ``xs``."""
        return self.tree.torch_fn()(*xs)

    def live(self) -> list[bool]:
        """The leaves that require grad and feed the output differentiably."""
        return live(self.tree, self.mask)

    def repro(self, *lines: str) -> list[str]:
        """Repro code: the leaves, then ``lines``."""
        return [*leaves_code(self.inputs, self.mask), *lines]


def draw_masked_tree(
    draw: Draw, record: Any, *, max_ops: int = 4, at_least_one: bool = True, ops: Sequence[OpSpec] = TREE_OPS
) -> MaskedTree:
    """A random tree of ``ops``, its inputs, then which require grad (``masks``); drawn in that order.

    A tree torch cannot evaluate because a pole upstream feeds an op a non-finite value, or an op
    sits on a singular point of its own, is recorded INCONCLUSIVE and not used (``reject_where_singular``).
    """
    tree, inputs = draw_tree_inputs(draw, max_ops=max_ops, ops=ops)
    ex = MaskedTree(tree, inputs, masks(draw, len(inputs), at_least_one=at_least_one, tree=tree))
    reject_where_singular(record, ex)
    return ex


def reject_where_singular(record: Any, ex: MaskedTree) -> None:
    """INCONCLUSIVE, and Hypothesis draws another example, where torch's forward raises at a pole or at a
    singular point of an op.

    A pole upstream (1/0, log 0) hands the next op a non-finite value, and some ops refuse one
    (``linalg.eigh`` raises ``_LinAlgError`` on nan); an op may refuse a point its entry declares singular
    (``near_kink`` within ``tol.EXACT_KINK_MARGIN``: lstsq's driver 'gels' raises at a rank drop, found by the
    soak in semantics.requires_grad).  That says nothing about autograd's API.  Only a raise there is excused;
    a forward that raises at a regular finite point is left to the test, which fails on it.  The point is
    classified by evaluating the tree (``Singularities``), and only when the forward raised.  The forward is tried without and with autograd, for torch
    may pick another kernel when the output needs a gradient: ``linalg.svdvals`` of a matrix of
    infs returns nan under no_grad but raises with grad, where it computes U and V for its backward
    (found by the README command under seed 1786388407: svdvals(reciprocal(x0)) at x0 = 0).
    """
    import torch

    from autograd_conformance.oracles import jax_oracle

    try:
        with torch.no_grad():
            ex.forward(ex.leaves([False] * len(ex.inputs)))
        ex.forward(ex.leaves([True] * len(ex.inputs)))
        return
    except Exception:  # noqa: BLE001 - any raise: see whether the point is a pole
        pass
    zeros = [np.zeros_like(x) for x in ex.inputs]
    point = jax_oracle.evaluate(ex.tree, ex.inputs, zeros).singularities
    if where := point.pole:
        message = f"the tree is not finite here (at {where}): torch's forward raises, so there is no API to check"
    elif where := point.near_kink(tol.EXACT_KINK_MARGIN):
        message = f"{where} is at a singular point of its own (its kink test): torch's forward raises there"
    if where:
        record.add(Outcome(Verdict.INCONCLUSIVE, ORACLE, message=message))
        reject()


def draw_masked_op_tree(draw: Draw, op: OpSpec) -> MaskedTree:
    """One op's tree (``draw_op_tree``), its inputs, then which require grad; drawn in that order."""
    tree = draw_op_tree(draw, op)
    inputs = draw_inputs(draw, tree, "float64")
    return MaskedTree(tree, inputs, masks(draw, len(inputs)))


def wrong_shapes(shape: tuple[int, ...]) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes different from ``shape``: one more or one fewer dimension, or one size changed."""
    options = [(*shape, 2), (2, *shape)]
    if shape:
        options.append(shape[:-1])
        options += [shape[:i] + (shape[i] + 1,) + shape[i + 1 :] for i in range(len(shape))]
    return st.sampled_from([s for s in options if s != shape])
