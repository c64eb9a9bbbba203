# torch.linalg.solve: the second derivative through its forward-mode derivative is wrong. Forward over
# forward and reverse over forward disagree with central differences of torch's own jvp and with double
# backward at random well-conditioned matrices (at A = [[1.0]] forward over forward gives half the true value and reverse over forward 0).
import torch
import torch.autograd.forward_ad as fwAD

torch.manual_seed(0)
A = torch.randn(3, 3, dtype=torch.float64) + 3 * torch.eye(3, dtype=torch.float64)
b = torch.randn(3, dtype=torch.float64)
V, W, u = torch.randn(3, 3, dtype=torch.float64), torch.randn(3, 3, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
f = lambda a: torch.linalg.solve(a, b)  # noqa: E731
jvp = lambda a: torch.func.jvp(f, (a,), (V,))[1]  # noqa: E731
print("forward over forward d2f[V, W] =", torch.func.jvp(jvp, (A,), (W,))[1])
print("central differences of jvp     =", (jvp(A + 1e-6 * W) - jvp(A - 1e-6 * W)) / 2e-6)
x = A.clone().requires_grad_()
with fwAD.dual_level():
    jv = fwAD.unpack_dual(f(fwAD.make_dual(x, V))).tangent
    rev_fwd = torch.autograd.grad((jv * u).sum(), x)[0]
print("reverse over forward (u^T d2f)[V, .] row 0 =", rev_fwd[0])
g, = torch.autograd.grad(f(x), x, u, create_graph=True)
print("double backward                      row 0 =", torch.autograd.grad((g * V).sum(), x)[0][0])
