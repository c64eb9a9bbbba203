# torch 2.13.0 and 2.9.1: d2/dx dy of float_power(x, y) at y = 0 is 0 instead of 1/x in forward over
# reverse, reverse over forward and forward over forward too, not only in double backward
# (float_power_mixed_second_derivative_at_exponent_0.py), and the third derivatives through it
# (d3/dx2 dy = -1/x^2 at y = 0) are 0 as well, by reverse mode three times and forward mode three deep.
# The base's gradient special-cases exponent == 0 with a where(), as for torch.pow
# (pow_second_order_compositions_at_exponent_0.py). Exactly at y == 0 only: y = 1e-300 is right.
import torch
import torch.autograd.forward_ad as fwAD

d = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
f = torch.float_power


def compositions(x0, y0):
    x, y = d(x0).requires_grad_(), d(y0).requires_grad_()
    with fwAD.dual_level():  # forward over reverse: the tangent along y of d/dx f(x, y)
        (gx,) = torch.autograd.grad(f(fwAD.make_dual(x, d(0.0)), fwAD.make_dual(y, d(1.0))), x, create_graph=True)
        fwd_rev = fwAD.unpack_dual(gx).tangent.item()
    with fwAD.dual_level():  # reverse over forward: d/dy of the tangent along x
        jv = fwAD.unpack_dual(f(fwAD.make_dual(x, d(1.0)), fwAD.make_dual(y, d(0.0)))).tangent
        rev_fwd = torch.autograd.grad(jv, y)[0].item()
    jv = lambda a, b: torch.func.jvp(f, (a, b), (d(1.0), d(0.0)))[1]  # noqa: E731  along x
    jvv = lambda a, b: torch.func.jvp(jv, (a, b), (d(1.0), d(0.0)))[1]  # noqa: E731  along x again
    fwd_fwd = torch.func.jvp(jv, (d(x0), d(y0)), (d(0.0), d(1.0)))[1].item()  # then along y
    third_fwd = torch.func.jvp(jvv, (d(x0), d(y0)), (d(0.0), d(1.0)))[1].item()
    (gx,) = torch.autograd.grad(f(x, y), x, create_graph=True)
    (gxx,) = torch.autograd.grad(gx, x, create_graph=True)
    third_rev = torch.autograd.grad(gxx, y)[0].item()
    return fwd_rev, rev_fwd, fwd_fwd, third_rev, third_fwd


for y0 in (0.0, 1e-300):
    fr, rf, ff, tr, tf = compositions(1.5, y0)
    print(f"{torch.__version__} x = 1.5, y = {y0}: d2/dxdy by forward over reverse {fr:.6g}, reverse over "
          f"forward {rf:.6g}, forward over forward {ff:.6g} (exact 1/x = {1 / 1.5:.6g}); d3/dx2dy by reverse "
          f"{tr:.6g}, forward {tf:.6g} (exact -1/x^2 = {-1 / 1.5**2:.6g})")
assert compositions(1.5, 0.0) == (0.0, 0.0, 0.0, 0.0, 0.0)
