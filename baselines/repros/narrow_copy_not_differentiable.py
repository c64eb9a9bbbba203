# torch 2.9.1: torch.narrow_copy has no derivative: backward raises "derivative for aten::narrow_copy is
# not implemented" and forward mode "Trying to use forward AD with aten::narrow_copy that does not support
# it", though torch.narrow (the view it copies) is differentiable; torch 2.13.0 differentiates it (the
# gradient of the narrowed sum is 1 on the two kept columns).
import torch

x = torch.arange(6.0, dtype=torch.float64).reshape(2, 3).requires_grad_()
try:
    torch.narrow_copy(x, 1, 1, 2).sum().backward()
    print(torch.__version__, "x.grad =", x.grad.tolist())  # 2.13.0: [[0, 1, 1], [0, 1, 1]]
except RuntimeError as exc:
    print(torch.__version__, "raises:", exc)
    assert "derivative for aten::narrow_copy is not implemented" in str(exc)
