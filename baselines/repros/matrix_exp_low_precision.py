# torch.linalg.matrix_exp in bfloat16 and float16 on the CPU: the gradient is -inf or nan at every matrix
# tried, even at [[0.5]] where the value itself is right (1.6484); on 2x2 matrices the value is wrong too
# (bfloat16: -1.3e30 for a matrix whose exponential is about 1.6). float32 is right.
import torch

for dtype in (torch.bfloat16, torch.float16, torch.float32):
    for a in ([[0.5]], [[0.5, -0.25], [0.125, 0.75]]):
        A = torch.tensor(a, dtype=dtype, requires_grad=True)
        y = torch.linalg.matrix_exp(A)
        (g,) = torch.autograd.grad(y, A, torch.ones_like(y))
        print(dtype, "matrix_exp", y.detach().tolist(), "gradient", g.tolist())
