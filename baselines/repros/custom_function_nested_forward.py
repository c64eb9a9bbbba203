# A custom torch.autograd.Function with a jvp staticmethod under nested forward mode: torch.func.jvp
# of torch.func.jvp gives 0 for the second derivative, silently, where reverse over forward, forward
# over reverse and reverse over reverse give the right -sin(x) v w.  The same holds with the rules
# written in closed form (here) or as torch's own derivatives (the suite's function path).  torch
# 2.6.0 to 2.13.0 return the 0; 2.3.1 raises "clone is not supported by NestedIntSymNode" instead.
import torch


class Sin(torch.autograd.Function):
    @staticmethod
    def forward(x):
        return x.sin()

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_forward(inputs[0])
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.cos()

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return t * x.cos()


x = torch.tensor([0.3, 1.2], dtype=torch.float64)
v = torch.tensor([1.0, -0.5], dtype=torch.float64)
w = torch.tensor([0.7, 2.0], dtype=torch.float64)
expected = -x.sin() * v * w
try:
    fwd_fwd = torch.func.jvp(lambda a: torch.func.jvp(Sin.apply, (a,), (v,))[1], (x,), (w,))[1]
except RuntimeError as exc:  # torch 2.3.1
    print(torch.__version__, "forward over forward raises:", exc)
    raise SystemExit(0) from None
rev_rev = torch.func.grad(lambda a: (torch.func.grad(lambda b: (Sin.apply(b) * v).sum())(a) * w).sum())(x)
print(torch.__version__, "forward over forward:", fwd_fwd.tolist(), " reverse over reverse:", rev_rev.tolist(), " expected:", expected.tolist())
assert torch.allclose(rev_rev, expected) and not torch.allclose(fwd_fwd, expected)
