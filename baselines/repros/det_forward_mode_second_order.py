# torch 2.13.0 (and 2.9.1): torch.linalg.det's forward-mode derivative is not differentiable correctly:
# reverse over forward (autograd.grad of the dual-tensor tangent) and forward over forward
# (torch.func.jvp of jvp) give wrong second derivatives, while double backward and forward over
# reverse are right.  For a 2x2 matrix det = a d - b c, so d2 det[V, W] = V00 W11 + V11 W00 - V01 W10 - V10 W01.
import torch
import torch.autograd.forward_ad as fwAD

A = torch.tensor([[1.0, 2.0], [3.0, 4.5]], dtype=torch.float64)
V = torch.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=torch.float64)
W = torch.tensor([[-1.0, 0.5], [1.5, 2.0]], dtype=torch.float64)
f = torch.linalg.det

expected_vw = V[0, 0] * W[1, 1] + V[1, 1] * W[0, 0] - V[0, 1] * W[1, 0] - V[1, 0] * W[0, 1]
fwd_fwd = torch.func.jvp(lambda a: torch.func.jvp(f, (a,), (V,))[1], (A,), (W,))[1]
print("forward over forward d2det[V, W] =", fwd_fwd.item(), " expected", expected_vw.item())

expected_grad = torch.tensor([[V[1, 1], -V[1, 0]], [-V[0, 1], V[0, 0]]], dtype=torch.float64)  # grad_A <1, J V>
x = A.clone().requires_grad_()
with fwAD.dual_level():
    jv = fwAD.unpack_dual(f(fwAD.make_dual(x, V))).tangent
    rev_fwd = torch.autograd.grad(jv, x)[0]
(g,) = torch.autograd.grad(f(x), x, create_graph=True)
rev_rev = torch.autograd.grad((g * V).sum(), x)[0]
print("reverse over forward grad <1, J V> =", rev_fwd.tolist())
print("reverse over reverse (right)        =", rev_rev.tolist(), " expected", expected_grad.tolist())
assert not torch.allclose(rev_fwd, expected_grad) and torch.allclose(rev_rev, expected_grad)
assert abs(fwd_fwd.item() - expected_vw.item()) > 1e-3
