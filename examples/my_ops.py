"""A user's ops module: what the examples check (``check_my_ops.py``, ``test_my_ops.py``).

* ``LogCosh``         – log(cosh(x)) as a custom Function, right: backward and jvp tanh(x);
* ``LogCoshFastPath`` – the same with a "fast path" that takes tanh(x) as ±1 where |x| > 2: off by up to
                        1 - tanh(2) ≈ 0.036 there, right everywhere else;
* ``softplus``        – a ``torch.library.custom_op`` with ``register_autograd``.
"""

from __future__ import annotations

import torch

SATURATED = 2.0  # where LogCoshFastPath's backward stops computing tanh


class LogCosh(torch.autograd.Function):
    @staticmethod
    def forward(x: torch.Tensor) -> torch.Tensor:
        return torch.log(torch.cosh(x))

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        ctx.save_for_backward(inputs[0])
        ctx.save_for_forward(inputs[0])

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad * torch.tanh(x)

    @staticmethod
    def jvp(ctx, tangent: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return tangent * torch.tanh(x)


class LogCoshFastPath(LogCosh):
    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        slope = torch.where(x.abs() > SATURATED, torch.sign(x), torch.tanh(x))  # the bug: tanh(2) is 0.964, not 1
        return grad * slope


@torch.library.custom_op("examples::softplus", mutates_args=())
def softplus(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.softplus(x)


@softplus.register_fake
def _(x: torch.Tensor) -> torch.Tensor:
    return torch.empty_like(x)


def _setup_context(ctx, inputs, output) -> None:
    ctx.save_for_backward(inputs[0])


def _backward(ctx, grad: torch.Tensor) -> torch.Tensor:
    (x,) = ctx.saved_tensors
    return grad * torch.sigmoid(x)


softplus.register_autograd(_backward, setup_context=_setup_context)
