# torch 2.9.1 and 2.13.0: reverse mode through a vmapped jvp of torch.select_scatter counts the
# scattered source's second derivative twice, so torch.func.jacrev(torch.func.jacfwd(f)) doubles
# the Hessian.  The unbatched jvp differentiated in reverse mode, jacfwd(jacfwd), jacfwd(jacrev) and
# jacrev(jacrev) are right, and so are slice_scatter, diagonal_scatter and index_put.
import torch
from torch.func import jacfwd, jacrev, jvp, vmap

base = torch.zeros(1, 2, 1, dtype=torch.float64)
x = torch.tensor([[0.3]], dtype=torch.float64)
v = torch.ones_like(x)


def f(x):  # f(x)[0, 0, 0] = x**2, so d2f/dx2 = 2 there and 0 elsewhere
    return torch.select_scatter(base, x * x, 1, 0)


print("jacfwd(jacfwd):", jacfwd(jacfwd(f))(x).flatten().tolist())  # [2.0, 0.0]
print("jacrev(jacfwd):", jacrev(jacfwd(f))(x).flatten().tolist())  # [4.0, 0.0]
print("jacrev of jvp:", jacrev(lambda x: jvp(f, (x,), (v,))[1])(x).flatten().tolist())  # [2.0, 0.0]
batched = jacrev(lambda x: vmap(lambda t: jvp(f, (x,), (t,))[1])(v[None]))(x)
print("jacrev of vmap(jvp):", batched.flatten().tolist())  # [4.0, 0.0]
assert batched.flatten()[0] == 4.0, "fixed in this torch"
