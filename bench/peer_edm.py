"""The EDM toy training step of `gm-train diffusion` in Python PyTorch, as the peer to time it
against: same network, loss, optimiser and EMA. Prints steps/s."""
import math
import sys
import time

import h5py
import torch

data_path, steps, batch, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
torch.manual_seed(0)
data = torch.from_numpy(h5py.File(data_path, "r")["x"][:]).float()
sigma_data = data.std().item()


class NoiseMlp(torch.nn.Module):
    def __init__(self, dim=2, hidden=256, depth=3, fourier=32, scale=16.0):
        super().__init__()
        self.register_buffer("frequencies", torch.randn(fourier) * scale)
        self.input = torch.nn.Linear(dim, hidden)
        self.embed = torch.nn.Linear(2 * fourier, hidden)
        self.embed_out = torch.nn.Linear(hidden, hidden)
        self.hidden = torch.nn.ModuleList(torch.nn.Linear(hidden, hidden) for _ in range(depth))
        self.output = torch.nn.Linear(hidden, dim)

    def forward(self, x, noise):
        phase = 2 * math.pi * noise[:, None] * self.frequencies[None, :]
        emb = self.embed_out(torch.nn.functional.silu(self.embed(torch.cat([phase.cos(), phase.sin()], 1))))
        h = self.input(x) + emb
        for layer in self.hidden:
            h = layer(torch.nn.functional.silu(h))
        return self.output(torch.nn.functional.silu(h))


net = NoiseMlp()
ema = [p.detach().clone() for p in net.parameters()]
adam = torch.optim.Adam(net.parameters(), lr=1e-3)


def step():
    y = data[torch.randint(0, data.shape[0], (batch,))]
    sigma = (torch.randn(batch) * 1.2 - 1.2).exp()
    s = sigma[:, None]
    s2 = s * s + sigma_data ** 2
    c_skip, c_out, c_in = sigma_data ** 2 / s2, s * sigma_data / s2.sqrt(), 1 / s2.sqrt()
    x = y + s * torch.randn_like(y)
    denoised = c_skip * x + c_out * net(c_in * x, sigma.log() / 4)
    loss = ((s2 / (s * sigma_data) ** 2) * (denoised - y) ** 2).mean()
    adam.zero_grad()
    loss.backward()
    adam.step()
    with torch.no_grad():
        for e, p in zip(ema, net.parameters()):
            e.lerp_(p, 1 - 0.999)
    return loss.item()


for _ in range(20):
    step()
start = time.perf_counter()
for _ in range(steps):
    step()
print(f"{steps / (time.perf_counter() - start):.1f}")
