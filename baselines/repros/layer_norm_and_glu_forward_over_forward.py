# torch 2.13.0 (and 2.9.1): forward over forward (torch.func.jvp of jvp) through F.layer_norm gives a wrong
# second derivative (it disagrees with central differences of torch's own jvp by ~100x the value), and
# through F.glu raises NotImplementedError ("Trying to use forward AD with aten::glu_jvp that does not
# support it").  Double backward is right for both.
import torch
import torch.autograd.forward_ad as fwAD
import torch.nn.functional as F

torch.manual_seed(1)
x = torch.randn(3, 2, 2, dtype=torch.float64)
v, w = torch.randn_like(x), torch.randn_like(x)
f = lambda a: F.layer_norm(a, a.shape[-1:])  # noqa: E731
jv = lambda a: torch.func.jvp(f, (a,), (v,))[1]  # noqa: E731
fwd_fwd = torch.func.jvp(jv, (x,), (w,))[1]
h = 1e-6
fd = (jv(x + h * w) - jv(x - h * w)) / (2 * h)
print("layer_norm: max |forward over forward - central differences of torch's jvp| =", (fwd_fwd - fd).abs().max().item(),
      " (max |FD| =", fd.abs().max().item(), ")")
assert (fwd_fwd - fd).abs().max() > 1.0
try:
    torch.func.jvp(lambda a: torch.func.jvp(lambda b: F.glu(b, -1), (a,), (v,))[1], (x,), (w,))
except NotImplementedError as exc:
    print("glu: forward over forward raises NotImplementedError:", exc)

# Reverse over forward (autograd.grad of <u, J v>, J v from dual tensors) is wrong through layer_norm as
# well, and raises through glu ("derivative for aten::glu_jvp is not implemented").
u = torch.randn_like(x)
for name, g in (("layer_norm", f), ("glu", lambda b: F.glu(b, -1))):
    xg = x.clone().requires_grad_()
    try:
        with fwAD.dual_level():
            jv_dual = fwAD.unpack_dual(g(fwAD.make_dual(xg, v))).tangent
            uu = torch.ones_like(jv_dual) if name == "glu" else u
            rev_fwd = torch.autograd.grad((jv_dual * uu).sum(), xg)[0]
        gg, = torch.autograd.grad(g(xg), xg, uu, create_graph=True)
        rev_rev = torch.autograd.grad((gg * v).sum(), xg)[0]
        print(name, "reverse over forward - double backward: max", (rev_fwd - rev_rev).abs().max().item())
    except RuntimeError as exc:
        print(name, "reverse over forward raises:", str(exc)[:100])
