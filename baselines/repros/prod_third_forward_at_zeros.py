# torch.prod (whole tensor or along a dim) with a zero in its input: the third derivative by forward mode
# (torch.func.jvp three deep) is wrong, while the second by forward mode and the third by reverse mode are
# right.  For x = [0, 1, 2] and v = w = t, d3 prod[v, v, v] = 6 v0 v1 v2 = 0.6947; torch gives 0.5789
# (0.4631 with two or three zeros).  Without zeros it is right.
import torch

torch.set_default_dtype(torch.float64)
v = torch.tensor([0.2739233672618866, -0.46042656898498535, -0.9180529713630676])
f = lambda a: a.prod(dim=0)
jv = lambda a: torch.func.jvp(f, (a,), (v,))[1]
jwv = lambda a: torch.func.jvp(jv, (a,), (v,))[1]
for x in ([0.0, 1.0, 2.0], [0.0, 0.0, 0.0], [0.5, 1.0, 2.0]):
    x = torch.tensor(x)
    print(torch.__version__, x.tolist(), "forward mode three deep:", torch.func.jvp(jwv, (x,), (v,))[1].item(), " exact:", (6 * v.prod()).item())
