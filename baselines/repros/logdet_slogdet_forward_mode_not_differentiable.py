# torch.logdet and torch.linalg.slogdet: the forward-mode derivative (J v) is computed without a graph
# back to the input, so every second derivative through it is lost. Forward over forward gives 0 and
# reverse over forward finds that J v does not require grad, at every matrix tried (1x1 to 3x3).
# Double backward is right; d2 logdet[V, W] = -tr(A^-1 V A^-1 W).
import torch
import torch.autograd.forward_ad as fwAD

A = torch.tensor([[2.0, 0.5], [-0.3, 1.5]], dtype=torch.float64)
V = torch.tensor([[1.0, 0.2], [0.0, -1.0]], dtype=torch.float64)
W = torch.tensor([[0.5, -1.0], [0.3, 0.8]], dtype=torch.float64)
Ai = torch.linalg.inv(A)
print("analytic d2 logdet[V, W] =", -torch.trace(Ai @ V @ Ai @ W).item())
for name, f in (("logdet", torch.logdet), ("slogdet", lambda a: torch.linalg.slogdet(a)[1])):
    fwd_fwd = torch.func.jvp(lambda a: torch.func.jvp(f, (a,), (V,))[1], (A,), (W,))[1]
    print(name, "forward over forward:", fwd_fwd.item())
    x = A.clone().requires_grad_()
    with fwAD.dual_level():
        jv = fwAD.unpack_dual(f(fwAD.make_dual(x, V))).tangent
        print(name, "reverse over forward: J v requires grad?", jv.requires_grad)
    g, = torch.autograd.grad(f(x), x, create_graph=True)
    print(name, "double backward d2[V, W] =", torch.autograd.grad((g * V).sum(), x)[0].mul(W).sum().item())
