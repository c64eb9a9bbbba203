# torch 2.9.1 on the CPU has no bfloat16 or float16 kernel for trace's forward, and none in float16 for
# smooth_l1_loss's backward: NotImplementedError ("trace" not implemented for 'BFloat16' / 'Half',
# "smooth_l1_backward_cpu_out" not implemented for 'Half').  torch 2.13.0 has them.  A missing feature
# of the older version, not a wrong gradient.
import torch
import torch.nn.functional as F

print(torch.__version__)
for dtype in (torch.bfloat16, torch.float16):
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=dtype, requires_grad=True)
    try:
        torch.trace(x).backward()
        print(dtype, "trace: gradient", x.grad.tolist())
    except NotImplementedError as exc:
        print(dtype, "trace raises:", exc)
x = torch.tensor([0.5, 2.0], dtype=torch.float16, requires_grad=True)
try:
    F.smooth_l1_loss(x, torch.zeros_like(x)).backward()
    print("float16 smooth_l1_loss: gradient", x.grad.tolist())
except NotImplementedError as exc:
    print("float16 smooth_l1_loss raises:", exc)
