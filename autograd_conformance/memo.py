"""What the checks of one example compute once and share: JAX's answer, the FD estimate, torch's own Jᵀu.

Each check of ``autograd_conformance.checks`` may run on the same example (the bench runs the
reverse-mode and the forward-mode check on each tree): the second finds the JAX
reference, the finite-difference estimate and torch's backward already computed.
``autograd_conformance.bench`` empties it (``clear``) before timing a check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from autograd_conformance.oracles.fd import Directional
    from autograd_conformance.oracles.orchestration import Reference


class TorchVjpRun(NamedTuple):
    """How torch's own Jᵀu was computed: ``y.backward(u)`` or a scalar loss, in which dtype, with or without
    layouts, with or without the forward under ``torch.autocast``."""

    seeded: bool
    dtype: str | None  # None: the example's dtype
    layouts: bool
    autocast: str | None = None  # None, or the dtype the forward's autocast region lowers to


class FdEstimate(NamedTuple):
    """⟨u, J v⟩ by finite differences, with the gradient and direction it was computed for."""

    grads: list[np.ndarray]  # the Jᵀu its rounding correction used (compared by identity)
    direction: list[np.ndarray]  # v (compared by identity)
    estimate: Directional


@dataclass
class CheckMemo:
    """One example's memoised answers (see the module docstring)."""

    reference: Reference | None = None
    fd: FdEstimate | None = None
    torch_vjp: dict[TorchVjpRun, list[np.ndarray]] = field(default_factory=dict)

    def clear(self) -> None:
        """Forget every answer: the next check computes them again."""
        self.reference = None
        self.fd = None
        self.torch_vjp.clear()
