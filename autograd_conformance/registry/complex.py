"""Complex autograd, checked through the real view of every complex tensor.

A complex tensor ``z`` of shape ``s`` is held as the real tensor ``torch.view_as_real(z)`` of shape
``s + (2,)`` (real and imaginary parts on the last axis).  Each entry here is a registry op
rewritten that way: ``torch.view_as_real(torch.sin(torch.view_as_complex(x0)))``.  That is a real
function of real inputs, so every oracle and property of the suite applies unchanged, and no
convention enters the comparison: torch's complex gradient is right exactly when the real
gradient of its real view is (torch's ``z.grad`` for a real loss L is ∂L/∂x + i·∂L/∂y, which
``view_as_complex``'s backward turns into the pair (∂L/∂x, ∂L/∂y); ``jax.grad`` would give the
conjugate, and the real view of the JAX function sidesteps it too; the convention itself is
``autograd_conformance.conventions.COMPLEX_GRADIENT``, with its test).  Forward mode takes complex
tangents the same way: a pair of real tangents.

Domains apply to the real and the imaginary part alike.  That keeps each op off its branch cuts
without a complex domain type: log's (0, ∞) puts z in the open first quadrant, away from the
cut along (-∞, 0]; asin's (-1, 1) keeps Re z off the cuts (-∞, -1] and [1, ∞).  Ops whose
derivative is singular at one complex point (abs, angle, sgn at 0) say so with ``near_kink``.

``OPS`` are keyed by the same names as their real twins; a complex cell is the case
``Case("sin", ..., "complex128")`` (``autograd_conformance.case.Case.spec`` looks here for complex dtypes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax import lax

from autograd_conformance.registry import activations, binary, decompositions, fft, linalg, reductions, shape_ops, unary
from autograd_conformance.registry.shapes import Draw, Same, ShapeRule
from autograd_conformance.registry.spec import REALS, Call, Domain, OpSpec, Shape, make_call
from autograd_conformance.tree import Leaf, Tree

COMPLEX_DTYPES = {"complex128": "float64", "complex64": "float32"}  # the real dtype of each one's real view


def _pair_shaped(shape: Shape) -> bool:
    """Whether a real output could be read as a complex tensor's real view by the op above it in a tree.
    Real outputs never are: torch.real(z) is a view with stride 2, and view_as_complex refuses it
    (a raise, not a gradient; found by the README command under seed 2678933069: abs(real(x0)))."""
    return len(shape) >= 1 and shape[-1] == 2


@dataclass(frozen=True)
class RealView(ShapeRule):
    """A complex op's shape rule in the real view: each complex input and a complex output carry a
    trailing axis of 2.  Not ``elementwise`` for the JAX oracle (its flat buckets would split pairs)."""

    base: ShapeRule = Same()
    complex_inputs: tuple[bool, ...] = (True,)
    complex_output: bool = True

    def produces(self, out: Shape) -> bool:
        if self.complex_output:
            return len(out) >= 1 and out[-1] == 2 and self.base.produces(out[:-1])
        return not _pair_shaped(out) and self.base.produces(out)

    def out_shapes(self):
        shapes = self.base.out_shapes()
        return shapes.map(lambda s: (*s, 2)) if self.complex_output else shapes.filter(lambda s: not _pair_shaped(s))

    def draw(self, draw: Draw, out: Shape) -> Call:
        call = self.base.draw(draw, out[:-1] if self.complex_output else out)
        shapes = [(*s, 2) if c else s for s, c in zip(call.input_shapes, self.complex_inputs)]
        return make_call(shapes, **call.kwargs)


def _as_complex(pairs: Any) -> Any:
    return lax.complex(pairs[..., 0], pairs[..., 1])


def _as_pairs(z: Any) -> Any:
    return jnp.stack([jnp.real(z), jnp.imag(z)], axis=-1)


def _jax(base: Any, complex_inputs: tuple[bool, ...], complex_output: bool) -> Any:
    def real_view(*arrays: Any, **params: Any) -> Any:
        args = [_as_complex(a) if c else a for a, c in zip(arrays, complex_inputs)]
        out = base(*args, **params)
        return _as_pairs(out) if complex_output else out

    real_view.__name__ = f"real_view_of_{getattr(base, '__name__', 'op')}"
    return real_view


def _template(torch: str, complex_inputs: tuple[bool, ...], complex_output: bool) -> str:
    for name, c in zip("xyzw", complex_inputs):
        if c:
            torch = torch.replace("{" + name + "}", "torch.view_as_complex({" + name + "})")
    return f"torch.view_as_real({torch})" if complex_output else torch


def _near_zero(inputs: list, params: dict, margin: float, which: tuple[int, ...] = (0,)) -> bool:
    """Whether |z| of a complex input (real view) is within ``margin`` of 0, where abs, angle, sgn and 1/z are singular."""
    for i in which:
        pairs = inputs[i]
        if pairs.size and bool((abs(pairs[..., 0]) + abs(pairs[..., 1]) <= margin).any()):
            return True
    return False


def _near_negative_axis(inputs: list, params: dict, margin: float) -> bool:
    """angle's cut: z near 0 or near the negative real axis, where the phase jumps from π to -π."""
    z = inputs[0]
    cut = (z[..., 0] < margin) & (abs(z[..., 1]) <= margin * max(1.0, float(abs(z[..., 0]).max(initial=0.0))))
    return _near_zero(inputs, params, margin) or bool(cut.any())


def complexified(
    base: OpSpec,
    *,
    complex_inputs: tuple[bool, ...] | None = None,
    complex_output: bool = True,
    domain: Domain | tuple[Domain, ...] | None = None,
    near_kink: Any = None,
    torch: str | None = None,
    jax: Any = None,
    name: str | None = None,
) -> OpSpec:
    """``base`` on complex tensors, in the real view (see the module docstring).  By default every
    input and the output are complex, with ``base``'s template and JAX function, and the real
    domain applies to both parts; ``torch``/``jax`` replace the template/function (before the
    real view is applied)."""
    complex_inputs = complex_inputs or (True,) * base.arity
    domain = domain if domain is not None else base.domain
    if isinstance(domain, tuple) or domain.matrix:  # a matrix structure is built on the real part
        domains = [domain[i] if isinstance(domain, tuple) else domain for i in range(base.arity)]
        domain = tuple(
            replace(d, matrix=f"complex {d.matrix}") if d.matrix and c else d for d, c in zip(domains, complex_inputs)
        )
    return replace(
        base,
        name=name or base.name,
        torch=_template(torch or base.torch, complex_inputs, complex_output),
        jax=_jax(jax or base.jax, complex_inputs, complex_output),
        rule=RealView(arity=base.arity, base=base.rule, complex_inputs=complex_inputs, complex_output=complex_output),
        domain=domain,
        near_kink=near_kink,
        dtypes=tuple(COMPLEX_DTYPES),
        conventions=(),
        variants=(),
        notes=f"complex {base.name}, in the real view",
    )


def _by_name(*modules: Any) -> dict[str, OpSpec]:
    return {op.name: op for m in modules for op in m.OPS}


_REAL = _by_name(unary, binary, activations, reductions, shape_ops, linalg)
_UNIT = Domain(-1.0, 1.0)

# The real registry's ops on complex tensors, with the same template: torch's complex kernels
# (derivatives.yaml's formulas with .conj(), or "auto_element_wise" for forward mode).  All are
# holomorphic but cholesky_inverse (of x xᴴ + I); the matrix ops sample X + n·I with complex X.
ON_COMPLEX = (
    "sin", "cos", "tan", "sinh", "cosh", "tanh", "asin", "acos", "asinh", "acosh", "atanh",
    "exp", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sigmoid",
    "neg", "square", "cube", "reciprocal", "pow_scalar",
    "add", "sub", "mul", "div", "add_alpha", "pow", "lerp", "addcmul", "addcdiv",
    "sum", "sum_dim", "mean", "mean_dim", "prod", "prod_dim", "cumsum", "cumprod",
    "clone", "reshape", "transpose", "permute", "expand", "slice", "select", "flip", "roll", "cat", "stack", "gather",
    "matmul", "matmul_batched", "matvec", "dot", "inner", "outer", "einsum_mm", "kron", "trace", "diagonal",
    "tril", "matrix_power", "exp2", "logaddexp", "atan", "sinc", "squared_difference", "tanhshrink",
    "logsumexp", "logcumsumexp", "contiguous", "view", "flatten", "T", "mT", "movedim", "broadcast_to",
    "squeeze", "unsqueeze", "narrow", "index_select", "take_along_dim", "repeat", "tile", "tensordot",
    "multi_dot", "einsum_inner", "einsum_bmm", "einsum_outer", "einsum_transpose", "einsum_trace", "cross",
    "diag_embed_vector", "diag_of_matrix", "triu",
    "det", "slogdet", "inv", "solve", "matrix_exp", "cholesky_inverse",
)  # fmt: skip

# Where the complex op needs another domain or kink test than its real twin, or its output is real.
_OVERRIDES: dict[str, dict[str, Any]] = {
    "slogdet": {"complex_output": False},  # log|det z| is real
    # reciprocal's and div's real kink at 0 is a pole at z = 0 only: rejected by |z|, not per part.
    "reciprocal": {"domain": REALS, "near_kink": _near_zero},
    "div": {"domain": REALS, "near_kink": lambda xs, p, m: _near_zero(xs, p, m, which=(1,))},
    "addcdiv": {"domain": REALS, "near_kink": lambda xs, p, m: _near_zero(xs, p, m, which=(2,))},
    # asinh's cuts are the imaginary axis beyond ±i; atan's too: keep |Im z| < 1.
    "asinh": {"domain": _UNIT},
    "atan": {"domain": _UNIT},
    # the real reference picks a branch by x - y > 0, which complex numbers lack; jnp.logaddexp is the
    # principal log of exp(x) + exp(y)
    "logaddexp": {"jax": jnp.logaddexp},
}

# Ops that exist for complex numbers only, or whose complex meaning differs from the real one.
_NON_HOLOMORPHIC = [
    complexified(_REAL["abs"], complex_output=False, domain=REALS, near_kink=_near_zero),
    complexified(_REAL["sin"], name="angle", torch="torch.angle({x})", jax=jnp.angle, complex_output=False,
                 near_kink=_near_negative_axis),
    complexified(_REAL["sin"], name="real", torch="torch.real({x})", jax=jnp.real, complex_output=False),
    complexified(_REAL["sin"], name="imag", torch="torch.imag({x})", jax=jnp.imag, complex_output=False),
    complexified(_REAL["sin"], name="conj", torch="torch.conj({x}).resolve_conj()", jax=jnp.conj),
    complexified(_REAL["sin"], name="conj_physical", torch="torch.conj_physical({x})", jax=jnp.conj),
    # z/|z| written out: jnp.sign's derivative is 0 for complex z too (JAX 0.10.2), as if it were piecewise constant.
    complexified(_REAL["sin"], name="sgn", torch="torch.sgn({x})", jax=lambda z: z / jnp.abs(z), near_kink=_near_zero),
    complexified(_REAL["mul"], name="mul_conj", torch="{x} * {y}.conj()", jax=lambda x, y: x * jnp.conj(y)),
    complexified(_REAL["dot"], name="vdot", torch="torch.vdot({x}, {y})", jax=jnp.vdot),
    complexified(_REAL["vecdot"], jax=lambda x, y: jnp.sum(jnp.conj(x) * y, axis=-1)),  # conjugates x
    complexified(_REAL["softsign"], domain=REALS, near_kink=_near_zero),  # z / (1 + |z|)
    complexified(_REAL["norm"], name="vector_norm",
                 torch="torch.linalg.vector_norm({x})", jax=lambda x: jnp.sqrt(jnp.sum(jnp.abs(x) ** 2)),
                 complex_output=False, near_kink=lambda xs, p, m: bool(abs(xs[0]).sum() <= m)),
    # real -> complex: torch.complex(re, im) and torch.polar(r, theta).
    complexified(_REAL["mul"], name="complex", torch="torch.complex({x}, {y})", jax=lambda re, im: re + 1j * im,
                 complex_inputs=(False, False)),
    complexified(_REAL["mul"], name="polar", torch="torch.polar({x}, {y})",
                 jax=lambda r, theta: r * jnp.exp(1j * theta), complex_inputs=(False, False),
                 domain=(Domain(0.0, math.inf), REALS)),
]  # fmt: skip

OPS: tuple[OpSpec, ...] = (
    *(complexified(_REAL[name], **_OVERRIDES.get(name, {})) for name in ON_COMPLEX),
    *_NON_HOLOMORPHIC,
    # The fft and decompositions families declare their complex entries themselves (base, complexified's kwargs).
    *(complexified(base, **kw) for base, kw in (*fft.ON_COMPLEX, *decompositions.ON_COMPLEX)),
)
OPS_BY_NAME: dict[str, OpSpec] = {op.name: op for op in OPS}
assert len(OPS_BY_NAME) == len(OPS), "complex op names must be unique"


def complex_leaves(tree: Tree) -> set[int]:
    """The leaves of ``tree`` that some op takes as a complex tensor (in its real view)."""
    found: set[int] = set()
    for node in tree.nodes:
        inputs = getattr(node.op.rule, "complex_inputs", ())
        for child, c in zip(node.children, inputs):
            if c and isinstance(child, Leaf):
                found.add(child.index)
    return found


def split_direction(tree: Tree, v: list[np.ndarray]) -> list[tuple[str, list[np.ndarray]]]:
    """The directions a directional oracle (finite differences) is run along: ``v`` itself for a real
    tree; for complex leaves, v's real parts (with the real leaves' directions) and v's imaginary
    parts separately, so that an error in one part cannot cancel against the other in one sum."""
    leaves = complex_leaves(tree)
    if not leaves:
        return [("", v)]
    real, imag = [], []
    for i, d in enumerate(v):
        if i in leaves:
            real.append(d * _mask(d, 0))
            imag.append(d * _mask(d, 1))
        else:
            real.append(d)
            imag.append(d * 0.0)
    return [(" along the real parts", real), (" along the imaginary parts", imag)]


def _mask(d: np.ndarray, part: int) -> np.ndarray:
    m = np.zeros(d.shape)
    m[..., part] = 1.0
    return m
