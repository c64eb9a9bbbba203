"""torch.linalg.eig's double backward loses precision as a complex pair of eigenvalues nears a tie (2.13.0).
A = [[3, 1.0625], [-2.125, 0]] has eigenvalues 1.5 +- 0.087i; the loss rebuilds exp(A) from the eigenvectors
(V exp(L) V^-1, invariant to their phase).  Against the exact value (matrix_exp's double backward, which agrees
with mpmath's nested central differences at 60 digits to 1e-16), torch is off by 2.9e-9 relative at entry
(0, 1) and JAX by 1.6e-9: both lose precision here, torch more, and the check against JAX (tolerance 1.3e-9)
fails by a ratio of 1.3.  Found by the fifteenth session's soak."""

import torch

x0 = torch.tensor([[3.0, 1.0625], [-2.125, 0.0]], dtype=torch.float64, requires_grad=True)
# the seed of view_as_real's output (real and imaginary parts; exp(A)'s imaginary part is 0 for every real A)
u = torch.tensor([[[0.2739233672618866, -0.46042656898498535], [-0.9180529713630676, -0.9669447541236877]],
                  [[0.62654048204422, 0.8255111575126648], [0.21327155828475952, 0.4589931070804596]]], dtype=torch.float64)
w = torch.tensor([[0.2739233672618866, -0.46042656898498535], [-0.9180529713630676, -0.9669447541236877]], dtype=torch.float64)


def second(f):
    g = torch.autograd.grad((f(x0) * u).sum(), x0, create_graph=True)[0]
    return torch.autograd.grad((g * w).sum(), x0)[0]


def by_eig(a):
    lam, v = torch.linalg.eig(a)
    return torch.view_as_real(v @ (lam.exp().unsqueeze(-1) * torch.linalg.inv(v)))


exact = second(lambda a: torch.view_as_real(torch.linalg.matrix_exp(a).to(torch.complex128)))
got = second(by_eig)
print("through eig:", got[0, 1].item(), "exact:", exact[0, 1].item(), "relative error:", ((got - exact).abs().max() / exact.abs().max()).item())
