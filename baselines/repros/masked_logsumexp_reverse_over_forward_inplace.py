"""Reverse over forward through torch.masked.logsumexp raises, as through logsumexp and masked.softmax
(2.9.1 and 2.13.0, every shape and mask tried): "one of the variables needed for gradient computation has
been modified by an inplace operation ... output 0 of Exp".  Double backward is fine.  Found by the
fifteenth session's soak in the tree masked_logsumexp(x0)."""

import torch
import torch.autograd.forward_ad as fwAD

x0 = torch.tensor([[0.0, 0.0]], dtype=torch.float64, requires_grad=True)
mask = torch.tensor([[True, True]])


def f(x):
    return torch.masked.logsumexp(x, 0, keepdim=False, mask=mask)


g = torch.autograd.grad(f(x0).sum(), (x0,), create_graph=True)[0]
print("double backward:", torch.autograd.grad(g.sum(), (x0,)))
with fwAD.dual_level():
    jv = fwAD.unpack_dual(f(fwAD.make_dual(x0, torch.ones_like(x0)))).tangent
    print(torch.autograd.grad(jv.sum(), (x0,)))  # raises RuntimeError
