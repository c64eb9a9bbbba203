# The float16 and bfloat16 gradients of torch.var and torch.std (and var_mean, std_mean, and their dim
# forms) lose accuracy as the values' spread shrinks next to their mean: the backward forms x - mean with
# the mean rounded to the dtype.  Here std([1.25, 1.2334]) in float16: the gradient is exactly
# +-1/sqrt(2) for any two distinct values, and float16 gives [0.6655, -0.7485] (6% off).  Worst relative
# error over random rows of 2-6 values in [-3, 3] (std; var and the others alike): float16 0.2% at a
# spread of 1, 1.5% at 1/8, 20% at 1/128, 100% at 1/256; bfloat16 1.3% at a spread of 2, 11% at 1/8,
# 100% at 1/64.
import torch

x = torch.tensor([1.25, 1.2333984375], dtype=torch.float16, requires_grad=True)
torch.std(x).backward()
x64 = x.detach().double().requires_grad_()
torch.std(x64).backward()
print("float16:", x.grad.tolist(), " float64 at the same inputs:", x64.grad.tolist())
assert not torch.allclose(x.grad.double(), x64.grad, rtol=1e-2)
