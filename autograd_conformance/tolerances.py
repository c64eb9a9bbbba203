"""Tolerances and margins, per dtype, each named for what it compares and with its reason.
Never loosen one to make a finding go away.  (Per-op overrides live in the registry,
``OpSpec.rtol``, each with its reason in the op's ``notes``.)

Relative tolerances apply elementwise as ``rtol · (|expected| + max|expected|)``:
a gradient element is compared at the scale of the whole gradient, so a tiny
element next to large ones is not held to an impossible relative standard.

Margins are relative distances (``margin · max(1, |k|)`` from a point ``k``, as
``OpSpec.is_near_kink`` measures them): how close to a kink, tie or domain end an
input may come before a comparison there stops being decidable (checks), or before a
"smooth" example is redrawn (strategies).
"""

from __future__ import annotations

from autograd_conformance.registry.low_precision import calibrated_rtol
from autograd_conformance.registry.spec import OpSpec

# torch float64 vs JAX float64: both are float64 implementations of the same formula.
# Measured: 1e-16..1e-13 on smooth ops; special functions carry their own override
# in the registry (digamma ~5e-10).  1e-11 leaves room for rounding through a
# tree of up to 8 ops while still catching a planted 1e-5 error by six orders.
JAX_RTOL = {"float64": 1e-11}

# torch float32 vs float64 oracle.  Measured per op: 5e-8..2.4e-5 relative
# (largest: sinc, tanh, var, i1e).  Per tree node we allow 4e-5, and the check
# adds the oracle's own sensitivity to float32-sized input rounding.
FLOAT32_RTOL_PER_OP = 4e-5
# bfloat16 and float16 against the float64 oracle, per tree node: 2 ulps of the dtype.  Measured
# (autograd_conformance/registry/low_precision.py, 25 examples per op, torch 2.13.0): the worst error of most
# ops is half an ulp (correct rounding: bfloat16 0.0039, float16 0.0005).  6 of 199 ops exceed one ulp
# in bfloat16 and 14 in float16; the 5 and 13 whose worst error is above 1 ulp x 2 carry a calibrated
# override of twice it (bfloat16: logcumsumexp 0.061, std 0.027, logsumexp 0.020, pow 0.018, sinc
# 0.014; float16: std 0.0074, logcumsumexp 0.0052, ...).  matrix_exp's is inf: a finding, not rounding.
REDUCED_RTOL_PER_OP = {"float32": FLOAT32_RTOL_PER_OP, "bfloat16": 2 * 2.0**-7, "float16": 2 * 2.0**-10}

# torch float64 vs finite differences: the FD oracle carries its own error
# estimate; this only covers torch's rounding.
FD_RTOL = 1e-11
# When the FD error estimate exceeds this fraction of the scale, FD cannot tell: INCONCLUSIVE.
FD_USEFUL = 1e-6
# An op whose kernel amplifies rounding in its derivatives by a factor that depends on the point
# (``OpSpec.conditioning``) widens a tree's comparisons by this many eps (of the dtype compared) times that
# factor: float64's past FD_USEFUL of the scale, and a reduced dtype's past REDUCED_CONDITIONING_LIMIT
# times its own tolerance, are INCONCLUSIVE.  Measured on torch.linalg.lstsq's residuals (gelsd, 2.13.0):
# where B is in A's range the exact derivative is 0, and torch's tangent was 0.06 to 2.24 eps·κ(A)² over 18
# rotated 4×2 matrices of κ 20 to 6700 (its gradient -2 r xᵀ carries the rounding of r = b - A x).
CONDITIONING_FACTOR = 4
# A reduced dtype's comparison widened by conditioning past this many times its per-op tolerance cannot
# tell: float32 10 × 4e-5 = 4e-4 of the scale, where the widened tolerance on the gradient's largest element,
# 2·(4e-5 + 4e-4) = 8.8e-4 of it, is still below the planted float32-only fault (1e-3, tests/faults/gradients.py).
REDUCED_CONDITIONING_LIMIT = 10

# Second derivatives against JAX: 1/x² terms near a domain end amplify rounding
# (measured 2.6e-10 relative on binary_cross_entropy at x≈0.01), so the first-order
# tolerance is scaled by this factor.  A planted second-derivative fault is O(1).
SECOND_ORDER_FACTOR = 100
# Third derivatives against JAX (third_order.py): the second-order factor again, until measured on
# the whole registry (the first ci-profile run is the measurement; see docs/measurements.md).  A
# planted third-derivative fault is O(1).
THIRD_ORDER_FACTOR = SECOND_ORDER_FACTOR

# torch forward mode vs torch reverse mode (the dot-product identity), float64.
IDENTITY_RTOL = {"float64": 1e-11, "float32": 1e-4}

# Same values, different strides: only the order of reductions may differ.
LAYOUT_RTOL = {"float64": 1e-12, "float32": 1e-5}

# One function, two spellings (torch.det and torch.linalg.det, x.sum() and torch.sum(x)): the
# same kernels, so the same rounding; held as tight as layouts. Measured on torch 2.13.0 (13 ops, 25
# examples each, value, Jᵀu and J v): bitwise equal everywhere.
VARIANT_RTOL = LAYOUT_RTOL

# A torch.func transform (grad, vjp, jacrev, jacfwd, vmap) against the eager engine's
# y.backward(u) or the unbatched call, float64: the same derivative formulas, rounded in
# another order (a Jacobian contracted with u also carries its contraction's rounding,
# added by the suite).  The same 1e-11 as JAX_RTOL, for the same reason: rounding through
# a tree of up to 8 ops, six orders below a planted 1e-5 error.
TRANSFORM_RTOL = {"float64": 1e-11}

# torch.compile (Inductor) against eager, per op of the tree: Inductor may fuse and reorder,
# which changes only the rounding.  float64 as JAX_RTOL; float32 at about 80 float32 ulps
# (2**-23 ≈ 1.2e-7) per op.
COMPILED_VS_EAGER_RTOL_PER_OP = {"float64": 1e-11, "float32": 1e-5}

# Hypothesis also draws the float literals it finds in the project's non-test modules
# (``hypothesis.internal.constants_ast``), so a literal new to them changes the seeded draws:
# the two below came from test modules, which it does not read, and are spelled as strings
# to keep the draws (and the ci profile's verdicts) what they were.

# One engine reached by two entry points (torch.autograd.grad vs .backward(),
# y.backward(v) vs (y * v).sum().backward(), y.backward(2v) vs 2·y.backward(v)), float64:
# the same kernels, at most a different order of the final accumulation: 1e-13 is ~450 eps.
ENGINE_ENTRY_POINTS_RTOL = float("1e-13")

# x.grad after k backward calls against k·g (float64): each of the k - 1 accumulations
# rounds by at most eps/2 ≈ 1.1e-16 relative; 4e-16 per call allows ~4x that.
ACCUMULATION_RTOL_PER_CALL = float("4e-16")

# torch against JAX at a smooth point next to a kink (the convention checks, one op,
# float64, scalars): rel 1e-9 / abs 1e-12 is far above the 1e-16..1e-13 the two agree to
# (see JAX_RTOL), since only a convention-sized (O(1)) difference is judged there.
CONVENTION_SMOOTH_RTOL = 1e-9
CONVENTION_SMOOTH_ATOL = 1e-12

# -- how the oracle's own error is probed (``autograd_conformance.oracles.orchestration.Reference``) ---------

# JAX is re-evaluated at inputs moved by this many float64 ulps per op (plus one) of the tree:
# what torch's and JAX's different rounding inside a tree of that size can amount to.
NUDGE_ULPS_PER_OP = 8
# The reduced-precision checks' probe: inputs moved by one ulp of the dtype (its machine epsilon,
# torch.finfo(dtype).eps): float32 2**-23, bfloat16 2**-7, float16 2**-10.
ROUNDING_EPS = {"float32": 2.0**-23, "bfloat16": 2.0**-7, "float16": 2.0**-10}
# The oracle's error term is this multiple of how much its answer moved under the nudge.
SENSITIVITY_FACTOR = 4
# A float64 sum of n products is off by at most about n·eps·Σ|terms|; the bound allows 4x that.
CONTRACTION_ROUNDING_FACTOR = 4

# -- margins: where a comparison is INCONCLUSIVE (checks) ---------------------------------------

# Against finite differences: FD steps are ~6e-6 relative (``autograd_conformance.oracles.fd.STEP``):
# stay 16x clear of kinks.
FD_KINK_MARGIN = 1e-4
# Against an exact derivative (JAX, forward vs reverse, a transform vs backward, layouts):
# "on" the kink, where torch and JAX may follow different conventions.
EXACT_KINK_MARGIN = 1e-12
# Double backward against JAX: the FD margin, which the check has used since it was written
# (no separate measurement yet: a candidate for one).
SECOND_ORDER_KINK_MARGIN = FD_KINK_MARGIN
THIRD_ORDER_KINK_MARGIN = SECOND_ORDER_KINK_MARGIN
# A reduced precision against the float64 oracle: its rounding can move an intermediate across a kink
# this close.  float32: 1e-5 (about 80 ulps); bfloat16 and float16 the same 80 ulps would be 0.6 and
# 0.08, which would leave most of a kinked op's domain unchecked: 4 ulps (one rounding of each of a
# binary op's operands and result, and one spare).
REDUCED_KINK_MARGIN = {"float32": 1e-5, "bfloat16": 4 * 2.0**-7, "float16": 4 * 2.0**-10}

# -- margins: what a drawn "smooth" example keeps clear of (strategies) ---------------------------

# From a domain's open end (log's 0, atanh's ±1), where the derivatives blow up.
DRAW_EDGE_MARGIN = 1e-2
# From a kink, for the smooth checks: 10x FD_KINK_MARGIN, so a drawn input survives into the
# FD comparison (intermediates of a tree may still land nearer: then that check is INCONCLUSIVE).
DRAW_KINK_MARGIN = 1e-3

# A smooth point of a binary op's convention check: absolute distance from a tie (x = y) and
# from the origin, so torch and JAX are compared off the kink.
CONVENTION_SMOOTH_DISTANCE = 1e-3


def draw_kink_margin(dtype: str) -> float:
    """What a drawn smooth example of ``dtype`` keeps clear of a kink: ``DRAW_KINK_MARGIN``, or the reduced
    precision's check margin where that is wider (bfloat16 0.03, float16 0.004), so the draw survives into
    the check.  With 1e-3 alone, bfloat16's coarse grid put most draws of floor and trunc within the
    check's margin of an integer: 5 and 6 of 13 ci-profile examples decided, a blind cell."""
    return max(DRAW_KINK_MARGIN, REDUCED_KINK_MARGIN.get(dtype, 0.0))


def _at_least_ops(floor: float, ops: list[OpSpec]) -> float:
    """``floor``, raised to the largest of the ops' calibrated float64 tolerances."""
    return max([floor, *(op.rtol.get("float64", 0.0) for op in ops)])


def jax_rtol(ops: list[OpSpec], dtype: str = "float64") -> float:
    """The tree's tolerance against JAX: the largest of its ops' calibrated float64 tolerances."""
    return _at_least_ops(JAX_RTOL["float64"], ops)


def fd_rtol(ops: list[OpSpec]) -> float:
    """Torch's own accuracy, for the FD comparison: the ops' calibrated float64 tolerances apply here too."""
    return _at_least_ops(FD_RTOL, ops)


def transform_rtol(ops: list[OpSpec]) -> float:
    """A torch.func transform against the eager engine (or vmap against the unbatched call), float64."""
    return _at_least_ops(TRANSFORM_RTOL["float64"], ops)


def identity_rtol(ops: list[OpSpec], dtype: str) -> float:
    """Forward mode against reverse mode (⟨u, J v⟩ = ⟨Jᵀu, v⟩): the identity's own tolerance, or the ops'
    calibrated float64 tolerance against JAX where that is larger."""
    return max(IDENTITY_RTOL[dtype], jax_rtol(ops))


def reduced_rtol(ops: list[OpSpec], dtype: str) -> float:
    """A reduced precision's gradient against the float64 oracle: the dtype's per-op tolerance for each op,
    plus the largest per-op override (``OpSpec.rtol``, or a low-precision calibration)."""
    per_op = REDUCED_RTOL_PER_OP[dtype]
    if not ops:
        return per_op
    return per_op * len(ops) + max(max(op.rtol.get(dtype, 0.0), calibrated_rtol(op, dtype)) for op in ops)
