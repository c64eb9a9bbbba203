"""Semantics: in-place operations and views on random trees (issue 16, item 5).

An example takes a random registry tree's output as its base ``b``: ``fresh(xs)``, a contiguous copy
of ``tree(*xs)`` (a non-leaf whose own node saves nothing, so that an in-place op may change it).  A
random short program then makes views of ``b`` and of those views (``t[i]``, ``select``, slices,
``narrow``, ``transpose``, ``t()``, ``permute``, ``view(-1)``, ``unflatten``, ``unsqueeze``,
``squeeze``, ``diagonal``) and runs in-place ops on ``b`` or on a view: ``mul_``/``div_`` by powers
of two, ``add_``/``sub_``/``mul_``/``addcmul_``/``copy_`` with an operand ``z`` (another tree output,
from fresh leaves, viewed the same way), ``neg_``/``sin_``/``cos_``/``pow_``/``zero_``/``fill_``,
``exp_``/``tanh_`` (last: they save their result), and indexing assignment (``t[i] = z``,
``t[a:b] = z``, ``t[i] = c``, ``t[...] = z``, ``t[idx] = z``, ``t[mask] = z``, ``t[i] *= c``,
``t[idx] += z``).  In the ``plain`` case the base requires no grad (has no tangent) at first, and
gets it when it or a view of it is assigned a value that does.

The reference is the same program written out of place: each in-place op becomes its functional
form on the view's value, put back into the base by the scatter ops (``select_scatter``,
``slice_scatter``, ``diagonal_scatter``, ``index_put``) and inverse views.  Both programs are
executed from their source text, the very text of the repro.  Exactness: an op and its out-of-place
form run the same kernel on operands with the same strides (both bases stay contiguous, so a view
has the same geometry in both; the CPU's vectorized and scalar loops of sin, cos, exp and tanh agree
bitwise, sigmoid's do not, so ``sigmoid_`` is not drawn); gradients meeting at one node come from a
scatter's self (zero on the slot) and from the view read (zero off it), so their sum is exact in any
order; each operand has its own leaves, so no leaf sums three or more terms in an order that could
differ.  What is checked:

* ``semantics.inplace_view``: after every step ``b`` holds the reference's value; ``_version`` grows
  with each in-place op and is shared by ``b`` and all its views; ``v._base is b`` for views of views
  too; an in-place op on a view (or an indexing assignment) makes ``b.grad_fn`` a ``CopySlices``;
  views require grad as their base does; at the end every view, made before or after later
  modifications, reads its slice of the base's final value (base rebasing); and
  ``torch.autograd.backward([b, v], [u, uv])`` gives every leaf the reference's gradient exactly.
* ``semantics.inplace_forward``: the same program on dual tensors: after every step the base's primal
  and tangent are the reference's (an in-place op on a view of a dual tensor updates the base's
  tangent; a base without one gets one when a view is assigned a dual value), and at the end every
  view's tangent is the reference view's.
* ``semantics.inplace_errors``: the documented errors: an in-place op on an output of
  ``unbind``/``split``/``chunk``, and using such an output after its base was modified in place; a
  view made under ``no_grad`` modified in place with grad mode on, or used after its base was; an
  in-place op on a view of a leaf that requires grad (and on the leaf), both allowed under
  ``no_grad`` where the leaf stays a leaf; an in-place op on a view returned by a custom Function;
  a saved result invalidated through another view (or ``detach()``) sharing its version counter.  Under ``no_grad``
  an in-place op on a view made there is allowed and not recorded: the gradients stay the plain ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.autograd.forward_ad as fwAD  # noqa: N812
import torch.nn.functional as F  # noqa: N812
from hypothesis import strategies as st

from autograd_conformance.case import Case
from autograd_conformance.strategies import labelled
from autograd_conformance.strategies.semantics import (
    INPLACE_LEAF,
    INPLACE_SAVED,
    Checks,
    MaskedTree,
    draw_masked_tree,
    dyadic_array,
    dyadics,
    lit,
)
from autograd_conformance.strategies.trees import FORWARD_TREE_OPS, TREE_OPS
from suites.cases import cell, sem_cases

POWERS_OF_TWO = (0.5, 2.0, -1.0, 4.0, -0.25)
# The documented messages' stable fragments (torch 2.9 names the node "UnbindBackward0", 2.13 "Unbind").
MULTI_VIEW = ("is a view and is being modified inplace", "output of a function that returns multiple views")
MULTI_VIEW_BASE = ("its base or another view of its base has been modified inplace", "returns multiple views")
# "A view was created in no_grad mode ..." or, for a view of it, "Output 0 of Select is a view of a view which was created ...".
NO_GRAD_VIEW = ("created in no_grad mode and is being modified inplace with grad mode enabled",)
NO_GRAD_VIEW_BASE = ("created in no_grad mode and its base or another view of its base has been modified inplace",)
LEAF_VIEW = ("a view of a leaf variable that requires grad is being used in an in-place operation",)
FUNCTION_VIEW = ("is a view and is being modified inplace", "created inside a custom function")


# -- views ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class View:
    """One view op: its code on a tensor expression, and out of place its inverse: ``scatter(t, src)`` is
    ``t`` with this view of it replaced by ``src``."""

    kind: str
    args: tuple[Any, ...] = ()

    def code(self, t: str) -> str:
        a = self.args
        return {
            "index": lambda: f"{t}[{a[0]}]",
            "select": lambda: f"{t}.select({a[0]}, {a[1]})",
            "slice": lambda: f"{t}[{':, ' * a[0]}{a[1]}:{a[2]}:{a[3]}]",
            "narrow": lambda: f"{t}.narrow({a[0]}, {a[1]}, {a[2]})",
            "transpose": lambda: f"{t}.transpose({a[0]}, {a[1]})",
            "t": lambda: f"{t}.t()",
            "permute": lambda: f"{t}.permute{a}",
            "flatten": lambda: f"{t}.view(-1)",
            "unflatten": lambda: f"{t}.unflatten({a[0]}, (2, 2))",
            "unsqueeze": lambda: f"{t}.unsqueeze({a[0]})",
            "squeeze": lambda: f"{t}.squeeze({a[0]})",
            "diagonal": lambda: f"{t}.diagonal(0, {a[0]}, {a[1]})",
        }[self.kind]()

    def scatter(self, t: str, src: str) -> str:
        a = self.args
        return {
            "index": lambda: f"torch.select_scatter({t}, {src}, 0, {a[0]})",
            "select": lambda: f"torch.select_scatter({t}, {src}, {a[0]}, {a[1]})",
            "slice": lambda: f"torch.slice_scatter({t}, {src}, {a[0]}, {a[1]}, {a[2]}, {a[3]})",
            "narrow": lambda: f"torch.slice_scatter({t}, {src}, {a[0]}, {a[1]}, {a[1] + a[2]})",
            "transpose": lambda: f"{src}.transpose({a[0]}, {a[1]})",
            "t": lambda: f"{src}.t()",
            "permute": lambda: f"{src}.permute{tuple(int(i) for i in np.argsort(a))}",
            "flatten": lambda: f"{src}.reshape({t}.shape)",
            "unflatten": lambda: f"{src}.flatten({a[0]}, {a[0] + 1})",
            "unsqueeze": lambda: f"{src}.squeeze({a[0]})",
            "squeeze": lambda: f"{src}.unsqueeze({a[0]})",
            "diagonal": lambda: f"torch.diagonal_scatter({t}, {src}, 0, {a[0]}, {a[1]})",
        }[self.kind]()


def path_code(path: tuple[View, ...], t: str) -> str:
    for v in path:
        t = v.code(t)
    return t


def draw_view(draw: Any, g: torch.Tensor) -> View:
    """A view op valid on a tensor shaped and strided like ``g`` (never an overlapping one, never empty)."""
    s, n = tuple(g.shape), g.dim()
    kinds = ["unsqueeze", "flatten"] if g.is_contiguous() else ["unsqueeze"]
    if n >= 1:
        kinds += ["index", "select", "slice", "narrow"]
    if n <= 2:
        kinds.append("t")
    if n >= 2:
        kinds += ["transpose", "permute", "diagonal"]
    if 4 in s:
        kinds.append("unflatten")
    if 1 in s:
        kinds.append("squeeze")
    kind = draw(st.sampled_from(kinds), "view")
    dim = lambda label, among=range(n): draw(st.sampled_from(list(among)), label)  # noqa: E731
    if kind == "index":
        return View(kind, (draw(st.integers(0, s[0] - 1), "index"),))
    if kind == "select":
        d = dim("select dim")
        return View(kind, (d, draw(st.integers(0, s[d] - 1), "select index")))
    if kind in ("slice", "narrow"):
        d = dim(f"{kind} dim")
        start = draw(st.integers(0, s[d] - 1), f"{kind} start")
        length = draw(st.integers(1, s[d] - start), f"{kind} length")
        if kind == "narrow":
            return View(kind, (d, start, length))
        return View(kind, (d, start, start + length, draw(st.integers(1, 2), "slice step")))
    if kind in ("transpose", "diagonal"):
        d0, d1 = draw(st.lists(st.sampled_from(range(n)), min_size=2, max_size=2, unique=True), f"{kind} dims")
        return View(kind, (d0, d1))
    if kind == "permute":
        return View(kind, tuple(draw(st.permutations(range(n)), "permutation")))
    if kind == "unflatten":
        return View(kind, (dim("unflatten dim", [i for i in range(n) if s[i] == 4]),))
    if kind == "unsqueeze":
        return View(kind, (draw(st.integers(0, n), "unsqueeze dim"),))
    if kind == "squeeze":
        return View(kind, (dim("squeeze dim", [i for i in range(n) if s[i] == 1]),))
    return View(kind)


def draw_path(draw: Any, g: torch.Tensor, label: str, min_size: int = 1) -> tuple[View, ...]:
    """One to three view ops, applied in turn from ``g``."""
    path: list[View] = []
    for k in range(draw(st.integers(min_size, 3), f"{label}: number of view ops")):
        path.append(draw_view(draw, g))
        g = eval(path[-1].code("g"), {"g": g})  # noqa: S307 - our own view code
    return tuple(path)


# -- in-place ops --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Op:
    """An in-place op as code on the target ``{t}`` and its out-of-place form on the target's value ``{r}``.
    ``{z}``: the operand (``operand`` is the code that picks it out of the operand tensor), ``{c}`` a
    scalar, ``{i}``/``{a}:{b}``/``{idx}``/``{mask}`` an index; ``view``: it writes through a view of the
    target (basic indexing), so even the base itself gets a CopySlices node."""

    name: str
    inplace: str
    functional: str
    operand: str | None = None
    needs: str = ""  # "c", "i", "slice", "idx", "mask"
    min_dim: int = 0
    view: bool = False
    saves_result: bool = False


# Out of place, a value replaced by z or by a constant still depends on the old one, with a zero gradient, as
# after copy_/zero_/fill_: torch.where with an all-True or all-False condition keeps both (and picks exactly).
ALL = "torch.ones_like({r}, dtype=torch.bool)"
NONE = "torch.zeros_like({r}, dtype=torch.bool)"
OPS: tuple[Op, ...] = (
    Op("mul_", "{t}.mul_({c})", "{r}.mul({c})", needs="c"),
    Op("div_", "{t}.div_({c})", "{r}.div({c})", needs="c"),
    Op("neg_", "{t}.neg_()", "torch.neg({r})"),
    Op("add_", "{t}.add_({z}, alpha={c})", "torch.add({r}, {z}, alpha={c})", operand="", needs="c"),
    Op("sub_", "{t}.sub_({z})", "torch.sub({r}, {z})", operand=""),
    Op("mul_z", "{t}.mul_({z})", "torch.mul({r}, {z})", operand=""),
    Op("addcmul_", "{t}.addcmul_({z}, {z}, value={c})", "torch.addcmul({r}, {z}, {z}, value={c})", operand="", needs="c"),
    Op("copy_", "{t}.copy_({z})", f"torch.where({ALL}, {{z}}, {{r}})", operand=""),
    Op("sin_", "{t}.sin_()", "torch.sin({r})"),
    Op("cos_", "{t}.cos_()", "torch.cos({r})"),
    Op("pow_", "{t}.pow_(2)", "torch.pow({r}, 2)"),
    Op("zero_", "{t}.zero_()", f"torch.where({NONE}, {{r}}, 0.0)"),
    Op("fill_", "{t}.fill_({c})", f"torch.where({NONE}, {{r}}, {{c}})", needs="c"),
    Op("setitem", "{t}[{i}] = {z}", "torch.select_scatter({r}, {z}, 0, {i})", operand="[{i}]", needs="i",
       min_dim=1, view=True),
    Op("setitem_slice", "{t}[{a}:{b}] = {z}", "torch.slice_scatter({r}, {z}, 0, {a}, {b})", operand="[{a}:{b}]",
       needs="slice", min_dim=1, view=True),
    Op("setitem_scalar", "{t}[{i}] = {c}", "torch.select_scatter({r}, torch.full_like({r}[{i}], {c}), 0, {i})",
       needs="c i", min_dim=1, view=True),
    Op("setitem_all", "{t}[...] = {z}", f"torch.where({ALL}, {{z}}, {{r}})", operand=""),  # copy_ on t itself
    Op("index_put", "{t}[{idx}] = {z}", "{r}.index_put(({idx},), {z})", operand="[{idx}]", needs="idx", min_dim=1),
    Op("mask_put", "{t}[{mask}] = {z}", "{r}.index_put(({mask},), {z})", operand="[{mask}]", needs="mask",
       min_dim=1),
    Op("imul_index", "{t}[{i}] *= {c}", "torch.select_scatter({r}, {r}[{i}] * {c}, 0, {i})", needs="c i",
       min_dim=1, view=True),
    Op("iadd_index", "{t}[{idx}] += {z}", "{r}.index_put(({idx},), {r}[{idx}] + {z})", operand="[{idx}]",
       needs="idx", min_dim=1),
    Op("exp_", "{t}.exp_()", "torch.exp({r})", saves_result=True),
    Op("tanh_", "{t}.tanh_()", "torch.tanh({r})", saves_result=True),
)  # fmt: skip


def writes_through_view(op: Op, values: dict[str, str]) -> bool:
    """Whether the op writes through a view of its target (an assignment to a slice over a whole dim is a copy_
    to the target itself)."""
    whole = op.name == "setitem_slice" and (values["a"], values["b"]) == ("0", values["n"])
    return op.view and not whole


@dataclass
class Step:
    """``v<k> = <path from the target>`` (``op`` None), or ``op`` in place on the target (``b`` or a view)."""

    target: str
    path: tuple[View, ...]  # the target's (or the new view's) path from b
    op: Op | None = None
    new: str = ""  # the new view's name
    within: tuple[View, ...] = ()  # the new view's path from its target
    values: dict[str, str] = field(default_factory=dict)  # {c}, {i}, {idx} ... as code
    operand: int = 0  # the operand's number (its leaves: zs<k>), 0 for none

    def inplace(self) -> list[str]:
        if self.op is None:
            return [f"{self.new} = {path_code(self.within, self.target)}"]
        lines = [f"z{self.operand} = {self.operand_code('zs')}"] if self.op.operand is not None else []
        return [*lines, self.op.inplace.format(t=self.target, z=f"z{self.operand}", **self.values)]

    @property
    def through_view(self) -> bool:
        return bool(self.path) or (self.op is not None and writes_through_view(self.op, self.values))

    def operand_code(self, leaves: str) -> str:
        pick = (self.op.operand or "").format(**self.values)
        return path_code(self.path, f"fresh({leaves}{self.operand})") + pick

    def reference(self) -> list[str]:
        """The op out of place on B: read the view down the path, apply the op, scatter back up."""
        if self.op is None:
            return []
        lines = [f"rz{self.operand} = {self.operand_code('rzs')}"] if self.op.operand is not None else []
        names = ["B"] + [f"r{k}" for k in range(1, len(self.path) + 1)]
        lines += [f"{names[k + 1]} = {v.code(names[k])}" for k, v in enumerate(self.path)]
        last = names[-1]
        lines.append(f"{last} = " + self.op.functional.format(r=last, z=f"rz{self.operand}", **self.values))
        for k in range(len(self.path) - 1, -1, -1):
            lines.append(f"{names[k]} = {self.path[k].scatter(names[k], names[k + 1])}")
        return lines


@dataclass
class Program:
    plain: bool  # the base requires no grad (has no tangent) at first
    steps: list[Step]
    views: dict[str, tuple[View, ...]]  # name -> path from b
    final: str  # the view that joins b in the final backward ("" for none)
    shape: tuple[int, ...]
    # An in-place op on a view made while b required no grad, after b got grad, its grad_fn never read since:
    # torch raises "a leaf Variable ..." there (baselines/repros/inplace_on_view_made_before_base_required_grad.py).
    stale_view: bool = False

    @property
    def operands(self) -> int:
        return sum(1 for s in self.steps if s.op is not None and s.op.operand is not None)


def _values(draw: Any, op: Op, g: torch.Tensor) -> dict[str, str]:
    values: dict[str, str] = {}
    if "c" in op.needs:
        strategy = dyadics() if op.name in ("fill_", "setitem_scalar") else st.sampled_from(POWERS_OF_TWO)
        values["c"] = repr(draw(strategy, f"{op.name}: scalar"))
    n0 = g.shape[0] if g.dim() else 0
    if "i" in op.needs:
        values["i"] = str(draw(st.integers(0, n0 - 1), f"{op.name}: index"))
    if "slice" in op.needs:
        a = draw(st.integers(0, n0 - 1), f"{op.name}: slice start")
        values |= {"a": str(a), "b": str(draw(st.integers(a + 1, n0), f"{op.name}: slice stop")), "n": str(n0)}
    if "idx" in op.needs:
        idx = draw(st.lists(st.integers(0, n0 - 1), min_size=1, max_size=n0, unique=True), f"{op.name}: indices")
        values["idx"] = f"torch.tensor({idx})"
    if "mask" in op.needs:
        mask = draw(st.lists(st.booleans(), min_size=g.numel(), max_size=g.numel()), f"{op.name}: mask")
        values["mask"] = f"torch.tensor({lit(np.array(mask).reshape(tuple(g.shape)))})"
    return values


def draw_program(draw: Any, shape: tuple[int, ...], plain: bool) -> Program:
    """Up to six steps, the last an in-place op; a plain base's first op brings in an operand."""
    geometry = {"b": torch.zeros(shape)}  # a contiguous tensor like b: each view's shape and strides
    paths: dict[str, tuple[View, ...]] = {"b": ()}
    steps: list[Step] = []
    n = draw(st.integers(1, 6), "number of steps")
    has_operand = not plain
    early: set[str] = set()  # views made while b required no grad
    stale: set[str] = set()  # views that require grad whose grad_fn torch has not made yet
    stale_view = False
    for k in range(n):
        target = draw(st.sampled_from(sorted(paths)), f"step {k}: target")
        g = geometry[target]
        if k < n - 1 and draw(st.booleans(), f"step {k}: make a view"):
            within = draw_path(draw, g, f"step {k}")
            name = f"v{len(paths)}"
            geometry[name] = eval(path_code(within, "g"), {"g": g})  # noqa: S307 - our own view code
            paths[name] = paths[target] + within
            steps.append(Step(target, paths[name], new=name, within=within))
            stale.discard(target)  # a view made from it reads its grad_fn
            if not has_operand:
                early.add(name)
            continue
        ops = [op for op in OPS if g.dim() >= op.min_dim and (k == n - 1 or not op.saves_result)]
        if not has_operand:
            ops = [op for op in ops if op.operand is not None]
        op = draw(st.sampled_from(ops), f"step {k}: in-place op")
        values = _values(draw, op, g)
        stale_view = stale_view or target in stale
        if not has_operand and op.operand is not None:
            # The op's target makes its grad_fn, unless the op writes through a view of it (v[0] = z): the
            # soak found v = b.view(-1); v[0] = z; v.neg_() raising the leaf error with v still stale.
            has_operand, stale = True, early - (set() if writes_through_view(op, values) else {target})
        operand = 1 + sum(1 for s in steps if s.op is not None and s.op.operand is not None)
        steps.append(Step(target, paths[target], op, values=values, operand=operand))
    views = {name: p for name, p in paths.items() if name != "b"}
    final = draw(st.sampled_from(["", *sorted(views)]), "the view that joins b in the final backward")
    return Program(plain, steps, views, final, shape, stale_view)


# -- running the text ----------------------------------------------------------------------------
def setup_code(ex: MaskedTree, tangents: list[np.ndarray] | None = None) -> list[str]:
    """tree, the inputs X, ``leaves(grad)`` (dual leaves when ``tangents``) and ``fresh(xs)``."""
    lines = [
        "import torch.nn.functional as F",
        "import torch.autograd.forward_ad as fwAD",
        f"def tree({ex.tree.params}):",
        f"    return {ex.tree.source}",
        f"X = [{', '.join(lit(x) for x in ex.inputs)}]",
        f"MASK = {ex.mask!r}",
    ]
    if tangents is None:
        lines += [
            "def leaves(grad=True):  # fresh leaves; MASK: which require grad",
            "    return [torch.tensor(x, dtype=torch.float64, requires_grad=grad and m) for x, m in zip(X, MASK)]",
        ]
    else:
        lines += [
            f"T = [{', '.join(lit(t) for t in tangents)}]",
            "def leaves(grad=True):  # fresh inputs, dual where MASK says (call inside fwAD.dual_level())",
            "    xs = [torch.tensor(x, dtype=torch.float64) for x in X]",
            "    return [fwAD.make_dual(x, torch.tensor(t, dtype=torch.float64)) if grad and m else x",
            "            for x, t, m in zip(xs, T, MASK)]",
        ]
    return [
        *lines,
        "def fresh(xs):  # the tree's output as a contiguous non-leaf copy",
        "    return tree(*xs).clone(memory_format=torch.contiguous_format)",
    ]


def start_code(prog: Program) -> tuple[list[str], list[str]]:
    """The base and the operands' leaves: in place (b, xs, zs<k>) and for the reference (B, rxs, rzs<k>)."""
    grad = "False" if prog.plain else ""
    zs = [f"zs{k} = leaves()" for k in range(1, prog.operands + 1)]
    rzs = [f"rzs{k} = leaves()" for k in range(1, prog.operands + 1)]
    return (
        ["xs = leaves()", *zs, f"b = fresh(leaves({grad}))" if prog.plain else "b = fresh(xs)"],
        ["rxs = leaves()", *rzs, f"B = fresh(leaves({grad}))" if prog.plain else "B = fresh(rxs)"],
    )


class Runner:
    """Runs code lines in one namespace (the repro's); a raise is a FAIL of the property, with the code."""

    def __init__(self, check: Checks, indent: str = "") -> None:
        self.check, self.indent, self.ns, self.ok = check, indent, {"torch": torch, "F": F, "fwAD": fwAD}, True

    def run(self, lines: list[str], what: str) -> bool:
        self.check.code(*(self.indent + line for line in lines))
        if not self.ok:
            return False
        text = "\n".join(lines)
        self.ok = self.check.quiet(lambda: exec(text, self.ns) or True, f"{what} ({'; '.join(lines)[:300]})") is True  # noqa: S102
        return self.ok

    def __getitem__(self, name: str) -> Any:
        return self.ns[name]

    def eval(self, code: str) -> Any:
        return eval(code, self.ns)  # noqa: S307 - our own code


def draw_example(draw: Any, record: Any, plain: bool, forward: bool = False) -> tuple[MaskedTree, Program]:
    """A tree (of ops with forward-mode formulas where ``forward``: its program runs on dual tensors) and a program."""
    ex = draw_masked_tree(draw, record, ops=FORWARD_TREE_OPS if forward else TREE_OPS)
    shape = tuple(ex.forward(ex.leaves()).shape)
    return ex, draw_program(draw, shape, plain)


def _seed(draw: Any, shape: tuple[int, ...], label: str) -> np.ndarray:
    return dyadic_array(draw, shape, label)


def _geometry(prog: Program, name: str) -> tuple[int, ...]:
    g = torch.zeros(prog.shape)
    return tuple(eval(path_code(prog.views[name], "g"), {"g": g}).shape)  # noqa: S307


@cell("semantics.inplace_view", sem_cases("tree", "plain"))
def test_inplace_on_views(case: Case, data, record) -> None:
    """In-place ops on a non-leaf and its views: values, versions, CopySlices and gradients as out of place."""
    draw = labelled(data)
    ex, prog = draw_example(draw, record, plain=case.op == "plain")
    u = _seed(draw, prog.shape, "u")
    uv = _seed(draw, _geometry(prog, prog.final), "uv") if prog.final else None
    check = Checks(
        "semantics.inplace_view", uses=[op.name for op in ex.tree.ops], params={"stale_view": float(prog.stale_view)}
    )
    run = Runner(check)
    run.run(setup_code(ex), "setup")
    run.run([f"u = torch.tensor({lit(u)}, dtype=torch.float64)"], "the seed")
    if uv is not None:
        run.run([f"uv = torch.tensor({lit(uv)}, dtype=torch.float64)"], "the view's seed")
    start, rstart = start_code(prog)
    run.run(start, "the base")
    run.run(rstart, "the reference's base")
    views: list[str] = []
    for k, step in enumerate(prog.steps):
        before = run["b"]._version if run.ok else 0
        if not run.run(step.inplace(), f"step {k}"):
            break
        b = run["b"]
        if step.op is None:
            v = run[step.new]
            check.expect(v._base is b, f"step {k}: {step.new}._base is not b (a view of a view has the root as base)")
            check.expect(v._version == b._version, f"step {k}: {step.new}._version {v._version}, b's {b._version}")
            check.expect(
                v.requires_grad == b.requires_grad,
                f"step {k}: {step.new}.requires_grad {v.requires_grad}, b's {b.requires_grad}",
            )
            views.append(step.new)
            continue
        run.run(step.reference(), f"step {k}, out of place")
        code = step.inplace()[-1]
        check.expect(b._version > before, f"step {k} ({code}): b._version {b._version}, {before} before")
        for name in views:
            v = run[name]
            check.expect(v._version == b._version, f"after {code}: {name}._version {v._version}, b's {b._version}")
            check.expect(v.requires_grad == b.requires_grad, f"after {code}: {name}.requires_grad {v.requires_grad}, b's {b.requires_grad}")  # fmt: skip
        if step.through_view and b.requires_grad:
            name = type(b.grad_fn).__name__
            check.expect("CopySlices" in name, f"after {code} (through a view): b.grad_fn is {name}, not CopySlices")
        if run.ok:
            check.same(b, run["B"], f"b after step {k} ({code}) against the out-of-place program")
            check.expect(
                b.requires_grad == run["B"].requires_grad,
                f"after {code}: b.requires_grad {b.requires_grad}, out of place {run['B'].requires_grad}",
            )
    if run.ok:
        for name in views:
            check.same(run[name], run.eval(path_code(prog.views[name], "B")), f"{name} (read after the program)")
    check.code(
        f"print(b._version, [v._version for v in ({''.join(v + ', ' for v in views)})], type(b.grad_fn).__name__)"
    )
    roots = ["b", prog.final] if prog.final else ["b"]
    rroots = ["B", path_code(prog.views[prog.final], "B")] if prog.final else ["B"]
    seeds = "[u, uv]" if prog.final else "[u]"
    run.run(
        [
            f"torch.autograd.backward([{', '.join(roots)}], {seeds})",
            f"torch.autograd.backward([{', '.join(rroots)}], {seeds})  # the out-of-place program",
        ],
        "the final backward",
    )
    groups = [("xs", "rxs")] + [(f"zs{k}", f"rzs{k}") for k in range(1, prog.operands + 1)]
    check.code("for a, r in [" + ", ".join(f"({a}, {r})" for a, r in groups) + "]:",
               "    print([x.grad for x in a], [x.grad for x in r])")  # fmt: skip
    if run.ok:
        for a, r in groups:
            for i, (x, rx) in enumerate(zip(run[a], run[r])):
                check.same(x.grad, rx.grad, f"{a}[{i}].grad (out of place: {r}[{i}].grad)")
    check.finish(record)


def _tangent(t: Any) -> Any:
    return fwAD.unpack_dual(t).tangent


def _primal(t: Any) -> Any:
    return fwAD.unpack_dual(t).primal


@cell("semantics.inplace_forward", sem_cases("tree", "plain"))
def test_inplace_forward(case: Case, data, record) -> None:
    """The same programs on dual tensors: the base's and every view's tangent is the out-of-place program's."""
    draw = labelled(data)
    ex, prog = draw_example(draw, record, plain=case.op == "plain", forward=True)
    tangents = [dyadic_array(draw, x.shape, f"t{i}") for i, x in enumerate(ex.inputs)]
    check = Checks("semantics.inplace_forward", uses=[op.name for op in ex.tree.ops])
    run = Runner(check)
    run.run(setup_code(ex, tangents), "setup")
    check.code("with fwAD.dual_level():")
    run.indent = "    "
    views: list[str] = []
    with fwAD.dual_level():
        start, rstart = start_code(prog)
        run.run(start, "the base")
        run.run(rstart, "the reference's base")
        for k, step in enumerate(prog.steps):
            if not run.run(step.inplace(), f"step {k}"):
                break
            if step.op is None:
                views.append(step.new)
                continue
            run.run(step.reference(), f"step {k}, out of place")
            if run.ok:
                code = step.inplace()[-1]
                b, ref = run["b"], run["B"]
                check.same(
                    _primal(b), _primal(ref), f"b's primal after step {k} ({code}) against the out-of-place program"
                )
                check.same(
                    _tangent(b), _tangent(ref), f"b's tangent after step {k} ({code}) against the out-of-place program"
                )
        check.code(
            "    print(fwAD.unpack_dual(b).tangent, fwAD.unpack_dual(B).tangent)",
            *(f"    print(fwAD.unpack_dual({v}).tangent, fwAD.unpack_dual({path_code(prog.views[v], 'B')}).tangent)"
              for v in views),
        )  # fmt: skip
        if run.ok:
            for name in views:
                want = run.eval(path_code(prog.views[name], "B"))
                check.same(_primal(run[name]), _primal(want), f"{name}'s primal (read after the program)")
                check.same(_tangent(run[name]), _tangent(want), f"{name}'s tangent (read after the program)")
    check.finish(record)


# -- the documented errors -----------------------------------------------------------------------
ALIAS = """\
class Alias(torch.autograd.Function):  # returns its input as is: a view of it made inside a custom Function
    @staticmethod
    def forward(ctx, t):
        return t.view_as(t)

    @staticmethod
    def backward(ctx, g):
        return g
"""


class Errors:
    """One example's scenarios, each run from its code lines in one namespace (the repro's)."""

    def __init__(self, draw: Any, check: Checks, run: Runner, shape: tuple[int, ...]) -> None:
        self.draw, self.check, self.run, self.shape = draw, check, run, shape

    def geometry(self, code: str, shape: tuple[int, ...] | None = None) -> torch.Tensor:
        return eval(code, {"g": torch.zeros(shape if shape is not None else self.shape)})  # noqa: S307

    def op(self, target: str, g: torch.Tensor, label: str) -> tuple[bool, list[str], str]:
        """A random in-place op on ``target`` (shaped like ``g``): whether it writes through a view of the
        target, its operand's line(s), and its own line."""
        op = self.draw(st.sampled_from([o for o in OPS if g.dim() >= o.min_dim]), f"{label}: in-place op")
        values = _values(self.draw, op, g)
        pick = (op.operand or "").format(**values)
        setup = [f"z = torch.full_like({target}.detach(), 0.5){pick}"] if op.operand is not None else []
        return writes_through_view(op, values), setup, op.inplace.format(t=target, z="z", **values)

    def raises(self, setup: list[str], line: str, fragments: tuple[str, ...], what: str) -> None:
        """``setup`` runs; then ``line`` must raise a RuntimeError with the fragments."""
        self.check.code(*setup, "try:", f"    {line}", "except RuntimeError as e:", "    print(e)")
        text = "\n".join(setup)
        if self.check.quiet(lambda: exec(text, self.run.ns) or True, f"{what}: {'; '.join(setup)[:300]}") is True:  # noqa: S102
            self.check.raises(lambda: exec(line, self.run.ns), fragments, f"{what} ({line})")  # noqa: S102


@cell("semantics.inplace_errors", sem_cases("tree"))
def test_inplace_errors(case: Case, data, record) -> None:
    """The documented errors of in-place ops on views, and what no_grad allows instead."""
    draw = labelled(data)
    ex = draw_masked_tree(draw, record)
    shape = tuple(ex.forward(ex.leaves()).shape)
    u = dyadic_array(draw, shape, "u")
    check = Checks("semantics.inplace_errors", uses=[op.name for op in ex.tree.ops])
    run = Runner(check)
    run.run([*setup_code(ex), f"u = torch.tensor({lit(u)}, dtype=torch.float64)", *ALIAS.splitlines()], "setup")
    run.run(["xs = leaves()"], "the leaves")
    if not run.ok:
        check.finish(record)
        return
    e = Errors(draw, check, run, shape)

    # 1. An output of a function returning several views may not be modified in place, nor used once its base was.
    flat = "b" if shape else "b.view(-1)"
    g = e.geometry(flat.replace("b", "g"))
    d = draw(st.integers(0, g.dim() - 1), "multi-view dim")
    n = g.shape[d]
    fn = draw(st.sampled_from([f"unbind({d})", f"split({draw(st.integers(1, n), 'split size')}, {d})",
                               f"chunk({draw(st.integers(1, n), 'chunks')}, {d})"]), "multi-view function")  # fmt: skip
    outs = e.geometry(f"{flat.replace('b', 'g')}.{fn}")
    k = draw(st.integers(0, len(outs) - 1), "output")
    _, setup, line = e.op(f"outs[{k}]", outs[k], "multi-view output")
    e.raises(["b = fresh(xs)", f"outs = {flat}.{fn}", *setup], line, MULTI_VIEW, f"in place on output {k} of {fn}")
    _, setup, line = e.op("b", g.reshape(shape), "the multi-view base")
    e.raises(["b = fresh(xs)", f"outs = {flat}.{fn}", *setup, line], f"outs[{k}] * 1", MULTI_VIEW_BASE,
             f"output {k} of {fn} used after b was modified in place ({line})")  # fmt: skip

    # 2. A view made under no_grad: not modified in place with grad mode on, nor used once its base was.
    path = draw_path(draw, torch.zeros(shape), "no_grad view")
    view = path_code(path, "b")
    gv = e.geometry(path_code(path, "g"))
    _, setup, line = e.op("v", gv, "no_grad view")
    made = ["b = fresh(xs)", "with torch.no_grad():", f"    v = {view}"]
    e.raises([*made, *setup], line, NO_GRAD_VIEW, "in place with grad mode on, on a view made under no_grad")
    _, setup, line = e.op("b", torch.zeros(shape), "its base")
    e.raises([*made, *setup, line], "v * 1", NO_GRAD_VIEW_BASE, f"a view made under no_grad used after {line}")
    # ... and both under no_grad: allowed, and not recorded: the gradients stay the plain ones.
    _, setup, line = e.op("v", gv, "no_grad view and op")
    lines = ["ps = leaves()", "torch.autograd.backward(fresh(ps), u)  # plain", "ys = leaves()", "b = fresh(ys)",
             "node, version = b.grad_fn, b._version", "with torch.no_grad():", f"    v = {view}",
             *(f"    {s}" for s in setup), f"    {line}"]  # fmt: skip
    if run.run(lines, "a view made and modified in place under no_grad"):
        b = run["b"]
        check.expect(
            b.grad_fn is run["node"], f"b.grad_fn is {b.grad_fn} after {line} under no_grad, {run['node']} before"
        )
        check.expect(
            b._version > run["version"], f"b._version {b._version} after {line} under no_grad, {run['version']} before"
        )
        if run.run(["torch.autograd.backward(b, u)", "print([y.grad for y in ys], [p.grad for p in ps])"], "backward"):
            for i, (y, p) in enumerate(zip(run["ys"], run["ps"])):
                check.same(y.grad, p.grad, f"ys[{i}].grad after the untracked in-place op (plain: ps[{i}].grad)")

    # 3. A leaf that requires grad: no in-place op on it or on a view of it with grad mode on; under no_grad both are fine.
    i = draw(st.sampled_from([j for j, m in enumerate(ex.mask) if m]), "the leaf")
    leaf = torch.zeros(ex.inputs[i].shape)
    lpath = draw_path(draw, leaf, "leaf view")
    target = path_code(lpath, f"xs[{i}]")
    _, setup, line = e.op(target, e.geometry(path_code(lpath, "g"), leaf.shape), "leaf view")
    e.raises(setup, line, LEAF_VIEW, "in place on a view of a leaf that requires grad")
    view, setup, line = e.op(f"xs[{i}]", leaf, "the leaf")
    e.raises(setup, line, LEAF_VIEW if view else INPLACE_LEAF, "in place on a leaf that requires grad")
    _, vsetup, vline = e.op(path_code(lpath, "w"), e.geometry(path_code(lpath, "g"), leaf.shape), "no_grad leaf view")
    _, lsetup, lline = e.op("w", leaf, "no_grad leaf")
    lines = [f"w = leaves()[{i}]", "version = w._version", "with torch.no_grad():",
             *(f"    {s}" for s in (*vsetup, vline, *lsetup, lline))]  # fmt: skip
    if run.run(lines, "in place on a leaf and on a view of it under no_grad"):
        w = run["w"]
        check.expect(
            w.is_leaf and w.requires_grad and w.grad_fn is None,
            f"after in-place ops under no_grad, w.is_leaf {w.is_leaf}, requires_grad {w.requires_grad}, grad_fn {w.grad_fn}",
        )
        check.expect(
            w._version >= run["version"] + 2, f"w._version {w._version} after two in-place ops, {run['version']} before"
        )

    # 4. A view returned by a custom Function (here its input as is) may not be modified in place.
    apath = draw_path(draw, torch.zeros(shape), "view of the Function's output", min_size=0)
    target = path_code(apath, "a")
    _, setup, line = e.op(target, e.geometry(path_code(apath, "g")), "custom Function view")
    e.raises(
        ["b = fresh(xs)", "a = Alias.apply(b)", *setup], line, FUNCTION_VIEW, "in place on a custom Function's view"
    )

    # 5. Views share their base's version counter: a result saved by exp_/tanh_ on one view is stale after
    #    any in-place op on another (or on the base), and backward says so.
    p1 = draw_path(draw, torch.zeros(shape), "the saving view", min_size=0)
    p2 = draw_path(draw, torch.zeros(shape), "the other view", min_size=0)
    saver = draw(st.sampled_from([o for o in OPS if o.saves_result]), "the op that saves its result")
    first = saver.inplace.format(t=path_code(p1, "b"))
    # (through .detach() too: it shares the version counter, as its documentation says)
    other = path_code(p2, "b") + (".detach()" if draw(st.booleans(), "the other op through detach()") else "")
    _, setup, line = e.op(other, e.geometry(path_code(p2, "g")), "then")
    e.raises(["b = fresh(xs)", first, *setup, line], "torch.autograd.backward(b, u)", INPLACE_SAVED,
             f"backward after {first} then {line}")  # fmt: skip
    check.finish(record)
