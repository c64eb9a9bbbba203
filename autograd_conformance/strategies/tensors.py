"""Tensor values from ``hypothesis.extra.numpy``: inside the domain, off the kinks, exact in the dtype.

Values are drawn as exact Python floats of the test's width (32 or 64 bits; bfloat16 and
float16 values are float32 draws rounded to the dtype), so a falsifying example pastes
straight into a test and the float64 oracles see exactly what torch saw.  Every element is drawn (``fill=st.nothing()``): a
single fill value would put ties on every kink.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd_conformance import tolerances as tol
from autograd_conformance.registry.spec import Domain, Shape

BOUND = 3.0  # |x| ≤ 3 keeps exp-of-exp trees finite
# Magnitudes below this snap to 0.  Hypothesis likes 1e-250; gradients there live in
# underflow, where "right" depends on each library's approximation, not on autograd.
MIN_MAGNITUDE = 2.0**-20

WIDTH = {"float64": 64, "float32": 32, "bfloat16": 32, "float16": 32}


def exact_in(a: np.ndarray, dtype: str) -> np.ndarray:
    """``a`` rounded to the nearest values of ``dtype`` (float64 arrays holding them)."""
    import torch

    from autograd_conformance.example import DTYPES

    if dtype == "float64":
        return a
    return torch.tensor(a, dtype=torch.float64).to(DTYPES[dtype]).to(torch.float64).numpy()


def _smallest_normal(dtype: str) -> float:
    """Below this a value of the dtype is subnormal (float16: 2**-14), or 0 in a flush-to-zero kernel."""
    import torch

    from autograd_conformance.example import DTYPES

    return float(torch.finfo(DTYPES[dtype]).tiny)


def elements(domain: Domain, dtype: str = "float64") -> st.SearchStrategy[float]:
    bound = domain.spread or BOUND
    lo = max(domain.low, -bound)
    hi = min(domain.high, bound)
    if domain.low > -math.inf:
        lo = domain.low + tol.DRAW_EDGE_MARGIN * max(1.0, abs(domain.low))
    if domain.high < math.inf:
        hi = domain.high - tol.DRAW_EDGE_MARGIN * max(1.0, abs(domain.high))
    if hi <= lo:  # a narrow domain: sample its middle
        lo = hi = (domain.low + domain.high) / 2
    if dtype != "float64":  # the bounds must be numbers of the dtype themselves, rounded inward
        lo, hi = _inward(lo, hi, dtype)
    values = st.floats(lo, hi, width=WIDTH[dtype], allow_subnormal=False, allow_nan=False, allow_infinity=False)
    if WIDTH[dtype] == 32 and dtype != "float32":  # a float32 draw, rounded: stays in [lo, hi], whose ends are exact
        values = values.map(lambda v: float(exact_in(np.array(v), dtype)))
    if lo < 0 < hi:
        smallest = max(MIN_MAGNITUDE, _smallest_normal(dtype))
        values = values.map(lambda v: v if abs(v) >= smallest else 0.0)
    if domain.kinks:
        values = values.filter(
            lambda v: all(abs(v - k) > tol.DRAW_KINK_MARGIN * max(1.0, abs(k)) for k in domain.kinks)
        )
    return values


def _inward(lo: float, hi: float, dtype: str) -> tuple[float, float]:
    """[lo, hi] shrunk to its ends' nearest values of ``dtype`` inside it."""
    import torch

    from autograd_conformance.example import DTYPES

    lo_d, hi_d = (torch.tensor(v, dtype=torch.float64).to(DTYPES[dtype]) for v in (lo, hi))
    if float(lo_d) < lo:
        lo_d = torch.nextafter(lo_d, torch.tensor(math.inf, dtype=lo_d.dtype))
    if float(hi_d) > hi:
        hi_d = torch.nextafter(hi_d, torch.tensor(-math.inf, dtype=hi_d.dtype))
    return float(lo_d), float(max(lo_d, hi_d))


def arrays(shape: Shape, domain: Domain, dtype: str = "float64") -> st.SearchStrategy[np.ndarray]:
    """Float64 arrays whose every element is exact in ``dtype`` and inside ``domain``."""
    if domain.matrix:
        return _structured(shape, domain, dtype)
    return hnp.arrays(np.float64, shape, elements=elements(domain, dtype), fill=st.nothing())


def _structured(shape: Shape, domain: Domain, dtype: str) -> st.SearchStrategy[np.ndarray]:
    """Linear-algebra leaves: drawn in (-1, 1), then made the domain's structure (``structured``)."""
    base = hnp.arrays(np.float64, shape, elements=elements(Domain(-1.0, 1.0), dtype), fill=st.nothing())
    return base.map(lambda x: structured(x, domain, dtype))


def structured(x: np.ndarray, domain: Domain, dtype: str) -> np.ndarray:
    """X + n·I (diagonally dominant) or (X + Xᵀ)/2 + n·I (SPD); a complex one (``complex well_conditioned``,
    in its real view: a trailing axis of 2) adds n·I to the real part."""
    if domain.matrix.startswith("complex "):
        n = x.shape[-2]
        x = x.copy()
        x[..., 0] += n * np.eye(n)
        return exact_in(x, dtype)
    n = x.shape[-1]
    if domain.matrix == "spd":
        x = (x + np.swapaxes(x, -1, -2)) / 2
    return exact_in(x + n * np.eye(n), dtype)


def seeds(shape: Shape, dtype: str = "float32") -> st.SearchStrategy[np.ndarray]:
    """A seed vector (cotangent u, tangent v, or second-order w): exact in float32 (and in ``dtype``), in [-1, 1].

    Seeds come from one drawn integer through NumPy's generator, not element by
    element: they need no shrinking (the repro prints their values), and drawing
    64 elements one at a time made Hypothesis itself the suite's bottleneck.
    """
    if dtype in ("bfloat16", "float16"):
        return st.integers(0, 2**32 - 1).map(lambda seed: exact_in(_uniform(seed, shape), dtype))
    return st.integers(0, 2**32 - 1).map(lambda seed: _uniform(seed, shape))


def _uniform(seed: int, shape: Shape) -> np.ndarray:
    values = np.random.default_rng(seed).uniform(-1.0, 1.0, size=shape)
    return values.astype(np.float32).astype(np.float64)
