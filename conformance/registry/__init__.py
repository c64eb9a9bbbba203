"""The op registry: one declarative table, the single source of truth for every op the suite checks.

Each family lives in its own module; this module joins them, checks the table is
well formed, and offers lookups.  Docs and counts are generated from ``OPS``.
"""

from __future__ import annotations

import conformance.jaxsetup  # noqa: F401  (x64 + CPU before jax.numpy is imported below)
from conformance.registry import (
    activations,
    binary,
    indexing,
    layer_losses,
    layers,
    linalg,
    losses,
    reductions,
    shape_ops,
    unary,
)
from conformance.registry.spec import Call, Domain, OpSpec

_FAMILY_MODULES = [unary, binary, activations, reductions, shape_ops, linalg, losses, indexing, layers, layer_losses]

OPS: tuple[OpSpec, ...] = tuple(op for module in _FAMILY_MODULES for op in module.OPS)
OPS_BY_NAME: dict[str, OpSpec] = {op.name: op for op in OPS}

if len(OPS_BY_NAME) != len(OPS):  # pragma: no cover - a registry typo
    dupes = sorted({op.name for op in OPS if sum(o.name == op.name for o in OPS) > 1})
    raise ValueError(f"duplicate op names in the registry: {dupes}")


def families() -> dict[str, list[OpSpec]]:
    out: dict[str, list[OpSpec]] = {}
    for op in OPS:
        out.setdefault(op.family, []).append(op)
    return out


__all__ = ["OPS", "OPS_BY_NAME", "Call", "Domain", "OpSpec", "families"]
