# torch 2.13.0: the gradient of torch.nextafter(x, y) where x == y is 0 for both inputs.  nextafter(x, y) is x
# moved one ulp toward y, so on either side of the tie its derivative is (1, 0); at the tie it returns y,
# whose derivative is (0, 1).  (0, 0) is neither: along x = y = t the function is t (derivative 1), and
# torch's gradient says 0 there.  Away from the tie torch gives (1, 0).
import torch

x = torch.tensor([0.0, 1.5, 1.5], dtype=torch.float64, requires_grad=True)
y = torch.tensor([0.0, 1.5, 2.0], dtype=torch.float64, requires_grad=True)
gx, gy = torch.autograd.grad(torch.nextafter(x, y).sum(), (x, y))
print(torch.__version__, "d/dx", gx.tolist(), "d/dy", gy.tolist())  # 2.13.0: [0, 0, 1] and [0, 0, 0]
t = torch.tensor(1.5, dtype=torch.float64)
h = 1e-6
print("along x = y: (f(t+h, t+h) - f(t-h, t-h)) / 2h =", ((torch.nextafter(t + h, t + h) - torch.nextafter(t - h, t - h)) / (2 * h)).item())
assert gx[0] == 0 and gy[0] == 0
