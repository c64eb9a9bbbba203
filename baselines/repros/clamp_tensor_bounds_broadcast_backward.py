# torch.clamp(x, lo, hi) with tensor bounds whose broadcast shape is larger than x's: the forward gives
# the broadcast result (shape [2, 3, 4] here), but backward raises
# "output with shape [3, 4] doesn't match the broadcast shape [2, 3, 4]": an in-place broadcast into a
# tensor of an input's shape, before the gradient is summed down to it.  Forward mode works; inputs of the
# output's shape work (2.9.1 and 2.13.0).
import torch

x = torch.randn(4, dtype=torch.float64, requires_grad=True)
lo = torch.full((3, 4), -0.5, dtype=torch.float64, requires_grad=True)
hi = torch.full((2, 1, 1), 0.5, dtype=torch.float64, requires_grad=True)
y = torch.clamp(x, lo, hi)
print(torch.__version__, "forward shape", tuple(y.shape))
try:  # forward mode is right
    x0 = torch.tensor(0.25, dtype=torch.float64)
    torch.func.jvp(torch.clamp, (x0, lo, hi), (torch.ones_like(x0), torch.ones_like(lo), torch.ones_like(hi)))
    print("forward mode ok")
except RuntimeError as exc:
    print(torch.__version__, "forward mode raises:", exc)
try:
    torch.autograd.grad(y.sum(), (x, lo, hi))
    print("backward ok")
except RuntimeError as exc:
    print(torch.__version__, "backward raises:", exc)
    raise
