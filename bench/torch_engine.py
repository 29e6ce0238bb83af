#!/usr/bin/python3
"""PyTorch side of the engine benchmark (bench/engine.c runs both, alternating).

Same models, batches, data pools and optimizers as bench/engine.c:
  mlp       784-300-300-300-10 ReLU, batch 64, SGD lr 0.05
  mlp1000   the same at batch 1000
  mlp2adam  784-256-10 ReLU, batch 64, Adam lr 1e-3
  cnn       conv(1->10,k5)-pool2-relu-conv(10->20,k5)-pool2-relu-fc(320->50)-relu-fc(50->10), batch 64, SGD 0.05
  vae       784-200 SiLU -> mu (200), z = mu + 0.1 eps, 200-200 SiLU-784 decoder,
            BCE-with-logits + 10 * KL(N(mu, 0.01) || N(0, 1)), batch 128, Adam 1e-3
  resnet18  the CIFAR ResNet18 of pytorch-cifar (as sy_resnet18: width 64, batch norm in
            training mode), 3x32x32 inputs, batch 128, SGD 0.05; resnet18b32 at batch 32
One step: forward, loss, backward, optimizer step. Prints one line:
  RESULT engine=torch model=... samples_per_s=... cpu_samples_per_s=... ms_per_step=... rss_peak_kb=...
Run it with /usr/bin/python3 (Debian's python3-torch) and OMP_WAIT_POLICY=PASSIVE.
"""
import argparse
import math
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_cuda import ResNet18  # the same CIFAR ResNet18 the GPU benchmark uses

POOL = 8


def rss_now_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * (resource.getpagesize() // 1024)


class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for i, l in enumerate(self.layers):
            x = l(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


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


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc, self.mu = nn.Linear(784, 200), nn.Linear(200, 200)
        self.dec0, self.dec1 = nn.Linear(200, 200), nn.Linear(200, 784)
        self.logvar = math.log(0.01)

    def loss(self, x):
        mu = self.mu(F.silu(self.enc(x)))
        z = mu + 0.1 * torch.randn_like(mu)
        logits = self.dec1(F.silu(self.dec0(z)))
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
        lv = self.logvar
        kl = 0.5 * (mu.pow(2) + math.exp(lv) - 1.0 - lv).sum() / x.shape[0]
        return rec + 10.0 * kl


def run(model, threads, warmup, steps, repeats):
    rss0 = rss_now_kb()
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    batch = {"mlp1000": 1000, "vae": 128, "resnet18": 128, "resnet18b32": 32}.get(model, 64)
    if model in ("mlp", "mlp1000"):
        m = MLP([784, 300, 300, 300, 10])
    elif model == "mlp2adam":
        m = MLP([784, 256, 10])
    elif model == "cnn":
        m = CNN()
    elif model.startswith("resnet18"):
        m = ResNet18()
    else:
        m = VAE()
    shape = ((POOL, batch, 1, 28, 28) if model == "cnn" else (POOL, batch, 3, 32, 32) if model.startswith("resnet18")
             else (POOL, batch, 784))
    xs = torch.rand(shape)
    ys = torch.randint(0, 10, (POOL, batch))
    if model in ("mlp2adam", "vae"):
        opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    else:
        opt = torch.optim.SGD(m.parameters(), lr=0.05)

    def step(b):
        opt.zero_grad(set_to_none=True)
        loss = m.loss(xs[b]) if model == "vae" else F.cross_entropy(m(xs[b]), ys[b])
        loss.backward()
        opt.step()
        return loss

    b, loss = 0, None
    for _ in range(warmup):
        loss = step(b)
        b = (b + 1) % POOL
    rates, cpus = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(steps):
            loss = step(b)
            b = (b + 1) % POOL
        rates.append(steps * batch / (time.perf_counter() - t0))
        cpus.append(steps * batch / (time.process_time() - c0))
    sps = statistics.median(rates)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("RESULT engine=torch model=%s threads=%d batch=%d samples_per_s=%.1f cpu_samples_per_s=%.1f "
          "ms_per_step=%.4f rss_start_kb=%d rss_peak_kb=%d loss=%.4f"
          % (model, threads, batch, sps, statistics.median(cpus), 1e3 * batch / sps, rss0, peak, float(loss)),
          flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="mlp", choices=["mlp", "mlp1000", "mlp2adam", "cnn", "vae", "resnet18", "resnet18b32"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--steps", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    run(a.model, a.threads, a.warmup, a.steps, a.repeats)


if __name__ == "__main__":
    main()
