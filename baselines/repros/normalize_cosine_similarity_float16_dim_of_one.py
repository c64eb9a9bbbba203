# torch 2.9.1 and 2.13.0: F.normalize's and F.cosine_similarity's float16 backward round terms of size
# |u| / ||x||, so along a dim of size 1, where the function is sign(x) and the gradient exactly 0, they
# return one float16 ulp of |u| / ||x||: normalize 0.0078 at x = 0.061 (u = -0.957), cosine_similarity
# -0.031 at x1 = 0.0074 (u = -0.46, 7% of |u|).  bfloat16 normalize: layer_norm_normalize_half_precision.py.
# Found by the modes soak.
import torch
import torch.nn.functional as F

x = torch.tensor([[[1.0, 1.0, 1.0]], [[1.0, 1.0, 0.06103515625]]], dtype=torch.float16, requires_grad=True)
F.normalize(x, dim=1).backward(torch.full_like(x, -0.95654296875))
print('normalize: x.grad =', x.grad.tolist(), 'exactly 0 expected')
a = torch.tensor([[1.0, 1.0]], dtype=torch.float16, requires_grad=True)
b = torch.tensor([[1.0, 0.0073699951171875]], dtype=torch.float16, requires_grad=True)
F.cosine_similarity(a, b, dim=0).backward(torch.tensor([0.27392578125, -0.46044921875], dtype=torch.float16))
print('cosine_similarity: b.grad =', b.grad.tolist(), 'exactly 0 expected')
