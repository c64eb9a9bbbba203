# Forward mode three deep (torch.func.jvp of jvp of jvp) on a one-element input raises "ZeroTensors are
# immutable. Please materialize the tensor using `.clone()`" through torch.linalg.vector_norm with ord
# other than 2 and through F.binary_cross_entropy_with_logits: a second derivative there is an efficient
# zero tensor, and the next jvp writes into it in place.  Two or more elements work (and ord = 2), and so
# do reverse mode and double backward.
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def third_forward(f, *xs):
    vs = tuple(torch.ones_like(x) for x in xs)
    jv = lambda *a: torch.func.jvp(f, a, vs)[1]
    jwv = lambda *a: torch.func.jvp(jv, a, vs)[1]
    return torch.func.jvp(jwv, xs, vs)[1]


cases = {
    "vector_norm(ord=3)": (lambda a: torch.linalg.vector_norm(a, ord=3.0), (torch.tensor([1.0]),)),
    "binary_cross_entropy_with_logits": (F.binary_cross_entropy_with_logits, (torch.tensor([0.3]), torch.tensor([0.5]))),
}
for name, (f, xs) in cases.items():
    try:
        print(torch.__version__, name, "third derivative by forward mode:", third_forward(f, *xs).item())
    except RuntimeError as exc:
        print(torch.__version__, name, "forward mode three deep raises:", str(exc)[:80])
    longer = tuple(torch.cat([x, x + 1]) for x in xs)
    print("   with two elements:", third_forward(f, *longer).item())
