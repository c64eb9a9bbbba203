# torch 2.9.1 and 2.13.0: sinc's float32 gradient cancels to 0 near x = 0.  The true
# derivative is -pi^2 x / 3 + O(x^3), -3.6e-5 at x = 1.1e-5; float64 agrees with that there.
import math

import torch

x = torch.tensor(1.1e-5, dtype=torch.float32, requires_grad=True)
torch.sinc(x).backward()
expected = -(math.pi**2) * 1.1e-5 / 3
print(x.grad.item(), "expected", expected)  # 0.0 expected -3.6189e-05
assert abs(x.grad.item() - expected) > 0.5 * abs(expected)
