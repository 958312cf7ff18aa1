#!/usr/bin/env python3
"""PyTorch twin of specmine's `rf_resnet` for throughput comparison (issues 4 and 8).

The same network as `specmine models --show rf_resnet`: per-example RMS input normalisation,
1x3 stem to 32 channels + BN + ReLU, three stages of two basic blocks at 32/64/128 channels
(stride 2 at stages 2 and 3, 1x1 projection + BN where the shape changes), global average
pool, linear to 11 classes (241,419 parameters). Adam, batch 128, float32, random data.

    python3 bench/pytorch_reference.py --threads 2
prints training and inference examples/s (median of --runs timed runs), the same quantities
`specmine bench train` / `specmine bench infer` print.
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv1d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm1d(cout)
        self.c2 = nn.Conv1d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm1d(cout)
        self.proj = None
        if stride != 1 or cin != cout:
            self.proj = nn.Sequential(nn.Conv1d(cin, cout, 1, stride, bias=False), nn.BatchNorm1d(cout))

    def forward(self, x):
        h = F.relu(self.b1(self.c1(x)))
        h = self.b2(self.c2(h))
        return F.relu(h + (x if self.proj is None else self.proj(x)))


class RfResNet(nn.Module):
    def __init__(self, classes=11):
        super().__init__()
        self.stem = nn.Conv1d(2, 32, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm1d(32)
        blocks, cin = [], 32
        for w, s in [(32, 1), (64, 2), (128, 2)]:
            blocks += [Block(cin, w, s), Block(w, w, 1)]
            cin = w
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(128, classes)

    def forward(self, x):
        x = x / x.pow(2).mean(dim=(1, 2), keepdim=True).add(1e-12).sqrt()
        h = F.relu(self.bn(self.stem(x)))
        h = self.blocks(h)
        return self.head(h.mean(2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--len", type=int, default=128)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = RfResNet()
    print("parameters", sum(p.numel() for p in model.parameters()))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(a.batch, 2, a.len)
    y = torch.randint(0, 11, (a.batch,))

    def train_steps(n):
        for _ in range(n):
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            opt.step()

    model.train()
    train_steps(3)
    rates = []
    for _ in range(a.runs):
        t = time.perf_counter()
        train_steps(a.steps)
        rates.append(a.steps * a.batch / (time.perf_counter() - t))
    print(f"pytorch {torch.__version__} train: median {statistics.median(rates):.0f} ex/s (batch {a.batch}, {a.threads} threads)")

    model.eval()
    xi = torch.randn(1024, 2, a.len)
    with torch.no_grad():
        model(xi)
        rates = []
        for _ in range(a.runs):
            t = time.perf_counter()
            for _ in range(5):
                model(xi)
            rates.append(5 * 1024 / (time.perf_counter() - t))
    print(f"pytorch {torch.__version__} infer: median {statistics.median(rates):.0f} ex/s (batch 1024, {a.threads} threads)")


if __name__ == "__main__":
    main()
