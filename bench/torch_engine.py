#!/usr/bin/python3
"""PyTorch side of the engine speed benchmark (bench/engine.c; both are run by
bench/run_engine.sh). Same models, batch 64, synthetic MNIST-shaped pool of 64
batches cycled in order, one step = forward, cross-entropy, backward, plain
SGD (torch.optim.SGD, lr 0.05, no momentum); median samples/s over repeats.

Prints one line per configuration:
  RESULT engine=torch model=mlp threads=1 batch=64 samples_per_s=... min=... max=...
Run it with /usr/bin/python3 (Debian's python3-torch).
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH, POOL, LR = 64, 64, 0.05


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(784, 300), nn.Linear(300, 300)
        self.fc3, self.fc4 = nn.Linear(300, 300), nn.Linear(300, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = F.relu(self.fc3(x))
        return self.fc4(x)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 10, 5), nn.Conv2d(10, 20, 5)
        self.fc1, self.fc2 = nn.Linear(320, 50), nn.Linear(50, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def run(model, threads, warmup, steps, repeats):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    m = MLP() if model == "mlp" else CNN()
    shape = (POOL, BATCH, 784) if model == "mlp" else (POOL, BATCH, 1, 28, 28)
    xs = torch.rand(shape)
    ys = torch.randint(0, 10, (POOL, BATCH))
    opt = torch.optim.SGD(m.parameters(), lr=LR)
    b = 0
    loss = None

    def step(b):
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(m(xs[b]), ys[b])
        loss.backward()
        opt.step()
        return loss

    for _ in range(warmup):
        loss = step(b)
        b = (b + 1) % POOL
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            loss = step(b)
            b = (b + 1) % POOL
        rates.append(steps * BATCH / (time.perf_counter() - t0))
    print("RESULT engine=torch model=%s threads=%d batch=%d samples_per_s=%.1f min=%.1f max=%.1f loss=%.4f"
          % (model, threads, BATCH, statistics.median(rates), min(rates), max(rates), float(loss)), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="all", choices=["mlp", "cnn", "all"])
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--steps", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=7)
    a = ap.parse_args()
    torch.set_grad_enabled(True)
    print("# torch %s, %s" % (torch.__version__, torch.__config__.parallel_info().splitlines()[0]))
    for t in [int(s) for s in a.threads.split(",")]:
        for model in (["mlp", "cnn"] if a.model == "all" else [a.model]):
            run(model, t, a.warmup, a.steps, a.repeats)


if __name__ == "__main__":
    main()
