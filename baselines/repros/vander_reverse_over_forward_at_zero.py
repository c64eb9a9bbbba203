# torch.linalg.vander with a zero in its input: reverse over forward gives nan and forward over forward
# half the exact value (and forward mode three deep, N >= 4, a wrong one), while double backward is right.
# linalg.vander(x, N) is cat(ones, cumprod(x expanded to N - 1 columns)), so a zero x_i is a row of zeros
# in cumprod: the same bug as cumprod_second_order_compositions_at_zeros.py. Without zeros all are right.
# Exact, for N = 3 (rows [1, x_i, x_i^2]): d2f[v, w] = [0, 0, 2 v_i w_i]; grad <u, J v> = 2 u_i2 v_i.
import torch
import torch.autograd.forward_ad as fwAD

x = torch.tensor([0.0, 0.7], dtype=torch.float64)
v = torch.tensor([1.0, -0.5], dtype=torch.float64)
w = torch.tensor([0.3, 0.7], dtype=torch.float64)
u = torch.tensor([[1.0, 2.0, -1.0], [0.5, 1.0, 2.0]], dtype=torch.float64)
f = lambda x: torch.linalg.vander(x, N=3)  # noqa: E731

xg = x.clone().requires_grad_()
with fwAD.dual_level():
    jv = fwAD.unpack_dual(f(fwAD.make_dual(xg, v))).tangent
    rev_fwd = torch.autograd.grad((jv * u).sum(), xg)[0]
(g,) = torch.autograd.grad(f(xg), xg, u, create_graph=True)
dbl = torch.autograd.grad((g * v).sum(), xg)[0]
print(torch.__version__)
print("reverse over forward =", rev_fwd.tolist(), " double backward =", dbl.tolist(), " exact =", (2 * u[:, 2] * v).tolist())
fwd_fwd = torch.func.jvp(lambda x: torch.func.jvp(f, (x,), (v,))[1], (x,), (w,))[1]
print("forward over forward, x^2 column =", fwd_fwd[:, 2].tolist(), " exact =", (2 * v * w).tolist())
assert rev_fwd[0].isnan() and abs(fwd_fwd[0, 2] - v[0] * w[0]) < 1e-12  # nan, and v0 w0 where 2 v0 w0 is exact
assert torch.allclose(dbl, 2 * u[:, 2] * v) and torch.allclose(rev_fwd[1:], dbl[1:])  # right without the zero
