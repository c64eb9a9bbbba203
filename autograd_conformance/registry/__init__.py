"""The op registry: one declarative table, the single source of truth for every op the suite checks.

Each family lives in its own module; this module joins them, checks the table is
well formed, and offers lookups.  Docs and counts are generated from ``OPS``.
"""

from __future__ import annotations

import autograd_conformance.jaxsetup  # noqa: F401  (x64 + CPU before jax.numpy is imported below)
from autograd_conformance.registry import (
    activations,
    binary,
    decompositions,
    fft,
    indexing,
    layer_losses,
    layers,
    linalg,
    losses,
    masked,
    reductions,
    seeded,
    shape_ops,
    simple,
    strided,
    structured,
    unary,
    unpooling,
)
from autograd_conformance.registry.spec import Call, Domain, OpSpec

_FAMILY_MODULES = [
    unary, binary, activations, reductions, shape_ops, linalg, losses, indexing, simple, fft, decompositions,
    structured, masked, layers, layer_losses, seeded, strided, unpooling,
]  # fmt: skip

# An op the installed torch does not have (``OpSpec.versions``) is left out: its cells do not exist there.
OPS: tuple[OpSpec, ...] = tuple(op for module in _FAMILY_MODULES for op in module.OPS if op.versions.holds())
OPS_BY_NAME: dict[str, OpSpec] = {op.name: op for op in OPS}

if len(OPS_BY_NAME) != len(OPS):  # pragma: no cover - a registry typo
    dupes = sorted({op.name for op in OPS if sum(o.name == op.name for o in OPS) > 1})
    raise ValueError(f"duplicate op names in the registry: {dupes}")


# Property → the user ops known to fail it through a torch bug (autograd_conformance.known): their own cells
# are expected failures, and random trees of that property leave them out, as trees leave out every registry
# op with a known failure (autograd_conformance.known_failing.known_failing_ops).
KNOWN_BROKEN: dict[str, frozenset[str]] = {}


def add_user_ops(ops: list[OpSpec], known_broken: dict[str, frozenset[str]] | None = None) -> None:
    """Add a user's ops (``pytest suites --ops FILE``: ``autograd_conformance.suite_ops``) to the table.

    Call it before anything reads ``OPS`` (the strategies and suites read it once, when imported)."""
    global OPS, OPS_BY_NAME
    taken = sorted({op.name for op in ops if op.name in OPS_BY_NAME})
    if taken:
        raise ValueError(f"user ops {taken} have the names of ops already declared: give them name=... in declare_op")
    OPS = (*OPS, *ops)
    OPS_BY_NAME = {op.name: op for op in OPS}
    for prop, names in (known_broken or {}).items():
        KNOWN_BROKEN[prop] = KNOWN_BROKEN.get(prop, frozenset()) | names


def tree_ops_for(prop: str, ops: list[OpSpec]) -> list[OpSpec]:
    """``ops`` less those known to fail ``prop`` (``KNOWN_BROKEN``)."""
    broken = KNOWN_BROKEN.get(prop, frozenset())
    return [op for op in ops if op.name not in broken]


def families() -> dict[str, list[OpSpec]]:
    out: dict[str, list[OpSpec]] = {}
    for op in OPS:
        out.setdefault(op.family, []).append(op)
    return out


__all__ = ["OPS", "OPS_BY_NAME", "Call", "Domain", "OpSpec", "add_user_ops", "families", "tree_ops_for"]
