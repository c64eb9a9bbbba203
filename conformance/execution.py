"""Where and how torch runs a tree: the device and the execution path.

* ``eager``   – the tree's code, run as written.
* ``compile`` – ``torch.compile`` of the tree's code (Inductor), compiled once per
  tree structure and shapes and reused across inputs.
* ``func``    – gradients through ``torch.func`` (``vjp``) instead of ``.backward()``.

The oracles never move: JAX and finite differences stay on the CPU in float64.
pytest's ``--device`` and ``--exec-path`` options set the defaults for the run
(see conftest.py); examples carry their own copy.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from conformance.tree import Tree

PATHS = ("eager", "compile", "func")

_current = {"device": "cpu", "path": "eager"}


def configure(*, device: str = "cpu", path: str = "eager") -> None:
    if path not in PATHS:
        raise ValueError(f"unknown execution path {path!r}; choose one of {', '.join(PATHS)}")
    _current.update(device=device, path=path)


def current() -> tuple[str, str]:
    return _current["device"], _current["path"]


def cuda_unavailable_reason(device: str) -> str | None:
    """Why a CUDA run cannot happen here, or None when it can."""
    if not device.startswith("cuda"):
        return None
    if not torch.cuda.is_available():
        return "not run: no CUDA device"
    return None


def tf32_setting() -> dict[str, Any]:
    """TF32 changes float32 matmul results on NVIDIA GPUs: the report shows the setting."""
    return {
        "cuda_matmul_allow_tf32": bool(torch.backends.cuda.matmul.allow_tf32),
        "cudnn_allow_tf32": bool(torch.backends.cudnn.allow_tf32),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
    }


_COMPILED: dict[str, Callable[..., Any]] = {}


def torch_callable(tree: Tree, path: str) -> Callable[..., Any]:
    """The tree as torch runs it on ``path``."""
    fn = tree.torch_fn()
    if path != "compile":
        return fn
    compiled = _COMPILED.get(tree.key)
    if compiled is None:
        compiled = _COMPILED[tree.key] = torch.compile(fn, dynamic=False, fullgraph=False)
    return compiled
