# torch.linalg.householder_product: reverse and forward mode are NaN where a reflector H = I - tau v v^T is
# singular (tau |v|^2 = 1), and lose precision near it (about eps / |tau |v|^2 - 1|), though the product is
# a polynomial in A and tau, smooth everywhere.  Both derivatives peel the reflectors off with
# H^-1 = I - tau / (tau |v|^2 - 1) v v^T.  Reflectors from geqrf have tau |v|^2 = 2, never 1; the documented
# domain is any tau.  Found by the float32 cell's thorough profile (A = [[0]], tau = [1]: Q = 1 - tau).
import torch

f = torch.linalg.householder_product
a = torch.tensor([[0.0], [0.5]], dtype=torch.float64, requires_grad=True)  # v = [1, 0.5], |v|^2 = 1.25
u = torch.tensor([[0.3], [-0.7]], dtype=torch.float64)
for d in (1e-4, 1e-12, 0.0):
    tau = torch.tensor([0.8 * (1 + d)], dtype=torch.float64, requires_grad=True)  # tau |v|^2 = 1 + d
    ga, gtau = torch.autograd.grad(f(a, tau), (a, tau), u)
    # exact: Q = e1 - tau v, so d<u, Q>/dtau = -(0.3 - 0.7 * 0.5) = 0.05 and d<u, Q>/dA[1] = 0.7 tau
    print(f"tau |v|^2 - 1 = {d:g}: d/dtau {gtau.item()!r} (exact 0.05), d/dA[1] {ga[1, 0].item()!r} (exact {0.7 * tau.item()!r})")
tangents = (torch.zeros(2, 1, dtype=torch.float64), torch.ones(1, dtype=torch.float64))
jvp = torch.func.jvp(f, (a.detach(), torch.tensor([0.8], dtype=torch.float64)), tangents)[1]
print("jvp along tau at tau |v|^2 = 1:", jvp.flatten().tolist(), "(exact [-1.0, -0.5])")
assert torch.isnan(gtau).all() and torch.isnan(jvp).all()


# The same inverses lose float32 precision where reflectors are far from orthogonal (|1 - tau |v|^2| of 25, 25
# and 4 here): torch's float32 gradient is about a hundred eps off, the product written out and differentiated is not.
def written_out(a: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
    m, n = a.shape
    q = torch.eye(m, dtype=a.dtype)
    for i in range(tau.shape[0]):
        v = torch.cat([torch.zeros(i, dtype=a.dtype), torch.ones(1, dtype=a.dtype), a[i + 1 :, i]])
        q = q @ (torch.eye(m, dtype=a.dtype) - tau[i] * torch.outer(v, v))
    return q[:, :n]


big = [[0.0, 0.0, 0.0, 0.0], [-1.0, 0.0, 0.0, 0.0], [1.0, 0.5, 0.0, 0.0], [3.0, -3.0, 1.25, 0.0]]
taus, seed = [-2.0, 2.5, 2.0], torch.linspace(-1, 1, 16).reshape(4, 4)
errors = []
for fn in (f, written_out):
    x64 = torch.tensor(big, dtype=torch.float64, requires_grad=True)
    exact = torch.autograd.grad(fn(x64, torch.tensor(taus, dtype=torch.float64)), x64, seed.double())[0]
    x32 = torch.tensor(big, requires_grad=True)
    single = torch.autograd.grad(fn(x32, torch.tensor(taus)), x32, seed)[0]
    errors.append(((single.double() - exact).abs().max() / exact.abs().max() / 2**-23).item())
    print(fn.__name__, "float32 error / scale, in float32 eps:", errors[-1])
assert errors[0] > 30 and errors[1] < 2
