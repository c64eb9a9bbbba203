"""Tolerances, per dtype, each with its reason.  Never loosen one to make a finding go away.

Relative tolerances apply elementwise as ``rtol · (|expected| + max|expected|)``:
a gradient element is compared at the scale of the whole gradient, so a tiny
element next to large ones is not held to an impossible relative standard.
"""

from __future__ import annotations

from conformance.registry.spec import OpSpec

# torch float64 vs JAX float64: both are float64 implementations of the same formula.
# Measured: 1e-16..1e-13 on smooth ops; special functions carry their own override
# in the registry (digamma ~5e-10).  1e-11 leaves room for rounding through a
# tree of up to 8 ops while still catching a planted 1e-5 error by six orders.
JAX_RTOL = {"float64": 1e-11}

# torch float32 vs float64 oracle.  Measured per op: 5e-8..2.4e-5 relative
# (largest: sinc, tanh, var, i1e).  Per tree node we allow 4e-5, and the check
# adds the oracle's own sensitivity to float32-sized input rounding.
FLOAT32_RTOL_PER_OP = 4e-5

# torch float64 vs finite differences: the FD oracle carries its own error
# estimate; this only covers torch's rounding.
FD_RTOL = 1e-11
# When the FD error estimate exceeds this fraction of the scale, FD cannot tell: INCONCLUSIVE.
FD_USEFUL = 1e-6

# Second derivatives against JAX: 1/x² terms near a domain end amplify rounding
# (measured 2.6e-10 relative on binary_cross_entropy at x≈0.01), so the first-order
# tolerance is scaled by this factor.  A planted second-derivative fault is O(1).
SECOND_ORDER_FACTOR = 100

# torch forward mode vs torch reverse mode (the dot-product identity), float64.
IDENTITY_RTOL = {"float64": 1e-11, "float32": 1e-4}

# Same values, different strides: only the order of reductions may differ.
LAYOUT_RTOL = {"float64": 1e-12, "float32": 1e-5}


def jax_rtol(ops: list[OpSpec], dtype: str = "float64") -> float:
    """The tree's tolerance against JAX: the largest of its ops' calibrated float64 tolerances."""
    return max([JAX_RTOL["float64"], *(op.rtol.get("float64", 0.0) for op in ops)])


def fd_rtol(ops: list[OpSpec]) -> float:
    """Torch's own accuracy, for the FD comparison: the ops' calibrated float64 tolerances apply here too."""
    return max([FD_RTOL, *(op.rtol.get("float64", 0.0) for op in ops)])


def float32_rtol(ops: list[OpSpec]) -> float:
    return (
        FLOAT32_RTOL_PER_OP * max(1, len(ops)) + max(op.rtol.get("float32", 0.0) for op in ops)
        if ops
        else FLOAT32_RTOL_PER_OP
    )
