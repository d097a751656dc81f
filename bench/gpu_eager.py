"""The sampling workloads of bench/gpu.sh written in Python PyTorch and run eagerly on one device:
the toy GAN generator, a 1-step consistency student and the Heun-18 EDM teacher (35 network
evaluations), for the toy MLP and for the 28x28 UNet. Like gm-sample's own clock, each timing
covers the noise moving to the device, the network work and the samples moving back.

    python3 bench/gpu_eager.py [--device cuda] [--toy-batch 65536] [--unet-batch 512] > eager.json

Prints JSON: {workload: {"batch1_ms": ..., "large_ms_per_sample": ..., "large_batch": ...}}.
"""
import argparse
import json
import time

import torch

from peer_nets import NoiseMlp, UNet, edm_denoise, karras, mlp

parser = argparse.ArgumentParser()
parser.add_argument("--device", default="cuda")
parser.add_argument("--toy-batch", type=int, default=65536)
parser.add_argument("--unet-batch", type=int, default=512)
parser.add_argument("--repeats", type=int, default=200)
args = parser.parse_args()
device = torch.device(args.device)
SD, SIGMA_MIN = 0.5, 0.002


def sync():
    if device.type == "cuda":
        torch.cuda.synchronize()


def heun(net, z, sigmas):
    x = z * sigmas[0]
    for i in range(len(sigmas) - 1):
        s, n = sigmas[i], sigmas[i + 1]
        d = (x - edm_denoise(net, x, s.expand(x.shape[0]), SD)) / s
        proposal = x + (n - s) * d
        if n > 0:
            d2 = (proposal - edm_denoise(net, proposal, n.expand(x.shape[0]), SD)) / n
            proposal = x + (n - s) * 0.5 * (d + d2)
        x = proposal
    return x


def workloads():
    toy_net, unet = NoiseMlp().to(device).eval(), UNet().to(device).eval()
    generator = mlp(16, 2, torch.nn.ReLU).to(device).eval()
    grid = torch.cat([karras(18), torch.zeros(1)]).to(device)
    labels = {}

    def with_labels(n):
        if n not in labels:
            labels[n] = torch.randint(0, 10, (n,), device=device)
        return labels[n]

    def unet_net(x, c):
        return unet(x, c, with_labels(x.shape[0]))

    sigma_max = torch.tensor(80.0, device=device)
    return {
        "toy GAN": ((16,), args.toy_batch, lambda z: generator(z)),
        "toy consistency, 1 step": ((2,), args.toy_batch,
                                    lambda z: edm_denoise(toy_net, z * 80.0, sigma_max.expand(z.shape[0]), SD, SIGMA_MIN)),
        "toy EDM teacher, Heun 18": ((2,), args.toy_batch, lambda z: heun(toy_net, z, grid)),
        "UNet consistency, 1 step": ((1, 28, 28), args.unet_batch,
                                     lambda z: edm_denoise(unet_net, z * 80.0, sigma_max.expand(z.shape[0]), SD, SIGMA_MIN)),
        "UNet EDM teacher, Heun 18": ((1, 28, 28), args.unet_batch, lambda z: heun(unet_net, z, grid)),
    }


def ms_per_sample(fn, shape, batch, repeats):
    z = torch.randn(batch, *shape)
    with torch.no_grad():
        for _ in range(5):
            fn(z.to(device)).cpu()
        sync()
        start = time.perf_counter()
        for _ in range(repeats):
            fn(z.to(device)).cpu()
        sync()
    return 1000 * (time.perf_counter() - start) / (repeats * batch)


results = {}
for name, (shape, batch, fn) in workloads().items():
    results[name] = {
        "batch1_ms": ms_per_sample(fn, shape, 1, args.repeats),
        "large_batch": batch,
        "large_ms_per_sample": ms_per_sample(fn, shape, batch, max(3, args.repeats // 50)),
    }
print(json.dumps(results))
