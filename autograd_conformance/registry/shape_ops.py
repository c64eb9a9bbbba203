"""Shape and view ops: reshape, transpose, permute, expand, squeeze, slicing, gather, cat, stack, flip, roll ...

Their gradients move or sum elements without arithmetic, so torch and JAX agree exactly.
Simplest first: Hypothesis's ``sampled_from`` shrinks toward the first entry.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from autograd_conformance.registry.shapes import (
    AlongDim,
    Cat,
    Expand,
    Gather,
    IndexSelect,
    MatrixTranspose,
    MoveDim,
    Narrow,
    Permute,
    Repeat,
    Reshape,
    Roll,
    Same,
    Select,
    Slice,
    Squeeze,
    Stack,
    Transpose,
    Unsqueeze,
)
from autograd_conformance.registry.spec import declare_family

shape_op = declare_family("shape")


def _swap(x, dim0, dim1):
    return jnp.swapaxes(x, dim0, dim1)


OPS = [
    shape_op("clone", "{x}.clone()", lambda x: x, rule=Same(), variants=("torch.alias_copy({x})", "torch.positive({x})")),
    shape_op("contiguous", "{x}.contiguous()", lambda x: x, rule=Same()),
    shape_op("reshape", "{x}.reshape({shape})", lambda x, shape: jnp.reshape(x, shape), rule=Reshape(), variants=("torch.reshape({x}, {shape})", "{x}.reshape_as(torch.empty({shape}))")),
    shape_op(
        "view",
        "{x}.contiguous().view({shape})",
        lambda x, shape: jnp.reshape(x, shape),
        rule=Reshape(),
        notes="view needs compatible strides; contiguous() makes any layout viewable",
        variants=("torch.view_copy({x}.contiguous(), {shape})", "{x}.contiguous().view_as(torch.empty({shape}))"),
    ),
    shape_op("flatten", "torch.flatten({x})", lambda x, shape: jnp.ravel(x), rule=Reshape(min_rank=1, max_rank=1), variants=("torch.ravel({x})", "{x}.ravel()")),
    shape_op("transpose", "torch.transpose({x}, {dim0}, {dim1})", _swap, rule=Transpose(), variants=("{x}.swapaxes({dim0}, {dim1})", "torch.transpose_copy({x}, {dim0}, {dim1})")),
    shape_op("T", "{x}.T", lambda x: x.T, rule=MatrixTranspose(), variants=("{x}.t()", "torch.t_copy({x})", "{x}.H")),
    shape_op("mT", "{x}.mT", lambda x: jnp.swapaxes(x, -1, -2), rule=MatrixTranspose(max_rank=3)),
    shape_op("permute", "{x}.permute({dims})", lambda x, dims: jnp.transpose(x, dims), rule=Permute(), variants=("torch.permute_copy({x}, {dims})",)),
    shape_op(
        "movedim",
        "torch.movedim({x}, {source}, {destination})",
        lambda x, source, destination: jnp.moveaxis(x, source, destination),
        rule=MoveDim(),
    ),
    shape_op("expand", "{x}.expand({size})", lambda x, size: jnp.broadcast_to(x, size), rule=Expand(), variants=("torch.expand_copy({x}, {size})", "{x}.expand_as(torch.empty({size}))")),
    shape_op("broadcast_to", "torch.broadcast_to({x}, {size})", lambda x, size: jnp.broadcast_to(x, size), rule=Expand()),
    shape_op("squeeze", "{x}.squeeze({dim})", lambda x, dim: jnp.squeeze(x, dim), rule=Squeeze(), variants=("torch.squeeze_copy({x}, {dim})", "{x}.squeeze(({dim},))")),
    shape_op("unsqueeze", "torch.unsqueeze({x}, {dim})", lambda x, dim: jnp.expand_dims(x, dim), rule=Unsqueeze(), variants=("torch.unsqueeze_copy({x}, {dim})",)),
    shape_op(
        "slice",
        "{x}[{index}]",
        lambda x, index, dim, start, stop, step: jax.lax.slice_in_dim(x, start, stop, step, axis=dim),
        rule=Slice(),
        variants=("torch.ops.aten.slice.Tensor({x}, {dim}, {start}, {stop}, {step})",),
    ),
    shape_op(
        "narrow",
        "torch.narrow({x}, {dim}, {start}, {length})",
        lambda x, dim, start, length: jax.lax.slice_in_dim(x, start, start + length, axis=dim),
        rule=Narrow(),
        variants=("torch.narrow_copy({x}, {dim}, {start}, {length})",),
    ),
    shape_op("select", "{x}.select({dim}, {index})", lambda x, dim, index: jnp.take(x, index, axis=dim), rule=Select()),
    shape_op(
        "index_select",
        "torch.index_select({x}, {dim}, torch.tensor({index}))",
        lambda x, dim, index: jnp.take(x, jnp.array(index, dtype=jnp.int64), axis=dim),
        rule=IndexSelect(),
        notes="repeated indices accumulate",
    ),
    shape_op(
        "gather",
        "torch.gather({x}, {dim}, torch.tensor({index}))",
        lambda x, dim, index: jnp.take_along_axis(x, jnp.array(index, dtype=jnp.int64), axis=dim),
        rule=Gather(),
    ),
    shape_op(
        "take_along_dim",
        "torch.take_along_dim({x}, torch.tensor({index}), dim={dim})",
        lambda x, dim, index: jnp.take_along_axis(x, jnp.array(index, dtype=jnp.int64), axis=dim),
        rule=Gather(),
    ),
    shape_op("cat", "torch.cat([{x}, {y}], dim={dim})", lambda x, y, dim: jnp.concatenate([x, y], axis=dim), rule=Cat()),
    shape_op("stack", "torch.stack([{x}, {y}], dim={dim})", lambda x, y, dim: jnp.stack([x, y], axis=dim), rule=Stack()),
    shape_op("flip", "torch.flip({x}, [{dim}])", lambda x, dim: jnp.flip(x, axis=dim), rule=AlongDim()),
    shape_op(
        "roll",
        "torch.roll({x}, shifts={shifts}, dims={dims})",
        lambda x, shifts, dims: jnp.roll(x, shifts, axis=dims),
        rule=Roll(),
    ),
    shape_op("repeat", "{x}.repeat({repeats})", lambda x, repeats: jnp.tile(x, repeats), rule=Repeat()),
    shape_op("tile", "torch.tile({x}, {repeats})", lambda x, repeats: jnp.tile(x, repeats), rule=Repeat()),
]
