# torch 2.13.0 (and 2.9.1): forward over forward (torch.func.jvp of jvp) through F.layer_norm gives a wrong
# second derivative (it disagrees with central differences of torch's own jvp by ~100x the value), and
# through F.glu raises NotImplementedError ("Trying to use forward AD with aten::glu_jvp that does not
# support it").  Double backward is right for both.
import torch
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
