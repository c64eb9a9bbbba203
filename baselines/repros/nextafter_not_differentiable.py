# torch 2.9.1: torch.nextafter has no derivative: backward raises "the derivative for 'nextafter' is not
# implemented" and forward mode is not implemented either; torch 2.13.0 differentiates it (1 for x, 0 for
# the direction y: the result is x moved by one ulp).
import torch

x = torch.tensor([0.5, -2.0], dtype=torch.float64, requires_grad=True)
y = torch.tensor([1.0, 1.0], dtype=torch.float64, requires_grad=True)
try:
    gx, gy = torch.autograd.grad(torch.nextafter(x, y).sum(), (x, y))
    print(torch.__version__, gx.tolist(), gy.tolist())  # 2.13.0: [1, 1] [0, 0]
except (NotImplementedError, RuntimeError) as exc:
    print(torch.__version__, "raises:", exc)
    raise
