# torch.sinc's gradient in float16 and bfloat16 cancels near x = 0, as in float32 and float64 but over a
# much wider region: (cos(pi x) pi x - sin(pi x)) / (pi x^2) is computed in the dtype, and the two terms
# agree to most of its few bits.  Relative error (gradient against float64's at the same input), swept over
# the dtype's values in (0, 1): float16 2.1 at x = 0.0078, 5% at 0.05, 1.5% at 0.1, 0.3% at 0.25, at most
# 0.19% from 0.4; bfloat16 4.5 at 0.02, 16% at 0.1, 2.9% at 0.25, at most 1.2% from 0.5.
import torch

for dtype in (torch.float16, torch.bfloat16):
    for value in (0.0078125, 0.0625, 0.25, 0.5):
        x = torch.tensor(value, dtype=dtype, requires_grad=True)
        torch.sinc(x).backward()
        x64 = x.detach().double().requires_grad_()
        torch.sinc(x64).backward()
        rel = abs(x.grad.double() - x64.grad) / abs(x64.grad)
        print(f"{dtype} x = {value}: gradient {x.grad.item():.6g}, float64 {x64.grad.item():.6g}, relative error {rel.item():.2g}")
