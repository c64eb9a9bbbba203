"""Where and how torch runs a tree: the device and the execution path.

* ``eager``   – the tree's code, run as written.
* ``compile`` – ``torch.compile`` of the tree's code (Inductor), compiled once per
  tree structure and shapes and reused across inputs.
* ``func``    – gradients through ``torch.func`` (``vjp``) instead of ``.backward()``.
* ``function`` – the tree wrapped in a custom ``torch.autograd.Function`` whose backward and jvp
  are torch's own derivatives of the tree (``torch.func.vjp`` and ``torch.func.jvp``): the same
  function, so every property must hold unchanged, through the machinery users extend autograd with.

The oracles never move: JAX and finite differences stay on the CPU in float64.
Which device and path a run uses is its ``RunOptions`` (``autograd_conformance.run_options``),
which every example carries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from autograd_conformance.tree import Tree

DEVICE_TYPES = ("cpu", "cuda")  # where the suite runs torch; the oracles always stay on the CPU


def check_device(device: str) -> str | None:
    """Raise ValueError for a device string the suite cannot mean (a typo, a device type it does not
    support, a CUDA index this machine does not have); return why a valid CUDA device cannot run
    here (no CUDA), or None when it can.

    A typo must never look like a torch bug: every cell an ERROR in a new report column.
    """
    usage = "the suite runs torch on cpu, cuda or cuda:N (lower case)"
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError):
        raise ValueError(f"--device {device!r} is not a torch device; {usage}") from None
    if parsed.type not in DEVICE_TYPES or str(parsed) != device:
        raise ValueError(f"--device {device!r} is a device the suite does not run on; {usage}")
    if parsed.type == "cpu":
        if parsed.index not in (None, 0):
            raise ValueError(f"--device {device!r}: there is one CPU device; use cpu")
        return None
    if not torch.cuda.is_available():
        return "not run: no CUDA device"
    count = torch.cuda.device_count()
    if parsed.index is not None and parsed.index >= count:
        raise ValueError(f"--device {device!r}: this machine has {count} CUDA device(s), cuda:0..cuda:{count - 1}")
    return None


def tf32_setting() -> dict[str, Any]:
    """TF32 changes float32 matmul results on NVIDIA GPUs: the report shows the setting."""
    return {
        "cuda_matmul_allow_tf32": bool(torch.backends.cuda.matmul.allow_tf32),
        "cudnn_allow_tf32": bool(torch.backends.cudnn.allow_tf32),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
    }


# float32 CUDA gradients against the float64 CPU oracle, measured on an H100 with torch 2.11
# (issue 8): 1e-7..2.4e-5 relative with TF32 off, inside the float32 tolerance
# (autograd_conformance.tolerances.FLOAT32_RTOL_PER_OP = 4e-5 per op); a float32 matmul gradient with TF32
# allowed is off by about 1.7e-4.  TF32 keeps 10 mantissa bits: one rounding is 2**-11 ≈ 4.9e-4
# relative, so a TF32 matmul is held to 2**-11 per op of the tree, not to the float32 tolerance.
TF32_RTOL_PER_OP = 2.0**-11
TF32_OPS = ("linalg",)  # registry families whose float32 kernels TF32 changes (matmul, mm, bmm, ...)


def tf32_active(device: str) -> bool:
    """Whether float32 matmuls on ``device`` may run in TF32 (the report's run record shows why)."""
    if not device.startswith("cuda"):
        return False
    s = tf32_setting()
    return s["cuda_matmul_allow_tf32"] or s["float32_matmul_precision"] != "highest"


def tf32_applies(device: str, dtype: str, families: list[str]) -> bool:
    """A float32 tree with a matmul-like op on CUDA with TF32 on: TF32 rounding is expected."""
    return dtype == "float32" and tf32_active(device) and any(f in TF32_OPS for f in families)


# The custom Function of the ``function`` path, as source: the repro scripts print this very text.
FUNCTION_SOURCE = """\
class Function(torch.autograd.Function):
    \"\"\"tree as a custom autograd.Function whose rules are torch's own derivatives of tree.\"\"\"

    generate_vmap_rule = True

    @staticmethod
    def forward(*xs):
        return tree(*xs)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)
        ctx.save_for_forward(*inputs)

    @staticmethod
    def backward(ctx, grad):
        return torch.func.vjp(tree, *ctx.saved_tensors)[1](grad)

    @staticmethod
    def jvp(ctx, *tangents):
        return torch.func.jvp(tree, tuple(ctx.saved_tensors), tangents)[1]
"""


# The wrapper's rules call torch.func, whose forward levels do not nest inside dual tensors: torch
# raises "Nested forward mode AD is not supported".  That is the wrapper's limit, not a finding.
FUNCTION_PATH_UNSUPPORTED = ("second_fwd_rev", "second_rev_fwd")


def as_function(f: Callable[..., Any]) -> Callable[..., Any]:
    """``f`` wrapped in the custom Function of ``FUNCTION_SOURCE`` (its ``apply``)."""
    scope: dict[str, Any] = {"torch": torch, "tree": f}
    exec(FUNCTION_SOURCE, scope)  # noqa: S102 - the suite's own source, shown in repros
    return scope["Function"].apply


_COMPILED: dict[str, Callable[..., Any]] = {}
_FUNCTIONS: dict[str, Callable[..., Any]] = {}


def torch_callable(tree: Tree, path: str) -> Callable[..., Any]:
    """The tree as torch runs it on ``path``."""
    fn = tree.torch_fn()
    if path == "function":
        wrapped = _FUNCTIONS.get(tree.key)
        if wrapped is None:
            wrapped = _FUNCTIONS[tree.key] = as_function(fn)
        return wrapped
    if path != "compile":
        return fn
    compiled = _COMPILED.get(tree.key)
    if compiled is None:
        compiled = _COMPILED[tree.key] = torch.compile(fn, dynamic=False, fullgraph=False)
    return compiled
