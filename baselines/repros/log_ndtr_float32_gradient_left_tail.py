# torch 2.13.0: torch.special.log_ndtr's float32 gradient loses precision in the far left tail, where
# the derivative phi(y) / Phi(y) is about -y: relative error 2e-8 at y = -10, 5e-6 at -20, 2e-5 at
# -40, 1.7e-4 at -64.6 and 2e-4 at -100 (3400 float32 ulps), against the float64 gradient at the same
# float32 input.  A tree reaches it where digamma near 0 feeds log_ndtr (log_ndtr(digamma(x)) at
# x = 0.015625, digamma = -64.55: found by the autocast tree cell).
import torch

for y in (-10.0, -20.0, -40.0, -64.58, -100.0):
    grads = []
    for dtype in (torch.float32, torch.float64):
        t = torch.tensor(y, dtype=dtype, requires_grad=True)
        torch.special.log_ndtr(t).backward()
        grads.append(t.grad.item())
    print(f"y = {y}: float32 {grads[0]!r}, float64 {grads[1]!r}, relative {abs(grads[0] - grads[1]) / abs(grads[1]):.1e}")
