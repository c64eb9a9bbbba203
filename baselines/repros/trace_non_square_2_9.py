# torch 2.9.1: the gradient of torch.trace on a non-square matrix lands on the wrong elements.
# trace of a 3×1 matrix is x[0, 0], so the gradient is 1 at (0, 0) and 0 elsewhere.
# Fixed by torch 2.13.0 (the same script passes there).
import torch

x = torch.zeros(3, 1, dtype=torch.float64, requires_grad=True)
torch.trace(x).backward()
expected = torch.tensor([[1.0], [0.0], [0.0]], dtype=torch.float64)
print(torch.__version__, "grad =", x.grad.flatten().tolist(), "expected", expected.flatten().tolist())
if not torch.equal(x.grad, expected):
    raise SystemExit("wrong gradient for trace of a non-square matrix")
