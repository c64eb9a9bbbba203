"""Margin and embedding losses from torch.nn.functional, reduced (mean) to a 0-d tensor.

Targets that are data (±1 labels, class indices, label sets) are static parameters drawn by the rule;
the inputs are differentiated.  Each hinge ``max(0, ·)`` is a kink where its argument is 0:
``near_kink`` flags draws within the margin of one, as for l1_loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st

from autograd_conformance.registry.shapes import Draw, ShapeRule, _nested
from autograd_conformance.registry.spec import REALS, Call, Domain, Shape, declare_family, make_call
from autograd_conformance.versions import NO_VERSION

loss = declare_family("layer_losses", in_trees=False)

_ROWS = ((3, 2), (2, 3))  # (batch, features): the inputs' shapes, kept few for the JAX compile cache


@dataclass(frozen=True)
class Targeted(ShapeRule):
    """A 0-d loss of ``arity`` inputs of one (n, c) shape and a drawn target: ``kind`` is "sign" (±1 per row),
    "sign_each" (±1 per element), "class" (an index per row) or "labels" (per row a set of classes, -1
    terminated, as multilabel_margin_loss takes them); "" draws none."""

    arity: int = 1
    max_rank: int = 0
    kind: str = ""

    def draw(self, draw: Draw, out: Shape) -> Call:
        n, c = draw(st.sampled_from(_ROWS), "input shape")
        shapes = [(n, c)] * self.arity
        if not self.kind:
            return make_call(shapes)
        sign = st.sampled_from((1, -1))
        if self.kind == "sign":
            target = tuple(draw(st.lists(sign, min_size=n, max_size=n), "target (±1 per row)"))
        elif self.kind == "sign_each":
            target = _nested([draw(st.lists(sign, min_size=c, max_size=c), f"target row {i}") for i in range(n)])
        elif self.kind == "class":
            target = tuple(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n), "target class"))
        elif self.kind == "binary":
            target = _nested(
                [
                    draw(st.lists(st.sampled_from((0.0, 1.0)), min_size=c, max_size=c), f"target row {i}")
                    for i in range(n)
                ]
            )
        else:  # labels
            rows = []
            for i in range(n):
                labels = draw(st.lists(st.integers(0, c - 1), min_size=1, max_size=c, unique=True), f"labels row {i}")
                rows.append(tuple(labels) + (-1,) * (c - len(labels)))
            target = tuple(rows)
        return make_call(shapes, target=target)


# --- JAX references -----------------------------------------------------------------------------------


def _cosine(x1, x2):
    """cosine_embedding_loss's cosine: (x1·x2) / sqrt((|x1|² + 1e-12)(|x2|² + 1e-12))."""
    eps = 1e-12
    return jnp.sum(x1 * x2, axis=1) / jnp.sqrt((jnp.sum(x1 * x1, axis=1) + eps) * (jnp.sum(x2 * x2, axis=1) + eps))


def _cosine_embedding(x1, x2, target, margin):
    y = np.array(target)
    cos = _cosine(x1, x2)
    return jnp.mean(jnp.where(y == 1, 1 - cos, jnp.maximum(0.0, cos - margin)))


def _hinge_embedding(x, target, margin):
    y = np.array(target)
    return jnp.mean(jnp.where(y == 1, x, jnp.maximum(0.0, margin - x)))


def _margin_ranking(x1, x2, target, margin):
    y = np.array(target, dtype=np.float64)
    return jnp.mean(jnp.maximum(0.0, -y * (x1 - x2) + margin))


def _multi_margin(x, target, p, margin):
    n, c = x.shape
    y = np.array(target)
    picked = x[np.arange(n), y][:, None]
    terms = jnp.maximum(0.0, margin - picked + x) ** p
    others = np.arange(c)[None, :] != y[:, None]
    return jnp.mean(jnp.sum(jnp.where(others, terms, 0.0), axis=1) / c)


def _label_sets(target) -> list[list[int]]:
    sets = []
    for row in target:
        labels = []
        for t in row:
            if t < 0:
                break
            labels.append(t)
        sets.append(labels)
    return sets


def _multilabel_margin(x, target):
    n, c = x.shape
    total = []
    for i, labels in enumerate(_label_sets(target)):
        others = [k for k in range(c) if k not in labels]
        terms = [jnp.maximum(0.0, 1.0 - (x[i, j] - x[i, k])) for j in labels for k in others]
        total.append(sum(terms) / c if terms else jnp.zeros(()))
    return jnp.mean(jnp.stack(total))


def _log_sigmoid(x):
    return -jnp.logaddexp(0.0, -x)


def _multilabel_soft_margin(x, y):
    return jnp.mean(-jnp.mean(y * _log_sigmoid(x) + (1 - y) * _log_sigmoid(-x), axis=1))


def _distance(a, b):
    return jnp.linalg.norm(a - b + 1e-6, axis=-1)


def _triplet(a, p, n, margin, swap):
    d_ap, d_an = _distance(a, p), _distance(a, n)
    if swap:
        d_an = jnp.minimum(d_an, _distance(p, n))
    return jnp.mean(jnp.maximum(d_ap - d_an + margin, 0.0))


# --- kinks ----------------------------------------------------------------------------------------------


def _near(values, margin) -> bool:
    values = np.asarray(values, dtype=np.float64)
    return bool(np.any(np.abs(values) <= margin * np.maximum(1.0, np.abs(values))))


def _np_cosine(x1, x2):
    eps = 1e-12
    return np.sum(x1 * x2, axis=1) / np.sqrt((np.sum(x1 * x1, axis=1) + eps) * (np.sum(x2 * x2, axis=1) + eps))


def _cosine_embedding_kink(inputs, params, margin):
    y = np.array(params["target"])
    cos = _np_cosine(inputs[0], inputs[1])
    small = min(np.min(np.linalg.norm(inputs[0], axis=1)), np.min(np.linalg.norm(inputs[1], axis=1)))
    return _near((cos - params["margin"])[y == -1], margin) or small <= margin


def _hinge_embedding_kink(inputs, params, margin):
    y = np.array(params["target"])
    return _near((params["margin"] - inputs[0])[y == -1], margin)


def _margin_ranking_kink(inputs, params, margin):
    y = np.array(params["target"], dtype=np.float64)
    return _near(-y * (inputs[0] - inputs[1]) + params["margin"], margin)


def _multi_margin_kink(inputs, params, margin):
    x = inputs[0]
    y = np.array(params["target"])
    picked = x[np.arange(x.shape[0]), y][:, None]
    others = np.arange(x.shape[1])[None, :] != y[:, None]
    return _near((params["margin"] - picked + x)[others], margin)


def _multilabel_margin_kink(inputs, params, margin):
    x = inputs[0]
    for i, labels in enumerate(_label_sets(params["target"])):
        others = [k for k in range(x.shape[1]) if k not in labels]
        if _near([1.0 - (x[i, j] - x[i, k]) for j in labels for k in others], margin):
            return True
    return False


def _np_distance(a, b):
    return np.linalg.norm(a - b + 1e-6, axis=-1)


def _triplet_kink(inputs, params, margin):
    a, p, n = inputs[:3]
    d_ap, d_an, d_pn = _np_distance(a, p), _np_distance(a, n), _np_distance(p, n)
    chosen = np.minimum(d_an, d_pn) if params["swap"] else d_an
    tie = params["swap"] and _near(d_an - d_pn, margin)
    return tie or _near(d_ap - chosen + params["margin"], margin) or _near(np.concatenate([d_ap, d_an, d_pn]), margin)


MARGIN = st.sampled_from((1.0, 0.5))

OPS = [
    loss(
        "cosine_embedding_loss",
        "F.cosine_embedding_loss({x}, {y}, torch.tensor({target}), margin={margin})",
        _cosine_embedding,
        rule=Targeted(arity=2, kind="sign"),
        params={"margin": st.sampled_from((0.0, 0.3))},
        near_kink=_cosine_embedding_kink,
        notes="1 - cos for target 1, max(0, cos - margin) for -1; cos with torch's 1e-12 in each squared norm",
    ),
    loss(
        "hinge_embedding_loss",
        "F.hinge_embedding_loss({x}, torch.tensor({target}), margin={margin})",
        _hinge_embedding,
        rule=Targeted(kind="sign_each"),
        params={"margin": MARGIN},
        near_kink=_hinge_embedding_kink,
    ),
    loss(
        "margin_ranking_loss",
        "F.margin_ranking_loss({x}, {y}, torch.tensor({target}, dtype={x}.dtype), margin={margin})",
        _margin_ranking,
        rule=Targeted(arity=2, kind="sign_each"),
        params={"margin": st.sampled_from((0.0, 0.5))},
        near_kink=_margin_ranking_kink,
    ),
    loss(
        "multi_margin_loss",
        "F.multi_margin_loss({x}, torch.tensor({target}), p={p}, margin={margin})",
        _multi_margin,
        rule=Targeted(kind="class"),
        params={"p": st.sampled_from((1, 2)), "margin": MARGIN},
        near_kink=_multi_margin_kink,
        forward_ad_in=NO_VERSION,  # "Trying to use forward AD with multi_margin_loss that does not support it" (2.9.1, 2.13.0)
        double_backward_in=NO_VERSION,  # "derivative for aten::multi_margin_loss_backward is not implemented"
    ),
    loss(
        "multilabel_margin_loss",
        "F.multilabel_margin_loss({x}, torch.tensor({target}))",
        _multilabel_margin,
        rule=Targeted(kind="labels"),
        near_kink=_multilabel_margin_kink,
        forward_ad_in=NO_VERSION,  # "... forward AD with multilabel_margin_loss_forward ..." (2.9.1, 2.13.0)
        double_backward_in=NO_VERSION,  # "derivative for aten::multilabel_margin_loss_backward is not implemented"
        notes="each row's label set, -1 terminated; a row labelled with every class has no terms",
    ),
    loss(
        "multilabel_soft_margin_loss",
        "F.multilabel_soft_margin_loss({x}, {y})",
        _multilabel_soft_margin,
        rule=Targeted(arity=2),
        domain=(REALS, Domain(0.0, 1.0)),
        notes="the target, probabilities in (0, 1), differentiated too (the loss is linear in it)",
    ),
    loss(
        "triplet_margin_loss",
        "F.triplet_margin_loss({x}, {y}, {z}, margin={margin}, swap={swap})",
        _triplet,
        rule=Targeted(arity=3),
        params={"margin": MARGIN, "swap": st.booleans()},
        near_kink=_triplet_kink,
        notes="p = 2, distances ||a - b + 1e-6||; swap takes min(d(a, n), d(p, n))",
    ),
    loss(
        "triplet_margin_with_distance_loss",
        "F.triplet_margin_with_distance_loss({x}, {y}, {z}, margin={margin}, swap={swap})",
        _triplet,
        rule=Targeted(arity=3),
        params={"margin": MARGIN, "swap": st.booleans()},
        near_kink=_triplet_kink,
        notes="the default distance, pairwise_distance",
    ),
]
