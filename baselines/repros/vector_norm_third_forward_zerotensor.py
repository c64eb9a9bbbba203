# Forward mode three deep (torch.func.jvp of jvp of jvp) through torch.linalg.vector_norm with ord other
# than 2, on a one-element input, raises "ZeroTensors are immutable. Please materialize the tensor using
# `.clone()`": the second derivative of |x|^p / |x| there is an efficient zero tensor, and the next jvp
# writes into it in place.  ord = 2, or two or more elements, work; so do reverse mode and double backward.
import torch

x = torch.tensor(1.0, dtype=torch.float64)
v = torch.ones_like(x)
f = lambda a: torch.linalg.vector_norm(a, ord=3.0)
jv = lambda a: torch.func.jvp(f, (a,), (v,))[1]
jwv = lambda a: torch.func.jvp(jv, (a,), (v,))[1]
print(torch.__version__, "second derivative by forward mode:", jwv(x).item())
try:
    print("third:", torch.func.jvp(jwv, (x,), (v,))[1].item())
except RuntimeError as exc:
    print("third derivative by forward mode raises:", exc)
