"""as_strided of a view whose window reaches storage outside the view: reverse mode drops those elements.

torch.as_strided's docs allow a window anywhere in the input's storage.  Here the input is a slice of a
fresh copy of x, and the window starts two elements before the slice, so y = [x[2], x[3]].  Forward mode
gets J v right; reverse mode (backward, autograd.grad, jacobian) gives x[2] no gradient at all, silently,
so <u, J v> != <J^T u, v>.  (as_strided_backward scatters into the input's geometry only; its own comment
reads "TODO: Raise if not all output values are visible in input geometry".)  Same on 2.9.1 and 2.13.0.
"""

import torch

x = torch.arange(8.0, dtype=torch.float64, requires_grad=True)


def f(x):
    base = x.clone(memory_format=torch.contiguous_format)
    return torch.as_strided(base.view(-1)[3:7], (2,), (1,), 2)  # storage elements 2 and 3 of base


y = f(x)
print("y =", y.tolist())  # [2.0, 3.0]: x[2] and x[3]
(grad,) = torch.autograd.grad(y, x, torch.ones(2, dtype=torch.float64))
print("reverse mode, d(sum y)/dx =", grad.tolist())  # x[2]'s entry is 0.0
_, jv = torch.func.jvp(f, (x.detach(),), (torch.ones(8, dtype=torch.float64),))
print("forward mode, J·1 =", jv.tolist())  # [1.0, 1.0]: forward mode sees x[2]
expected = torch.zeros(8, dtype=torch.float64)
expected[2] = expected[3] = 1.0
assert torch.equal(grad, expected), f"reverse mode drops x[2]: {grad.tolist()} != {expected.tolist()}"
