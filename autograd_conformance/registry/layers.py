"""Layers from torch.nn.functional: linear and bilinear, convolutions and their transposes, pooling,
padding, interpolation, normalization with affine parameters, embeddings, shuffles, unfold,
grid_sample and attention.

**Small tables, not free shapes.**  A layer's JAX reference compiles one XLA program per input
shape and static parameters, and a layer has many of both; so each op draws its call from a small
fixed ``Table`` of (input shapes, parameters), chosen to reach each parameter (stride, padding,
dilation, groups, ceil_mode, align_corners...) at least once with few channels and short sides.
The Hypothesis draw picks a row (and the values of any ``params`` strategies); every cell of an op
reuses the same few programs.

**References by index arithmetic.**  Pooling, adaptive pooling and every interpolation mode are
separable: along each spatial axis the op is a fixed (out × in) matrix (0/1 windows over their
divisor, linear and cubic weights, a nearest index), built in numpy from the static shapes the way
torch's CPU kernels compute their source indices (``area_pixel_compute_source_index``,
``nearest_idx``), and applied axis by axis.  Max pooling gathers its windows through index tables
(padding reads -inf).  Convolutions are ``jax.lax.conv_general_dilated`` (a transposed convolution
is the dilated-input convolution with the flipped, group-transposed kernel).  Each reference is
held to torch's forward values and gradients by ``tests/test_registry_entries.py``.

**Kinks.**  Ties within a max-pooling window are kinks (``near_kink``), as for ``max``; prelu's
input at 0; grid_sample's sampling point on a pixel's row or column (bilinear weights are only
piecewise linear in the grid).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st

from autograd_conformance.registry.shapes import Draw, ShapeRule
from autograd_conformance.registry.spec import REALS, Call, Domain, Shape, declare_family, make_call
from autograd_conformance.versions import NO_VERSION, Versions

layer = declare_family("layers", in_trees=False)

# --- the table rule ---------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Table(ShapeRule):
    """A layer's calls: a small fixed table of (input shapes, static parameters); the output shape of each
    row is the JAX reference's (``jax.eval_shape``, computed once, on first use)."""

    rows: tuple[Call, ...] = ()
    reference: Callable[..., Any] | None = field(default=None, repr=False)
    min_rank: int = 0
    max_rank: int = 5

    @cached_property
    def outs(self) -> tuple[Shape, ...]:
        out = []
        for call in self.rows:
            structs = [jax.ShapeDtypeStruct(s, jnp.float64) for s in call.input_shapes]
            out.append(tuple(jax.eval_shape(lambda *a, c=call: self.reference(*a, **c.kwargs), *structs).shape))
        return tuple(out)

    def produces(self, out: Shape) -> bool:
        return tuple(out) in self.outs

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        return st.sampled_from(sorted(set(self.outs)))

    def draw(self, draw: Draw, out: Shape) -> Call:
        rows = [c for c, o in zip(self.rows, self.outs) if o == tuple(out)]
        return rows[0] if len(rows) == 1 else draw(st.sampled_from(rows), "table row")


def table(reference: Callable[..., Any], *rows: tuple[list[Shape], dict[str, Any]]) -> Table:
    calls = tuple(make_call(shapes, **params) for shapes, params in rows)
    arity = len(calls[0].input_shapes)
    assert all(len(c.input_shapes) == arity for c in calls), "a table's rows take the same number of tensors"
    return Table(arity=arity, rows=calls, reference=reference)


def op(
    name: str, torch: str, jax_fn: Callable[..., Any], rows: list[tuple[list[Shape], dict[str, Any]]], **fields: Any
):
    """A layer op whose calls come from ``rows`` (see ``Table``)."""
    return layer(name, torch, jax_fn, rule=table(jax_fn, *rows), **fields)


# --- per-axis matrices (numpy, from static shapes) ------------------------------------------------------


def _apply_axes(x, mats: list[np.ndarray]):
    """Apply one (out × in) matrix along each of x's last len(mats) axes."""
    n = len(mats)
    for i, m in enumerate(mats):
        axis = x.ndim - n + i
        x = jnp.moveaxis(jnp.tensordot(x, jnp.asarray(m), axes=([axis], [1])), -1, axis)
    return x


def _pool_out(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """torch's pooling_output_shape."""
    span = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = span // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _avg_axis(size: int, k: int, s: int, p: int, ceil_mode: bool, include_pad: bool) -> tuple[np.ndarray, np.ndarray]:
    """avg_pool along one axis: the 0/1 window matrix and each window's divisor factor (torch's avg_pool2d)."""
    out = _pool_out(size, k, s, p, 1, ceil_mode)
    m, div = np.zeros((out, size)), np.zeros(out)
    for i in range(out):
        start = i * s - p
        end = min(start + k, size + p)
        lo, hi = max(start, 0), min(end, size)
        m[i, lo:hi] = 1.0
        div[i] = (end - start) if include_pad else (hi - lo)
    return m, div


def _adaptive_axis(size: int, out: int) -> np.ndarray:
    m = np.zeros((out, size))
    for i in range(out):
        lo, hi = (i * size) // out, -(-((i + 1) * size) // out)
        m[i, lo:hi] = 1.0 / (hi - lo)
    return m


def _linear_axis(size: int, out: int, align_corners: bool = False) -> np.ndarray:
    """Linear interpolation weights along one axis (torch's area_pixel_compute_source_index, guard_index_and_lambda)."""
    m = np.zeros((out, size))
    for i in range(out):
        if align_corners:
            src = i * ((size - 1) / (out - 1) if out > 1 else 0.0)
        else:
            src = max((i + 0.5) * (size / out) - 0.5, 0.0)
        i0 = min(int(math.floor(src)), size - 1)
        lam = min(max(src - i0, 0.0), 1.0)
        i1 = min(i0 + 1, size - 1)
        m[i, i0] += 1.0 - lam
        m[i, i1] += lam
    return m


def _cubic_axis(size: int, out: int, align_corners: bool = False) -> np.ndarray:
    """Bicubic weights along one axis (torch's upsample_bicubic2d: A = -0.75, indices clamped to the edge)."""
    a = -0.75

    def near(t):  # |t| <= 1
        return ((a + 2) * t - (a + 3)) * t * t + 1

    def far(t):  # 1 < |t| < 2
        return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a

    m = np.zeros((out, size))
    for i in range(out):
        src = i * ((size - 1) / (out - 1) if out > 1 else 0.0) if align_corners else (i + 0.5) * (size / out) - 0.5
        i0 = math.floor(src)
        t = src - i0
        for j, w in enumerate((far(t + 1), near(t), near(1 - t), far(2 - t))):
            m[i, min(max(i0 - 1 + j, 0), size - 1)] += w
    return m


def _nearest_axis(size: int, out: int, exact: bool) -> np.ndarray:
    """nearest / nearest-exact: the source index in float32 arithmetic, as torch's CPU kernel computes it."""
    scale = np.float32(size) / np.float32(out)
    m = np.zeros((out, size))
    for i in range(out):
        if out == size:
            j = i
        elif out == 2 * size and not exact:
            j = i >> 1
        else:
            pos = (np.float32(i) + np.float32(0.5)) * scale if exact else np.float32(i) * scale
            j = min(int(np.floor(np.float32(pos))), size - 1)
        m[i, j] = 1.0
    return m


# --- linear and convolution ---------------------------------------------------------------------------

_HIGHEST = jax.lax.Precision.HIGHEST
_SPECS = {1: ("NCH", "OIH", "NCH"), 2: ("NCHW", "OIHW", "NCHW"), 3: ("NCDHW", "OIDHW", "NCDHW")}


def _bias(y, b):
    return y + jnp.reshape(b, (1, -1) + (1,) * (y.ndim - 2))


def _conv(x, w, b, stride, padding, dilation, groups):
    n = x.ndim - 2
    y = jax.lax.conv_general_dilated(
        x, w, tuple(stride), [(p, p) for p in padding], rhs_dilation=tuple(dilation),
        dimension_numbers=_SPECS[n], feature_group_count=groups, precision=_HIGHEST,
    )  # fmt: skip
    return _bias(y, b)


def _conv_transpose(x, w, b, stride, padding, output_padding, groups, dilation):
    """The transposed convolution: the kernel (in, out/g, k...) regrouped to (out, in/g, k...) and flipped, over
    the input dilated by the stride, padded by d(k - 1) - p (and output_padding at the end)."""
    n = x.ndim - 2
    cin, cout_g, k = w.shape[0], w.shape[1], w.shape[2:]
    w = jnp.reshape(w, (groups, cin // groups, cout_g, *k))
    w = jnp.reshape(jnp.swapaxes(w, 1, 2), (groups * cout_g, cin // groups, *k))
    w = jnp.flip(w, axis=tuple(range(2, 2 + n)))
    pad = [(d * (kk - 1) - p, d * (kk - 1) - p + o) for kk, p, o, d in zip(k, padding, output_padding, dilation)]
    y = jax.lax.conv_general_dilated(
        x, w, (1,) * n, pad, lhs_dilation=tuple(stride), rhs_dilation=tuple(dilation),
        dimension_numbers=_SPECS[n], feature_group_count=groups, precision=_HIGHEST,
    )  # fmt: skip
    return _bias(y, b)


def _conv_rows(*rows):
    """Rows of (x, w) shapes and (stride, padding, dilation, groups); the bias has w's out channels."""
    return [([x, w, (w[0],)], dict(stride=s, padding=p, dilation=d, groups=g)) for x, w, s, p, d, g in rows]


def _convt_rows(*rows):
    """Rows of (x, w) shapes and (stride, padding, output_padding, groups, dilation); bias: out = w[1]·groups."""
    return [
        ([x, w, (w[1] * g,)], dict(stride=s, padding=p, output_padding=o, groups=g, dilation=d))
        for x, w, s, p, o, g, d in rows
    ]


_CONV_TEMPLATE = (
    "F.conv{n}d({{x}}, {{y}}, {{z}}, stride={{stride}}, padding={{padding}}, dilation={{dilation}}, groups={{groups}})"
)
_CONVT_TEMPLATE = (
    "F.conv_transpose{n}d({{x}}, {{y}}, {{z}}, stride={{stride}}, padding={{padding}}, "
    "output_padding={{output_padding}}, groups={{groups}}, dilation={{dilation}})"
)

LINEAR = [
    op(
        "linear",
        "F.linear({x}, {y}, {z})",
        lambda x, w, b: jnp.matmul(x, w.T, precision=_HIGHEST) + b,
        [([(3, 4), (2, 4), (2,)], {}), ([(2, 1, 3), (3, 3), (3,)], {})],
        variants=("F.linear({x}, {y}) + {z}",),
        in_trees=True,
        notes="x (…, in), weight (out, in), bias (out,); the variant is the bias-free path plus the bias",
    ),
    op(
        "bilinear",
        "F.bilinear({x}, {y}, {z}, {w})",
        lambda x1, x2, w, b: jnp.einsum("ni,oij,nj->no", x1, w, x2, precision=_HIGHEST) + b,
        [([(2, 3), (2, 2), (2, 3, 2), (2,)], {})],
        in_trees=True,
        notes="x1 (n, in1), x2 (n, in2), weight (out, in1, in2), bias (out,)",
    ),
]

CONV = [
    op(
        "conv1d",
        _CONV_TEMPLATE.format(n=1),
        _conv,
        _conv_rows(
            ((1, 2, 5), (3, 2, 2), (1,), (0,), (1,), 1),
            ((2, 2, 5), (2, 1, 3), (2,), (1,), (1,), 2),
            ((1, 1, 6), (2, 1, 2), (1,), (2,), (2,), 1),
        ),
        in_trees=True,
    ),
    op(
        "conv2d",
        _CONV_TEMPLATE.format(n=2),
        _conv,
        _conv_rows(
            ((1, 2, 4, 3), (2, 2, 2, 2), (1, 1), (0, 0), (1, 1), 1),
            ((1, 2, 4, 4), (4, 1, 2, 2), (2, 1), (1, 0), (1, 2), 2),
        ),
    ),
    op(
        "conv3d",
        _CONV_TEMPLATE.format(n=3),
        _conv,
        _conv_rows(
            ((1, 1, 3, 3, 2), (2, 1, 2, 2, 1), (1, 1, 1), (0, 0, 0), (1, 1, 1), 1),
            ((1, 2, 3, 2, 3), (2, 1, 1, 2, 2), (2, 1, 1), (1, 0, 1), (1, 1, 2), 2),
        ),
    ),
    op(
        "conv_transpose1d",
        _CONVT_TEMPLATE.format(n=1),
        _conv_transpose,
        _convt_rows(
            ((1, 2, 3), (2, 2, 2), (1,), (0,), (0,), 1, (1,)),
            ((1, 2, 3), (2, 1, 3), (2,), (1,), (1,), 2, (1,)),
            ((2, 1, 3), (1, 2, 2), (1,), (1,), (0,), 1, (2,)),
        ),
        in_trees=True,
    ),
    op(
        "conv_transpose2d",
        _CONVT_TEMPLATE.format(n=2),
        _conv_transpose,
        _convt_rows(
            ((1, 2, 2, 3), (2, 1, 2, 2), (1, 1), (0, 0), (0, 0), 1, (1, 1)),
            ((1, 2, 2, 2), (2, 1, 2, 3), (2, 1), (1, 1), (1, 0), 2, (1, 2)),
        ),
    ),
    op(
        "conv_transpose3d",
        _CONVT_TEMPLATE.format(n=3),
        _conv_transpose,
        _convt_rows(
            ((1, 1, 2, 2, 2), (1, 2, 2, 1, 2), (1, 1, 1), (0, 0, 0), (0, 0, 0), 1, (1, 1, 1)),
            ((1, 2, 2, 2, 2), (2, 1, 1, 2, 2), (2, 1, 2), (0, 0, 1), (1, 0, 0), 2, (1, 1, 1)),
        ),
    ),
]

# --- pooling ------------------------------------------------------------------------------------------


def _avg_pool(x, kernel_size, stride, padding, ceil_mode, count_include_pad=True, divisor_override=None):
    n = len(kernel_size)
    mats = []
    for size, k, s, p in zip(x.shape[-n:], kernel_size, stride, padding):
        m, div = _avg_axis(size, k, s, p, ceil_mode, count_include_pad)
        mats.append(m if divisor_override else m / div[:, None])
    y = _apply_axes(x, mats)
    return y / divisor_override if divisor_override else y


def _max_tables(spatial, kernel_size, stride, padding, dilation, ceil_mode) -> list[np.ndarray]:
    """Per axis, the (out, k) positions of each window's elements; -1 where the window reads padding."""
    tables = []
    for size, k, s, p, d in zip(spatial, kernel_size, stride, padding, dilation):
        out = _pool_out(size, k, s, p, d, ceil_mode)
        pos = np.array([[i * s - p + j * d for j in range(k)] for i in range(out)])
        tables.append(np.where((pos >= 0) & (pos < size), pos, -1))
    return tables


def _adaptive_max_tables(spatial, output_size) -> list[np.ndarray]:
    """Per axis, the (out, longest window) positions; short windows repeat their first element (max is unchanged)."""
    tables = []
    for size, out in zip(spatial, output_size):
        bounds = [((i * size) // out, -(-((i + 1) * size) // out)) for i in range(out)]
        longest = max(hi - lo for lo, hi in bounds)
        tables.append(np.array([[lo + j if lo + j < hi else lo for j in range(longest)] for lo, hi in bounds]))
    return tables


def _gather_windows(x, tables, fill: float = -np.inf):
    """x's last len(tables) axes replaced by the windows (out₁, …, outₙ, k₁, …, kₙ); -1 reads ``fill``."""
    n = len(tables)
    lead = x.ndim - n
    x = jnp.pad(x, [(0, 0)] * lead + [(0, 1)] * n, constant_values=fill)  # index -1: the fill at the end
    for i, t in enumerate(tables):
        axis = lead + i
        x = jnp.take(x, jnp.asarray(t.ravel()), axis=axis)
        x = jnp.reshape(x, x.shape[:axis] + t.shape + x.shape[axis + 1 :])
        x = jnp.moveaxis(x, axis + 1, -1)  # the window axis to the end, after earlier axes' windows
    return x


def _max_of_windows(x, tables):
    n = len(tables)
    return jnp.max(_gather_windows(x, tables), axis=tuple(range(-n, 0)))


def _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode):
    n = len(kernel_size)
    return _max_of_windows(x, _max_tables(x.shape[-n:], kernel_size, stride, padding, dilation, ceil_mode))


def _adaptive_max_pool(x, output_size):
    return _max_of_windows(x, _adaptive_max_tables(x.shape[-len(output_size) :], output_size))


def _window_tie(tables_of: Callable[[tuple[int, ...], dict[str, Any]], list[np.ndarray]], n: int):
    """Two distinct elements of one window tie for its max: the gradient's choice between them is a kink."""

    def near(inputs, params, margin):
        x = np.asarray(inputs[0], dtype=np.float64)
        spatial = x.shape[-n:]
        flat = x.reshape(-1, math.prod(spatial))
        tables = tables_of(spatial, params)
        for out in itertools.product(*(range(t.shape[0]) for t in tables)):
            cols = [t[o] for t, o in zip(tables, out)]
            positions = {
                int(np.ravel_multi_index(idx, spatial)) for idx in itertools.product(*cols) if all(i >= 0 for i in idx)
            }
            if len(positions) < 2:
                continue
            values = np.sort(flat[:, sorted(positions)], axis=1)
            top, second = values[:, -1], values[:, -2]
            if np.any(np.abs(top - second) <= margin * np.maximum(1.0, np.abs(top))):
                return True
        return False

    return near


def _max_pool_tie(n: int):
    return _window_tie(
        lambda spatial, p: _max_tables(
            spatial, p["kernel_size"], p["stride"], p["padding"], p["dilation"], p["ceil_mode"]
        ),
        n,
    )


def _adaptive_max_tie(n: int):
    return _window_tie(lambda spatial, p: _adaptive_max_tables(spatial, p["output_size"]), n)


def _avg_rows(*rows):
    return [([x], dict(kernel_size=k, stride=s, padding=p, ceil_mode=c)) for x, k, s, p, c in rows]


def _max_rows(*rows):
    return [([x], dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=c)) for x, k, s, p, d, c in rows]


_BOOL = st.booleans()
_AVG = "F.avg_pool{n}d({{x}}, {{kernel_size}}, {{stride}}, {{padding}}, {{ceil_mode}}, {{count_include_pad}}{extra})"
_MAX = "F.max_pool{n}d({{x}}, {{kernel_size}}, {{stride}}, {{padding}}, {{dilation}}, {{ceil_mode}})"

POOL = [
    op(
        "avg_pool1d",
        _AVG.format(n=1, extra=""),
        _avg_pool,
        _avg_rows(((1, 2, 5), (2,), (2,), (1,), True), ((2, 1, 4), (3,), (1,), (0,), False)),
        params={"count_include_pad": _BOOL},
        in_trees=True,
    ),
    op(
        "avg_pool2d",
        _AVG.format(n=2, extra=", {divisor_override}"),
        _avg_pool,
        _avg_rows(((1, 2, 4, 3), (2, 2), (2, 1), (1, 0), True), ((1, 1, 3, 4), (2, 3), (1, 2), (0, 1), False)),
        params={"count_include_pad": _BOOL, "divisor_override": st.sampled_from((None, 3))},
    ),
    op(
        "avg_pool3d",
        _AVG.format(n=3, extra=", {divisor_override}"),
        _avg_pool,
        _avg_rows(((1, 1, 3, 3, 2), (2, 2, 2), (2, 1, 1), (1, 0, 1), True)),
        params={"count_include_pad": _BOOL, "divisor_override": st.sampled_from((None, 3))},
    ),
    op(
        "max_pool1d",
        _MAX.format(n=1),
        _max_pool,
        _max_rows(((1, 2, 5), (2,), (2,), (1,), (1,), True), ((2, 1, 5), (2,), (1,), (0,), (2,), False)),
        near_kink=_max_pool_tie(1),
        in_trees=True,
        notes="ties within a window are kinks",
    ),
    op(
        "max_pool2d",
        _MAX.format(n=2),
        _max_pool,
        _max_rows(
            ((1, 2, 4, 3), (2, 2), (2, 1), (1, 0), (1, 1), True),
            ((1, 1, 4, 4), (2, 2), (1, 2), (0, 1), (2, 1), False),
        ),
        near_kink=_max_pool_tie(2),
        notes="ties within a window are kinks",
    ),
    op(
        "max_pool3d",
        _MAX.format(n=3),
        _max_pool,
        _max_rows(((1, 1, 3, 3, 2), (2, 2, 2), (2, 1, 1), (1, 0, 1), (1, 1, 1), True)),
        near_kink=_max_pool_tie(3),
        notes="ties within a window are kinks",
    ),
    op(
        "adaptive_avg_pool1d",
        "F.adaptive_avg_pool1d({x}, {output_size})",
        lambda x, output_size: _apply_axes(x, [_adaptive_axis(x.shape[-1], output_size[0])]),
        [([(1, 2, 5)], dict(output_size=(3,))), ([(2, 1, 4)], dict(output_size=(3,)))],
        in_trees=True,
    ),
    op(
        "adaptive_avg_pool2d",
        "F.adaptive_avg_pool2d({x}, {output_size})",
        lambda x, output_size: _apply_axes(x, [_adaptive_axis(s, o) for s, o in zip(x.shape[-2:], output_size)]),
        [([(1, 2, 5, 3)], dict(output_size=(3, 2))), ([(1, 1, 3, 4)], dict(output_size=(2, 4)))],
    ),
    op(
        "adaptive_avg_pool3d",
        "F.adaptive_avg_pool3d({x}, {output_size})",
        lambda x, output_size: _apply_axes(x, [_adaptive_axis(s, o) for s, o in zip(x.shape[-3:], output_size)]),
        [([(1, 1, 3, 4, 2)], dict(output_size=(2, 3, 1)))],
    ),
    op(
        "adaptive_max_pool1d",
        "F.adaptive_max_pool1d({x}, {output_size})",
        _adaptive_max_pool,
        [([(1, 2, 5)], dict(output_size=(3,))), ([(2, 1, 4)], dict(output_size=(3,)))],
        near_kink=_adaptive_max_tie(1),
        in_trees=True,
        notes="overlapping windows; ties within a window are kinks",
    ),
    op(
        "adaptive_max_pool2d",
        "F.adaptive_max_pool2d({x}, {output_size})",
        _adaptive_max_pool,
        [([(1, 2, 5, 3)], dict(output_size=(3, 2))), ([(1, 1, 3, 4)], dict(output_size=(2, 3)))],
        near_kink=_adaptive_max_tie(2),
        notes="overlapping windows; ties within a window are kinks",
    ),
    op(
        "adaptive_max_pool3d",
        "F.adaptive_max_pool3d({x}, {output_size})",
        _adaptive_max_pool,
        [([(1, 1, 3, 4, 2)], dict(output_size=(2, 3, 1)))],
        near_kink=_adaptive_max_tie(3),
        notes="overlapping windows; ties within a window are kinks",
    ),
]

# --- padding ------------------------------------------------------------------------------------------


def _pad_index(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """Source index of each output position along one axis (-1: the constant), negative pads crop."""
    out = []
    for j in range(-before, size + after):
        if 0 <= j < size:
            out.append(j)
        elif mode == "reflect":
            out.append(-j if j < 0 else 2 * (size - 1) - j)
        elif mode == "replicate":
            out.append(min(max(j, 0), size - 1))
        elif mode == "circular":
            out.append(j % size)
        else:
            out.append(-1)
    return np.array(out, dtype=np.int64)


def _pad(mode: str):
    def fn(x, pad, value=0.0):
        pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)]  # last axis first
        for i, (before, after) in enumerate(pairs):
            axis = x.ndim - 1 - i
            index = _pad_index(x.shape[axis], before, after, mode)
            if mode == "constant":
                ext = jnp.concatenate([x, jnp.full(x.shape[:axis] + (1,) + x.shape[axis + 1 :], value)], axis=axis)
                x = jnp.take(ext, jnp.asarray(np.where(index < 0, x.shape[axis], index)), axis=axis)
            else:
                x = jnp.take(x, jnp.asarray(index), axis=axis)
        return x

    return fn


def _pad_rows(*rows):
    return [([x], dict(pad=p)) for x, p in rows]


PAD = [
    op(
        "pad_constant",
        "F.pad({x}, {pad}, 'constant', -1.5)",
        lambda x, pad: _pad("constant")(x, pad, -1.5),
        _pad_rows(((2, 3), (1, 2)), ((1, 2, 3), (0, 1, 2, -1)), ((1, 2, 2, 2), (-1, 1, 1, 0, 1, 0))),
        in_trees=True,
        notes="negative pads crop",
    ),
    op(
        "pad_reflect",
        "F.pad({x}, {pad}, 'reflect')",
        _pad("reflect"),
        _pad_rows(((1, 2, 4), (2, 1)), ((1, 1, 3, 3), (1, 2, 2, 0)), ((1, 1, 2, 3, 2), (1, 0, 2, 1, 0, 1))),
        in_trees=True,
    ),
    op(
        "pad_replicate",
        "F.pad({x}, {pad}, 'replicate')",
        _pad("replicate"),
        _pad_rows(
            ((1, 2, 3), (2, 1)),
            ((1, 1, 3, 3), (1, -1, 2, 0)),
            ((1, 1, 2, 3, 2), (1, 0, -1, 2, 0, 1)),
            ((2, 4), (-1, -2)),
        ),
        in_trees=True,
        notes="negative pads crop (OpInfo's replicate_negative)",
    ),
    op(
        "pad_circular",
        "F.pad({x}, {pad}, 'circular')",
        _pad("circular"),
        _pad_rows(((1, 2, 3), (2, 1)), ((1, 1, 3, 3), (1, 3, 2, 0)), ((1, 1, 2, 3, 2), (1, 0, 2, 1, 0, 1))),
        in_trees=True,
    ),
]

# --- interpolation ------------------------------------------------------------------------------------


def _interpolate(axis_matrix: Callable[..., np.ndarray]):
    def fn(x, size, **params):
        n = len(size)
        return _apply_axes(x, [axis_matrix(s, o, **params) for s, o in zip(x.shape[-n:], size)])

    return fn


def _size_rows(*rows):
    return [([x], dict(size=s)) for x, s in rows]


_NEAREST_ROWS = _size_rows(((1, 2, 3), (5,)), ((1, 1, 3, 2), (2, 4)), ((1, 1, 2, 3, 2), (3, 2, 3)))
_AC = {"align_corners": _BOOL}

INTERPOLATE = [
    op(
        "interpolate_nearest",
        "F.interpolate({x}, {size}, None, 'nearest')",
        _interpolate(lambda s, o: _nearest_axis(s, o, exact=False)),
        _NEAREST_ROWS,
        variants=("F.upsample_nearest({x}, {size})",),
        notes="source index floor(i · in/out) in float32, as torch's CPU kernel",
    ),
    op(
        "interpolate_nearest_exact",
        "F.interpolate({x}, {size}, None, 'nearest-exact')",
        _interpolate(lambda s, o: _nearest_axis(s, o, exact=True)),
        _NEAREST_ROWS,
        notes="source index floor((i + 0.5) · in/out) in float32",
    ),
    op(
        "interpolate_linear",
        "F.interpolate({x}, {size}, None, 'linear', {align_corners})",
        _interpolate(_linear_axis),
        _size_rows(((1, 2, 3), (5,)), ((2, 1, 4), (3,))),
        params=_AC,
        in_trees=True,
    ),
    op(
        "interpolate_bilinear",
        "F.interpolate({x}, {size}, None, 'bilinear', {align_corners})",
        _interpolate(_linear_axis),
        _size_rows(((1, 2, 3, 2), (4, 3)), ((1, 1, 4, 3), (3, 1))),
        params=_AC,
    ),
    op(
        "upsample_bilinear",
        "F.upsample_bilinear({x}, {size})",
        _interpolate(lambda s, o: _linear_axis(s, o, align_corners=True)),
        _size_rows(
            ((1, 2, 3, 2), (4, 3)),
        ),
        notes="interpolate(mode='bilinear', align_corners=True)",
    ),
    op(
        "interpolate_bicubic",
        "F.interpolate({x}, {size}, None, 'bicubic', {align_corners})",
        _interpolate(_cubic_axis),
        _size_rows(((1, 1, 3, 2), (4, 3)), ((1, 2, 4, 3), (3, 2))),
        params=_AC,
    ),
    op(
        "interpolate_trilinear",
        "F.interpolate({x}, {size}, None, 'trilinear', {align_corners})",
        _interpolate(_linear_axis),
        _size_rows(
            ((1, 1, 2, 3, 2), (3, 2, 3)),
        ),
        params=_AC,
    ),
    op(
        "interpolate_area",
        "F.interpolate({x}, {size}, None, 'area')",
        _interpolate(_adaptive_axis),
        _size_rows(((1, 2, 5), (3,)), ((1, 1, 3, 4), (2, 3)), ((1, 1, 3, 2, 2), (2, 1, 3))),
        notes="adaptive average pooling to size",
    ),
]


# --- normalization, with the affine weight and bias as inputs -------------------------------------------

_EPS = 1e-5


def _standardize(x, axes, eps=_EPS):
    mean = jnp.mean(x, axis=axes, keepdims=True)
    var = jnp.mean((x - mean) ** 2, axis=axes, keepdims=True)
    return (x - mean) / jnp.sqrt(var + eps)


def _channel(v, ndim):
    return jnp.reshape(v, (1, -1) + (1,) * (ndim - 2))


def _batch_norm(x, w, b):
    return _standardize(x, (0, *range(2, x.ndim))) * _channel(w, x.ndim) + _channel(b, x.ndim)


_RUNNING_MEAN, _RUNNING_VAR = 0.25, 1.5


def _batch_norm_eval(x, w, b):
    return (x - _RUNNING_MEAN) / jnp.sqrt(_RUNNING_VAR + _EPS) * _channel(w, x.ndim) + _channel(b, x.ndim)


def _group_norm(x, w, b, num_groups, **_):
    n, c = x.shape[:2]
    g = jnp.reshape(_standardize(jnp.reshape(x, (n, num_groups, -1)), (2,)), x.shape)
    return g * _channel(w, x.ndim) + _channel(b, x.ndim)


def _instance_norm(x, w, b):
    return _standardize(x, tuple(range(2, x.ndim))) * _channel(w, x.ndim) + _channel(b, x.ndim)


def _layer_norm_affine(x, w, b, normalized_shape):
    return _standardize(x, tuple(range(x.ndim - len(normalized_shape), x.ndim))) * w + b


def _rms_norm(x, w, normalized_shape):
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    return x / jnp.sqrt(jnp.mean(x**2, axis=axes, keepdims=True) + 1e-6) * w


def _local_response_norm(x, size):
    """torch's: x / (k + alpha · avg over a channel window of x²)^beta, the window [c - size//2, c + (size-1)//2]
    zero-padded and divided by size (avg_pool's count_include_pad); alpha 0.5, beta 0.75, k 1.5."""
    c = x.shape[1]
    window = np.array([[1.0 if -(size // 2) <= j - i <= (size - 1) // 2 else 0.0 for j in range(c)] for i in range(c)])
    avg = jnp.moveaxis(jnp.tensordot(x**2, jnp.asarray(window / size), axes=([1], [1])), -1, 1)
    return x / (1.5 + 0.5 * avg) ** 0.75


NORM = [
    op(
        "batch_norm",
        "F.batch_norm({x}, None, None, {y}, {z}, True)",
        _batch_norm,
        [([(3, 2), (2,), (2,)], {}), ([(2, 3, 2), (3,), (3,)], {}), ([(2, 1, 2, 2), (1,), (1,)], {})],
        variants=(
            "torch.native_batch_norm({x}, {y}, {z}, None, None, True, 0.1, 1e-5)[0]",
            "torch._native_batch_norm_legit({x}, {y}, {z}, True, 0.1, 1e-5)[0]",
        ),
        notes="training mode: batch statistics (biased variance), eps 1e-5; weight and bias differentiated",
    ),
    op(
        "batch_norm_eval",
        "F.batch_norm({x}, torch.full_like({y}, 0.25), torch.full_like({y}, 1.5), {y}, {z}, False)",
        _batch_norm_eval,
        [([(2, 3, 2), (3,), (3,)], {})],
        notes="evaluation mode: fixed running statistics (mean 0.25, variance 1.5)",
    ),
    op(
        "group_norm",
        "F.group_norm({x}, {num_groups}, {y}, {z})",
        _group_norm,
        [
            ([(2, 4, 2), (4,), (4,)], dict(num_groups=2, n=2, c=4, hw=2)),
            ([(1, 3, 2, 2), (3,), (3,)], dict(num_groups=3, n=1, c=3, hw=4)),
            ([(2, 2, 3), (2,), (2,)], dict(num_groups=1, n=2, c=2, hw=3)),
        ],
        variants=("torch.native_group_norm({x}, {y}, {z}, {n}, {c}, {hw}, {num_groups}, 1e-5)[0]",),
    ),
    op(
        "instance_norm",
        "F.instance_norm({x}, None, None, {y}, {z})",
        _instance_norm,
        [([(2, 2, 3), (2,), (2,)], {}), ([(1, 3, 2, 2), (3,), (3,)], {})],
    ),
    op(
        "layer_norm_affine",
        "F.layer_norm({x}, {normalized_shape}, {y}, {z})",
        _layer_norm_affine,
        [
            ([(3, 4), (4,), (4,)], dict(normalized_shape=(4,))),
            ([(2, 2, 3), (2, 3), (2, 3)], dict(normalized_shape=(2, 3))),
        ],
        variants=("torch.native_layer_norm({x}, {normalized_shape}, {y}, {z}, 1e-5)[0]",),
        in_trees=True,
    ),
    op(
        "rms_norm",
        "F.rms_norm({x}, {normalized_shape}, {y}, 1e-6)",
        _rms_norm,
        [([(3, 4), (4,)], dict(normalized_shape=(4,))), ([(2, 2, 3), (2, 3)], dict(normalized_shape=(2, 3)))],
        in_trees=True,
    ),
    op(
        "local_response_norm",
        "F.local_response_norm({x}, {size}, 0.5, 0.75, 1.5)",
        _local_response_norm,
        [([(1, 4, 3)], dict(size=3)), ([(1, 3, 2, 2)], dict(size=2))],
    ),
]

# --- embeddings -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Embedding(ShapeRule):
    """``embedding(index, weight)``: the output is index.shape + (dim,); the index's entries repeat."""

    min_rank: int = 2
    max_rank: int = 3

    def produces(self, out: Shape) -> bool:
        return 2 <= len(out) <= 3 and math.prod(out[:-1]) <= 6 and out[-1] <= 3

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        return st.sampled_from([(4, 2), (2, 3, 2)])

    def draw(self, draw: Draw, out: Shape) -> Call:
        from hypothesis.extra import numpy as hnp

        from autograd_conformance.registry.shapes import _nested

        rows = draw(st.integers(2, 4), "embedding rows")
        index = draw(hnp.arrays(np.int64, out[:-1], elements=st.integers(0, rows - 1)), "index")
        return make_call([(rows, out[-1])], index=_nested(index.tolist()))


@dataclass(frozen=True)
class EmbeddingBag(ShapeRule):
    """``embedding_bag(index, weight, offsets)``: a 1-D index cut into bags by sorted offsets (empty bags too);
    with ``weighted``, per_sample_weights of the index's length is a second input."""

    min_rank: int = 2
    max_rank: int = 2
    weighted: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "arity", 2 if self.weighted else 1)

    def produces(self, out: Shape) -> bool:
        return len(out) == 2 and out[0] <= 3 and out[1] <= 3

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        return st.sampled_from([(2, 2), (3, 2)])

    def draw(self, draw: Draw, out: Shape) -> Call:
        rows = draw(st.integers(2, 4), "embedding rows")
        n = draw(st.integers(1, 5), "index length")
        index = draw(st.lists(st.integers(0, rows - 1), min_size=n, max_size=n), "index")
        cuts = draw(st.lists(st.integers(0, n), min_size=out[0] - 1, max_size=out[0] - 1), "bag starts")
        shapes = [(rows, out[1])] + ([(n,)] if self.weighted else [])
        return make_call(shapes, index=tuple(index), offsets=(0, *sorted(cuts)))


def _embedding(w, index):
    return w[np.array(index, dtype=np.int64)]


def _bags(index, offsets):
    bounds = [*offsets, len(index)]
    return [list(range(a, b)) for a, b in zip(bounds, bounds[1:])]


def _embedding_bag(w, index, offsets, mode, weights=None):
    idx = np.array(index, dtype=np.int64)
    out = []
    for positions in _bags(index, offsets):
        if not positions:  # an empty bag is zeros in every mode
            out.append(jnp.zeros(w.shape[1]))
            continue
        rows = w[idx[positions]]
        if weights is not None:
            rows = rows * weights[np.array(positions)][:, None]
        out.append({"sum": jnp.sum, "mean": jnp.mean, "max": jnp.max}[mode](rows, axis=0))
    return jnp.stack(out)


def _bag_tie(inputs, params, margin):
    """max mode: two distinct rows of one bag tie in a column (a repeated row is the same element, no kink)."""
    if params["mode"] != "max":
        return False
    w = inputs[0]
    for positions in _bags(params["index"], params["offsets"]):
        rows = sorted({params["index"][p] for p in positions})
        if len(rows) < 2:
            continue
        values = np.sort(w[rows], axis=0)
        if np.any(np.abs(values[-1] - values[-2]) <= margin * np.maximum(1.0, np.abs(values[-1]))):
            return True
    return False


EMBEDDING = [
    layer(
        "embedding",
        "F.embedding(torch.tensor({index}), {x})",
        _embedding,
        rule=Embedding(),
        in_trees=True,
        notes="repeated indices accumulate into one row's gradient; padding_idx, max_norm and scale_grad_by_freq "
        "are left out: each changes the gradient away from the function's derivative by design",
    ),
    layer(
        "embedding_bag",
        "F.embedding_bag(torch.tensor({index}), {x}, torch.tensor({offsets}), mode={mode})",
        _embedding_bag,
        rule=EmbeddingBag(),
        params={"mode": st.sampled_from(("sum", "mean", "max"))},
        near_kink=_bag_tie,
        forward_ad_in=NO_VERSION,  # "Trying to use forward AD with _embedding_bag that does not support it" (2.9.1, 2.13.0)
        notes="bags cut by offsets, empty bags (zeros) included; max mode: ties between distinct rows are kinks",
    ),
    layer(
        "embedding_bag_weighted",
        "F.embedding_bag(torch.tensor({index}), {x}, torch.tensor({offsets}), mode='sum', per_sample_weights={y})",
        lambda w, weights, index, offsets: _embedding_bag(w, index, offsets, "sum", weights),
        rule=EmbeddingBag(weighted=True),
        forward_ad_in=NO_VERSION,  # as embedding_bag
        double_backward_in=NO_VERSION,  # per_sample_weights' gradient has a NotImplemented grad_fn (2.9.1, 2.13.0)
        notes="per_sample_weights (sum mode) differentiated too",
    ),
]

# --- shuffles, prelu, unfold --------------------------------------------------------------------------


def _prelu(x, w):
    slope = w[0] if w.shape[0] == 1 else _channel(w, x.ndim)
    return jnp.where(x >= 0, x, slope * x)


def _pixel_shuffle(x, upscale_factor):
    r = upscale_factor
    n, c, h, w = x.shape
    y = jnp.reshape(x, (n, c // (r * r), r, r, h, w)).transpose(0, 1, 4, 2, 5, 3)
    return jnp.reshape(y, (n, c // (r * r), h * r, w * r))


def _pixel_unshuffle(x, downscale_factor):
    r = downscale_factor
    n, c, h, w = x.shape
    y = jnp.reshape(x, (n, c, h // r, r, w // r, r)).transpose(0, 1, 3, 5, 2, 4)
    return jnp.reshape(y, (n, c * r * r, h // r, w // r))


def _channel_shuffle(x, groups):
    n, c = x.shape[:2]
    y = jnp.swapaxes(jnp.reshape(x, (n, groups, c // groups, *x.shape[2:])), 1, 2)
    return jnp.reshape(y, x.shape)


def _unfold(x, kernel_size, dilation, padding, stride):
    """im2col: (n, c, h, w) to (n, c·kh·kw, L), each window's elements in (c, kh, kw) order, padding reads 0."""
    n, c = x.shape[:2]
    tables = []
    for size, k, d, p, s in zip(x.shape[2:], kernel_size, dilation, padding, stride):
        out = (size + 2 * p - d * (k - 1) - 1) // s + 1
        pos = np.array([[i * s - p + j * d for j in range(k)] for i in range(out)])
        tables.append(np.where((pos >= 0) & (pos < size), pos, -1))
    win = _gather_windows(x, tables, fill=0.0)  # (n, c, oh, ow, kh, kw)
    oh, ow = tables[0].shape[0], tables[1].shape[0]
    return jnp.reshape(jnp.transpose(win, (0, 1, 4, 5, 2, 3)), (n, c * math.prod(kernel_size), oh * ow))


SHUFFLE = [
    op(
        "prelu",
        "F.prelu({x}, {y})",
        _prelu,
        [([(2, 3, 2), (3,)], {}), ([(1, 2, 2, 2), (1,)], {}), ([(3, 2), (2,)], {})],
        domain=(Domain(kinks=(0.0,)), REALS),
        in_trees=True,
        notes="a weight per channel (dim 1) or one shared; x = 0 is a kink",
    ),
    op(
        "pixel_shuffle",
        "F.pixel_shuffle({x}, {upscale_factor})",
        _pixel_shuffle,
        [([(1, 4, 2, 3)], dict(upscale_factor=2)), ([(2, 9, 1, 1)], dict(upscale_factor=3))],
    ),
    op(
        "pixel_unshuffle",
        "F.pixel_unshuffle({x}, {downscale_factor})",
        _pixel_unshuffle,
        [([(1, 1, 4, 2)], dict(downscale_factor=2)), ([(1, 2, 2, 4)], dict(downscale_factor=2))],
    ),
    op(
        "channel_shuffle",
        "F.channel_shuffle({x}, {groups})",
        _channel_shuffle,
        [([(1, 4, 2)], dict(groups=2)), ([(2, 6, 1, 1)], dict(groups=3))],
        in_trees=True,
    ),
    op(
        "unfold_patches",
        "F.unfold({x}, {kernel_size}, {dilation}, {padding}, {stride})",
        _unfold,
        [
            ([(1, 2, 3, 3)], dict(kernel_size=(2, 2), dilation=(1, 1), padding=(0, 0), stride=(1, 1))),
            ([(1, 1, 4, 3)], dict(kernel_size=(2, 1), dilation=(2, 1), padding=(1, 0), stride=(1, 2))),
        ],
    ),
]

# --- grid_sample --------------------------------------------------------------------------------------


def _unnormalize(g, size, align_corners):
    return (g + 1) / 2 * (size - 1) if align_corners else ((g + 1) * size - 1) / 2


def _grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False):
    """Bilinear or nearest sampling of (n, c, h, w) at grid (n, ho, wo, 2) = (x, y) in [-1, 1]; 'zeros' reads 0
    outside, 'border' clamps the coordinate."""
    n, c, h, w = x.shape
    ix = _unnormalize(grid[..., 0], w, align_corners)
    iy = _unnormalize(grid[..., 1], h, align_corners)
    if padding_mode == "border":
        ix, iy = jnp.clip(ix, 0, w - 1), jnp.clip(iy, 0, h - 1)
    batch = np.arange(n)[:, None, None]

    def read(yy, xx):  # (n, ho, wo) integer coordinates -> (n, c, ho, wo), 0 outside
        inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
        v = x[batch, :, jnp.clip(yy, 0, h - 1), jnp.clip(xx, 0, w - 1)]  # (n, ho, wo, c)
        return jnp.moveaxis(jnp.where(inside[..., None], v, 0.0), -1, 1)

    if mode == "nearest":
        return read(jnp.round(iy).astype(jnp.int64), jnp.round(ix).astype(jnp.int64))
    x0, y0 = jnp.floor(ix), jnp.floor(iy)
    tx, ty = ix - x0, iy - y0
    x0, y0 = x0.astype(jnp.int64), y0.astype(jnp.int64)
    out = 0.0
    for dy, wy in ((0, 1 - ty), (1, ty)):
        for dx, wx in ((0, 1 - tx), (1, tx)):
            out = out + read(y0 + dy, x0 + dx) * (wy * wx)[:, None]
    return out


def _grid_kink(inputs, params, margin):
    """Bilinear: a sampling coordinate on a pixel row or column (the weights' slope jumps there, and at the clamp
    of 'border'); nearest: a coordinate halfway between pixels (the value jumps)."""
    x, grid = inputs[0], inputs[1]
    h, w = x.shape[2:]
    offset = 0.5 if params["mode"] == "nearest" else 0.0
    for size, g in ((w, grid[..., 0]), (h, grid[..., 1])):
        coord = np.asarray(_unnormalize(g, size, params["align_corners"])) - offset
        if np.any(np.abs(coord - np.round(coord)) <= margin * np.maximum(1.0, np.abs(coord))):
            return True
    return False


GRID = [
    op(
        "grid_sample",
        "F.grid_sample({x}, {y}, mode={mode}, padding_mode={padding_mode}, align_corners={align_corners})",
        _grid_sample,
        [([(1, 2, 3, 2), (1, 2, 3, 2)], {}), ([(2, 1, 2, 3), (2, 1, 2, 2)], {})],
        params={
            "mode": st.sampled_from(("bilinear", "nearest")),
            "padding_mode": st.sampled_from(("zeros", "border")),
            "align_corners": _BOOL,
        },
        domain=(REALS, Domain(-1.2, 1.2)),
        near_kink=_grid_kink,
        forward_ad_in=NO_VERSION,  # "Trying to use forward AD with grid_sampler_2d that does not support it" (2.9.1, 2.13.0)
        # "derivative for aten::grid_sampler_2d_backward is not implemented" on 2.9.1; 2.13.0 has it (measured at
        # those two: 2.10 is the assumed first release with it)
        double_backward_in=Versions(since=(2, 10)),
        variants=(
            "torch.grid_sampler_2d({x}, {y}, {{'bilinear': 0, 'nearest': 1}}[{mode}], "
            "{{'zeros': 0, 'border': 1}}[{padding_mode}], {align_corners})",
        ),
        notes="grid sampled in (-1.2, 1.2): some points fall outside the image; nearest mode's grid gradient is 0",
    ),
]

# --- attention ----------------------------------------------------------------------------------------


def _attention(q, k, v, mask=None, is_causal=False):
    scores = jnp.matmul(q, jnp.swapaxes(k, -1, -2), precision=_HIGHEST) / math.sqrt(q.shape[-1])
    if is_causal:
        scores = jnp.where(np.tril(np.ones(scores.shape[-2:], dtype=bool)), scores, -jnp.inf)
    if mask is not None:
        scores = jnp.where(mask, scores, -jnp.inf) if getattr(mask, "dtype", None) == np.bool_ else scores + mask
    return jnp.matmul(jax.nn.softmax(scores, axis=-1), v, precision=_HIGHEST)


# Boolean masks (3 queries × 4 keys), each query keeping at least one key (a row of all False is NaN): a few fixed
# patterns, not a fresh draw per example, since the JAX reference compiles once per mask.
_MASKS = (
    ((True, True, True, True), (True, False, True, False), (False, False, False, True)),
    ((True, False, False, False), (True, True, False, False), (True, True, True, False)),
    ((False, True, True, False), (True, True, True, True), (False, False, True, True)),
)


@dataclass(frozen=True)
class BoolMaskAttention(ShapeRule):
    """sdpa with a drawn boolean mask (l, s): q (…, l, e), k (…, s, e), v (…, s, ev)."""

    arity: int = 3
    min_rank: int = 3
    max_rank: int = 3

    def produces(self, out: Shape) -> bool:
        return tuple(out) == (1, 3, 2)

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        return st.just((1, 3, 2))

    def draw(self, draw: Draw, out: Shape) -> Call:
        return make_call([(1, 3, 2), (1, 4, 2), (1, 4, 2)], mask=draw(st.sampled_from(_MASKS), "attention mask"))


def _mha(x, in_w, in_b, out_w, num_heads):
    """multi_head_attention_forward, self-attention of x (l, n, e), no output bias, eval mode."""
    length, n, e = x.shape
    hd = e // num_heads
    q, k, v = (jnp.matmul(x, wi.T, precision=_HIGHEST) + bi for wi, bi in zip(jnp.split(in_w, 3), jnp.split(in_b, 3)))

    def heads(t):  # (l, n, e) -> (n·heads, l, hd)
        return jnp.swapaxes(jnp.reshape(t, (length, n * num_heads, hd)), 0, 1)

    o = _attention(heads(q), heads(k), heads(v))  # (n·heads, l, hd)
    o = jnp.reshape(jnp.swapaxes(o, 0, 1), (length, n, e))
    return jnp.matmul(o, out_w.T, precision=_HIGHEST)


ATTENTION = [
    op(
        "scaled_dot_product_attention",
        "F.scaled_dot_product_attention({x}, {y}, {z}, is_causal={is_causal})",
        lambda q, k, v, is_causal=False: _attention(q, k, v, is_causal=is_causal),
        [([(1, 3, 2), (1, 4, 2), (1, 4, 3)], {}), ([(2, 2, 2), (2, 3, 2), (2, 3, 1)], {})],
        params={"is_causal": _BOOL},
        notes="3-d q, k, v (torch's math path on the CPU); scale 1/sqrt(e); is_causal masks key j > query i "
        "(top-left aligned)",
    ),
    op(
        "sdpa_heads",
        "F.scaled_dot_product_attention({x}, {y}, {z}, is_causal={is_causal})",
        lambda q, k, v, is_causal=False: _attention(q, k, v, is_causal=is_causal),
        [([(2, 1, 2, 2), (2, 1, 3, 2), (2, 1, 3, 2)], {})],
        params={"is_causal": _BOOL},
        forward_ad_in=NO_VERSION,  # 4-d inputs take _scaled_dot_product_flash_attention_for_cpu: no forward AD
        double_backward_in=NO_VERSION,  # nor a derivative of its backward (2.9.1, 2.13.0)
        notes="4-d (batch, heads, l, e) inputs: torch's flash kernel on the CPU",
    ),
    op(
        "sdpa_float_mask",
        "F.scaled_dot_product_attention({x}, {y}, {z}, {w})",
        lambda q, k, v, m: _attention(q, k, v, mask=m),
        [([(1, 3, 2), (1, 4, 2), (1, 4, 2), (3, 4)], {})],
        notes="an additive float mask, differentiated as a fourth input",
    ),
    layer(
        "sdpa_bool_mask",
        "F.scaled_dot_product_attention({x}, {y}, {z}, torch.tensor({mask}))",
        lambda q, k, v, mask: _attention(q, k, v, mask=np.array(mask, dtype=bool)),
        rule=BoolMaskAttention(),
        notes="a boolean mask drawn from three patterns, each keeping at least one key per query",
    ),
    op(
        "multi_head_attention_forward",
        "F.multi_head_attention_forward({x}, {x}, {x}, {e}, {num_heads}, {y}, {z}, None, None, False, 0.0, {w}, None, "
        "training=False, need_weights=False)[0]",
        lambda x, in_w, in_b, out_w, e, num_heads: _mha(x, in_w, in_b, out_w, num_heads),
        [
            ([(3, 1, 4), (12, 4), (12,), (4, 4)], dict(e=4, num_heads=2)),
            ([(2, 2, 2), (6, 2), (6,), (2, 2)], dict(e=2, num_heads=1)),
        ],
        forward_ad_in=NO_VERSION,  # through the flash kernel, as sdpa_heads
        double_backward_in=NO_VERSION,
        notes="self-attention (query, key and value one tensor, so its gradient sums three paths); in-projection "
        "weight and bias and out-projection weight differentiated; no output bias",
    ),
]

OPS = LINEAR + CONV + POOL + PAD + INTERPOLATE + NORM + EMBEDDING + SHUFFLE + GRID + ATTENTION
