"""A user's op as a registry entry: ``declare_op`` turns a callable and its inputs into an ``OpSpec``.

The entry is the kind the registry declares (``conformance.registry.spec``): a code template that
calls the user's op by name (``MySquare.apply({x})``, ``torch.ops.mylib.square({x})``), a JAX
function, a shape rule, a domain per input.  So the registry's strategies draw its inputs, its
oracles judge it and its repros print it, unchanged.  Only two fields are the user's own:
``setup``, the import a repro needs to call the op, and ``jax_is_reference``: without a JAX
reference, ``jax`` only evaluates the op (through torch, by ``jax.pure_callback``), the JAX oracle
is not consulted, and finite differences judge alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from hypothesis import find
from hypothesis import strategies as st
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

import conformance.jaxsetup  # noqa: F401  (x64 + CPU before any JAX array exists)
from conformance.registry.shapes import Draw, ShapeRule
from conformance.registry.spec import (
    REALS,
    TENSOR_NAMES,
    USER_NAMES,
    Domain,
    OpSpec,
    Shape,
    make_call,
)
from conformance.versions import EVERY_VERSION, NO_VERSION

PROPERTIES = ("vjp", "jvp", "second_order", "float32", "layout")  # what check_op checks, in this order
DomainLike = Domain | tuple[float, float]
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
    jax_ref: Callable[..., Any] | None = None,
    name: str | None = None,
) -> UserOp:
    """``fn`` (a function of torch ops, ``MyFunction.apply``, or a ``torch.library.custom_op``) as a registry entry.

    ``inputs``: one shape per tensor argument (``[(3,), (3,)]``), or a Hypothesis strategy drawing such a
    list.  ``domain``: the open interval ``(low, high)`` the inputs' elements are drawn from, one for all
    inputs or one per input.  ``kinks``: points where ``fn`` is not differentiable (no check is made within
    reach of them).  ``jax_ref``: the same function in ``jax.numpy``, the exact reference; without it finite
    differences judge alone.
    """
    shapes = _shapes_strategy(inputs)
    probe_shapes = find(shapes, lambda _: True)  # the simplest shapes the strategy draws
    arity = len(probe_shapes)
    domains = _domains(domain, kinks, arity)
    template, setup = _spelling(fn, arity)
    label = name or template.split("(")[0].removesuffix(".apply").replace("torch.ops.", "")
    probe = [torch.full(s, d.safe, dtype=torch.float64) for s, d in zip(probe_shapes, domains)]
    output = _output_of(fn, probe, label)
    jax_fn = jax_ref if jax_ref is not None else _value_only(fn, domains)
    if jax_ref is not None:
        _check_reference(jax_ref, probe, output, label)
    unsupported = _unsupported(fn, probe, jax_ref is not None)
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
        third_order_in=NO_VERSION,  # not checked for user ops yet
        notes="declared by autograd_conformance.declare_op",
        setup=setup,
        jax_is_reference=jax_ref is not None,
        internal_magnitude=lambda arrays: largest_inside(fn, *(torch.from_numpy(np.array(a)) for a in arrays)),
    )
    return UserOp(spec, unsupported)


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
        out.append(Domain(d.low, d.high, tuple(sorted({*d.kinks, *kinks})), spread=d.spread))
    return tuple(out)


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RESERVED = re.compile(r"torch|F|x\d+|lambda")  # names the templates' scope already has


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
    while _RESERVED.fullmatch(candidate) or USER_NAMES.get(candidate, obj) is not obj:
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
        raise DeclarationError(f"jax_ref of {label} returns shape {shape}, but {label} returns {output}")


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
            safe = [torch.full(x.shape, d.safe, dtype=torch.float64) for x, d in zip(xs, domains)]
            shape = tuple(fn(*safe).shape)
        return jax.pure_callback(value, jax.ShapeDtypeStruct(shape, jnp.float64), *xs)

    @evaluate.defjvp
    def no_derivative(primals: tuple, tangents: tuple) -> tuple:
        out = evaluate(*primals)
        return out, jnp.nan * sum(jnp.sum(t) for t in tangents) * jnp.ones_like(out)

    return evaluate


def _unsupported(fn: Callable[..., Any], probe: list[torch.Tensor], has_reference: bool) -> dict[str, str]:
    """The properties ``fn`` has no rule for, with why: found by trying forward mode and double backward once."""
    out: dict[str, str] = {}
    xs = [p.clone().requires_grad_() for p in probe]
    try:
        with torch.autograd.forward_ad.dual_level():
            duals = [torch.autograd.forward_ad.make_dual(p, torch.ones_like(p)) for p in probe]
            if torch.autograd.forward_ad.unpack_dual(fn(*duals)).tangent is None:
                # torch.library custom ops with register_autograd do this on torch 2.9 and 2.13: no error, no tangent
                out["jvp"] = "forward mode gives no tangent at all (None): the op has no forward-mode rule"
    except Exception as exc:  # noqa: BLE001 - no forward-mode rule: the property does not apply
        out["jvp"] = f"forward mode raised {type(exc).__name__}: {str(exc).splitlines()[0]}"
    try:
        y = fn(*xs)
        grads = torch.autograd.grad(y, xs, torch.ones_like(y), create_graph=True, allow_unused=True)
        if not any(g is not None and g.requires_grad for g in grads):
            out["second_order"] = "its backward is not differentiable (no gradient requires grad)"
    except Exception as exc:  # noqa: BLE001
        out["second_order"] = f"double backward raised {type(exc).__name__}: {str(exc).splitlines()[0]}"
    if not has_reference:
        # Its only oracle, the float64 JAX reference at the same inputs (checks.reduced_precision_matches_float64).
        out["float32"] = "needs jax_ref: the float32 gradient is held to the float64 JAX reference"
    return out
