"""F.linear_cross_entropy's chunked path (options=LinearCrossEntropyOptions(...), torch 2.13; not in 2.9) in the
higher-order modes, for mean, sum and none alike.  torch's OpInfo declares it without forward mode and without double
backward, and torch refuses forward mode only when an input also requires grad:

* forward over reverse and reverse over forward (dual tensors that require grad) raise NotImplementedError "You must
  implement the jvp function for custom autograd.Function to use it with forward mode AD" (the autograd.Function
  torch.library wraps the op in has no jvp);
* torch.func.jvp of torch.func.jvp (2 and 3 deep) is silently 0: a dual tensor that does not require grad skips that
  autograd.Function and loses its tangent (the first-order jvp is 0 too);
* reverse mode three times is silently 0: a create_graph=True backward returns gradients without a graph.
The reference path (options=None) gives the right values, printed beside (torch.func.jvp is right there; its reverse
over forward raises for another reason, log_softmax's, baselined apart)."""

import torch
import torch.autograd.forward_ad as fwAD
import torch.nn.functional as F
from torch.func import jvp

torch.manual_seed(0)
x, w, b = (torch.randn(*s, dtype=torch.float64) for s in ((3, 2), (4, 2), (4,)))
target = torch.tensor([0, 3, 1])
ones = tuple(torch.ones_like(t) for t in (x, w, b))


def nested(f):  # p -> jvp of f along ones
    return lambda *p: jvp(f, p, ones)[1]


def third_rev(f):
    p = [t.clone().requires_grad_() for t in (x, w, b)]
    g = torch.autograd.grad(f(*p).sum(), p, create_graph=True)
    if not any(gi.requires_grad for gi in g):
        return 0.0  # no graph: every higher derivative is missing
    h = torch.autograd.grad(sum(gi.sum() for gi in g), p, create_graph=True)
    return sum(t.sum() for t in torch.autograd.grad(sum(hi.sum() for hi in h), p)).item()


def dual_with_grad(f):  # what forward over reverse and reverse over forward start with
    p = [t.clone().requires_grad_() for t in (x, w, b)]
    with fwAD.dual_level():
        try:
            f(*[fwAD.make_dual(t, o) for t, o in zip(p, ones)])
            return "ok"
        except NotImplementedError as exc:
            return f"NotImplementedError: {str(exc)[:60]}..."


seen = []
for reduction in ("mean", "sum", "none"):
    chunked = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=2, allow_retain_graph=reduction != "none")
    for options in (None, chunked):
        def f(a, c, d):
            return F.linear_cross_entropy(a, c, target, linear_bias=d, reduction=reduction, options=options)

        row = (
            nested(nested(f))(x, w, b).sum().item(),  # d2f[1, 1]
            nested(nested(nested(f)))(x, w, b).sum().item(),  # d3f[1, 1, 1]
            third_rev(f),
            dual_with_grad(f),
        )
        print(f"{reduction:4} {'chunked' if options else 'reference':9} fwd_fwd {row[0]:+.6f}  third_fwd {row[1]:+.6f}  "
              f"third_rev {row[2]:+.6f}  dual tensors requiring grad: {row[3]}")
        seen.append(row)
for reference, chunked in zip(seen[::2], seen[1::2]):
    assert all(r != 0 for r in reference[:3]) and reference[3] == "ok"  # the reference path is right
    assert chunked[:3] == (0.0, 0.0, 0.0) and chunked[3].startswith("NotImplementedError")
