"""Reductions (full and over one dim, with keepdim), norms, statistics, sorting and cumulative ops.

Max-like reductions are not differentiable where two candidates tie; ``near_kink``
flags those inputs so smooth checks skip them and convention checks aim at them.
Simplest first: Hypothesis's ``sampled_from`` shrinks toward the first entry.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jss
import numpy as np
from hypothesis import strategies as st

from autograd_conformance.registry.shapes import AlongDim, PairLoss, ReduceAll, ReduceDim
from autograd_conformance.registry.spec import WIDE, Domain, declare_family

FULL = ReduceAll()
DIM = ReduceDim()
DIM2 = ReduceDim(min_size=2)  # std/var with correction=1 need two elements
ALONG = AlongDim()
op = declare_family("reduction")


# --- kink tests ---------------------------------------------------------------------------------


def _close(a, b, margin):
    return np.abs(a - b) <= margin * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))


def _top2_tie(x: np.ndarray, axis: int | None, margin: float) -> bool:
    """Whether the two largest elements (over ``axis``, or all) are within ``margin``."""
    x = np.ravel(x) if axis is None else np.moveaxis(np.asarray(x), axis, -1)
    if x.ndim == 0 or x.shape[-1] < 2:
        return False
    s = np.sort(x, axis=-1)
    return bool(np.any(_close(s[..., -1], s[..., -2], margin)))


def _max_tie(dim_key: str | None = "dim", sign: float = 1.0, absolute: bool = False):
    """With ``absolute`` (the inf-norm) a largest |x| at 0 is a kink too: |x| is not differentiable there."""

    def near(inputs, params, margin):
        x = np.abs(inputs[0]) if absolute else sign * inputs[0]
        if absolute and np.max(x, initial=0.0) <= margin:
            return True
        return _top2_tie(x, params[dim_key] if dim_key else None, margin)

    return near


def _any_tie(inputs, params, margin):
    """Any two elements along ``dim`` within margin (sort)."""
    x = np.moveaxis(inputs[0], params["dim"], -1)
    s = np.sort(x, axis=-1)
    return bool(np.any(_close(s[..., 1:], s[..., :-1], margin)))


def _median_tie(dim_key: str | None):
    def near(inputs, params, margin):
        x = np.ravel(inputs[0]) if dim_key is None else np.moveaxis(inputs[0], params[dim_key], -1)
        n = x.shape[-1]
        if n < 2:
            return False
        s = np.sort(x, axis=-1)
        k = (n - 1) // 2
        return bool(
            np.any(_close(s[..., k], s[..., k + 1], margin))
            or (k > 0 and np.any(_close(s[..., k], s[..., k - 1], margin)))
        )

    return near


def _cum_tie(sign: float):
    """cummax/cummin: a new element ties the running extreme of the elements before it."""

    def near(inputs, params, margin):
        x = sign * np.moveaxis(inputs[0], params["dim"], -1)
        if x.shape[-1] < 2:
            return False
        running = np.maximum.accumulate(x, axis=-1)
        return bool(np.any(_close(x[..., 1:], running[..., :-1], margin)))

    return near


def _norm_near_0(dim_key: str | None):
    def near(inputs, params, margin):
        x = inputs[0]
        norms = np.linalg.norm(x.reshape(-1)) if dim_key is None else np.linalg.norm(x, axis=params[dim_key])
        return bool(np.any(norms <= margin))

    return near


def _dist_near_0(inputs, params, margin):
    return bool(np.linalg.norm((inputs[0] - inputs[1]).reshape(-1)) <= margin)


def _spread_near_0(dim_key: str | None):
    """std: not differentiable where all elements are equal (std = 0)."""

    def near(inputs, params, margin):
        x = inputs[0]
        spread = np.ptp(x) if dim_key is None else np.ptp(x, axis=params[dim_key])
        return bool(np.any(spread <= margin))

    return near


# --- JAX references -----------------------------------------------------------------------------


def _lower_median(x, axis=None, keepdims=False):
    """torch.median: the lower of the two middle elements (JAX's median averages them)."""
    if axis is None:
        x, axis = jnp.ravel(x), 0
    n = x.shape[axis]
    out = jnp.take(jnp.sort(x, axis=axis), (n - 1) // 2, axis=axis)
    return jnp.expand_dims(out, axis) if keepdims else out


def _cum(fn):
    return lambda x, dim: fn(x, axis=dim % max(x.ndim, 1)) if x.ndim else x


def _keep(fn):
    return lambda x, dim, keepdim: fn(x, axis=dim, keepdims=keepdim)


def _vector_norm_p(x, ord):
    """(Σ|x|^ord)^(1/ord); ord 2 as Σx·x, for JAX's third derivative of |x|**2.0 at a zero element is 0·inf = nan
    (it differentiates y·|x|^(y-1) down to |x|^-1), where the norm is smooth.  ord 3's root is ``cbrt``: the
    power 1/3 is inexact in float64, and the third derivative's terms of size 1/‖x‖² do not cancel through it
    (one element x = 2^-8, where the answer is exactly 0: 4.9e-11 through the power, against a tolerance of
    2.1e-11, found by the modes soak; 8e-12 through cbrt, against mpmath)."""
    if ord == 2.0:
        return jnp.sum(x * x) ** 0.5
    if ord == 3.0:
        return jnp.cbrt(jnp.sum(jnp.abs(x) ** 3))
    return jnp.sum(jnp.abs(x) ** ord) ** (1.0 / ord)


def _vector_norm_near_kink(inputs, params, margin):
    """The norm's kink at 0, and for ord 3 an element near 0: |x|^3 is twice differentiable there, but its
    third derivative (6·sign(x)) jumps, and torch (0) and JAX (one side) answer differently at third order."""
    odd_power_at_0 = params["ord"] == 3.0 and bool(np.any(np.abs(inputs[0]) <= margin))
    return odd_power_at_0 or _norm_near_0(None)(inputs, params, margin)


ORD = st.sampled_from((2.0, 3.0))
CORRECTION = st.sampled_from((1, 0))

REDUCTIONS = [
    op("sum", "torch.sum({x})", jnp.sum, rule=FULL, variants=("{x}.sum()",)),
    op("sum_dim", "{x}.sum(dim={dim}, keepdim={keepdim})", _keep(jnp.sum), rule=DIM),
    op("nansum", "torch.nansum({x})", jnp.nansum, rule=FULL),
    op("mean", "torch.mean({x})", jnp.mean, rule=FULL),
    op("mean_dim", "{x}.mean(dim={dim}, keepdim={keepdim})", _keep(jnp.mean), rule=DIM),
    op("nanmean", "torch.nanmean({x})", jnp.nanmean, rule=FULL),
    op(
        "prod",
        "torch.prod({x})",
        jnp.prod,
        rule=FULL,
        notes="zeros make the gradient special (products of the others)",
    ),
    op("prod_dim", "{x}.prod(dim={dim}, keepdim={keepdim})", _keep(jnp.prod), rule=DIM),
    op(
        "logsumexp",
        "torch.logsumexp({x}, dim={dim}, keepdim={keepdim})",
        lambda x, dim, keepdim: jss.logsumexp(x, axis=dim, keepdims=keepdim),
        rule=DIM,
        domain=WIDE,
    ),
    op(
        "amax",
        "torch.amax({x}, dim={dim}, keepdim={keepdim})",
        _keep(jnp.max),
        rule=DIM,
        near_kink=_max_tie(),
    ),
    op(
        "amin",
        "{x}.amin(dim={dim}, keepdim={keepdim})",
        _keep(jnp.min),
        rule=DIM,
        near_kink=_max_tie(sign=-1.0),
    ),
    op("max", "torch.max({x})", jnp.max, rule=FULL, near_kink=_max_tie(None)),
    op(
        "min",
        "{x}.min()",
        jnp.min,
        rule=FULL,
        near_kink=_max_tie(None, sign=-1.0),
    ),
    op(
        "max_dim",
        "torch.max({x}, dim={dim}, keepdim={keepdim}).values",
        _keep(jnp.max),
        rule=DIM,
        near_kink=_max_tie(),
    ),
    op(
        "min_dim",
        "torch.min({x}, dim={dim}, keepdim={keepdim}).values",
        _keep(jnp.min),
        rule=DIM,
        near_kink=_max_tie(sign=-1.0),
    ),
    op(
        "norm",
        "torch.norm({x})",
        jnp.linalg.norm,
        family="norm",
        rule=FULL,
        near_kink=_norm_near_0(None),
    ),
    op(
        "vector_norm",
        "torch.linalg.vector_norm({x}, ord={ord})",
        _vector_norm_p,
        family="norm",
        rule=FULL,
        params={"ord": ORD},
        near_kink=_vector_norm_near_kink,
    ),
    op(
        "vector_norm_dim",
        "torch.linalg.vector_norm({x}, dim={dim}, keepdim={keepdim})",
        lambda x, dim, keepdim: jnp.linalg.norm(x, axis=dim, keepdims=keepdim),
        family="norm",
        rule=DIM,
        near_kink=_norm_near_0("dim"),
    ),
    op(
        "vector_norm_1",
        "torch.linalg.vector_norm({x}, ord=1)",
        lambda x: jnp.sum(jnp.abs(x)),
        family="norm",
        rule=FULL,
        domain=Domain(kinks=(0.0,)),
        conventions=("abs_at_0",),
    ),
    op(
        "vector_norm_inf",
        "torch.linalg.vector_norm({x}, ord=float('inf'))",
        lambda x: jnp.max(jnp.abs(x)),
        family="norm",
        rule=FULL,
        variants=("torch.norm({x}, p=float('inf'))",),
        near_kink=_max_tie(None, absolute=True),
    ),
    op(
        "dist",
        "torch.dist({x}, {y})",
        lambda x, y: jnp.linalg.norm(jnp.ravel(x - y)),
        family="norm",
        rule=PairLoss(),
        near_kink=_dist_near_0,
    ),
    op("var", "torch.var({x})", lambda x: jnp.var(x, ddof=1), family="statistics", rule=ReduceAll(min_numel=2), variants=("torch.var({x}, unbiased=True)",)),
    op(
        "var_dim",
        "torch.var({x}, dim={dim}, correction={correction}, keepdim={keepdim})",
        lambda x, dim, keepdim, correction: jnp.var(x, axis=dim, ddof=correction, keepdims=keepdim),
        family="statistics",
        rule=DIM2,
        params={"correction": CORRECTION},
    ),
    op(
        "std",
        "torch.std({x})",
        lambda x: jnp.std(x, ddof=1),
        family="statistics",
        rule=ReduceAll(min_numel=2),
        near_kink=_spread_near_0(None),
        variants=("torch.std({x}, unbiased=True)",),
    ),
    op(
        "std_dim",
        "{x}.std(dim={dim}, correction={correction}, keepdim={keepdim})",
        lambda x, dim, keepdim, correction: jnp.std(x, axis=dim, ddof=correction, keepdims=keepdim),
        family="statistics",
        rule=DIM2,
        params={"correction": CORRECTION},
        near_kink=_spread_near_0("dim"),
    ),
    op(
        "var_mean_var",
        "torch.var_mean({x}, dim={dim}, keepdim={keepdim})[0]",
        lambda x, dim, keepdim: jnp.var(x, axis=dim, ddof=1, keepdims=keepdim),
        family="statistics",
        rule=DIM2,
        variants=("torch.var_mean({x}, dim={dim}, unbiased=True, keepdim={keepdim})[0]",),
    ),
    op(
        "std_mean_std",
        "torch.std_mean({x}, dim={dim}, keepdim={keepdim})[0]",
        lambda x, dim, keepdim: jnp.std(x, axis=dim, ddof=1, keepdims=keepdim),
        family="statistics",
        rule=DIM2,
        near_kink=_spread_near_0("dim"),
        variants=("torch.std_mean({x}, dim={dim}, unbiased=True, keepdim={keepdim})[0]",),
    ),
    op(
        "median",
        "torch.median({x})",
        _lower_median,
        family="statistics",
        rule=FULL,
        near_kink=_median_tie(None),
    ),
    op(
        "median_dim",
        "torch.median({x}, dim={dim}, keepdim={keepdim}).values",
        lambda x, dim, keepdim: _lower_median(x, dim, keepdim),
        family="statistics",
        rule=DIM,
        near_kink=_median_tie("dim"),
    ),
    op(
        "sort",
        "torch.sort({x}, dim={dim}).values",
        lambda x, dim: jnp.sort(x, axis=dim),
        family="sort",
        rule=ALONG,
        near_kink=_any_tie,
    ),
    op(
        "sort_descending",
        "{x}.sort(dim={dim}, descending=True).values",
        lambda x, dim: -jnp.sort(-x, axis=dim),
        family="sort",
        rule=ALONG,
        near_kink=_any_tie,
    ),
]

CUMULATIVE = [
    op("cumsum", "torch.cumsum({x}, dim={dim})", lambda x, dim: jnp.cumsum(x, axis=dim), family="cumulative", rule=ALONG, variants=("{x}.cumsum({dim})",)),
    op("cumprod", "torch.cumprod({x}, dim={dim})", lambda x, dim: jnp.cumprod(x, axis=dim), family="cumulative", rule=ALONG),
    op(
        "logcumsumexp",
        "torch.logcumsumexp({x}, dim={dim})",
        _cum(jax.lax.cumlogsumexp),
        family="cumulative",
        rule=ALONG,
        domain=WIDE,
        notes="torch's forward mode loses precision as values along dim spread: a known failure "
        "(baselines/repros/logcumsumexp_forward_mode.py), kept sharp rather than covered by a tolerance",
    ),
    op(
        "cummax",
        "torch.cummax({x}, dim={dim}).values",
        _cum(jax.lax.cummax),
        family="cumulative",
        rule=ALONG,
        near_kink=_cum_tie(1.0),
    ),
    op(
        "cummin",
        "torch.cummin({x}, dim={dim}).values",
        _cum(jax.lax.cummin),
        family="cumulative",
        rule=ALONG,
        near_kink=_cum_tie(-1.0),
    ),
]

OPS = REDUCTIONS + CUMULATIVE
