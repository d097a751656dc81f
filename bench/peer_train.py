"""Peer benchmark: each gm trainer against the same model, loss, optimiser and averaging written in
Python PyTorch, timed in one run on this machine. Prints steps/s and the ratio gm / Python.

    python3 bench/peer_train.py [--steps N] [--threads T] [--tools BUILD/cmd] [--unet FMNIST.h5 [--unet-steps N]]

gm's rate is measured end to end from two runs of the tool (N and N/5 steps), so process start-up
and writing the model cancel out; Python's is timed in-process after a warm-up. Both use the same
data, batch, widths and thread count. The GEMM limit is the rate at which this machine's BLAS runs
the step's own matrix products alone: the profiler records every mm/addmm of one Python step with
its shapes, and those products are replayed back to back at the same thread count. gm's rate as a
fraction of it is how close the step comes to doing nothing but its GEMMs. With --unet (a dataset file from gm-convert of Fashion-MNIST),
it also times the class-conditional UNet of gm-train diffusion --arch unet, at its defaults and
batch 64, against the same UNet written here.
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile
import time

import h5py
import torch

F = torch.nn.functional
parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=2000)
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--unet", help="Fashion-MNIST dataset file: also time the UNet")
parser.add_argument("--unet-steps", type=int, default=100)
parser.add_argument("--tools", default=os.path.join(os.path.dirname(__file__), "..", "build", "cmd"))
args = parser.parse_args()
torch.set_num_threads(args.threads)
env = dict(os.environ)
env["PATH"] = ":".join(os.path.join(args.tools, f"gm-{t}") for t in ("train", "distill", "sample")) + ":" + env["PATH"]
BATCH, HIDDEN, DEPTH = 256, 128, 3  # gm's defaults


def gm(*command):
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


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


def mlp(inputs, outputs, activation):
    layers, width = [], inputs
    for _ in range(DEPTH):
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


def lerp(targets, sources, weight):
    with torch.no_grad():
        for t, s in zip(targets, sources):
            t.lerp_(s, weight)


def descend(adam, loss, ema, parameters):
    """One Adam step on `loss`, then the EMA update, as gm's trainers do."""
    adam.zero_grad()
    loss.backward()
    adam.step()
    lerp(ema, parameters, 1 - 0.999)
    return loss.item()


def karras(n, lo=0.002, hi=80.0, rho=7.0):
    return torch.tensor([(hi ** (1 / rho) + i / (n - 1) * (lo ** (1 / rho) - hi ** (1 / rho))) ** rho for i in range(n)])


def batches(data):
    return data[torch.randint(0, data.shape[0], (BATCH,))]


def diffusion_step(data, sd):
    net = NoiseMlp()
    ema = [p.detach().clone() for p in net.parameters()]
    adam = torch.optim.Adam(net.parameters(), lr=1e-3)

    def step():
        y = batches(data)
        sigma = (torch.randn(BATCH) * 1.2 - 1.2).exp()
        s = sigma[:, None]
        loss = (((s * s + sd * sd) / (s * sd) ** 2) * (edm_denoise(net, y + s * torch.randn_like(y), sigma, sd) - y) ** 2).mean()
        return descend(adam, loss, ema, net.parameters())

    return step


def gan_step(data, _sd):
    g, d = mlp(16, 2, torch.nn.ReLU), mlp(2, 1, lambda: torch.nn.LeakyReLU(0.2))
    g_adam = torch.optim.Adam(g.parameters(), lr=1e-4, betas=(0.5, 0.999))
    d_adam = torch.optim.Adam(d.parameters(), lr=1e-4, betas=(0.5, 0.999))

    def step():
        real = batches(data)
        with torch.no_grad():
            fake = g(torch.randn(BATCH, 16))
        d_adam.zero_grad()
        d_loss = F.softplus(-d(real)).mean() + F.softplus(d(fake)).mean()
        d_loss.backward()
        d_adam.step()
        g_adam.zero_grad()
        g_loss = F.softplus(-d(g(torch.randn(BATCH, 16)))).mean()
        g_loss.backward()
        g_adam.step()
        return d_loss.item() + g_loss.item()

    return step


def load_teacher(path):
    f = h5py.File(path, "r")
    net = NoiseMlp()
    state = {k: torch.from_numpy(f["ema"][k][:]) for k in f["ema"]}
    state["frequencies"] = torch.from_numpy(f["buffers"]["frequencies"][:])
    net.load_state_dict(state)
    return net


def consistency_step(data, sd, teacher_path):
    teacher, student, target = (load_teacher(teacher_path) for _ in range(3))
    ema = [p.detach().clone() for p in student.parameters()]
    adam = torch.optim.Adam(student.parameters(), lr=1e-4)
    grid = karras(18).flip(0)
    c = 0.00054 * math.sqrt(2)

    def step():
        y = batches(data)
        n = torch.randint(0, 17, (BATCH,))
        hi, lo = grid[n + 1], grid[n]
        x = y + hi[:, None] * torch.randn_like(y)
        with torch.no_grad():
            h = (lo - hi)[:, None]
            slope = (x - edm_denoise(teacher, x, hi, sd)) / hi[:, None]
            euler = x + h * slope
            slope_lo = (euler - edm_denoise(teacher, euler, lo, sd)) / lo[:, None]
            target_value = edm_denoise(target, x + h * 0.5 * (slope + slope_lo), lo, sd, 0.002)
        diff = edm_denoise(student, x, hi, sd, 0.002) - target_value
        loss = ((diff ** 2).sum(1) + c * c).sqrt().sub(c).mean()
        value = descend(adam, loss, ema, student.parameters())
        lerp(target.parameters(), student.parameters(), 1 - 0.95)
        return value

    return step


def progressive_step(data, sd, teacher_path):
    teacher, student = load_teacher(teacher_path), load_teacher(teacher_path)
    ema = [p.detach().clone() for p in student.parameters()]
    adam = torch.optim.Adam(student.parameters(), lr=1e-4)
    fine = torch.cat([karras(64), torch.zeros(1)])

    def step():
        y = batches(data)
        i = torch.randint(0, 32, (BATCH,))
        s0, s1, s2 = fine[2 * i][:, None], fine[2 * i + 1][:, None], fine[2 * i + 2][:, None]
        x = y + s0 * torch.randn_like(y)
        with torch.no_grad():
            d0 = edm_denoise(teacher, x, s0[:, 0], sd)
            x1 = d0 + s1 / s0 * (x - d0)
            d1 = edm_denoise(teacher, x1, s1[:, 0], sd)
            x2 = d1 + s2 / s1 * (x1 - d1)
            target = (x2 - s2 / s0 * x) / (1 - s2 / s0)
        loss = ((s0 * s0 + sd * sd) / (s0 * sd) ** 2 * (edm_denoise(student, x, s0[:, 0], sd) - target) ** 2).mean()
        return descend(adam, loss, ema, student.parameters())

    return step


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


def unet_step(images, labels, sd, batch=64):
    net = UNet()
    ema = [p.detach().clone() for p in net.parameters()]
    adam = torch.optim.Adam(net.parameters(), lr=1e-3)

    def step():
        rows = torch.randint(0, images.shape[0], (batch,))
        y, cls = images[rows], labels[rows]
        cls = torch.where(torch.rand(batch) < 0.1, torch.full_like(cls, 10), cls)
        sigma = (torch.randn(batch) * 1.2 - 1.2).exp()
        s = sigma.view(-1, 1, 1, 1)
        denoised = edm_denoise(lambda x, c: net(x, c, cls), y + s * torch.randn_like(y), sigma, sd)
        loss = (((s * s + sd * sd) / (s * sd) ** 2) * (denoised - y) ** 2).mean()
        return descend(adam, loss, ema, net.parameters())

    return step, sum(p.numel() for p in net.parameters())


def python_rate(step, steps):
    for _ in range(20):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps / (time.perf_counter() - start)


def gemm_limit(step, repeats=300):
    """Steps/s of the step's matrix products alone, and their GFLOP per step."""
    with torch.autograd.profiler.profile(record_shapes=True) as prof:
        step()
    products = []
    for event in prof.function_events:
        shapes = event.input_shapes
        if event.name == "aten::mm":
            (m, k), (_, n) = shapes[0], shapes[1]
        elif event.name == "aten::addmm":
            (m, k), (_, n) = shapes[1], shapes[2]
        else:
            continue
        products.append((torch.randn(m, k), torch.randn(k, n), torch.empty(m, n)))
    flops = sum(2 * a.shape[0] * a.shape[1] * b.shape[1] for a, b, _ in products)

    def replay():
        for a, b, c in products:
            torch.mm(a, b, out=c)

    for _ in range(30):
        replay()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            replay()
        best = min(best, (time.perf_counter() - start) / repeats)
    return 1 / best, flops / 1e9


def gm_rate(command, steps):
    """End-to-end seconds of N and N/5 steps; their difference is N * 4/5 steps of training."""
    times = []
    for n in (steps, steps // 5):
        start = time.perf_counter()
        gm(*command, "--steps", str(n), "--threads", str(args.threads))
        times.append(time.perf_counter() - start)
    return (steps - steps // 5) / (times[0] - times[1])


with tempfile.TemporaryDirectory() as tmp:
    data_path, teacher = os.path.join(tmp, "grid.h5"), os.path.join(tmp, "edm.h5")
    gm("gm-sample", "toy:grid25", "-n", "100000", "--seed", "1", "-o", data_path)
    gm("gm-train", "diffusion", "--data", data_path, "--steps", "200", "-o", teacher)
    data = torch.from_numpy(h5py.File(data_path, "r")["x"][:]).float()
    sd = data.std().item()
    rows = [
        ("gan", ["gm-train", "gan", "--data", data_path], gan_step(data, sd)),
        ("diffusion", ["gm-train", "diffusion", "--data", data_path], diffusion_step(data, sd)),
        ("consistency", ["gm-distill", "consistency", teacher, "--data", data_path], consistency_step(data, sd, teacher)),
        ("progressive", ["gm-distill", "progressive", teacher, "--data", data_path, "--from-steps", "64",
                         "--to-steps", "32"], progressive_step(data, sd, teacher)),
    ]
    print(f"{args.steps} steps, batch {BATCH}, width {HIDDEN}, {args.threads} thread(s); steps/s")
    print(f"{'trainer':<12} {'gm':>8} {'python':>8} {'gm/python':>10} {'GEMM limit':>11} {'gm/limit':>9} {'GFLOP/step':>11}")
    for name, command, step in rows:
        fast = gm_rate(command + ["-o", os.path.join(tmp, name + ".h5")], args.steps)
        peer = python_rate(step, args.steps)
        limit, gflop = gemm_limit(step)
        print(f"{name:<12} {fast:8.1f} {peer:8.1f} {fast / peer:10.2f} {limit:11.1f} {fast / limit:9.2f} {gflop:11.4f}")
        sys.stdout.flush()
    if args.unet:
        f = h5py.File(args.unet, "r")
        images = torch.from_numpy(f["x"][:]).float() / 127.5 - 1
        labels = torch.from_numpy(f["y"][:]).long()
        step, count = unet_step(images, labels, images.std().item())
        command = ["gm-train", "diffusion", "--arch", "unet", "--data", args.unet, "--batch", "64", "-o",
                   os.path.join(tmp, "unet.h5")]
        fast = gm_rate(command, args.unet_steps)
        gm_count = sum(v.size for k, v in h5py.File(os.path.join(tmp, "unet.h5"), "r")["params"].items())
        assert gm_count == count, f"the Python UNet has {count} parameters, gm's {gm_count}"
        peer = python_rate(step, args.unet_steps)
        print(f"{'unet':<12} {fast:8.2f} {peer:8.2f} {fast / peer:10.2f}   ({args.unet_steps} steps, batch 64, {count} parameters)")
