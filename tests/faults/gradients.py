"""Planted gradient faults: torch ops whose reverse-mode derivative is wrong in part of the input space.

Each fault replaces one public torch API (``torch.X``, a ``torch.Tensor`` method or
operator, ``torch.nn.functional.X``) with a wrapper that routes floating-point
tensors through a ``torch.autograd.Function``.  The Function's forward calls the
original op, so values are bit-for-bit unchanged; its ``jvp`` is the correct
forward-mode derivative (except for the one forward-mode fault), so
``torch.func.jvp`` keeps working; its ``backward`` is built from differentiable
torch ops, so double backward works, and is wrong only where the fault says.

Everything the wrappers and rules call is captured here at import, before any
patch, so a rule never re-enters a patched op.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import torch
import torch.nn.functional as F  # noqa: N812

from tests.faults.semantics import Fault

Tensor = torch.Tensor

# The originals, captured before any patch.
_SIN, _COS, _EXP, _TANH, _SINH, _COSH, _SIGMOID = (
    torch.sin, torch.cos, torch.exp, torch.tanh, torch.sinh, torch.cosh, torch.sigmoid
)  # fmt: skip
_MUL_OP, _ADD_OP, _DIV_OP, _MATMUL_OP, _MEAN = (
    Tensor.__mul__, Tensor.__add__, Tensor.__truediv__, Tensor.__matmul__, Tensor.mean
)  # fmt: skip
_MATMUL, _SOFTPLUS = torch.matmul, F.softplus
_INV, _DET = torch.linalg.inv, torch.linalg.det
_SINC, _LOGCUMSUMEXP = torch.sinc, torch.logcumsumexp
_FMOD, _TRUNC, _FLOOR = torch.fmod, torch.trunc, torch.floor
_SCATTER_ADD, _SCATTER_ADD_METHOD = torch.scatter_add, Tensor.scatter_add
_MASKED_SUM = torch.masked.sum
_CONV2D, _CONV2D_INPUT, _CONV2D_WEIGHT = F.conv2d, torch.nn.grad.conv2d_input, torch.nn.grad.conv2d_weight
mul, add, div, where = torch.mul, torch.add, torch.div, torch.where

# The reverse-mode properties of suites/: each compares torch's Jᵀu with an oracle.
REVERSE = ("vjp", "scalar_backward", "broadcast")


@dataclass(frozen=True)
class GradientFault(Fault):
    """A gradient fault: ``target`` is the patched public API, ``ops`` the registry ops whose cells run it.

    ``prop`` is the property the fault is designed to be caught by; ``allowed`` lists every
    property whose FAIL counts as correctly attributed (it includes ``prop``).
    """

    target: str = ""
    ops: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()

    @property
    def keyword(self) -> str:
        """The ``pytest -k`` expression: this fault's op cells (``test_vjp[sin-float64]``) and every tree cell."""
        return " or ".join([*(f"[{op}-" for op in self.ops), "tree"])


# -- one autograd.Function per rule ------------------------------------------------------------


def _function(name: str, backward: Callable[..., tuple], jvp: Callable[..., Tensor], forward: Callable) -> type:
    """An autograd.Function: ``forward(*inputs)`` exact, ``backward(inputs, g)``, ``jvp(inputs, tangents)``.

    Non-tensor inputs (dims, flags) pass through; tensors are saved for both modes.
    """

    def setup_context(ctx: Any, inputs: tuple, output: Tensor) -> None:
        tensors = [x for x in inputs if isinstance(x, Tensor)]
        ctx.save_for_backward(*tensors)
        ctx.save_for_forward(*tensors)
        ctx.statics = [None if isinstance(x, Tensor) else x for x in inputs]
        ctx.out_shape = output.shape

    def inputs_of(ctx: Any) -> list[Any]:
        tensors = iter(ctx.saved_tensors)
        return [next(tensors) if s is None else s for s in ctx.statics]

    def bwd(ctx: Any, g: Tensor) -> tuple:
        return tuple(backward(inputs_of(ctx), g))

    def fwd_ad(ctx: Any, *tangents: Any) -> Tensor:
        return jvp(inputs_of(ctx), tangents).expand(ctx.out_shape)

    def fwd(*inputs: Any) -> Tensor:  # a Python signature: autograd.Function binds its arguments
        return forward(*inputs)

    namespace = {
        "forward": staticmethod(fwd),
        "setup_context": staticmethod(setup_context),
        "backward": staticmethod(bwd),
        "jvp": staticmethod(fwd_ad),
        "generate_vmap_rule": True,
    }
    return type(name, (torch.autograd.Function,), namespace)


def _is_float(*xs: Any) -> bool:
    return all(isinstance(x, Tensor) and x.is_floating_point() for x in xs)


def _zero(t: Tensor | None, like: Tensor) -> Tensor:
    return torch.zeros_like(like) if t is None else t


def _to(g: Tensor, x: Tensor) -> Tensor:
    """Reduce a broadcast gradient to its input's shape (the correct rule)."""
    return g.sum_to_size(x.shape) if g.shape != x.shape else g


def _unary_patch(owner: Any, attr: str, fn: type) -> Callable[[], contextlib.AbstractContextManager[Any]]:
    original = getattr(owner, attr)

    @functools.wraps(original)
    def patched(x: Any, *args: Any, **kwargs: Any) -> Any:
        if not args and not kwargs and _is_float(x):
            return fn.apply(x)
        return original(x, *args, **kwargs)

    return lambda: mock.patch.object(owner, attr, patched)


def _binary_patch(
    owner: Any, attr: str, fn: type, when: Callable[[Tensor, Tensor], bool] = lambda a, b: True
) -> Callable[[], contextlib.AbstractContextManager[Any]]:
    original = getattr(owner, attr)

    @functools.wraps(original)
    def patched(a: Any, b: Any, *args: Any, **kwargs: Any) -> Any:
        if not args and not kwargs and _is_float(a, b) and when(a, b):
            return fn.apply(a, b)
        return original(a, b, *args, **kwargs)

    return lambda: mock.patch.object(owner, attr, patched)


# -- a sign flip in one region: sin'(x) = -cos(x) for x > 1 --------------------------------------

SinFlip = _function(
    "SinFlip",
    forward=_SIN,
    backward=lambda i, g: (mul(g, where(i[0] > 1, -_COS(i[0]), _COS(i[0]))),),
    jvp=lambda i, t: mul(t[0], _COS(i[0])),
)

# -- a tiny relative error everywhere: exp'(x) = exp(x)·(1 + 1e-5) --------------------------------

ExpTiny = _function(
    "ExpTiny",
    forward=_EXP,
    backward=lambda i, g: (mul(g, _EXP(i[0])) * (1 + 1e-5),),
    jvp=lambda i, t: mul(t[0], _EXP(i[0])),
)

# -- an error only in float32: tanh'(x) off by 1e-3 relative for float32 tensors -----------------


def _tanh_grad(x: Tensor) -> Tensor:
    y = _TANH(x)
    return 1 - mul(y, y)


TanhFloat32 = _function(
    "TanhFloat32",
    forward=_TANH,
    backward=lambda i, g: (mul(g, _tanh_grad(i[0])) * (1 + 1e-3 if i[0].dtype == torch.float32 else 1.0),),
    jvp=lambda i, t: mul(t[0], _tanh_grad(i[0])),
)

# -- an error only in bfloat16: tanh's gradient 10% high there (the bfloat16 check allows 2 ulps, 1.6%) --

TanhBfloat16 = _function(
    "TanhBfloat16",
    forward=_TANH,
    backward=lambda i, g: (mul(g, _tanh_grad(i[0])) * (1.1 if i[0].dtype == torch.bfloat16 else 1.0),),
    jvp=lambda i, t: mul(t[0], _tanh_grad(i[0])),
)

# -- an error only for non-contiguous inputs: x * y, the gradient of a strided operand 1e-3 off ---
# The contiguity of each operand is decided by the wrapper and passed in as a flag.

MulStrided = _function(
    "MulStrided",
    forward=lambda a, b, a_strided, b_strided: _MUL_OP(a, b),
    backward=lambda i, g: (
        _to(mul(g, i[1]), i[0]) * (1 + 1e-3 if i[2] else 1.0),
        _to(mul(g, i[0]), i[1]) * (1 + 1e-3 if i[3] else 1.0),
        None,
        None,
    ),
    jvp=lambda i, t: add(mul(_zero(t[0], i[0]), i[1]), mul(i[0], _zero(t[1], i[1]))),
)


def _mul_strided() -> contextlib.AbstractContextManager[Any]:
    @functools.wraps(_MUL_OP)
    def patched(a: Any, b: Any) -> Any:
        if _is_float(a, b):
            return MulStrided.apply(a, b, not a.is_contiguous(), not b.is_contiguous())
        return _MUL_OP(a, b)

    return mock.patch.object(Tensor, "__mul__", patched)


# -- an error only when an operand broadcasts: x + y sums a broadcast gradient as a mean ----------


def _mean_to(g: Tensor, x: Tensor) -> Tensor:
    if g.shape == x.shape:
        return g
    return g.sum_to_size(x.shape) * (x.numel() / g.numel())


AddBroadcast = _function(
    "AddBroadcast",
    forward=_ADD_OP,
    backward=lambda i, g: (_mean_to(g, i[0]), _mean_to(g, i[1])),
    jvp=lambda i, t: add(_zero(t[0], i[0]), _zero(t[1], i[1])),
)

# -- an error only when both operands are the same tensor: x * x gets g·x, not 2·g·x --------------

MulSelf = _function(
    "MulSelf",
    forward=lambda a: _MUL_OP(a, a),
    backward=lambda i, g: (mul(g, i[0]),),
    jvp=lambda i, t: 2 * mul(t[0], i[0]),
)


def _mul_self() -> contextlib.AbstractContextManager[Any]:
    @functools.wraps(_MUL_OP)
    def patched(a: Any, b: Any) -> Any:
        if a is b and _is_float(a):
            return MulSelf.apply(a)
        return _MUL_OP(a, b)

    return mock.patch.object(Tensor, "__mul__", patched)


# -- an error only above some size: softplus' off by 1% when numel > 16 ----------------------------


def _softplus_grad(x: Tensor, beta: float, threshold: float) -> Tensor:
    z = x * beta
    return where(z > threshold, torch.ones_like(x), _SIGMOID(z))


SoftplusLarge = _function(
    "SoftplusLarge",
    forward=lambda x, beta, threshold: _SOFTPLUS(x, beta=beta, threshold=threshold),
    backward=lambda i, g: (
        mul(g, _softplus_grad(*i)) * (1.01 if i[0].numel() > 16 else 1.0),
        None,
        None,
    ),
    jvp=lambda i, t: mul(t[0], _softplus_grad(*i)),
)


def _softplus_large() -> contextlib.AbstractContextManager[Any]:
    @functools.wraps(_SOFTPLUS)
    def patched(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
        if _is_float(x):
            return SoftplusLarge.apply(x, beta, threshold)
        return _SOFTPLUS(x, beta=beta, threshold=threshold)

    return mock.patch.object(F, "softplus", patched)


# -- an error only in the second derivative: sinh's backward is g·cosh(x) through a Function -----
# whose own backward has the wrong sign for x (d/dx of g·cosh(x) is g·sinh(x), it returns -g·sinh(x)).

CoshTimes = _function(
    "CoshTimes",
    forward=lambda g, x: mul(g, _COSH(x)),
    backward=lambda i, gg: (mul(gg, _COSH(i[1])), -mul(mul(gg, i[0]), _SINH(i[1]))),
    jvp=lambda i, t: add(mul(_zero(t[0], i[0]), _COSH(i[1])), mul(mul(i[0], _SINH(i[1])), _zero(t[1], i[1]))),
)

SinhSecond = _function(
    "SinhSecond",
    forward=_SINH,
    backward=lambda i, g: (CoshTimes.apply(g, i[0]),),
    jvp=lambda i, t: mul(t[0], _COSH(i[0])),
)

# -- an error only in forward over forward: cosh's jvp is t·sinh(x) through a Function whose own jvp ---
# has the wrong sign for x's tangent (d/dx of t·sinh(x) along s is t·cosh(x)·s, it returns -t·cosh(x)·s).
# Reverse mode and its compositions differentiate cosh's backward (plain ops) or SinhTimes' backward
# (right): only a jvp of the jvp reaches the wrong rule.

SinhTimes = _function(
    "SinhTimes",
    forward=lambda t, x: mul(t, _SINH(x)),
    backward=lambda i, gg: (mul(gg, _SINH(i[1])), mul(mul(gg, i[0]), _COSH(i[1]))),
    jvp=lambda i, t: torch.sub(mul(_zero(t[0], i[0]), _SINH(i[1])), mul(mul(i[0], _COSH(i[1])), _zero(t[1], i[1]))),
)

CoshForwardForward = _function(
    "CoshForwardForward",
    forward=_COSH,
    backward=lambda i, g: (mul(g, _SINH(i[0])),),
    jvp=lambda i, t: SinhTimes.apply(t[0], i[0]),
)

# -- an error only at third order: cos's derivative is -t·sin(x) through a Function whose derivative in x ---
# is -a·cos(x) through a second Function, and only that one's own derivative in x has the wrong sign
# (d/dx of -b·cos(x) is b·sin(x), it returns -b·sin(x)).  First and second derivatives, by any
# composition of modes, never differentiate the innermost rule: only a third derivative reaches it.

NegCosTimes = _function(
    "NegCosTimes",
    forward=lambda b, x: -mul(b, _COS(x)),
    backward=lambda i, g: (-mul(g, _COS(i[1])), -mul(mul(g, i[0]), _SIN(i[1]))),
    jvp=lambda i, t: torch.sub(-mul(_zero(t[0], i[0]), _COS(i[1])), mul(mul(i[0], _SIN(i[1])), _zero(t[1], i[1]))),
)

NegSinTimes = _function(
    "NegSinTimes",
    forward=lambda a, x: -mul(a, _SIN(x)),
    backward=lambda i, g: (-mul(g, _SIN(i[1])), NegCosTimes.apply(mul(g, i[0]), i[1])),
    jvp=lambda i, t: add(-mul(_zero(t[0], i[0]), _SIN(i[1])), NegCosTimes.apply(mul(i[0], _zero(t[1], i[1])), i[1])),
)

CosThird = _function(
    "CosThird",
    forward=_COS,
    backward=lambda i, g: (NegSinTimes.apply(g, i[0]),),
    jvp=lambda i, t: NegSinTimes.apply(t[0], i[0]),
)

# -- an error only in forward mode: sigmoid's jvp has the wrong sign for x < 0 ---------------------


def _sigmoid_grad(x: Tensor) -> Tensor:
    s = _SIGMOID(x)
    return mul(s, 1 - s)


SigmoidForward = _function(
    "SigmoidForward",
    forward=_SIGMOID,
    backward=lambda i, g: (mul(g, _sigmoid_grad(i[0])),),
    jvp=lambda i, t: mul(t[0], where(i[0] < 0, -_sigmoid_grad(i[0]), _sigmoid_grad(i[0]))),
)

# -- an error only in the tails: sigmoid's backward as e^-x / (1 + e^-x)^2, right in float64 until e^-x
# overflows (x < -709.78), then inf / inf = nan where the derivative is ~e^x (0.0 in float64) --------

SigmoidTails = _function(
    "SigmoidTails",
    forward=_SIGMOID,
    backward=lambda i, g: (mul(g, div(_EXP(-i[0]), mul(1 + _EXP(-i[0]), 1 + _EXP(-i[0])))),),
    jvp=lambda i, t: mul(t[0], _sigmoid_grad(i[0])),
)

# -- a wrong denominator in the quotient rule: d(x/y)/dy = -x/y instead of -x/y² --------------------

DivDenominator = _function(
    "DivDenominator",
    forward=_DIV_OP,
    backward=lambda i, g: (_to(div(g, i[1]), i[0]), _to(-div(mul(g, i[0]), i[1]), i[1])),
    jvp=lambda i, t: torch.sub(div(_zero(t[0], i[0]), i[1]), div(mul(i[0], _zero(t[1], i[1])), mul(i[1], i[1]))),
)

# -- a matmul gradient missing a transpose for square operands: dL/dA = G·B instead of G·Bᵀ -------

MatmulSquare = _function(
    "MatmulSquare",
    forward=_MATMUL,
    backward=lambda i, g: (_MATMUL(g, i[1]), _MATMUL(i[0].mT, g)),
    jvp=lambda i, t: add(_MATMUL(_zero(t[0], i[0]), i[1]), _MATMUL(i[0], _zero(t[1], i[1]))),
)


def _square(a: Tensor, b: Tensor) -> bool:
    return a.dim() == 2 and b.dim() == 2 and a.shape[0] == a.shape[1] == b.shape[0] == b.shape[1]


@contextlib.contextmanager
def _matmul_square() -> Iterator[None]:
    with (
        _binary_patch(Tensor, "__matmul__", MatmulSquare, _square)(),
        _binary_patch(torch, "matmul", MatmulSquare, _square)(),
    ):
        yield


# -- a reduction dividing by the wrong count: x.mean(dim) backward divides by numel ---------------


def _dims(x: Tensor, dim: Any) -> list[int]:
    dims = list(dim) if isinstance(dim, (list, tuple)) else [dim]
    return sorted(d % x.dim() for d in dims) if x.dim() else []


def _mean_backward(i: list[Any], g: Tensor) -> tuple:
    x, dim, keepdim = i
    if not keepdim:
        for d in _dims(x, dim):
            g = g.unsqueeze(d)
    return (g.expand(x.shape) / max(x.numel(), 1), None, None)  # should be / the reduced dims' size


MeanDimCount = _function(
    "MeanDimCount",
    forward=lambda x, dim, keepdim: _MEAN(x, dim, keepdim),
    backward=_mean_backward,
    jvp=lambda i, t: _MEAN(t[0], i[1], i[2]),
)


def _mean_dim_count() -> contextlib.AbstractContextManager[Any]:
    @functools.wraps(_MEAN)
    def patched(x: Any, *args: Any, **kwargs: Any) -> Any:
        names = ("dim", "keepdim")
        bound = {**dict(zip(names, args)), **kwargs}
        if len(args) <= 2 and set(kwargs) <= set(names) and bound.get("dim") is not None and _is_float(x):
            return MeanDimCount.apply(x, bound["dim"], bool(bound.get("keepdim", False)))
        return _MEAN(x, *args, **kwargs)

    return mock.patch.object(Tensor, "mean", patched)


# -- matrix faults: these cells were INCONCLUSIVE on every example until the matrix domain was fixed --
# inv's reverse mode misses both transposes (-A⁻¹ G A⁻¹ instead of -A⁻ᵀ G A⁻ᵀ); its forward mode is right.

InvReverse = _function(
    "InvReverse",
    forward=_INV,
    backward=lambda i, g: (-_MATMUL(_MATMUL(_INV(i[0]), g), _INV(i[0])),),
    jvp=lambda i, t: -_MATMUL(_MATMUL(_INV(i[0]), t[0]), _INV(i[0])),
)


# det's derivative uses A⁻¹ where A⁻ᵀ belongs, in both modes, as a wrong formula would: the
# dot-product identity between the modes holds, so only the independent oracles can see it.
def _det_wrong_gradient(a: Tensor) -> Tensor:
    return mul(_DET(a)[..., None, None], _INV(a))  # should be _INV(a).mT


DetNoTranspose = _function(
    "DetNoTranspose",
    forward=_DET,
    backward=lambda i, g: (mul(g[..., None, None], _det_wrong_gradient(i[0])),),
    jvp=lambda i, t: mul(_det_wrong_gradient(i[0]), t[0]).sum((-2, -1)),
)


# -- a layer op: conv2d's weight gradient 1e-3 off, only for strided convolutions -------------------------


def _conv2d_backward(i: list[Any], g: Tensor) -> tuple:
    x, w, b, stride, padding, dilation, groups = i
    gx = _CONV2D_INPUT(x.shape, w, g, stride, padding, dilation, groups)
    gw = _CONV2D_WEIGHT(x, w.shape, g, stride, padding, dilation, groups)
    strided = max(stride if isinstance(stride, (list, tuple)) else (stride,)) > 1
    gb = g.sum((0, 2, 3)) if b is not None else None
    return gx, mul(gw, 1 + 1e-3) if strided else gw, gb, None, None, None, None


Conv2dStrided = _function(
    "Conv2dStrided",
    forward=lambda x, w, b, stride, padding, dilation, groups: _CONV2D(x, w, b, stride, padding, dilation, groups),
    backward=_conv2d_backward,
    jvp=lambda i, t: add(
        add(_CONV2D(_zero(t[0], i[0]), i[1], None, *i[3:]), _CONV2D(i[0], _zero(t[1], i[1]), None, *i[3:])),
        _zero(t[2], i[2])[None, :, None, None] if i[2] is not None else 0.0,
    ),
)


def _conv2d_strided() -> contextlib.AbstractContextManager[Any]:
    @functools.wraps(_CONV2D)
    def patched(x: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                groups: int = 1) -> Any:  # fmt: skip
        if _is_float(x, weight) and bias is not None and not isinstance(padding, str):
            return Conv2dStrided.apply(x, weight, bias, stride, padding, dilation, groups)
        return _CONV2D(x, weight, bias, stride, padding, dilation, groups)

    return mock.patch.object(F, "conv2d", patched)


# -- inside a baselined cell but outside its scope: sinc'(x) 1e-3 off for |x| > 1 ------------------
# torch's own sinc gradient cancels near 0 (a known failure scoped to abs(at) < 1e-4 in the
# baselines); this fault is elsewhere in the same cells, where the scope must not hide it.


def _sinc_grad(x: Tensor) -> Tensor:
    px = mul(x, torch.pi)
    return where(x == 0, torch.zeros_like(x), div(torch.sub(mul(_COS(px), px), _SIN(px)), mul(px, x)))


SincBeyond1 = _function(
    "SincBeyond1",
    forward=_SINC,
    backward=lambda i, g: (mul(g, _sinc_grad(i[0])) * where(i[0].abs() > 1, 1 + 1e-3, 1.0),),
    jvp=lambda i, t: mul(t[0], _sinc_grad(i[0])),
)

# -- forward mode wrong at small spreads: logcumsumexp's jvp 1e-3 off when max(x) - min(x) < 5 -------
# torch's own forward mode loses precision at large spreads (a known failure scoped to
# spread(x0) >= 5); this fault is at the small spreads the scope leaves checked.


def _logcumsumexp_jvp(x: Tensor, dim: int, t: Tensor) -> Tensor:
    top = x.amax(dim, keepdim=True)
    y = _LOGCUMSUMEXP(x, dim)
    exact = mul(torch.cumsum(mul(t, _EXP(torch.sub(x, top))), dim), _EXP(torch.sub(top, y)))
    return exact * (1 + 1e-3 if float(x.max() - x.min()) < 5 else 1.0)


def _logcumsumexp_vjp(x: Tensor, dim: int, g: Tensor) -> Tensor:
    with torch.enable_grad():
        leaf = x.detach().requires_grad_()
        return torch.autograd.grad(_LOGCUMSUMEXP(leaf, dim), leaf, g, create_graph=torch.is_grad_enabled())[0]


LogcumsumexpForward = _function(
    "LogcumsumexpForward",
    forward=lambda x, dim: _LOGCUMSUMEXP(x, dim),
    backward=lambda i, g: (_logcumsumexp_vjp(i[0], i[1], g), None),
    jvp=lambda i, t: _logcumsumexp_jvp(i[0], i[1], t[0]),
)


def _logcumsumexp_small_spread() -> contextlib.AbstractContextManager[Any]:
    @functools.wraps(_LOGCUMSUMEXP)
    def patched(x: Any, dim: int) -> Any:
        return LogcumsumexpForward.apply(x, dim) if _is_float(x) else _LOGCUMSUMEXP(x, dim)

    return mock.patch.object(torch, "logcumsumexp", patched)


# -- a remainder formula for fmod: d fmod(x, y)/dy = -floor(x/y) instead of -trunc(x/y) ---------------
# fmod rounds the quotient toward 0, remainder toward -inf: the two agree where x/y > 0, so the
# fault shows only where x and y have opposite signs (and |x/y| is not an integer).
FmodFloor = _function(
    "FmodFloor",
    forward=_FMOD,
    backward=lambda i, g: (_to(g, i[0]), _to(-mul(g, _FLOOR(div(i[0], i[1]))), i[1])),
    jvp=lambda i, t: torch.sub(_zero(t[0], i[0]), mul(_TRUNC(div(i[0], i[1])), _zero(t[1], i[1]))),
)


# -- complex faults: each wrapper routes only complex tensors through its Function, so every real
# cell runs the true op.  torch's convention for a holomorphic f: grad_z = grad_out · conj(f'(z)).


def _complex_patch(owner: Any, attr: str, fn: type) -> Callable[[], contextlib.AbstractContextManager[Any]]:
    original = getattr(owner, attr)

    @functools.wraps(original)
    def patched(x: Any, *args: Any, **kwargs: Any) -> Any:
        if not args and not kwargs and isinstance(x, Tensor) and x.is_complex():
            return fn.apply(x)
        return original(x, *args, **kwargs)

    return lambda: mock.patch.object(owner, attr, patched)


# A complex gradient returned conjugated: sinh's backward forgets the conj (grad · cosh(z) instead of
# grad · conj(cosh(z))); right wherever cosh(z) is real, forward mode right.  (Not exp: a patched
# torch.exp breaks torch's own forward mode of exp, which TorchScript-compiles a rule calling it.)
SinhConjugated = _function(
    "SinhConjugated",
    forward=_SINH,
    backward=lambda i, g: (mul(g, _COSH(i[0])),),
    jvp=lambda i, t: mul(t[0], _COSH(i[0])),
)

# A phase error only for non-real inputs, in forward mode: sin's tangent turned by 0.1 rad where
# Im z != 0 (real inputs, and the real line of a complex input, are right); reverse mode right.
SinComplexPhase = _function(
    "SinComplexPhase",
    forward=_SIN,
    backward=lambda i, g: (mul(g, _COS(i[0]).conj()),),
    jvp=lambda i, t: (
        mul(t[0], _COS(i[0])) * where(i[0].imag != 0, torch.polar(torch.ones(()), torch.tensor(0.1)).to(i[0].dtype), 1)
    ),
)

# An error only in complex64: tanh's gradient 1e-3 high there (complex128 and every real dtype right).
TanhComplex64 = _function(
    "TanhComplex64",
    forward=_TANH,
    backward=lambda i, g: (
        mul(g, (1 - _TANH(i[0]) ** 2).conj()) * (1 + 1e-3 if i[0].dtype == torch.complex64 else 1.0),
    ),
    jvp=lambda i, t: mul(t[0], 1 - _TANH(i[0]) ** 2),
)


# -- decompositions and fft (autograd_conformance/registry/decompositions.py, fft.py) ---------------------------
_EIGH, _RFFT, _IRFFT, _FFT_FFT, _FFT_IFFT = (
    torch.linalg.eigh, torch.fft.rfft, torch.fft.irfft, torch.fft.fft, torch.fft.ifft
)  # fmt: skip


def _eigh_vector_rule(values: Tensor, vectors: Tensor, flipped: bool) -> Tensor:
    """F with F_ij = 1 / (λ_j - λ_i) off the diagonal and 0 on it: dV = V (F ∘ Vᵀ dA V).  ``flipped``:
    the gaps taken the wrong way round, λ_i - λ_j (the planted error)."""
    gaps = values.unsqueeze(-2) - values.unsqueeze(-1)
    if flipped:
        gaps = -gaps
    eye = torch.eye(values.shape[-1], dtype=torch.bool)
    return where(eye, torch.zeros_like(gaps), 1 / where(eye, torch.ones_like(gaps), gaps))


class EighGapSign(torch.autograd.Function):
    """eigh of a real symmetric matrix whose eigenvector backward divides by λ_i - λ_j for λ_j - λ_i:
    the eigenvalues' gradient and forward mode are right, so only losses of the eigenvectors see it."""

    @staticmethod
    def forward(a: Tensor) -> tuple[Tensor, Tensor]:
        out = _EIGH(a)
        return out.eigenvalues, out.eigenvectors

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: tuple) -> None:
        ctx.save_for_backward(*output)
        ctx.save_for_forward(*output)

    @staticmethod
    def backward(ctx: Any, g_values: Tensor, g_vectors: Tensor) -> Tensor:
        values, vectors = ctx.saved_tensors
        inner = mul(_eigh_vector_rule(values, vectors, flipped=True), vectors.mT @ _zero(g_vectors, vectors))
        return vectors @ (torch.diag_embed(_zero(g_values, values)) + inner) @ vectors.mT

    @staticmethod
    def jvp(ctx: Any, t: Tensor) -> tuple[Tensor, Tensor]:
        values, vectors = ctx.saved_forward_tensors if hasattr(ctx, "saved_forward_tensors") else ctx.saved_tensors
        projected = vectors.mT @ t @ vectors
        return projected.diagonal(dim1=-2, dim2=-1), vectors @ mul(_eigh_vector_rule(values, vectors, False), projected)


def _eigh_gap_sign() -> contextlib.AbstractContextManager[Any]:
    @functools.wraps(_EIGH)
    def patched(a: Any, *args: Any, **kwargs: Any) -> Any:
        if not args and not kwargs and _is_float(a) and a.ndim == 2:
            return torch.return_types.linalg_eigh(EighGapSign.apply(a))
        return _EIGH(a, *args, **kwargs)

    return mock.patch.object(torch.linalg, "eigh", patched)


# rfft's backward read as irfft: the cotangent of the half spectrum treated as a Hermitian half spectrum,
# so every interior frequency's contribution is doubled and the imaginary part of the zero frequency
# dropped (the convention of the c2r transforms, applied where none belongs).  Right: Re(n · ifft(g, n)).
RfftHermitianBackward = _function(
    "RfftHermitianBackward",
    forward=lambda x, dim: _RFFT(x, dim=dim),
    backward=lambda i, g: (_IRFFT(g, n=i[0].shape[i[1]], dim=i[1]) * i[0].shape[i[1]], None),
    jvp=lambda i, t: _RFFT(t[0], dim=i[1]),
)


def _rfft_hermitian_backward() -> contextlib.AbstractContextManager[Any]:
    @functools.wraps(_RFFT)
    def patched(x: Any, n: Any = None, dim: int = -1, norm: Any = None) -> Any:
        if n is None and norm in (None, "backward") and _is_float(x):
            return RfftHermitianBackward.apply(x, dim)
        return _RFFT(x, n=n, dim=dim, norm=norm)

    return mock.patch.object(torch.fft, "rfft", patched)
# -- scatter_add's source gradient divided by how often its target is hit: right wherever each target is
# hit once, wrong only where indices repeat (the accumulation the op exists for).  Forward mode right.


def _scatter_add_src_grad(x: Tensor, dim: int, index: Tensor, src: Tensor, g: Tensor) -> Tensor:
    hits = _SCATTER_ADD(torch.zeros_like(x), dim, index, torch.ones_like(src))
    return div(g.gather(dim, index), hits.gather(dim, index))  # should be g.gather(dim, index) alone


ScatterAddRepeats = _function(
    "ScatterAddRepeats",
    forward=lambda x, dim, index, src: _SCATTER_ADD(x, dim, index, src),
    backward=lambda i, g: (g, None, None, _scatter_add_src_grad(i[0], i[1], i[2], i[3], g)),
    jvp=lambda i, t: _SCATTER_ADD(_zero(t[0], i[0]), i[1], i[2], _zero(t[3], i[3])),
)


@contextlib.contextmanager
def _scatter_add_repeats() -> Iterator[None]:
    def routed(original: Callable[..., Tensor]) -> Callable[..., Tensor]:
        @functools.wraps(original)
        def patched(x: Any, dim: int, index: Any, src: Any) -> Any:
            if _is_float(x, src):
                return ScatterAddRepeats.apply(x, dim, index, src)
            return original(x, dim, index, src)

        return patched

    with (
        mock.patch.object(torch, "scatter_add", routed(_SCATTER_ADD)),
        mock.patch.object(Tensor, "scatter_add", routed(_SCATTER_ADD_METHOD)),
    ):
        yield


# -- torch.masked.sum's gradient leaking into a line its mask drops whole: right wherever a line keeps an
# element, wrong only on an all-false line (where the gradient must be 0).  Forward mode right.


def _masked_sum_grad(x: Tensor, dim: int, keepdim: bool, mask: Tensor, g: Tensor) -> Tensor:
    if not keepdim:
        g = g.unsqueeze(dim)
    kept = mask.broadcast_to(x.shape)
    weight = where(kept.any(dim, keepdim=True), kept, True).to(x.dtype)  # should be kept alone
    return mul(g.expand(x.shape), weight)


MaskedSumEmptyLine = _function(
    "MaskedSumEmptyLine",
    forward=lambda x, dim, keepdim, mask: _MASKED_SUM(x, dim, keepdim=keepdim, mask=mask),
    backward=lambda i, g: (_masked_sum_grad(i[0], i[1], i[2], i[3], g), None, None, None),
    jvp=lambda i, t: _MASKED_SUM(t[0], i[1], keepdim=i[2], mask=i[3]),
)


def _masked_sum_empty_line() -> contextlib.AbstractContextManager[Any]:
    @functools.wraps(_MASKED_SUM)
    def patched(x: Any, dim: Any = None, *, keepdim: bool = False, dtype: Any = None, mask: Any = None) -> Any:
        if isinstance(dim, int) and dtype is None and isinstance(mask, Tensor) and _is_float(x):
            return MaskedSumEmptyLine.apply(x, dim, keepdim, mask)
        return _MASKED_SUM(x, dim, keepdim=keepdim, dtype=dtype, mask=mask)

    return mock.patch.object(torch.masked, "sum", patched)


SUITES = ("suites/test_gradients.py", "suites/test_trees.py")  # the gradient suites; ``keyword`` selects cells
FAULTS: list[GradientFault] = [
    GradientFault("sin_sign_flip_above_1", "a sign flip in one region of the domain", "vjp", SUITES, _unary_patch(torch, "sin", SinFlip),
                  target="torch.sin", ops=("sin",), allowed=REVERSE),
    GradientFault("exp_tiny_relative", "a tiny relative error (1e-5) everywhere", "vjp", SUITES, _unary_patch(torch, "exp", ExpTiny),
                  target="torch.exp", ops=("exp",), allowed=REVERSE),
    GradientFault("tanh_float32_only", "an error only in float32", "float32", SUITES, _unary_patch(torch, "tanh", TanhFloat32),
                  target="torch.tanh", ops=("tanh",), allowed=("float32",)),
    GradientFault("tanh_bfloat16_only", "an error only in bfloat16", "bfloat16", SUITES, _unary_patch(torch, "tanh", TanhBfloat16),
                  target="torch.tanh", ops=("tanh",), allowed=("bfloat16",)),
    GradientFault("mul_noncontiguous", "an error only for non-contiguous inputs", "layout", SUITES, _mul_strided,
                  target="torch.Tensor.__mul__", ops=("mul",), allowed=("layout",)),
    GradientFault("add_broadcast_mean", "an error only when an operand broadcasts", "broadcast", SUITES, _binary_patch(Tensor, "__add__", AddBroadcast),
                  target="torch.Tensor.__add__", ops=("add",), allowed=REVERSE),
    GradientFault("mul_same_operand", "an error only when both operands are the same tensor (x*x)", "same_operand", SUITES, _mul_self,
                  target="torch.Tensor.__mul__", ops=("mul",), allowed=("same_operand", *REVERSE)),
    GradientFault("softplus_large_tensors", "an error only for tensors above some size", "vjp", SUITES, _softplus_large,
                  target="torch.nn.functional.softplus", ops=("softplus",), allowed=REVERSE),
    GradientFault("sinh_second_derivative", "an error only in the second derivative", "second_order", SUITES, _unary_patch(torch, "sinh", SinhSecond),
                  target="torch.sinh", ops=("sinh",), allowed=("second_order",)),
    GradientFault("cosh_forward_over_forward", "an error only in forward-over-forward second derivatives", "second_fwd_fwd", SUITES, _unary_patch(torch, "cosh", CoshForwardForward),
                  target="torch.cosh", ops=("cosh",), allowed=("second_fwd_fwd",)),
    GradientFault("cos_third_order", "an error only in third derivatives", "third_rev", SUITES, _unary_patch(Tensor, "cos", CosThird),
                  target="torch.Tensor.cos", ops=("cos",), allowed=("third_rev", "third_fwd")),
    GradientFault("sinh_complex_conjugated", "a complex gradient returned conjugated", "complex_vjp", SUITES, _complex_patch(torch, "sinh", SinhConjugated),
                  target="torch.sinh", ops=("sinh",), allowed=("complex_vjp", "complex64")),
    GradientFault("sin_complex_phase", "a phase error only for non-real inputs", "complex_jvp", SUITES, _complex_patch(torch, "sin", SinComplexPhase),
                  target="torch.sin", ops=("sin",), allowed=("complex_jvp",)),
    GradientFault("tanh_complex64_only", "an error only in complex64", "complex64", SUITES, _complex_patch(torch, "tanh", TanhComplex64),
                  target="torch.tanh", ops=("tanh",), allowed=("complex64",)),
    GradientFault("sigmoid_forward_mode", "an error only in forward mode", "jvp", SUITES, _unary_patch(torch, "sigmoid", SigmoidForward),
                  target="torch.sigmoid", ops=("sigmoid",), allowed=("jvp",)),
    GradientFault("sigmoid_nan_in_the_tails", "an error only in the tails (nan where e^-x overflows)", "extremes", SUITES, _unary_patch(torch, "sigmoid", SigmoidTails),
                  target="torch.sigmoid", ops=("sigmoid",), allowed=("extremes",)),
    GradientFault("div_quotient_denominator", "a wrong denominator in a quotient rule", "vjp", SUITES, _binary_patch(Tensor, "__truediv__", DivDenominator),
                  target="torch.Tensor.__truediv__", ops=("div",), allowed=REVERSE),
    GradientFault("matmul_square_no_transpose", "a matmul gradient missing a transpose for square operands", "vjp", SUITES, _matmul_square,
                  target="torch.Tensor.__matmul__, torch.matmul", ops=("matmul",), allowed=(*REVERSE, "variant")),
    GradientFault("mean_dim_wrong_count", "a reduction dividing by the wrong count", "vjp", SUITES, _mean_dim_count,
                  target="torch.Tensor.mean", ops=("mean_dim",), allowed=REVERSE),
    GradientFault("inv_reverse_no_transpose", "a matrix inverse wrong in reverse mode only (forward right)", "vjp", SUITES, _unary_patch(torch.linalg, "inv", InvReverse),
                  target="torch.linalg.inv", ops=("inv",), allowed=(*REVERSE, "variant")),
    GradientFault("det_inverse_not_transposed", "a det derivative with A^-1 for A^-T, wrong alike in both modes", "vjp", SUITES, _unary_patch(torch.linalg, "det", DetNoTranspose),
                  target="torch.linalg.det", ops=("det",), allowed=(*REVERSE, "jvp", "second_order", "variant")),
    GradientFault("inverse_alias_reverse", "one spelling wrong: torch.inverse's reverse mode (torch.linalg.inv right)", "variant", SUITES, _unary_patch(torch, "inverse", InvReverse),
                  target="torch.inverse", ops=("inv",), allowed=("variant",)),
    GradientFault("sinc_wrong_beyond_1", "a wrong gradient outside a known failure's scope (sinc, |x| > 1)", "vjp", SUITES, _unary_patch(torch, "sinc", SincBeyond1),
                  target="torch.sinc", ops=("sinc",), allowed=(*REVERSE, "float32", "jvp", "second_order")),
    GradientFault("fmod_floor_quotient", "fmod's divisor gradient with remainder's floor for fmod's trunc", "vjp", SUITES, _binary_patch(torch, "fmod", FmodFloor),
                  target="torch.fmod", ops=("fmod",), allowed=REVERSE),
    GradientFault("logcumsumexp_forward_small_spread", "forward mode wrong outside a known failure's scope (small spreads)", "jvp", SUITES, _logcumsumexp_small_spread,
                  target="torch.logcumsumexp", ops=("logcumsumexp",), allowed=("jvp", "second_order")),
    GradientFault("eigh_eigenvector_gap_sign", "a decomposition's vector derivative dividing by the eigenvalue gaps the wrong way round", "vjp", SUITES, _eigh_gap_sign,
                  target="torch.linalg.eigh", ops=("eigh_eigenvectors",), allowed=(*REVERSE, "second_order")),
    GradientFault("rfft_backward_hermitian_doubling", "an fft backward applying the Hermitian (c2r) convention where none belongs", "vjp", SUITES, _rfft_hermitian_backward,
                  target="torch.fft.rfft", ops=("fft_rfft",), allowed=(*REVERSE, "second_order")),
    # structured/masked/scatter helper (issue 15): a scatter op
    GradientFault("scatter_add_repeated_index", "a scatter gradient wrong only where indices repeat (accumulation)", "vjp", SUITES, _scatter_add_repeats,
                  target="torch.scatter_add, torch.Tensor.scatter_add", ops=("scatter_add",), allowed=(*REVERSE, "second_order", "variant")),
    GradientFault("masked_sum_empty_line", "a masked gradient leaking into a line the mask drops whole", "vjp", SUITES, _masked_sum_empty_line,
                  target="torch.masked.sum", ops=("masked_sum",), allowed=(*REVERSE, "second_order")),
    GradientFault("conv2d_weight_strided", "a layer's weight gradient wrong only for strided convolutions", "vjp", SUITES, _conv2d_strided,
                  target="torch.nn.functional.conv2d", ops=("conv2d",), allowed=(*REVERSE, "jvp", "second_order", "float32", "layout")),
]  # fmt: skip
FAULTS_BY_NAME = {f.name: f for f in FAULTS}
