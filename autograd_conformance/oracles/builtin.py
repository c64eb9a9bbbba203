"""The two oracles every property consults, registered in this order: JAX (exact), then finite differences.

Importing this module registers them (``autograd_conformance.checks`` does).
"""

from __future__ import annotations

import numpy as np

from autograd_conformance import tolerances as tol
from autograd_conformance.example import Example
from autograd_conformance.oracles import DirectionalOracle, Estimate, ExactOracle, Scalar, jax_oracle, register
from autograd_conformance.oracles.orchestration import fd_estimate, reference
from autograd_conformance.registry.spec import OpSpec
from autograd_conformance.tree import Tree


class JaxOracle(ExactOracle):
    """JAX (x64, CPU), op by op (``autograd_conformance.oracles.jax_oracle``); its error term is its sensitivity
    to rounding-sized input nudges (``orchestration.Reference``)."""

    name = "jax"

    def supports(self, tree: Tree) -> bool:
        """Every op of the tree has a JAX reference (a user op declared without one has not)."""
        return all(op.jax_is_reference for op in tree.ops)

    def vjp(self, ex: Example) -> Estimate:
        ref = reference(ex)
        return Estimate(ref.vjp, lambda: ref.vjp_sensitivity)

    def jvp(self, ex: Example) -> Estimate:
        ref = reference(ex)
        return Estimate([ref.evaluation.output_tangent], lambda: [ref.jvp_sensitivity])

    def second_order(self, ex: Example) -> Estimate:
        return Estimate(jax_oracle.second_order(ex.tree, ex.inputs, ex.cotangent, ex.second))


class FiniteDifferences(DirectionalOracle):
    """Central differences in float64 along v (``autograd_conformance.oracles.fd``), with their own error estimate."""

    name = "fd"
    kink_margin = tol.FD_KINK_MARGIN  # the FD steps reach this far
    useful = tol.FD_USEFUL

    def rtol(self, ops: list[OpSpec]) -> float:
        return tol.fd_rtol(ops)

    def directional(self, ex: Example, v: list[np.ndarray], grads: list[np.ndarray]) -> Scalar:
        estimate = fd_estimate(ex, v, grads)
        return Scalar(estimate.value, estimate.error)


JAX = register(JaxOracle())
FD = register(FiniteDifferences())
