# torch 2.13.0 (and 2.9.1): the second derivative of torch.sinc at 0 is nan; the true value is -pi**2/3.
import math

import torch

x = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
(g,) = torch.autograd.grad(torch.sinc(x), x, create_graph=True)
(h,) = torch.autograd.grad(g, x)
print("d/dx sinc(0) =", g.item(), " d2/dx2 sinc(0) =", h.item(), " expected", -math.pi**2 / 3)
assert math.isnan(h.item())

# Near 0 the second derivative cancels: sinc''(x) = -pi^2/3 + pi^4 x^2 / 10 + O(x^4).
for x0 in (1e-4, 1e-5, 1e-6):
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(torch.sinc(x), x, create_graph=True)
    (h,) = torch.autograd.grad(g, x)
    expected = -(math.pi**2) / 3 + math.pi**4 * x0**2 / 10
    print(f"x = {x0:g}: d2/dx2 {h.item()!r}, expected {expected!r}, relative error {abs(h.item() - expected) / abs(expected):.2g}")
