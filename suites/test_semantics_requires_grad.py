"""Semantics: requires_grad propagation through every registry op, and the grad modes.

A result requires grad exactly when some input that requires grad feeds it and grad
mode is on (not no_grad, set_grad_enabled(False) or inference_mode).  Results that
do not require grad are leaves with no grad_fn; integer and bool results and
``detach()`` results never require grad.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import torch
from hypothesis import assume, settings
from hypothesis import strategies as st

from autograd_conformance.case import Case
from autograd_conformance.strategies import labelled
from autograd_conformance.strategies.examples import draw_inputs
from autograd_conformance.strategies.semantics import (
    Checks,
    MaskedTree,
    connected,
    leaves_code,
    live,
    masks,
    reject_where_singular,
)
from autograd_conformance.strategies.trees import draw_op_tree
from suites.cases import cell, op_cases, sem_cases

PER_OP = settings(max_examples=max(3, settings().max_examples // 5))

# The modes a result can be computed under: (name, source, context factory, grad recorded?)
MODES: list[tuple[str, str, Callable[[], Any], bool]] = [
    ("grad mode", "contextlib.nullcontext()", contextlib.nullcontext, True),
    ("no_grad", "torch.no_grad()", lambda: torch.no_grad(), False),
    ("set_grad_enabled(False)", "torch.set_grad_enabled(False)", lambda: torch.set_grad_enabled(False), False),
    ("inference_mode", "torch.inference_mode()", lambda: torch.inference_mode(), False),
    (
        "enable_grad in no_grad",
        "torch.no_grad(), torch.enable_grad()",
        lambda: _nested(torch.no_grad(), torch.enable_grad()),
        True,
    ),
]
INTEGER_VIEWS = {
    "y > 0": lambda y: y > 0,
    "y.to(torch.int64)": lambda y: y.to(torch.int64),
    "y.argmax()": lambda y: y.argmax(),
    "torch.sign(y).to(torch.int32)": lambda y: torch.sign(y).to(torch.int32),
    "y.isfinite()": lambda y: y.isfinite(),
}


@contextlib.contextmanager
def _nested(*cms: Any):
    with contextlib.ExitStack() as stack:
        for cm in cms:
            stack.enter_context(cm)
        yield


@cell("semantics.requires_grad", op_cases("float64"))
@PER_OP
def test_requires_grad(case: Case, data, record) -> None:
    """op(x...) requires grad iff some input requires grad and grad mode is on; else it is a leaf."""
    draw = labelled(data)
    tree = draw_op_tree(draw, case.spec)
    inputs = draw_inputs(draw, tree, "float64")
    mask = masks(draw, len(inputs))
    name, mode_src, mode, recorded = draw(st.sampled_from(MODES), "grad mode")
    integer = draw(st.sampled_from(sorted(INTEGER_VIEWS)), "an integer or bool view of y")
    xs = [torch.tensor(x, requires_grad=m) for x, m in zip(inputs, mask)]
    check = Checks(
        "semantics.requires_grad",
        [
            "import contextlib",
            *leaves_code(inputs, mask),
            f"with {mode_src}:",
            f"    y = {tree.source}",
            "print(y.requires_grad, y.is_leaf, y.grad_fn)",
        ],
    )
    with mode():
        try:
            y = tree.torch_fn()(*xs)
        except RuntimeError as e:
            # torch declares some inputs non-differentiable (F.soft_margin_loss's target): not this property's case
            assume(not (recorded and "not differentiable with respect to argument" in str(e)))
            reject_where_singular(record, MaskedTree(tree, inputs, mask))  # lstsq 'gels' refuses a rank drop
            check.quiet(lambda: tree.torch_fn()(*xs), f"y = {tree.source}")
            y = None
        if y is not None:
            z = INTEGER_VIEWS[integer](y)
            check.expect(not z.requires_grad, f"{integer} requires grad (dtype {z.dtype}) under {name}")
    if y is not None and any(y is x for x in xs):  # documented: .contiguous() of a contiguous tensor returns it
        check.expect(y.requires_grad == mask[[y is x for x in xs].index(True)], "y is an input, but its flag changed")
    elif y is not None:
        want = any(live(tree, mask)) and recorded
        if y.requires_grad and not want and y._is_view() and y.grad_fn is None and y.is_leaf:
            check.convention(
                f"a view made under {name} of an input requiring grad reports requires_grad=True (pytorch#11390); it records no grad_fn"
            )
        else:
            check.expect(
                y.requires_grad == want,
                f"under {name} with inputs requiring grad {mask}: y.requires_grad is {y.requires_grad}, expected {want}",
            )
            check.expect(y.is_leaf == (not want), f"y.is_leaf is {y.is_leaf}, expected {not want}")
        check.expect(
            (y.grad_fn is not None) == want, f"y.grad_fn is {y.grad_fn!r}, expected {'a node' if want else 'None'}"
        )
        d = y.detach()
        check.expect(
            not d.requires_grad and d.is_leaf and d.grad_fn is None, "y.detach() requires grad or is not a leaf"
        )
        check.expect(d.data_ptr() == y.data_ptr(), "y.detach() does not share y's storage")
    full = [torch.tensor(x, requires_grad=True) for x in inputs]  # every example also checks all inputs requiring grad
    y_full = check.quiet(lambda: tree.torch_fn()(*full), f"y = {tree.source} with every input requiring grad")
    if y_full is not None and not any(y_full is x for x in full) and any(connected(tree)):
        check.expect(
            y_full.requires_grad and y_full.grad_fn is not None,
            f"in grad mode with every input requiring grad: y.requires_grad is {y_full.requires_grad}, grad_fn {y_full.grad_fn}",
        )
    check.finish(record)


# -- grad modes, nested, as context managers and as decorators --------------------------------------
# Each mode: (source, factory, effect on (grad_enabled, inference)).  inference_mode(False) is left out:
# inside no_grad it turns grad mode on (see the report), which the docs do not describe.
GRAD_MODES: dict[str, tuple[Callable[[], Any], Callable[[bool, bool], tuple[bool, bool]]]] = {
    "torch.no_grad()": (lambda: torch.no_grad(), lambda g, i: (False, i)),
    "torch.enable_grad()": (lambda: torch.enable_grad(), lambda g, i: (True, i)),
    "torch.set_grad_enabled(False)": (lambda: torch.set_grad_enabled(False), lambda g, i: (False, i)),
    "torch.set_grad_enabled(True)": (lambda: torch.set_grad_enabled(True), lambda g, i: (True, i)),
    "torch.inference_mode()": (lambda: torch.inference_mode(), lambda g, i: (False, True)),
}


def _state() -> tuple[bool, bool]:
    return torch.is_grad_enabled(), torch.is_inference_mode_enabled()


@cell("semantics.grad_modes", sem_cases("nested"))
def test_grad_modes_nested(case: Case, data, record) -> None:
    """Nested grad modes, each a context manager or a decorator, set and restore grad mode as documented."""
    draw = labelled(data)
    depth = draw(st.integers(1, 4), "depth")
    stack = [
        (
            draw(st.sampled_from(sorted(GRAD_MODES)), f"mode {k}"),
            draw(st.sampled_from(["with", "decorator"]), f"form {k}"),
        )
        for k in range(depth)
    ]
    x = torch.tensor([1.5, -2.0], requires_grad=True)
    lines = ["x = torch.tensor([1.5, -2.0], requires_grad=True)"]
    for k, (src, form) in enumerate(stack):
        pad = "    " * k
        lines.append(f"{pad}with {src}:" if form == "with" else f"{pad}@{src}\n{pad}def f{k}():")
    lines.append(
        "    " * depth + "y = x * 2; print(torch.is_grad_enabled(), torch.is_inference_mode_enabled(), y.requires_grad)"
    )
    for k in reversed(range(depth)):
        if stack[k][1] == "decorator":
            lines.append("    " * k + f"f{k}()")
    check = Checks("semantics.grad_modes", lines)
    outer = _state()
    for src, (factory, effect) in GRAD_MODES.items():  # each mode alone, both forms, on every example
        want = effect(*outer)
        with factory():
            inside = (_state(), (x * 2).requires_grad)
        decorated = factory()(lambda: (_state(), (x * 2).requires_grad))()
        for form, got in (("with", inside), ("decorator", decorated)):
            check.expect(
                got == (want, want[0] and not want[1]),
                f"{src} as {form}: (grad, inference), requires_grad = {got}, expected {want}, {want[0] and not want[1]}",
            )
        check.expect(_state() == outer, f"{src} did not restore the grad mode: {_state()}, was {outer}")

    def level(k: int, state: tuple[bool, bool]) -> None:
        if k == depth:
            y = x * 2
            check.expect(
                _state() == state, f"inside {[s for s, _ in stack]}: (grad, inference) is {_state()}, expected {state}"
            )
            want = state[0] and not state[1]
            check.expect(
                y.requires_grad == want,
                f"inside {[s for s, _ in stack]}: x * 2 requires grad is {y.requires_grad}, expected {want}",
            )
            check.expect(
                y.is_inference() == state[1],
                f"inside {[s for s, _ in stack]}: y.is_inference() is {y.is_inference()}, expected {state[1]}",
            )
            return
        src, form = stack[k]
        factory, effect = GRAD_MODES[src]
        inner = effect(*state)
        if form == "with":
            with factory():
                level(k + 1, inner)
        else:
            factory()(lambda: level(k + 1, inner))()
        check.expect(
            _state() == state,
            f"after leaving {src} ({form}) at depth {k}: (grad, inference) is {_state()}, expected {state}",
        )

    level(0, outer)
    check.expect(_state() == outer, f"grad mode not restored: {_state()}, was {outer}")
    check.finish(record)
