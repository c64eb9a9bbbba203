"""Inputs aimed at kinks and ties, for the convention checks (the smooth checks avoid them).

Each element is either exactly a kink point (or a tie / the origin for binary
ops) or an ordinary value; the returned mask marks which elements sit on a kink
and what the point is called in ``autograd_conformance.conventions``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from autograd_conformance import tolerances as tol
from autograd_conformance.registry.shapes import Draw
from autograd_conformance.registry.spec import OpSpec
from autograd_conformance.strategies.tensors import elements


def _point(k: float) -> str:
    return f"x={k:g}"


def draw_unary_kinks(draw: Draw, op: OpSpec) -> tuple[np.ndarray, list[str | None]]:
    kinks = op.domain_of(0).kinks
    n = draw(st.integers(1, 6), "size")
    at = draw(
        st.lists(st.sampled_from(kinks) | st.none(), min_size=n, max_size=n).filter(
            lambda a: any(k is not None for k in a)
        ),
        "kink points",
    )
    smooth = elements(op.domain_of(0))
    x = np.array([k if k is not None else draw(smooth, f"x[{i}]") for i, k in enumerate(at)], dtype=np.float64)
    return x, [None if k is None else _point(k) for k in at]


def _smooth_pair(x: float, y: float) -> bool:
    """Whether (x, y) keeps clear of a tie (x = y) and of the origin: a smooth point of a binary op."""
    return abs(y - x) > tol.CONVENTION_SMOOTH_DISTANCE and abs(y) + abs(x) > tol.CONVENTION_SMOOTH_DISTANCE


def draw_binary_ties(draw: Draw, op: OpSpec) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    n = draw(st.integers(1, 6), "size")
    kinds = draw(
        st.lists(st.sampled_from(["tie", "origin", None]), min_size=n, max_size=n).filter(lambda a: any(a)), "tie kinds"
    )
    x, y = np.zeros(n), np.zeros(n)
    for i, kind in enumerate(kinds):
        if kind == "tie":
            x[i] = y[i] = draw(elements(op.domain_of(0)).filter(lambda v: v != 0), f"tie value [{i}]")
        elif kind is None:
            x[i] = draw(elements(op.domain_of(0)), f"x[{i}]")
            y[i] = draw(
                elements(op.domain_of(1)).filter(lambda v, a=x[i]: _smooth_pair(a, v)),
                f"y[{i}]",
            )
    return x, y, kinds
