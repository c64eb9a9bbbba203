"""Semantics: custom ``torch.autograd.Function`` on random trees (issue 16, item 1).

Each example wraps a random tree in a custom Function whose rules are the tree's own derivatives
(``RULES``: ``torch.func.vjp`` of the tree, and J t as the vjp of that vjp; ``FUNCTION_SOURCE``).  The
Function is right by construction, so calling it through autograd must give exactly what calling
those rules directly gives: any difference is the Function machinery's (the engine, ``ctx``, the
functorch bridge).

* ``semantics.function_backward``: ``y.backward(u)`` through the Function, written in the
  ``setup_context`` style or the old ``forward(ctx, ...)`` style: the output and grad_fn, each leaf's
  gradient, ``ctx.needs_input_grad``, a ``ctx`` attribute set in the forward and read in the backward,
  and the documented error of a second backward once the saved tensors are freed;
* ``semantics.function_forward``: forward mode through the ``jvp`` staticmethod, with dual tensors and
  ``torch.func.jvp``; a Function without ``jvp`` raises the documented error;
* ``semantics.function_double_backward``: the second derivative ∇ₓ⟨Jᵀu, w⟩ through the Function's
  (differentiable) backward; with ``@once_differentiable`` the first derivative is unchanged and the
  second raises the documented error;
* ``semantics.function_transforms``: ``torch.func.jacrev``, ``jacfwd`` and ``vmap`` of the Function,
  with ``generate_vmap_rule = True`` or an explicit ``vmap`` staticmethod;
* ``semantics.function_nested``: the Hessian blocks by ``jacrev`` or ``jacfwd`` over ``jacrev`` or ``jacfwd``,
  each pair against the same pair applied to the tree;
* ``semantics.function_ctx``: ``mark_non_differentiable``, ``set_materialize_grads`` (None or zeros
  for an unused output's gradient), ``mark_dirty`` (an in-place Function: right on a non-leaf, the
  documented error on a leaf that requires grad), and the documented errors of a backward that
  returns the wrong number of gradients or one of the wrong shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.autograd.forward_ad as fwAD  # noqa: N812
from hypothesis import strategies as st

from autograd_conformance import tolerances as tol
from autograd_conformance.case import Case
from autograd_conformance.oracles import jax_oracle
from autograd_conformance.singularities import near_singularity
from autograd_conformance.strategies import labelled
from autograd_conformance.strategies.semantics import (
    Checks,
    MaskedTree,
    draw_masked_tree,
    dyadic_array,
    lit,
)
from autograd_conformance.strategies.trees import SECOND_FORWARD_TREE_OPS, SECOND_ORDER_TREE_OPS
from autograd_conformance.transforms import vmap_limitation
from suites.cases import cell, sem_cases

STYLES = ("setup_context", "ctx")
TAG = "set in the forward"  # a ctx attribute the backward reads
NO_JVP = ("must implement the jvp function", "forward mode AD")
SECOND_TIME = ("backward through the graph a second time",)
ONCE = ("once_differentiable",)  # "trying to differentiate twice a function that was marked with @once_differentiable"
LEAF_IN_PLACE = ("leaf Variable that requires grad", "in-place operation")
COUNT = ("incorrect number of gradients",)
SHAPE = ("invalid gradient at index",)

# The rules: torch's own derivatives of the tree.  J t is the vjp of the (linear) vjp g -> Jᵀg, by
# reverse mode only: torch.func's forward levels do not nest inside dual tensors ("Nested forward mode
# AD is not supported"), and a Function's jvp runs inside the caller's.
RULES = """\
def vjp_rule(xs, grad):
    return torch.func.vjp(tree, *xs)[1](grad)


def own(y, xs):  # a copy of y where it is a view or an input: those come with more rules for the Function
    return y.clone() if y._is_view() or any(y is x for x in xs) else y


def jvp_rule(xs, tangents):
    tangents = tuple(torch.zeros_like(x) if t is None else t for x, t in zip(xs, tangents))
    return torch.func.vjp(lambda g: vjp_rule(xs, g), torch.zeros_like(tree(*xs)))[1](tangents)[0]

"""
_STATIC_RULES = """
    @staticmethod
    def backward(ctx, grad):
        seen.append((ctx.needs_input_grad, ctx.tag))
        grads = vjp_rule(ctx.saved_tensors, grad)
        return tuple(g if need else None for g, need in zip(grads, ctx.needs_input_grad))

    @staticmethod
    def jvp(ctx, *tangents):
        return jvp_rule(ctx.saved_tensors, tangents)
"""
# The Function, as source: the repro scripts print this very text.
FUNCTION_SOURCE = {
    "setup_context": RULES + '''\
class TreeFunction(torch.autograd.Function):
    """tree as a custom autograd.Function whose rules are torch's own derivatives of tree."""

    generate_vmap_rule = True

    @staticmethod
    def forward(*xs):
        return own(tree(*xs), xs)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)
        ctx.save_for_forward(*inputs)
        ctx.tag = TAG
''' + _STATIC_RULES,
    "ctx": RULES + '''\
class TreeFunction(torch.autograd.Function):
    """tree as a custom autograd.Function (the old style: forward takes ctx)."""

    @staticmethod
    def forward(ctx, *xs):
        ctx.save_for_backward(*xs)
        ctx.save_for_forward(*xs)
        ctx.tag = TAG
        return own(tree(*xs), xs)
''' + _STATIC_RULES,
}  # fmt: skip
EXPLICIT_VMAP = """
    @staticmethod
    def vmap(info, in_dims, *xs):
        return torch.vmap(tree, in_dims=in_dims)(*xs), 0
"""


def source(style: str, *, jvp: bool = True, once: bool = False, vmap: str = "generated") -> str:
    """The Function's source in ``style``: without its ``jvp``, with ``@once_differentiable`` on its backward,
    or with an explicit ``vmap`` staticmethod instead of ``generate_vmap_rule``."""
    text = FUNCTION_SOURCE[style]
    if not jvp:
        text = text[: text.index("    @staticmethod\n    def jvp")].rstrip() + "\n"
    if once:
        text = text.replace("    def backward", "    @once_differentiable\n    def backward")
    if vmap == "explicit":
        text = text.replace("    generate_vmap_rule = True\n\n", "") + EXPLICIT_VMAP
    return text


def make(ex: MaskedTree, text: str, seen: list) -> type[torch.autograd.Function]:
    """The Function ``text`` defines, over ``ex``'s tree; its backward appends (needs_input_grad, ctx.tag) to ``seen``."""
    from torch.autograd.function import once_differentiable

    scope: dict[str, Any] = {
        "torch": torch, "tree": ex.tree.torch_fn(), "seen": seen, "TAG": TAG, "once_differentiable": once_differentiable,
    }  # fmt: skip
    exec(text, scope)  # noqa: S102 - the suite's own source, shown in repros
    return scope["TreeFunction"]


def repro(ex: MaskedTree, text: str, *lines: str) -> list[str]:
    return [
        "import torch.nn.functional as F",
        "from torch.autograd.function import once_differentiable",
        *ex.repro(),
        f"tree = lambda {ex.tree.params}: {ex.tree.source}",
        f"seen, TAG = [], {TAG!r}",
        *text.splitlines(),
        *lines,
    ]


def rules(ex: MaskedTree) -> dict[str, Any]:
    """``vjp_rule`` and ``jvp_rule`` of ``RULES`` over ``ex``'s tree, to call directly."""
    scope: dict[str, Any] = {"torch": torch, "tree": ex.tree.torch_fn()}
    exec(RULES, scope)  # noqa: S102 - the suite's own source, shown in repros
    return scope


def rules_vjp(ex: MaskedTree, xs: list[torch.Tensor], u: torch.Tensor) -> list[torch.Tensor | None]:
    """What the Function's backward returns, called directly: None where no gradient is needed.  Called under
    no_grad, as the engine runs a backward without create_graph: some formulas depend on grad mode (mish's
    backward is another kernel with grad enabled, 1 ulp apart)."""
    with torch.no_grad():
        grads = rules(ex)["vjp_rule"]([x.detach() for x in xs], u)
    return [g if m else None for g, m in zip(grads, ex.mask)]


def _seed(draw, ex: MaskedTree) -> torch.Tensor:
    with torch.no_grad():
        shape = tuple(ex.forward(ex.leaves()).shape)
    return torch.tensor(dyadic_array(draw, shape, "u"))


def _tangents(draw, ex: MaskedTree, name: str = "v") -> list[torch.Tensor]:
    return [torch.tensor(dyadic_array(draw, x.shape, f"{name}{i}")) for i, x in enumerate(ex.inputs)]


@cell("semantics.function_backward", sem_cases("tree"))
def test_function_backward(case: Case, data, record) -> None:
    """y.backward(u) through the Function gives its rules' gradients; needs_input_grad and ctx attributes hold."""
    draw = labelled(data)
    ex = draw_masked_tree(draw, record)
    style = draw(st.sampled_from(STYLES), "style")
    u = _seed(draw, ex)
    text, seen = source(style), []
    fn = make(ex, text, seen)
    names = ex.tree.params
    check = Checks(
        "semantics.function_backward",
        uses=[op.name for op in ex.tree.ops],
        repro=repro(ex, text, f"u = torch.tensor({lit(u.numpy())}, dtype=torch.float64)",
              f"y = TreeFunction.apply({names})", "y.backward(u)",
              f"print([x.grad for x in ({names},)], seen)",
              f"print(vjp_rule(({names},), u))  # the rule, called directly"),
    )  # fmt: skip
    xs = ex.leaves()
    y = check.quiet(lambda: fn.apply(*xs), "TreeFunction.apply")
    if y is not None:
        with torch.no_grad():
            check.same(y, ex.forward(ex.leaves()), "the Function's output")
        check.expect(y.requires_grad == any(ex.mask), f"y.requires_grad is {y.requires_grad}; inputs {ex.mask}")
        name = type(y.grad_fn).__name__ if y.grad_fn is not None else None
        check.expect(name == "TreeFunctionBackward", f"y.grad_fn is {name}; expected TreeFunctionBackward")
        check.quiet(lambda: y.backward(u), "y.backward(u)")
        want = rules_vjp(ex, xs, u)
        for i, x in enumerate(xs):
            check.same(x.grad, want[i], f"x{i}.grad")
        check.expect(
            seen == [(tuple(ex.mask), TAG)],
            f"the backward ran {len(seen)} times and saw (needs_input_grad, ctx.tag) {seen}; "
            f"expected once with {(tuple(ex.mask), TAG)}",
        )
        check.raises(lambda: y.backward(u), SECOND_TIME, "a second y.backward(u) without retain_graph")
    check.finish(record)


@cell("semantics.function_forward", sem_cases("tree"))
def test_function_forward(case: Case, data, record) -> None:
    """Forward mode through the Function's jvp (dual tensors, torch.func.jvp) gives its rules' tangent."""
    draw = labelled(data)
    ex = draw_masked_tree(draw, record, ops=SECOND_ORDER_TREE_OPS)  # the jvp rule is a second vjp
    style = draw(st.sampled_from(STYLES), "style")
    vs = _tangents(draw, ex)
    text, seen = source(style), []
    fn = make(ex, text, seen)
    names = ex.tree.params
    duals = ", ".join(f"fwAD.make_dual(x{i}, v{i})" if m else f"x{i}" for i, m in enumerate(ex.mask))
    check = Checks(
        "semantics.function_forward",
        uses=[op.name for op in ex.tree.ops],
        repro=repro(ex, text, "import torch.autograd.forward_ad as fwAD",
              *(f"v{i} = torch.tensor({lit(v.numpy())}, dtype=torch.float64)" for i, v in enumerate(vs)),
              "with fwAD.dual_level():",
              f"    print(fwAD.unpack_dual(TreeFunction.apply({duals})).tangent)",
              f"print(jvp_rule(({names},), ({', '.join(f'v{i}' if m else 'None' for i, m in enumerate(ex.mask))},)))  # the rule"),
    )  # fmt: skip
    detached = [torch.tensor(x) for x in ex.inputs]
    masked_vs = [v if m else torch.zeros_like(v) for v, m in zip(vs, ex.mask)]
    want = rules(ex)["jvp_rule"](tuple(detached), tuple(masked_vs))

    def dual_tangent(f: Any) -> torch.Tensor | None:
        with fwAD.dual_level():
            args = [fwAD.make_dual(x, v) if m else x for x, v, m in zip(detached, vs, ex.mask)]
            return fwAD.unpack_dual(f(*args)).tangent

    got = check.quiet(lambda: dual_tangent(fn.apply), "forward mode (dual tensors) through TreeFunction")
    check.same(got, want, "the tangent of TreeFunction.apply (dual tensors)")
    if style == "setup_context":  # torch.func supports only Functions with setup_context
        got = check.quiet(
            lambda: torch.func.jvp(fn.apply, tuple(detached), tuple(masked_vs))[1], "torch.func.jvp(TreeFunction.apply)"
        )
        check.same(got, want, "torch.func.jvp(TreeFunction.apply)")
    without = make(ex, source(style, jvp=False), [])
    check.code("# without the jvp staticmethod, forward mode raises", "del TreeFunction.jvp")
    check.raises(lambda: dual_tangent(without.apply), NO_JVP, "forward mode through a Function without jvp")
    check.finish(record)


def _second(f: Any, xs: list[torch.Tensor], live: list[int], u: torch.Tensor, ws: list[torch.Tensor]) -> list:
    """∇ₓ⟨Jᵀu, w⟩ for the live leaves, by autograd.grad with create_graph."""
    gs = torch.autograd.grad(f(*xs), [xs[i] for i in live], u, create_graph=True, allow_unused=True)
    terms = [(g * ws[i]).sum() for g, i in zip(gs, live) if g is not None and g.requires_grad]
    if not terms:
        return [None] * len(live)
    return list(torch.autograd.grad(sum(terms), [xs[i] for i in live], allow_unused=True))


@cell("semantics.function_double_backward", sem_cases("tree"))
def test_function_double_backward(case: Case, data, record) -> None:
    """The second derivative through the Function's backward is its rules'; @once_differentiable refuses it."""
    draw = labelled(data)
    ex = draw_masked_tree(draw, record, ops=SECOND_ORDER_TREE_OPS)
    style = draw(st.sampled_from(STYLES), "style")
    u = _seed(draw, ex)
    ws = _tangents(draw, ex, "w")
    live = [i for i, m in enumerate(ex.mask) if m]
    text = source(style)
    fn, once = make(ex, text, []), make(ex, source(style, once=True), [])
    names = ", ".join(f"x{i}" for i in live)
    check = Checks(
        "semantics.function_double_backward",
        uses=[op.name for op in ex.tree.ops],
        repro=repro(ex, text, f"u = torch.tensor({lit(u.numpy())}, dtype=torch.float64)",
              *(f"w{i} = torch.tensor({lit(ws[i].numpy())}, dtype=torch.float64)" for i in live),
              f"gs = torch.autograd.grad(TreeFunction.apply({ex.tree.params}), ({names},), u, create_graph=True)",
              f"print(torch.autograd.grad(sum((g * w).sum() for g, w in zip(gs, ({', '.join(f'w{i}' for i in live)},))), ({names},), allow_unused=True))",
              f"gs = torch.autograd.grad(tree({ex.tree.params}), ({names},), u, create_graph=True)  # the rules: the tree itself",
              f"print(torch.autograd.grad(sum((g * w).sum() for g, w in zip(gs, ({', '.join(f'w{i}' for i in live)},))), ({names},), allow_unused=True))"),
    )  # fmt: skip
    want = _second(ex.tree.torch_fn(), ex.leaves(), live, u, ws)  # the backward's rules, differentiated by the engine
    got = check.quiet(lambda: _second(fn.apply, ex.leaves(), live, u, ws), "the second derivative through TreeFunction")
    for i, g, w in zip(live, got or [], want):
        check.same(g, w, f"∇ₓ{i}⟨Jᵀu, w⟩ through TreeFunction")
        check.expect(
            g is None or not g._is_zerotensor(),
            f"∇ₓ{i}⟨Jᵀu, w⟩ through TreeFunction is an efficient zero tensor (unallocated storage: tolist() raises)",
        )
    xs = ex.leaves()
    gs = check.quiet(
        lambda: torch.autograd.grad(once.apply(*xs), [xs[i] for i in live], u, create_graph=True, allow_unused=True),
        "the first derivative through the @once_differentiable TreeFunction",
    )
    first = rules_vjp(ex, xs, u)
    for i, g in zip(live, gs or []):
        check.same(None if g is None else g.detach(), first[i], f"x{i}'s gradient through @once_differentiable")
    differentiable = [(g, i) for g, i in zip(gs or [], live) if g is not None and g.requires_grad]
    if differentiable:
        check.code("# with @once_differentiable on the backward, the second derivative raises")
        check.raises(
            lambda: torch.autograd.grad(sum((g * ws[i]).sum() for g, i in differentiable), [xs[i] for i in live]),
            ONCE,
            "the second derivative through a @once_differentiable backward",
        )
    check.finish(record)


@cell("semantics.function_transforms", sem_cases("tree"))
def test_function_transforms(case: Case, data, record) -> None:
    """jacrev, jacfwd and vmap of the Function (generated or explicit vmap rule) give its rules' answers."""
    draw = labelled(data)
    ex = draw_masked_tree(draw, record, ops=SECOND_ORDER_TREE_OPS)  # jacfwd runs the jvp rule, a second vjp
    rule = draw(st.sampled_from(["generated", "explicit"]), "vmap rule")
    text = source("setup_context", vmap=rule)
    fn = make(ex, text, [])
    tree = ex.tree.torch_fn()
    xs = [torch.tensor(x) for x in ex.inputs]
    batched = [torch.stack([x, x / 2]) for x in xs]
    argnums = tuple(range(len(xs)))
    names = ex.tree.params
    check = Checks(
        "semantics.function_transforms",
        uses=[op.name for op in ex.tree.ops],
        repro=repro(ex, text, f"xs = ({names},)", f"argnums = {argnums}",
              "print(torch.func.jacrev(TreeFunction.apply, argnums)(*xs), torch.func.jacrev(tree, argnums)(*xs))",
              "print(torch.func.jacfwd(TreeFunction.apply, argnums)(*xs))  # J by the jvp rule: jacrev's to rounding",
              "batched = [torch.stack([x, x / 2]) for x in xs]",
              "print(torch.vmap(TreeFunction.apply)(*batched), torch.vmap(tree)(*batched))"),
    )  # fmt: skip
    jacrev = lambda f: torch.func.jacrev(f, argnums)(*xs)  # noqa: E731
    # (what, the transform of a function, the reference's transform of the tree, rtol): jacfwd runs the jvp
    # rule, the transposed vjp (the vjp's formulas multiplied in another order), so it is held to jacrev's
    # answer within the transform tolerance; the others run the same formulas as their reference, exactly.
    for what, transform, reference, rtol in (
        ("jacrev", jacrev, jacrev, 0.0),
        ("jacfwd", lambda f: torch.func.jacfwd(f, argnums)(*xs), jacrev, tol.transform_rtol(ex.tree.ops)),
        ("vmap", lambda f: torch.vmap(f)(*batched), lambda f: torch.vmap(f)(*batched), 0.0),
    ):
        want, limited = vmap_limitation(f"{what}(tree)", lambda r=reference: r(tree))
        if limited is not None:  # a documented vmap limitation of the tree's ops: nothing to compare with
            check.code(f"# {what}: {limited.message[:200]}")
            continue
        # The Function's forward runs under vmap too (the tree's jacrev and jacfwd vmap only its derivative).
        got, limited = check.quiet(
            lambda t=transform: vmap_limitation(f"{what}(TreeFunction.apply)", lambda: t(fn.apply)),
            f"{what}(TreeFunction.apply) with a {rule} vmap rule",
        ) or (None, None)
        if got is None:
            if limited is not None:
                check.code(f"# {what}: {limited.message[:200]}")
            continue
        unclear = rtol and _singular(ex)
        if unclear:  # the jvp rule transposes the vjp's formulas, whose conventions at a kink or pole it does not keep
            check.code(f"# {what}: not compared: {unclear}")
            continue
        for k, (g, w) in enumerate(zip(_flat(got), _flat(want))):
            check.same(g, w, f"{what}(TreeFunction.apply) ({rule} vmap rule), block {k}", rtol=rtol, floor=1.0)
    check.finish(record)


NESTED = {  # a case name -> (the outer transform, the inner one)
    "jacrev_jacrev": ("jacrev", "jacrev"),
    "jacfwd_jacrev": ("jacfwd", "jacrev"),
    "jacrev_jacfwd": ("jacrev", "jacfwd"),
    "jacfwd_jacfwd": ("jacfwd", "jacfwd"),
}


@cell("semantics.function_nested", sem_cases(*NESTED))
def test_function_nested(case: Case, data, record) -> None:
    """The Hessian blocks of the Function by a nested pair of torch.func transforms are the tree's by the same pair."""
    draw = labelled(data)
    outer, inner = NESTED[case.op]
    # the expected blocks are the tree's own by the same pair: a double backward of the tree's ops, and a jacfwd
    # needs them in forward mode too
    ex = draw_masked_tree(draw, record, ops=SECOND_FORWARD_TREE_OPS if "jacfwd" in case.op else SECOND_ORDER_TREE_OPS)
    text = source("setup_context")
    fn = make(ex, text, [])
    tree = ex.tree.torch_fn()
    xs = [torch.tensor(x) for x in ex.inputs]
    argnums = tuple(range(len(xs)))
    call = f"torch.func.{outer}(torch.func.{inner}(f, argnums), argnums)(*xs)"
    check = Checks(
        "semantics.function_nested",
        uses=[op.name for op in ex.tree.ops],
        repro=repro(ex, text, f"xs = ({ex.tree.params},)", f"argnums = {argnums}",
              f"print([{call} for f in (TreeFunction.apply, tree)])  # the Function's, then the tree's"),
    )  # fmt: skip

    def hessian(f: Any) -> Any:
        return getattr(torch.func, outer)(getattr(torch.func, inner)(f, argnums), argnums)(*xs)

    want, limited = vmap_limitation(f"{outer}({inner}(tree))", lambda: hessian(tree))
    got, _ = check.quiet(lambda: vmap_limitation(f"{outer}({inner}(TreeFunction.apply))", lambda: hessian(fn.apply)),
                         call.replace("(f,", "(TreeFunction.apply,")) or (None, None)  # fmt: skip
    # Reverse over reverse differentiates the Function's backward, the tree's own vjp: the same formulas as the
    # tree's, exactly.  A forward transform runs the jvp rule, the transposed vjp (another order of the same
    # products), so it is held within the transform tolerance, and not where that transposition is unclear.
    rtol = 0.0 if "jacfwd" not in (outer, inner) else tol.transform_rtol(ex.tree.ops)
    unclear = rtol and _singular(ex)
    if limited is not None or got is None or unclear:
        check.code(f"# not compared: {limited.message[:200] if limited is not None else unclear or 'raised'}")
    else:
        for k, (g, w) in enumerate(zip(_flat(got), _flat(want))):
            check.same(g, w, f"{outer}({inner}(TreeFunction.apply)), block {k}", rtol=rtol, floor=1.0)
    check.finish(record)


def _singular(ex: MaskedTree) -> str:
    """Why J t by the transposed vjp may differ from the vjp's own Jacobian here: at a pole (the derivative does not
    exist, and 0 * inf is nan), off a domain or within ``EXACT_KINK_MARGIN`` of a kink (torch's one-sided
    conventions there, such as std's 0 at a constant input, are not linear maps to transpose); or ''."""
    zeros = [np.zeros_like(x) for x in ex.inputs]
    point = jax_oracle.evaluate(ex.tree, ex.inputs, zeros).singularities
    outcome = near_singularity(point, "jacrev", tol.EXACT_KINK_MARGIN)
    return outcome.message if outcome else ""


def _flat(t: Any) -> list[torch.Tensor]:
    return [t] if isinstance(t, torch.Tensor) else [x for part in t for x in _flat(part)]


CTX_SOURCE = '''\
class Outputs(torch.autograd.Function):
    """tree, plus an unused differentiable output and a non-differentiable one."""

    @staticmethod
    def forward(ctx, *xs):
        ctx.set_materialize_grads(MATERIALIZE)
        ctx.save_for_backward(*xs)
        y = tree(*xs)
        aux = y.detach().clone()
        ctx.mark_non_differentiable(aux)
        return y, y * 2, aux

    @staticmethod
    def backward(ctx, g, g_unused, g_aux):
        seen.append((g_unused, g_aux))
        return torch.func.vjp(tree, *ctx.saved_tensors)[1](g)


class ScaleInPlace(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z):
        ctx.mark_dirty(z)
        return z.mul_(C)

    @staticmethod
    def backward(ctx, g):
        return g * C


class ExtraGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, *xs):
        ctx.save_for_backward(*xs)
        return tree(*xs)

    @staticmethod
    def backward(ctx, g):
        return (*torch.func.vjp(tree, *ctx.saved_tensors)[1](g), g)


class WrongShape(torch.autograd.Function):
    @staticmethod
    def forward(ctx, *xs):
        ctx.save_for_backward(*xs)
        return tree(*xs)

    @staticmethod
    def backward(ctx, g):
        grads = list(torch.func.vjp(tree, *ctx.saved_tensors)[1](g))
        grads[K] = grads[K].flatten()[1:]
        return tuple(grads)
'''


@cell("semantics.function_ctx", sem_cases("tree"))
def test_function_ctx(case: Case, data, record) -> None:
    """mark_non_differentiable, set_materialize_grads, mark_dirty, and a backward's wrong gradient count or shape."""
    draw = labelled(data)
    ex = draw_masked_tree(draw, record)
    materialize = draw(st.booleans(), "set_materialize_grads")
    c = draw(st.sampled_from((0.5, 2.0, -1.0, 4.0)), "in-place scale")
    u = _seed(draw, ex)
    wide = [i for i, m in enumerate(ex.mask) if m and ex.inputs[i].size >= 2]
    k = draw(st.sampled_from(wide), "the leaf whose gradient has the wrong shape") if wide else 0
    seen: list = []
    scope: dict[str, Any] = {
        "torch": torch,
        "tree": ex.tree.torch_fn(),
        "seen": seen,
        "MATERIALIZE": materialize,
        "C": c,
        "K": k,
    }
    exec(CTX_SOURCE, scope)  # noqa: S102 - the suite's own source, shown in repros
    names = ex.tree.params
    check = Checks(
        "semantics.function_ctx",
        uses=[op.name for op in ex.tree.ops],
        repro=[
            "import torch.nn.functional as F",
            *ex.repro(f"u = torch.tensor({lit(u.numpy())}, dtype=torch.float64)"),
            f"tree = lambda {names}: {ex.tree.source}",
            f"seen, MATERIALIZE, C, K = [], {materialize}, {c}, {k}",
            *CTX_SOURCE.splitlines(),
            f"y, unused, aux = Outputs.apply({names}); print(aux.requires_grad)",
            f"y.backward(u); print(seen, [x.grad for x in ({names},)])",
        ],
    )
    xs = ex.leaves()
    want = rules_vjp(ex, xs, u)
    outs = check.quiet(lambda: scope["Outputs"].apply(*xs), "Outputs.apply")
    if outs is not None:
        y, _, aux = outs
        check.expect(not aux.requires_grad, "an output marked non-differentiable requires grad")
        check.quiet(lambda: y.backward(u), "y.backward(u) through Outputs")
        for i, x in enumerate(xs):
            check.same(x.grad, want[i], f"x{i}.grad through Outputs")
        zeros = torch.zeros_like(y)
        check.expect(len(seen) == 1, f"Outputs' backward ran {len(seen)} times; expected once")
        if seen:
            expected = zeros if materialize else None
            check.same(seen[0][0], expected, f"the unused output's gradient with set_materialize_grads({materialize})")
            check.same(
                seen[0][1],
                expected,
                f"the non-differentiable output's gradient with set_materialize_grads({materialize})",
            )

    check.code(
        "# mark_dirty: an in-place Function on a non-leaf (its gradients: the plain ones with u * C), then on a leaf",
        f"z = tree({names}) * 1; ScaleInPlace.apply(z).backward(u)",
    )
    xs, plain = ex.leaves(), ex.leaves()
    z = ex.forward(xs) * 1  # a non-leaf and not a view
    if z.requires_grad:
        ex.forward(plain).backward(u * c)
        version = z._version
        out = check.quiet(lambda: scope["ScaleInPlace"].apply(z), "ScaleInPlace.apply(z) (z non-leaf)")
        if out is not None:
            check.expect(
                out.data_ptr() == z.data_ptr() and z._version > version, "ScaleInPlace did not modify z in place"
            )
            check.quiet(lambda: out.backward(u), "backward through ScaleInPlace")
            for i, x in enumerate(xs):
                check.same(x.grad, plain[i].grad, f"x{i}.grad after z.mul_({c}) in ScaleInPlace")
    leaf = torch.tensor(ex.inputs[0], requires_grad=True)
    check.raises(lambda: scope["ScaleInPlace"].apply(leaf), LEAF_IN_PLACE, "ScaleInPlace on a leaf that requires grad")

    xs = ex.leaves()
    check.code(f"ExtraGradient.apply({names}).backward(u)  # raises")
    check.raises(
        lambda: scope["ExtraGradient"].apply(*xs).backward(u), COUNT, "a backward returning one gradient too many"
    )
    if wide:
        xs = ex.leaves()
        check.code(f"WrongShape.apply({names}).backward(u)  # raises")
        check.raises(
            lambda: scope["WrongShape"].apply(*xs).backward(u),
            SHAPE,
            f"a backward returning x{k}'s gradient in the wrong shape",
        )
    check.finish(record)
