# torch 2.13.0: torch.masked.normalize's float32 backward rounds terms of size |u| / ||x||, as F.normalize's
# float16 and bfloat16 backward do (normalize_cosine_similarity_float16_dim_of_one.py).  Where only one element
# of the normalized slice is unmasked, the function is sign(x) and the gradient exactly 0; at ||x|| = 0.00148
# float32 returns 6.1e-05, one float32 ulp of u / ||x|| = 558.  Found by the fifteenth session's soak.
import torch

x0 = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0014799999771639705]], dtype=torch.float32, requires_grad=True)
u = torch.tensor([[0.27, -0.46, -0.92], [-0.97, 0.63, 0.8255111575126648]], dtype=torch.float32)
mask = torch.tensor([[False, False, False], [False, False, True]])
torch.masked.normalize(x0, 2.0, 0, mask=mask).backward(u)
print("float32 x0.grad[1, 2] =", x0.grad[1, 2].item(), "(exactly 0 expected)")
x64 = x0.detach().double().requires_grad_()
torch.masked.normalize(x64, 2.0, 0, mask=mask).backward(u.double())
print("float64 x0.grad[1, 2] =", x64.grad[1, 2].item())
