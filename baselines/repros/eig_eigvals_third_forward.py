"""Forward mode three deep (torch.func.jvp nested three times) through torch.linalg.eig / eigvals is wrong at
random matrices of size >= 2 (2.13.0 and 2.9.1), for losses invariant to the eigenvectors' scale and phase:
sum(exp(eigvals(A))) = trace(exp(A)) and V diag(exp L) V^-1 = exp(A).  Second-order forward is right.
Cause: linalg_eig_jvp (FunctionsManual.cpp) computes dP = V^-1 dA V with torch.linalg.solve, whose own
forward-mode derivative is not differentiated correctly (see solve_forward_mode_second_order.py): the third
order differentiates that solve twice in forward mode.  Writing the eigvals jvp by hand with solve reproduces
torch's wrong value to the last digit; the same with inv(V) @ dA @ V gives the right one."""

import torch
from torch.func import jvp


def third(f, x, v, w, z):
    return jvp(lambda c: jvp(lambda b: jvp(f, (b,), (v,))[1], (c,), (w,))[1], (x,), (z,))[1]


def second(f, x, v, w):
    return jvp(lambda b: jvp(f, (b,), (v,))[1], (x,), (w,))[1]


def eigvals_loss(a):
    return torch.linalg.eigvals(a).exp().sum(-1).real


def eig_loss(a):
    lam, v = torch.linalg.eig(a)
    return torch.view_as_real(v @ (lam.exp().unsqueeze(-1) * torch.linalg.inv(v)))


def exact_loss(a):  # exp(A) in the same real view (its imaginary part is 0)
    e = torch.linalg.matrix_exp(a)
    return torch.stack([e, torch.zeros_like(e)], -1)


torch.manual_seed(0)
x, v, w, z = (torch.randn(2, 2, dtype=torch.float64) for _ in range(4))
h = 1e-4
fd = lambda f: (second(f, x + h * z, v, w) - second(f, x - h * z, v, w)) / (2 * h)  # noqa: E731

vc = v.to(torch.complex128)
by_solve = lambda a: (lambda r: (r[0].exp() * torch.linalg.solve(r[1], vc @ r[1]).diagonal()).sum().real)(torch.linalg.eig(a))  # noqa: E731
by_inv = lambda a: (lambda r: (r[0].exp() * (torch.linalg.inv(r[1]) @ vc @ r[1]).diagonal()).sum().real)(torch.linalg.eig(a))  # noqa: E731

t_ev = third(eigvals_loss, x, v, w, z)
print("eigvals: third forward", t_ev.item(), " central differences of second forward", fd(eigvals_loss).item(),
      " matrix_exp's trace", third(lambda a: torch.linalg.matrix_exp(a).trace(), x, v, w, z).item())
print("  its jvp by hand, second forward: with solve", second(by_solve, x, w, z).item(), " with inv", second(by_inv, x, w, z).item())
t_eig, ref = third(eig_loss, x, v, w, z), third(exact_loss, x, v, w, z)
print("eig: third forward", t_eig[..., 0].tolist(), "\n     matrix_exp's   ", ref[..., 0].tolist(),
      "\n     central differences of second forward", fd(eig_loss)[..., 0].tolist())
assert torch.allclose(fd(eigvals_loss), third(lambda a: torch.linalg.matrix_exp(a).trace(), x, v, w, z), atol=1e-6)
assert abs(t_ev - fd(eigvals_loss)) > 1e-2 and (t_eig - ref).abs().max() > 1e-2 and torch.allclose(fd(eig_loss), ref, atol=1e-6)
