"""Where a tree is not smooth at one input point: a pole, an input off its op's domain, a kink.

A fact about the point, not about any oracle: it needs only every op's inputs there
(which an evaluation of the tree, the JAX oracle's for one, provides).  Near such a
point a derivative is undefined or one-sided, so a comparison there is INCONCLUSIVE.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from autograd_conformance.tree import Tree
from autograd_conformance.verdict import Outcome, Verdict


class Singularities:
    """The poles, domain exits and kinks of ``tree`` at one point, given every node's inputs and the output."""

    def __init__(self, tree: Tree, node_inputs: dict[int, list[np.ndarray]], output: np.ndarray):
        self.tree = tree
        self.node_inputs = node_inputs  # id(node) -> that node's input values
        self.output = output
        self._kinks: dict[float, str | None] = {}
        self._domain: dict[float, str | None] = {}

    @cached_property
    def pole(self) -> str | None:
        """The first op with a non-finite input (a pole was hit upstream: 1/0, log 0), else "the output"
        if only the output is not finite; None if everything is finite."""
        for n in self.tree.nodes:
            if not all(np.all(np.isfinite(x)) for x in self.node_inputs[id(n)]):
                return n.op.name
        return None if np.all(np.isfinite(self.output)) else "the output"

    def out_of_domain(self, margin: float) -> str | None:
        """The first op with an input outside its domain; None if none is."""
        if margin not in self._domain:
            self._domain[margin] = next(
                (
                    n.op.name
                    for n in self.tree.nodes
                    for i, x in enumerate(self.node_inputs[id(n)])
                    if not n.op.domain_of(i).contains(x, margin)
                ),
                None,
            )
        return self._domain[margin]

    def near_kink(self, margin: float) -> str | None:
        """The first op whose inputs are within ``margin`` of a kink; None if none is."""
        if margin not in self._kinks:
            self._kinks[margin] = next(
                (
                    n.op.name
                    for n in self.tree.nodes
                    if n.op.is_near_kink(self.node_inputs[id(n)], n.call.kwargs, margin)
                ),
                None,
            )
        return self._kinks[margin]


def near_singularity(point: Singularities, oracle: str, margin: float) -> Outcome | None:
    """INCONCLUSIVE when some op's input is off its domain or within ``margin`` of a kink, or a pole was hit."""
    pole = point.pole
    if pole:
        return Outcome(
            Verdict.INCONCLUSIVE, oracle, message=f"the tree is not finite here (at {pole}): a pole, not a gradient"
        )
    bad = point.out_of_domain(0.0)
    if bad:
        return Outcome(Verdict.INCONCLUSIVE, oracle, message=f"an input of {bad} leaves its domain")
    kink = point.near_kink(margin)
    if kink:
        return Outcome(Verdict.INCONCLUSIVE, oracle, message=f"an input of {kink} is within {margin:g} of a kink")
    return None
