"""The oracles torch's derivatives are held to, behind one interface, and the registry the properties consult.

An oracle is one of two kinds:

* ``ExactOracle``: derivatives element by element: Jᵀu (``vjp``), and where it can J v
  (``jvp``) and ∇ₓ⟨Jᵀu, w⟩ (``second_order``), each with a bound on its own error.
  JAX is one (``autograd_conformance.oracles.builtin.JAX``).
* ``DirectionalOracle``: only the scalar ⟨u, J v⟩ along the example's direction v,
  with its error.  Finite differences are one (``autograd_conformance.oracles.builtin.FD``).

Like ``check_vjp`` in JAX's ``public_test_util`` takes the derivative as a parameter,
the properties (``autograd_conformance.checks``) take their oracles from ``ORACLES``: each
property compares torch with every registered oracle that ``supports`` the tree, in
registration order, one Outcome per oracle under the oracle's ``name``.  A new oracle
is a subclass and one ``register`` call; no ``OpSpec`` changes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from autograd_conformance import tolerances as tol

if TYPE_CHECKING:
    from autograd_conformance.example import Example
    from autograd_conformance.registry.spec import OpSpec
    from autograd_conformance.tree import Tree


@dataclass(frozen=True)
class Estimate:
    """An exact oracle's answer: one array per leaf (Jᵀu, ∇ₓ⟨Jᵀu, w⟩) or one for the output (J v).

    ``error``: the elementwise bound on the oracle's own error, as a function, called only when
    torch fails without it (it only widens the tolerance); None where the answer is exact.
    """

    values: list[np.ndarray]
    error: Callable[[], list[np.ndarray]] | None = None


class Scalar(NamedTuple):
    """A directional oracle's answer: ⟨u, J v⟩, and the bound on its own error."""

    value: float
    error: float


class Oracle(ABC):
    """Something that knows the derivative of a tree at an example's inputs, independently of torch."""

    name: str  # what Outcomes against it are reported under ("jax", "fd")
    kink_margin: float = tol.EXACT_KINK_MARGIN  # how near a kink its first derivatives stop being comparable

    def supports(self, tree: Tree) -> bool:
        """Whether it can answer for this tree (an oracle may know only some ops)."""
        return True

    def rtol(self, ops: list[OpSpec]) -> float:
        """The relative tolerance torch's float64 answer is held to against this oracle, for a tree of ``ops``."""
        return tol.jax_rtol(ops)


class ExactOracle(Oracle):
    """Elementwise derivatives (see ``Estimate``); ``jvp`` and ``second_order`` are optional (None: not computed)."""

    @abstractmethod
    def vjp(self, ex: Example) -> Estimate:
        """Jᵀu for each leaf, at ``ex.inputs``, for the cotangent ``ex.cotangent``."""

    def jvp(self, ex: Example) -> Estimate | None:
        """J v for the output, along the example's scaled direction (``orchestration.scaled_direction``)."""
        return None

    def second_order(self, ex: Example) -> Estimate | None:
        """∇ₓ⟨Jᵀu, w⟩ for each leaf, with u = ``ex.cotangent`` and w = ``ex.second``."""
        return None


class DirectionalOracle(Oracle):
    """⟨u, J v⟩ only; ``useful``: when its error exceeds this fraction of the scale, it cannot tell."""

    useful: float

    @abstractmethod
    def directional(self, ex: Example, v: list[np.ndarray], grads: list[np.ndarray]) -> Scalar:
        """⟨u, J v⟩ along ``v``; ``grads`` is torch's Jᵀu, which an estimate may use to correct its own rounding."""


ORACLES: list[Oracle] = []  # in registration order: the order of a property's Outcomes


def register(oracle: Oracle) -> Oracle:
    """Add an oracle after those registered so far; every property consults it from now on."""
    if any(o.name == oracle.name for o in ORACLES):
        raise ValueError(f"an oracle named {oracle.name!r} is already registered")
    ORACLES.append(oracle)
    return oracle


def unregister(oracle: Oracle) -> None:
    """Stop consulting an oracle."""
    ORACLES.remove(oracle)


def consulted(tree: Tree) -> list[Oracle]:
    """The registered oracles that can answer for ``tree``, in registration order."""
    return [o for o in ORACLES if o.supports(tree)]
