#!/usr/bin/python3
"""PyTorch side of the syre parity test (tests/test_torch_parity.c).

Reads the initial parameters (by name and shape) and one batch written by the
C test, loads them into the same model built from torch.nn modules, and
writes back, in float32 and again in float64 (the float64 run is the "exact"
reference against which both float32 implementations can be judged):
the loss, every parameter gradient, and the loss curve of plain SGD steps
(p -= lr * grad). It is not a benchmark and trains nothing else.

Usage: torch_parity.py IN.bin OUT.bin
Exit status 77 if torch cannot be imported (the C test then skips).

IN.bin (little endian):
  char[8] "SYPARIN1"; i32 model (0 = MLP 784-300-300-300-10, 1 = CNN);
  i32 batch; i32 steps; f32 lr; i32 ndim; i32 dims[4];
  f32 x[prod(dims)]; i32 labels[batch];
  i32 n_params; then per parameter: i32 name_len; name bytes; i32 ndim;
  i32 dims[4]; f32 values[prod(dims[:ndim])].
OUT.bin: char[8] "SYPAROUT"; then for float32 and float64 in turn:
  f64 loss; per parameter (in IN.bin's order) f64 grad[numel];
  f64 curve[steps + 1] (loss before each step, then after the last);
  per parameter f64 values[numel] after the steps.
"""
import struct
import sys

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # the C side reports "SKIPPED: python3-torch not installed"
    print("torch_parity.py: cannot import torch: %s" % e, file=sys.stderr)
    sys.exit(77)


class MLP(nn.Module):
    """784-300-300-300-10 with ReLU; same names as the syre graph."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 300)
        self.fc2 = nn.Linear(300, 300)
        self.fc3 = nn.Linear(300, 300)
        self.fc4 = nn.Linear(300, 10)

    def forward(self, x):
        x = x.reshape(x.shape[0], -1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = F.relu(self.fc3(x))
        return self.fc4(x)


class CNN(nn.Module):
    """conv(1->10,k5)-maxpool2-relu-conv(10->20,k5)-maxpool2-relu-fc(320->50)-relu-fc(50->10)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, 5)
        self.conv2 = nn.Conv2d(10, 20, 5)
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


class Reader:
    def __init__(self, buf):
        self.buf, self.pos = buf, 0

    def take(self, fmt):
        v = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return v

    def floats(self, n):
        a = np.frombuffer(self.buf, dtype="<f4", count=n, offset=self.pos)
        self.pos += 4 * n
        return a

    def ints(self, n):
        a = np.frombuffer(self.buf, dtype="<i4", count=n, offset=self.pos)
        self.pos += 4 * n
        return a


def read_input(path):
    r = Reader(open(path, "rb").read())
    if r.buf[:8] != b"SYPARIN1":
        raise SystemExit("torch_parity.py: %s: bad magic" % path)
    r.pos = 8
    model, batch, steps, lr = r.take("iiif")
    ndim, *dims = r.take("iiiii")
    dims = dims[:ndim]
    x = r.floats(int(np.prod(dims))).reshape(dims)
    labels = r.ints(batch)
    (n_params,) = r.take("i")
    params = []
    for _ in range(n_params):
        (ln,) = r.take("i")
        name = r.buf[r.pos : r.pos + ln].decode()
        r.pos += ln
        nd, *pd = r.take("iiiii")
        pd = pd[:nd]
        params.append((name, pd, r.floats(int(np.prod(pd))).reshape(pd)))
    return model, batch, steps, lr, x, labels, params


def run(model_id, steps, lr, x, labels, params, dtype):
    torch.manual_seed(0)
    m = (MLP() if model_id == 0 else CNN()).to(dtype)
    named = dict(m.named_parameters())
    if sorted(named) != sorted(p[0] for p in params):
        raise SystemExit("torch_parity.py: parameter names differ: syre %s, torch %s"
                         % ([p[0] for p in params], sorted(named)))
    with torch.no_grad():
        for name, shape, val in params:
            if list(named[name].shape) != list(shape):
                raise SystemExit("torch_parity.py: %s: syre shape %s, torch %s"
                                 % (name, shape, list(named[name].shape)))
            named[name].copy_(torch.from_numpy(val.copy()).to(dtype))
    order = [named[p[0]] for p in params]
    xt = torch.from_numpy(x.copy()).to(dtype)
    yt = torch.from_numpy(labels.astype(np.int64))

    def loss_fn():
        return F.cross_entropy(m(xt), yt)

    loss = loss_fn()
    grads = torch.autograd.grad(loss, order)
    out = [float(loss)] + [g.detach().double().numpy().ravel() for g in grads]
    curve = []
    for _ in range(steps):
        loss = loss_fn()
        curve.append(float(loss))
        gs = torch.autograd.grad(loss, order)
        with torch.no_grad():
            for p, g in zip(order, gs):
                p -= lr * g
    with torch.no_grad():
        curve.append(float(loss_fn()))
    out.append(np.array(curve, dtype=np.float64))
    out += [p.detach().double().numpy().ravel() for p in order]
    return out


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: torch_parity.py IN.bin OUT.bin")
    model_id, batch, steps, lr, x, labels, params = read_input(sys.argv[1])
    torch.set_num_threads(1)
    with open(sys.argv[2], "wb") as f:
        f.write(b"SYPAROUT")
        for dtype in (torch.float32, torch.float64):
            for item in run(model_id, steps, lr, x, labels, params, dtype):
                f.write(np.asarray(item, dtype="<f8").tobytes())
    print("torch_parity.py: torch %s, model %s, batch %d, %d steps, lr %g: done"
          % (torch.__version__, "mlp" if model_id == 0 else "cnn", batch, steps, lr))


if __name__ == "__main__":
    main()
