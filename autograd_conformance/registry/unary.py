"""Elementwise unary ops: trigonometric, hyperbolic, exp/log, special functions, rounding.

Simplest first: Hypothesis's ``sampled_from`` shrinks toward the first entry.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import jax.scipy.special as jss
import numpy as np

from autograd_conformance.registry.shapes import Same
from autograd_conformance.registry.spec import POSITIVE, UNIT_OPEN, Domain, declare_family

U = Same()


def _near_integer(offset: float):
    def near(inputs, params, margin):
        x = inputs[0] - offset
        return bool(np.any(np.abs(x - np.round(x)) <= margin * np.maximum(1.0, np.abs(x))))

    return near


def _sinc(x):
    """sin(πx)/(πx) with a Taylor branch near 0: jax.grad(jnp.sinc)(9e-122) is 1.8e105 in JAX 0.10.2 (true: ~-3e-121).

    The branch reaches |πx| = 0.1, where the quotient's derivative loses about 3·eps/(πx)² to cancellation
    (7e-14); with the branch ending at 1e-4 the gradient was 3.6e-9 off at x = 3.3e-5 against mpmath, above
    float64's 1e-11.  Six terms leave (πx)¹²/13! < 2e-22 out."""
    px = jnp.pi * x
    small = jnp.abs(px) < 0.1
    safe = jnp.where(small, 1.0, px)
    p2 = px * px
    taylor = 1.0 - p2 / 6 * (1.0 - p2 / 20 * (1.0 - p2 / 42 * (1.0 - p2 / 72 * (1.0 - p2 / 110))))
    return jnp.where(small, taylor, jnp.sin(safe) / safe)


# log Φ(x) in three pieces, for JAX 0.10.2's jss.log_ndtr is off against mpmath (50 digits) by up to 7e-2 relative
# in its value (at x = 8, where log1p is needed), 4e-9 in its gradient, 1.6e-6 in its second and 1.3e-1 in its
# third derivative (at x = -20, its asymptotic branch): a soak flagged torch's exact forward mode against it.
# This one, on x in [-45, 12]: value 2.4e-14, first derivative 4.1e-14, second 9e-12, third 2.3e-7 (worst at
# x = -14.7, where φ/Φ - |x| cancels); tests/test_jax_oracle.py holds it to mpmath.
_SQRT_HALF = math.sqrt(0.5)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_LOG_NDTR_ASYMPTOTIC_BELOW = -15.0  # 12 terms of the series are below 2e-17 there


def _ndtr_series(x):
    """S(x) = 1 - 1/x² + 3/x⁴ - 15/x⁶ + ..., 12 terms: Φ(x) = φ(x)·S(x)/(-x) as x → -∞."""
    z = 1.0 / (x * x)
    series = term = 1.0
    for k in range(1, 13):
        term = -term * (2 * k - 1) * z
        series = series + term
    return series


@jax.custom_jvp
def _log_ndtr(x):
    """log Φ(x): the asymptotic series below -15, log(erfc(-x/√2)/2) up to 0, log1p(-erfc(x/√2)/2) above."""
    tail = jnp.minimum(x, _LOG_NDTR_ASYMPTOTIC_BELOW)  # each branch gets an argument it is finite at
    lower = jnp.where(x < _LOG_NDTR_ASYMPTOTIC_BELOW, -1.0, x)
    upper = jnp.where(x > 0.0, x, 1.0)
    asymptotic = -0.5 * tail * tail - jnp.log(-tail) - _HALF_LOG_2PI + jnp.log(_ndtr_series(tail))
    middle = jnp.log(0.5 * jss.erfc(-lower * _SQRT_HALF))
    right = jnp.log1p(-0.5 * jss.erfc(upper * _SQRT_HALF))
    return jnp.where(x < _LOG_NDTR_ASYMPTOTIC_BELOW, asymptotic, jnp.where(x > 0.0, right, middle))


@_log_ndtr.defjvp
def _log_ndtr_jvp(primals, tangents):
    """d/dx log Φ = φ/Φ: -x/S(x) in the tail (no cancellation), exp(-x²/2 - log √2π - log Φ) elsewhere."""
    (x,), (t,) = primals, tangents
    y = _log_ndtr(x)
    in_tail = x < _LOG_NDTR_ASYMPTOTIC_BELOW
    tail = jnp.minimum(x, _LOG_NDTR_ASYMPTOTIC_BELOW)
    # The exp branch sees 0 in the tail, where exp(-log Φ) would overflow and make the where's gradient nan.
    body, body_y = jnp.where(in_tail, 0.0, x), jnp.where(in_tail, 0.0, y)
    ratio = jnp.where(in_tail, -tail / _ndtr_series(tail), jnp.exp(-0.5 * body * body - _HALF_LOG_2PI - body_y))
    return y, ratio * t


unary = declare_family("unary", rule=U)


TRIG = [
    unary("sin", "torch.sin({x})", jnp.sin, family="trigonometric"),
    unary("cos", "{x}.cos()", jnp.cos, family="trigonometric"),
    unary("tan", "torch.tan({x})", jnp.tan, domain=Domain(-1.3, 1.3), family="trigonometric"),
    unary("asin", "torch.asin({x})", jnp.arcsin, domain=UNIT_OPEN, family="trigonometric"),
    unary("acos", "torch.acos({x})", jnp.arccos, domain=UNIT_OPEN, family="trigonometric"),
    unary("atan", "torch.atan({x})", jnp.arctan, family="trigonometric"),
    unary("sinc", "torch.sinc({x})", _sinc, family="trigonometric", notes="JAX's own sinc gradient blows up at tiny x"),
    unary("deg2rad", "torch.deg2rad({x})", jnp.deg2rad, family="trigonometric"),
    unary("sinh", "torch.sinh({x})", jnp.sinh, family="hyperbolic"),
    unary("cosh", "torch.cosh({x})", jnp.cosh, family="hyperbolic"),
    unary("tanh", "torch.tanh({x})", jnp.tanh, family="hyperbolic"),
    unary("asinh", "torch.asinh({x})", jnp.arcsinh, family="hyperbolic"),
    unary("acosh", "torch.acosh({x})", jnp.arccosh, domain=Domain(1.0, math.inf), family="hyperbolic"),
    unary("atanh", "torch.atanh({x})", jnp.arctanh, domain=UNIT_OPEN, family="hyperbolic"),
]

EXP_LOG = [
    unary("neg", "-{x}", jnp.negative, family="arithmetic", variants=("torch._neg_view({x}).resolve_neg()",)),
    unary("square", "torch.square({x})", jnp.square, family="arithmetic"),
    unary("cube", "{x} ** 3", lambda x: x**3, family="arithmetic"),
    unary(
        "pow_scalar",
        "torch.pow({x}, {exponent})",
        lambda x, exponent: x**exponent,
        domain=POSITIVE,
        family="arithmetic",
        params={"exponent": __import__("hypothesis").strategies.sampled_from([2.0, 3.0, 0.5, -1.0, 1.5, -2.5])},
    ),
    unary(
        "reciprocal",
        "torch.reciprocal({x})",
        jnp.reciprocal,
        domain=Domain(kinks=(0.0,)),
        family="arithmetic",
        notes="pole at 0",
    ),
    unary("sqrt", "torch.sqrt({x})", jnp.sqrt, domain=POSITIVE, family="exp_log"),
    unary("rsqrt", "torch.rsqrt({x})", lambda x: 1 / jnp.sqrt(x), domain=POSITIVE, family="exp_log"),
    unary("exp", "torch.exp({x})", jnp.exp, family="exp_log"),
    unary("exp2", "torch.exp2({x})", jnp.exp2, family="exp_log"),
    unary("expm1", "torch.expm1({x})", jnp.expm1, family="exp_log"),
    unary("log", "torch.log({x})", jnp.log, domain=POSITIVE, family="exp_log"),
    unary("log2", "torch.log2({x})", jnp.log2, domain=POSITIVE, family="exp_log"),
    unary("log10", "{x}.log10()", jnp.log10, domain=POSITIVE, family="exp_log"),
    unary("log1p", "torch.log1p({x})", jnp.log1p, domain=Domain(-1.0, math.inf), family="exp_log"),
    unary("sigmoid", "torch.sigmoid({x})", jss.expit, family="exp_log"),
    unary("logit", "torch.logit({x})", jss.logit, domain=Domain(0.0, 1.0), family="exp_log"),
]

SPECIAL = [
    unary("erf", "torch.erf({x})", jss.erf, family="special"),
    unary("erfc", "torch.erfc({x})", jss.erfc, family="special"),
    unary(
        "erfinv",
        "torch.erfinv({x})",
        jss.erfinv,
        domain=UNIT_OPEN,
        family="special",
        rtol={"float64": 1e-9},
        notes="approximations differ near ±1",
    ),
    unary("lgamma", "torch.lgamma({x})", jss.gammaln, domain=POSITIVE, family="special", rtol={"float64": 1e-9}),
    unary(
        "digamma",
        "torch.digamma({x})",
        jss.digamma,
        domain=POSITIVE,
        family="special",
        rtol={"float64": 1e-8},
        notes="trigamma approximations differ (~5e-10 measured)",
        variants=("torch.polygamma(0, {x})", "torch.special.polygamma(0, {x})"),
    ),
    unary(
        "polygamma1",
        "torch.polygamma(1, {x})",
        lambda x: jss.polygamma(1, x),
        domain=POSITIVE,
        family="special",
        rtol={"float64": 1e-8},
    ),
    unary(
        "i0",
        "torch.i0({x})",
        jss.i0,
        domain=Domain(-8.0, 8.0, kinks=(0.0,)),
        family="special",
        conventions=("i0_at_0",),
        rtol={"float64": 1e-9},
        notes="JAX computes i0 as exp(|x|)·i0e(x), so its derivative at 0 is 1 (abs convention); the true value is 0: 0 is kept out of the smooth checks",
    ),
    unary(
        "i0e",
        "torch.special.i0e({x})",
        jss.i0e,
        domain=Domain(-8.0, 8.0, kinks=(0.0,)),
        family="special",
        rtol={"float64": 1e-9},
    ),
    unary(
        "i1",
        "torch.special.i1({x})",
        jss.i1,
        domain=Domain(-8.0, 8.0, kinks=(0.0,)),
        family="special",
        rtol={"float64": 1e-9},
        notes="JAX's i1 goes through exp(-|x|), so its second derivative at 0 follows abs's convention: 0 is kept out",
    ),
    unary(
        "i1e",
        "torch.special.i1e({x})",
        jss.i1e,
        domain=Domain(-8.0, 8.0, kinks=(0.0,)),
        family="special",
        rtol={"float64": 1e-9},
        notes="i1e = exp(-|x|)·I1(x) is odd with f'(x) = 1/2 - |x| + ...: its second derivative jumps from 1 to -1 at 0, "
        "so 0 is kept out; within 1e-3 of it torch's and JAX's third derivatives both cancel (1.4 and 1.1 relative at "
        "x = 1e-8, 2e-4 at 1e-6, 6e-10 at 1e-3, against mpmath)",
    ),
    unary("ndtri", "torch.special.ndtri({x})", jss.ndtri, domain=Domain(0.0, 1.0), family="special", rtol={"float64": 1e-9}),
    unary("ndtr", "torch.special.ndtr({x})", jss.ndtr, family="special"),
    unary("log_ndtr", "torch.special.log_ndtr({x})", _log_ndtr, family="special", rtol={"float64": 1e-9}, notes="JAX's own log_ndtr is imprecise in both tails: _log_ndtr"),
    unary("entr", "torch.special.entr({x})", jss.entr, domain=POSITIVE, family="special"),
]

ROUNDING = [
    # Piecewise constant: the derivative is 0 away from the jumps, which are kinks.
    unary("abs", "torch.abs({x})", jnp.abs, domain=Domain(kinks=(0.0,)), family="rounding", conventions=("abs_at_0",)),
    unary("sign", "torch.sign({x})", jnp.sign, domain=Domain(kinks=(0.0,)), family="rounding"),
    unary("floor", "torch.floor({x})", jnp.floor, family="rounding", near_kink=_near_integer(0.0)),
    unary("ceil", "torch.ceil({x})", jnp.ceil, family="rounding", near_kink=_near_integer(0.0)),
    unary("round", "torch.round({x})", jnp.round, family="rounding", near_kink=_near_integer(0.5)),
    unary("trunc", "torch.trunc({x})", jnp.trunc, family="rounding", near_kink=_near_integer(0.0)),
    unary("frac", "torch.frac({x})", lambda x: x - jnp.trunc(x), family="rounding", near_kink=_near_integer(0.0)),
    unary(
        "clamp",
        "torch.clamp({x}, -0.5, 0.5)",
        lambda x: jnp.clip(x, -0.5, 0.5),
        domain=Domain(kinks=(-0.5, 0.5)),
        family="rounding",
        conventions=("clamp_at_bound",),
    ),
    unary(
        "clamp_min",
        "{x}.clamp(min=0.25)",
        lambda x: jnp.maximum(x, 0.25),
        domain=Domain(kinks=(0.25,)),
        family="rounding",
        conventions=("clamp_at_bound",),
        variants=("torch.clamp_min({x}, 0.25)",),
    ),
]

OPS = TRIG + EXP_LOG + SPECIAL + ROUNDING
