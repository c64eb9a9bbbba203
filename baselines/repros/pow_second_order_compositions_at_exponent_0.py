# torch 2.13.0 (and 2.9.1): d2/dx dy of pow(x, y) at y = 0 is 0 instead of 1/x in forward over reverse,
# reverse over forward and forward over forward too, not only in double backward
# (pow_mixed_second_derivative_at_exponent_0.py): the base's derivative special-cases exponent == 0.
# Exactly at y == 0 only: y = 1e-300 is right.
import torch
import torch.autograd.forward_ad as fwAD

d = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
x, y = d(1.5).requires_grad_(), d(0.0).requires_grad_()
expected = 1 / 1.5

with fwAD.dual_level():  # forward over reverse: the tangent along y of d/dx pow(x, y)
    (gx,) = torch.autograd.grad(torch.pow(fwAD.make_dual(x, d(0.0)), fwAD.make_dual(y, d(1.0))), x, create_graph=True)
    fwd_rev = fwAD.unpack_dual(gx).tangent.item()
with fwAD.dual_level():  # reverse over forward: d/dy of the tangent along x
    jv = fwAD.unpack_dual(torch.pow(fwAD.make_dual(x, d(1.0)), fwAD.make_dual(y, d(0.0)))).tangent
    rev_fwd = torch.autograd.grad(jv, y)[0].item()
# forward over forward: along y of (the tangent along x)
jv = lambda a, b: torch.func.jvp(torch.pow, (a, b), (d(1.0), d(0.0)))[1]  # noqa: E731
fwd_fwd = torch.func.jvp(jv, (d(1.5), d(0.0)), (d(0.0), d(1.0)))[1].item()
print(f"d2/dxdy pow(1.5, 0): forward over reverse {fwd_rev}, reverse over forward {rev_fwd}, "
      f"forward over forward {fwd_fwd}; expected {expected}")
assert fwd_rev == rev_fwd == fwd_fwd == 0.0
