# torch 2.13.0 (and 2.9.1): reverse over forward through softmax / log_softmax raises: the forward-mode
# formula modifies in place a tensor its own backward saved ("one of the variables needed for gradient
# computation has been modified by an inplace operation: ... output 0 of Exp").  Double backward and
# forward over reverse work.
import torch
import torch.autograd.forward_ad as fwAD

x = torch.tensor([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]], dtype=torch.float64, requires_grad=True)
v = torch.ones_like(x)
u = torch.tensor([[1.0, 2.0, -1.0], [0.5, 0.5, 3.0]], dtype=torch.float64)
for fn in (torch.softmax, torch.log_softmax):
    with fwAD.dual_level():
        jv = fwAD.unpack_dual(fn(fwAD.make_dual(x, v), -1)).tangent
        try:
            torch.autograd.grad((jv * u).sum(), x)
            print(fn.__name__, "reverse over forward: ok")
        except RuntimeError as exc:
            print(fn.__name__, "reverse over forward raises:", str(exc)[:140])
