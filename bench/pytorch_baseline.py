"""PyTorch CPU FP32 training baseline: small-resnet on Fashion-MNIST.

Used to compare seconds per epoch against the C++ integer trainer on the
same machine. Example:
    /usr/bin/python3 bench/pytorch_baseline.py --epochs 1 --threads 2
"""
import argparse
import gzip
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

LR_FACTORS = [1.0, 0.12, 0.06, 0.03, 0.03]
LR_BOUNDARIES = [0.3, 0.6, 0.8, 0.9]


def load_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_split(data_dir, prefix):
    x = load_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    y = load_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1)  # N,1,28,28
    return x, torch.from_numpy(y.astype(np.int64))


def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1, self.bn1 = conv3x3(cin, cout, stride), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = conv3x3(cout, cout), nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.shortcut is None else self.shortcut(x)))


class SmallResNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(conv3x3(1, 16), nn.BatchNorm2d(16), nn.ReLU())
        self.blocks = nn.Sequential(
            BasicBlock(16, 16, 1), BasicBlock(16, 32, 2), BasicBlock(32, 64, 2))
        self.fc = nn.Linear(64, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                std = 1.0 / math.sqrt(fan_in)
                nn.init.trunc_normal_(m.weight, std=std, a=-2 * std, b=2 * std)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):  # eps 1e-5, momentum 0.1 (defaults)
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(x.mean(dim=(2, 3)))


def lr_factor(epoch, epochs):
    frac = epoch / epochs
    return LR_FACTORS[sum(frac >= b for b in LR_BOUNDARIES)]


@torch.no_grad()
def evaluate(model, x, y, batch=1000):
    model.eval()
    correct = sum((model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
                  for i in range(0, len(x), batch))
    return correct / len(x)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="torch.set_num_threads (default: all cores)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--limit", type=int, default=0,
                   help="use only the first N training images (0 = all)")
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    x_train, y_train = load_split(args.data, "train")
    x_test, y_test = load_split(args.data, "t10k")
    if args.limit > 0:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    n_batches = len(x_train) // args.batch  # drop last incomplete batch

    model = SmallResNet()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    times = []
    for epoch in range(args.epochs):
        for g in opt.param_groups:
            g["lr"] = args.lr * lr_factor(epoch, args.epochs)
        perm = torch.from_numpy(rng.permutation(len(x_train)))
        model.train()
        loss_sum, correct = 0.0, 0
        t0 = time.perf_counter()
        for b in range(n_batches):
            idx = perm[b * args.batch:(b + 1) * args.batch]
            xb, yb = x_train[idx], y_train[idx]
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item()
            correct += (logits.argmax(1) == yb).sum().item()
        times.append(time.perf_counter() - t0)
        test_acc = evaluate(model, x_test, y_test)
        print(f"epoch {epoch + 1}/{args.epochs} lr={opt.param_groups[0]['lr']:.5f} "
              f"seconds={times[-1]:.2f} train_loss={loss_sum / n_batches:.4f} "
              f"train_acc={correct / (n_batches * args.batch):.4f} test_acc={test_acc:.4f}", flush=True)
    print(f"pytorch seconds_per_epoch={sum(times) / len(times):.3f} "
          f"threads={torch.get_num_threads()} torch={torch.__version__}")


if __name__ == "__main__":
    main()
