"""The dot-product identity ⟨u, J v⟩ = ⟨Jᵀu, v⟩: forward mode and reverse mode judged against each other.

One definition for every place that checks it: ``checks.jvp_matches_oracles`` (torch's
forward-mode AD against its own backward) and the ``func.jvp`` suite (``torch.func.jvp``
against ``y.backward(u)``).
"""

from __future__ import annotations

import math

import numpy as np

from autograd_conformance import tolerances as tol
from autograd_conformance.compare import max_abs, scalars_match
from autograd_conformance.registry.spec import OpSpec
from autograd_conformance.verdict import Outcome, Verdict


def inner_product(a: list[np.ndarray], b: list[np.ndarray]) -> tuple[float, float]:
    """Σᵢ⟨aᵢ, bᵢ⟩ over all inputs, and Σᵢ Σ|aᵢ·bᵢ|: the scale its rounding is judged at."""
    return (
        sum(float(np.sum(x * y)) for x, y in zip(a, b)),
        sum(float(np.sum(np.abs(x * y))) for x, y in zip(a, b)),
    )


def dot_product_identity(
    u: np.ndarray,
    jv: np.ndarray,
    grads: list[np.ndarray],
    v: list[np.ndarray],
    *,
    ops: list[OpSpec],
    dtype: str,
    oracle: str,
    what: str,
) -> Outcome:
    """⟨u, J v⟩ from forward mode (``jv``) against ⟨Jᵀu, v⟩ from reverse mode (``grads``), at the identity's
    tolerance (``tolerances.identity_rtol``) on the larger of the two sides' term sums, and never below
    the seeds' size Σ|u|·max|v| (``floor`` of ``compare.scalars_match``).

    The floor is needed because the term sums only see J v and Jᵀu, not the derivative's own terms: where
    those cancel, both sides round at the size of the terms while their sums are ~0.  torch.func.jvp of
    x0 / x0 gives J v = 0 exactly, and backward 1/x − x/x² = -5e-17 at x = 0.625 (the soak's seed 489898974
    at 14840c4 failed func.jvp there against a tolerance of 5e-28)."""
    if not (np.isfinite(jv).all() and all(np.isfinite(g).all() for g in grads)):
        # J v overflows where v is scaled to a huge input (the tails): the exact oracles judge its elements.
        return Outcome(Verdict.INCONCLUSIVE, oracle, message=f"{what}: J v or Jᵀu is not finite in float64 here")
    floor = float(np.abs(u).sum()) * max_abs(*v)
    forward, forward_terms = inner_product([u], [jv])
    reverse, reverse_terms = inner_product(grads, v)
    if not np.isfinite([floor, forward_terms, reverse_terms]).all():
        # The sums overflow where every term is finite (J v of 1e307 at the tails): compare them in units of 2**E.
        u, jv, grads, v, unit, seeds_unit = _in_common_units(u, jv, grads, v)
        floor = math.ldexp(float(np.abs(u).sum()) * max_abs(*v), seeds_unit - unit)
        forward, forward_terms = inner_product([u], [jv])
        reverse, reverse_terms = inner_product(grads, v)
        what += f" (in units of 2**{unit}: the sums overflow float64)"
    return scalars_match(
        forward,
        reverse,
        scale=max(forward_terms, reverse_terms),
        rtol=tol.identity_rtol(ops, dtype),
        oracle_error=0.0,
        useful=None,
        floor=floor,
        oracle=oracle,
        what=what,
    )


def _in_common_units(
    u: np.ndarray, jv: np.ndarray, grads: list[np.ndarray], v: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[np.ndarray], int, int]:
    """The identity's four factors scaled by powers of two (exact) so that both sides' products stay finite:
    each side is its value times 2**-unit; u and v alone are scaled by 2**-seeds_unit together (last two)."""

    def exponent(*arrays: np.ndarray) -> int:
        largest = max_abs(*arrays)
        return math.frexp(largest)[1] if largest > 0 else 0

    eu, ejv, eg, ev = exponent(u), exponent(jv), exponent(*grads), exponent(*v)
    unit = max(eu + ejv, eg + ev)  # both sides are divided by 2**unit; the larger side's factors by their own
    forward_shift, reverse_shift = unit - eu - ejv, unit - eg - ev
    return (
        np.ldexp(u, -eu),
        np.ldexp(jv, -ejv - forward_shift),
        [np.ldexp(g, -eg - reverse_shift) for g in grads],
        [np.ldexp(x, -ev) for x in v],
        unit,
        eu + ev,
    )
