"""An in-place update of an inference tensor outside torch.inference_mode() raises the documented
"Inplace update to inference tensor outside InferenceMode is not allowed", but only after the kernel
has run: the tensor is modified all the same (mul_, add_, zero_, copy_, fill_, sin_ alike).  The
check is made when the version counter is bumped, after the in-place kernel."""

import torch

with torch.inference_mode():
    t = torch.ones(3, dtype=torch.float64)
try:
    t.mul_(2)
except RuntimeError as e:
    print("raised:", str(e)[:72])
print(torch.__version__, t)  # tensor([2., 2., 2.]): the refused update was applied
assert torch.equal(t, torch.ones(3, dtype=torch.float64)), "the refused in-place update modified the tensor"
