# torch 2.13.0 (and 2.9.1): the forward-mode derivative of torch.triangular_solve uses the tangent of the
# triangle of A that the solve never reads.  triangular_solve(b, A, upper=False) reads only A's lower
# triangle, so moving A's upper triangle changes nothing (central differences: 0), but J v is not 0.
# Reverse mode is right (its gradient of the upper triangle is 0), and so is torch.linalg.solve_triangular
# in both modes.
import torch

A = torch.tensor([[2.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
b = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
V = torch.tensor([[0.0, 1.0], [0.0, 0.0]], dtype=torch.float64)  # moves only the (ignored) upper triangle


def old(a):
    return torch.triangular_solve(b, a, upper=False).solution


def new(a):
    return torch.linalg.solve_triangular(a, b, upper=False)


h = 1e-6
print("central differences:          ", ((old(A + h * V) - old(A - h * V)) / (2 * h)).flatten().tolist())
print("linalg.solve_triangular, J v: ", torch.func.jvp(new, (A,), (V,))[1].flatten().tolist())
jv = torch.func.jvp(old, (A,), (V,))[1]
print("triangular_solve, J v:        ", jv.flatten().tolist())
a = A.clone().requires_grad_()
print("triangular_solve, reverse-mode gradient of A:", torch.autograd.grad(old(a), a, torch.ones(2, 1, dtype=torch.float64))[0].tolist())
if torch.allclose(jv, torch.zeros_like(jv)):
    raise SystemExit("fixed: J v along the ignored triangle is 0")
