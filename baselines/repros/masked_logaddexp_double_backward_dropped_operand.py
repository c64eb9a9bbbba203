"""torch.masked.logaddexp: the double backward is NaN where one mask drops its operand (torch 2.13.0, 2.9.1).

Where input_mask drops x, masked.logaddexp(x, y) is y there (x is replaced by -inf), so every second
derivative is 0.  torch's logaddexp backward, grad / (1 + exp(other - self)), has the derivative
grad·exp(other - self) / (1 + exp(other - self))² in other, inf/inf = NaN at self = -inf, and that NaN
times the 0 the mask's where gives x reaches y's double-backward gradient.  Plain torch.logaddexp with a
-inf operand does the same.
"""

import torch

x = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
y = torch.tensor([1.5], dtype=torch.float64, requires_grad=True)
out = torch.masked.logaddexp(x, y, input_mask=torch.tensor([False]), other_mask=torch.tensor([True]))
print(out)  # tensor([1.5000]): y
gx, gy = torch.autograd.grad(out.sum(), (x, y), create_graph=True)
print(gx, gy)  # 0 and 1
print(torch.autograd.grad(gx.sum() + gy.sum(), (x, y), allow_unused=True))  # expected (0, 0); y's is nan

a = torch.tensor([-float("inf")], dtype=torch.float64, requires_grad=True)
ga, gy = torch.autograd.grad(torch.logaddexp(a, y).sum(), (a, y), create_graph=True)
print(torch.autograd.grad(ga.sum(), y))  # plain logaddexp: d/dy of d/da at a = -inf: nan (the true value is 0)
