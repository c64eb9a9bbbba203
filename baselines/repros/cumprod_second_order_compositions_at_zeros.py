# torch.cumprod with a zero in its input: the forward-mode derivative's second derivatives are wrong.
# Reverse over forward gives nan and forward over forward a wrong value (at x = [0, 0, a] the exact
# d2f[v, w] is [0, s, s a] with s = v0 w1 + v1 w0), while double backward is right. Without zeros all
# compositions are right.
import torch
import torch.autograd.forward_ad as fwAD

x = torch.tensor([0.0, 0.0, 0.5], dtype=torch.float64)
v = torch.tensor([1.0, -0.5, 2.0], dtype=torch.float64)
w = torch.tensor([0.3, 0.7, -1.0], dtype=torch.float64)
u = torch.tensor([1.0, 2.0, -1.0], dtype=torch.float64)
f = lambda x: torch.cumprod(x, 0)  # noqa: E731
print("forward over forward d2f[v, w] =", torch.func.jvp(lambda x: torch.func.jvp(f, (x,), (v,))[1], (x,), (w,))[1])
s = (v[0] * w[1] + v[1] * w[0]).item()
print("exact (cumprod at [0, 0, a])    =", torch.tensor([0.0, s, s * x[2].item()], dtype=torch.float64))
xg = x.clone().requires_grad_()
with fwAD.dual_level():
    jv = fwAD.unpack_dual(f(fwAD.make_dual(xg, v))).tangent
    rev_fwd = torch.autograd.grad((jv * u).sum(), xg)[0]
print("reverse over forward =", rev_fwd)
g, = torch.autograd.grad(f(xg), xg, u, create_graph=True)
print("double backward      =", torch.autograd.grad((g * v).sum(), xg)[0])
