"""Unpooling and the backward formulas torch exposes as ops: ``max_unpool1d/2d/3d``, ``linear_cross_entropy`` (its
reference path and the chunked one), ``_softmax_backward_data`` and ``native_dropout_backward``.

**Integer and boolean inputs are operands.**  max_unpool's indices, linear_cross_entropy's class targets and
native_dropout_backward's mask are drawn by this module's shape rules and reach the JAX reference as traced
arguments (``Operand``), so one program per op, shape and static parameters serves every drawn index, target and
mask; the templates render them as ``torch.tensor(...)``.

**max_unpool's indices are distinct within each plane.**  torch writes each input element to the flat position
its index names inside its (batch, channel) plane; where two indices of a plane coincide, one writer wins (which
one is unspecified), while the backward gathers the output's gradient to every writer, so the losing writer gets
a gradient for a value it never wrote and no derivative check can pass there (torch's own OpInfo draws its
``.grad`` samples with unique indices for this reason, and skips gradient tests on the others).  The rule draws
each plane's indices without repetition, anywhere in the output plane (torch checks only that they lie inside
it, not inside the pooling window): every call is the ``.grad`` variant's kind of sample.  The reference is
``zeros(...).at[plane, index].set(x)``.

**linear_cross_entropy** (torch >= 2.13) is cross_entropy of ``x @ wᵀ + b``.  ``options=None`` runs the reference
path; ``options=LinearCrossEntropyOptions(batch_chunk_size=...)`` the chunked path, a ``torch.library`` custom op
whose forward precomputes the gradients (mean and sum) or whose backward recomputes them (none).  torch's OpInfo
declares the chunked path without forward mode and without double backward; the cells here still run them,
because torch does not refuse either: it returns a zero tangent and a gradient without a graph (baselined).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd_conformance.registry.shapes import Draw, ShapeRule
from autograd_conformance.registry.spec import Call, Operand, Shape, declare_family, make_call
from autograd_conformance.versions import NO_VERSION, Versions

op = declare_family("unpooling")

# --- max_unpool -------------------------------------------------------------------------------------------


def _unpool_out(spatial: Shape, kernel_size: Shape, stride: Shape, padding: Shape) -> Shape:
    """torch's default output size: (in - 1)·stride - 2·padding + kernel."""
    return tuple((s - 1) * st_ - 2 * p + k for s, k, st_, p in zip(spatial, kernel_size, stride, padding))


@dataclass(frozen=True)
class Unpool(ShapeRule):
    """``max_unpool{n}d(x, indices, kernel_size, stride, padding, output_size)``: a small fixed table of
    (input shape, kernel, stride, padding, output_size) rows, few programs; per row, each (batch, channel) plane's
    indices drawn distinct from range(prod(output plane))."""

    rows: tuple[tuple[Shape, Shape, Shape, Shape, Shape | None], ...] = ()
    min_rank: int = 2
    max_rank: int = 5

    def out_of(self, row) -> Shape:
        x, k, s, p, size = row
        n = len(k)
        return tuple(x[:-n]) + tuple(size or _unpool_out(x[-n:], k, s, p))

    def produces(self, out: Shape) -> bool:
        return tuple(out) in {self.out_of(r) for r in self.rows}

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        return st.sampled_from(sorted({self.out_of(r) for r in self.rows}))

    def draw(self, draw: Draw, out: Shape) -> Call:
        rows = [r for r in self.rows if self.out_of(r) == tuple(out)]
        row = rows[0] if len(rows) == 1 else draw(st.sampled_from(rows), "table row")
        x, k, s, p, size = row
        n = len(k)
        plane, positions = math.prod(x[-n:]), math.prod(out[-n:])
        planes = []
        for i in range(math.prod(x[:-n])):
            picked = draw(
                st.lists(st.integers(0, positions - 1), min_size=plane, max_size=plane, unique=True),
                f"indices of plane {i} (distinct)",
            )
            planes.append(picked)
        indices = np.array(planes, dtype=np.int64).reshape(x)
        return make_call(
            [x], kernel_size=k, stride=s, padding=p, output_size=size, distinct_indices=Operand(indices.tolist())
        )


def _max_unpool(x, kernel_size, stride, padding, output_size, distinct_indices):
    n = len(kernel_size)
    out_spatial = tuple(output_size or _unpool_out(x.shape[-n:], kernel_size, stride, padding))
    lead = x.shape[:-n]
    planes = math.prod(lead)
    idx = jnp.asarray(distinct_indices).reshape(planes, -1)
    flat = jnp.zeros((planes, math.prod(out_spatial)), dtype=x.dtype)
    flat = flat.at[jnp.arange(planes)[:, None], idx].set(x.reshape(planes, -1))
    return flat.reshape(*lead, *out_spatial)


_UNPOOL = "F.max_unpool{n}d({{x}}, torch.tensor({{distinct_indices}}), {{kernel_size}}, {{stride}}, {{padding}}, {{output_size}})"
_UNPOOL_NOTES = (
    "indices distinct within each plane (with a repeated index one writer wins, unspecified which, and the "
    "backward still gives every writer a gradient: no derivative check holds there; torch's .grad OpInfo "
    "draws unique indices for that reason), anywhere in the output plane; linear in x"
)

UNPOOL = [
    op(
        "max_unpool1d",
        _UNPOOL.format(n=1),
        _max_unpool,
        rule=Unpool(
            rows=(
                ((1, 2, 3), (2,), (2,), (0,), None),
                ((2, 1, 3), (3,), (2,), (1,), (6,)),
                ((2, 3), (2,), (1,), (0,), None),  # unbatched (C, L)
            )
        ),
        in_trees=False,
        notes=_UNPOOL_NOTES,
    ),
    op(
        "max_unpool2d",
        _UNPOOL.format(n=2),
        _max_unpool,
        rule=Unpool(
            rows=(
                ((1, 1, 2, 2), (2, 2), (2, 2), (0, 0), None),
                ((1, 2, 2, 3), (2, 3), (2, 1), (0, 1), (5, 3)),
            )
        ),
        in_trees=False,
        notes=_UNPOOL_NOTES,
    ),
    op(
        "max_unpool3d",
        _UNPOOL.format(n=3),
        _max_unpool,
        rule=Unpool(rows=(((1, 1, 2, 2, 1), (2, 2, 2), (2, 2, 2), (0, 0, 0), None),)),
        in_trees=False,
        notes=_UNPOOL_NOTES,
    ),
]

# --- _softmax_backward_data and native_dropout_backward ---------------------------------------------------


@dataclass(frozen=True)
class TwoAlongDim(ShapeRule):
    """Two inputs of the output's shape and a dim (``_softmax_backward_data``'s grad_output and softmax input)."""

    arity: int = 2
    min_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        d = draw(st.integers(0, len(out) - 1), "dim")
        return make_call([out, out], dim=draw(st.sampled_from([d, d - len(out)]), "dim sign"))


@dataclass(frozen=True)
class Masked(ShapeRule):
    """One input of the output's shape and a boolean mask of that shape (an operand)."""

    min_rank: int = 1  # a 0-d mask would render as torch.tensor([b]), of shape (1,)

    def draw(self, draw: Draw, out: Shape) -> Call:
        mask = draw(hnp.arrays(np.bool_, out), "mask")
        return make_call([out], mask=Operand(mask.tolist()))


def _softmax_backward_data(g, z, dim):
    o = jax.nn.softmax(z, axis=dim)
    return o * (g - jnp.sum(g * o, axis=dim, keepdims=True))


def _native_dropout_backward(g, mask, scale):
    return g * jnp.asarray(mask, dtype=g.dtype) * scale


BACKWARDS = [
    op(
        "_softmax_backward_data",
        "torch._softmax_backward_data({x}, torch.softmax({y}, {dim}), {dim}, {x}.dtype)",
        _softmax_backward_data,
        rule=TwoAlongDim(),
        variants=("torch.ops.aten._softmax_backward_data({x}, torch.softmax({y}, {dim}), {dim}, {x}.dtype)",),
        notes="softmax's backward, output·(g - Σ g·output along dim), differentiated in grad_output (x) and, "
        "through a real softmax output softmax(y), in the output",
    ),
    op(
        "native_dropout_backward",
        "torch.ops.aten.native_dropout_backward.default({x}, torch.tensor({mask}), {scale})",
        _native_dropout_backward,
        rule=Masked(),
        params={"scale": st.sampled_from((2.0, 1.25))},
        forward_ad_in=NO_VERSION,  # "Trying to use forward AD with native_dropout_backward that does not support it"
        notes="grad_output·mask·scale with a drawn boolean mask; torch has no forward-mode formula for it "
        "(2.9.1, 2.13.0; its OpInfo says so too)",
    ),
]

# --- linear_cross_entropy ---------------------------------------------------------------------------------

_LCE_ROWS = ((3, 2, 4), (4, 3, 2))  # (batch N, in_features D, classes C): few shapes for the compile cache
_LCE_SINCE = Versions(since=(2, 13))  # F.linear_cross_entropy is not in torch 2.9.1


@dataclass(frozen=True)
class LinearTargets(ShapeRule):
    """``linear_cross_entropy(x, w[, b], target, weight, reduction, ignore_index)``: x (N, D), w (C, D), b (C,)
    with ``bias``; class targets (N,) and, half the time, class weights (C,) in [0.5, 2] (else none), both
    operands; ``reductions`` the ones the op takes (the output is 0-d, or (N,) for none).  With ignore_index 1
    the targets equal to 1 are ignored; under mean one target at least is not (else 0/0)."""

    bias: bool = False
    reductions: tuple[str, ...] = ("mean", "sum", "none")
    max_rank: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "arity", 3 if self.bias else 2)

    def _outs(self) -> list[Shape]:
        outs = [()] if {"mean", "sum"} & set(self.reductions) else []
        return outs + ([(n,) for n, _, _ in _LCE_ROWS] if "none" in self.reductions else [])

    def produces(self, out: Shape) -> bool:
        return tuple(out) in self._outs()

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        return st.sampled_from(self._outs())

    def draw(self, draw: Draw, out: Shape) -> Call:
        if out:
            reduction = "none"
            n, d, c = next(r for r in _LCE_ROWS if r[0] == out[0])
        else:
            reduction = draw(st.sampled_from([r for r in self.reductions if r != "none"]), "reduction")
            n, d, c = draw(st.sampled_from(_LCE_ROWS), "(N, D, C)")
        target = draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n), "target classes")
        ignore_index = draw(st.sampled_from((-100, 1)), "ignore_index")
        if reduction == "mean" and ignore_index == 1 and all(t == 1 for t in target):
            target[0] = 0  # every target ignored: mean is 0/0
        weighted = draw(st.booleans(), "class weights")
        weight = (
            draw(st.lists(st.sampled_from((0.5, 1.0, 1.5, 2.0)), min_size=c, max_size=c), "weights") if weighted else []
        )
        shapes = [(n, d), (c, d)] + ([(c,)] if self.bias else [])
        return make_call(
            shapes,
            target=Operand(target),
            weight=Operand(weight),
            reduction=reduction,
            ignore_index=ignore_index,
        )


def _linear_cross_entropy(x, w, b=None, *, target, weight, reduction, ignore_index, label_smoothing=0.0, chunk=None):
    """cross_entropy(x @ wᵀ + b, target) as torch computes it, class weights and label smoothing included
    (aten's cross_entropy_loss_label_smoothing: the smoothing term is normalized like the nll term)."""
    logits = x @ w.T + (0.0 if b is None else b)
    c = logits.shape[1]
    logp = jax.nn.log_softmax(logits, axis=1)
    t = jnp.asarray(target, dtype=jnp.int64)
    keep = t != ignore_index
    safe = jnp.where(keep, t, 0)
    wc = jnp.asarray(weight, dtype=x.dtype) if np.shape(weight)[0] else jnp.ones((c,), dtype=x.dtype)
    w_t = jnp.where(keep, wc[safe], 0.0)
    nll = -w_t * jnp.take_along_axis(logp, safe[:, None], axis=1)[:, 0]
    smooth = jnp.where(keep, -jnp.sum(logp * wc, axis=1), 0.0)
    if reduction == "none":
        nll_r, smooth_r = nll, smooth
    elif reduction == "sum":
        nll_r, smooth_r = jnp.sum(nll), jnp.sum(smooth)
    else:
        nll_r, smooth_r = jnp.sum(nll) / jnp.sum(w_t), jnp.sum(smooth) / jnp.sum(w_t)
    if label_smoothing == 0.0:
        return nll_r
    return (1.0 - label_smoothing) * nll_r + (label_smoothing / c) * smooth_r


_LCE = (
    "F.linear_cross_entropy({{x}}, {{y}}, torch.tensor({{target}}){bias}, "
    "weight=torch.tensor({{weight}}, dtype={{x}}.dtype) if {{weight}} else None, reduction={{reduction}}, "
    "ignore_index={{ignore_index}}{extra})"
)
_OPTIONS = ", options=torch.nn.LinearCrossEntropyOptions(batch_chunk_size={{chunk}}{retain})"
_CHUNKED_FINDING = (
    "; torch's OpInfo declares the chunked path without forward mode and double backward, but torch refuses "
    "neither: forward mode gives a zero tangent and a create_graph backward a gradient without a graph "
    "(baselined, 2.13.0)"
)

LINEAR_CE = [
    op(
        "linear_cross_entropy",
        _LCE.format(bias="", extra=", label_smoothing={label_smoothing}"),
        _linear_cross_entropy,
        rule=LinearTargets(),
        params={"label_smoothing": st.sampled_from((0.0, 0.2))},
        versions=_LCE_SINCE,
        in_trees=False,
        notes="options=None (the reference path): cross_entropy of x @ wᵀ with drawn class targets (operands), "
        "class weights or none, ignore_index, label smoothing; every reduction; new in torch 2.13",
    ),
    op(
        "linear_cross_entropy_chunked",
        _LCE.format(bias=", linear_bias={z}", extra=_OPTIONS.format(retain=", allow_retain_graph=True")),
        _linear_cross_entropy,
        rule=LinearTargets(bias=True, reductions=("mean", "sum")),
        params={"chunk": st.sampled_from((2, 3))},
        versions=_LCE_SINCE,
        in_trees=False,
        notes="the chunked path (a torch.library op whose forward precomputes the gradients) for mean and sum, "
        "with a bias, batch chunks of 2 or 3 rows (N is 3 or 4: uneven chunks too); allow_retain_graph=True as "
        "torch's OpInfo passes it" + _CHUNKED_FINDING,
    ),
    op(
        "linear_cross_entropy_chunked_none",
        _LCE.format(bias=", linear_bias={z}", extra=_OPTIONS.format(retain="")).replace("{reduction}", "'none'"),
        _linear_cross_entropy,
        rule=LinearTargets(bias=True, reductions=("none",)),
        params={"chunk": st.sampled_from((2, 3))},
        versions=_LCE_SINCE,
        in_trees=False,
        notes="the chunked path for reduction='none' (its backward recomputes the gradients chunk by chunk), "
        "with a bias" + _CHUNKED_FINDING,
    ),
]

OPS = [*UNPOOL, *BACKWARDS, *LINEAR_CE]
