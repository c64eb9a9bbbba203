"""layer_norm's and normalize's float16/bfloat16 gradients on the CPU lose accuracy where the input's
spread is small next to its mean (layer_norm) or its norm is small (normalize).

layer_norm: the forward is right, but native_layer_norm saves the mean in the input's dtype (2.3125 for
2.3135 below), and the backward subtracts it: x - mean is off by 3.5% at a spread of 0.06, and the
cancelling formula amplifies that to a gradient 300% off (the exact one sums to 0; torch's does not).
normalize: the backward's terms are |u| / ||x||, and rounding them in bfloat16 leaves an error that
grows as ||x|| shrinks (worst over random draws: 0.5% of |u| at ||x|| ~ 4, 3% at 0.5, 19% at 0.06).
"""

import torch
import torch.nn.functional as F


def grads(f, x, u, dtype):
    x = torch.tensor(x, dtype=dtype, requires_grad=True)
    f(x).backward(torch.tensor(u, dtype=dtype))
    return x.grad.double()


layer_norm = lambda x: F.layer_norm(x, x.shape[-1:])  # noqa: E731
x, u = [2.28515625, 2.341796875], [0.60839844, -0.54003906]  # exact in float16
for dtype in (torch.float16, torch.bfloat16, torch.float64):
    print("layer_norm", dtype, grads(layer_norm, x, u, dtype).tolist())  # float64: [0.248, -0.248]
print("saved mean in float16:", torch.native_layer_norm(torch.tensor(x, dtype=torch.float16), (2,), None, None, 1e-5)[1])

normalize = lambda x: F.normalize(x, dim=0)  # noqa: E731
for dtype in (torch.bfloat16, torch.float64):
    print("normalize", dtype, grads(normalize, [0.171875], [0.2734375], dtype).tolist())  # exact: 0; bfloat16: 1 ulp of u/|x|
