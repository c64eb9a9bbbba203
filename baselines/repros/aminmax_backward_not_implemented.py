# torch 2.3.1, 2.6.0 and 2.9.1: torch.aminmax has no derivative: backward raises "derivative for
# aten::aminmax is not implemented" and forward mode "Trying to use forward AD with aten::aminmax
# that does not support it", and its grad_fn is a torch::autograd::NotImplemented node; torch 2.13.0 differentiates it (the gradient of min + 2 max here is
# [1, 2] at the smallest and largest elements).
import torch

x = torch.tensor([3.0, 1.0, 2.0], dtype=torch.float64, requires_grad=True)
result = torch.aminmax(x, dim=0)
try:
    (result.min + 2 * result.max).backward()
    print(torch.__version__, "x.grad =", x.grad.tolist())  # 2.13.0: [2.0, 1.0, 0.0]
except RuntimeError as exc:
    print(torch.__version__, "raises:", exc)
    assert "derivative for aten::aminmax is not implemented" in str(exc)
