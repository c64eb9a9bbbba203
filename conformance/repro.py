"""Self-contained repro scripts: paste into Python, run, see the discrepancy."""

from __future__ import annotations

import platform

import numpy as np
import torch

from conformance.example import Example, layout_code
from conformance.jaxsetup import JAX_VERSION
from conformance.oracles.orchestration import scaled_direction
from conformance.second_order import COMPOSITIONS, repro_lines
from conformance.torch_runs import uses_dual_tensors
from conformance.verdict import Outcome


def _lit(a: np.ndarray) -> str:
    return repr(a.tolist())


FORWARD_MODE = ("jvp", "func.jvp")  # properties whose repro also runs forward mode


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


def repro_script(
    ex: Example, prop: str, outcome: Outcome, *, expected: list[np.ndarray] | None = None, seed_note: str = ""
) -> str:
    """A script that rebuilds the example's inputs exactly, runs the tree as torch code, and shows the values."""
    dt = f"torch.{ex.dtype}"
    lines = [
        f"# autograd conformance repro: property {prop!r}, tree {ex.tree.label}",
        f"# torch {torch.__version__}, jax {JAX_VERSION}, python {platform.python_version()}, dtype {ex.dtype}, device {ex.device}",
        f"# verdict {outcome.verdict.value.upper()} against {outcome.oracle}: {outcome.message}",
    ]
    if seed_note:
        lines.append(f"# {seed_note}")
    lines += ["import torch", "import torch.nn.functional as F", ""]
    for i, x in enumerate(ex.inputs):
        lines.append(f"x{i} = torch.tensor({_lit(x)}, dtype={dt})")
        code = layout_code(f"x{i}", ex.layout(i), x.ndim)
        if code:
            lines.append(code.rstrip("\n"))
        lines.append(f"x{i}.requires_grad_()")
    lines.append(f"u = torch.tensor({_lit(ex.cotangent)}, dtype={dt})  # the vector seed")
    if prop in COMPOSITIONS:  # a second-order composition replays itself (conformance.second_order)
        return "\n".join(lines + repro_lines(ex, prop, _lit)) + "\n"
    lines.append(f"y = {ex.tree.source}")
    lines.append("y.backward(u)")
    for i in range(len(ex.inputs)):
        lines.append(f"print('x{i}.grad =', x{i}.grad)")
    if prop in FORWARD_MODE:
        lines += _forward_mode(ex, dt, prop)
    if expected is not None:
        lines.append("# what the oracle expects:")
        for i, e in enumerate(expected):
            lines.append(f"expected{i} = torch.tensor({_lit(e)}, dtype=torch.float64)")
            lines.append(f"print('expected{i} =', expected{i})")
    return "\n".join(lines) + "\n"
