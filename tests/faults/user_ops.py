"""Planted faults in user-written ops, for ``autograd_conformance.check_op`` (tests/test_check_op.py).

Unlike the rest of the catalogue these patch nothing in torch: a user's op is the thing under test,
so each fault is a ``torch.autograd.Function`` written the way a user writes one, with one rule
wrong.  They live in a module (not a test's body) so that a repro's ``from tests.faults.user_ops
import ...`` runs from the repository root.  All compute x³ (derivatives 3x², 6x):

* ``Cube``                        – right: backward, jvp and (through its backward) double backward;
* ``CubeNoJvp``                   – right, without a ``jvp`` (check_op then skips forward mode);
* ``CubeBackwardOff``             – backward 1e-3 relative too large everywhere (``vjp`` catches it);
* ``CubeJvpWrong``                – jvp 2x² v instead of 3x² v (``jvp`` catches it; backward is right);
* ``CubeDoubleBackwardWrong``     – the first derivative right, its derivative 3x instead of 6x: the
                                    backward multiplies by a detached x (``second_order`` catches it);
* ``CubeVmapWrong``               – a hand-written ``vmap`` rule that computes x² for the batch
                                    (``func.vmap`` catches it; unbatched calls are right);
* ``cube_wrong_fake``             – a ``torch.library.custom_op`` whose fake kernel returns the wrong shape:
                                    every derivative is right (``opcheck`` catches it).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

BACKWARD_ERROR = 1e-3  # relative: gradcheck's default rtol is 1e-3 too; the suite's float64 tolerance is ~1e-9


class Cube(torch.autograd.Function):
    generate_vmap_rule = True  # torch.func.vmap derives the batched rule from forward, backward and jvp

    @staticmethod
    def forward(x: torch.Tensor) -> torch.Tensor:
        return x**3

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        ctx.save_for_backward(inputs[0])
        ctx.save_for_forward(inputs[0])

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x

    @staticmethod
    def jvp(ctx, tangent: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return tangent * 3 * x * x


class CubeNoJvp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


class CubeBackwardOff(Cube):
    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x * (1 + BACKWARD_ERROR)


class CubeJvpWrong(Cube):
    @staticmethod
    def jvp(ctx, tangent: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return tangent * 2 * x * x


class CubeDoubleBackwardWrong(Cube):
    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x.detach()  # right value; d/dx of it is 3x, not 6x


class CubeVmapWrong(Cube):
    generate_vmap_rule = False

    @staticmethod
    def vmap(info, in_dims, x: torch.Tensor):
        return x**2, in_dims[0]  # the bug: the batched forward is x², not x³


if hasattr(torch.library, "custom_op"):  # torch 2.4 and later

    @torch.library.custom_op("conformance_faults::cube_wrong_fake", mutates_args=())
    def cube_wrong_fake(x: torch.Tensor) -> torch.Tensor:
        return x**3

    @cube_wrong_fake.register_fake
    def _(x: torch.Tensor) -> torch.Tensor:
        return x.new_empty(x.shape[:-1])  # the bug: the fake (meta) kernel drops the last dimension

    cube_wrong_fake.register_autograd(
        lambda ctx, grad: grad * 3 * ctx.x**2, setup_context=lambda ctx, inputs, output: setattr(ctx, "x", inputs[0])
    )


class UserFault(NamedTuple):
    name: str
    function: type[torch.autograd.Function]
    catches: str  # the property that must name it


FAULTS = (
    UserFault("backward_off_1e-3", CubeBackwardOff, "vjp"),
    UserFault("jvp_wrong", CubeJvpWrong, "jvp"),
    UserFault("double_backward_wrong", CubeDoubleBackwardWrong, "second_order"),
    UserFault("vmap_rule_wrong", CubeVmapWrong, "func.vmap"),
)
