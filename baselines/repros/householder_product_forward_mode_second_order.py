# torch.linalg.householder_product: the second derivative through its forward-mode derivative is wrong
# (first-order jvp and double backward are right). At 1x1 the product is Q = 1 - tau, linear in tau and
# independent of A, so every second derivative is 0; forward over forward and reverse over forward give
# -1 / (1 - tau) instead (nan at tau = 1). At random 2x2, 3x2, 4x3 inputs they disagree with central
# differences of torch's own jvp and with double backward as well.
import torch
import torch.autograd.forward_ad as fwAD

f = torch.linalg.householder_product
A = torch.tensor([[0.7]], dtype=torch.float64)
tau = torch.tensor([0.3], dtype=torch.float64)
V, v = torch.ones(1, 1, dtype=torch.float64), torch.ones(1, dtype=torch.float64)
print("Q =", f(A, tau).item(), "= 1 - tau")

jvp = lambda a, t: torch.func.jvp(f, (a, t), (V, v))[1]  # noqa: E731
fwd_fwd = torch.func.jvp(jvp, (A, tau), (V, v))[1].item()
print("forward over forward d2Q[(V, v), (V, v)] =", fwd_fwd, " expected 0 (torch's jvp is", jvp(A, tau).item(), "everywhere)")

a, t = A.clone().requires_grad_(), tau.clone().requires_grad_()
with fwAD.dual_level():
    jv = fwAD.unpack_dual(f(fwAD.make_dual(a, V), fwAD.make_dual(t, v))).tangent
    rev_fwd = torch.autograd.grad(jv.sum(), t)[0].item()
(ga, gt) = torch.autograd.grad(f(a, t), (a, t), create_graph=True)
rev_rev = torch.autograd.grad((ga * V).sum() + (gt * v).sum(), t, allow_unused=True)[0]
rev_rev = 0.0 if rev_rev is None else rev_rev.item()
print("reverse over forward d/dtau <1, J (V, v)> =", rev_fwd, " double backward:", rev_rev, " expected 0")

# random 2x2 input, the shape the suite checks: torch's forward over forward vs central differences of its own jvp
torch.manual_seed(0)
A2, t2 = torch.randn(2, 2, dtype=torch.float64), torch.randn(2, dtype=torch.float64)
V2, v2, W2, w2 = (torch.randn(s, dtype=torch.float64) for s in ((2, 2), (2,), (2, 2), (2,)))
jvp2 = lambda a, t: torch.func.jvp(f, (a, t), (V2, v2))[1]  # noqa: E731
ff2 = torch.func.jvp(jvp2, (A2, t2), (W2, w2))[1]
cd2 = (jvp2(A2 + 1e-6 * W2, t2 + 1e-6 * w2) - jvp2(A2 - 1e-6 * W2, t2 - 1e-6 * w2)) / 2e-6
print("2x2 forward over forward        =", ff2.flatten().tolist())
print("2x2 central differences of jvp  =", cd2.flatten().tolist())

assert abs(fwd_fwd + 1 / 0.7) < 1e-9 and abs(rev_fwd + 1 / 0.7) < 1e-9 and rev_rev == 0.0
assert (ff2 - cd2).abs().max() > 1e-2
