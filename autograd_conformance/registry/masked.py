"""The masked family (``torch.masked``): reductions, normalizations and scans over the elements a boolean mask
keeps, and ``logaddexp`` with a mask per operand.

Masks are drawn by this module's shape rules (``MaskedAlong``) with the input's shape, and reach the JAX
reference as a traced argument (``Operand``): one program per op and shape serves every mask.  The references
fill masked-out elements with the reduction's identity through ``jnp.where`` (0 for sums, 1 for products, -inf
for maxima and log-sum-exp), as torch's docs define the masked semantics.

A line (the elements along the reduced dim) whose mask is all false: torch defines the identity there, or NaN.
Where the result is finite and constant (sum 0, prod 1, norm 0, cumsum, cumprod, normalize's 0), all-false
lines are drawn, and their gradient must be 0.  Where it is ±inf or NaN (amax -inf, amin inf, mean and median
NaN, logsumexp -inf, softmax NaN; std and var with no more elements than the correction), nothing
differentiable is left to check, and every line keeps enough elements (``min_kept``).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd_conformance.registry.reductions import _any_tie, _close
from autograd_conformance.registry.shapes import MAX_RANK, Draw, ReduceDim, ShapeRule, shapes
from autograd_conformance.registry.spec import WIDE, Call, Operand, Shape, declare_family, make_call

op = declare_family("masked")


# --- shape rules --------------------------------------------------------------------------------


def _mask(draw: Draw, shape: Shape, axis: int, min_kept: int, label: str = "mask") -> np.ndarray:
    """A boolean mask of ``shape`` keeping at least ``min_kept`` elements of every line along ``axis``;
    with ``min_kept`` 0 one line may be drawn all false."""
    mask = draw(hnp.arrays(np.bool_, shape), label)
    moved = np.moveaxis(mask, axis, -1).copy()
    lines = moved.reshape(-1, shape[axis])
    if min_kept == 0 and lines.shape[0] and draw(st.booleans(), f"{label}: one line all false"):
        lines[draw(st.integers(0, lines.shape[0] - 1), f"{label}: which line")] = False
    for line in lines:
        short = min_kept - int(line.sum())
        if short > 0:  # keep the last elements the draw left out
            line[np.flatnonzero(~line)[-short:]] = True
    return np.moveaxis(lines.reshape(moved.shape), -1, axis)


def _as_operand(mask: np.ndarray) -> Operand:
    return Operand(mask.tolist()) if mask.ndim else Operand([bool(mask)])


@dataclass(frozen=True)
class MaskedAlong(ShapeRule):
    """A masked op over one dim: a reduction (``reduce``, with keepdim) or the same shape (``reduce=False``:
    scans, softmax, normalize).  The mask has the input's shape; each line along dim keeps ``min_kept``
    elements (0: one line may be all false).  ``arity`` 2: logaddexp's two operands and masks, elementwise,
    every position kept by one mask at least."""

    reduce: bool = True
    min_kept: int = 0
    min_size: int = 1

    def __post_init__(self) -> None:
        if self.reduce:
            object.__setattr__(self, "max_rank", MAX_RANK - 1)
        else:
            object.__setattr__(self, "min_rank", max(self.min_rank, 1))

    def produces(self, out: Shape) -> bool:
        if not super().produces(out):
            return False
        return self.reduce or self.arity == 2 or max(out) >= self.min_size

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        return shapes(self.min_rank, self.max_rank).filter(self.produces)

    def draw(self, draw: Draw, out: Shape) -> Call:
        if self.arity == 2:
            first = draw(hnp.arrays(np.bool_, out), "input_mask")
            other = draw(hnp.arrays(np.bool_, out), "other_mask") | ~first  # a position both drop is -inf
            return make_call([out, out], input_mask=Operand(first.tolist()), other_mask=Operand(other.tolist()))
        if self.reduce:  # ReduceDim's shape, dim and keepdim, then a mask over the input
            call = ReduceDim(min_size=max(self.min_size, self.min_kept, 1)).draw(draw, out)
            (shape,) = call.input_shapes
            mask = _mask(draw, shape, call.kwargs["dim"] % len(shape), self.min_kept)
            return make_call([shape], **call.kwargs, mask=_as_operand(mask))
        d = draw(st.sampled_from([i for i, s in enumerate(out) if s >= self.min_size]), "dim")
        mask = _mask(draw, out, d, self.min_kept)
        return make_call([out], dim=draw(st.sampled_from([d, d - len(out)]), "dim sign"), mask=_as_operand(mask))


# --- kink tests ---------------------------------------------------------------------------------


def _kept_lines(inputs, params):
    """The input and mask with dim moved last."""
    x = np.moveaxis(np.asarray(inputs[0]), params["dim"], -1)
    m = np.moveaxis(np.asarray(params["mask"], dtype=bool), params["dim"], -1)
    return x, m


def _kept_tie(sign: float):
    """amax/amin: the two largest kept elements of a line tie."""

    def near(inputs, params, margin):
        x, m = _kept_lines(inputs, params)
        s = np.sort(np.where(m, sign * x, -np.inf), axis=-1)
        if s.shape[-1] < 2:
            return False
        top, second = s[..., -1], s[..., -2]
        both = np.isfinite(second)
        return bool(np.any(both & _close(top, np.where(both, second, top), margin)))

    return near


def _kept_any_tie(inputs, params, margin):
    """median: two kept elements of a line tie (conservatively, any two elements of the line)."""
    return _any_tie(inputs, params, margin)


def _kept_norm_kink(inputs, params, margin):
    """norm and normalize: a line that keeps elements, all near 0 (the norm's kink); ord 1: a kept |x| at 0."""
    x, m = _kept_lines(inputs, params)
    kept = np.where(m, np.abs(x), 0.0)
    if np.any(m.any(axis=-1) & (kept.max(axis=-1, initial=0.0) <= margin)):
        return True
    return params.get("ord") == 1.0 and bool(np.any(m & (np.abs(x) <= margin)))


def _kept_spread_0(inputs, params, margin):
    """std: the kept elements of a line all equal (std = 0, where sqrt is not differentiable)."""
    x, m = _kept_lines(inputs, params)
    high = np.where(m, x, -np.inf).max(axis=-1)
    low = np.where(m, x, np.inf).min(axis=-1)
    return bool(np.any(m.any(axis=-1) & (high - low <= margin * np.maximum(1.0, np.abs(high)))))


# --- JAX references -----------------------------------------------------------------------------


def _m(mask):
    return jnp.asarray(mask, dtype=bool)


def _sum(x, dim, keepdim, mask):
    return jnp.sum(jnp.where(_m(mask), x, 0.0), axis=dim, keepdims=keepdim)


def _prod(x, dim, keepdim, mask):
    return jnp.prod(jnp.where(_m(mask), x, 1.0), axis=dim, keepdims=keepdim)


def _amax(x, dim, keepdim, mask):
    return jnp.max(jnp.where(_m(mask), x, -jnp.inf), axis=dim, keepdims=keepdim)


def _amin(x, dim, keepdim, mask):
    return jnp.min(jnp.where(_m(mask), x, jnp.inf), axis=dim, keepdims=keepdim)


def _mean(x, dim, keepdim, mask):
    return _sum(x, dim, keepdim, mask) / jnp.sum(_m(mask), axis=dim, keepdims=keepdim)


def _median(x, dim, keepdim, mask):
    """The lower median of the kept elements (torch.median's, through nanmedian)."""
    m = _m(mask)
    s = jnp.sort(jnp.where(m, x, jnp.inf), axis=dim)
    k = (jnp.sum(m, axis=dim, keepdims=True) - 1) // 2
    out = jnp.take_along_axis(s, k, axis=dim)
    return out if keepdim else jnp.squeeze(out, axis=dim)


def _norm(x, ord, dim, keepdim, mask):  # noqa: A002 - torch's name
    """The ord-norm of the kept elements; 0 on a line that keeps none, with gradient 0 (no p-th root at 0)."""
    a = jnp.abs(jnp.where(_m(mask), x, 0.0))
    total = jnp.sum(a**ord, axis=dim, keepdims=keepdim)
    positive = total > 0
    return jnp.where(positive, jnp.where(positive, total, 1.0) ** (1.0 / ord), 0.0)


def _normalize(x, ord, dim, mask):  # noqa: A002
    kept = jnp.where(_m(mask), x, 0.0)
    return kept / jnp.maximum(_norm(x, ord, dim, True, mask), 1e-12)


def _logsumexp(x, dim, keepdim, mask):
    z = jnp.where(_m(mask), x, -jnp.inf)
    top = jnp.max(z, axis=dim, keepdims=True)
    top = jnp.where(jnp.isfinite(top), top, 0.0)
    out = jnp.log(jnp.sum(jnp.exp(z - top), axis=dim, keepdims=True)) + top
    return out if keepdim else jnp.squeeze(out, axis=dim)


def _softmax(x, dim, mask):
    m = _m(mask)
    z = jnp.where(m, x, -jnp.inf)
    return jnp.where(m, jnp.exp(z - _logsumexp(x, dim, True, mask)), 0.0)


def _log_softmax(x, dim, mask):
    """Kept positions only: torch's -inf at the dropped ones is filled with 0 by the template."""
    m = _m(mask)
    return jnp.where(m, jnp.where(m, x, 0.0) - _logsumexp(x, dim, True, mask), 0.0)


def _var(x, dim, keepdim, mask, correction):
    m = _m(mask)
    n = jnp.sum(m, axis=dim, keepdims=True)
    mean = jnp.sum(jnp.where(m, x, 0.0), axis=dim, keepdims=True) / n
    out = jnp.sum(jnp.where(m, (x - mean) ** 2, 0.0), axis=dim, keepdims=True) / (n - correction)
    return out if keepdim else jnp.squeeze(out, axis=dim)


def _std(x, dim, keepdim, mask, correction):
    return jnp.sqrt(_var(x, dim, keepdim, mask, correction))


def _cumsum(x, dim, mask):
    return jnp.cumsum(jnp.where(_m(mask), x, 0.0), axis=dim)


def _cumprod(x, dim, mask):
    return jnp.cumprod(jnp.where(_m(mask), x, 1.0), axis=dim)


def _logaddexp(x, y, input_mask, other_mask):
    return jnp.logaddexp(jnp.where(_m(input_mask), x, -jnp.inf), jnp.where(_m(other_mask), y, -jnp.inf))


MASK = "mask=torch.tensor({mask})"
REDUCE = "torch.masked.{name}({{x}}, {{dim}}, keepdim={{keepdim}}, mask=torch.tensor({{mask}}))"
ALONG = "torch.masked.{name}({{x}}, {{dim}}, mask=torch.tensor({{mask}}))"
CORRECTION = {"correction": st.sampled_from((1, 0))}
ORD = {"ord": st.sampled_from((2.0, 1.0, 3.0))}
KEPT = "one line may keep no element (the identity there, gradient 0)"
NONE_EMPTY = "every line keeps an element: a line that keeps none is {}"

OPS = [
    op("masked_sum", REDUCE.format(name="sum"), _sum, rule=MaskedAlong(), notes=KEPT),
    op("masked_prod", REDUCE.format(name="prod"), _prod, rule=MaskedAlong(), notes=KEPT),
    op(
        "masked_amax",
        REDUCE.format(name="amax"),
        _amax,
        rule=MaskedAlong(min_kept=1),
        near_kink=_kept_tie(1.0),
        notes=NONE_EMPTY.format("-inf"),
    ),
    op(
        "masked_amin",
        REDUCE.format(name="amin"),
        _amin,
        rule=MaskedAlong(min_kept=1),
        near_kink=_kept_tie(-1.0),
        notes=NONE_EMPTY.format("inf"),
    ),
    op("masked_mean", REDUCE.format(name="mean"), _mean, rule=MaskedAlong(min_kept=1), notes=NONE_EMPTY.format("NaN")),
    op(
        "masked_median",
        "torch.masked.median({x}, {dim}, keepdim={keepdim}, " + MASK + ")",
        _median,
        rule=MaskedAlong(min_kept=1),
        near_kink=_kept_any_tie,
        notes=NONE_EMPTY.format("NaN") + "; the lower median of the kept elements",
    ),
    op(
        "masked_norm",
        "torch.masked.norm({x}, {ord}, {dim}, keepdim={keepdim}, " + MASK + ")",
        _norm,
        rule=MaskedAlong(),
        params=ORD,
        near_kink=_kept_norm_kink,
        notes=KEPT,
    ),
    op(
        "masked_normalize",
        "torch.masked.normalize({x}, {ord}, {dim}, " + MASK + ")",
        _normalize,
        rule=MaskedAlong(reduce=False),
        params=ORD,
        near_kink=_kept_norm_kink,
        notes=KEPT + "; the kept elements over max(norm, 1e-12)",
    ),
    op(
        "masked_logsumexp",
        REDUCE.format(name="logsumexp"),
        _logsumexp,
        rule=MaskedAlong(min_kept=1),
        domain=WIDE,
        notes=NONE_EMPTY.format("-inf"),
    ),
    op(
        "masked_softmax",
        ALONG.format(name="softmax"),
        _softmax,
        rule=MaskedAlong(reduce=False, min_kept=1),
        domain=WIDE,
        notes=NONE_EMPTY.format("NaN") + "; 0 at the dropped positions",
    ),
    op(
        "masked_softmin",
        ALONG.format(name="softmin"),
        lambda x, dim, mask: _softmax(-x, dim, mask),
        rule=MaskedAlong(reduce=False, min_kept=1),
        domain=WIDE,
        notes=NONE_EMPTY.format("NaN") + "; 0 at the dropped positions",
    ),
    op(
        "masked_log_softmax",
        "torch.masked.log_softmax({x}, {dim}, " + MASK + ").masked_fill(~torch.tensor({mask}), 0.0)",
        _log_softmax,
        rule=MaskedAlong(reduce=False, min_kept=1),
        domain=WIDE,
        notes=NONE_EMPTY.format("NaN") + "; torch gives -inf at the dropped positions, a constant the template "
        "fills with 0 so that a loss over the output stays finite",
    ),
    op(
        "masked_var",
        "torch.masked.var({x}, {dim}, correction={correction}, keepdim={keepdim}, " + MASK + ")",
        _var,
        rule=MaskedAlong(min_kept=2),
        params=CORRECTION,
        notes="every line keeps two elements: with no more than the correction the result is NaN or inf",
    ),
    op(
        "masked_std",
        "torch.masked.std({x}, {dim}, correction={correction}, keepdim={keepdim}, " + MASK + ")",
        _std,
        rule=MaskedAlong(min_kept=2),
        params=CORRECTION,
        near_kink=_kept_spread_0,
        notes="every line keeps two elements: with no more than the correction the result is NaN or inf, "
        "and with one std is sqrt(0), whose kink the derivative of a constant 0 goes through",
    ),
    op("masked_cumsum", ALONG.format(name="cumsum"), _cumsum, rule=MaskedAlong(reduce=False), notes=KEPT),
    op("masked_cumprod", ALONG.format(name="cumprod"), _cumprod, rule=MaskedAlong(reduce=False), notes=KEPT),
    op(
        "masked_logaddexp",
        "torch.masked.logaddexp({x}, {y}, input_mask=torch.tensor({input_mask}), other_mask=torch.tensor({other_mask}))",
        _logaddexp,
        rule=MaskedAlong(arity=2, reduce=False),
        domain=WIDE,
        notes="every position is kept by one mask at least (where both drop it the result is -inf)",
    ),
]
