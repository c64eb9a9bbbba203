"""Inputs in the tails of an elementwise op's domain, for the ``extremes`` property.

The other properties sample unbounded inputs within |x| ≤ 3 (``autograd_conformance.strategies.tensors.BOUND``) and keep
away from subnormals.  Here every element is drawn from the op's whole float64 domain by Hypothesis's
own ``floats``, which favours the values that break formulas: 0, subnormals down to 5e-324, the
largest finite floats, powers of two and the domain's edges.  A point counts wherever the float64
reference is finite and meaningful: an element whose JAX value or derivative overflows or is NaN
(exp at 1e300, log's derivative at a subnormal) is replaced by an ordinary point of the domain
(``_ordinary_point``), as is an element at a kink (floor beyond 2**52, where every float is an integer), and
the replacement is noted, so the example still checks every other element.
"""

from __future__ import annotations

import math
import sys

import jax
import numpy as np
from hypothesis import note
from hypothesis import strategies as st

from autograd_conformance import tolerances as tol
from autograd_conformance.example import Example
from autograd_conformance.registry.shapes import Draw
from autograd_conformance.registry.spec import Domain, OpSpec, make_call
from autograd_conformance.run_options import RunOptions
from autograd_conformance.strategies.tensors import seeds
from autograd_conformance.tree import single_op_tree

SIZE = 4  # elements per input: one JAX program per op, and room for a mix of tails and ordinary points
LARGEST = sys.float_info.max


def extreme_elements(domain: Domain) -> st.SearchStrategy[float]:
    """Any float64 inside ``domain`` (its finite edges excluded), kinks kept at the usual margin."""
    lo = domain.low if domain.low > -math.inf else -LARGEST
    hi = domain.high if domain.high < math.inf else LARGEST
    values = st.floats(
        lo,
        hi,
        exclude_min=domain.low > -math.inf,
        exclude_max=domain.high < math.inf,
        allow_nan=False,
        allow_infinity=False,
    )  # fmt: skip  (subnormals wherever [lo, hi] has them)
    if domain.kinks:
        values = values.filter(
            lambda v: all(abs(v - k) > tol.DRAW_KINK_MARGIN * max(1.0, abs(k)) for k in domain.kinks)
        )
    return values


def supports(op: OpSpec) -> bool:
    """Elementwise ops on interval domains: each element's tails are its own."""
    return op.elementwise and not any(op.domain_of(i).matrix for i in range(op.arity))


def draw_extreme_example(draw: Draw, op: OpSpec, *, options: RunOptions) -> Example:
    """``op`` on ``SIZE`` elements per input drawn from the tails, with vector seeds u and v."""
    params = {name: draw(strategy, f"{op.name}: {name}") for name, strategy in op.params.items()}
    call = make_call([(SIZE,)] * op.arity, **params)
    tree = single_op_tree(op, call)
    domains = [op.domain_of(i) for i in range(op.arity)]
    inputs = [
        np.array(draw(st.lists(extreme_elements(d), min_size=SIZE, max_size=SIZE), f"x{i}"), dtype=np.float64)
        for i, d in enumerate(domains)
    ]
    at_kink = np.array([op.is_near_kink([x[j : j + 1] for x in inputs], params, tol.draw_kink_margin("float64"))
                        for j in range(SIZE)])  # fmt: skip
    meaningless = at_kink | _reference_not_finite(tree.jax_fn(), inputs)
    if meaningless.any():
        for x, value in zip(inputs, _ordinary_point(op, params)):
            x[meaningless] = value
        note(f"elements {np.flatnonzero(meaningless).tolist()} replaced by the domain's ordinary point: "
             "a kink, or the float64 reference or its derivative is not finite there")  # fmt: skip
    return Example(
        tree=tree,
        inputs=inputs,
        cotangent=draw(seeds((SIZE,)), "u (vector seed)"),
        # v is drawn in [-1, 1] as it is used: the checks scale it by max(1, |x|) for finite differences, which
        # the tails do not consult, and a tangent of 1e308 would only test overflow of the seed itself.
        direction=[
            draw(seeds((SIZE,)), f"v{i} (direction)") / np.maximum(1.0, np.abs(x)) for i, x in enumerate(inputs)
        ],
        options=options,
    )


# Replacements for elements that cannot count: ordinary values, none of them a common kink (0, ±1, halves).
_ORDINARY = (0.3141, 0.7183, 1.4142, 2.7183, 0.5772, 1.618)


def _ordinary_point(op: OpSpec, params: dict) -> list[float]:
    """One value per input, inside its domain, off every kink and tie (``Domain.safe`` if nothing else is)."""
    domains = [op.domain_of(i) for i in range(op.arity)]
    for k in range(len(_ORDINARY)):
        point = [_ORDINARY[(k + i) % len(_ORDINARY)] for i in range(op.arity)]
        point = [p if d.contains(np.array(p), tol.DRAW_EDGE_MARGIN) else d.safe for p, d in zip(point, domains)]
        if not op.is_near_kink([np.array([p]) for p in point], params, tol.draw_kink_margin("float64")):
            return point
    return [d.safe for d in domains]


def _reference_not_finite(jax_fn, inputs: list[np.ndarray]) -> np.ndarray:
    """Per element: whether JAX's float64 value or any partial derivative there is NaN or infinite."""
    value, pullback = jax.vjp(jax_fn, *inputs)
    grads = pullback(np.ones_like(np.asarray(value)))
    bad = ~np.isfinite(np.asarray(value))
    for g in grads:
        bad |= ~np.isfinite(np.asarray(g))
    return np.broadcast_to(bad, (SIZE,)).copy()
