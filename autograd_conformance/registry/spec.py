"""The shape of one registry entry.

An :class:`OpSpec` is declarative: the torch call is a *code template* written
the way users write it (``"torch.sin({x})"``, ``"{x} @ {y}"``,
``"{x}.sum(dim={dim}, keepdim={keepdim})"``).  The same template runs the op
and renders the repro, so a repro is exactly the code that was checked.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from autograd_conformance.versions import EVERY_VERSION, Versions

if TYPE_CHECKING:
    from autograd_conformance.registry.shapes import ShapeRule  # shapes imports this module

Shape = tuple[int, ...]
TENSOR_NAMES = ("x", "y", "z", "w")


@dataclass(frozen=True)
class Domain:
    """The open interval an input's elements are sampled from, and the op's kink points in it.

    ``kinks`` are points where the op is not differentiable (abs at 0, hardtanh at ±1).
    ``safe`` is an in-domain filler used to pad JAX buckets.
    """

    low: float = -math.inf
    high: float = math.inf
    kinks: tuple[float, ...] = ()
    matrix: str = ""  # "" or a structure the leaf sampler builds: "well_conditioned", "spd", "complex well_conditioned"
    spread: float | None = None  # how far from 0 to sample where unbounded (None: autograd_conformance.strategies.tensors.BOUND)

    @property
    def is_reals(self) -> bool:
        return self.low == -math.inf and self.high == math.inf and not self.matrix

    @property
    def safe(self) -> float:
        if self.is_reals:
            return 0.5
        if self.low == -math.inf:
            return self.high - 0.5
        if self.high == math.inf:
            return self.low + 0.5
        return (self.low + self.high) / 2

    def contains(self, values: np.ndarray, margin: float) -> bool:
        """Whether ``values`` lie inside, at least ``margin`` (relative) from the boundary."""
        if self.matrix:
            return matrix_inside(values, self.matrix, margin)
        scale = np.maximum(1.0, np.abs(values)) * margin
        return bool(np.all((values - scale > self.low) & (values + scale < self.high)))


def matrix_inside(values: np.ndarray, structure: str, margin: float) -> bool:
    """A matrix domain is a structure, not an interval: the sampler's X + n·I has entries near n.

    ``well_conditioned``: invertible, its smallest singular value above ``margin`` times
    max(1, largest).  ``spd``: its symmetric part positive definite by the same measure
    (the templates symmetrize).  (-1, 1) bounds only the sampler's X, never the matrix.
    """
    a = np.asarray(values, dtype=np.float64)
    if structure.startswith("complex "):  # a complex matrix in its real view (autograd_conformance.registry.complex)
        if a.ndim < 3 or a.shape[-1] != 2:
            return False
        a, structure = a[..., 0] + 1j * a[..., 1], structure.removeprefix("complex ")
    if a.ndim < 2 or a.shape[-1] != a.shape[-2] or not np.all(np.isfinite(a)):
        return False
    if structure == "spd":
        eigenvalues = np.linalg.eigvalsh((a + np.swapaxes(a, -1, -2).conj()) / 2)
        spectrum, smallest = np.abs(eigenvalues), eigenvalues.min(axis=-1)
    else:
        spectrum = np.linalg.svd(a, compute_uv=False)
        smallest = spectrum.min(axis=-1)
    return bool(np.all(smallest > margin * np.maximum(1.0, spectrum.max(axis=-1))))


REALS = Domain()
# The log-sum-exp family (logsumexp, softmax, logcumsumexp, logaddexp) is stabilized against
# large spreads of its inputs, and its precision bugs show there: logcumsumexp's forward mode
# is 6e-9 off at a spread of 11 and 50% off at 30.  Sampled to |x| ≤ 30 (exp(60) is finite).
WIDE = Domain(spread=30.0)
POSITIVE = Domain(0.0, math.inf)
UNIT_OPEN = Domain(-1.0, 1.0)
WELL_CONDITIONED = Domain(-1.0, 1.0, matrix="well_conditioned")  # X + n·I: diagonally dominant, invertible
SPD = Domain(-1.0, 1.0, matrix="spd")  # (X + Xᵀ)/2 + n·I: symmetric positive definite


class Call(NamedTuple):
    """One concrete use of an op: the shapes of its tensor inputs and its static parameters."""

    input_shapes: tuple[Shape, ...]
    params: tuple[tuple[str, Any], ...]  # sorted (name, value) pairs: hashable, for JAX's compile cache

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.params)


def make_call(input_shapes: list[Shape] | tuple[Shape, ...], **params: Any) -> Call:
    return Call(tuple(tuple(s) for s in input_shapes), tuple(sorted(params.items())))


KinkTest = Callable[[list[np.ndarray], dict[str, Any], float], bool]


@dataclass(frozen=True, eq=False)
class OpSpec:
    """One differentiable op, declared once: how to call it in torch and JAX, where, and what to expect."""

    name: str
    family: str
    torch: str  # code template, tensors as {x} {y} ..., params by name
    jax: Callable[..., Any]  # jax_fn(*arrays, **params)
    rule: ShapeRule  # arity, input shapes, shape parameters (autograd_conformance/registry/shapes.py)
    params: dict[str, Any] = field(default_factory=dict)  # other static parameters: name -> Hypothesis strategy
    domain: Domain | tuple[Domain, ...] = REALS
    near_kink: KinkTest | None = None  # ties and other non-elementwise kinks
    dtypes: tuple[str, ...] = ("float64", "float32")
    # The torch versions that have the op at all (F.linear_cross_entropy is new in 2.13): elsewhere the registry
    # leaves it out of ``OPS``, so no cell, tree or coverage count meets it there.
    versions: Versions = EVERY_VERSION
    # The torch versions with forward-mode AD / double backward for this op (autograd_conformance/versions.py);
    # `forward_ad` and `double_backward` say whether the installed torch has them.
    forward_ad_in: Versions = EVERY_VERSION
    double_backward_in: Versions = EVERY_VERSION
    third_order_in: Versions = EVERY_VERSION  # third derivatives (by reverse mode; forward also needs forward_ad)
    rtol: dict[str, float] = field(default_factory=dict)  # per-dtype overrides, with a reason in `notes`
    # How much the op's kernel amplifies rounding in its derivatives at these (node) inputs, where that
    # depends on the point: a least-squares residual's κ(A)², an eigh- or SVD-based pinv's κ(A).  A tree's
    # comparisons widen by ``tol.CONDITIONING_FACTOR``·eps (of the dtype compared) times it, and stop
    # (INCONCLUSIVE) where that is past ``tol.FD_USEFUL`` (float64) or ``tol.REDUCED_CONDITIONING_LIMIT`` times
    # a reduced dtype's tolerance.
    conditioning: Callable[[list[np.ndarray]], float] | None = None
    conventions: tuple[str, ...] = ()  # keys into autograd_conformance.conventions
    notes: str = ""
    in_trees: bool = True  # may appear inside random expression trees
    # Other spellings of the same function (aliases, method and operator forms), as templates:
    # the `variant` property checks each against ``torch`` on the same inputs, instead of each
    # being a full entry of its own (``torch.det`` beside ``torch.linalg.det``).
    variants: tuple[str, ...] = ()
    # A user's op (autograd_conformance.declare): the source a repro runs before the template (the import of
    # the name the template calls), and whether ``jax`` is a reference (False: it only evaluates the op, so
    # the JAX oracle is not consulted and finite differences judge alone).  Registry ops need neither.
    setup: str = ""
    jax_is_reference: bool = True
    # A user's op is one node whose insides the tree's evaluation cannot see: the largest |value| inside it at
    # these inputs (log(cosh(x)) at x = 1e-4 is 5e-9 but rounds at cosh's 1), for finite differences' noise.
    internal_magnitude: Callable[[list[np.ndarray]], float] | None = None

    def __repr__(self) -> str:  # Hypothesis prints draws: keep them short
        return f"<op {self.name}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # Hypothesis's printer would list every field
        printer.text(repr(self))

    @property
    def forward_ad(self) -> bool:
        return self.forward_ad_in.holds()

    @property
    def double_backward(self) -> bool:
        return self.double_backward_in.holds()

    @property
    def third_order(self) -> bool:
        return self.double_backward and self.third_order_in.holds()

    @property
    def arity(self) -> int:
        return self.rule.arity

    def domain_of(self, i: int) -> Domain:
        return self.domain[i] if isinstance(self.domain, tuple) else self.domain

    @property
    def restricted(self) -> bool:
        """Whether some input must stay inside a proper subset of the reals."""
        return any(not self.domain_of(i).is_reals for i in range(self.arity))

    @property
    def elementwise(self) -> bool:
        return bool(getattr(self.rule, "elementwise", False))

    def code(self, args: list[str], params: dict[str, Any]) -> str:
        """The op as torch source code applied to the source strings ``args``."""
        names = dict(zip(TENSOR_NAMES, args))
        return self.torch.format(**names, **{k: literal(v) for k, v in params.items()})

    def torch_fn(self, call: Call) -> Callable[..., Any]:
        """A Python function running the template with ``call``'s parameters (see ``compile_torch``)."""
        args = list(TENSOR_NAMES[: self.arity])
        return compile_torch(", ".join(args), self.code(args, call.kwargs))

    def spelled(self, template: str) -> OpSpec:
        """This op written as ``template`` (one of its ``variants``)."""
        return replace(self, torch=template, variants=())

    def is_near_kink(self, inputs: list[np.ndarray], params: dict[str, Any], margin: float) -> bool:
        """Whether any input is within ``margin`` (relative) of a non-differentiable point."""
        for i, values in enumerate(inputs[: self.arity]):
            for k in self.domain_of(i).kinks:
                if np.any(np.abs(values - k) <= margin * max(1.0, abs(k))):
                    return True
        return bool(self.near_kink and self.near_kink(inputs, params, margin))


def declare_family(family: str, **defaults: Any) -> Callable[..., OpSpec]:
    """The one factory the registry modules declare their ops with: ``OpSpec`` with a family's defaults.

        unary = declare_family("unary", rule=Same())
        unary("tan", "torch.tan({x})", jnp.tan, domain=Domain(-1.3, 1.3), family="trigonometric")

    Name, torch template and JAX function are positional; every other field is by keyword and
    overrides the family's default.
    """

    def declare(name: str, torch: str, jax: Callable[..., Any], **fields: Any) -> OpSpec:
        return OpSpec(name=name, torch=torch, jax=jax, **{"family": family, **defaults, **fields})

    return declare


_COMPILED: dict[tuple[str, str], Callable[..., Any]] = {}
# Names user ops' templates call (``MyFunction.apply({x})``), added by autograd_conformance.declare; each
# name is bound once, to one object, so the compiled lambdas cached under their source stay right.
USER_NAMES: dict[str, Any] = {}


def compile_torch(params: str, source: str) -> Callable[..., Any]:
    """``lambda <params>: <source>`` with ``torch`` and ``F`` (torch.nn.functional) in scope, compiled once.

    The one compiler of torch source: an op's template (``OpSpec.torch_fn``) and a whole
    expression tree (``Tree.torch_fn``) both run through it, so the code shown is the code run.
    """
    fn = _COMPILED.get((params, source))
    if fn is None:
        import torch
        import torch.nn.functional as F  # noqa: N812

        scope = {**USER_NAMES, "torch": torch, "F": F}
        fn = eval(f"lambda {params}: {source}", scope)  # noqa: S307 - registry and declared user templates only
        _COMPILED[(params, source)] = fn
    return fn


class Operand(tuple):
    """A parameter the JAX reference takes as a traced array, not a constant: a boolean mask.  The oracle
    compiles one program per op, shapes and other parameters, and passes each operand as an argument (never
    differentiated); the template renders it as a nested list, like any tuple (``torch.tensor({mask})``)."""

    def __new__(cls, value: Any) -> Operand:
        return super().__new__(cls, tuple(Operand(v) if isinstance(v, (list, tuple)) else v for v in value))


class Raw(str):
    """A parameter that is already source code (an indexing expression such as ``1:3, ::2``)."""


def literal(value: Any) -> str:
    """Python source for a parameter value (tuples print as lists, so torch.tensor() takes them)."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return repr(value)
