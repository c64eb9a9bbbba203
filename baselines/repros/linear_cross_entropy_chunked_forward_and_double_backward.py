"""F.linear_cross_entropy's chunked path (options=LinearCrossEntropyOptions(...), torch 2.13) is declared without
forward mode and double backward by torch's own OpInfo, but torch refuses neither: forward mode returns a zero
tangent, and a create_graph=True backward returns a gradient with no graph (so the second derivative is silently
missing), for mean, sum and none alike.  The reference path (options=None) is right in both."""

import torch
import torch.nn.functional as F

torch.manual_seed(0)
x = torch.randn(4, 3, dtype=torch.float64)
w = torch.randn(5, 3, dtype=torch.float64)
target = torch.tensor([0, 3, 1, 4])
v = torch.ones_like(x)

for reduction in ("mean", "sum", "none"):
    chunked = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=2, allow_retain_graph=reduction != "none")
    for options in (None, chunked):
        f = lambda x: F.linear_cross_entropy(x, w, target, reduction=reduction, options=options)  # noqa: E731
        _, jv = torch.func.jvp(f, (x,), (v,))
        xg = x.clone().requires_grad_()
        (g,) = torch.autograd.grad(f(xg).sum(), xg, create_graph=True)
        print(
            f"{reduction:4} {'chunked' if options else 'reference':9} J v = {jv.sum().item():+.6f}   "
            f"gradient requires grad: {g.requires_grad}"
        )
# reference: J v = nonzero and the gradient requires grad; chunked: J v = 0.000000 and requires grad False
