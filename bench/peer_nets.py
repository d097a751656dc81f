"""gm's networks written in Python PyTorch, layer for layer: the peers that bench/peer_train.py
(training on CPU) and bench/gpu_eager.py (sampling on a GPU) time gm against."""
import math

import torch

F = torch.nn.functional
HIDDEN, DEPTH = 128, 3  # gm's defaults for the toy MLPs


class NoiseMlp(torch.nn.Module):
    """gm's nn::NoiseMlp: Fourier noise embedding, SiLU MLP."""

    def __init__(self, dim=2, hidden=HIDDEN, depth=DEPTH, fourier=32, scale=16.0):
        super().__init__()
        self.register_buffer("frequencies", torch.randn(fourier) * scale)
        self.input = torch.nn.Linear(dim, hidden)
        self.embed = torch.nn.Linear(2 * fourier, hidden)
        self.embed_out = torch.nn.Linear(hidden, hidden)
        self.hidden = torch.nn.ModuleList(torch.nn.Linear(hidden, hidden) for _ in range(depth))
        self.output = torch.nn.Linear(hidden, dim)

    def forward(self, x, noise):
        phase = 2 * math.pi * noise[:, None] * self.frequencies[None, :]
        emb = self.embed_out(F.silu(self.embed(torch.cat([phase.cos(), phase.sin()], 1))))
        h = self.input(x) + emb
        for layer in self.hidden:
            h = layer(F.silu(h))
        return self.output(F.silu(h))


def mlp(inputs, outputs, activation, depth=DEPTH):
    layers, width = [], inputs
    for _ in range(depth):
        layers += [torch.nn.Linear(width, HIDDEN), activation()]
        width = HIDDEN
    return torch.nn.Sequential(*layers, torch.nn.Linear(width, outputs))


def edm_denoise(net, x, sigma, sd, consistency_min=None):
    s = sigma.view(-1, *[1] * (x.dim() - 1))
    s2 = s * s + sd * sd
    if consistency_min is None:
        c_skip, c_out = sd * sd / s2, s * sd / s2.sqrt()
    else:
        c_skip = sd * sd / ((s - consistency_min) ** 2 + sd * sd)
        c_out = sd * (s - consistency_min) / s2.sqrt()
    return c_skip * x + c_out * net(x / s2.sqrt(), sigma.log() / 4)


def karras(n, lo=0.002, hi=80.0, rho=7.0):
    return torch.tensor([(hi ** (1 / rho) + i / (n - 1) * (lo ** (1 / rho) - hi ** (1 / rho))) ** rho for i in range(n)])


def group_norm(channels):
    groups = min(8, channels)
    while channels % groups:
        groups -= 1
    return torch.nn.GroupNorm(groups, channels)


class ResBlock(torch.nn.Module):
    def __init__(self, cin, cout, emb):
        super().__init__()
        self.norm1, self.conv1 = group_norm(cin), torch.nn.Conv2d(cin, cout, 3, padding=1)
        self.embed = torch.nn.Linear(emb, cout)
        self.norm2, self.conv2 = group_norm(cout), torch.nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = torch.nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x))) + self.embed(F.silu(emb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.skip(x) if self.skip is not None else x) + h


class Attention(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm, self.qkv, self.proj = group_norm(c), torch.nn.Conv2d(c, 3 * c, 1), torch.nn.Conv2d(c, c, 1)

    def forward(self, x):
        n, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).view(n, 3, c, h * w).unbind(1)
        weights = torch.softmax(q.transpose(1, 2) @ k / math.sqrt(c), -1)
        return x + self.proj((v @ weights.transpose(1, 2)).view(n, c, h, w))


class Step(torch.nn.Module):
    """gm's UNet step: a residual block (and attention), or a stride-2 conv down / doubling up."""

    def __init__(self, cin, cout, emb, attention=False, resample=None):
        super().__init__()
        self.res = ResBlock(cin, cout, emb) if resample is None else None
        self.attention = Attention(cout) if attention else None
        self.resample = resample
        self.conv = torch.nn.Conv2d(cin, cin, 3, stride=2 if resample == "down" else 1, padding=1) if resample else None

    def forward(self, x, emb):
        if self.res is not None:
            x = self.res(x, emb)
        if self.attention is not None:
            x = self.attention(x)
        if self.resample == "up":
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        return self.conv(x) if self.conv is not None else x


class UNet(torch.nn.Module):
    """gm's nn::UNet at its defaults: width 32, multipliers 1,2,2, one block, attention at 7."""

    def __init__(self, classes=10, width=32, multipliers=(1, 2, 2), attention=(7,), resolution=28):
        super().__init__()
        emb = 4 * width
        self.register_buffer("frequencies", torch.randn(32) * 16)
        self.embed, self.embed_out = torch.nn.Linear(64, emb), torch.nn.Linear(emb, emb)
        self.class_embed = torch.nn.Embedding(classes + 1, emb)
        self.input = torch.nn.Conv2d(1, width, 3, padding=1)
        self.down, self.middle, self.up = torch.nn.ModuleList(), torch.nn.ModuleList(), torch.nn.ModuleList()
        skips, ch, res = [width], width, resolution
        for level, m in enumerate(multipliers):
            self.down.append(Step(ch, width * m, emb, res in attention))
            ch = width * m
            skips.append(ch)
            if level + 1 < len(multipliers):
                self.down.append(Step(ch, ch, emb, resample="down"))
                skips.append(ch)
                res //= 2
        self.middle.extend([Step(ch, ch, emb, True), Step(ch, ch, emb)])
        for level in reversed(range(len(multipliers))):
            for _ in range(2):
                self.up.append(Step(ch + skips.pop(), width * multipliers[level], emb, res in attention))
                ch = width * multipliers[level]
            if level > 0:
                self.up.append(Step(ch, ch, emb, resample="up"))
                res *= 2
        self.output_norm, self.output = group_norm(ch), torch.nn.Conv2d(ch, 1, 3, padding=1)

    def forward(self, x, noise, labels):
        phase = 2 * math.pi * noise[:, None] * self.frequencies[None, :]
        emb = self.embed_out(F.silu(self.embed(torch.cat([phase.cos(), phase.sin()], 1)))) + self.class_embed(labels)
        h = self.input(x)
        skips = [h]
        for step in self.down:
            h = step(h, emb)
            skips.append(h)
        for step in self.middle:
            h = step(h, emb)
        for step in self.up:
            if step.res is not None:
                h = torch.cat([h, skips.pop()], 1)
            h = step(h, emb)
        return self.output(F.silu(self.output_norm(h)))
