# torch 2.13.0 (and 2.9.1): torch.sinc's second derivative at and near 0 is wrong in every composition of
# forward and reverse mode, as in double backward (sinc_second_order_at_0.py); the true value is
# sinc''(x) = -pi^2/3 + pi^4 x^2 / 10 + O(x^4).  At 0 forward over reverse and forward over forward
# give 0.0 and reverse over forward nan; near 0 all three cancel (relative error ~1e-5 at x = 1e-6,
# ~1e-8 at 1e-4, ~2e-9 at 3e-4; below 1e-10 from x = 5e-4).
import math

import torch
import torch.autograd.forward_ad as fwAD


def fwd_rev(x0):  # the tangent along w = 1 of d/dx sinc(x)
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    with fwAD.dual_level():
        (g,) = torch.autograd.grad(torch.sinc(fwAD.make_dual(x, torch.tensor(1.0, dtype=torch.float64))), x, create_graph=True)
        return fwAD.unpack_dual(g).tangent.item()


def rev_fwd(x0):  # d/dx of the tangent of sinc(x) along v = 1
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    with fwAD.dual_level():
        jv = fwAD.unpack_dual(torch.sinc(fwAD.make_dual(x, torch.tensor(1.0, dtype=torch.float64)))).tangent
        return torch.autograd.grad(jv, x)[0].item()


def fwd_fwd(x0):
    one = (torch.tensor(1.0, dtype=torch.float64),)
    jv = lambda x: torch.func.jvp(torch.sinc, (x,), one)[1]  # noqa: E731
    return torch.func.jvp(jv, (torch.tensor(x0, dtype=torch.float64),), one)[1].item()


for x0 in (0.0, 1e-6, 1e-4, 3e-4, 1e-3):
    expected = -(math.pi**2) / 3 + math.pi**4 * x0**2 / 10
    got = {f.__name__: f(x0) for f in (fwd_rev, rev_fwd, fwd_fwd)}
    print(f"x = {x0:g}: expected {expected!r}; " + ", ".join(f"{k} {v!r} (rel {abs(v - expected) / abs(expected):.2g})" for k, v in got.items()))
assert fwd_rev(0.0) == 0.0 and fwd_fwd(0.0) == 0.0 and math.isnan(rev_fwd(0.0))
