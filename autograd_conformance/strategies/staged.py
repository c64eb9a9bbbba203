"""A tree evaluated node by node, keeping every intermediate tensor (``suites/test_semantics_roots.py``,
``suites/test_semantics_anomaly.py``).

``Staged(tree)`` numbers the tree's op nodes in post-order (children first, the output last) and
compiles each as its own function ``node_h<j>`` from a file named ``<node h<j>>`` whose source is
registered with ``linecache``: a forward traceback (anomaly mode's) then shows the node's name and
its line of code.  ``run(xs)`` returns every node's tensor ``h0 .. hK`` (``hK`` is the output), and
``lines()`` writes the same computation as repro code (``h0 = torch.sin(x0)`` ...).  The ops are the
tree's own, applied in the same order, so the output is the tree's.
"""

from __future__ import annotations

import linecache
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from autograd_conformance.tree import Leaf, Node, Tree


class Staged:
    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.nodes: list[Node] = list(tree.nodes)
        index = {id(n): j for j, n in enumerate(self.nodes)}

        def name(e: Node | Leaf) -> str:
            return e.code() if isinstance(e, Leaf) else f"h{index[id(e)]}"

        self.args: list[list[str]] = [[name(c) for c in n.children] for n in self.nodes]
        self.codes: list[str] = [n.op.code(a, n.call.kwargs) for n, a in zip(self.nodes, self.args)]
        self.fns: list[Callable[..., Any]] = [
            _compile(f"h{j}", tuple(a), c) for j, (a, c) in enumerate(zip(self.args, self.codes))
        ]

    def __len__(self) -> int:
        return len(self.nodes)

    def run(self, xs: list[Any]) -> list[Any]:
        """Every node's tensor, in post-order; the last is the tree's output."""
        values: dict[str, Any] = {f"x{i}": x for i, x in enumerate(xs)}
        hs: list[Any] = []
        for j, (fn, args) in enumerate(zip(self.fns, self.args)):
            hs.append(fn(*(values[a] for a in args)))
            values[f"h{j}"] = hs[-1]
        return hs

    def lines(self) -> list[str]:
        """Repro code computing ``h0 .. hK`` from ``x0 ..``, then ``y = hK``."""
        return [*(f"h{j} = {c}" for j, c in enumerate(self.codes)), f"y = h{len(self.codes) - 1}"]


@lru_cache(maxsize=4096)
def _compile(name: str, args: tuple[str, ...], code: str) -> Callable[..., Any]:
    import torch
    import torch.nn.functional as F  # noqa: N812

    params = ", ".join(dict.fromkeys(args))  # a leaf used twice is one parameter
    source = f"def node_{name}({params}):\n    return {code}\n"
    filename = f"<node {name}: {code}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    scope: dict[str, Any] = {"torch": torch, "F": F}
    exec(compile(source, filename, "exec"), scope)  # noqa: S102 - registry templates only
    fn = scope[f"node_{name}"]
    n_params = len(dict.fromkeys(args))
    if n_params == len(args):
        return fn
    order = list(dict.fromkeys(args))
    return lambda *values: fn(*(values[args.index(a)] for a in order))
