"""A user's op as a registry entry: ``declare_op`` turns a callable and its inputs into an ``OpSpec``.

The entry is the kind the registry declares (``autograd_conformance.registry.spec``): a code template that
calls the user's op by name (``MySquare.apply({x})``, ``torch.ops.mylib.square({x})``), a JAX
function, a shape rule, a domain per input.  So the registry's strategies draw its inputs, its
oracles judge it and its repros print it, unchanged.  Only two fields are the user's own:
``setup``, the import a repro needs to call the op, and ``jax_is_reference``: without a JAX
reference, ``jax`` only evaluates the op (through torch, by ``jax.pure_callback``), the JAX oracle
is not consulted, and finite differences judge alone.
"""

from __future__ import annotations

import builtins
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from hypothesis import find
from hypothesis import strategies as st
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

import autograd_conformance.jaxsetup  # noqa: F401  (x64 + CPU before any JAX array exists)
from autograd_conformance.registry.shapes import Draw, ShapeRule
from autograd_conformance.registry.spec import (
    REALS,
    TENSOR_NAMES,
    USER_NAMES,
    Domain,
    OpSpec,
    Shape,
    make_call,
)
from autograd_conformance.strategies.tensors import structured
from autograd_conformance.versions import EVERY_VERSION, NO_VERSION

# What check_op checks, in this order: the suite's property names (the report's rows).
PROPERTIES = (
    "vjp", "jvp", "second_order", "second_fwd_rev", "second_rev_fwd", "second_fwd_fwd", "third_rev", "third_fwd",
    "float32", "layout", "func.vmap", "compile.vjp", "opcheck",
)  # fmt: skip
_RTOL_DTYPES = ("float64", "float32", "bfloat16", "float16")  # the dtypes the suite draws (rtol= keys)
# Held to JAX's derivatives: without jax_ref there is no oracle for them.
NEEDS_REFERENCE = ("second_fwd_rev", "second_rev_fwd", "second_fwd_fwd", "third_rev", "third_fwd", "float32")
DomainLike = Domain | tuple[float, float]
# Whether inputs (one array per tensor argument) lie within ``margin`` (relative) of a point where the op is not
# differentiable that no fixed point names: the ties of a max, a sort or a median.
NearKink = Callable[[list[np.ndarray], float], bool]
Conditioning = Callable[[list[np.ndarray]], float]
InputsLike = Sequence[Sequence[int]] | st.SearchStrategy[Sequence[Sequence[int]]]


class DeclarationError(ValueError):
    """The op's declaration cannot be checked: bad shapes or domain, or the op fails on its own inputs."""


@dataclass(frozen=True)
class DeclaredShapes(ShapeRule):
    """The input shapes the user declared: fixed, or drawn from their strategy of shape tuples.

    With fixed shapes the output shape is known, so random trees can place the op where that shape is wanted.
    """

    shapes: st.SearchStrategy[tuple[Shape, ...]] = st.just(((),))
    output: Shape | None = None  # the output shape for fixed input shapes; None when they are drawn

    def produces(self, out: Shape) -> bool:
        return out == self.output

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        return st.just(self.output or ())

    def draw(self, draw: Draw, out: Shape) -> Any:
        return make_call(list(draw(self.shapes, "input shapes")))


@dataclass(frozen=True, eq=False)
class UserOp:
    """A declared op: its registry entry, and the properties it has no rule for, with why (``unsupported``)."""

    spec: OpSpec
    unsupported: dict[str, str]
    library_op: Any = None  # the torch.library op (custom_op or torch.ops.<ns>.<op>) that opcheck checks
    function: Any = None  # what the user declared (known torch bugs depend on its kind: autograd_conformance.known)

    @property
    def name(self) -> str:
        return self.spec.name

    def supports(self, prop: str) -> bool:
        return prop not in self.unsupported


def declare_op(
    fn: Callable[..., torch.Tensor],
    *,
    inputs: InputsLike,
    domain: DomainLike | Sequence[DomainLike] = REALS,
    kinks: Sequence[float] = (),
    near_kink: NearKink | None = None,
    jax_ref: Callable[..., Any] | None = None,
    rtol: Mapping[str, float] | None = None,
    conditioning: Conditioning | None = None,
    name: str | None = None,
) -> UserOp:
    """``fn`` (a function of torch ops, ``MyFunction.apply``, or a ``torch.library.custom_op``) as a registry entry.

    ``inputs``: one shape per tensor argument (``[(3,), (3,)]``), or a Hypothesis strategy drawing such a
    list.  ``domain``: the open interval ``(low, high)`` the inputs' elements are drawn from, one for all
    inputs or one per input, or a ``Domain``, which can also be a matrix structure (``Domain(-1, 1,
    matrix="spd")``: (X + Xᵀ)/2 + n·I; "well_conditioned": X + n·I).  ``kinks``: points where ``fn`` is not differentiable (no check is made within
    reach of them).  ``near_kink(inputs, margin)``: whether inputs lie within ``margin`` (relative) of a
    non-differentiable point no fixed point names, such as a tie of a max (no check is made there either).
    ``jax_ref``: the same function in ``jax.numpy``, the exact reference; without it finite differences judge
    alone.  ``rtol``: a relative tolerance per dtype (``{"float64": 1e-9, "float32": 1e-4}``) for an op whose
    algorithm rounds more than the calibrated tolerances allow (``OpSpec.rtol``: float64's raises their floor,
    a reduced precision's is added to its per-op allowance; ``autograd_conformance.tolerances``).
    ``conditioning(inputs)``: how much the op amplifies rounding in its derivatives at these inputs, where that
    depends on the point (κ(A)² for a least-squares residual, a few κ(A) for an SVD-based pinv): the tolerances
    widen by ``tol.CONDITIONING_FACTOR``·eps (of the dtype compared) times it, and a check stops (inconclusive)
    where that passes ``tol.FD_USEFUL`` in float64, or ``tol.REDUCED_CONDITIONING_LIMIT`` times float32's tolerance.
    """
    shapes = _shapes_strategy(inputs)
    probe_shapes = find(shapes, lambda _: True)  # the simplest shapes the strategy draws
    arity = len(probe_shapes)
    domains = _domains(domain, kinks, arity)
    template, setup = _spelling(fn, arity)
    label = name or template.split("(")[0].removesuffix(".apply").replace("torch.ops.", "")
    probe = [torch.from_numpy(probe_point(s, d, i)) for i, (s, d) in enumerate(zip(probe_shapes, domains))]
    output = _output_of(fn, probe, label)
    jax_fn = jax_ref if jax_ref is not None else _value_only(fn, domains)
    if jax_ref is not None:
        _check_reference(jax_ref, probe, output, label)
    library_op = _library_op(fn)
    unsupported = _unsupported(fn, probe, jax_ref is not None, library_op)
    spec = OpSpec(
        name=label,
        family="user",
        torch=template,
        jax=jax_fn,
        rule=DeclaredShapes(
            arity=arity, shapes=shapes, output=None if isinstance(inputs, st.SearchStrategy) else output
        ),
        domain=domains,
        forward_ad_in=NO_VERSION if "jvp" in unsupported else EVERY_VERSION,
        double_backward_in=NO_VERSION if "second_order" in unsupported else EVERY_VERSION,
        third_order_in=NO_VERSION if "third_rev" in unsupported else EVERY_VERSION,
        near_kink=None if near_kink is None else (lambda inputs, params, margin: near_kink(inputs, margin)),
        rtol=_rtol(rtol),
        conditioning=conditioning,
        notes="declared by autograd_conformance.declare_op",
        setup=setup,
        jax_is_reference=jax_ref is not None,
        internal_magnitude=lambda arrays: largest_inside(fn, *(torch.from_numpy(np.array(a)) for a in arrays)),
    )
    return UserOp(spec, unsupported, library_op, fn)


def _shapes_strategy(inputs: InputsLike) -> st.SearchStrategy[tuple[Shape, ...]]:
    if isinstance(inputs, st.SearchStrategy):
        return inputs.map(lambda shapes: tuple(_shape(s) for s in shapes)).filter(_arity_ok)
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Sequence):
        raise DeclarationError(f"inputs= takes one shape per tensor argument, like [(3,), (3,)], not {inputs!r}")
    shapes = tuple(_shape(s) for s in inputs)
    if not _arity_ok(shapes):
        raise DeclarationError(f"inputs= declares {len(shapes)} tensors; an op takes 1 to {len(TENSOR_NAMES)}")
    return st.just(shapes)


def _arity_ok(shapes: tuple[Shape, ...]) -> bool:
    return 1 <= len(shapes) <= len(TENSOR_NAMES)


def _shape(s: Any) -> Shape:
    if isinstance(s, int) or not isinstance(s, Sequence) or not all(isinstance(n, int) and n >= 0 for n in s):
        raise DeclarationError(f"an input shape is a tuple of sizes, like (3,) or (2, 3); got {s!r}")
    return tuple(s)


def _domains(domain: DomainLike | Sequence[DomainLike], kinks: Sequence[float], arity: int) -> tuple[Domain, ...]:
    one = isinstance(domain, Domain) or (
        isinstance(domain, tuple) and len(domain) == 2 and all(isinstance(b, (int, float)) for b in domain)
    )
    given = [domain] * arity if one else list(domain)  # type: ignore[arg-type]
    if len(given) != arity:
        raise DeclarationError(f"domain= gives {len(given)} domains for {arity} inputs")
    out = []
    for d in given:
        if not isinstance(d, Domain):
            if not (isinstance(d, tuple) and len(d) == 2):
                raise DeclarationError(f"a domain is (low, high) or a Domain, not {d!r}")
            d = Domain(float(d[0]), float(d[1]))
        if not d.low < d.high or math.isnan(d.low) or math.isnan(d.high):
            raise DeclarationError(f"domain ({d.low}, {d.high}) is empty: low must be below high")
        bad = [k for k in kinks if not d.low < k < d.high]
        if bad:
            raise DeclarationError(f"kinks {bad} lie outside the domain ({d.low}, {d.high})")
        out.append(replace(d, kinks=tuple(sorted({*d.kinks, *kinks}))))
    return tuple(out)


def _rtol(rtol: Mapping[str, float] | None) -> dict[str, float]:
    out = dict(rtol or {})
    bad = {k: v for k, v in out.items() if k not in _RTOL_DTYPES or not (isinstance(v, (int, float)) and 0 <= v < 1)}
    if bad:
        raise DeclarationError(f"rtol= maps a dtype ({', '.join(_RTOL_DTYPES)}) to a tolerance in [0, 1); got {bad}")
    return out


def probe_point(shape: Shape, domain: Domain, index: int = 0) -> np.ndarray:
    """Input ``index`` at the point inside ``domain`` where the op is tried once: its elements a fixed
    pseudo-random spread of up to ±0.25 around the domain's safe value, another for each input (a constant
    matrix has rank 1: lstsq returns no residuals there and inv raises; equal inputs tie), made the matrix its
    structure asks for (``autograd_conformance.strategies.tensors.structured``: n·I added)."""
    safe = domain.safe
    width = min(0.25, (safe - domain.low) / 2, (domain.high - safe) / 2)
    point = np.asarray(safe + width * np.random.default_rng(index).uniform(-1.0, 1.0, size=shape), dtype=np.float64)
    return structured(point, domain, "float64") if domain.matrix else point


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RESERVED = re.compile(r"torch|F|x\d+|lambda")  # names the templates' scope already has (and Python's builtins)


def _spelling(fn: Callable[..., Any], arity: int) -> tuple[str, str]:
    """The template that calls ``fn``, and the import a repro needs for it."""
    try:
        from torch._library.custom_ops import CustomOpDef
    except ImportError:  # torch < 2.4 has no torch.library.custom_op
        CustomOpDef = ()  # noqa: N806 - isinstance(fn, ()) is False

    args = ", ".join("{" + n + "}" for n in TENSOR_NAMES[:arity])
    if isinstance(fn, CustomOpDef):  # torch.library.custom_op: called the way users call it, through torch.ops
        namespace, op = fn._qualname.split("::")
        module = fn._init_fn.__module__
        setup = f"import {module}  # registers torch.ops.{namespace}.{op}" if module != "__main__" else ""
        return f"torch.ops.{namespace}.{op}({args})", setup
    if isinstance(fn, (torch._ops.OpOverload, torch._ops.OpOverloadPacket)):  # torch.ops.<ns>.<op>, C++ or Python
        namespace, op = (
            fn._schema.name.split("::") if isinstance(fn, torch._ops.OpOverload) else fn._qualified_op_name.split("::")
        )
        if isinstance(fn, torch._ops.OpOverload) and fn._overloadname != "default":
            op += f".{fn._overloadname}"
        setup = "" if namespace == "aten" else f"# load the library that registers torch.ops.{namespace} here"
        return f"torch.ops.{namespace}.{op}({args})", setup
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type) and issubclass(owner, torch.autograd.Function):
        obj, call = owner, f".{fn.__name__}"
    elif callable(fn) and hasattr(fn, "__qualname__"):
        obj, call = fn, ""
    else:
        raise DeclarationError(f"check_op takes a function, Function.apply or a torch.library custom op, not {fn!r}")
    base = obj.__name__ if _IDENTIFIER.fullmatch(obj.__name__) else "user_op"
    bound = _bind(base, obj)
    module, qualname = obj.__module__, obj.__qualname__
    if module == "__main__" or "<" in qualname or "." in qualname:
        setup = f"# {bound} = ...  # {module}.{qualname} cannot be imported: define it here"
    else:
        setup = f"from {module} import {qualname}" + (f" as {bound}" if bound != qualname else "")
    return f"{bound}{call}({args})", setup


def _bind(base: str, obj: Any) -> str:
    """A name for ``obj`` in the templates' scope: ``base``, or ``base_2`` ... if taken by another object."""
    candidate, n = base, 1
    # A user's function named like a builtin (sum, max) would shadow it in every template: unbind's calls sum().
    while _RESERVED.fullmatch(candidate) or hasattr(builtins, candidate) or USER_NAMES.get(candidate, obj) is not obj:
        n += 1
        candidate = f"{base}_{n}"
    USER_NAMES[candidate] = obj
    return candidate


def _output_of(fn: Callable[..., Any], probe: list[torch.Tensor], label: str) -> Shape:
    shapes = [tuple(p.shape) for p in probe]
    try:
        with torch.no_grad():
            out = fn(*probe)
    except Exception as exc:  # noqa: BLE001 - the declaration is what is wrong
        raise DeclarationError(
            f"{label} raised on float64 inputs of shapes {shapes}: {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(out, torch.Tensor) or not out.is_floating_point():
        raise DeclarationError(f"{label} must return one floating-point tensor; on shapes {shapes} it returned {out!r}")
    return tuple(out.shape)


def _check_reference(jax_ref: Callable[..., Any], probe: list[torch.Tensor], output: Shape, label: str) -> None:
    try:
        shape = tuple(np.shape(jax_ref(*(p.numpy() for p in probe))))
    except Exception as exc:  # noqa: BLE001
        raise DeclarationError(
            f"jax_ref of {label} raised on the declared inputs: {type(exc).__name__}: {exc}"
        ) from exc
    if shape != output:
        raise DeclarationError(
            f"jax_ref of {label} returns shape {shape}, but {label} returns {output} at the point it was tried: "
            f"{[p.tolist() for p in probe]}"
        )


class _Largest(TorchDispatchMode):
    """Watches every aten op a call runs and keeps the largest finite |value| any of them produces."""

    def __init__(self) -> None:
        super().__init__()
        self.largest = 0.0

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        out = func(*args, **(kwargs or {}))
        for t in tree_leaves(out):
            if isinstance(t, torch.Tensor) and t.is_floating_point() and t.numel():
                finite = t[torch.isfinite(t)]  # the mode is off inside its own handler
                if finite.numel():
                    self.largest = max(self.largest, float(finite.abs().max()))
        return out


def largest_inside(fn: Callable[..., Any], *args: torch.Tensor) -> float:
    """The largest finite |value| of any intermediate ``fn(*args)`` computes (the op's rounding noise is relative
    to it, not to its output)."""
    watch = _Largest()
    with torch.no_grad(), watch:
        fn(*args)
    return watch.largest


def _value_only(fn: Callable[..., Any], domains: tuple[Domain, ...]) -> Callable[..., Any]:
    """A JAX function that evaluates ``fn`` through torch, for the evaluation the checks share (values, the
    point's poles and domain exits).  It is no oracle: its derivatives are NaN, so nothing can pass on them."""
    import jax
    import jax.numpy as jnp

    def value(*arrays: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return fn(*(torch.from_numpy(np.array(a, dtype=np.float64)) for a in arrays)).numpy()

    @jax.custom_jvp
    def evaluate(*xs: Any) -> Any:
        with torch.no_grad():
            safe = [torch.from_numpy(probe_point(tuple(x.shape), d, i)) for i, (x, d) in enumerate(zip(xs, domains))]
            shape = tuple(fn(*safe).shape)
        return jax.pure_callback(value, jax.ShapeDtypeStruct(shape, jnp.float64), *xs)

    @evaluate.defjvp
    def no_derivative(primals: tuple, tangents: tuple) -> tuple:
        out = evaluate(*primals)
        return out, jnp.nan * sum(jnp.sum(t) for t in tangents) * jnp.ones_like(out)

    return evaluate


def _library_op(fn: Any) -> Any:
    """``fn`` if it is a torch.library op (what ``torch.library.opcheck`` takes), else None."""
    try:
        from torch._library.custom_ops import CustomOpDef
    except ImportError:  # torch < 2.4
        return None
    return fn if isinstance(fn, (CustomOpDef, torch._ops.OpOverload, torch._ops.OpOverloadPacket)) else None


def _first_line(exc: Exception) -> str:
    return f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}"


def _unsupported(
    fn: Callable[..., Any], probe: list[torch.Tensor], has_reference: bool, library_op: Any
) -> dict[str, str]:
    """The properties ``fn`` has no rule for, with why: found by trying each mode of differentiation once, at the
    probe point, the way the property runs it.  A mode that raises there is a mode the op does not offer."""
    fad = torch.autograd.forward_ad
    ones = [torch.ones_like(p) for p in probe]

    def reverse(*xs: torch.Tensor, times: int) -> None:
        # The cotangents require grad: a piecewise-linear op's gradient (amax's u·mask) depends on x only where
        # it jumps, so it is differentiable (its derivative in x is 0) while requiring grad through u alone.
        # Not leaves: a backward may update its incoming gradient in place (grad.mul_(3)).
        # A gradient that is 0 whatever u (floor's, sign's) is differentiable too: its derivatives are all 0.
        leaves = [x.detach().requires_grad_() for x in xs]
        out = fn(*leaves)
        for k in range(times - 1):
            cotangent = torch.ones_like(out).requires_grad_().clone()
            grads = [g for g in torch.autograd.grad(out, leaves, cotangent, create_graph=True, allow_unused=True)
                     if g is not None]  # fmt: skip
            live = [g for g in grads if g.requires_grad]
            if not live and any(g.count_nonzero() for g in grads):
                which = "backward" if k == 0 else "second derivative"
                raise _NoRuleError(f"its {which} is not differentiable (no gradient requires grad)")
            if not live:
                return
            out = sum(g.sum() for g in live)
        torch.autograd.grad(out, leaves, torch.ones_like(out), allow_unused=True)

    def nested_jvp(depth: int) -> Callable[..., torch.Tensor]:
        inner = fn
        for _ in range(depth):
            inner = (lambda g: lambda *xs: torch.func.jvp(g, tuple(xs), tuple(ones))[1])(inner)
        return inner

    def forward_tangent() -> None:
        with fad.dual_level():
            duals = [fad.make_dual(p, t) for p, t in zip(probe, ones)]
            # torch.library custom ops with register_autograd do this on torch 2.9 and 2.13: no error, no tangent.
            # Elsewhere None is torch's zero tangent, checked like any other (scatter_reduce(prod) drops its
            # tangent to None where the derivative is not 0: a torch bug the jvp property must see).
            if fad.unpack_dual(fn(*duals)).tangent is None and library_op is not None:
                raise _NoRuleError("forward mode gives no tangent at all (None): the op has no forward-mode rule")

    # In the two mixed compositions the direction that is not differentiated carries the derivative too (the
    # cotangent a tangent, the tangent a gradient), as the cotangents do in ``reverse``: a linear op's gradient
    # (neg's -u) has no second derivative to carry, and would read as an op with no rule.
    def forward_over_reverse() -> None:
        with fad.dual_level():
            duals = [fad.make_dual(p.detach().requires_grad_(), t) for p, t in zip(probe, ones)]
            y = fn(*duals)
            cotangent = fad.make_dual(torch.ones_like(y), torch.ones_like(y))
            grads = [g for g in torch.autograd.grad(y, duals, cotangent, create_graph=True, allow_unused=True)
                     if g is not None]  # fmt: skip
            dropped = [g for g in grads if fad.unpack_dual(g).tangent is None]
            if len(dropped) == len(grads) and any(fad.unpack_dual(g).primal.count_nonzero() for g in dropped):
                raise _NoRuleError("the gradient carries no tangent")

    def reverse_over_forward() -> None:
        leaves = [p.detach().requires_grad_() for p in probe]
        directions = [torch.ones_like(p).requires_grad_() for p in probe]
        with fad.dual_level():
            tangent = fad.unpack_dual(fn(*(fad.make_dual(x, t) for x, t in zip(leaves, directions)))).tangent
        if tangent is not None and (tangent.requires_grad or tangent.count_nonzero()):  # floor's J v is 0: no graph
            torch.autograd.grad(tangent.sum(), leaves, allow_unused=True)

    def batched() -> None:
        stacked = [torch.stack([p, p]) for p in probe]
        torch.func.vmap(fn)(*stacked)
        torch.func.vmap(lambda *xs: torch.func.vjp(fn, *xs)[1](torch.ones_like(fn(*xs))))(*stacked)

    probes: dict[str, Callable[[], Any]] = {
        "jvp": forward_tangent,
        "second_order": lambda: reverse(*probe, times=2),
        "second_fwd_rev": forward_over_reverse,
        "second_rev_fwd": reverse_over_forward,
        "second_fwd_fwd": lambda: nested_jvp(2)(*probe),
        "third_rev": lambda: reverse(*probe, times=3),
        "third_fwd": lambda: nested_jvp(3)(*probe),
        "func.vmap": batched,
    }
    out: dict[str, str] = {}
    for prop, attempt in probes.items():
        try:
            attempt()
        except _NoRuleError as exc:
            out[prop] = str(exc)
        except Exception as exc:  # noqa: BLE001 - the op has no rule for this mode: the property does not apply
            out[prop] = f"{_MODE[prop]} raised {_first_line(exc)}"
    if "jvp" in out:  # every composition with forward mode needs a first forward-mode rule
        for prop in ("second_fwd_rev", "second_rev_fwd", "second_fwd_fwd", "third_fwd"):
            out[prop] = "needs forward mode: " + out["jvp"]
    if not has_reference:
        # Their only oracle is JAX: the float32 gradient is held to the float64 JAX reference.
        for prop in NEEDS_REFERENCE:
            out.setdefault(prop, "needs jax_ref: it is held to JAX's derivatives")
    if not hasattr(torch, "compile"):
        out["compile.vjp"] = f"torch {torch.__version__} has no torch.compile"
    if library_op is None:
        out["opcheck"] = "not a torch.library op: torch.library.opcheck checks custom_op and torch.ops registrations"
    elif not hasattr(torch.library, "opcheck"):
        out["opcheck"] = f"torch {torch.__version__} has no torch.library.opcheck (new in 2.4)"
    return {p: out[p] for p in PROPERTIES if p in out}


class _NoRuleError(Exception):
    """A mode ran without error but produced nothing to check (no tangent, no differentiable gradient)."""


# What each probe runs, for the reason a property is not run.
_MODE = {
    "jvp": "forward mode", "second_order": "double backward", "second_fwd_rev": "forward over reverse",
    "second_rev_fwd": "reverse over forward", "second_fwd_fwd": "torch.func.jvp of torch.func.jvp",
    "third_rev": "reverse mode three times", "third_fwd": "torch.func.jvp three deep",
    "func.vmap": "torch.func.vmap of the op and of its vjp",
}  # fmt: skip
