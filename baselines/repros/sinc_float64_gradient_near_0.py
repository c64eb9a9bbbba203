# torch 2.13.0: sinc's float64 gradient cancels near x = 0.  torch computes
# (cos(pi x) pi x - sin(pi x)) / (pi x^2), whose two terms agree to ~2 log10(1/x) digits;
# the true derivative is -pi^2 x / 3 + O(x^3).  Relative error 7e-6 at x = 1e-6, 36% at 1e-8,
# in reverse mode and in forward mode (dual tensors) alike (2.3.1 to 2.13.0).
import math

import torch
import torch.autograd.forward_ad as fwAD

for x0 in (1e-6, 1e-8):
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    torch.sinc(x).backward()
    expected = -(math.pi**2) * x0 / 3 + (math.pi**4) * x0**3 / 30
    rel = abs(x.grad.item() - expected) / abs(expected)
    print(f"x = {x0:g}: torch {x.grad.item()!r}, true {expected!r}, relative error {rel:.2g}")
    assert rel > 1e-6
    with fwAD.dual_level():
        jv = fwAD.unpack_dual(torch.sinc(fwAD.make_dual(x.detach(), torch.ones((), dtype=torch.float64)))).tangent
    print(f"         forward mode {jv.item()!r}, relative error {abs(jv.item() - expected) / abs(expected):.2g}")
    assert abs(jv.item() - expected) / abs(expected) > 1e-6

# complex128: the gradient of Re sinc(z) is conj(sinc'(z)), whose series near 0 is -(pi^2) z / 3 + (pi^4) z^3 / 30;
# it cancels more than float64's, and on the imaginary axis most (complex_vjp/sinc, complex_jvp/sinc).
for z0 in (1e-4j, 1e-3j):
    z = torch.tensor(z0, dtype=torch.complex128, requires_grad=True)
    torch.sinc(z).real.backward()
    expected = (-(math.pi**2) * z0 / 3 + (math.pi**4) * z0**3 / 30).conjugate()
    rel = abs(complex(z.grad) - expected) / abs(expected)
    print(f"z = {z0}: torch {complex(z.grad)!r}, true {expected!r}, relative error {rel:.2g}")
    assert rel > 1e-11
