"""Reverse over forward through torch.linalg.eig's eigenvectors raises at every matrix (2.13.0 and 2.9.1), even
for a loss invariant to each eigenvector's scale and phase: V diag(exp L) V^-1 = exp(A).  linalg_eig_jvp
(FunctionsManual.cpp) computes the eigenvectors' tangent as X = dP / (L_j - L_i) and zeroes X's diagonal in
place; reverse mode through that divides the diagonal's cotangent (0) by L_i - L_i = 0, so DivBackward0 returns
NaN (shown under anomaly mode), and the NaN cotangent of V then fails linalg_eig_backward's phase check:
"The eigenvectors in the complex case are specified up to multiplication by e^{i phi}. ... ill-defined".
Double backward of the same loss is right (equal to matrix_exp's) and so is forward over forward.
Same cause as eigh's NaN (eigh_eigenvectors_reverse_over_forward_nan.py)."""

import warnings

import torch
import torch.autograd.forward_ad as fwAD


def f(a):
    lam, v = torch.linalg.eig(a)
    return torch.view_as_real(v @ (lam.exp().unsqueeze(-1) * torch.linalg.inv(v)))


def exact(a):
    return torch.view_as_real(torch.linalg.matrix_exp(a).to(torch.complex128))


torch.manual_seed(0)
x0 = torch.randn(2, 2, dtype=torch.float64)  # eigenvalues 1.99 and 0.12, well separated
v, u = torch.randn(2, 2, dtype=torch.float64), torch.randn(2, 2, 2, dtype=torch.float64)

x = x0.clone().requires_grad_()
(g,) = torch.autograd.grad(f(x), x, u, create_graph=True)
via_eig = torch.autograd.grad((g * v).sum(), x)[0]
(g,) = torch.autograd.grad(exact(x), x, u, create_graph=True)
via_expm = torch.autograd.grad((g * v).sum(), x)[0]
print("double backward through eig:", via_eig.tolist(), "\nthrough matrix_exp (exact):  ", via_expm.tolist())
assert torch.allclose(via_eig, via_expm)

errors = []
for anomaly in (False, True):
    x = x0.clone().requires_grad_()
    with warnings.catch_warnings(), torch.autograd.set_detect_anomaly(anomaly), fwAD.dual_level():
        warnings.simplefilter("ignore")
        jv = fwAD.unpack_dual(f(fwAD.make_dual(x, v))).tangent
        try:
            torch.autograd.grad((jv * u).sum(), x)
        except RuntimeError as e:
            errors.append(str(e).splitlines()[0])
print("reverse over forward:", *errors, sep="\n  ")
assert len(errors) == 2 and "e^{i phi}" in errors[0] and "DivBackward0' returned nan" in errors[1]
