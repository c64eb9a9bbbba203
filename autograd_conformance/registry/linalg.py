"""Linear algebra: products, einsum, trace/diag/tril, and decompositions on well-conditioned or SPD leaves.

Ops that need an invertible or SPD argument declare a matrix ``Domain``; the leaf
sampler builds X + n·I (or (X + Xᵀ)/2 + n·I) from elements in (-1, 1), and such
ops take only leaf children in trees.  Cholesky, eigh and logdet symmetrize in the
template, so the function is defined on every square matrix.
Simplest first: Hypothesis's ``sampled_from`` shrinks toward the first entry.
"""

from __future__ import annotations

import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from autograd_conformance.registry.shapes import (
    Cross,
    Inner,
    Kron,
    MatMul,
    MatrixTo,
    MatrixTranspose,
    MatVec,
    Outer,
    Solve,
    SquareTo,
    VectorToDiag,
)
from autograd_conformance.registry.spec import REALS, SPD, WELL_CONDITIONED, declare_family

MM = MatMul()
BMM = MatMul(batch=True)


la = declare_family("linalg")


def _gaps(values: np.ndarray, margin: float, with_zero: bool) -> bool:
    v = np.sort(values)
    scale = max(1.0, float(np.max(np.abs(v)))) if v.size else 1.0
    tie = bool(np.any(np.diff(v) <= margin * scale))
    return tie or (with_zero and bool(np.any(np.abs(v) <= margin * scale)))


def _singular_tie(inputs, params, margin):
    """svdvals: not differentiable where two singular values tie or one is 0."""
    return _gaps(np.linalg.svd(inputs[0], compute_uv=False), margin, with_zero=True)


def _singular_zero(inputs, params, margin):
    """Nuclear norm: not differentiable where a singular value is 0."""
    s = np.linalg.svd(inputs[0], compute_uv=False)
    return bool(np.any(s <= margin * max(1.0, float(np.max(s)))))


def _eigen_tie(inputs, params, margin):
    """eigh/eigvalsh of the symmetrized matrix: not differentiable where two eigenvalues tie."""
    x = inputs[0]
    return _gaps(np.linalg.eigvalsh((x + x.T) / 2), margin, with_zero=False)


def _zero_matrix(inputs, params, margin):
    return bool(np.linalg.norm(inputs[0]) <= margin)


def _sym(x):
    return (x + jnp.swapaxes(x, -1, -2)) / 2


OPS = [
    la("matmul", "{x} @ {y}", jnp.matmul, rule=MM, variants=("torch.matmul({x}, {y})", "torch.mm({x}, {y})", "{y}.__rmatmul__({x})")),
    la("matmul_batched", "{x} @ {y}", jnp.matmul, rule=BMM, variants=("torch.bmm({x}, {y})",)),
    la("matvec", "{x} @ {y}", jnp.matmul, rule=MatVec(), variants=("torch.mv({x}, {y})",)),
    la("dot", "torch.dot({x}, {y})", jnp.dot, rule=Inner()),
    la("inner", "torch.inner({x}, {y})", jnp.inner, rule=Inner()),
    la("vecdot", "torch.linalg.vecdot({x}, {y})", lambda x, y: jnp.sum(x * y, axis=-1), rule=Inner()),
    la("tensordot", "torch.tensordot({x}, {y}, dims=1)", lambda x, y: jnp.tensordot(x, y, axes=1), rule=MM),
    la("multi_dot", "torch.linalg.multi_dot([{x}, {y}])", jnp.matmul, rule=MM),
    la("outer", "torch.outer({x}, {y})", jnp.outer, rule=Outer()),
    la("einsum_mm", "torch.einsum('ij,jk->ik', {x}, {y})", lambda x, y: jnp.einsum("ij,jk->ik", x, y), rule=MM),
    la("einsum_inner", "torch.einsum('ij,ij->', {x}, {y})", lambda x, y: jnp.einsum("ij,ij->", x, y), rule=Inner(in_rank=2)),
    la("einsum_bmm", "torch.einsum('bij,bjk->bik', {x}, {y})", lambda x, y: jnp.einsum("bij,bjk->bik", x, y), rule=BMM),
    la("einsum_outer", "torch.einsum('i,j->ij', {x}, {y})", lambda x, y: jnp.einsum("i,j->ij", x, y), rule=Outer()),
    la("einsum_transpose", "torch.einsum('ij->ji', {x})", lambda x: jnp.einsum("ij->ji", x), rule=MatrixTranspose()),
    la("einsum_trace", "torch.einsum('ii->', {x})", lambda x, n: jnp.einsum("ii->", x), rule=SquareTo(out_rank=0)),
    la("kron", "torch.kron({x}, {y})", jnp.kron, rule=Kron()),
    la("cross", "torch.linalg.cross({x}, {y})", lambda x, y: jnp.cross(x, y), rule=Cross()),
    la(
        "trace",
        "torch.trace({x})",
        jnp.trace,
        rule=MatrixTo(out_rank=0),
        notes="m×n, square or not: the sum of the min(m, n) diagonal elements",
    ),
    la("diag_embed_vector", "torch.diag({x})", jnp.diag, rule=VectorToDiag()),
    la("diag_of_matrix", "torch.diag({x})", jnp.diag, rule=MatrixTo(out_rank=1)),
    la("diagonal", "torch.diagonal({x})", jnp.diagonal, rule=MatrixTo(out_rank=1), variants=("torch.linalg.diagonal({x})", "torch.diagonal_copy({x})")),
    la("tril", "torch.tril({x}, {diagonal})", lambda x, diagonal: jnp.tril(x, diagonal), rule=MatrixTo(out_rank=2)),
    la("triu", "{x}.triu({diagonal})", lambda x, diagonal: jnp.triu(x, diagonal), rule=MatrixTo(out_rank=2)),
    la("matrix_power", "torch.linalg.matrix_power({x}, 3)", lambda x, n: jnp.linalg.matrix_power(x, 3), rule=SquareTo()),
    la(
        "matrix_norm_fro",
        "torch.linalg.matrix_norm({x})",
        lambda x: jnp.linalg.norm(x, "fro"),
        rule=MatrixTo(out_rank=0),
        variants=("torch.norm({x}, p='fro')",),
        near_kink=_zero_matrix,
    ),
    la("det", "torch.linalg.det({x})", lambda x, n: jnp.linalg.det(x), rule=SquareTo(out_rank=0), domain=WELL_CONDITIONED, variants=("torch.det({x})",)),
    la(
        "slogdet",
        "torch.linalg.slogdet({x}).logabsdet",
        lambda x, n: jnp.linalg.slogdet(x)[1],
        rule=SquareTo(out_rank=0),
        domain=WELL_CONDITIONED,
    ),
    la(
        "logdet",
        "torch.logdet(({x} + {x}.mT) / 2)",
        lambda x, n: jnp.linalg.slogdet(_sym(x))[1],
        rule=SquareTo(out_rank=0),
        domain=SPD,
    ),
    la("inv", "torch.linalg.inv({x})", lambda x, n: jnp.linalg.inv(x), rule=SquareTo(), domain=WELL_CONDITIONED, variants=("torch.inverse({x})", "torch.linalg.inv_ex({x}).inverse")),
    la(
        "solve",
        "torch.linalg.solve({x}, {y})",
        lambda x, y, n: jnp.linalg.solve(x, y),
        rule=Solve(),
        domain=(WELL_CONDITIONED, REALS),
        variants=("torch.linalg.solve_ex({x}, {y}).result",),
    ),
    la(
        "cholesky",
        "torch.linalg.cholesky(({x} + {x}.mT) / 2)",
        lambda x, n: jnp.linalg.cholesky(_sym(x)),
        rule=SquareTo(),
        domain=SPD,
        variants=("torch.cholesky(({x} + {x}.mT) / 2)", "torch.linalg.cholesky_ex(({x} + {x}.mT) / 2).L"),
    ),
    la(
        "cholesky_inverse",
        "torch.cholesky_inverse(torch.linalg.cholesky({x} @ {x}.mH + torch.eye({n}, dtype={x}.dtype)))",
        lambda x, n: jnp.linalg.inv(x @ jnp.conj(jnp.swapaxes(x, -1, -2)) + jnp.eye(n)),
        rule=SquareTo(),
        notes="(L Lᴴ)⁻¹ for L the Cholesky factor of x xᴴ + I, positive definite for every x (and complex x)",
    ),
    la(
        "matrix_exp",
        "torch.linalg.matrix_exp({x})",
        lambda x, n: jsl.expm(x),
        rule=SquareTo(),
        domain=WELL_CONDITIONED,
        notes="entries kept near 1 so expm stays moderate",
    ),
    la("svdvals", "torch.linalg.svdvals({x})", jnp.linalg.svdvals, rule=MatrixTo(out_rank=1), near_kink=_singular_tie),
    la(
        "nuclear_norm",
        "torch.linalg.matrix_norm({x}, ord='nuc')",
        lambda x: jnp.linalg.norm(x, "nuc"),
        rule=MatrixTo(out_rank=0),
        variants=("torch.norm({x}, p='nuc')",),
        near_kink=_singular_zero,
    ),
    la(
        "eigh_eigenvalues",
        "torch.linalg.eigh(({x} + {x}.mT) / 2).eigenvalues",
        lambda x, n: jnp.linalg.eigh(_sym(x))[0],
        rule=SquareTo(out_rank=1),
        near_kink=_eigen_tie,
    ),
    la(
        "eigvalsh",
        "torch.linalg.eigvalsh(({x} + {x}.mT) / 2)",
        lambda x, n: jnp.linalg.eigvalsh(_sym(x)),
        rule=SquareTo(out_rank=1),
        near_kink=_eigen_tie,
    ),
]
