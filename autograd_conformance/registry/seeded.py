"""Random ops made deterministic by a seed: the dropout family in training mode.

**The template seeds torch's RNG itself.**  ``(torch.manual_seed({seed}), F.dropout({x}, ...))[1]`` draws
the same mask on every call, so the op is a deterministic function of x, and given its mask an
elementwise affine one: ``out = s ⊙ x + c`` (dropout: s = mask / (1 - p), c = 0; alpha dropout: the SELU
constants' scale a on kept elements and the offset b everywhere).  Every run of the template (the forward,
each backward, forward mode, finite differences' evaluations, the ``function`` path's recomputation) draws
that mask again.  torch's own OpInfos test these ops the same way (``wrapper_set_seed``).

**The reference takes the mask from torch.**  ``_seeded`` computes s = f(1) - f(0) and c = f(0) with torch's
own op under the same seed, on the static shape, when JAX traces (inside ``torch.random.fork_rng``, so the
reference leaves torch's global RNG as it found it), and returns ``s * x + c``.  So the reference checks
the derivatives *given the mask*: that the backward (and forward mode, and double backward) reuse the
forward's mask and scale.  Whether the mask is a correct Bernoulli draw, and whether dropout2d/3d drop
whole channels, is out of scope: a wrong mask is the reference's mask too.  The draw is the same in
float32 and float64 (checked: CPU bernoulli_ draws per element in double whatever the dtype), so the
float32 cell compares like with like.

**Re-seeding the global RNG touches nothing else.**  Hypothesis draws from its own PRNG (and manages
``random`` and ``numpy.random``, never torch's); nothing in autograd_conformance/ (strategies/ included) draws from torch's
RNG; the two suites that do (``semantics.saved``'s random masks, ``semantics.accumulation``'s model init)
call ``torch.manual_seed`` themselves right before drawing.

**Not in random trees** (``in_trees=False``): a tree is run from several threads at once
(``semantics.threads``), where each thread's re-seeding races with the others' draws; ``semantics.saved``
puts trees under checkpointing to see whether the RNG state is preserved, which a template that re-seeds
would hide; ``torch.func.vmap`` refuses random ops (``randomness='error'``); and Inductor draws its own
random numbers (``fallback_random=False``), so the compile path would see a different mask.  So the
``func``/``compile`` tree cells never select these ops, and neither do the ``function`` path's ops.  For the
same two reasons ``--exec-path compile`` and ``--device cuda`` (a different generator) are not meaningful
for these ops' own cells.

**Not in the layout cell** (``LAYOUT_DRAWN``): F.dropout and F.alpha_dropout draw their mask into
``empty_like(x)``, which keeps x's strides, so a transposed x gets the same draws in another order: a
different mask, by design, not a gradient bug.  The channel dropouts draw an (N, C, 1, ...) mask of their own
and keep the layout cell.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
from hypothesis import strategies as st

from autograd_conformance.registry.shapes import Draw, Same, ShapeRule
from autograd_conformance.registry.spec import Call, OpSpec, Shape, declare_family, make_call

seeded = declare_family("dropout", in_trees=False)


@dataclass(frozen=True)
class Shapes(ShapeRule):
    """Same shape in and out, from a small fixed list (each shape compiles its own reference program: the
    mask is a constant of the shape and seed, so the op is not flattened into buckets)."""

    choices: tuple[Shape, ...] = ()
    min_rank: int = 0
    max_rank: int = 5

    def produces(self, out: Shape) -> bool:
        return tuple(out) in self.choices

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        return st.sampled_from(self.choices)

    def draw(self, draw: Draw, out: Shape) -> Call:
        return make_call([out])


def _seeded(name: str) -> Callable[..., Any]:
    """The reference of ``F.<name>(x, p, training=True)`` after ``torch.manual_seed(seed)``: s * x + c, with
    s and c from torch's op under that seed at x = 1 and x = 0 (see the module docstring)."""

    def reference(x: Any, p: float, seed: int) -> Any:
        import torch
        import torch.nn.functional as F  # noqa: N812

        fn = getattr(F, name)

        def at(value: float) -> Any:
            torch.manual_seed(seed)
            return fn(torch.full(tuple(x.shape), value, dtype=torch.float64), p, training=True)

        with torch.random.fork_rng(devices=[]):
            c = at(0.0)
            s = at(1.0) - c
        return jnp.asarray(s.numpy()) * x + jnp.asarray(c.numpy())

    reference.__name__ = f"seeded_{name}"
    return reference


P = st.sampled_from((0.5, 0.25, 0.0, 1.0))  # 0 and 1: torch's special cases (the input itself; times zero)
SEED = st.sampled_from((0, 1))
NOTES = (
    "Training mode, the RNG seeded inside the template: the mask comes from torch's own RNG, and the JAX "
    "reference takes it from torch too (s = f(1) - f(0), c = f(0) under the same seed), so the cells check "
    "the derivatives given the mask (the backward reuses the forward's mask and scale); a wrong mask is out "
    "of scope.  Finite differences re-run the seeded template, the same function.  Not in trees and not on "
    "the compile path or CUDA (see autograd_conformance/registry/seeded.py)."
)

# Ops whose mask follows x's memory layout (empty_like keeps strides): left out of the layout cell.
LAYOUT_DRAWN = frozenset({"dropout", "alpha_dropout"})


def _training(name: str, shapes: tuple[Shape, ...], notes: str = "") -> OpSpec:
    """``F.<name>`` in training mode, the RNG seeded inside the template, on one of ``shapes``."""
    return seeded(
        name,
        f"(torch.manual_seed({{seed}}), F.{name}({{x}}, p={{p}}, training=True))[1]",
        _seeded(name),
        rule=Shapes(choices=shapes),
        params={"p": P, "seed": SEED},
        notes=f"{NOTES}  {notes}" if notes else NOTES,
    )


OPS = [
    _training("dropout", ((5,), (3, 4), (2, 3, 2))),
    # (N, C, H, W) only: torch reads a 3-D input as (N, C, L) with a deprecation warning
    _training(
        "dropout2d",
        ((2, 3, 2, 2), (1, 4, 1, 3)),
        "Drops whole channels of (N, C, H, W) inputs (a 3-D input is deprecated: torch warns that it reads it "
        "as (N, C, L) and will change that).",
    ),
    _training(  # (N, C, D, H, W) and unbatched (C, D, H, W)
        "dropout3d",
        ((2, 3, 2, 1, 2), (3, 2, 2, 1)),
        "Drops whole channels of (N, C, D, H, W) or unbatched (C, D, H, W) inputs.",
    ),
    _training(
        "alpha_dropout",
        ((5,), (3, 4), (2, 3, 2)),
        "SELU's constants: kept elements scaled by a, every element offset by b (affine).",
    ),
    _training(  # rank >= 2; OpInfo's ranks 4 and 5
        "feature_alpha_dropout",
        ((2, 3, 2, 2), (2, 3, 2, 1, 2)),
        "Whole channels, with alpha dropout's SELU scale and offset.",
    ),
    seeded(
        "feature_alpha_dropout_eval",
        "F.feature_alpha_dropout({x}, p={p}, training=False)",
        lambda x, p: x,
        rule=Same(),
        params={"p": st.sampled_from((0.5, 0.0))},
        notes="training=False: the identity, whatever p (torch returns the input itself); no RNG is drawn.  "
        "Not in trees: an identity adds nothing there.",
    ),
]
