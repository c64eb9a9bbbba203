"""Self-contained repro scripts: paste into Python, run, see the discrepancy."""

from __future__ import annotations

import platform

import numpy as np
import torch

from autograd_conformance import functional_api, third_order
from autograd_conformance.example import Example, layout_code
from autograd_conformance.execution import FUNCTION_SOURCE
from autograd_conformance.jaxsetup import JAX_VERSION
from autograd_conformance.oracles.orchestration import scaled_direction
from autograd_conformance.second_order import COMPOSITIONS, double_backward_lines, repro_lines
from autograd_conformance.torch_runs import uses_dual_tensors
from autograd_conformance.verdict import Outcome


def _lit(a: np.ndarray) -> str:
    return repr(a.tolist())


FORWARD_MODE = ("jvp", "func.jvp", "complex_jvp", "extremes")  # properties whose repro also runs forward mode


def _forward_mode(ex: Example, dt: str, prop: str) -> list[str]:
    """J v by forward mode (the API the property used: see ``torch_runs.torch_jvp``), and both sides
    of the identity ⟨u, J v⟩ = ⟨Jᵀu, v⟩."""
    names = [f"x{i}" for i in range(len(ex.inputs))]
    lines = ["", f"f = lambda {', '.join(names)}: {ex.tree.source}"]
    for i, d in enumerate(scaled_direction(ex)):
        lines.append(f"v{i} = torch.tensor({_lit(d)}, dtype={dt})  # the tangent direction")
    primals = ", ".join(f"{n}.detach()" for n in names)
    tangents = ", ".join(f"v{i}" for i in range(len(names)))
    if prop == "func.jvp" or not uses_dual_tensors(ex):
        lines.append(f"_, jv = torch.func.jvp(f, ({primals},), ({tangents},))")
    else:
        duals = ", ".join(f"fwAD.make_dual({n}.detach(), v{i})" for i, n in enumerate(names))
        lines += [
            "import torch.autograd.forward_ad as fwAD",
            "with fwAD.dual_level():",
            f"    jv = fwAD.unpack_dual(f({duals})).tangent",
        ]
    grad_v = " + ".join(f"(x{i}.grad * v{i}).sum()" for i in range(len(names))) or "0"
    return lines + [
        "print('J v =', jv)",
        "print('<u, J v> =', (u * jv).sum().item(), ' <x.grad, v> =', float(" + grad_v + "))",
    ]


def _gradient_lines(ex: Example, prop: str, dt: str, device: str) -> list[str]:
    """Jᵀu the way the property computed it: ``y.backward(u)`` on the eager path, the scalar loss for
    ``scalar_backward``, ``torch.func`` on the func path, the compiled function on the compile path
    (``torch.compile(torch.func.grad(...))`` for ``compile.grad``), double backward for ``second_order``,
    and every other spelling of the op for ``variant``."""
    n = len(ex.inputs)
    names = ", ".join(f"x{i}" for i in range(n))
    xs = f"({names},)"
    show = [f"print('x{i}.grad =', x{i}.grad)" for i in range(n)]
    source = f"lambda {names}: {ex.tree.source}"
    if prop == "compile.grad":
        argnums = tuple(range(n))
        return [
            f"f = {source}",
            f"grad = torch.compile(torch.func.grad(lambda {names}: (f({names}) * u).sum(), argnums={argnums}))",
            f"print('torch.compile(torch.func.grad) =', grad({', '.join(f'x{i}.detach()' for i in range(n))}))",
        ]
    if prop == "opcheck":  # a torch.library op's registrations (autograd_conformance.check.registrations_hold)
        callee = ex.tree.nodes[0].op.torch.split("(")[0]
        return [f"print(torch.library.opcheck({callee}, {xs}))  # raises at the first registration that is wrong"]
    if prop.startswith("compile.") or ex.path == "compile":
        return [f"f = torch.compile({source})", f"y = f({names})", "y.backward(u)", *show]
    if prop.startswith("func.") or ex.path == "func":
        lines = [
            f"f = {source}",
            f"_, pullback = torch.func.vjp(f, {names})",
            f"{''.join(f'x{i}.grad, ' for i in range(n))}= pullback(u)  # J^T u by torch.func.vjp",
            *show,
        ]
        if prop == "func.vmap":  # the same member as a batch of one, through vmap (autograd_conformance.transforms.vmap_vjp_matches)
            batch = ", ".join([*(f"x{i}.detach().unsqueeze(0)" for i in range(n)), "u.unsqueeze(0)"])
            xs_batched = ", ".join(f"x{i}.detach().unsqueeze(0)" for i in range(n))
            lines += [
                f"batched_value = torch.func.vmap(f)({xs_batched})[0]",
                f"member_vjp = lambda {names}, u: torch.func.vjp(f, {names})[1](u)",
                f"batched_grads = [g[0] for g in torch.func.vmap(member_vjp)({batch})]",
                "print('vmap(f) member 0 =', batched_value, ' f =', f("
                + ", ".join(f"x{i}.detach()" for i in range(n))
                + "))",
                "print('vmap(vjp) member 0 =', batched_grads)",
            ]
        return lines
    if prop == "second_order":
        ws = [
            f"w{i} = torch.tensor({_lit(w)}, dtype={dt}{device})  # the second-order seed"
            for i, w in enumerate(ex.second)
        ]
        return [f"f = {source}", *ws, *double_backward_lines(xs, "(" + ", ".join(f"w{i}" for i in range(n)) + ",)")]
    backward = "(y * u).sum().backward()  # the scalar loss" if prop == "scalar_backward" else "y.backward(u)"
    forward = [f"y = {ex.tree.source}"]
    if prop == "autocast":  # float32 leaves, the forward under autocast (checks.autocast_matches_float64)
        forward = [f"with torch.autocast({ex.device!r}, dtype=torch.bfloat16):", f"    y = {ex.tree.source}"]
    lines = [*forward, backward, *show]
    if prop == "variant":
        (node,) = ex.tree.nodes
        args = [f"x{i}" for i in range(n)]
        for template in node.op.variants:
            code = node.op.spelled(template).code(args, node.call.kwargs)
            lines += [
                f"# the same op spelled {template}:",
                f"grads = torch.autograd.grad({code}, {xs}, u)",
                "print('spelled " + template.replace("'", "") + ": J^T u =', grads)",
            ]
    return lines


def _through_function(ex: Example, body: list[str]) -> list[str]:
    """The ``function`` path: the tree defined once as ``tree``, wrapped in the custom Function
    (``autograd_conformance.execution.FUNCTION_SOURCE``, printed as run), and called in its place."""
    params = ", ".join(f"x{i}" for i in range(len(ex.inputs)))
    call = f"Function.apply({params})"
    return [
        "",
        f"def tree({params}):",
        f"    return {ex.tree.source}",
        "",
        *FUNCTION_SOURCE.splitlines(),
        "",
        *(line.replace(ex.tree.source, call) for line in body),
    ]


def repro_script(
    ex: Example, prop: str, outcome: Outcome, *, expected: list[np.ndarray] | None = None, seed_note: str = ""
) -> str:
    """A script that rebuilds the example's inputs exactly, runs the tree as torch code, and shows the values."""
    # Autocast's example is drawn exact in bfloat16, but its leaves are float32: autocast lowers the ops.
    dt = "torch.float32" if prop == "autocast" else f"torch.{ex.dtype}"
    device = "" if ex.device == "cpu" else f", device={ex.device!r}"
    lines = [
        f"# autograd conformance repro: property {prop!r}, tree {ex.tree.label}, path {ex.path}",
        f"# torch {torch.__version__}, jax {JAX_VERSION}, python {platform.python_version()}, dtype {ex.dtype}, device {ex.device}",
        f"# verdict {outcome.verdict.value.upper()} against {outcome.oracle}: {outcome.message}",
    ]
    if seed_note:
        lines.append(f"# {seed_note}")
    lines += ["import torch", "import torch.nn.functional as F"]
    lines += list(dict.fromkeys(op.setup for op in ex.tree.ops if op.setup))  # user ops' imports, once each
    lines.append("")
    for i, x in enumerate(ex.inputs):
        lines.append(f"x{i} = torch.tensor({_lit(x)}, dtype={dt}{device})")
        code = layout_code(f"x{i}", ex.layout(i), x.ndim)
        if code:
            lines.append(code.rstrip("\n"))
        lines.append(f"x{i}.requires_grad_()")
    lines.append(f"u = torch.tensor({_lit(ex.cotangent)}, dtype={dt}{device})  # the vector seed")
    if prop in COMPOSITIONS:  # a second-order composition replays itself (autograd_conformance.second_order)
        body = repro_lines(ex, prop, _lit)
    elif prop in third_order.PROPERTIES:  # so does a third-order property (autograd_conformance.third_order)
        body = third_order.repro_lines(ex, prop, _lit)
    elif prop in functional_api.PROPERTIES:  # and a torch.autograd.functional call (autograd_conformance.functional_api)
        body = functional_api.repro_lines(ex, prop, _lit, scaled_direction(ex))
    else:
        body = _gradient_lines(ex, prop, dt, device)
        if prop in FORWARD_MODE:
            body += _forward_mode(ex, dt, prop)
    lines += _through_function(ex, body) if ex.path == "function" else body
    if expected is not None and prop not in (*COMPOSITIONS, *third_order.PROPERTIES, *functional_api.PROPERTIES):
        lines.append("# what the oracle expects:")
        for i, e in enumerate(expected):
            lines.append(f"expected{i} = torch.tensor({_lit(e)}, dtype=torch.float64)")
            lines.append(f"print('expected{i} =', expected{i})")
    return "\n".join(lines) + "\n"
