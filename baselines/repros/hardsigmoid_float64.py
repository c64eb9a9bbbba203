# torch 2.13.0: F.hardsigmoid's gradient in float64 is 1/6 rounded to float32.
import torch
import torch.nn.functional as F  # noqa: N812 - torch's own convention

x = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
F.hardsigmoid(x).backward()
print(x.grad.item(), "expected", 1 / 6)  # 0.1666666716337204 expected 0.16666666666666666
assert abs(x.grad.item() - 1 / 6) > 1e-9
