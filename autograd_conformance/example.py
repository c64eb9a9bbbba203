"""One checked example: a tree, its input values, the seeds, and how torch sees them.

Inputs are stored as float64 NumPy arrays whose values are exactly representable
in the example's dtype, so the float64 oracles see the very numbers torch saw.
An example is immutable once drawn (``dataclasses.replace`` makes a changed copy); only
its ``memo`` of answers the checks share fills in as they run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from autograd_conformance.memo import CheckMemo
from autograd_conformance.run_options import RunOptions
from autograd_conformance.tree import Tree

DTYPES = {"float64": torch.float64, "float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
LOW_PRECISION = ("bfloat16", "float16")  # checked against the float64 oracle with calibrated tolerances
LAYOUTS = ("contiguous", "transposed", "sliced", "expanded")


@dataclass(frozen=True)
class Example:
    tree: Tree
    inputs: list[np.ndarray]
    dtype: str = "float64"
    cotangent: np.ndarray = field(default_factory=lambda: np.ones(()))  # u: the vector seed of y.backward(u)
    direction: list[np.ndarray] = field(default_factory=list)  # v: the tangent / finite-difference direction
    second: list[np.ndarray] = field(default_factory=list)  # w: second-order seed
    third: list[np.ndarray] = field(default_factory=list)  # t: third-order seed
    layouts: tuple[str, ...] = ()  # per leaf, one of LAYOUTS
    options: RunOptions = RunOptions()  # the device and execution path torch runs on
    memo: CheckMemo = field(default_factory=CheckMemo, repr=False, compare=False)  # answers the checks share

    @property
    def device(self) -> str:
        return self.options.device

    @property
    def path(self) -> str:
        return self.options.path

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]

    def layout(self, i: int) -> str:
        return self.layouts[i] if i < len(self.layouts) else "contiguous"

    def leaves(
        self, *, dtype: str | None = None, layouts: bool = True, requires_grad: bool = True
    ) -> list[torch.Tensor]:
        """Fresh leaf tensors holding the inputs, in their layouts, on the example's device."""
        dt = DTYPES[dtype or self.dtype]
        return [
            make_leaf(x, dt, self.layout(i) if layouts else "contiguous", self.device, requires_grad)
            for i, x in enumerate(self.inputs)
        ]

    def tensor(self, a: np.ndarray, *, dtype: str | None = None) -> torch.Tensor:
        return torch.tensor(a, dtype=DTYPES[dtype or self.dtype], device=self.device)


def make_leaf(values: np.ndarray, dtype: torch.dtype, layout: str, device: str, requires_grad: bool) -> torch.Tensor:
    """A leaf tensor with the given values and strides (see ``layout_code`` for the same as source)."""
    t = torch.tensor(values, dtype=dtype, device=device)
    if layout == "transposed" and t.dim() >= 2:
        t = t.mT.contiguous().mT
    elif layout == "sliced" and t.dim() >= 1:
        wide = torch.zeros((t.shape[0] * 2, *t.shape[1:]), dtype=dtype, device=device)
        wide[::2] = t
        t = wide[::2]
    elif layout == "expanded" and t.dim() >= 1 and t.shape[0] > 1 and bool((t == t[:1]).all()):
        t = t[:1].expand(t.shape)
    return t.detach().requires_grad_(requires_grad)


def layout_code(name: str, layout: str, ndim: int) -> str:
    """Source that gives ``name`` the layout ``make_leaf`` gives it."""
    if layout == "transposed" and ndim >= 2:
        return f"{name} = {name}.mT.contiguous().mT  # transposed strides\n"
    if layout == "sliced" and ndim >= 1:
        return (
            f"wide = torch.zeros(({name}.shape[0] * 2, *{name}.shape[1:]), dtype={name}.dtype); wide[::2] = {name}\n"
            f"{name} = wide[::2]  # step-sliced, non-contiguous\n"
        )
    if layout == "expanded" and ndim >= 1:
        return f"{name} = {name}[:1].expand({name}.shape)  # expanded (stride 0)\n"
    return ""


def to_numpy(t: torch.Tensor | None, shape: tuple[int, ...]) -> np.ndarray:
    if t is None or t._is_zerotensor():  # autograd may hand back a lazy ZeroTensor (abs's double backward)
        return np.zeros(shape)
    return t.detach().to("cpu", torch.float64).numpy()
