"""Strided windows and small leftovers: unfold (and unfold_copy), as_strided (its copy form and its partial-view
OpInfo), pdist, _unsafe_masked_index and the complex cast cdouble.

Every one of them reads elements of its input by index arithmetic, so each JAX reference is a gather at
positions computed from the static parameters alone (never from the input's values), and its VJP is the
scatter-add torch's backward must match:

- ``unfold(dim, size, step)``: window ``w`` along ``dim`` is elements ``w·step .. w·step + size - 1``; the
  windows become a dim of their own and the window's elements a new last dim.  A step smaller than the size
  makes windows overlap: an element read by several windows gets their cotangents summed.
- ``as_strided(size, stride, storage_offset)`` reads storage element ``offset + Σ i_k·stride_k``.  The templates
  call it on ``x.clone(memory_format=torch.contiguous_format)``, a fresh row-major copy whose storage is exactly
  ``x.ravel()``: the result never depends on x's layout, nor (in a random tree) on whether x is a view into a
  larger storage, as ``x.contiguous()`` of a contiguous view would be.  Strides may be 0 or smaller than a
  window's extent, so elements are read many times (overlap), and the backward must sum their cotangents.
  ``as_strided.partial_views`` (torch's OpInfo: ``as_strided`` of ``base[5:15]`` with a storage offset of
  its base) is ``as_strided`` of a slice ``view(-1)[start:stop]`` with ``start > 0`` and an absolute
  ``storage_offset >= start``; the window stays inside the slice.  A window that starts before the slice, in
  the base's storage (that OpInfo's ``storage_offset=0`` sample), is allowed by the docs and followed by
  forward mode, but reverse mode drops those elements' gradients, silently, on 2.9.1 and 2.13.0
  (baselines/repros/as_strided_view_reads_base.py).  ``AsStrided(view=True, before_view=True)`` draws such
  windows; no op declares it, for every example fails and a cold ci run shrank each failing cell for
  200-300 s.
- ``pdist(x, p)``: the p-norms of ``x[i] - x[j]`` for i < j, row-major; undefined in gradient where two rows
  coincide (the norm's kink at 0), so ``near_kink`` flags draws with two rows close together.
- ``_unsafe_masked_index(x, mask, indices, fill)``: x at the (clamped) indices where the mask holds, ``fill``
  elsewhere; repeated indices accumulate in the backward.
- ``view_as_real(x.cdouble())``: a real input cast to complex128 (exact), seen through its real view
  (real part x, imaginary part 0); the gradient is the real part's cotangent.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st

from autograd_conformance.registry.shapes import MAX_RANK, MAX_SIDE, Draw, ShapeRule, _nested, shapes
from autograd_conformance.registry.spec import Call, Shape, declare_family, make_call
from autograd_conformance.versions import NO_VERSION

op = declare_family("strided")

# --- shape rules --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unfold(ShapeRule):
    """``x.unfold(dim, size, step)``: x's ``dim`` becomes the number of windows n, and a last dim of ``size``
    is added.  x's length along dim is ``(n - 1)·step + size`` plus up to ``step - 1`` left over."""

    min_rank: int = 2

    def draw(self, draw: Draw, out: Shape) -> Call:
        rank = len(out) - 1
        d = draw(st.integers(0, rank - 1), "dim")
        n, size = out[d], out[-1]
        step = draw(st.integers(1, 3), "step")
        length = (n - 1) * step + size + draw(st.integers(0, step - 1), "left over")
        shape = out[:d] + (length,) + out[d + 1 : -1]
        return make_call([shape], dim=draw(st.sampled_from([d, d - rank]), "dim sign"), size=size, step=step)


# Every shape of rank 1..3 and sides up to MAX_SIDE, by element count: as_strided's inputs.
_SHAPES = sorted(
    (s for r in range(1, MAX_RANK + 1) for s in itertools.product(range(1, MAX_SIDE + 1), repeat=r)),
    key=lambda s: (math.prod(s), len(s), s),
)


def _holding(draw: Draw, numel: int, label: str) -> Shape:
    """A shape with at least ``numel`` elements (and at most a few more, or the smallest that has them)."""
    fits = [s for s in _SHAPES if math.prod(s) >= numel]
    smallest = math.prod(fits[0])
    return draw(st.sampled_from([s for s in fits if math.prod(s) <= max(smallest, numel + 3)]), label)


@dataclass(frozen=True)
class AsStrided(ShapeRule):
    """``as_strided(x, size, stride, storage_offset)``: ``size`` is the output's shape; each stride 0..3 (0
    and strides below a window's extent read elements more than once); every index ``offset + Σ i_k·stride_k``
    lies inside x flattened.  ``view``: the window is read from a slice ``x.view(-1)[start:stop]`` (start ≥ 1,
    the slice's own storage offset), and ``storage_offset`` (absolute, in the base's storage) lies in it."""

    view: bool = False
    before_view: bool = False  # with ``view``: the window starts in the base, before the slice

    def draw(self, draw: Draw, out: Shape) -> Call:
        stride = tuple(draw(st.integers(0, 3), f"stride {i}") for i in range(len(out)))
        offset = draw(st.integers(0, 2), "storage offset (from the start)")
        span = offset + sum((s - 1) * t for s, t in zip(out, stride)) + 1  # elements from the start to the last read
        if not self.view:
            shape = _holding(draw, span, "x shape")
            return make_call([shape], size=out, stride=stride, storage_offset=offset)
        start = draw(st.integers(1, 3), "view start")
        if self.before_view:  # storage_offset < start: the first element read lies before the slice
            first = draw(st.integers(0, start - 1), "storage offset (before the slice)")
            stop = start + draw(st.integers(1, 2), "view length")
            shape = _holding(draw, max(stop, first + span - offset), "x shape")
            return make_call([shape], size=out, stride=stride, storage_offset=first, start=start, stop=stop)
        stop = start + span + draw(st.integers(0, 1), "view: elements past the window")
        shape = _holding(draw, stop, "x shape")
        return make_call([shape], size=out, stride=stride, storage_offset=start + offset, start=start, stop=stop)


_PDIST_ROWS = {n * (n - 1) // 2: n for n in range(2, MAX_SIDE + 1)}  # output length -> rows: 1 -> 2, 3 -> 3, 6 -> 4


@dataclass(frozen=True)
class Pdist(ShapeRule):
    """``pdist(x)``: x is ``n×m``; the output has n(n - 1)/2 elements, one per pair of rows i < j."""

    min_rank: int = 1
    max_rank: int = 1

    def produces(self, out: Shape) -> bool:
        return len(out) == 1 and out[0] in _PDIST_ROWS

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        return st.sampled_from([(k,) for k in _PDIST_ROWS])

    def draw(self, draw: Draw, out: Shape) -> Call:
        return make_call([(_PDIST_ROWS[out[0]], draw(st.integers(1, MAX_SIDE), "columns m"))])


@dataclass(frozen=True)
class ComplexView(ShapeRule):
    """``view_as_real(f(x))`` of a complex result of x's shape: the output has a last dim of 2."""

    min_rank: int = 1

    def produces(self, out: Shape) -> bool:
        return super().produces(out) and out[-1] == 2

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        return shapes(0, MAX_RANK - 1).map(lambda s: (*s, 2))

    def draw(self, draw: Draw, out: Shape) -> Call:
        return make_call([out[:-1]])


@dataclass(frozen=True)
class MaskedIndex(ShapeRule):
    """``_unsafe_masked_index(x, mask, indices, fill)``: one index per dim of x, index d a 1-D list of n_d entries
    shaped to broadcast along dim d (an outer product: the output is n_0 × ... × n_{r-1}).  Entries run from
    -1 to x's side (one out of bounds at each end, drawn less often: the op clamps them); the mask is False
    wherever an index is out of bounds (the op's contract) and random elsewhere.  Entries repeat: their
    cotangents accumulate."""

    min_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        rank = len(out)
        sides = tuple(draw(st.integers(1, MAX_SIDE), f"x side {d}") for d in range(rank))
        # In bounds at least three times as often as -1 or the side (out of bounds, clamped and masked off),
        # lest most draws mask everything off; the simplest entry is 0.
        entries = [st.sampled_from([*range(side)] * max(3, 6 // side) + [-1, side]) for side in sides]
        lists = [draw(st.lists(entries[d], min_size=n, max_size=n), f"index {d}") for d, n in enumerate(out)]
        inside = functools.reduce(
            np.logical_and,
            (np.array([0 <= v < sides[d] for v in lists[d]]).reshape(_along(d, rank)) for d in range(rank)),
        )
        # Masked off at random inside the bounds, but never every element (a gradient of 0 that finite
        # differences cannot judge: a random bool array often was all True); the simplest draw masks nothing.
        size = math.prod(out)
        off = draw(st.lists(st.integers(0, size - 1), max_size=size - 1, unique=True), "masked off (flat)")
        dropped = np.zeros(size, dtype=bool)
        dropped[off] = True
        mask = np.broadcast_to(inside, out) & ~dropped.reshape(out)
        indices = tuple(
            _nested(np.array(v, dtype=np.int64).reshape(_along(d, rank)).tolist()) for d, v in enumerate(lists)
        )
        return make_call([sides], mask=_nested(mask.tolist()), indices=indices)


def _along(d: int, rank: int) -> tuple[int, ...]:
    """The shape that lays a 1-D index along dim d of a rank-``rank`` result."""
    return tuple(-1 if k == d else 1 for k in range(rank))


# --- JAX references -----------------------------------------------------------------------------


def _unfold(x, dim, size, step):
    d = dim % x.ndim
    n = (x.shape[d] - size) // step + 1
    index = (np.arange(n)[:, None] * step + np.arange(size)[None, :]).ravel()
    windows = jnp.take(x, index, axis=d).reshape(x.shape[:d] + (n, size) + x.shape[d + 1 :])
    return jnp.moveaxis(windows, d + 1, -1)


def _as_strided(x, size, stride, storage_offset, **_view):
    """Storage element ``storage_offset + Σ i_k·stride_k`` of x flattened (the templates' contiguous copy)."""
    grid = np.indices(size, dtype=np.int64) if size else np.zeros((0,), dtype=np.int64)
    positions = storage_offset + sum((i * s for i, s in zip(grid, stride)), np.zeros(size, dtype=np.int64))
    return jnp.ravel(x)[positions]


def _masked_index(x, mask, indices, fill):
    """torch's decomposition: indices clamped into x's bounds, x gathered there (outer product), then fill where
    the mask is False."""
    clamped = tuple(np.clip(np.array(i, dtype=np.int64), 0, x.shape[d] - 1) for d, i in enumerate(indices))
    return jnp.where(np.array(mask, dtype=bool), x[clamped], fill)


def _pdist(x, p):
    i, j = np.triu_indices(x.shape[0], 1)
    d = x[i] - x[j]
    if p == 2.0:
        return jnp.sqrt(jnp.sum(d * d, axis=-1))
    return jnp.sum(jnp.abs(d) ** p, axis=-1) ** (1.0 / p)


def _rows_coincide(inputs, params, margin):
    """Two rows of x within ``margin`` (relative) of each other: their distance is at the norm's kink, 0."""
    x = np.asarray(inputs[0], dtype=np.float64)
    i, j = np.triu_indices(x.shape[0], 1)
    gap = np.max(np.abs(x[i] - x[j]), axis=-1, initial=0.0)
    scale = np.maximum(1.0, np.maximum(np.max(np.abs(x[i]), axis=-1), np.max(np.abs(x[j]), axis=-1)))
    return bool(np.any(gap <= margin * scale))


# --- the ops --------------------------------------------------------------------------------------

_CONTIGUOUS = "{x}.clone(memory_format=torch.contiguous_format)"

OPS = [
    op(
        "unfold",
        "{x}.unfold({dim}, {size}, {step})",
        _unfold,
        rule=Unfold(),
        variants=("torch.unfold_copy({x}, {dim}, {size}, {step})",),
        notes="windows of `size` every `step` along dim, as a new last dim; step < size overlaps them, and the "
        "backward sums an element's cotangents over the windows that read it",
    ),
    op(
        "as_strided",
        f"torch.as_strided({_CONTIGUOUS}, {{size}}, {{stride}}, {{storage_offset}})",
        _as_strided,
        rule=AsStrided(),
        variants=(
            f"{_CONTIGUOUS}.as_strided({{size}}, {{stride}}, {{storage_offset}})",
            f"torch.as_strided_copy({_CONTIGUOUS}, {{size}}, {{stride}}, {{storage_offset}})",
        ),
        notes="on a fresh row-major copy of x (its storage is x.ravel(), whatever x's layout or base); strides "
        "0..3 read elements more than once (overlapping windows), and the backward sums their cotangents",
    ),
    op(
        "as_strided_partial_view",
        f"torch.as_strided({_CONTIGUOUS}.view(-1)[{{start}}:{{stop}}], {{size}}, {{stride}}, {{storage_offset}})",
        _as_strided,
        rule=AsStrided(view=True),
        notes="as_strided of a slice (a view whose storage offset is start >= 1), storage_offset absolute in "
        "the base's storage (torch's OpInfo as_strided.partial_views); the window lies inside the slice",
    ),
    op(
        "pdist",
        "F.pdist({x}, {p})",
        _pdist,
        rule=Pdist(),
        params={"p": st.sampled_from([2.0, 3.0])},
        near_kink=_rows_coincide,
        forward_ad_in=NO_VERSION,  # "Trying to use forward AD with _pdist_forward ..." (2.9.1, 2.13.0)
        double_backward_in=NO_VERSION,  # "the derivative for '_pdist_backward' is not implemented" (2.9.1, 2.13.0)
        family="similarity",
        notes="p-norms of x[i] - x[j], i < j row-major; two coincident rows are the norm's kink at 0",
    ),
    op(
        "_unsafe_masked_index",
        "torch._unsafe_masked_index({x}, torch.tensor({mask}), [torch.tensor(i) for i in {indices}], -1.5)",
        lambda x, mask, indices: _masked_index(x, mask, indices, -1.5),
        rule=MaskedIndex(),
        family="indexing",
        notes="an index per dim (outer product), entries -1..side clamped into bounds, masked to fill = -1.5 "
        "wherever out of bounds and at random elsewhere; repeated entries accumulate",
    ),
    op(
        "cdouble",
        "torch.view_as_real({x}.cdouble())",
        lambda x: jnp.stack([x.astype(jnp.float64), jnp.zeros(x.shape, jnp.float64)], axis=-1),
        rule=ComplexView(),
        variants=("torch.view_as_real({x}.to(torch.complex128))",),
        family="shape",
        notes="a widening cast to complex128 (exact), seen as (real, imaginary) = (x, 0); the gradient is the "
        "real part's cotangent",
    ),
]
