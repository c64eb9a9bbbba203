"""Central finite differences in float64, with an error estimate.

Directional differences along ``v``: the cost is a handful of forward calls
whatever the input size.  The step is ``t·max(1, |x|)`` elementwise with
``t = cbrt(eps) ≈ 6e-6`` (smallest total error for central differences), and a
second step ``t/2`` gives a Richardson-extrapolated value and an estimate of the
truncation error.  A rounding term covers the noise of ``f`` itself.  When the
estimate is too large to tell right from wrong, the caller says INCONCLUSIVE.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import torch

EPS = torch.finfo(torch.float64).eps
STEP = EPS ** (1 / 3)


class Directional(NamedTuple):
    """⟨u, J v⟩ estimated by central differences, with an estimate of its own error."""

    value: float
    error: float
    scale: float  # Σ|u·f(x)|: the size of what was differenced


def scaled_direction(inputs: list[torch.Tensor], direction: list[torch.Tensor]) -> list[torch.Tensor]:
    """The direction actually used: ``v ⊙ max(1, |x|)``, so each element's step is relative to its size."""
    return [d * x.abs().clamp(min=1.0) for x, d in zip(inputs, direction)]


def directional(
    f: Callable[..., torch.Tensor],
    inputs: list[torch.Tensor],
    v: list[torch.Tensor],
    u: torch.Tensor,
    *,
    step: float = STEP,
    ops: int = 1,
) -> Directional:
    """Estimate ⟨u, J v⟩ for ``f`` at ``inputs`` (float64 tensors) along ``v`` (already scaled).

    ``ops`` is the number of ops in ``f``; it sizes the rounding term.
    """
    with torch.no_grad():
        fx = f(*inputs)
        scale = float((u * fx).abs().sum())

        def central(t: float) -> float:
            plus = f(*[x + t * d for x, d in zip(inputs, v)])
            minus = f(*[x - t * d for x, d in zip(inputs, v)])
            return float((u * (plus - minus)).sum()) / (2 * t)

        coarse, fine = central(step), central(step / 2)
    richardson = fine + (fine - coarse) / 3
    truncation = abs(fine - coarse) / 3
    rounding = 4 * (ops + 1) * EPS * scale / (step / 2)
    return Directional(richardson, truncation + rounding, scale)
