# torch.logcumsumexp's forward mode on complex input loses precision as Re z goes negative, even for
# one element, where logcumsumexp(z) = z and the tangent must come back unchanged: the error is about
# 8e-14 * exp(-Re z) (3e-11 at z = -6, 4e-5 at z = -20).  Real input is exact there; reverse mode is
# exact for both.
import torch
import torch.autograd.forward_ad as fwAD

v = torch.tensor([0.3 - 0.7j], dtype=torch.complex128)
for re in (2.0, -6.0, -20.0):
    z = torch.tensor([re + 0.5j], dtype=torch.complex128)
    with fwAD.dual_level():
        tangent = fwAD.unpack_dual(torch.logcumsumexp(fwAD.make_dual(z, v), 0)).tangent
    print(torch.__version__, "z =", complex(z[0]), " forward-mode tangent off by", abs(complex(tangent[0] - v[0])))
z = torch.tensor([-20.0 + 0.5j], dtype=torch.complex128)
with fwAD.dual_level():
    tangent = fwAD.unpack_dual(torch.logcumsumexp(fwAD.make_dual(z, v), 0)).tangent
assert abs(complex(tangent[0] - v[0])) > 1e-6
