# torch 2.3.1: the first torch.func transform of a custom autograd.Function in a fresh process imports
# torch._dynamo lazily, from inside the transform, and fails: the first call raises "clone is not
# supported by NestedIntSymNode", and every later one "partially initialized module 'torch._dynamo' has
# no attribute 'trace_rules' (most likely due to a circular import)".  Run with --import-dynamo-first
# and it works.  torch 2.6.0 and later import it without trouble.
import sys

import torch

if "--import-dynamo-first" in sys.argv:
    import torch._dynamo  # noqa: F401


class Sin(torch.autograd.Function):
    @staticmethod
    def forward(x):
        return x.sin()

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_forward(inputs[0])

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError

    @staticmethod
    def jvp(ctx, t):
        return t * ctx.saved_tensors[0].cos()


x = torch.tensor(0.3, dtype=torch.float64)
for attempt in (1, 2):
    try:
        print(torch.__version__, "attempt", attempt, "torch.func.jvp:", torch.func.jvp(Sin.apply, (x,), (x,))[1])
    except Exception as exc:  # noqa: BLE001
        print(torch.__version__, "attempt", attempt, "raises", type(exc).__name__, str(exc)[:120])
