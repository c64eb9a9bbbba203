# torch.autograd.graph.register_multi_grad_hook(tensors, fn, mode="all") does not run when the backward
# starts at one of its tensors (y.backward(u) where y is the leaf itself, as x.contiguous() returns x): the
# gradient is computed (x.grad is set, a Tensor hook and a mode="any" hook on x run), but the "all" hook
# never does.  Starting from x * 1 it runs once.  (2.3.1 to 2.13.0.)
import torch
from torch.autograd.graph import register_multi_grad_hook
for root_is_leaf in (True, False):
    x0 = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    calls = {"all": 0, "any": 0, "tensor": 0}
    register_multi_grad_hook([x0], lambda gs: calls.__setitem__("all", calls["all"] + 1), mode="all")
    register_multi_grad_hook([x0], lambda g: calls.__setitem__("any", calls["any"] + 1), mode="any")
    x0.register_hook(lambda g: calls.__setitem__("tensor", calls["tensor"] + 1))
    y = x0 if root_is_leaf else x0 * 1.0
    y.backward(torch.ones(2, dtype=torch.float64))
    print(torch.__version__, "root is the leaf" if root_is_leaf else "root is x0 * 1", calls, x0.grad.tolist())
