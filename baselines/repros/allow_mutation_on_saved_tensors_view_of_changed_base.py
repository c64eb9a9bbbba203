# torch.autograd.graph.allow_mutation_on_saved_tensors does not protect a tensor saved for backward that is a
# view of another tensor changed in place: the backward silently uses the changed values.  Without the context
# the same backward raises ("modified by an inplace operation": a view shares its base's version counter); with
# it, changing the saved view itself, or a saved tensor that is no view, is handled (the context clones it).
# Found by the soak and the thorough profile (semantics.saved_mutation: logaddexp(x0, x1.narrow(0, 1, 1))).
import torch

results = {}
for changed in ("base", "view"):
    w = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    with torch.autograd.graph.allow_mutation_on_saved_tensors():
        a = torch.zeros(2, dtype=torch.float64)
        v = a[1]  # a view of a, 0.0
        y = v * w  # mul saves v for w's gradient
        (a if changed == "base" else v).add_(0.5)
        y.backward()
    results[changed] = w.grad.item()
    print(f"change the {changed} in place: w.grad = {results[changed]} (the saved value: 0.0)")
assert results == {"base": 0.5, "view": 0.0}
