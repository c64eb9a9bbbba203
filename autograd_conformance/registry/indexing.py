"""Indexing, scatter and multi-output ops: scatter, scatter_reduce, index_add, index_put, masked_*, take, put,
where, the *_scatter view inverses, the split family, topk, kthvalue, msort, mode, aminmax, nanmedian.

Integer and boolean arguments (indices, masks) are drawn by this module's shape rules as static
parameters and rendered into the template as ``torch.tensor({index})``, as ``shape_ops`` does for
gather.  Where torch accumulates (scatter_add, scatter_reduce, index_add, index_put and put with
``accumulate=True``, take) indices repeat; where a repeated index has no defined result (scatter,
index_copy, index_put and put without accumulation: "undefined" in torch's docs) each target is
written at most once.

The JAX references of the scatters are dense: every output element reduces the source elements
aimed at it through a static 0/1 table (``_hits``), which differentiates cleanly for every
reduction (JAX's own scatter-multiply has no gradient for repeated indices).  Multi-output ops are
checked through one output chosen by a drawn ``k`` (split, chunk), or through a weighted sum of
all their outputs where those share a shape (unbind, aminmax), so gradients from several outputs
accumulate into one input.  Ties in max-like reductions (scatter_reduce's amax/amin, topk,
kthvalue, msort, mode, aminmax, nanmedian) are kinks: ``near_kink`` flags them, as for max in
``reductions``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd_conformance.registry.reductions import _any_tie, _median_tie
from autograd_conformance.registry.shapes import (
    MAX_SIDE,
    Broadcast,
    Draw,
    ReduceAll,
    ReduceDim,
    ShapeRule,
    _nested,
    _shrink_for_broadcast,
)
from autograd_conformance.registry.spec import Call, Shape, declare_family, make_call
from autograd_conformance.versions import NO_VERSION

op = declare_family("indexing")

# --- shape rules --------------------------------------------------------------------------------


def _dim(draw: Draw, rank: int, label: str = "dim") -> tuple[int, int]:
    """A dim of a rank-``rank`` tensor: (its positive index, the index as the template passes it, maybe negative)."""
    d = draw(st.integers(0, rank - 1), label)
    return d, draw(st.sampled_from([d, d - rank]), f"{label} sign")


def _unique_lines(draw: Draw, shape: Shape, d: int, size: int) -> np.ndarray:
    """An index of ``shape`` whose entries along ``d`` are distinct in every line, from range(size)."""
    lines = math.prod(shape) // shape[d]
    perms = draw(st.lists(st.permutations(range(size)), min_size=lines, max_size=lines), "index (distinct per line)")
    moved = np.array([p[: shape[d]] for p in perms], dtype=np.int64).reshape(*np.delete(shape, d), shape[d])
    return np.moveaxis(moved, -1, d)


@dataclass(frozen=True)
class Scatter(ShapeRule):
    """``scatter(x, dim, index, src)``: x and the output share a shape; index and src (one shape, as the
    backward needs) fit inside it off ``dim``.  ``unique``: no two entries of a line along dim coincide."""

    arity: int = 2
    min_rank: int = 1
    unique: bool = False

    def draw(self, draw: Draw, out: Shape) -> Call:
        d, dim = _dim(draw, len(out))
        along = draw(st.integers(1, out[d] if self.unique else MAX_SIDE), "index size along dim")
        shape = tuple(along if i == d else draw(st.integers(1, s), f"index side {i}") for i, s in enumerate(out))
        if self.unique:
            index = _unique_lines(draw, shape, d, out[d])
        else:
            index = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, out[d] - 1)), "index")
        return make_call([out, shape], dim=dim, index=_nested(index.tolist()))


@dataclass(frozen=True)
class IndexAlong(ShapeRule):
    """``index_add(x, dim, index, source)``: a 1-D index picks rows of x along dim; source has len(index) there.
    ``source``: whether the op takes a source tensor (index_fill does not).  ``unique``: distinct entries."""

    arity: int = 2
    min_rank: int = 1
    unique: bool = False

    def draw(self, draw: Draw, out: Shape) -> Call:
        d, dim = _dim(draw, len(out))
        n = draw(st.integers(1, out[d] if self.unique else MAX_SIDE), "index length")
        entries = st.integers(0, out[d] - 1)
        index = draw(st.lists(entries, min_size=n, max_size=n, unique=self.unique), "index")
        shapes = [out, out[:d] + (n,) + out[d + 1 :]][: self.arity]
        return make_call(shapes, dim=dim, index=tuple(index))


@dataclass(frozen=True)
class IndexPut(ShapeRule):
    """``index_put(x, indices, values, accumulate)``: index tensors for x's leading 1 or 2 dims; values has one
    row per index entry.  Without accumulation the entries are distinct (a repeated one is undefined)."""

    arity: int = 2
    min_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        k = draw(st.integers(1, min(2, len(out))), "indexed leading dims")
        accumulate = draw(st.booleans(), "accumulate")
        points = list(itertools.product(*(range(s) for s in out[:k])))
        rows = st.sampled_from(points)
        at_most = MAX_SIDE if accumulate else min(MAX_SIDE, len(points))
        chosen = draw(st.lists(rows, min_size=1, max_size=at_most, unique=not accumulate), "indexed points")
        index = tuple(tuple(p[j] for p in chosen) for j in range(k))
        return make_call([out, (len(chosen), *out[k:])], index=index, accumulate=accumulate)


@dataclass(frozen=True)
class Mask(ShapeRule):
    """A boolean mask broadcastable to x (and the output): masked_fill, masked_scatter.  ``second``: the shape
    of a second tensor ("scalar": 0-d, masked_fill's tensor value; "same": masked_scatter's source; "": none)."""

    second: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "arity", 2 if self.second else 1)

    def draw(self, draw: Draw, out: Shape) -> Call:
        mask_shape = _shrink_for_broadcast(draw, out, "mask")
        mask = draw(hnp.arrays(np.bool_, mask_shape), "mask")
        shapes = [out] + ([()] if self.second == "scalar" else [out] if self.second == "same" else [])
        return make_call(shapes, mask=_nested(mask.tolist()))


@dataclass(frozen=True)
class MaskedSelect(ShapeRule):
    """``masked_select(x, mask)``: a 1-D output of the mask's count of True; mask has x's shape."""

    min_rank: int = 1
    max_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        n = out[0]
        shape = draw(
            hnp.array_shapes(min_dims=1, max_dims=3, max_side=MAX_SIDE).filter(lambda s: math.prod(s) >= n), "x shape"
        )
        chosen = draw(st.lists(st.integers(0, math.prod(shape) - 1), min_size=n, max_size=n, unique=True), "selected")
        mask = np.zeros(math.prod(shape), dtype=bool)
        mask[chosen] = True
        return make_call([shape], mask=_nested(mask.reshape(shape).tolist()))


@dataclass(frozen=True)
class Take(ShapeRule):
    """``take(x, index)``: the output has the index's shape; entries index x flattened, and may repeat."""

    def draw(self, draw: Draw, out: Shape) -> Call:
        shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=MAX_SIDE), "x shape")
        index = draw(hnp.arrays(np.int64, out, elements=st.integers(0, math.prod(shape) - 1)), "index")
        return make_call([shape], index=_nested(index.tolist()))


@dataclass(frozen=True)
class Put(ShapeRule):
    """``put(x, index, source, accumulate)``: source has the index's shape; entries index x flattened,
    distinct unless accumulating."""

    arity: int = 2

    def draw(self, draw: Draw, out: Shape) -> Call:
        numel = math.prod(out)
        accumulate = draw(st.booleans(), "accumulate")
        n = draw(st.integers(1, MAX_SIDE if accumulate else min(MAX_SIDE, numel)), "index length")
        index = draw(st.lists(st.integers(0, numel - 1), min_size=n, max_size=n, unique=not accumulate), "index")
        return make_call([out, (n,)], index=tuple(index), accumulate=accumulate)


@dataclass(frozen=True)
class Where(ShapeRule):
    """``where(cond, x, y)``: x and y broadcast to the output, the condition broadcasts with them."""

    arity: int = 2

    def draw(self, draw: Draw, out: Shape) -> Call:
        shapes = Broadcast(arity=2).draw(draw, out).input_shapes
        mask = draw(hnp.arrays(np.bool_, _shrink_for_broadcast(draw, out, "condition")), "condition")
        return make_call(shapes, condition=_nested(mask.tolist()))


@dataclass(frozen=True)
class SelectScatter(ShapeRule):
    """``select_scatter(x, src, dim, index)``: src is x without ``dim``."""

    arity: int = 2
    min_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        d, dim = _dim(draw, len(out))
        index = draw(st.integers(-out[d], out[d] - 1), "index")
        return make_call([out, out[:d] + out[d + 1 :]], dim=dim, index=index)


@dataclass(frozen=True)
class SliceScatter(ShapeRule):
    """``slice_scatter(x, src, dim, start, end, step)``: src is x's slice start:end:step along ``dim``."""

    arity: int = 2
    min_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        d, dim = _dim(draw, len(out))
        start = draw(st.integers(0, out[d] - 1), "start")
        end = draw(st.integers(start + 1, out[d]), "end")
        step = draw(st.integers(1, 2), "step")
        size = len(range(start, end, step))
        return make_call([out, out[:d] + (size,) + out[d + 1 :]], dim=dim, start=start, end=end, step=step)


@dataclass(frozen=True)
class DiagonalScatter(ShapeRule):
    """``diagonal_scatter(x, src, offset, dim1, dim2)``: src is the diagonal's shape (the other dims, then it)."""

    arity: int = 2
    min_rank: int = 2

    def draw(self, draw: Draw, out: Shape) -> Call:
        d1, d2 = draw(st.permutations(range(len(out))), "dim1, dim2")[:2]
        offsets = [o for o in (-1, 0, 1) if _diagonal_length(out[d1], out[d2], o) > 0]
        offset = draw(st.sampled_from(offsets), "offset")
        rest = tuple(s for i, s in enumerate(out) if i not in (d1, d2))
        return make_call([out, (*rest, _diagonal_length(out[d1], out[d2], offset))], offset=offset, dim1=d1, dim2=d2)


def _diagonal_length(rows: int, cols: int, offset: int) -> int:
    return max(0, min(rows - max(-offset, 0), cols - max(offset, 0)))


@dataclass(frozen=True)
class AsStridedScatter(ShapeRule):
    """``as_strided_scatter(x, src, size, stride, storage_offset)``: a non-overlapping strided window of
    contiguous x (a box with a step per dim), so each element of x is written at most once."""

    arity: int = 2
    min_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        contiguous = [math.prod(out[i + 1 :]) for i in range(len(out))]
        start, size, stride = [], [], []
        for i, s in enumerate(out):
            begin = draw(st.integers(0, s - 1), f"window start {i}")
            step = draw(st.integers(1, 2), f"window step {i}")
            start.append(begin)
            size.append(draw(st.integers(1, len(range(begin, s, step))), f"window size {i}"))
            stride.append(contiguous[i] * step)
        offset = sum(b * c for b, c in zip(start, contiguous))
        return make_call([out, tuple(size)], size=tuple(size), stride=tuple(stride), storage_offset=offset)


# How each split-like op cuts a dim of size n: its parameter's candidate values, and the pieces' sizes.
def _split_pieces(n: int, split_size: int) -> list[int]:
    return [min(split_size, n - s) for s in range(0, n, split_size)]


def _chunk_pieces(n: int, chunks: int) -> list[int]:
    return _split_pieces(n, -(-n // chunks))  # torch.chunk: pieces of ceil(n / chunks), the last smaller


def _sizes_from_indices(n: int, indices: tuple[int, ...]) -> list[int]:
    bounds = [0, *indices, n]
    return [b - a for a, b in zip(bounds, bounds[1:])]


_SPLIT_MAX_N = 6  # the split dim's size: pieces of every kind, sides ≤ 4 among them
_SIZES = [  # split_with_sizes' lists: two or three pieces, 0 to 4 long
    s for r in (2, 3) for s in itertools.product(range(MAX_SIDE + 1), repeat=r) if 1 <= sum(s) <= _SPLIT_MAX_N
]
_INDICES = [tuple(int(c) for c in np.cumsum(s[:-1])) for s in _SIZES]  # tensor_split's sorted cut points
_PIECES: dict[str, tuple[str, list[Any], Callable[[int, Any], list[int] | None]]] = {
    # kind: (parameter name, candidate values, pieces(n, value) or None where the value does not fit n)
    "split": ("split_size", [1, 2, 3, 4], _split_pieces),
    "chunk": ("chunks", [1, 2, 3, 4], _chunk_pieces),
    "sizes": ("sizes", _SIZES, lambda n, sizes: list(sizes) if sum(sizes) == n else None),
    "indices": ("indices", sorted(set(_INDICES)), lambda n, ix: _sizes_from_indices(n, ix) if ix[-1] <= n else None),
}


@dataclass(frozen=True)
class Piece(ShapeRule):
    """One output, ``[k]``, of a split-like op (``kind`` in ``_PIECES``): every (dim size, parameter, k) that
    cuts a piece of the output's size is a candidate.  ``fixed_dim``: hsplit (1, or 0 for 1-D), vsplit (0),
    dsplit (2)."""

    min_rank: int = 1
    kind: str = "split"
    fixed_dim: int | None = None

    def produces(self, out: Shape) -> bool:
        # A piece is at most MAX_SIDE long, and a tree may ask for a longer output (a split's own input, up to
        # _SPLIT_MAX_N): every dim the draw may cut along must fit.
        if self.fixed_dim == 1 and len(out) == 1:
            return out[0] <= MAX_SIDE
        if not super().produces(out):
            return False
        if self.fixed_dim is None:
            return max(out) <= MAX_SIDE
        return len(out) > self.fixed_dim and out[self.fixed_dim] <= MAX_SIDE

    def draw(self, draw: Draw, out: Shape) -> Call:
        if self.fixed_dim is None:
            d, dim = _dim(draw, len(out))
        else:
            d = dim = 0 if len(out) == 1 else self.fixed_dim
        name, values, pieces = _PIECES[self.kind]
        candidates = [
            (n, v, k)
            for n in range(1, _SPLIT_MAX_N + 1)
            for v in values
            if (p := pieces(n, v)) is not None
            for k in range(len(p))
            if p[k] == out[d]
        ]
        n, value, k = draw(st.sampled_from(candidates), f"{self.kind}: dim size, {name}, k")
        kwargs = {name: value, "k": k} if self.fixed_dim is not None else {name: value, "k": k, "dim": dim}
        return make_call([out[:d] + (n,) + out[d + 1 :]], **kwargs)


@dataclass(frozen=True)
class Unbind(ShapeRule):
    """``unbind(x, dim)``: x has one more dim than each output."""

    max_rank: int = 2

    def draw(self, draw: Draw, out: Shape) -> Call:
        d = draw(st.integers(0, len(out)), "dim")
        n = draw(st.integers(1, MAX_SIDE), "unbound dim size")
        shape = out[:d] + (n,) + out[d:]
        return make_call([shape], dim=draw(st.sampled_from([d, d - len(shape)]), "dim sign"))


@dataclass(frozen=True)
class TopK(ShapeRule):
    """``topk(x, k, dim)``: the output is x with k ≤ n elements along dim."""

    min_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        d, dim = _dim(draw, len(out))
        # max(): inside a tree another op may ask for an output longer than MAX_SIDE (chunk's input, 5)
        n = draw(st.integers(out[d], max(out[d], MAX_SIDE)), "size along dim")
        return make_call([out[:d] + (n,) + out[d + 1 :]], dim=dim, k=out[d])


@dataclass(frozen=True)
class KthValue(ReduceDim):
    """``kthvalue(x, k, dim, keepdim)``: a reduction over dim with 1 ≤ k ≤ its size."""

    def draw(self, draw: Draw, out: Shape) -> Call:
        call = super().draw(draw, out)
        size = call.input_shapes[0][call.kwargs["dim"]]
        return make_call(call.input_shapes, **call.kwargs, k=draw(st.integers(1, size), "k"))


@dataclass(frozen=True)
class FirstDim(ShapeRule):
    """``msort(x)``: sorts along dim 0, the shape unchanged."""

    min_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        return make_call([out])


# --- JAX references -----------------------------------------------------------------------------


def _hits(out_shape: Shape, coords: tuple[np.ndarray, ...]) -> np.ndarray:
    """The (output element × source element) 0/1 table: which source elements land on which output element."""
    target = (
        np.ravel_multi_index(tuple(np.ravel(c) for c in coords), out_shape)
        if out_shape
        else np.zeros(np.size(coords[0]) if coords else 1, dtype=np.int64)
    )
    hit = np.zeros((math.prod(out_shape), target.size), dtype=bool)
    hit[target, np.arange(target.size)] = True
    return hit


def _reduce_into(x, src, hit: np.ndarray, reduce: str, include_self: bool):
    """x with each hit element replaced by the reduction of its sources (and itself, with ``include_self``)."""
    flat, s = jnp.ravel(x), jnp.ravel(src)
    touched = hit.any(axis=1)
    count = hit.sum(axis=1)
    if reduce in ("sum", "mean"):
        total = jnp.sum(jnp.where(hit, s, 0.0), axis=1)
        if reduce == "mean":
            reduced = (flat + total) / (1 + count) if include_self else total / np.maximum(count, 1)
        else:
            reduced = flat + total if include_self else total
    elif reduce == "prod":
        product = jnp.prod(jnp.where(hit, s, 1.0), axis=1)
        reduced = flat * product if include_self else product
    elif reduce in ("amax", "amin"):
        pick, fill = (jnp.max, -jnp.inf) if reduce == "amax" else (jnp.min, jnp.inf)
        best = pick(jnp.where(hit, s, fill), axis=1)
        reduced = pick(jnp.stack([flat, best]), axis=0) if include_self else best
    else:  # pragma: no cover - a registry typo
        raise ValueError(reduce)
    return jnp.where(touched, reduced, flat).reshape(jnp.shape(x))


def _scatter_coords(index, dim: int, rank: int) -> tuple[np.ndarray, ...]:
    """scatter's targets: the index's value along dim, the index's own position elsewhere."""
    idx = np.array(index, dtype=np.int64)
    coords = list(np.indices(idx.shape))
    coords[dim % rank] = idx
    return tuple(coords)


def _along_coords(index, dim: int, source_shape: Shape) -> tuple[np.ndarray, ...]:
    """index_add's targets: row ``index[i]`` along dim for the source's row i, the same position elsewhere."""
    coords = list(np.indices(source_shape))
    d = dim % len(source_shape)
    coords[d] = np.array(index, dtype=np.int64)[coords[d]]
    return tuple(coords)


def _scatter(reduce: str, include_self: bool | None = None):
    def fn(x, src, dim, index, **params):
        hit = _hits(x.shape, _scatter_coords(index, dim, x.ndim))
        return _reduce_into(x, jnp.ravel(src), hit, reduce, params.get("include_self", include_self))

    return fn


def _index_reduce(reduce: str, include_self: bool | None = None, alpha: float = 1.0):
    def fn(x, src, dim, index, **params):
        hit = _hits(x.shape, _along_coords(index, dim, src.shape))
        return _reduce_into(x, alpha * jnp.ravel(src), hit, reduce, params.get("include_self", include_self))

    return fn


def _index_fill(x, dim, index, value):
    hit = _hits(
        x.shape, _along_coords(index, dim, x.shape[: dim % x.ndim] + (len(index),) + x.shape[dim % x.ndim + 1 :])
    )
    return jnp.where(hit.any(axis=1).reshape(x.shape), value, x)


def _index_put(x, values, index, accumulate):
    rows = np.indices(values.shape)
    coords = tuple(np.array(ix, dtype=np.int64)[rows[0]] for ix in index) + tuple(rows[1:])
    return _reduce_into(x, values, _hits(x.shape, coords), "sum", accumulate)


def _put(x, src, index, accumulate):
    coords = np.unravel_index(np.array(index, dtype=np.int64), x.shape) if x.ndim else ()
    hit = _hits(x.shape, coords) if x.ndim else np.ones((1, len(index)), dtype=bool)
    return _reduce_into(x, src, hit, "sum", accumulate)


def _masked_scatter(x, src, mask):
    positions = np.flatnonzero(np.broadcast_to(np.array(mask, dtype=bool), x.shape))
    return jnp.ravel(x).at[positions].set(jnp.ravel(src)[: positions.size]).reshape(x.shape)


def _select_scatter(x, src, dim, index):
    return jnp.moveaxis(jnp.moveaxis(x, dim, 0).at[index].set(src), 0, dim)


def _slice_scatter(x, src, dim, start, end, step):
    return jnp.moveaxis(jnp.moveaxis(x, dim, 0).at[start:end:step].set(jnp.moveaxis(src, dim, 0)), 0, dim)


def _diagonal_scatter(x, src, offset, dim1, dim2):
    moved = jnp.moveaxis(x, (dim1, dim2), (-2, -1))
    steps = np.arange(src.shape[-1])
    filled = moved.at[..., steps + max(-offset, 0), steps + max(offset, 0)].set(src)
    return jnp.moveaxis(filled, (-2, -1), (dim1, dim2))


def _as_strided_scatter(x, src, size, stride, storage_offset):
    positions = storage_offset + sum(i * s for i, s in zip(np.indices(size), stride))
    return jnp.ravel(x).at[np.ravel(positions)].set(jnp.ravel(src)).reshape(x.shape)


def _piece(kind: str):
    """Output k of a split-like op, cut by jnp.split at the boundaries the op's parameter gives."""

    def fn(x, k, dim=None, **params):
        axis = (0 if x.ndim == 1 else {"hsplit": 1, "vsplit": 0, "dsplit": 2}[kind]) if dim is None else dim
        n = x.shape[axis]
        if "sizes" in params:
            cuts = np.cumsum(params["sizes"])[:-1]
        elif "indices" in params:
            cuts = params["indices"]
        elif "chunks" in params:
            cuts = range(-(-n // params["chunks"]), n, -(-n // params["chunks"]))
        else:
            cuts = range(params["split_size"], n, params["split_size"])
        return jnp.split(x, list(cuts), axis=axis)[k]

    return fn


def _weighted(*outputs):
    """Output i weighted by i + 1: the templates' ``sum((i + 1) * t for i, t in enumerate(...))``."""
    return sum((i + 1) * t for i, t in enumerate(outputs))


def _topk(x, dim, k, largest):
    sign = 1.0 if largest else -1.0
    values, _ = jax.lax.top_k(sign * jnp.moveaxis(x, dim, -1), k)
    return jnp.moveaxis(sign * values, -1, dim)


def _kthvalue(x, dim, keepdim, k):
    out = jnp.take(jnp.sort(x, axis=dim), k - 1, axis=dim)
    return jnp.expand_dims(out, dim) if keepdim else out


def _lower_nanmedian(x, axis=None, keepdims=False):
    """torch.nanmedian: the lower middle of the non-nan elements (jnp.nanmedian averages the two middles)."""
    if axis is None:
        x, axis = jnp.ravel(x), 0
    ordered = jnp.moveaxis(jnp.sort(x, axis=axis), axis, -1)  # nan sorts last
    middle = (jnp.sum(~jnp.isnan(ordered), axis=-1, keepdims=True) - 1) // 2
    out = jnp.take_along_axis(ordered, jnp.maximum(middle, 0), axis=-1)[..., 0]
    return jnp.expand_dims(out, axis) if keepdims else out


# --- kink tests ---------------------------------------------------------------------------------


def _close(a, b, margin):
    return np.abs(a - b) <= margin * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))


def _group_tie(coords_of: Callable[[list[np.ndarray], dict[str, Any]], tuple[np.ndarray, ...]]):
    """amax/amin scatters: within one output element's group (its sources, and itself with include_self),
    the largest (smallest) two tie: the gradient's split among them is a kink."""

    def near(inputs, params, margin):
        x, src = inputs[0], np.ravel(inputs[1])
        hit = _hits(x.shape, coords_of(inputs, params))
        for row, value in zip(hit, np.ravel(x)):
            group = src[row]
            if not group.size:
                continue
            if params.get("include_self", True):
                group = np.append(group, value)
            for sign in (1.0, -1.0):  # both ends: amax's and amin's
                ordered = np.sort(sign * group)
                if ordered.size > 1 and _close(ordered[-1], ordered[-2], margin):
                    return True
        return False

    return near


_scatter_tie = _group_tie(lambda inputs, p: _scatter_coords(p["index"], p["dim"], inputs[0].ndim))
_index_tie = _group_tie(lambda inputs, p: _along_coords(p["index"], p["dim"], inputs[1].shape))


def _topk_tie(inputs, params, margin):
    """Any two of the k + 1 largest (smallest) along dim tie: which one each output takes is a kink."""
    sign = 1.0 if params["largest"] else -1.0
    ordered = -np.sort(-sign * np.moveaxis(inputs[0], params["dim"], -1), axis=-1)[..., : params["k"] + 1]
    return bool(np.any(_close(ordered[..., 1:], ordered[..., :-1], margin)))


def _kth_tie(inputs, params, margin):
    ordered = np.sort(np.moveaxis(inputs[0], params["dim"], -1), axis=-1)
    k = params["k"] - 1
    neighbours = [j for j in (k - 1, k + 1) if 0 <= j < ordered.shape[-1]]
    return any(bool(np.any(_close(ordered[..., k], ordered[..., j], margin))) for j in neighbours)


def _first_dim_tie(inputs, params, margin):
    return _any_tie(inputs, {"dim": 0}, margin)


def _dim_tie(inputs, params, margin):
    """Any two elements along dim tie: mode's value jumps there (a repeated value becomes the mode);
    aminmax's min or max tie."""
    return _any_tie(inputs, params, margin) if np.ndim(inputs[0]) else False


# --- the ops --------------------------------------------------------------------------------------

INCLUDE_SELF = {"include_self": st.booleans()}
_SCATTER_REDUCE_TEMPLATE = (
    "torch.scatter_reduce({{x}}, {{dim}}, torch.tensor({{index}}), {{y}}, '{reduce}', include_self={{include_self}})"
)


def _scatter_reduce(reduce: str, **fields: Any):
    return op(
        f"scatter_reduce_{reduce}",
        _SCATTER_REDUCE_TEMPLATE.format(reduce=reduce),
        _scatter(reduce),
        rule=Scatter(),
        params=INCLUDE_SELF,
        variants=(
            f"{{x}}.scatter_reduce({{dim}}, torch.tensor({{index}}), {{y}}, reduce='{reduce}', include_self={{include_self}})",
        ),
        **fields,
    )


def _index_reduce_op(reduce: str, **fields: Any):
    return op(
        f"index_reduce_{reduce}",
        f"torch.index_reduce({{x}}, {{dim}}, torch.tensor({{index}}), {{y}}, '{reduce}', include_self={{include_self}})",
        _index_reduce(reduce),
        rule=IndexAlong(),
        params=INCLUDE_SELF,
        forward_ad_in=NO_VERSION,  # "Trying to use forward AD with index_reduce that does not support it" (2.3.1-2.13.0)
        **fields,
    )


SCATTER = [
    op(
        "scatter",
        "torch.scatter({x}, {dim}, torch.tensor({index}), {y})",
        _scatter("sum", include_self=False),
        rule=Scatter(unique=True),
        variants=("{x}.scatter({dim}, torch.tensor({index}), {y})",),
        notes="distinct targets: a repeated index has no defined result (torch.Tensor.scatter_ docs)",
    ),
    op(
        "scatter_add",
        "torch.scatter_add({x}, {dim}, torch.tensor({index}), {y})",
        _scatter("sum", include_self=True),
        rule=Scatter(),
        variants=("{x}.scatter_add({dim}, torch.tensor({index}), {y})",),
        notes="repeated indices accumulate",
    ),
    _scatter_reduce("sum"),
    _scatter_reduce("prod", notes="zeros in a group make the gradient a product of the others"),
    _scatter_reduce("mean"),
    _scatter_reduce("amax", near_kink=_scatter_tie),
    _scatter_reduce("amin", near_kink=_scatter_tie),
    op(
        "index_add",
        "torch.index_add({x}, {dim}, torch.tensor({index}), {y}, alpha=2.5)",
        _index_reduce("sum", include_self=True, alpha=2.5),
        rule=IndexAlong(),
        variants=("{x}.index_add({dim}, torch.tensor({index}), {y}, alpha=2.5)",),
        notes="repeated indices accumulate",
    ),
    op(
        "index_copy",
        "torch.index_copy({x}, {dim}, torch.tensor({index}), {y})",
        _index_reduce("sum", include_self=False),
        rule=IndexAlong(unique=True),
        variants=("{x}.index_copy({dim}, torch.tensor({index}), {y})",),
        notes="distinct indices: a repeated one has no defined result",
    ),
    _index_reduce_op("prod", notes="zeros in a group make the gradient a product of the others"),
    _index_reduce_op("mean"),
    _index_reduce_op("amax", near_kink=_index_tie),
    _index_reduce_op("amin", near_kink=_index_tie),
    op(
        "index_fill",
        "{x}.index_fill({dim}, torch.tensor({index}), -1.5)",
        lambda x, dim, index: _index_fill(x, dim, index, -1.5),
        rule=IndexAlong(arity=1),
        variants=("torch.index_fill({x}, {dim}, torch.tensor({index}), -1.5)",),
    ),
    op(
        "index_put",
        "torch.index_put({x}, tuple(torch.tensor({index})), {y}, accumulate={accumulate})",
        _index_put,
        rule=IndexPut(),
        variants=("{x}.index_put(tuple(torch.tensor({index})), {y}, accumulate={accumulate})",),
        notes="accumulate=True: repeated index points accumulate; accumulate=False: distinct points",
    ),
    op(
        "put",
        "torch.put({x}, torch.tensor({index}), {y}, accumulate={accumulate})",
        _put,
        rule=Put(),
        variants=("{x}.put(torch.tensor({index}), {y}, accumulate={accumulate})",),
        notes="accumulate=True: repeated indices accumulate; accumulate=False: distinct indices",
    ),
    op(
        "take",
        "torch.take({x}, torch.tensor({index}))",
        lambda x, index: jnp.ravel(x)[np.array(index, dtype=np.int64)],
        rule=Take(),
        variants=("{x}.take(torch.tensor({index}))",),
        notes="repeated indices accumulate",
    ),
]

MASKED = [
    op(
        "masked_fill",
        "{x}.masked_fill(torch.tensor({mask}), -1.5)",
        lambda x, mask: jnp.where(np.array(mask, dtype=bool), -1.5, x),
        rule=Mask(),
        variants=("torch.masked_fill({x}, torch.tensor({mask}), -1.5)",),
    ),
    op(
        "masked_fill_tensor",
        "{x}.masked_fill(torch.tensor({mask}), {y})",
        lambda x, y, mask: jnp.where(np.array(mask, dtype=bool), y, x),
        rule=Mask(second="scalar"),
        notes="a 0-d tensor value: its gradient sums the output's over the mask",
    ),
    op(
        "masked_scatter",
        "{x}.masked_scatter(torch.tensor({mask}), {y})",
        _masked_scatter,
        rule=Mask(second="same"),
        variants=("torch.masked_scatter({x}, torch.tensor({mask}), {y})",),
        notes="the source's leading elements, in row-major order, fill the masked places",
    ),
    op(
        "masked_select",
        "torch.masked_select({x}, torch.tensor({mask}))",
        lambda x, mask: jnp.ravel(x)[np.flatnonzero(np.array(mask, dtype=bool))],
        rule=MaskedSelect(),
        variants=("{x}.masked_select(torch.tensor({mask}))",),
    ),
    op(
        "where",
        "torch.where(torch.tensor({condition}), {x}, {y})",
        lambda x, y, condition: jnp.where(np.array(condition, dtype=bool), x, y),
        rule=Where(),
        variants=("{x}.where(torch.tensor({condition}), {y})",),
    ),
]

VIEW_SCATTERS = [
    op("select_scatter", "torch.select_scatter({x}, {y}, {dim}, {index})", _select_scatter, rule=SelectScatter()),
    op(
        "slice_scatter",
        "torch.slice_scatter({x}, {y}, {dim}, {start}, {end}, {step})",
        _slice_scatter,
        rule=SliceScatter(),
    ),
    op(
        "diagonal_scatter",
        "torch.diagonal_scatter({x}, {y}, {offset}, {dim1}, {dim2})",
        _diagonal_scatter,
        rule=DiagonalScatter(),
    ),
    op(
        "as_strided_scatter",
        "torch.as_strided_scatter({x}, {y}, {size}, {stride}, {storage_offset})",
        _as_strided_scatter,
        rule=AsStridedScatter(),
        notes="a non-overlapping window of a contiguous x: each element written at most once",
    ),
]

_PICK = "[{k}]"
MULTI_OUTPUT = [
    op(
        "split",
        "torch.split({x}, {split_size}, dim={dim})" + _PICK,
        _piece("split"),
        rule=Piece(kind="split"),
        variants=("{x}.split({split_size}, {dim})" + _PICK, "torch.unsafe_split({x}, {split_size}, {dim})" + _PICK),
        notes="through output k alone: the others' gradients are undefined (zero)",
    ),
    op(
        "split_with_sizes",
        "torch.split_with_sizes({x}, {sizes}, dim={dim})" + _PICK,
        _piece("sizes"),
        rule=Piece(kind="sizes"),
        variants=(
            "torch.split({x}, {sizes}, dim={dim})" + _PICK,
            "{x}.split_with_sizes({sizes}, {dim})" + _PICK,
            "torch.split_with_sizes_copy({x}, {sizes}, dim={dim})" + _PICK,
        ),
        notes="sizes may be 0",
    ),
    op(
        "tensor_split",
        "torch.tensor_split({x}, {indices}, dim={dim})" + _PICK,
        _piece("indices"),
        rule=Piece(kind="indices"),
        variants=("{x}.tensor_split({indices}, {dim})" + _PICK,),
    ),
    op(
        "chunk",
        "torch.chunk({x}, {chunks}, dim={dim})" + _PICK,
        _piece("chunk"),
        rule=Piece(kind="chunk"),
        variants=("{x}.chunk({chunks}, {dim})" + _PICK, "torch.unsafe_chunk({x}, {chunks}, {dim})" + _PICK),
        notes="pieces of ceil(n / chunks), the last smaller (not jnp.array_split's)",
    ),
    op("hsplit", "torch.hsplit({x}, {indices})" + _PICK, _piece("hsplit"), rule=Piece(kind="indices", fixed_dim=1)),
    op(
        "vsplit",
        "torch.vsplit({x}, {indices})" + _PICK,
        _piece("vsplit"),
        rule=Piece(kind="indices", fixed_dim=0, min_rank=2),
    ),
    op(
        "dsplit",
        "torch.dsplit({x}, {indices})" + _PICK,
        _piece("dsplit"),
        rule=Piece(kind="indices", fixed_dim=2, min_rank=3),
    ),
    op(
        "unbind",
        "sum((i + 1) * t for i, t in enumerate(torch.unbind({x}, {dim})))",
        lambda x, dim: _weighted(*jnp.moveaxis(x, dim, 0)),
        rule=Unbind(),
        variants=("sum((i + 1) * t for i, t in enumerate(torch.unbind_copy({x}, {dim})))",),
        notes="every output, weighted by its position + 1: their gradients accumulate into x",
    ),
    op(
        "topk",
        "torch.topk({x}, {k}, dim={dim}, largest={largest}).values",
        _topk,
        rule=TopK(),
        params={"largest": st.booleans()},
        near_kink=_topk_tie,
        variants=("{x}.topk({k}, {dim}, {largest}).values",),
    ),
    op(
        "kthvalue",
        "torch.kthvalue({x}, {k}, dim={dim}, keepdim={keepdim}).values",
        _kthvalue,
        rule=KthValue(),
        near_kink=_kth_tie,
        variants=("{x}.kthvalue({k}, {dim}, {keepdim}).values",),
    ),
    op(
        "msort",
        "torch.msort({x})",
        lambda x: jnp.sort(x, axis=0),
        rule=FirstDim(),
        near_kink=_first_dim_tie,
        variants=("torch.sort({x}, dim=0, stable=True).values",),
    ),
    op(
        "mode",
        "torch.mode({x}, dim={dim}, keepdim={keepdim}).values",
        lambda x, dim, keepdim: jnp.min(x, axis=dim, keepdims=keepdim),
        rule=ReduceDim(),
        near_kink=_dim_tie,
        notes="with distinct values every one is a mode and torch returns the smallest (measured, 2.13.0); "
        "a repeated value (the only case where the mode is not the minimum) is a tie, a kink",
    ),
    op(
        "aminmax",
        "sum((i + 1) * t for i, t in enumerate(torch.aminmax({x}, dim={dim}, keepdim={keepdim})))",
        lambda x, dim, keepdim: _weighted(
            jnp.min(x, axis=dim, keepdims=keepdim), jnp.max(x, axis=dim, keepdims=keepdim)
        ),
        rule=ReduceDim(),
        near_kink=_dim_tie,
        notes="min + 2·max: both outputs' gradients accumulate into x",
    ),
    op(
        "nanmedian",
        "torch.nanmedian({x})",
        _lower_nanmedian,
        rule=ReduceAll(),
        near_kink=_median_tie(None),
    ),
    op(
        "nanmedian_dim",
        "torch.nanmedian({x}, dim={dim}, keepdim={keepdim}).values",
        lambda x, dim, keepdim: _lower_nanmedian(x, dim, keepdim),
        rule=ReduceDim(),
        near_kink=_median_tie("dim"),
    ),
]

OPS = SCATTER + MASKED + VIEW_SCATTERS + MULTI_OUTPUT
