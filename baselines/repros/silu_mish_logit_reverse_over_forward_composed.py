# Reverse over forward (autograd.grad of a tangent from dual tensors) raises NotImplementedError when
# F.silu, F.mish or torch.logit feeds another op, although each alone works and double backward works.
# The backward of the op after them reaches SiluBackward (MishBackward, LogitBackward), which calls
# silu_backward on the saved input; that input is the dual tensor, and silu_backward has no
# forward-mode formula: "Trying to use forward AD with aten::silu_backward that does not support it".
import torch
import torch.autograd.forward_ad as fwAD
import torch.nn.functional as F

x = torch.tensor([0.3, 0.6], dtype=torch.float64, requires_grad=True)
v = torch.tensor([1.0, 0.5], dtype=torch.float64)
for name, op in (("silu", F.silu), ("mish", F.mish), ("logit", torch.logit)):
    for label, f in (("alone", op), ("then cos", lambda y, op=op: op(y).cos())):
        try:
            with fwAD.dual_level():
                jv = fwAD.unpack_dual(f(fwAD.make_dual(x, v))).tangent
                print(name, label, "reverse over forward:", torch.autograd.grad(jv.sum(), x)[0])
        except NotImplementedError as exc:
            print(name, label, "reverse over forward raises:", str(exc)[:100])
    g, = torch.autograd.grad(op(x).cos().sum(), x, create_graph=True)
    print(name, "then cos, reverse over reverse:", torch.autograd.grad((g * v).sum(), x)[0])
