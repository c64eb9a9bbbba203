"""torch.masked.logaddexp: reverse over forward, forward over forward and third order (reverse and forward) are NaN
where one mask drops its operand (torch 2.13.0, 2.9.1), like its double backward.

Where input_mask drops x, masked.logaddexp(x, y) is y there (x is replaced by -inf), so every derivative of order
two or more is 0.  logaddexp's derivative 1 / (1 + exp(other - self)) has the derivative
-exp(other - self) / (1 + exp(other - self))² in other: inf/inf = NaN at self = -inf.  Double backward multiplies
that NaN by the 0 the mask's where gives x's cotangent; forward mode (logaddexp's tangent formula
self_t / (1 + exp(other - self)) + ...) multiplies it by x's tangent, which the where makes 0: NaN either way.
Forward over reverse is right: there the NaN is the tangent of x's gradient, which the where's backward then
selects away instead of multiplying.  Plain torch.logaddexp with a -inf operand does the same.
"""

import torch
import torch.autograd.forward_ad as fwAD
from torch.func import jvp, vjp

x = torch.tensor([0.5], dtype=torch.float64)
y = torch.tensor([1.5], dtype=torch.float64)
u = v = w = torch.ones(1, dtype=torch.float64)
keep_x, keep_y = torch.tensor([False]), torch.tensor([True])


def f(a, b):  # = b: x is dropped
    return torch.masked.logaddexp(a, b, input_mask=keep_x, other_mask=keep_y)


def nested(g):  # x -> jvp of g along (v, v)
    return lambda *p: jvp(g, p, (v, v))[1]


xs = [t.clone().requires_grad_() for t in (x, y)]
g = torch.autograd.grad(f(*xs), xs, u, create_graph=True)
h = torch.autograd.grad(sum(g), xs, create_graph=True)
results = {"double backward": torch.autograd.grad(sum(g), xs, retain_graph=True)}
with fwAD.dual_level():
    jv = fwAD.unpack_dual(f(*[fwAD.make_dual(t, v) for t in xs])).tangent
    results["reverse over forward"] = torch.autograd.grad(jv.sum(), xs)
results["forward over forward"] = jvp(nested(f), (x, y), (w, w))[1]
results["third, reverse"] = torch.autograd.grad(sum(h), xs)
results["third, forward"] = jvp(nested(nested(f)), (x, y), (w, w))[1]
results["forward over reverse"] = jvp(lambda a, b: vjp(f, a, b)[1](u), (x, y), (v, v))[1]
for name, value in results.items():
    print(f"{name:22}", value, "  (exact: 0)")
a = torch.tensor([-float("inf")], dtype=torch.float64)
print("plain logaddexp(-inf, y), forward over forward:", jvp(nested(torch.logaddexp), (a, y), (w * 0, w))[1])

bad = [name for name, value in results.items() if any(torch.isnan(t).any() for t in torch.atleast_1d(value))]
assert bad == ["double backward", "reverse over forward", "forward over forward", "third, reverse", "third, forward"], bad
