"""Reverse over forward through torch.linalg.eigh's eigenvectors is NaN at every matrix (2.13.0 and 2.9.1).
linalg_eig_jvp (FunctionsManual.cpp) computes the eigenvectors' tangent as X = dP / (L_j - L_i) and then zeroes
X's diagonal in place (where L_j - L_i = 0); reverse mode through that graph divides the diagonal's cotangent
(0) by L_i - L_i = 0: DivBackward0 returns NaN, whatever the matrix (distinct eigenvalues, 1x1 included).
Double backward and forward over forward are right.  At A = [[0, 0], [0, 1]] (eigenvalues 0 and 1), for
|V|^2 (invariant to each eigenvector's sign), torch gives NaN where double backward and central differences
of torch's own jvp give [[0, 0.472], [0.472, 0]]; likewise at a random symmetric 3x3 matrix."""

import torch
import torch.autograd.forward_ad as fwAD


def f(a):
    return torch.linalg.eigh((a + a.mH) / 2).eigenvectors ** 2


def reverse_over_forward(x0, v, u):
    x = x0.clone().requires_grad_()
    with fwAD.dual_level():
        jv = fwAD.unpack_dual(f(fwAD.make_dual(x, v))).tangent
        return torch.autograd.grad((jv * u).sum(), x)[0]


def double_backward(x0, v, u):
    x = x0.clone().requires_grad_()
    (g,) = torch.autograd.grad(f(x), x, u, create_graph=True)
    return torch.autograd.grad((g * v).sum(), x)[0]


def central_differences(x0, v, u, h=1e-6):  # d/dx <u, J(x) v> from torch's own (right) jvp
    out = torch.zeros_like(x0)
    for i in range(x0.numel()):
        e = torch.zeros(x0.numel(), dtype=x0.dtype)
        e[i] = h
        e = e.view_as(x0)
        jvp = [(torch.func.jvp(f, (x0 + s * e,), (v,))[1] * u).sum() for s in (1, -1)]
        out.view(-1)[i] = (jvp[0] - jvp[1]) / (2 * h)
    return out


u = torch.tensor([[0.2739233672618866, -0.46042656898498535], [-0.9180529713630676, -0.9669447541236877]], dtype=torch.float64)
torch.manual_seed(0)
s = torch.randn(3, 3, dtype=torch.float64)
for x0, v, uu in [(torch.tensor([[0.0, 0.0], [0.0, 1.0]], dtype=torch.float64), u, u),
                  (s + s.T, torch.randn(3, 3, dtype=torch.float64), torch.randn(3, 3, dtype=torch.float64))]:
    got, ref, fd = reverse_over_forward(x0, v, uu), double_backward(x0, v, uu), central_differences(x0, v, uu)
    print("reverse over forward:", got.tolist())
    print("double backward:     ", ref.tolist(), "\ncentral differences: ", fd.tolist())
    assert torch.allclose(ref, fd, atol=1e-6) and got.isnan().all()
