#!/usr/bin/env python3
"""PyTorch peer of bench/cuda_step.c on the same GPU: the same models and
batch sizes, SGD with momentum 0.9 and weight decay, synthetic data fixed on
the device; ms per training step (forward, cross-entropy, backward, step),
median over repeats, in eager mode at fp32, TF32 and bf16 autocast.

  RESULT engine=torch-cuda model=mlp batch=64 precision=fp32 ms_per_step=... min=... max=...

Run by scripts/gpu-check.sh when `import torch` works and sees a GPU.
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.l = nn.ModuleList([nn.Linear(784, 300), nn.Linear(300, 300), nn.Linear(300, 300), nn.Linear(300, 10)])

    def forward(self, x):
        for i, l in enumerate(self.l):
            x = l(x)
            if i < 3:
                x = F.relu(x)
        return x


class CNN(nn.Module):  # the paper's MNIST CNN (sy_mnist_cnn), dropout-free
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 10, 5), nn.Conv2d(10, 20, 5)
        self.f1, self.f2 = nn.Linear(320, 50), nn.Linear(50, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.c1(x), 2))
        x = F.relu(F.max_pool2d(self.c2(x), 2))
        return self.f2(F.relu(self.f1(x.flatten(1))))


class Block(nn.Module):
    def __init__(self, cin, out, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, out, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(out)
        self.c2 = nn.Conv2d(out, out, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(out)
        self.sc = None
        if stride != 1 or cin != out:
            self.sc = nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        h = F.relu(self.b1(self.c1(x)))
        h = self.b2(self.c2(h))
        return F.relu(h + (self.sc(x) if self.sc is not None else x))


class ResNet18(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU())
        layers, cin = [], 64
        for s, w in enumerate([64, 128, 256, 512]):
            for b in range(2):
                layers.append(Block(cin, w, 2 if s > 0 and b == 0 else 1))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(512, 10)

    def forward(self, x):
        return self.fc(self.layers(self.stem(x)).mean((2, 3)))


def run(model_name, batch, precision, steps, warmup, repeats):
    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    torch.backends.cudnn.allow_tf32 = precision == "tf32"
    torch.backends.cudnn.benchmark = True
    dev = torch.device("cuda")
    model = {"mlp": MLP, "cnn": CNN, "resnet18": ResNet18}[model_name]().to(dev)
    shape = {"mlp": (batch, 784), "cnn": (batch, 1, 28, 28), "resnet18": (batch, 3, 32, 32)}[model_name]
    x = torch.rand(shape, device=dev)
    y = (torch.arange(batch, device=dev) % 10)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    times = []
    for r in range(-1, repeats):
        n = warmup if r < 0 else steps
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(n):
            loss = step()
        loss.item()
        if r >= 0:
            times.append((time.perf_counter() - t0) * 1e3 / n)
    return statistics.median(times), min(times), max(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="mlp,cnn,resnet18")
    ap.add_argument("--precisions", default="fp32,tf32,bf16")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--batch", type=int, default=512, help="resnet18 batch")
    a = ap.parse_args()
    print(f"# torch {torch.__version__}, {torch.cuda.get_device_name(0)}")
    for p in ("fp32", "tf32"):  # the GEMM rate: torch.mm 4096^3
        torch.backends.cuda.matmul.allow_tf32 = p == "tf32"
        a_ = torch.rand(4096, 4096, device="cuda")
        b_ = torch.rand(4096, 4096, device="cuda")
        for _ in range(3):
            a_ @ b_
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(10):
            a_ @ b_
        torch.cuda.synchronize()
        t = (time.perf_counter() - t0) / 10
        print(f"RESULT engine=torch-cuda model=sgemm4096 precision={p} ms_per_forward={t * 1e3:.3f} "
              f"tflops={2 * 4096 ** 3 / t / 1e12:.2f}", flush=True)
    for m in a.models.split(","):
        batch = a.batch if m == "resnet18" else 64
        precs = a.precisions.split(",") if m == "resnet18" else ["fp32"]
        for p in precs:
            steps = max(10, a.steps // 5) if m == "resnet18" else a.steps
            med, lo, hi = run(m, batch, p, steps, a.warmup if m != "resnet18" else 5, a.repeats)
            print(f"RESULT engine=torch-cuda model={m} batch={batch} precision={p} "
                  f"ms_per_step={med:.4f} min={lo:.4f} max={hi:.4f}", flush=True)


if __name__ == "__main__":
    main()
