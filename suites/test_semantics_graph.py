"""Semantics: the graph autograd records (grad_fn, next_functions, AccumulateGrad).

Node names differ across releases (``SqrtBackward`` then ``SqrtBackward0``) and so do
some nodes' arities, so names are normalised (namespace and trailing digits dropped)
and a node whose arity is not the op's input count is checked by its edges to leaves.
"""

from __future__ import annotations

import re
from typing import Any

import torch
from hypothesis import assume, settings

from autograd_conformance.case import Case
from autograd_conformance.profiles import tree_examples
from autograd_conformance.strategies import labelled
from autograd_conformance.strategies.semantics import Checks, MaskedTree, draw_masked_op_tree, draw_masked_tree, live
from suites.cases import cell, op_cases, sem_cases

PER_OP = settings(max_examples=max(3, settings().max_examples // 5))
TREES = settings(max_examples=max(10, tree_examples() // 4))

# Ops whose node is stable across releases, by normalised name (the op consumes its inputs directly).
NODE_NAMES = {
    "sin": "SinBackward", "cos": "CosBackward", "tan": "TanBackward", "exp": "ExpBackward", "log": "LogBackward",
    "sqrt": "SqrtBackward", "neg": "NegBackward", "tanh": "TanhBackward", "sigmoid": "SigmoidBackward",
    "abs": "AbsBackward", "erf": "ErfBackward", "relu": "ReluBackward", "reciprocal": "ReciprocalBackward",
    "add": "AddBackward", "sub": "SubBackward", "mul": "MulBackward", "div": "DivBackward", "atan2": "Atan2Backward",
    "pow": "PowBackward", "hypot": "HypotBackward", "maximum": "MaximumBackward",
    "matmul": "MmBackward", "dot": "DotBackward", "sum": "SumBackward", "clone": "CloneBackward", "trace": "TraceBackward",
    "cumsum": "CumsumBackward", "lerp": "LerpBackward", "addcmul": "AddcmulBackward",
}  # fmt: skip


def normalise(name: str) -> str:
    """``torch::autograd::AccumulateGrad`` -> ``AccumulateGrad``; ``SqrtBackward0``, ``DiagonalBackward0_copy`` -> ``...Backward``."""
    return re.sub(r"\d+$", "", re.sub(r"_copy$", "", name.rsplit("::", 1)[-1]))


def is_accumulate(node: Any) -> bool:
    return normalise(node.name()) == "AccumulateGrad"


def walk(root: Any) -> list[Any]:
    """Every node reachable from root through next_functions, each once."""
    seen: dict[int, Any] = {}
    todo = [root]
    while todo:
        node = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen[id(node)] = node
        todo.extend(fn for fn, _ in node.next_functions)
    return list(seen.values())


def check_graph(check: Checks, y: torch.Tensor, xs: list[torch.Tensor], mask: list[bool]) -> None:
    """Leaves have no grad_fn; the graph from y reaches exactly the leaves requiring grad, through AccumulateGrad."""
    for i, x in enumerate(xs):
        check.expect(x.is_leaf and x.grad_fn is None, f"leaf x{i}: is_leaf {x.is_leaf}, grad_fn {x.grad_fn!r}")
    if any(y is x for x in xs):
        return
    if not any(mask):
        check.expect(y.grad_fn is None, f"no input requires grad, yet y.grad_fn is {y.grad_fn!r}")
        return
    if not check.expect(y.grad_fn is not None and not y.is_leaf, f"y.grad_fn is {y.grad_fn!r}, is_leaf {y.is_leaf}"):
        return
    nodes = walk(y.grad_fn)
    for node in nodes:
        name = normalise(node.name())
        # CopySlices is the node an in-place write into a view of a non-leaf records (torch/csrc/autograd/
        # functions/tensor.h): F.pad's circular mode builds its output that way.
        check.expect(
            name == "AccumulateGrad" or name.endswith("Backward") or name.rsplit("::", 1)[-1] == "CopySlices",
            f"node {node.name()!r} is neither AccumulateGrad, CopySlices nor a *Backward node",
        )
        for entry in node.next_functions:
            check.expect(
                isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], int),
                f"{node.name()}.next_functions entry {entry!r} is not (node, index)",
            )
    accs = [n for n in nodes if is_accumulate(n)]
    for n in accs:
        check.expect(not n.next_functions, f"AccumulateGrad has next_functions {n.next_functions}")
    reached = [n.variable for n in accs]
    wanted = [x for x, m in zip(xs, mask) if m]
    for i, x in enumerate(xs):
        hits = [n for n in accs if n.variable is x]
        if mask[i]:
            check.expect(
                len(hits) == 1,
                f"x{i} requires grad: {len(hits)} AccumulateGrad nodes with .variable is x{i}, expected exactly 1",
            )
        else:
            check.expect(not hits, f"x{i} does not require grad, yet an AccumulateGrad node holds it")
    strays = [v for v in reached if not any(v is x for x in wanted)]
    check.expect(
        not strays,
        f"{len(strays)} AccumulateGrad nodes hold tensors that are not leaves of this graph (shapes {[tuple(v.shape) for v in strays]})",
    )


def _run(ex: MaskedTree, mask: list[bool]):
    xs = ex.leaves(mask)
    try:
        y = ex.forward(xs)
    except RuntimeError as e:
        assume("not differentiable with respect to argument" not in str(e))
        raise
    return xs, y


@cell("semantics.graph", op_cases("float64"))
@PER_OP
def test_graph(case: Case, data, record) -> None:
    """One op: its node's normalised name, one next_functions entry per input (None where no grad), AccumulateGrad leaves."""
    draw = labelled(data)
    ex = draw_masked_op_tree(draw, case.spec)
    check = Checks("semantics.graph", ex.repro(f"y = {ex.tree.source}", "print(y.grad_fn, y.grad_fn.next_functions)"))
    xs, y = _run(ex, ex.mask)
    mask = ex.live()  # what the graph must reach
    check_graph(check, y, xs, mask)
    if not all(mask):  # every example also checks the graph with every input requiring grad
        every = [True] * len(ex.inputs)
        xs_all, y_all = _run(ex, every)
        check_graph(check, y_all, xs_all, live(ex.tree, every))
    expected = NODE_NAMES.get(case.op)
    if expected and any(mask) and not check.problems:
        check.expect(
            normalise(y.grad_fn.name()) == expected,
            f"y.grad_fn is {y.grad_fn.name()!r}, expected {expected} (normalised)",
        )
        entries = [fn for fn, _ in y.grad_fn.next_functions]
        if len(entries) == len(xs):  # one entry per tensor input, None where the input does not require grad
            for i, (fn, x, m) in enumerate(zip(entries, xs, mask)):
                ok = (fn is None) if not m else (fn is not None and is_accumulate(fn) and fn.variable is x)
                check.expect(
                    ok,
                    f"next_functions[{i}] is {fn!r} for x{i} (requires grad {m}); expected {f'AccumulateGrad of x{i}' if m else 'None'}",
                )
        else:  # another release's arity: the non-None entries are the inputs requiring grad, in order
            held = [fn.variable for fn in entries if fn is not None and is_accumulate(fn)]
            want = [x for x, m in zip(xs, mask) if m]
            check.expect(
                len(held) == len(want) and all(a is b for a, b in zip(held, want)),
                f"next_functions {y.grad_fn.next_functions} do not hold the inputs requiring grad {mask} in order",
            )
    check.finish(record)


@cell("semantics.graph", sem_cases("tree"))
@TREES
def test_graph_tree(case: Case, data, record) -> None:
    """A random tree: walking next_functions from y reaches exactly the leaves requiring grad, one AccumulateGrad each."""
    draw = labelled(data)
    ex = draw_masked_tree(draw, record, max_ops=6, at_least_one=False)
    check = Checks("semantics.graph", ex.repro(f"y = {ex.tree.source}", "print(y.grad_fn, y.grad_fn.next_functions)"))
    xs, y = _run(ex, ex.mask)
    check_graph(check, y, xs, ex.live())  # the graph must reach the live leaves
    check.finish(record)
