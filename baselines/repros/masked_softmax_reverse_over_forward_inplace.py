"""Reverse over forward through torch.masked.softmax raises, as through softmax (2.9.1 and 2.13.0):
"one of the variables needed for gradient computation has been modified by an inplace operation ...
output 0 of Exp".  Double backward is fine."""

import torch
import torch.autograd.forward_ad as fwAD

x0 = torch.tensor([[0.3, -0.2, 0.5]], dtype=torch.float64, requires_grad=True)
mask = torch.tensor([[True, True, True]])


def f(x):
    return torch.masked.softmax(x, 0, mask=mask)


v = torch.ones_like(x0)
with fwAD.dual_level():
    jv = fwAD.unpack_dual(f(fwAD.make_dual(x0, v))).tangent
    print(torch.autograd.grad(jv.sum(), (x0,)))  # raises RuntimeError
