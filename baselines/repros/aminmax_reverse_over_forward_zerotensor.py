# torch 2.13.0 (the first torch where aminmax has a derivative): reverse over forward through
# torch.aminmax raises "ZeroTensors are immutable" when both outputs' tangents are used through an
# op that records a graph (1 * min + 1 * max).  The tangents of min and max are v gathered at the
# argmin and argmax, so J v is linear in v and its gradient with respect to x is exactly 0: that is
# what `min + 2 * max`, amin/amax and min/max(dim) give.  Double backward is right.
import torch
import torch.autograd.forward_ad as fwAD

x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
v = torch.ones_like(x)


def reverse_over_forward(f):
    with fwAD.dual_level():
        jv = fwAD.unpack_dual(f(fwAD.make_dual(x, v))).tangent
        return torch.autograd.grad(jv.sum(), x, allow_unused=True)[0]


print("1 * amin + 1 * amax:", reverse_over_forward(lambda x: 1 * torch.amin(x, 0) + 1 * torch.amax(x, 0)))  # zeros
try:
    print("1 * aminmax min + 1 * aminmax max:", reverse_over_forward(lambda x: (lambda a: 1 * a[0] + 1 * a[1])(torch.aminmax(x, dim=0))))
except RuntimeError as e:
    print("1 * aminmax min + 1 * aminmax max raises:", e)  # ZeroTensors are immutable
    assert "ZeroTensors are immutable" in str(e)
else:
    raise AssertionError("fixed in this torch: reverse over forward through aminmax no longer raises")
