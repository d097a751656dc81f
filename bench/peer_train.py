"""Peer benchmark: each gm trainer against the same model, loss, optimiser and averaging written in
Python PyTorch, timed in one run on this machine. Prints steps/s and the ratio gm / Python.

    python3 bench/peer_train.py [--steps N] [--threads T] [--tools BUILD/cmd] [--unet FMNIST.h5 [--unet-steps N]]

gm's rate is measured end to end from two runs of the tool (N and N/5 steps), so process start-up
and writing the model cancel out; Python's is timed in-process after a warm-up. Both use the same
data, batch, widths and thread count, OpenBLAS's included. Each rate is the best of --repeats
runs. The GEMM limit is the rate at which this machine's BLAS runs the step's own matrix products
alone: the profiler records every mm/addmm of one Python step with its shapes, and those products
are replayed back to back at the same thread count. gm's rate as a fraction of it is how close the
step comes to doing nothing but its GEMMs. With --unet (a dataset file from gm-convert of
Fashion-MNIST), it also times the class-conditional UNet of gm-train diffusion --arch unet, at its
defaults and batch 64, against the same UNet written here.
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile
import time

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=2000)
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--unet", help="Fashion-MNIST dataset file: also time the UNet")
parser.add_argument("--unet-steps", type=int, default=100)
parser.add_argument("--repeats", type=int, default=3,
                    help="each rate is the best of this many runs: this machine's speed drifts by 10-20%% over minutes")
parser.add_argument("--only", help="comma-separated toy trainers to time (gan, diffusion, consistency, progressive); \"unet\" times only the --unet row")
parser.add_argument("--tools", default=os.path.join(os.path.dirname(__file__), "..", "build", "cmd"))
args = parser.parse_args()
env = dict(os.environ)
# OpenBLAS keeps its own thread pool, which torch.set_num_threads does not size: without this, "one
# thread" in Python still ran its products on every core. Read once, when torch loads OpenBLAS.
os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)

import h5py  # noqa: E402  (after the thread count is in the environment)
import torch  # noqa: E402

from peer_nets import HIDDEN, NoiseMlp, UNet, edm_denoise, karras, mlp  # noqa: E402

F = torch.nn.functional
torch.set_num_threads(args.threads)
env["PATH"] = ":".join(os.path.join(args.tools, f"gm-{t}") for t in ("train", "distill", "sample")) + ":" + env["PATH"]
BATCH = 256  # gm's default


def gm(*command):
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


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
    best = 0.0
    for _ in range(args.repeats):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        best = max(best, steps / (time.perf_counter() - start))
    return best


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
    best, cores = float("inf"), 0.0
    for _ in range(args.repeats + 2):
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(repeats):
            replay()
        wall = time.perf_counter() - start
        cores = max(cores, (time.process_time() - cpu) / wall)
        best = min(best, wall / repeats)
    if cores > args.threads + 0.25:
        print(f"warning: the GEMM replay kept {cores:.2f} cores busy, not {args.threads}", file=sys.stderr)
    return 1 / best, flops / 1e9


def gm_rate(command, steps):
    """End-to-end seconds of N and N/5 steps; their difference is N * 4/5 steps of training."""
    best = 0.0
    for _ in range(args.repeats):
        times = []
        for n in (steps, steps // 5):
            start = time.perf_counter()
            gm(*command, "--steps", str(n), "--threads", str(args.threads))
            times.append(time.perf_counter() - start)
        best = max(best, (steps - steps // 5) / (times[0] - times[1]))
    return best


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
    print(f"{args.steps} steps, batch {BATCH}, width {HIDDEN}, {args.threads} thread(s); steps/s, best of {args.repeats}")
    print(f"{'trainer':<12} {'gm':>8} {'python':>8} {'gm/python':>10} {'GEMM limit':>11} {'gm/limit':>9} {'GFLOP/step':>11}")
    for name, command, step in rows:
        if args.only and name not in args.only.split(","):
            continue
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
