# torch 2.13.0 (and 2.9.1): torch.kron's backward raises on a non-contiguous (transposed) input.
import torch

a = torch.rand(3, 2, dtype=torch.float64).mT.contiguous().mT.detach().requires_grad_()  # a transposed leaf
b = torch.rand(2, 2, dtype=torch.float64, requires_grad=True)
y = torch.kron(a, b)  # the forward works
try:
    y.backward(torch.ones_like(y))
except RuntimeError as exc:
    print("backward raised:", exc)  # view size is not compatible with input tensor's size and stride ...
else:
    raise SystemExit("fixed: kron's backward accepts non-contiguous inputs")
