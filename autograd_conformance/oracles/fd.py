"""Central finite differences in float64, with an error estimate.

Directional differences along ``v``: the cost is a handful of forward calls
whatever the input size.  The step is ``t·max(1, |x|)`` elementwise (the caller
scales ``v``) with ``t = cbrt(eps) ≈ 6e-6``, the smallest total error for central
differences.  A second step ``t/2`` gives a Richardson-extrapolated value and an
estimate of the truncation error; a rounding term covers the noise of ``f``.

``x ± t·v`` is rounded, so the displacement actually taken differs from ``2t·v``
by about eps·|x|.  Divided by ``2t`` that is ~1e-11 relative: as large as the
truncation error.  Given the gradient torch claims, ``directional`` removes that
part exactly; a wrong gradient moves the correction by a negligible second-order
amount, so this cannot hide a bug.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch

EPS = torch.finfo(torch.float64).eps
STEP = EPS ** (1 / 3)


class Directional(NamedTuple):
    """⟨u, J v⟩ estimated by central differences, with an estimate of its own error."""

    value: float
    error: float
    scale: float  # Σ|u·f(x)|: the size of what was differenced


def directional(
    f: Callable[..., torch.Tensor],
    inputs: Sequence[torch.Tensor],
    v: Sequence[torch.Tensor],
    u: torch.Tensor,
    *,
    grad: Sequence[torch.Tensor] | None = None,
    step: float = STEP,
    ops: int = 1,
    magnitude: float = 0.0,
    op_noise: float = 0.0,
) -> Directional:
    """Estimate ⟨u, J v⟩ for ``f`` at ``inputs`` (float64 tensors) along ``v`` (already scaled).

    ``grad`` (an estimate of Jᵀu) corrects for the rounding of ``x ± t·v``.
    The rounding term counts ``ops`` roundings of the largest intermediate value
    ``magnitude`` (``x - tanh(x)`` at small x is tiny, but its noise is eps·|x|).
    """
    with torch.no_grad():
        fx = f(*inputs)
        scale = float((u * fx).abs().sum())

        def central(t: float) -> float:
            plus = [x + t * d for x, d in zip(inputs, v)]
            minus = [x - t * d for x, d in zip(inputs, v)]
            value = float((u * (f(*plus) - f(*minus))).sum()) / (2 * t)
            if grad is not None:  # the part of the difference due to rounded displacements
                value -= sum(float((g * ((p - m) / (2 * t) - d)).sum()) for g, p, m, d in zip(grad, plus, minus, v))
            return value

        coarse, fine = central(step), central(step / 2)
    richardson = fine + (fine - coarse) / 3
    truncation = abs(fine - coarse) / 2
    noise = scale + float(u.abs().sum()) * magnitude
    rounding = (ops + 1) * max(32 * EPS, op_noise) * noise / step
    return Directional(richardson, truncation + rounding, scale)
