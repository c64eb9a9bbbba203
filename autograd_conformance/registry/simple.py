"""Simple elementwise ops torch has beside the ones the other families check, each with a JAX reference:
clamp with tensor bounds, fmod, remainder, float_power, ldexp with an integer exponent tensor, nextafter,
floor and trunc division, round with decimals, fill and zero_, rad2deg, polygamma of orders 2 to 4, erfcx,
nan_to_num, frexp's mantissa, mvlgamma p = 1, 3, 5; reflected operators with a scalar on the left; small shape
ops (atleast_nd, fliplr/flipud, sum_to_size) and the float64 cast.
(Other spellings of ops the registry already checks are ``variants=`` of those ops, in their modules.)

Piecewise-constant ops (fmod, remainder, floor and trunc division, round with decimals) declare where they
jump: a jump is a kink, which smooth checks keep away from and finite differences never straddle.

In random trees only where marked ``in_trees=True`` (the family's default is False): the smooth ops and the
shape ops, with which suites/test_trees.py has run on 2.13.0 and 2.9.1; the rest are discontinuous, zero the
gradient (fill, zero_), sit near poles (polygamma, mvlgamma), have a reference accurate only on |x| <= 3
(erfcx: exp(x²)·erfc(x) overflows for the inputs a tree can feed it) or carry a baselined torch bug (ldexp, nextafter,
float_power, clamp with tensor bounds).

Left out, with the reason (``python -m autograd_conformance.coverage`` lists them as uncovered):

- the narrowing casts ``float``, ``half``, ``bfloat16``, ``cfloat``, ``chalf``: a cast that rounds is a step
  function whose derivative is 0 almost everywhere, while autograd (and JAX, whose ``astype`` is the same
  convention) pass the cotangent through, cast back.  Finite differences of a float64 input see the rounding
  steps (noise of an ulp of the narrow dtype over the step, 6% for float32), so in a float64 cell no
  independent oracle can judge the convention; checking it against JAX alone would be checking a convention
  against itself.  The widening cast (``double``, ``to(torch.float64)``) is exact and is checked.
- ``__rmod__`` with a scalar on the left (``2.5 % x``): torch has no derivative for remainder(Scalar, Tensor)
  (2.9.1 and 2.13.0: "derivative for aten::remainder is not implemented"), though OpInfo marks ``__rmod__``
  differentiable; the tensor form ``y.__rmod__(x)`` is checked as a variant of remainder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import jax.scipy.special as jss
import numpy as np
from hypothesis import strategies as st

from autograd_conformance.registry.shapes import MAX_RANK, MAX_SIDE, Broadcast, Draw, Same, ShapeRule
from autograd_conformance.registry.spec import POSITIVE, REALS, Call, Domain, Shape, declare_family, make_call

B2 = Broadcast(arity=2)
B3 = Broadcast(arity=3)
AWAY_FROM_0 = Domain(kinks=(0.0,))

simple = declare_family("simple", rule=Same(), in_trees=False)  # see the module docstring


# --- shape rules --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SameShape(ShapeRule):
    """The output has the input's shape, but elements move (flips): not elementwise for JAX's buckets."""

    min_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        return make_call([out])


@dataclass(frozen=True)
class AtLeast(ShapeRule):
    """``torch.atleast_{n}d``: an input of rank ≥ n passes unchanged; a lower rank gains dims of 1 (numpy's
    rules: (k,) -> (1, k) for 2-D; (k,) -> (1, k, 1) and (m, k) -> (m, k, 1) for 3-D)."""

    n: int = 1

    def produces(self, out: Shape) -> bool:
        return self.n <= len(out) <= self.max_rank

    def candidates(self, out: Shape) -> list[Shape]:
        found = [out]
        if all(s == 1 for s in out[: self.n]) and len(out) == self.n:
            found.append(())
        if self.n == 2 and len(out) == 2 and out[0] == 1:
            found.append(out[1:])
        if self.n == 3 and len(out) == 3 and out[2] == 1:
            found.append(out[:2])
            if out[0] == 1:
                found.append(out[1:2])
        return sorted(set(found), key=len)

    def draw(self, draw: Draw, out: Shape) -> Call:
        return make_call([draw(st.sampled_from(self.candidates(out)), "input shape")])


@dataclass(frozen=True)
class SumToSize(ShapeRule):
    """``x.sum_to_size(size)``: the input broadcasts to... the other way round, ``size`` broadcasts to the
    input: dims of 1 in ``size`` may be longer in the input, and the input may have leading dims more."""

    def draw(self, draw: Draw, out: Shape) -> Call:
        body = tuple(draw(st.integers(1, MAX_SIDE), f"dim {i} size") if s == 1 else s for i, s in enumerate(out))
        lead = draw(st.lists(st.integers(1, MAX_SIDE), max_size=MAX_RANK - len(out)), "leading dims")
        return make_call([(*lead, *body)], size=tuple(out))


def _sum_to(x, size):
    lead = x.ndim - len(size)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size) if s == 1 and x.shape[lead + i] != 1)
    return jnp.sum(x, axis=axes, keepdims=True).reshape(size) if axes else x.reshape(size)


# --- kink tests ---------------------------------------------------------------------------------


def _close(a, b, margin):
    return np.abs(a - b) <= margin * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))


def _tie(inputs, params, margin):
    x, y = np.broadcast_arrays(inputs[0], inputs[1])
    return bool(np.any(_close(x, y, margin)))


def _any_tie(inputs, params, margin):
    """clamp(x, lo, hi): x at a bound, or the bounds crossing (lo > hi gives hi, so lo = hi is a kink too)."""
    x, lo, hi = np.broadcast_arrays(*inputs[:3])
    return bool(np.any(_close(x, lo, margin) | _close(x, hi, margin) | _close(lo, hi, margin)))


def _quotient_near_integer(offset: float = 0.0):
    """fmod, remainder and the rounding divisions jump where x / y crosses an integer (+ offset)."""

    def near(inputs, params, margin):
        x, y = np.broadcast_arrays(inputs[0], inputs[1])
        with np.errstate(divide="ignore", invalid="ignore"):
            q = x / y - offset
        # d(x/y) = dx/y - x dy/y²: a relative step of margin in x and y moves q by about margin·(|q| + |q|)
        reach = 2 * margin * np.maximum(1.0, np.abs(q)) + margin
        return bool(np.any(~np.isfinite(q) | (np.abs(q - np.round(q)) <= reach)))

    return near


def _scaled_near_half(decimals: int):
    """round(x, decimals) jumps where x·10^decimals is half an integer."""

    def near(inputs, params, margin):
        q = inputs[0] * 10.0**decimals - 0.5
        return bool(np.any(np.abs(q - np.round(q)) <= margin * np.maximum(1.0, np.abs(q))))

    return near


def _near_power_of_2(inputs, params, margin):
    """frexp's mantissa jumps (from 1 to 1/2) where |x| crosses a power of 2, and at 0."""
    a = np.abs(inputs[0])
    if np.any(a <= margin):
        return True
    e = np.log2(a[a > 0])
    return bool(np.any(np.abs(e - np.round(e)) <= 2 * margin))


# --- JAX references -----------------------------------------------------------------------------


def _frexp_mantissa(x):
    """x / 2^e with e = floor(log2|x|) + 1 held constant (piecewise linear: torch's grad / 2^e)."""
    e = jax.lax.stop_gradient(jnp.where(x == 0, 0.0, jnp.floor(jnp.log2(jnp.abs(jnp.where(x == 0, 1.0, x)))) + 1))
    return x * jnp.exp2(-e)


def _nextafter(x, y):
    """nextafter moves x one ulp toward y: its value, with x's derivative 1 and y's 0 (a step of an ulp).
    JAX has no derivative rule for nextafter, so it sees only constants (stopped inputs)."""
    xc, yc = jax.lax.stop_gradient(x), jax.lax.stop_gradient(y)
    return x + (jnp.nextafter(xc, yc) - xc) + 0.0 * y


def _erfcx(x):
    """exp(x²)·erfc(x): accurate on the sampled |x| ≤ 3 (erfc is relatively accurate in its right tail)."""
    return jnp.exp(x * x) * jss.erfc(x)


def _round(decimals: int):
    return lambda x: jnp.round(x, decimals)


EXPONENT = st.sampled_from((-2, 0, 3))

REFLECTED = [
    # A scalar on the left: Python calls the tensor's reflected operator, a different torch overload
    # (rsub.Scalar, pow.Scalar, reciprocal·scalar) from the tensor-tensor ones the binary family checks.
    simple("rsub_scalar", "2.5 - {x}", lambda x: 2.5 - x, family="reflected", variants=("torch.rsub({x}, 2.5)", "{x}.__rsub__(2.5)"), in_trees=True),
    simple("rdiv_scalar", "2.5 / {x}", lambda x: 2.5 / x, family="reflected", domain=AWAY_FROM_0, variants=("{x}.__rdiv__(2.5)",), in_trees=True),
    simple("rpow_scalar", "2.5 ** {x}", lambda x: 2.5**x, family="reflected", variants=("torch.pow(2.5, {x})", "{x}.__rpow__(2.5)"), in_trees=True),
]

ELEMENTWISE = [
    simple("rad2deg", "torch.rad2deg({x})", jnp.rad2deg, in_trees=True),
    simple(
        "clamp_min_tensor",
        "torch.clamp_min({x}, {y})",
        jnp.maximum,
        rule=B2,
        near_kink=_tie,
        conventions=("clamp_tensor_tie",),
        variants=("{x}.clamp(min={y})",),
        in_trees=True,
    ),
    simple(
        "clamp_max_tensor",
        "torch.clamp_max({x}, {y})",
        jnp.minimum,
        rule=B2,
        near_kink=_tie,
        conventions=("clamp_tensor_tie",),
        variants=("{x}.clamp(max={y})",),
        in_trees=True,
    ),
    simple(
        "clamp_tensor",
        "torch.clamp({x}, {y}, {z})",
        lambda x, lo, hi: jnp.minimum(jnp.maximum(x, lo), hi),
        rule=B3,
        near_kink=_any_tie,
        variants=("{x}.clamp({y}, {z})", "torch.clip({x}, {y}, {z})"),
        notes="bounds are tensors that broadcast; where lo > hi torch gives hi, as min(max(x, lo), hi) does",
    ),
    simple(
        "fmod",
        "torch.fmod({x}, {y})",
        jnp.fmod,
        rule=B2,
        domain=(REALS, AWAY_FROM_0),
        near_kink=_quotient_near_integer(),
        notes="x - trunc(x / y)·y: jumps where x / y crosses an integer (a kink), pole-free away from y = 0",
    ),
    simple(
        "remainder",
        "torch.remainder({x}, {y})",
        jnp.remainder,
        rule=B2,
        domain=(REALS, AWAY_FROM_0),
        near_kink=_quotient_near_integer(),
        variants=("{x} % {y}", "{y}.__rmod__({x})"),
        notes="x - floor(x / y)·y: jumps where x / y crosses an integer (a kink)",
    ),
    simple(
        "float_power",
        "torch.float_power({x}, {y})",
        jnp.float_power,
        rule=B2,
        domain=(POSITIVE, Domain(-3.0, 3.0)),
    ),
    simple(
        "ldexp",
        "torch.ldexp({x}, torch.tensor({exponent}))",
        lambda x, exponent: x * 2.0**exponent,
        params={"exponent": EXPONENT},
        notes="an integer exponent tensor (0-d, broadcast); keep out of trees: torch 2.13.0's gradient is 0 for a "
        "negative exponent (baselined), which would fail every tree through it rather than check the tree",
    ),
    simple(
        "nan_to_num",
        "torch.nan_to_num({x})",
        jnp.nan_to_num,
        notes="the identity on the finite inputs drawn: checks the pass-through path only",
    ),
    simple(
        "frexp_mantissa",
        "torch.frexp({x}).mantissa",
        _frexp_mantissa,
        near_kink=_near_power_of_2,
        domain=AWAY_FROM_0,
        notes="x / 2^e, piecewise linear: jumps where |x| crosses a power of 2 (kinks)",
    ),
    simple(
        "nextafter",
        "torch.nextafter({x}, {y})",
        _nextafter,
        rule=B2,
        near_kink=_tie,
        notes="x moved one ulp toward y: derivative 1 in x, 0 in y (finite differences see the same, the ulp "
        "being far below their step); keep out of trees: torch 2.9.1 has no derivative for it (baselined)",
    ),
    simple(
        "div_floor",
        "torch.div({x}, {y}, rounding_mode='floor')",
        lambda x, y: jnp.floor(x / y),
        rule=B2,
        domain=(REALS, AWAY_FROM_0),
        near_kink=_quotient_near_integer(),
        notes="piecewise constant: gradient 0 away from the jumps where x / y crosses an integer; torch.floor_divide "
        "and // compute the same but have no derivative in torch (OpInfo floor_divide: no autograd)",
    ),
    simple(
        "div_trunc",
        "torch.div({x}, {y}, rounding_mode='trunc')",
        lambda x, y: jnp.trunc(x / y),
        rule=B2,
        domain=(REALS, AWAY_FROM_0),
        near_kink=_quotient_near_integer(),
        notes="piecewise constant: gradient 0 away from the jumps where x / y crosses an integer",
    ),
    simple("round_decimals_0", "torch.round({x}, decimals=0)", _round(0), near_kink=_scaled_near_half(0)),
    simple("round_decimals_3", "torch.round({x}, decimals=3)", _round(3), near_kink=_scaled_near_half(3)),
    simple(
        "round_decimals_neg_3",
        "torch.round({x}, decimals=-3)",
        _round(-3),
        near_kink=_scaled_near_half(-3),
        notes="0 on the sampled |x| ≤ 3 (the first jump is at 500)",
    ),
    simple("fill", "torch.fill({x}, 1.5)", lambda x: jnp.full_like(x, 1.5), variants=("{x}.clone().fill_(1.5)",)),
    simple("zero_", "{x}.clone().zero_()", jnp.zeros_like, notes="in place on a copy: the gradient to x is 0"),
    *(
        simple(
            f"polygamma{n}",
            f"torch.polygamma({n}, {{x}})",
            lambda x, n=n: jss.polygamma(n, x),
            domain=POSITIVE,
            family="special",
            rtol={"float64": 1e-8},
            variants=(f"torch.special.polygamma({n}, {{x}})",),
            notes="as polygamma1: the approximations differ by ~1e-9 relative",
        )
        for n in (2, 3, 4)
    ),
    *(
        simple(
            f"mvlgamma_p{p}",
            f"torch.mvlgamma({{x}}, {p})",
            lambda x, p=p: jss.multigammaln(x, p),
            domain=Domain((p - 1) / 2, math.inf),
            family="special",
            rtol={"float64": 1e-9},
            variants=(f"torch.special.multigammaln({{x}}, {p})",),
            notes="defined for x > (p - 1) / 2",
        )
        for p in (1, 3, 5)
    ),
    simple("erfcx", "torch.special.erfcx({x})", _erfcx, family="special", rtol={"float64": 1e-9}, notes=_erfcx.__doc__),
]

SHAPES = [
    *(
        simple(
            f"atleast_{n}d",
            f"torch.atleast_{n}d({{x}})",
            getattr(jnp, f"atleast_{n}d"),
            family="shape",
            rule=AtLeast(n=n),
            in_trees=True,
        )
        for n in (1, 2, 3)
    ),
    simple("fliplr", "torch.fliplr({x})", jnp.fliplr, family="shape", rule=SameShape(min_rank=2), in_trees=True),
    simple("flipud", "torch.flipud({x})", jnp.flipud, family="shape", rule=SameShape(min_rank=1), in_trees=True),
    simple("sum_to_size", "{x}.sum_to_size({size})", _sum_to, family="reduction", rule=SumToSize(), in_trees=True),
    simple(
        "double",
        "{x}.double()",
        lambda x: x.astype(jnp.float64),
        family="shape",
        dtypes=("float64", "float32"),
        variants=("{x}.to(torch.float64)", "{x}.to(dtype=torch.float64)"),
        in_trees=True,
        notes="a widening cast: exact, its gradient the cotangent cast back (the float32 cell casts float32 up)",
    ),
]

OPS = REFLECTED + ELEMENTWISE + SHAPES
