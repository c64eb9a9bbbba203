"""Shape rules: how many tensors an op takes and which input shapes give a wanted output shape.

Trees are built top-down and typed by shape: to make a node of shape ``out`` we
ask an op's rule ``produces(out)`` and then ``draw(draw, out)`` for its input
shapes and shape parameters (dim, keepdim, indices).  Every draw is labelled.
Shapes stay small (rank ≤ 3, sides ≤ 4) so the JAX oracle's compile cache is reused.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from autograd_conformance.registry.spec import Call, Raw, Shape, make_call

Draw = Callable[[st.SearchStrategy[Any], str], Any]  # draw(strategy, label)
MAX_SIDE = 4
MAX_RANK = 3


def shapes(min_dims: int = 0, max_dims: int = MAX_RANK, min_side: int = 1, max_side: int = MAX_SIDE):
    from hypothesis.extra import numpy as hnp

    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


@dataclass(frozen=True)
class ShapeRule:
    arity: int = 1
    elementwise: bool = False
    min_rank: int = 0
    max_rank: int = MAX_RANK

    def produces(self, out: Shape) -> bool:
        return self.min_rank <= len(out) <= self.max_rank

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        return shapes(self.min_rank, self.max_rank).filter(self.produces)

    def draw(self, draw: Draw, out: Shape) -> Call:
        raise NotImplementedError


@dataclass(frozen=True)
class Same(ShapeRule):
    """Elementwise: every input has the output's shape."""

    elementwise: bool = True

    def draw(self, draw: Draw, out: Shape) -> Call:
        return make_call([out] * self.arity)


@dataclass(frozen=True)
class Broadcast(ShapeRule):
    """Elementwise with broadcasting: each input drops leading dims or sets dims to 1; together they give ``out``."""

    arity: int = 2
    elementwise: bool = True

    def draw(self, draw: Draw, out: Shape) -> Call:
        names = "xyzw"
        free = [_shrink_for_broadcast(draw, out, f"broadcast: {names[k]}") for k in range(self.arity - 1)]
        padded = [(1,) * (len(out) - len(f)) + f for f in free]
        # The last input keeps every dim no other input kept, so together they give `out`.
        last = tuple(
            o
            if all(p[i] != o for p in padded)
            else draw(st.sampled_from([o, 1]), f"broadcast: {names[self.arity - 1]} dim {i}")
            for i, o in enumerate(out)
        )
        # The last input may drop leading dims only if another input keeps the full rank, or the result shrinks.
        max_drop = _leading_ones(last) if any(len(f) == len(out) for f in free) else 0
        drop = draw(st.integers(0, max_drop), f"broadcast: {names[self.arity - 1]} drops leading dims")
        return make_call([*free, last[drop:]])


def _leading_ones(shape: Shape) -> int:
    n = 0
    for s in shape:
        if s != 1:
            break
        n += 1
    return n


def _shrink_for_broadcast(draw: Draw, out: Shape, label: str) -> Shape:
    keep = tuple(draw(st.sampled_from([o, 1]), f"{label} dim {i}") for i, o in enumerate(out))
    drop = draw(st.integers(0, len(keep)), f"{label} drops leading dims")
    return keep[drop:]


@dataclass(frozen=True)
class ReduceDim(ShapeRule):
    """A reduction over one dim, with keepdim.  ``dim`` is drawn positive or negative."""

    max_rank: int = MAX_RANK - 1
    keepdim: bool = True  # whether the op has a keepdim argument
    min_size: int = 1  # e.g. 2 for std/var with correction=1

    def draw(self, draw: Draw, out: Shape) -> Call:
        size = draw(st.integers(self.min_size, MAX_SIDE), "reduced dim size")
        ones = [i for i, s in enumerate(out) if s == 1]
        keepdim = self.keepdim and bool(ones) and draw(st.booleans(), "keepdim")
        if keepdim:
            d = draw(st.sampled_from(ones), "dim")
            shape = out[:d] + (size,) + out[d + 1 :]
        else:
            d = draw(st.integers(0, len(out)), "dim")
            shape = out[:d] + (size,) + out[d:]
        dim = draw(st.sampled_from([d, d - len(shape)]), "dim sign")
        return make_call([shape], dim=dim, keepdim=keepdim) if self.keepdim else make_call([shape], dim=dim)


@dataclass(frozen=True)
class ReduceAll(ShapeRule):
    """A full reduction to a 0-d tensor."""

    max_rank: int = 0
    min_numel: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        shape = draw(shapes(0, MAX_RANK).filter(lambda s: math.prod(s) >= self.min_numel), "reduced shape")
        return make_call([shape])


@dataclass(frozen=True)
class AlongDim(ShapeRule):
    """Same shape, computed along one dim (cumsum, softmax, flip ...)."""

    min_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        d = draw(st.integers(0, len(out) - 1), "dim")
        return make_call([out], dim=draw(st.sampled_from([d, d - len(out)]), "dim sign"))


@dataclass(frozen=True)
class Roll(ShapeRule):
    min_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        d = draw(st.integers(0, len(out) - 1), "dims")
        return make_call([out], dims=d, shifts=draw(st.integers(-3, 3), "shifts"))


@dataclass(frozen=True)
class Transpose(ShapeRule):
    min_rank: int = 2

    def draw(self, draw: Draw, out: Shape) -> Call:
        d0 = draw(st.integers(0, len(out) - 1), "dim0")
        d1 = draw(st.integers(0, len(out) - 1), "dim1")
        shape = list(out)
        shape[d0], shape[d1] = shape[d1], shape[d0]
        return make_call([tuple(shape)], dim0=d0, dim1=d1)


@dataclass(frozen=True)
class MatrixTranspose(ShapeRule):
    """``x.T`` / ``x.mT``: the last two dims swap."""

    min_rank: int = 2
    max_rank: int = 2

    def draw(self, draw: Draw, out: Shape) -> Call:
        return make_call([out[:-2] + (out[-1], out[-2])])


@dataclass(frozen=True)
class Permute(ShapeRule):
    min_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        dims = draw(st.permutations(range(len(out))), "dims")
        shape = [0] * len(out)
        for i, d in enumerate(dims):
            shape[d] = out[i]
        return make_call([tuple(shape)], dims=tuple(dims))


@dataclass(frozen=True)
class Reshape(ShapeRule):
    def draw(self, draw: Draw, out: Shape) -> Call:
        numel = math.prod(out)
        shape = draw(shapes(0, MAX_RANK, max_side=max(1, numel)).filter(lambda s: math.prod(s) == numel), "input shape")
        return make_call([shape], shape=tuple(out))


@dataclass(frozen=True)
class Expand(ShapeRule):
    min_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        return make_call([_shrink_for_broadcast(draw, out, "expand: x")], size=tuple(out))


@dataclass(frozen=True)
class Squeeze(ShapeRule):
    """``squeeze(dim)``: the input has a size-1 dim the output lacks."""

    max_rank: int = MAX_RANK - 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        d = draw(st.integers(0, len(out)), "dim")
        return make_call([out[:d] + (1,) + out[d:]], dim=d)


@dataclass(frozen=True)
class Unsqueeze(ShapeRule):
    def produces(self, out: Shape) -> bool:
        return 1 in out

    def draw(self, draw: Draw, out: Shape) -> Call:
        d = draw(st.sampled_from([i for i, s in enumerate(out) if s == 1]), "dim")
        return make_call([out[:d] + out[d + 1 :]], dim=d)


@dataclass(frozen=True)
class Slice(ShapeRule):
    """Basic indexing ``x[a:b:s]`` along one dim; the input is larger than the output there."""

    min_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        d = draw(st.integers(0, len(out) - 1), "dim")
        start = draw(st.integers(0, 2), "start")
        step = draw(st.integers(1, 2), "step")
        stop = start + (out[d] - 1) * step + 1
        size = stop + draw(st.integers(0, 1), "extra")
        shape = out[:d] + (size,) + out[d + 1 :]
        index = ", ".join([":"] * d + [f"{start}:{stop}:{step}"])
        return make_call([shape], index=Raw(index), dim=d, start=start, stop=stop, step=step)


@dataclass(frozen=True)
class Narrow(ShapeRule):
    min_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        d = draw(st.integers(0, len(out) - 1), "dim")
        start = draw(st.integers(0, 2), "start")
        shape = out[:d] + (start + out[d] + draw(st.integers(0, 1), "extra"),) + out[d + 1 :]
        return make_call([shape], dim=d, start=start, length=out[d])


@dataclass(frozen=True)
class IndexSelect(ShapeRule):
    min_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        d = draw(st.integers(0, len(out) - 1), "dim")
        size = draw(st.integers(1, MAX_SIDE), "source size")
        index = draw(st.lists(st.integers(0, size - 1), min_size=out[d], max_size=out[d]), "index")
        return make_call([out[:d] + (size,) + out[d + 1 :]], dim=d, index=tuple(index))


@dataclass(frozen=True)
class Gather(ShapeRule):
    min_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        import numpy as np
        from hypothesis.extra import numpy as hnp

        d = draw(st.integers(0, len(out) - 1), "dim")
        size = draw(st.integers(1, MAX_SIDE), "source size")
        index = draw(hnp.arrays(np.int64, out, elements=st.integers(0, size - 1)), "index")
        return make_call([out[:d] + (size,) + out[d + 1 :]], dim=d, index=_nested(index.tolist()))


def _nested(value: Any) -> Any:
    return tuple(_nested(v) for v in value) if isinstance(value, list) else value


@dataclass(frozen=True)
class Cat(ShapeRule):
    arity: int = 2
    min_rank: int = 1

    def produces(self, out: Shape) -> bool:
        return super().produces(out) and max(out) >= 2

    def draw(self, draw: Draw, out: Shape) -> Call:
        d = draw(st.sampled_from([i for i, s in enumerate(out) if s >= 2]), "dim")
        first = draw(st.integers(1, out[d] - 1), "split")
        return make_call([out[:d] + (first,) + out[d + 1 :], out[:d] + (out[d] - first,) + out[d + 1 :]], dim=d)


@dataclass(frozen=True)
class Stack(ShapeRule):
    arity: int = 2
    min_rank: int = 1

    def produces(self, out: Shape) -> bool:
        return super().produces(out) and 2 in out

    def draw(self, draw: Draw, out: Shape) -> Call:
        d = draw(st.sampled_from([i for i, s in enumerate(out) if s == 2]), "dim")
        return make_call([out[:d] + out[d + 1 :]] * 2, dim=d)


@dataclass(frozen=True)
class MatMul(ShapeRule):
    """``(..., m, k) @ (..., k, n)``; with ``batch`` a leading batch dim (bmm)."""

    arity: int = 2
    min_rank: int = 2
    max_rank: int = 2
    batch: bool = False

    def __post_init__(self) -> None:
        if self.batch:
            object.__setattr__(self, "min_rank", 3)
            object.__setattr__(self, "max_rank", 3)

    def draw(self, draw: Draw, out: Shape) -> Call:
        k = draw(st.integers(1, MAX_SIDE), "inner size k")
        *b, m, n = out
        return make_call([(*b, m, k), (*b, k, n)])


@dataclass(frozen=True)
class MatVec(ShapeRule):
    arity: int = 2
    min_rank: int = 1
    max_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        k = draw(st.integers(1, MAX_SIDE), "inner size k")
        return make_call([(out[0], k), (k,)])


@dataclass(frozen=True)
class Inner(ShapeRule):
    """Two vectors or matrices of one shape to a 0-d result (dot, einsum 'ij,ij->')."""

    arity: int = 2
    max_rank: int = 0
    in_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        shape = draw(shapes(self.in_rank, self.in_rank), "operand shape")
        return make_call([shape, shape])


@dataclass(frozen=True)
class SquareTo(ShapeRule):
    """A square ``n×n`` matrix in; the output is 0-d (det), ``n×n`` (inv) or ``(n,)`` (eigvalsh)."""

    out_rank: int = 2
    max_n: int = 4

    def produces(self, out: Shape) -> bool:
        if len(out) != self.out_rank:
            return False
        return self.out_rank == 0 or (out[0] <= self.max_n and (self.out_rank == 1 or out[0] == out[1]))

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        n = st.integers(1, self.max_n)
        return n.map(lambda k: () if self.out_rank == 0 else (k,) * self.out_rank)

    def draw(self, draw: Draw, out: Shape) -> Call:
        n = out[0] if out else draw(st.integers(1, self.max_n), "matrix size n")
        return make_call([(n, n)], n=n)


@dataclass(frozen=True)
class Solve(ShapeRule):
    """``solve(A, B)``: A is ``n×n``, B and the result are ``n×k``."""

    arity: int = 2
    min_rank: int = 2
    max_rank: int = 2

    def draw(self, draw: Draw, out: Shape) -> Call:
        n = out[0]
        return make_call([(n, n), out], n=n)


@dataclass(frozen=True)
class MatrixTo(ShapeRule):
    """Any ``m×n`` matrix in: to 0-d (trace), ``(min(m,n),)`` (svdvals, diag) or ``m×n`` (tril)."""

    out_rank: int = 0

    def produces(self, out: Shape) -> bool:
        return len(out) == self.out_rank

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        return shapes(self.out_rank, self.out_rank)

    def draw(self, draw: Draw, out: Shape) -> Call:
        if self.out_rank == 2:
            return make_call([out], diagonal=draw(st.integers(-1, 1), "diagonal"))
        m = draw(st.integers(1, MAX_SIDE), "rows m")
        n = draw(st.integers(1, MAX_SIDE), "cols n")
        if self.out_rank == 1:
            m = max(m, out[0])
            n = out[0]
        return make_call([(m, n)])


@dataclass(frozen=True)
class VectorToDiag(ShapeRule):
    """``torch.diag(v)``: a vector in, a square matrix out."""

    min_rank: int = 2
    max_rank: int = 2

    def produces(self, out: Shape) -> bool:
        return len(out) == 2 and out[0] == out[1]

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        return st.integers(1, MAX_SIDE).map(lambda n: (n, n))

    def draw(self, draw: Draw, out: Shape) -> Call:
        return make_call([(out[0],)])


@dataclass(frozen=True)
class ClassTargets(ShapeRule):
    """A loss over ``(batch, classes)`` logits and integer class targets, reduced to 0-d."""

    max_rank: int = 0

    def draw(self, draw: Draw, out: Shape) -> Call:
        batch = draw(st.integers(1, MAX_SIDE), "batch")
        classes = draw(st.integers(2, MAX_SIDE), "classes")
        target = draw(st.lists(st.integers(0, classes - 1), min_size=batch, max_size=batch), "target classes")
        return make_call([(batch, classes)], target=tuple(target))


@dataclass(frozen=True)
class PairLoss(ShapeRule):
    """A loss of two same-shaped tensors (input, target), reduced to 0-d."""

    arity: int = 2
    max_rank: int = 0

    def draw(self, draw: Draw, out: Shape) -> Call:
        shape = draw(shapes(1, MAX_RANK), "input shape")
        return make_call([shape] * self.arity)


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@dataclass(frozen=True)
class Halve(ShapeRule):
    """``glu(x, dim)``: the input is twice the output's size along ``dim``."""

    min_rank: int = 1

    def produces(self, out: Shape) -> bool:
        return super().produces(out) and any(2 * s <= MAX_SIDE for s in out)

    def draw(self, draw: Draw, out: Shape) -> Call:
        d = draw(st.sampled_from([i for i, s in enumerate(out) if 2 * s <= MAX_SIDE]), "dim")
        shape = out[:d] + (2 * out[d],) + out[d + 1 :]
        return make_call([shape], dim=draw(st.sampled_from([d, d - len(out)]), "dim sign"))


@dataclass(frozen=True)
class MoveDim(ShapeRule):
    """``movedim(x, source, destination)``: one dim moves, the others keep their order."""

    min_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        dst = draw(st.integers(0, len(out) - 1), "destination")
        src = draw(st.integers(0, len(out) - 1), "source")
        rest = list(out[:dst] + out[dst + 1 :])
        shape = tuple(rest[:src] + [out[dst]] + rest[src:])
        return make_call([shape], source=src, destination=dst)


@dataclass(frozen=True)
class Repeat(ShapeRule):
    """``x.repeat(r)`` / ``torch.tile(x, r)``: each output side is an input side times its repeat count."""

    min_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        reps = tuple(draw(st.sampled_from(_divisors(s)), f"repeats dim {i}") for i, s in enumerate(out))
        return make_call([tuple(s // r for s, r in zip(out, reps))], repeats=reps)


@dataclass(frozen=True)
class Select(ShapeRule):
    """``x.select(dim, index)`` / integer indexing: the input has one more dim than the output."""

    max_rank: int = MAX_RANK - 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        d = draw(st.integers(0, len(out)), "dim")
        size = draw(st.integers(1, MAX_SIDE), "selected dim size")
        index = draw(st.integers(-size, size - 1), "index")
        return make_call([out[:d] + (size,) + out[d:]], dim=d, index=index)


@dataclass(frozen=True)
class Outer(ShapeRule):
    """``outer(u, v)``: vectors of sizes m and n to an ``m×n`` matrix."""

    arity: int = 2
    min_rank: int = 2
    max_rank: int = 2

    def draw(self, draw: Draw, out: Shape) -> Call:
        return make_call([(out[0],), (out[1],)])


@dataclass(frozen=True)
class Kron(ShapeRule):
    """``kron(a, b)``: matrices whose sides multiply to the output's."""

    arity: int = 2
    min_rank: int = 2
    max_rank: int = 2

    def draw(self, draw: Draw, out: Shape) -> Call:
        a = tuple(draw(st.sampled_from(_divisors(s)), f"x side {i}") for i, s in enumerate(out))
        return make_call([a, tuple(s // f for s, f in zip(out, a))])


@dataclass(frozen=True)
class Cross(ShapeRule):
    """``linalg.cross(x, y)``: two same-shaped tensors whose last dim is 3."""

    arity: int = 2
    min_rank: int = 1
    max_rank: int = 2

    def produces(self, out: Shape) -> bool:
        return super().produces(out) and out[-1] == 3

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        return shapes(self.min_rank - 1, self.max_rank - 1).map(lambda s: s + (3,))

    def draw(self, draw: Draw, out: Shape) -> Call:
        return make_call([out, out])


@dataclass(frozen=True)
class ReduceDimPair(ShapeRule):
    """Two same-shaped tensors reduced over one dim, without keepdim (cosine_similarity, pairwise_distance)."""

    arity: int = 2
    max_rank: int = MAX_RANK - 1
    last_dim: bool = False  # the op always reduces the last dim (pairwise_distance)

    def draw(self, draw: Draw, out: Shape) -> Call:
        size = draw(st.integers(1, MAX_SIDE), "reduced dim size")
        d = len(out) if self.last_dim else draw(st.integers(0, len(out)), "dim")
        shape = out[:d] + (size,) + out[d:]
        return make_call([shape, shape], dim=draw(st.sampled_from([d, d - len(shape)]), "dim sign"))
