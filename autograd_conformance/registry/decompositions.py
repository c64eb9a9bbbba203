"""Decompositions and solvers, checked through gauge-invariant losses (issue 15, item 4).

A decomposition's factors are not always functions of the matrix: singular vectors and
eigenvectors are defined up to a sign (real) or a phase (complex) per vector, and Q and R of a
QR up to the signs (phases) of R's diagonal.  torch and JAX (and a finite difference that
crosses into another LAPACK branch) may choose differently, so each such entry returns a
*loss that is invariant to that choice*, built from every factor, and says which in its notes:

- ``svd``: U diag(S²) Vᴴ.  Flipping u_i and v_i together (or e^{iθ} on both) leaves it unchanged;
  it depends on U, S and V (it is (A Aᴴ)^{1/2} A), so each one's backward is on the path.
- ``qr``: Q diag(|r_ii|²) R.  Another choice is Q D and D̄ R with D = diag(±1) or diag(e^{iθ}); it changes
  no |r_ii| and D D̄ = I, so the product is the same.
- ``eigh_eigenvectors``: |v_ij|², each eigenvector's squared moduli (invariant to its phase).
- ``eig``: V diag(exp λ) V⁻¹ = expm(A): invariant to any nonzero scaling of each eigenvector.
  torch's backward itself checks that a loss is phase invariant (and raises otherwise).
- ``eigvals``: Σ exp(λ_i), invariant to the order LAPACK returns them in.

Factors that *are* functions of the matrix (LU with partial pivoting on a strictly column
diagonally dominant matrix: P = I, L and U unique) are returned as they are.

**Kinks are declared, not filtered in silence.**  Each entry's ``near_kink`` names the points
where the factors stop being differentiable or the computation is singular: tied singular values
or eigenvalues (the vectors' derivatives divide by the gaps), a zero singular value (rank
changes: pinv and lstsq jump there), a tie between pivot candidates (LU's permutation jumps).
The per-op cells reject draws within the calibrated margin of them (``draw_op_example``), and the
oracles call a point INCONCLUSIVE there; the notes say which test each op declares.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np
from hypothesis import strategies as st

from autograd_conformance.registry.shapes import MAX_SIDE, Draw, MatrixTo, ReduceAll, ShapeRule, Solve, SquareTo
from autograd_conformance.registry.spec import REALS, WELL_CONDITIONED, Call, Shape, declare_family, make_call
from autograd_conformance.versions import NO_VERSION

dec = declare_family("decompositions")


# -- kink tests: inputs arrive as float64 arrays, a complex matrix in its real view (trailing axis 2) --


def _matrix(a: np.ndarray) -> np.ndarray:
    """A registry input as a matrix: a complex one's real view (a trailing axis of 2 on a matrix) joined."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 3 and a.shape[-1] == 2:
        return a[..., 0] + 1j * a[..., 1]
    return a


def _scale(v: np.ndarray) -> float:
    return max(1.0, float(np.max(np.abs(v)))) if v.size else 1.0


def _tie(values: np.ndarray, margin: float) -> bool:
    """Two of ``values`` (real or complex) within ``margin`` (relative) of each other."""
    v = np.asarray(values).ravel()
    if v.size < 2:
        return False
    gaps = np.where(np.eye(v.size, dtype=bool), np.inf, np.abs(v[:, None] - v[None, :]))
    return bool(gaps.min() <= margin * _scale(v))


def _near_zero(values: np.ndarray, margin: float, scale: float) -> bool:
    return bool(np.any(np.abs(values) <= margin * scale))


def singular_tie_or_zero(inputs, params, margin):
    """svd's vectors (and cond): two singular values tied, or one 0."""
    s = np.linalg.svd(_matrix(inputs[0]), compute_uv=False)
    return _tie(s, margin) or _near_zero(s, margin, _scale(s))


def rank_drop(inputs, params, margin):
    """pinv and lstsq jump where the rank changes: the smallest singular value near 0."""
    s = np.linalg.svd(_matrix(inputs[0]), compute_uv=False)
    return _near_zero(s, margin, _scale(s))


def _hermitian(a: np.ndarray) -> np.ndarray:
    return (a + np.swapaxes(a, -1, -2).conj()) / 2


def _ratio(largest: np.ndarray, smallest: np.ndarray) -> float:
    """largest / smallest, the largest over a batch; inf where smallest is 0."""
    return float(np.max(np.divide(largest, smallest, out=np.full_like(largest, np.inf), where=smallest > 0), initial=0.0))


def _condition(a: np.ndarray) -> float:
    """κ(a) = σ_max / σ_min, the largest over a batch; inf at a rank drop."""
    s = np.linalg.svd(a, compute_uv=False)
    return _ratio(s[..., 0], s[..., -1])


def squared_condition(inputs: list[np.ndarray]) -> float:
    """κ(A)² of the first input (the largest over a batch): how much a least-squares residual's derivatives
    amplify rounding (``OpSpec.conditioning``); inf at a rank drop."""
    return _condition(_matrix(inputs[0])) ** 2


# Ops differentiated through a decomposition lose float32 precision with the decomposed matrix's condition:
# the smallest (kept) singular value or eigenvalue is off by about eps·|A|, and V⁻¹ by about eps·κ(V)².
# Measured (torch 2.13.0; random matrices up to 4×4 of multiples of 1/8, a third of the entries 0; the error
# of the float32 gradient in float32 eps, of the scale |e| + max|e|): pinv up to 4.9 κ(A) (2412 matrices),
# Hermitian pinv 8.0 κ (2881), pinv of a rank-r product 10.2 σ₁/σᵣ (2717), lstsq's solution 4.4 κ(A) (7072
# solves, every driver), eig's V exp(Λ) V⁻¹ 7.2 κ(V)² (1913); torch.linalg.inv's: 1.4 κ(A).  The float32
# check's input nudge moves no zero entry, so it does not see this; the thorough profile's targeting found
# 3.9 σ₁/σᵣ (pinv_singular).  Each declares this many times its factor (OpSpec.conditioning).
DECOMPOSITION_ROUNDING = 4


def condition(inputs: list[np.ndarray]) -> float:
    """``DECOMPOSITION_ROUNDING``·κ(A) of the first input: how much pinv's and lstsq's derivatives amplify rounding."""
    return DECOMPOSITION_ROUNDING * _condition(_matrix(inputs[0]))


def eigenvector_condition(inputs: list[np.ndarray]) -> float:
    """``DECOMPOSITION_ROUNDING``·κ(V)² of the first input's eigenvectors (unit columns): eig's V⁻¹."""
    return DECOMPOSITION_ROUNDING * _condition(np.linalg.eig(_matrix(inputs[0]))[1]) ** 2


def product_pinv_condition(inputs: list[np.ndarray]) -> float:
    """``DECOMPOSITION_ROUNDING``·σ₁/σᵣ of the rank-r product of the first two inputs, which pinv decomposes."""
    x, y = _matrix(inputs[0]), _matrix(inputs[1])
    s = np.linalg.svd(x @ y, compute_uv=False)
    return DECOMPOSITION_ROUNDING * _ratio(s[..., 0], s[..., x.shape[-1] - 1])


def hermitian_pinv_condition(inputs: list[np.ndarray]) -> float:
    """``DECOMPOSITION_ROUNDING``·κ of the first input's Hermitian part, which the Hermitian pinv decomposes."""
    return DECOMPOSITION_ROUNDING * _condition(_hermitian(_matrix(inputs[0])))


def eigen_tie(inputs, params, margin):
    """eigh's vectors: two eigenvalues of the Hermitian part tied."""
    return _tie(np.linalg.eigvalsh(_hermitian(_matrix(inputs[0]))), margin)


def eigen_tie_or_zero(inputs, params, margin):
    """Hermitian pinv through eigh: a tie (eigh's backward divides by the gap, though pinv itself is
    smooth there: torch's gradient is nan at an exact tie), or an eigenvalue near 0 (the rank changes)."""
    w = np.linalg.eigvalsh(_hermitian(_matrix(inputs[0])))
    return _tie(w, margin) or _near_zero(w, margin, _scale(w))


def eig_tie(inputs, params, margin):
    """eig's vectors: two (complex) eigenvalues tied; a real matrix's pair turning real passes through one."""
    return _tie(np.linalg.eigvals(_matrix(inputs[0])), margin)


def qr_rank_drop(inputs, params, margin):
    """QR is differentiable while R's leading diagonal stays away from 0 (full rank of the leading columns)."""
    a = _matrix(inputs[0])
    r = np.linalg.qr(a, mode="r")
    d = np.abs(np.diagonal(r))
    return _near_zero(d, margin, _scale(a))


def pivot_tie(inputs, params, margin):
    """LU with partial pivoting: the permutation jumps where two candidates for a pivot tie in magnitude."""
    a = _matrix(inputs[0]).astype(np.complex128).copy()
    n = a.shape[-1]
    for k in range(n - 1):
        col = np.abs(a[k:, k])
        if col.size >= 2:
            top = np.sort(col)[::-1]
            if top[0] - top[1] <= margin * _scale(top):
                return True
        p = k + int(np.argmax(col))
        a[[k, p]] = a[[p, k]]
        if a[k, k] != 0:
            a[k + 1 :, k:] -= np.outer(a[k + 1 :, k] / a[k, k], a[k, k:])
    return False


def product_rank_drop(inputs, params, margin):
    """pinv of a rank-r product x @ y: its r-th singular value must stay far above pinv's cutoff (rtol = 1e-5
    of the largest, so that float32's rounding of the zero ones, about 1e-7, is cut): within 1e-3 (or the
    margin) of it, the rank would change."""
    x, y = _matrix(inputs[0]), _matrix(inputs[1])
    r = x.shape[-1]
    s = np.linalg.svd(x @ y, compute_uv=False)
    return bool(s[r - 1] <= max(margin, 1e-3) * _scale(s))


def _zero(inputs, params, margin):
    return bool(np.linalg.norm(_matrix(inputs[0])) <= margin)


# -- shape rules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SameMatrix(ShapeRule):
    """An m×n matrix in, an m×n matrix out (svd's and qr's losses); ``tall``: m ≥ n."""

    min_rank: int = 2
    max_rank: int = 2
    tall: bool = False

    def produces(self, out: Shape) -> bool:
        return len(out) == 2 and (not self.tall or out[0] >= out[1])

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        sides = st.tuples(st.integers(1, MAX_SIDE), st.integers(1, MAX_SIDE))
        return sides.map(lambda s: (max(s), min(s)) if self.tall else s)

    def draw(self, draw: Draw, out: Shape) -> Call:
        return make_call([out])


@dataclass(frozen=True)
class Transposed(ShapeRule):
    """pinv: an m×n matrix in, n×m out; ``factors``: the matrix is x @ y of rank r < min(m, n)."""

    min_rank: int = 2
    max_rank: int = 2
    factors: bool = False


    def produces(self, out: Shape) -> bool:
        return len(out) == 2 and (not self.factors or min(out) >= 2)

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        low = 2 if self.factors else 1
        return st.tuples(st.integers(low, MAX_SIDE), st.integers(low, MAX_SIDE))

    def draw(self, draw: Draw, out: Shape) -> Call:
        n, m = out
        if not self.factors:
            return make_call([(m, n)])
        r = draw(st.integers(1, min(m, n) - 1), "rank r")
        return make_call([(m, r), (r, n)])


@dataclass(frozen=True)
class Lstsq(ShapeRule):
    """lstsq(A, B): A m×n with m ≥ n, B m×k; the solution is n×k, the residuals (m > n) k."""

    arity: int = 2
    min_rank: int = 1
    max_rank: int = 2
    residuals: bool = False

    def produces(self, out: Shape) -> bool:
        return len(out) == (1 if self.residuals else 2) and (self.residuals or out[0] < MAX_SIDE + 1)

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        rank = 1 if self.residuals else 2
        return st.lists(st.integers(1, MAX_SIDE), min_size=rank, max_size=rank).map(tuple)

    def draw(self, draw: Draw, out: Shape) -> Call:
        if self.residuals:
            (k,) = out
            n = draw(st.integers(1, MAX_SIDE - 1), "cols n")
            m = draw(st.integers(n + 1, MAX_SIDE), "rows m > n")
        else:
            n, k = out
            m = draw(st.integers(n, MAX_SIDE), "rows m ≥ n")
        return make_call([(m, n), (m, k)])


@dataclass(frozen=True)
class Householder(ShapeRule):
    """householder_product(A, tau): A m×n (m ≥ n), tau (k,), k ≤ n; out m×n.  ``ormqr``: also C (m, p); out m×p."""

    min_rank: int = 2
    max_rank: int = 2
    ormqr: bool = False


    def produces(self, out: Shape) -> bool:
        return len(out) == 2 and (self.ormqr or out[0] >= out[1])

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        sides = st.tuples(st.integers(1, MAX_SIDE), st.integers(1, MAX_SIDE))
        return sides if self.ormqr else sides.map(lambda s: (max(s), min(s)))

    def draw(self, draw: Draw, out: Shape) -> Call:
        if self.ormqr:
            m, p = out
            n = draw(st.integers(1, m), "reflector columns n")
        else:
            m, n = out
        # householder_product takes k ≤ n reflectors; ormqr needs exactly min(m, n) = n of them (torch checks).
        k = n if self.ormqr else draw(st.integers(1, n), "reflectors k")
        shapes = [(m, n), (k,)] + ([(m, p)] if self.ormqr else [])
        return make_call(shapes)


@dataclass(frozen=True)
class Fixed(ShapeRule):
    """One fixed call: tensorinv and tensorsolve reshape a 4×4 matrix to (2, 2, 4)."""

    inputs: tuple[Shape, ...] = ((4, 4),)  # arity: len(inputs)
    out: Shape = (4, 2, 2)


    def produces(self, out: Shape) -> bool:
        return tuple(out) == self.out

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        return st.just(self.out)

    def draw(self, draw: Draw, out: Shape) -> Call:
        return make_call(list(self.inputs))


@dataclass(frozen=True)
class SquarePairs(ShapeRule):
    """A square n×n matrix in, an n×n complex matrix out in its real view (n, n, 2): eig of a real matrix."""

    min_rank: int = 3
    max_rank: int = 3

    def produces(self, out: Shape) -> bool:
        return len(out) == 3 and out[0] == out[1] and out[2] == 2

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        return st.integers(1, MAX_SIDE).map(lambda n: (n, n, 2))

    def draw(self, draw: Draw, out: Shape) -> Call:
        return make_call([out[:2]], n=out[0])


@dataclass(frozen=True)
class Vander(ShapeRule):
    """linalg.vander(x, N): (..., n) in, (..., n, N) out; N None means n."""

    min_rank: int = 2
    max_rank: int = 3

    def produces(self, out: Shape) -> bool:
        return 2 <= len(out) <= 3 and out[-1] >= 2  # torch: N must be greater than 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        n_cols = out[-1]
        big_n = None if n_cols == out[-2] and draw(st.booleans(), "N default") else n_cols
        return make_call([out[:-1]], N=big_n)


# -- JAX references ------------------------------------------------------------------------------


def _sym(x):
    return (x + jnp.conj(jnp.swapaxes(x, -1, -2))) / 2


def _svd_loss(x):
    u, s, vh = jnp.linalg.svd(x, full_matrices=False)
    return (u * s**2) @ vh


def _qr_loss(x):
    q, r = jnp.linalg.qr(x)
    return (q * jnp.abs(jnp.diagonal(r)) ** 2) @ r


def _eigh_vectors(x, n=None):
    v = jnp.linalg.eigh(_sym(x))[1]
    return jnp.real(v * jnp.conj(v))


def _eig_expm(x, n=None):
    w, v = jax.lax.linalg.eig(x, compute_left_eigenvectors=False, enable_eigvec_derivs=True)
    return v @ (jnp.exp(w)[:, None] * jnp.linalg.inv(v))


def _pairs(z):
    return jnp.stack([jnp.real(z), jnp.imag(z)], axis=-1)


def _eigvals_exp(x, n=None):
    # The eigenvalues' second derivative goes through the eigenvectors' first: JAX needs them, opted in.
    w = jax.lax.linalg.eig(x, compute_left_eigenvectors=False, enable_eigvec_derivs=True)[0]
    return jnp.real(jnp.sum(jnp.exp(w)))


def _lu(x, n=None):
    p, lower, upper = jsl.lu(x)
    return p @ lower + upper


def _householder_q(a, tau, full: bool):
    """Q = H_1 ... H_k, H_i = I - tau_i v_i v_iᴴ, v_i = (0, ..., 0, 1, a[i+1:, i]) (LAPACK's orgqr)."""
    m, n = a.shape
    q = jnp.eye(m, dtype=jnp.result_type(a, tau))
    for i in range(tau.shape[0]):
        v = jnp.concatenate([jnp.zeros(i, a.dtype), jnp.ones(1, a.dtype), a[i + 1 :, i]])
        q = q - tau[i] * (q @ v)[:, None] * jnp.conj(v)[None, :]
    return q if full else q[:, :n]


def _vander(x, big_n):
    """x^0, ..., x^(N-1) along a new last dim, by products (jnp.vander takes one vector only)."""
    powers = [jnp.ones_like(x)]
    for _ in range((big_n or x.shape[-1]) - 1):
        powers.append(powers[-1] * x)
    return jnp.stack(powers, axis=-1)


def _lstsq_residuals(x, y):
    r = y - x @ (jnp.linalg.pinv(x) @ y)
    return jnp.sum(jnp.abs(r) ** 2, axis=0)


# -- the entries ---------------------------------------------------------------------------------

_SVD = "(lambda r: (r.U * r.S ** 2) @ r.Vh)(torch.linalg.svd({x}, full_matrices=False))"
_QR = "(lambda r: (r.Q * r.R.diagonal(dim1=-2, dim2=-1).abs() ** 2) @ r.R)(torch.linalg.qr({x}))"
_EIGH_V = "(lambda V: torch.real(V * V.conj()))(torch.linalg.eigh(({x} + {x}.mH) / 2).eigenvectors)"
_EIG = "(lambda r: r.eigenvectors @ (r.eigenvalues.exp().unsqueeze(-1) * torch.linalg.inv(r.eigenvectors)))(torch.linalg.eig({x}))"
_CHOLESKY_SOLVE = (
    "torch.cholesky_solve({y}, torch.linalg.cholesky({x} @ {x}.mH + torch.eye({n}, dtype={x}.dtype), upper={upper}), "
    "upper={upper})"
)

OPS = [
    dec(
        "svd",
        _SVD,
        _svd_loss,
        rule=SameMatrix(),
        near_kink=singular_tie_or_zero,
        variants=("(lambda r: (r.U * r.S ** 2) @ r.V.mH)(torch.svd({x}))",),
        notes="gauge-invariant loss U diag(S²) Vᴴ (sign/phase of each u_i, v_i pair cancels); kinks: tied or zero singular values",
    ),
    dec(
        "qr",
        _QR,
        _qr_loss,
        rule=SameMatrix(tall=True),
        near_kink=qr_rank_drop,
        variants=("(lambda r: (r.Q * r.R.diagonal(dim1=-2, dim2=-1).abs() ** 2) @ r.R)(torch.qr({x}))",),
        notes="gauge-invariant loss Q diag(|r_ii|²) R (the signs/phases of R's diagonal cancel); m ≥ n (JAX's "
        "QR derivative is for tall matrices); kink: a diagonal element of R near 0",
    ),
    dec(
        "eigh_eigenvectors",
        _EIGH_V,
        _eigh_vectors,
        rule=SquareTo(),
        near_kink=eigen_tie,
        notes="eigh's eigenvectors through |v_ij|² (invariant to each vector's sign/phase); the eigenvalues are "
        "eigh_eigenvalues (linalg); kink: tied eigenvalues of the symmetrized matrix",
    ),
    dec(
        "eig",
        "torch.view_as_real(" + _EIG + ")",
        lambda x, n=None: _pairs(_eig_expm(x)),
        rule=SquarePairs(),
        near_kink=eig_tie,
        conditioning=eigenvector_condition,
        notes="V diag(exp λ) V⁻¹ = expm(A), invariant to each eigenvector's scale and phase, in the real view "
        "(its imaginary part is 0 for a real A, and so is its gradient); JAX's eigenvector derivative with "
        "enable_eigvec_derivs; kink: tied eigenvalues; rounding grows with κ(V)² (eigenvector_condition)",
    ),
    dec(
        "eigvals",
        "torch.linalg.eigvals({x}).exp().sum(-1).real",
        _eigvals_exp,
        rule=SquareTo(out_rank=0),
        near_kink=eig_tie,
        notes="Σ exp(λ_i): invariant to the order LAPACK returns the eigenvalues in; kink: tied eigenvalues",
    ),
    dec(
        "lu",
        "(lambda r: r.P @ r.L + r.U)(torch.linalg.lu({x}))",
        _lu,
        rule=SquareTo(),
        domain=WELL_CONDITIONED,
        near_kink=pivot_tie,
        variants=(
            "(lambda r: r[0] @ r[1] + r[2])(torch.lu_unpack(*torch.linalg.lu_factor({x})))",
            "(lambda r: r[0] @ r[1] + r[2])(torch.lu_unpack(*torch.lu({x})))",
        ),
        notes="P L + U: on X + n·I (strictly column diagonally dominant) partial pivoting never swaps, so P = I "
        "and L, U are functions of the matrix; kink: two pivot candidates tied in magnitude",
    ),
    dec(
        "lu_factor",
        "torch.linalg.lu_factor({x}).LU",
        lambda x, n=None: jsl.lu_factor(x)[0],
        rule=SquareTo(),
        domain=WELL_CONDITIONED,
        near_kink=pivot_tie,
        variants=("torch.linalg.lu_factor_ex({x}).LU", "torch.lu({x})[0]"),
        notes="the packed factors L - I + U; as lu",
    ),
    dec(
        "lu_solve",
        "torch.linalg.lu_solve(*torch.linalg.lu_factor({x}), {y})",
        lambda x, y, n=None: jsl.lu_solve(jsl.lu_factor(x), y),
        rule=Solve(),
        domain=(WELL_CONDITIONED, REALS),
        near_kink=pivot_tie,
        variants=("torch.lu_solve({y}, *torch.linalg.lu_factor({x}))",),
        notes="A⁻¹B through the LU factors (both inputs on the gradient path); as lu",
    ),
    dec(
        "solve_triangular",
        "torch.linalg.solve_triangular({x}, {y}, upper={upper}, unitriangular={unitriangular})",
        lambda x, y, n=None, upper=True, unitriangular=False: jsl.solve_triangular(
            x, y, lower=not upper, unit_diagonal=unitriangular
        ),
        rule=Solve(),
        domain=(WELL_CONDITIONED, REALS),
        params={"upper": st.booleans(), "unitriangular": st.booleans()},
        variants=(
            "torch.triangular_solve({y}, {x}, upper={upper}, unitriangular={unitriangular}).solution",
        ),
        notes="only A's triangle (and with unitriangular not its diagonal) is read: the gradient of the rest is 0",
    ),
    dec(
        "cholesky_solve",
        _CHOLESKY_SOLVE,
        lambda x, y, n, upper=False: jnp.linalg.solve(x @ jnp.conj(jnp.swapaxes(x, -1, -2)) + jnp.eye(n), y),
        rule=Solve(),
        params={"upper": st.booleans()},
        notes="(x xᴴ + I)⁻¹ B through its Cholesky factor, lower or upper: positive definite for every x",
    ),
    dec(
        "lstsq",
        "torch.linalg.lstsq({x}, {y}, driver={driver}).solution",
        lambda x, y, driver: jnp.linalg.pinv(x) @ y,
        rule=Lstsq(),
        params={"driver": st.sampled_from(("gelsy", "gelsd", "gelss", "gels"))},
        near_kink=rank_drop,
        conditioning=condition,
        notes="A m×n, m ≥ n, of full column rank: the solution is pinv(A) B (JAX's pinv, whose derivative is "
        "smooth, not its SVD-based lstsq); kink: rank drop; rounding grows with κ(A) (condition)",
    ),
    dec(
        "lstsq_residuals",
        "torch.linalg.lstsq({x}, {y}, driver={driver}).residuals",
        lambda x, y, driver: _lstsq_residuals(x, y),
        rule=Lstsq(residuals=True),
        params={"driver": st.sampled_from(("gelsd", "gelss"))},
        near_kink=rank_drop,
        conditioning=squared_condition,
        notes="the squared residual norms, which torch returns for m > n with an SVD driver; kink: rank drop.  "
        "torch's derivatives use the rounded residual r = B - A X, off by about eps·|A||X| (|X| ~ κ|B|/|A|): "
        "where B is in A's range the exact derivative is 0 and torch's is eps·κ(A)² (2.2e-11 at κ = 520)",
    ),
    dec(
        "pinv",
        "torch.linalg.pinv({x})",
        lambda x: jnp.linalg.pinv(x),
        rule=Transposed(),
        near_kink=rank_drop,
        conditioning=condition,
        variants=("torch.pinverse({x})",),
        notes="full-rank m×n; kink: a singular value near 0 (the rank changes and pinv jumps); rounding grows "
        "with κ(A) (condition)",
    ),
    dec(
        "pinv_hermitian",
        "torch.linalg.pinv(({x} + {x}.mH) / 2, hermitian=True)",
        lambda x, n: jnp.linalg.pinv(_sym(x), hermitian=True),
        rule=SquareTo(),
        near_kink=eigen_tie_or_zero,
        conditioning=hermitian_pinv_condition,
        notes="torch's Hermitian pinv goes through eigh: kinks at tied eigenvalues (eigh's backward divides by "
        "the gap) and at an eigenvalue near 0; rounding grows with κ (hermitian_pinv_condition)",
    ),
    dec(
        "pinv_singular",
        "torch.linalg.pinv({x} @ {y}, rtol=1e-05)",
        lambda x, y: jnp.linalg.pinv(x @ y, rtol=1e-5),
        rule=Transposed(arity=2, factors=True),
        near_kink=product_rank_drop,
        conditioning=product_pinv_condition,
        notes="pinv of a rank-deficient product x @ y (x m×r, y r×n, r < min(m, n)): differentiable in x and y, "
        "which keep the rank; rtol=1e-5 cuts the zero singular values (float32 rounds them to about 1e-7); "
        "kink: the product's r-th singular value within 1e-3 of its largest",
    ),
    dec(
        "householder_product",
        "torch.linalg.householder_product({x}, {y})",
        lambda x, y: _householder_q(x, y, full=False),
        rule=Householder(arity=2),
        notes="JAX has no derivative of householder_product: the reference multiplies the reflectors out",
    ),
    dec(
        "ormqr",
        "torch.ormqr({x}, {y}, {z}, transpose={transpose})",
        lambda x, y, z, transpose: (jnp.conj(_householder_q(x, y, True).T) if transpose else _householder_q(x, y, True)) @ z,
        rule=Householder(arity=3, ormqr=True),
        params={"transpose": st.booleans()},
        forward_ad_in=NO_VERSION,  # "Trying to use forward AD with ormqr that does not support it" (2.9.1, 2.13.0)
        notes="Q C or Qᴴ C with the full m×m Q of the reflectors; JAX has no ormqr: multiplied out",
    ),
    dec(
        "cond",
        "torch.linalg.cond({x}, p={p})",
        lambda x, n, p: jnp.linalg.cond(x, p),
        rule=SquareTo(out_rank=0),
        domain=WELL_CONDITIONED,
        params={"p": st.sampled_from((None, "fro", "nuc"))},
        near_kink=singular_tie_or_zero,
        # Its backward raises for p='fro' (a torch bug, baselined per op): in a tree that error would end
        # every check of the other ops, so cond is checked alone.
        in_trees=False,
        notes="2-norm (s_max/s_min), Frobenius or nuclear condition number; kink: tied singular values",
    ),
    dec(
        "linalg_norm",
        "torch.linalg.norm({x})",
        lambda x: jnp.sqrt(jnp.sum(x * x)),
        rule=ReduceAll(),
        near_kink=_zero,
        notes="the 2-norm of the flattened input (ord and dim None); kink: 0",
    ),
    dec(
        "linalg_norm_matrix",
        "torch.linalg.norm({x}, ord={ord})",
        lambda x, ord: jnp.linalg.norm(x, ord),
        rule=MatrixTo(out_rank=0),
        params={"ord": st.sampled_from(("fro", "nuc"))},
        near_kink=singular_tie_or_zero,
        notes="Frobenius and nuclear norms of a matrix; kink: a zero singular value (declared with ties)",
    ),
    dec(
        "tensorinv",
        "torch.linalg.tensorinv({x}.reshape(2, 2, 4), ind=2)",
        lambda x: jnp.linalg.tensorinv(x.reshape(2, 2, 4), ind=2),
        rule=Fixed(),
        domain=WELL_CONDITIONED,
        notes="a 4×4 invertible matrix read as a (2, 2, 4) tensor",
    ),
    dec(
        "tensorsolve",
        "torch.linalg.tensorsolve({x}.reshape(2, 2, 4), {y})",
        lambda x, y: jnp.linalg.tensorsolve(x.reshape(2, 2, 4), y),
        rule=Fixed(arity=2, inputs=((4, 4), (2, 2)), out=(4,)),
        domain=(WELL_CONDITIONED, REALS),
        notes="a 4×4 invertible matrix read as a (2, 2, 4) tensor, B (2, 2)",
    ),
    dec(
        "vander",
        "torch.linalg.vander({x}, N={N})",
        lambda x, N: _vander(x, N),  # noqa: N803 - torch.linalg.vander calls it N
        rule=Vander(),
        notes="powers x^0 ... x^(N-1) along a new last dim",
    ),
]

_BY_NAME = {op.name: op for op in OPS}

# Complex forms (complexified in autograd_conformance.registry.complex, complex128/complex64 cells in the real
# view): the same losses are invariant to a phase e^{iθ} per vector (per diagonal element of R), which
# is the complex gauge; torch's svd, eigh and eig backward check that invariance and raise without it.
ON_COMPLEX: list[tuple] = [
    (_BY_NAME["svd"], {"near_kink": singular_tie_or_zero}),
    (_BY_NAME["qr"], {"near_kink": qr_rank_drop}),
    (_BY_NAME["eigh_eigenvectors"], {"near_kink": eigen_tie, "complex_output": False}),
    (replace(_BY_NAME["eig"], torch=_EIG, jax=lambda x, n=None: _eig_expm(x), rule=SquareTo()), {"near_kink": eig_tie}),
    (_BY_NAME["householder_product"], {}),
]
