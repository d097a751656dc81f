"""Gloo all-reduce latency through torch.distributed itself, the floor under gm's data-parallel
step on this machine. Launch two ranks the torchrun way:

    for r in 0 1; do RANK=$r WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29731 python3 bench/allreduce.py & done; wait

Rank 0 prints the mean time of 500 all-reduces (after 20 warm-up ones) for each size of float32
tensor: one float, the toy MLP's gradients, and a million floats.
"""
import time

import torch
import torch.distributed as dist

dist.init_process_group("gloo")
torch.set_num_threads(1)
for n in (1, 35000, 1000000):
    t = torch.ones(n)
    for _ in range(20):
        dist.all_reduce(t)
    start = time.perf_counter()
    for _ in range(500):
        dist.all_reduce(t)
    if dist.get_rank() == 0:
        print(f"{n} floats: {(time.perf_counter() - start) / 500 * 1e3:.2f} ms")
