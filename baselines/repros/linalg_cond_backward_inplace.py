# torch 2.13.0 (and 2.9.1): the backward of torch.linalg.cond raises for p in 'fro', 1, -1, inf, -inf
# ("one of the variables needed for gradient computation has been modified by an inplace operation:
# ... output 0 of LinalgInvEx"): cond computes norm(A) * norm(inv(A)) and fills the inverse in place
# (masked_fill_ where A is singular) after linalg_inv_ex saved it for backward.  p = None, 2, -2 and 'nuc'
# (through the singular values) differentiate; so does the same formula written out.
import torch

A = torch.tensor([[2.0, 0.5], [0.25, 3.0]], dtype=torch.float64, requires_grad=True)
expected = torch.autograd.grad(
    torch.linalg.matrix_norm(A, "fro") * torch.linalg.matrix_norm(torch.linalg.inv(A), "fro"), A
)[0]
print("norm(A) * norm(inv(A)) written out differentiates:", expected.tolist())
try:
    got = torch.autograd.grad(torch.linalg.cond(A, "fro"), A)[0]
except RuntimeError as exc:
    print("torch.linalg.cond(A, 'fro') backward raised:", str(exc).splitlines()[0])
else:
    print("fixed:", got.tolist())
    raise SystemExit(0 if torch.allclose(got, expected) else "fixed but wrong")
