# F.huber_loss and F.soft_margin_loss have forward mode and double backward, but their backward
# functions (huber_loss_backward, soft_margin_loss_backward) have no forward-mode derivative, so forward
# over reverse and forward over forward raise NotImplementedError ("not implemented yet").
import torch
import torch.autograd.forward_ad as fwAD
import torch.nn.functional as F

x = torch.tensor([0.5, -2.0, 1.0], dtype=torch.float64, requires_grad=True)
t = torch.tensor([0.0, 1.0, -1.0], dtype=torch.float64)
for name, f in (("huber_loss", lambda x: F.huber_loss(x, t)), ("soft_margin_loss", lambda x: F.soft_margin_loss(x, t))):
    try:
        with fwAD.dual_level():
            g, = torch.autograd.grad(f(fwAD.make_dual(x, torch.ones_like(x))), x, create_graph=True)
            print(name, "forward over reverse:", fwAD.unpack_dual(g).tangent)
    except NotImplementedError as exc:
        print(name, "forward over reverse raises:", str(exc)[:110])
    try:
        v = torch.ones_like(x)
        print(name, "forward over forward:", torch.func.jvp(lambda y: torch.func.jvp(f, (y,), (v,))[1], (x.detach(),), (v,))[1])
    except NotImplementedError as exc:
        print(name, "forward over forward raises:", str(exc)[:110])
