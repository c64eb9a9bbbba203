# torch 2.13.0 (and 2.9.1): torch.kron raises on a transposed (non-contiguous) input,
# with or without autograd: "view size is not compatible with input tensor's size and stride".
import torch

a = torch.rand(3, 2, dtype=torch.float64).mT.contiguous().mT  # shape (3, 2), transposed strides
b = torch.rand(2, 2, dtype=torch.float64)
print("kron of the contiguous copy works:", tuple(torch.kron(a.contiguous(), b).shape))
try:
    torch.kron(a, b)
except RuntimeError as exc:
    print("kron of the transposed input raised:", exc)
else:
    raise SystemExit("fixed: kron accepts non-contiguous inputs")
