# torch 2.13.0 (and 2.9.1, 2.6.0, 2.3.1): reverse over forward through softmax / log_softmax / softmin /
# logsumexp (and the losses built on log_softmax: cross_entropy, nll_loss of log_softmax) raises: the
# forward-mode formula modifies in place a tensor its own backward saved ("one of the variables needed
# for gradient computation has been modified by an inplace operation: ... output 0 of Exp"); so does
# vector_norm(ord=1) ("... output 0 of Sgn").  Double backward and forward over reverse work.
import torch
import torch.autograd.forward_ad as fwAD
import torch.nn.functional as F

x = torch.tensor([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]], dtype=torch.float64, requires_grad=True)
v = torch.ones_like(x)
functions = {
    "softmax": lambda a: torch.softmax(a, -1),
    "log_softmax": lambda a: torch.log_softmax(a, -1),
    "softmin": lambda a: F.softmin(a, -1),
    "logsumexp": lambda a: torch.logsumexp(a, -1),
    "cross_entropy": lambda a: F.cross_entropy(a, torch.tensor([0, 2])),
    "vector_norm_1": lambda a: torch.linalg.vector_norm(a, ord=1),
}
for name, fn in functions.items():
    with fwAD.dual_level():
        jv = fwAD.unpack_dual(fn(fwAD.make_dual(x, v))).tangent
        u = torch.ones_like(jv)
        try:
            torch.autograd.grad((jv * u).sum(), x)
            print(name, "reverse over forward: ok")
        except RuntimeError as exc:
            print(name, "reverse over forward raises:", str(exc)[:140])
