# torch.logcumsumexp: reverse over forward raises "one of the variables needed for gradient computation
# has been modified by an inplace operation ... output 0 of Exp" at every input, like softmax's: the
# forward-mode formula overwrites a tensor its backward saved. Double backward works.
import torch
import torch.autograd.forward_ad as fwAD

x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
v, u = torch.ones_like(x), torch.tensor([1.0, 2.0, -1.0], dtype=torch.float64)
with fwAD.dual_level():
    jv = fwAD.unpack_dual(torch.logcumsumexp(fwAD.make_dual(x, v), 0)).tangent
    try:
        print("reverse over forward:", torch.autograd.grad((jv * u).sum(), x)[0])
    except RuntimeError as exc:
        print("reverse over forward raises:", str(exc)[:150])
