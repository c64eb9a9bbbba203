"""Structured ops: fused products (addmm, addmv, addr, addbmm, baddbmm), differences and integrals along a dim
(diff, gradient, trapezoid, cumulative_trapezoid), statistics (cov, corrcoef, quantile), distances (cdist),
builders (block_diag, diag_embed, diagflat, meshgrid, cartesian_prod, combinations, the *stack family),
rearrangements (rot90, unflatten, repeat_interleave, constant_pad_nd), renorm and broadcast_tensors.

Integer arguments (repeats, fweights, combinations' r) are drawn by this module's shape rules as static
parameters, as ``indexing`` draws its indices.  Multi-output ops (meshgrid, broadcast_tensors) are checked
through a combination of all their outputs, so gradients from several outputs accumulate into each input.
Simplest first: Hypothesis's ``sampled_from`` shrinks toward the first entry.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st

from autograd_conformance.registry.reductions import _any_tie
from autograd_conformance.registry.shapes import (
    MAX_SIDE,
    AlongDim,
    Broadcast,
    Draw,
    ReduceDim,
    ReduceDimPair,
    ShapeRule,
    _shrink_for_broadcast,
    shapes,
)
from autograd_conformance.registry.spec import Call, Shape, declare_family, make_call
from autograd_conformance.versions import NO_VERSION

op = declare_family("structured")

# --- shape rules --------------------------------------------------------------------------------


def _signed(draw: Draw, d: int, rank: int, label: str = "dim sign") -> int:
    return draw(st.sampled_from([d, d - rank]), label)


@dataclass(frozen=True)
class AddProduct(ShapeRule):
    """``addmm(x, y, z)`` and kin: ``beta·x + alpha·(product of y and z)``; x broadcasts to the output.

    ``kind``: "mm" (y n×k, z k×p), "mv" (y n×k, z k), "r" (outer: y n, z p), "bmm" (addbmm: y b×n×k,
    z b×k×p summed over b), "baddbmm" (batched: the output b×n×p)."""

    arity: int = 3
    kind: str = "mm"

    def __post_init__(self) -> None:
        rank = {"mm": 2, "mv": 1, "r": 2, "bmm": 2, "baddbmm": 3}[self.kind]
        object.__setattr__(self, "min_rank", rank)
        object.__setattr__(self, "max_rank", rank)

    def draw(self, draw: Draw, out: Shape) -> Call:
        x = _shrink_for_broadcast(draw, out, "input")
        k = draw(st.integers(1, MAX_SIDE), "inner size k")
        if self.kind == "mm":
            y, z = (out[0], k), (k, out[1])
        elif self.kind == "mv":
            y, z = (out[0], k), (k,)
        elif self.kind == "r":
            y, z = (out[0],), (out[1],)
        else:
            b = out[0] if self.kind == "baddbmm" else draw(st.integers(1, 3), "batch b")
            n, p = out[-2:]
            y, z = (b, n, k), (b, k, p)
        return make_call([x, y, z])


@dataclass(frozen=True)
class Lengthen(ShapeRule):
    """The input is the output lengthened by ``by`` (drawn from ``choices``) along one dim: diff (by n),
    cumulative_trapezoid (by 1).  ``param``: the parameter that carries ``by`` ("" for none).  ``pair``: a
    second tensor of the input's shape (cumulative_trapezoid's sample points).  ``extra``: a second tensor
    of length 1 or 2 along dim (diff's append)."""

    min_rank: int = 1
    choices: tuple[int, ...] = (1,)
    param: str = ""
    pair: bool = False
    extra: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "arity", 2 if self.pair or self.extra else 1)

    def draw(self, draw: Draw, out: Shape) -> Call:
        d = draw(st.integers(0, len(out) - 1), "dim")
        by = draw(st.sampled_from(self.choices), "lengthened by")
        params = {self.param: by} if self.param else {}
        if self.extra:  # x and the appended piece (1 or 2 long) together are the lengthened dim
            total = out[d] + by
            e = draw(st.integers(1, min(2, total - 1)), "appended length")
            shapes_ = [out[:d] + (total - e,) + out[d + 1 :], out[:d] + (e,) + out[d + 1 :]]
            return make_call(shapes_, dim=_signed(draw, d, len(out)), **params)
        shape = out[:d] + (out[d] + by,) + out[d + 1 :]
        return make_call([shape] * self.arity, dim=_signed(draw, d, len(out)), **params)


@dataclass(frozen=True)
class Spaced(ShapeRule):
    """``gradient(x, dim, edge_order)``: the same shape, along a dim long enough for the edge order."""

    min_rank: int = 1

    def produces(self, out: Shape) -> bool:
        return super().produces(out) and max(out) >= 2

    def draw(self, draw: Draw, out: Shape) -> Call:
        d = draw(st.sampled_from([i for i, s in enumerate(out) if s >= 2]), "dim")
        orders = [1, 2] if out[d] >= 3 else [1]
        return make_call([out], dim=_signed(draw, d, len(out)), edge_order=draw(st.sampled_from(orders), "edge_order"))


@dataclass(frozen=True)
class Covariance(ShapeRule):
    """``cov(x)``, ``corrcoef(x)``: variables × observations to variables × variables (one variable, as a vector
    or a 1×n matrix: 0-d).
    ``weights``: draw integer frequency weights, one per observation."""

    min_rank: int = 0
    max_rank: int = 2
    min_obs: int = 2
    weights: bool = False

    def produces(self, out: Shape) -> bool:
        return len(out) == 0 or (len(out) == 2 and out[0] == out[1] >= 2)

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        return st.one_of(st.just(()), st.integers(2, MAX_SIDE).map(lambda n: (n, n)))

    def draw(self, draw: Draw, out: Shape) -> Call:
        obs = draw(st.integers(self.min_obs, MAX_SIDE), "observations")
        one = draw(st.sampled_from([(obs,), (1, obs)]), "one variable as")  # torch returns 0-d for both
        shape = one if not out else (out[0], obs)
        if not self.weights:
            return make_call([shape])
        weights = draw(
            st.lists(st.integers(0, 3), min_size=obs, max_size=obs).filter(lambda w: sum(w) >= 2), "fweights"
        )
        return make_call([shape], fweights=tuple(weights))


@dataclass(frozen=True)
class Distances(ShapeRule):
    """``cdist(x, y)``: (B, P, M) and (B, R, M) to (B, P, R), the batch optional."""

    arity: int = 2
    min_rank: int = 2

    def draw(self, draw: Draw, out: Shape) -> Call:
        m = draw(st.integers(1, MAX_SIDE), "features M")
        *b, p, r = out
        return make_call([(*b, p, m), (*b, r, m)])


@dataclass(frozen=True)
class BlockDiag(ShapeRule):
    """``block_diag(x, y)``: two matrices whose sides add up to the output's."""

    arity: int = 2
    min_rank: int = 2
    max_rank: int = 2

    def produces(self, out: Shape) -> bool:
        return super().produces(out) and min(out) >= 2

    def draw(self, draw: Draw, out: Shape) -> Call:
        m = draw(st.integers(1, out[0] - 1), "x rows")
        n = draw(st.integers(1, out[1] - 1), "x cols")
        return make_call([(m, n), (out[0] - m, out[1] - n)])


@dataclass(frozen=True)
class DiagEmbed(ShapeRule):
    """``diag_embed(x, offset, dim1, dim2)``: x's last dim laid on a diagonal of the output's dims dim1 and dim2."""

    min_rank: int = 2

    def produces(self, out: Shape) -> bool:
        return super().produces(out) and any(out[i] == out[j] for i, j in itertools.permutations(range(len(out)), 2))

    def draw(self, draw: Draw, out: Shape) -> Call:
        pairs = [(i, j) for i, j in itertools.permutations(range(len(out)), 2) if out[i] == out[j]]
        d1, d2 = draw(st.sampled_from(pairs), "dim1, dim2")
        n = out[d1]
        offset = draw(st.integers(-(n - 1), n - 1), "offset")
        rest = tuple(s for i, s in enumerate(out) if i not in (d1, d2))
        return make_call(
            [(*rest, n - abs(offset))],
            offset=offset,
            dim1=_signed(draw, d1, len(out), "dim1 sign"),
            dim2=_signed(draw, d2, len(out), "dim2 sign"),
        )


@dataclass(frozen=True)
class DiagFlat(ShapeRule):
    """``diagflat(x, offset)``: x flattened onto a diagonal of a square matrix."""

    min_rank: int = 2
    max_rank: int = 2

    def produces(self, out: Shape) -> bool:
        return len(out) == 2 and out[0] == out[1]

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        return st.integers(1, MAX_SIDE).map(lambda n: (n, n))

    def draw(self, draw: Draw, out: Shape) -> Call:
        offset = draw(st.integers(-(out[0] - 1), out[0] - 1), "offset")
        n = out[0] - abs(offset)
        shape = draw(st.sampled_from([(n,), (1, n), (n, 1)]), "x shape")
        return make_call([shape], offset=offset)


@dataclass(frozen=True)
class Grid(ShapeRule):
    """``meshgrid(x, y, indexing)``: two vectors to an n×m grid (x along rows with "ij", along columns with "xy")."""

    arity: int = 2
    min_rank: int = 2
    max_rank: int = 2

    def draw(self, draw: Draw, out: Shape) -> Call:
        indexing = draw(st.sampled_from(["ij", "xy"]), "indexing")
        n, m = out if indexing == "ij" else out[::-1]
        return make_call([(n,), (m,)], indexing=indexing)


@dataclass(frozen=True)
class CartesianProd(ShapeRule):
    """``cartesian_prod(x, y)``: vectors of n and m elements to (n·m, 2)."""

    arity: int = 2
    min_rank: int = 2
    max_rank: int = 2

    def produces(self, out: Shape) -> bool:
        return len(out) == 2 and out[1] == 2

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        return st.integers(1, MAX_SIDE).map(lambda n: (n, 2))

    def draw(self, draw: Draw, out: Shape) -> Call:
        n = draw(st.sampled_from([d for d in range(1, out[0] + 1) if out[0] % d == 0]), "x size")
        return make_call([(n,), (out[0] // n,)])


def _combinations(n: int, r: int, with_replacement: bool) -> list[tuple[int, ...]]:
    make = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    return list(make(range(n), r))


_COMBINATIONS = [(n, r, w) for n in range(1, 6) for r in (1, 2, 3) for w in (False, True) if _combinations(n, r, w)]


@dataclass(frozen=True)
class Combinations(ShapeRule):
    """``combinations(x, r, with_replacement)``: a vector of n to (number of combinations, r)."""

    min_rank: int = 2
    max_rank: int = 2

    def produces(self, out: Shape) -> bool:
        return len(out) == 2 and any(len(_combinations(n, r, w)) == out[0] and r == out[1] for n, r, w in _COMBINATIONS)

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        return st.sampled_from(
            sorted(
                {
                    (len(_combinations(n, r, w)), r)
                    for n, r, w in _COMBINATIONS
                    if len(_combinations(n, r, w)) <= MAX_SIDE
                }
            )
        )

    def draw(self, draw: Draw, out: Shape) -> Call:
        fits = [(n, r, w) for n, r, w in _COMBINATIONS if len(_combinations(n, r, w)) == out[0] and r == out[1]]
        n, r, w = draw(st.sampled_from(fits), "n, r, with_replacement")
        return make_call([(n,)], r=r, with_replacement=w)


@dataclass(frozen=True)
class StackLike(ShapeRule):
    """hstack, vstack, dstack, column_stack of two tensors: cut along the dim the op joins on; a piece may be
    given in the lower rank the op promotes (vstack's rows as vectors, column_stack's columns as vectors,
    dstack's matrices)."""

    arity: int = 2
    kind: str = "hstack"

    def __post_init__(self) -> None:
        low, high = {"hstack": (1, 3), "vstack": (2, 3), "dstack": (3, 3), "column_stack": (2, 2)}[self.kind]
        object.__setattr__(self, "min_rank", low)
        object.__setattr__(self, "max_rank", high)

    def _dim(self, out: Shape) -> int:
        return {"hstack": 0 if len(out) == 1 else 1, "vstack": 0, "dstack": 2, "column_stack": 1}[self.kind]

    def produces(self, out: Shape) -> bool:
        return super().produces(out) and out[self._dim(out)] >= 2

    def _lower(self, piece: Shape) -> Shape | None:
        """The piece in the lower rank the op promotes to ``piece``, if there is one."""
        if self.kind == "vstack" and len(piece) == 2 and piece[0] == 1:
            return (piece[1],)
        if self.kind == "column_stack" and piece[1] == 1:
            return (piece[0],)
        if self.kind == "dstack" and piece[2] == 1:
            return piece[:2]
        return None

    def draw(self, draw: Draw, out: Shape) -> Call:
        d = self._dim(out)
        first = draw(st.integers(1, out[d] - 1), "split")
        pieces = []
        for i, size in enumerate((first, out[d] - first)):
            piece = out[:d] + (size,) + out[d + 1 :]
            lower = self._lower(piece)
            if lower is not None and draw(st.booleans(), f"piece {i} in the lower rank"):
                piece = lower
            pieces.append(piece)
        return make_call(pieces)


@dataclass(frozen=True)
class Rot90(ShapeRule):
    """``rot90(x, k, dims)``: an odd k swaps the two dims' sizes."""

    min_rank: int = 2

    def draw(self, draw: Draw, out: Shape) -> Call:
        d0, d1 = draw(st.permutations(range(len(out))), "dims")[:2]
        k = draw(st.sampled_from([1, 2, -1, 3, 0]), "k")
        shape = list(out)
        if k % 2:
            shape[d0], shape[d1] = out[d1], out[d0]
        return make_call([tuple(shape)], k=k, dims=(d0, d1))


@dataclass(frozen=True)
class Unflatten(ShapeRule):
    """``unflatten(x, dim, sizes)``: x has the output's dims dim..dim+len(sizes) merged; sizes may hold one -1."""

    min_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        d = draw(st.integers(0, len(out) - 1), "dim")
        length = draw(st.integers(1, len(out) - d), "unflattened into")
        sizes = list(out[d : d + length])
        if draw(st.booleans(), "one size as -1"):
            sizes[draw(st.integers(0, length - 1), "which size is -1")] = -1
        shape = out[:d] + (math.prod(out[d : d + length]),) + out[d + length :]
        return make_call([shape], dim=_signed(draw, d, len(shape)), sizes=tuple(sizes))


@dataclass(frozen=True)
class RepeatInterleave(ShapeRule):
    """``repeat_interleave(x, repeats, dim)``: x's n slices along dim repeated repeats[i] times (0 included),
    summing to the output's size."""

    min_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        d = draw(st.integers(0, len(out) - 1), "dim")
        n = draw(st.integers(1, MAX_SIDE), "slices n")
        cuts = sorted(draw(st.lists(st.integers(0, out[d]), min_size=n - 1, max_size=n - 1), "cut points"))
        bounds = [0, *cuts, out[d]]
        repeats = tuple(b - a for a, b in zip(bounds, bounds[1:]))
        return make_call([out[:d] + (n,) + out[d + 1 :]], dim=_signed(draw, d, len(out)), repeats=repeats)


@dataclass(frozen=True)
class ConstantPad(ShapeRule):
    """``constant_pad_nd(x, pad, value)``: the last k dims padded (or cropped, negative) on each side."""

    min_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        k = draw(st.integers(1, len(out)), "padded dims")
        pad: list[int] = []
        shape = list(out)
        for i in range(len(out) - 1, len(out) - 1 - k, -1):
            lo = draw(st.integers(-1, 2), f"pad before dim {i}")
            hi = draw(st.integers(-1, 2), f"pad after dim {i}")
            while out[i] - lo - hi < 1:  # the input keeps at least one element there
                lo, hi = (lo - 1, hi) if lo > -1 else (lo, hi - 1)
            shape[i] = out[i] - lo - hi
            pad += [lo, hi]
        return make_call([tuple(shape)], pad=tuple(pad))


@dataclass(frozen=True)
class CrossDim(ShapeRule):
    """``cross(x, y, dim)``: two same-shaped tensors, crossed along a dim of size 3."""

    arity: int = 2
    min_rank: int = 1

    def produces(self, out: Shape) -> bool:
        return super().produces(out) and 3 in out

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        return shapes(1, 3).filter(lambda s: 3 in s)

    def draw(self, draw: Draw, out: Shape) -> Call:
        d = draw(st.sampled_from([i for i, s in enumerate(out) if s == 3]), "dim")
        return make_call([out, out], dim=_signed(draw, d, len(out)))


# --- kink tests ---------------------------------------------------------------------------------


def _cdist_kink(inputs, params, margin):
    """cdist: |x - y| at 0 (a coordinate for p ≤ 1 and inf, a whole row for p > 1), ties of the max for inf."""
    p = float(params["p"])
    diff = np.abs(inputs[0][..., :, None, :] - inputs[1][..., None, :, :])
    scale = margin * max(1.0, float(np.max(np.abs(diff), initial=0.0)))
    if p == 0.0:
        return False
    if (p <= 1.0 or p == math.inf) and np.any(diff <= scale):
        return True
    if np.any(np.max(diff, axis=-1, initial=0.0) <= scale):
        return True
    if p == math.inf and diff.shape[-1] >= 2:
        top = np.sort(diff, axis=-1)
        return bool(np.any(top[..., -1] - top[..., -2] <= scale))
    return False


def _renorm_kink(inputs, params, margin):
    """renorm: a slice's norm at maxnorm (the scaling switches on), or at 0; |x| at 0 for an odd p (|x|'s slope
    jumps there for p = 1, |x|³'s third derivative, 6·sign(x), for p = 3)."""
    x, p, dim = inputs[0], params["p"], params["dim"]
    axes = tuple(i for i in range(x.ndim) if i != dim % x.ndim)
    norms = np.sum(np.abs(x) ** p, axis=axes) ** (1.0 / p)
    maxnorm = params["maxnorm"]
    if np.any(np.abs(norms - maxnorm) <= margin * max(1.0, maxnorm)) or np.any(norms <= margin):
        return True
    return p in (1.0, 3.0) and bool(np.any(np.abs(x) <= margin))


def _constant_row(inputs, params, margin):
    """corrcoef: a variable whose observations are all equal has no standard deviation to divide by."""
    x = np.atleast_2d(inputs[0])
    return bool(np.any(np.ptp(x, axis=-1) <= margin * np.maximum(1.0, np.max(np.abs(x), axis=-1))))


def _quantile_tie(inputs, params, margin):
    """quantile: the order of the elements along dim changes where two tie."""
    return _any_tie(inputs, params, margin)


# --- JAX references -----------------------------------------------------------------------------


def _addmm(x, y, z, beta, alpha):
    return beta * x + alpha * (y @ z)


def _addbmm(x, y, z, beta, alpha):
    return beta * x + alpha * jnp.sum(y @ z, axis=0)


def _addr(x, y, z, beta, alpha):
    return beta * x + alpha * jnp.outer(y, z)


def _diff(x, dim, n):
    return jnp.diff(x, n=n, axis=dim)


def _diff_append(x, y, dim, n):
    return jnp.diff(jnp.concatenate([x, y], axis=dim), n=n, axis=dim)


def _trapezoid(y, dim, dx):
    y = jnp.moveaxis(y, dim, -1)
    return jnp.sum(y[..., 1:] + y[..., :-1], axis=-1) * dx / 2


def _trapezoid_x(y, x, dim):
    y, x = jnp.moveaxis(y, dim, -1), jnp.moveaxis(x, dim, -1)
    return jnp.sum((x[..., 1:] - x[..., :-1]) * (y[..., 1:] + y[..., :-1]), axis=-1) / 2


def _cumulative_trapezoid(y, dim, dx):
    moved = jnp.moveaxis(y, dim, -1)
    return jnp.moveaxis(jnp.cumsum((moved[..., 1:] + moved[..., :-1]) * dx / 2, axis=-1), -1, dim)


def _cumulative_trapezoid_x(y, x, dim):
    y, x, dim0 = jnp.moveaxis(y, dim, -1), jnp.moveaxis(x, dim, -1), dim
    return jnp.moveaxis(jnp.cumsum((x[..., 1:] - x[..., :-1]) * (y[..., 1:] + y[..., :-1]) / 2, axis=-1), -1, dim0)


def _gradient(x, dim, edge_order, spacing):
    """torch.gradient with a uniform spacing: central differences inside, one-sided (order 1 or 2) at the ends."""
    m = jnp.moveaxis(x, dim, -1)
    h = spacing
    inner = (m[..., 2:] - m[..., :-2]) / (2 * h)
    if edge_order == 1:
        first = (m[..., 1:2] - m[..., 0:1]) / h
        last = (m[..., -1:] - m[..., -2:-1]) / h
    else:
        first = (-3 * m[..., 0:1] + 4 * m[..., 1:2] - m[..., 2:3]) / (2 * h)
        last = (3 * m[..., -1:] - 4 * m[..., -2:-1] + m[..., -3:-2]) / (2 * h)
    return jnp.moveaxis(jnp.concatenate([first, inner, last], axis=-1), -1, dim)


def _cov(x, correction, fweights=None):
    return jnp.cov(x, ddof=correction, fweights=None if fweights is None else np.array(fweights))


def _cdist(x, y, p):
    p = float(p)
    diff = jnp.abs(x[..., :, None, :] - y[..., None, :, :])
    if p == 0.0:
        return jnp.sum(diff != 0, axis=-1).astype(x.dtype)
    if p == math.inf:
        return jnp.max(diff, axis=-1)
    if p == 1.0:
        return jnp.sum(diff, axis=-1)
    return jnp.sum(diff**p, axis=-1) ** (1.0 / p)


def _block_diag(x, y):
    top = jnp.concatenate([x, jnp.zeros((x.shape[0], y.shape[1]))], axis=1)
    bottom = jnp.concatenate([jnp.zeros((y.shape[0], x.shape[1])), y], axis=1)
    return jnp.concatenate([top, bottom], axis=0)


def _diag_embed(x, offset, dim1, dim2):
    n = x.shape[-1] + abs(offset)
    steps = np.arange(x.shape[-1])
    square = jnp.zeros((*x.shape[:-1], n, n)).at[..., steps + max(-offset, 0), steps + max(offset, 0)].set(x)
    rank = x.ndim + 1
    return jnp.moveaxis(square, (-2, -1), (dim1 % rank, dim2 % rank))


def _weighted_grid(x, y, indexing):
    a, b = jnp.meshgrid(x, y, indexing=indexing)
    return a + 2 * b


def _cartesian_prod(x, y):
    return jnp.stack([jnp.repeat(x, y.shape[0]), jnp.tile(y, x.shape[0])], axis=1)


def _combos(x, r, with_replacement):
    return x[np.array(_combinations(x.shape[0], r, with_replacement), dtype=np.int64)]


def _column_stack(x, y):
    return jnp.column_stack([x, y])


def _unflatten(x, dim, sizes):
    d = dim % x.ndim
    known = math.prod(s for s in sizes if s != -1)
    full = tuple(x.shape[d] // known if s == -1 else s for s in sizes)
    return jnp.reshape(x, x.shape[:d] + full + x.shape[d + 1 :])


def _renorm(x, p, dim, maxnorm):
    """Slices along dim whose p-norm exceeds maxnorm scaled to maxnorm / (norm + 1e-7), as torch computes it;
    the norm is taken where it is positive only (a 0 slice is left alone, without sqrt's infinite slope)."""
    axes = tuple(i for i in range(x.ndim) if i != dim % x.ndim)
    # An even p as an integer power of x: |x| ** 2.0 differentiates as 2·sign(x)² (0 at x = 0, not 2), and its
    # third derivative as 0·|x|^-1 (NaN): a third-order check at a 0 element had no reference.
    even = float(p).is_integer() and int(p) % 2 == 0
    total = jnp.sum(x ** int(p) if even else jnp.abs(x) ** p, axis=axes, keepdims=True)
    positive = total > 0
    norm = jnp.where(positive, jnp.where(positive, total, 1.0) ** (1.0 / p), 0.0)
    factor = jnp.where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
    return x * factor


def _repeat_interleave(x, dim, repeats):
    return jnp.repeat(x, np.array(repeats, dtype=np.int64), axis=dim, total_repeat_length=sum(repeats))


def _quantile(x, q, dim, keepdim, interpolation):
    return jnp.quantile(x, q, axis=dim, keepdims=keepdim, method=interpolation)


def _constant_pad(x, pad, value):
    config = [(0, 0, 0)] * x.ndim
    for j in range(len(pad) // 2):
        config[x.ndim - 1 - j] = (pad[2 * j], pad[2 * j + 1], 0)
    return jax.lax.pad(x, jnp.asarray(value, x.dtype), config)


def _cross(x, y, dim):
    return jnp.moveaxis(jnp.cross(jnp.moveaxis(x, dim, -1), jnp.moveaxis(y, dim, -1)), -1, dim)


BETA_ALPHA = {"beta": st.sampled_from((1.0, 0.0, -0.5)), "alpha": st.sampled_from((1.0, 2.5))}
DX = {"dx": st.sampled_from((1.0, 0.5))}
Q = {"q": st.sampled_from((0.5, 0.25, 0.9, 0.0, 1.0)), "interpolation": st.sampled_from(("linear", "lower", "higher", "midpoint", "nearest"))}  # fmt: skip
CDIST_P = st.sampled_from((2.0, 1.0, 3.0, "inf", 0.0, 0.5))
_WEIGHTED = "sum((i + 1) * t for i, t in enumerate({call}))"

OPS = [
    op(
        "addmm",
        "torch.addmm({x}, {y}, {z}, beta={beta}, alpha={alpha})",
        _addmm,
        rule=AddProduct(kind="mm"),
        params=BETA_ALPHA,
        variants=("{x}.addmm({y}, {z}, beta={beta}, alpha={alpha})",),
        notes="beta = 0 ignores the input (its gradient is 0)",
    ),
    op(
        "addmm_default",
        "torch.addmm({x}, {y}, {z})",
        lambda x, y, z: x + y @ z,
        rule=AddProduct(kind="mm"),
        notes="beta = alpha = 1: the form TorchScript decomposes into mm and add (OpInfo addmm.decomposed)",
    ),
    op(
        "addmv",
        "torch.addmv({x}, {y}, {z}, beta={beta}, alpha={alpha})",
        _addmm,
        rule=AddProduct(kind="mv"),
        params=BETA_ALPHA,
    ),
    op(
        "addr",
        "torch.addr({x}, {y}, {z}, beta={beta}, alpha={alpha})",
        _addr,
        rule=AddProduct(kind="r"),
        params=BETA_ALPHA,
    ),
    op(
        "addbmm",
        "torch.addbmm({x}, {y}, {z}, beta={beta}, alpha={alpha})",
        _addbmm,
        rule=AddProduct(kind="bmm"),
        params=BETA_ALPHA,
    ),
    op(
        "baddbmm",
        "torch.baddbmm({x}, {y}, {z}, beta={beta}, alpha={alpha})",
        _addmm,
        rule=AddProduct(kind="baddbmm"),
        params=BETA_ALPHA,
    ),
    op("cross_dim", "torch.cross({x}, {y}, dim={dim})", _cross, rule=CrossDim()),
    op("diff", "torch.diff({x}, n={n}, dim={dim})", _diff, rule=Lengthen(choices=(1, 2), param="n")),
    op(
        "diff_append",
        "torch.diff({x}, n={n}, dim={dim}, append={y})",
        _diff_append,
        rule=Lengthen(choices=(1, 2), param="n", extra=True),
    ),
    op(
        "trapezoid",
        "torch.trapezoid({x}, dx={dx}, dim={dim})",
        _trapezoid,
        rule=ReduceDim(keepdim=False),
        params=DX,
        variants=("torch.trapz({x}, dx={dx}, dim={dim})",),
    ),
    op(
        "trapezoid_x",
        "torch.trapezoid({x}, {y}, dim={dim})",
        _trapezoid_x,
        rule=ReduceDimPair(),
        variants=("torch.trapz({x}, {y}, dim={dim})",),
        notes="y values first, then the sample points (torch.trapezoid(y, x)); both differentiable",
    ),
    op(
        "cumulative_trapezoid",
        "torch.cumulative_trapezoid({x}, dx={dx}, dim={dim})",
        _cumulative_trapezoid,
        rule=Lengthen(),
        params=DX,
    ),
    op(
        "cumulative_trapezoid_x",
        "torch.cumulative_trapezoid({x}, {y}, dim={dim})",
        _cumulative_trapezoid_x,
        rule=Lengthen(pair=True),
    ),
    op(
        "gradient",
        "torch.gradient({x}, spacing={spacing}, dim={dim}, edge_order={edge_order})[0]",
        _gradient,
        rule=Spaced(),
        params={"spacing": st.sampled_from((1.0, 0.5))},
    ),
    op(
        "cov",
        "torch.cov({x}, correction={correction})",
        _cov,
        rule=Covariance(),
        params={"correction": st.sampled_from((1, 0))},
    ),
    op(
        "cov_fweights",
        "torch.cov({x}, correction={correction}, fweights=torch.tensor({fweights}))",
        _cov,
        rule=Covariance(weights=True),
        params={"correction": st.sampled_from((1, 0))},
        notes="integer frequency weights drawn per observation, 0 included",
    ),
    op(
        "corrcoef",
        "torch.corrcoef({x})",
        lambda x: jnp.corrcoef(x),
        rule=Covariance(min_obs=3),
        near_kink=_constant_row,
        notes="three observations or more: with two every coefficient is ±1, where both clip to [-1, 1]",
    ),
    op(
        "cdist",
        "torch.cdist({x}, {y}, p=float({p}))",
        _cdist,
        rule=Distances(),
        params={"p": CDIST_P},
        near_kink=_cdist_kink,
        forward_ad_in=NO_VERSION,
        double_backward_in=NO_VERSION,
        notes="p = 0 counts differing coordinates (gradient 0); p = 0.5 is not a norm but torch defines it.  "
        "No forward mode (_cdist_forward) and no double backward (_cdist_backward has no derivative)",
    ),
    op(
        "cdist_mm",
        "torch.cdist({x}, {y}, compute_mode='use_mm_for_euclid_dist')",
        lambda x, y: _cdist(x, y, 2.0),
        rule=Distances(),
        near_kink=lambda inputs, params, margin: _cdist_kink(inputs, {"p": 2.0}, margin),
        forward_ad_in=NO_VERSION,
        notes="p = 2 through the matrix-product formula (sqrt(|x|² + |y|² - 2 x·y), clamped at 1e-30), "
        "twice differentiable; no forward mode (_euclidean_dist)",
    ),
    op("block_diag", "torch.block_diag({x}, {y})", _block_diag, rule=BlockDiag()),
    op("diag_embed", "torch.diag_embed({x}, offset={offset}, dim1={dim1}, dim2={dim2})", _diag_embed, rule=DiagEmbed()),
    op("diagflat", "torch.diagflat({x}, offset={offset})", lambda x, offset: jnp.diagflat(x, offset), rule=DiagFlat()),
    op(
        "broadcast_tensors",
        "(lambda a, b: a * b)(*torch.broadcast_tensors({x}, {y}))",
        lambda x, y: x * y,
        rule=Broadcast(),
        notes="the two broadcast outputs multiplied: each input's gradient sums over what it was broadcast to",
    ),
    op(
        "meshgrid",
        _WEIGHTED.format(call="torch.meshgrid([{x}, {y}], indexing={indexing})"),
        _weighted_grid,
        rule=Grid(),
        variants=(_WEIGHTED.format(call="torch.meshgrid({x}, {y}, indexing={indexing})"),),
    ),
    op("cartesian_prod", "torch.cartesian_prod({x}, {y})", _cartesian_prod, rule=CartesianProd()),
    op(
        "combinations",
        "torch.combinations({x}, r={r}, with_replacement={with_replacement})",
        _combos,
        rule=Combinations(),
    ),
    op("hstack", "torch.hstack([{x}, {y}])", lambda x, y: jnp.hstack([x, y]), rule=StackLike(kind="hstack")),
    op(
        "vstack",
        "torch.vstack([{x}, {y}])",
        lambda x, y: jnp.vstack([x, y]),
        rule=StackLike(kind="vstack"),
        variants=("torch.row_stack([{x}, {y}])",),
    ),
    op("dstack", "torch.dstack([{x}, {y}])", lambda x, y: jnp.dstack([x, y]), rule=StackLike(kind="dstack")),
    op("column_stack", "torch.column_stack([{x}, {y}])", _column_stack, rule=StackLike(kind="column_stack")),
    op("rot90", "torch.rot90({x}, {k}, {dims})", lambda x, k, dims: jnp.rot90(x, k, axes=dims), rule=Rot90()),
    op(
        "unflatten",
        "torch.unflatten({x}, {dim}, {sizes})",
        _unflatten,
        rule=Unflatten(),
        variants=("{x}.unflatten({dim}, {sizes})",),
    ),
    op(
        "renorm",
        "torch.renorm({x}, p={p}, dim={dim}, maxnorm={maxnorm})",
        _renorm,
        rule=AlongDim(min_rank=2),
        params={"p": st.sampled_from((2.0, 1.0, 3.0)), "maxnorm": st.sampled_from((1.0, 4.0))},
        near_kink=_renorm_kink,
    ),
    op(
        "repeat_interleave",
        "torch.repeat_interleave({x}, torch.tensor({repeats}), dim={dim})",
        _repeat_interleave,
        rule=RepeatInterleave(),
        variants=("{x}.repeat_interleave(torch.tensor({repeats}), dim={dim})",),
        notes="integer repeats drawn per slice, 0 included (a slice that is dropped gets gradient 0)",
    ),
    op(
        "quantile",
        "torch.quantile({x}, {q}, dim={dim}, keepdim={keepdim}, interpolation={interpolation})",
        _quantile,
        rule=ReduceDim(),
        params=Q,
        near_kink=_quantile_tie,
        variants=("torch.nanquantile({x}, {q}, dim={dim}, keepdim={keepdim}, interpolation={interpolation})",),
        notes="nanquantile: the same function where no element is NaN (the variant); q's interpolation points "
        "are not kinks in x: the result is linear in the sorted elements, whose order changes only at ties",
    ),
    op(
        "constant_pad_nd",
        "torch.constant_pad_nd({x}, {pad}, {value})",
        _constant_pad,
        rule=ConstantPad(),
        params={"value": st.sampled_from((0.0, 1.5))},
        notes="negative pads crop",
    ),
]
