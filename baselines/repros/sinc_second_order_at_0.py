# torch 2.13.0 (and 2.9.1): the second derivative of torch.sinc at 0 is nan; the true value is -pi**2/3.
import math

import torch

x = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
(g,) = torch.autograd.grad(torch.sinc(x), x, create_graph=True)
(h,) = torch.autograd.grad(g, x)
print("d/dx sinc(0) =", g.item(), " d2/dx2 sinc(0) =", h.item(), " expected", -math.pi**2 / 3)
assert math.isnan(h.item())
