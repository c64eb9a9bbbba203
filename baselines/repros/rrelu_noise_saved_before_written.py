# torch 2.13.0 (and 2.9.1): F.rrelu in training mode saves its noise tensor for backward before it writes
# the random slopes into it, so a saved-tensor pack hook that copies (clone, CPU offload, and non-reentrant
# checkpointing, which packs through the same hooks) captures uninitialised memory: the gradient comes back
# as garbage (5.8e-311 here) instead of the plain backward's.  Found while sharpening semantics.checkpoint;
# no cell draws rrelu yet (suites/test_semantics_saved.py RANDOM_END), so this is not in a baseline.
import torch
import torch.nn.functional as F

x = torch.tensor([0.3], dtype=torch.float64, requires_grad=True)
torch.manual_seed(0)
F.rrelu(torch.tan(x), lower=0.1, upper=0.9, training=True).backward(torch.tensor([1.0], dtype=torch.float64))
plain = x.grad.clone()
x.grad = None
torch.manual_seed(0)
with torch.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
    F.rrelu(torch.tan(x), lower=0.1, upper=0.9, training=True).backward(torch.tensor([1.0], dtype=torch.float64))
print("plain:", plain.item(), "under a clone pack hook:", x.grad.item())
