# torch 2.13.0 and 2.9.1: d2/dx dy of float_power(x, y) at y = 0 is 0; the true value is 1/x.
# float_power computes pow in float64, and pow's gradient for the base special-cases exponent == 0
# with a where(): the double backward differentiates the constant branch (the same as torch.pow,
# baselines/repros/pow_mixed_second_derivative_at_exponent_0.py).
import torch

x = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
y = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
(gx,) = torch.autograd.grad(torch.float_power(x, y), x, create_graph=True)  # y * x**(y-1) = 0 at y = 0
(gxy,) = torch.autograd.grad(gx, y)  # d/dy [y * x**(y-1)] = x**(y-1) * (1 + y*log(x)) = 1/x at y = 0
print(torch.__version__, "d2/dxdy float_power(1.5, 0) =", gxy.item(), " expected", 1 / 1.5)
assert gxy.item() == 0.0
