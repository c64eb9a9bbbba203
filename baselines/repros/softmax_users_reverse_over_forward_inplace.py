"""Reverse over forward raises through every op that runs softmax (torch 2.13.0 and 2.9.1): softmax, log_softmax,
softmin, logsumexp, the losses on log_softmax (cross_entropy, nll_loss), and also torch.masked.softmax / softmin /
log_softmax, F.scaled_dot_product_attention (no mask, is_causal, float and boolean masks: its CPU math path runs
softmax), F.linear_cross_entropy's reference path (2.13 only: log_softmax of x @ w.T) and the
torch._softmax_backward_data(g, torch.softmax(y, dim), ...) of the registry (the softmax feeding it raises;
_softmax_backward_data alone is fine): "one of the variables needed for gradient computation has been modified by
an inplace operation: ... output 0 of Exp".  softmax's forward-mode formula modifies in place a tensor its own
backward saved, so this raises at every input, shape, dim and mask.  vector_norm(ord=1) likewise ("output 0 of
Sgn").  Double backward and forward over reverse work."""

import torch
import torch.autograd.forward_ad as fwAD
import torch.nn.functional as F

torch.manual_seed(0)
x = torch.tensor([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]], dtype=torch.float64)
mask = torch.tensor([[True, False, True], [True, True, True]])
q, k, v = (torch.randn(1, n, e, dtype=torch.float64) for n, e in ((3, 2), (4, 2), (4, 3)))
keep = torch.tensor([[True, True, True, True], [True, False, True, False], [False, False, False, True]])
functions = {
    "softmax": (lambda a: torch.softmax(a, -1), x),
    "log_softmax": (lambda a: torch.log_softmax(a, -1), x),
    "softmin": (lambda a: F.softmin(a, -1), x),
    "logsumexp": (lambda a: torch.logsumexp(a, -1), x),
    "cross_entropy": (lambda a: F.cross_entropy(a, torch.tensor([0, 2])), x),
    "nll_loss": (lambda a: F.nll_loss(torch.log_softmax(a, -1), torch.tensor([0, 2])), x),
    "vector_norm_1": (lambda a: torch.linalg.vector_norm(a, ord=1), x),
    "masked_softmax": (lambda a: torch.masked.softmax(a, 1, mask=mask), x),
    "masked_softmin": (lambda a: torch.masked.softmin(a, 1, mask=mask), x),
    "masked_log_softmax": (lambda a: torch.masked.log_softmax(a, 1, mask=mask).masked_fill(~mask, 0.0), x),
    "_softmax_backward_data": (lambda g, y: torch._softmax_backward_data(g, torch.softmax(y, 1), 1, g.dtype), x, -x),
    "scaled_dot_product_attention": (F.scaled_dot_product_attention, q, k, v),
    "sdpa is_causal": (lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), q, k, v),
    "sdpa_float_mask": (lambda a, b, c, m: F.scaled_dot_product_attention(a, b, c, m), q, k, v, torch.randn(3, 4).double()),
    "sdpa_bool_mask": (lambda a, b, c: F.scaled_dot_product_attention(a, b, c, keep), q, k, v),
}
if hasattr(F, "linear_cross_entropy"):  # new in 2.13
    functions["linear_cross_entropy"] = (
        lambda a, w: F.linear_cross_entropy(a, w, torch.tensor([0, 3])), x, torch.randn(4, 3, dtype=torch.float64)
    )
raised = []
for name, (fn, *inputs) in functions.items():
    leaves = [t.clone().requires_grad_() for t in inputs]
    with fwAD.dual_level():
        jv = fwAD.unpack_dual(fn(*[fwAD.make_dual(t, torch.ones_like(t)) for t in leaves])).tangent
        try:
            torch.autograd.grad(jv.sum(), leaves)
            print(f"{name:28} reverse over forward: ok")
        except RuntimeError as exc:
            print(f"{name:28} reverse over forward raises:", str(exc)[:120])
            raised.append(name)
assert raised == list(functions), set(functions) - set(raised)
