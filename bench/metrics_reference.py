#!/usr/bin/env python3
"""The NumPy/SciPy reference that bench/metrics.cpp times gm against: precision, recall, density
and coverage as the authors' prdc package computes them (Naeem et al. 2020; Euclidean distances in
float64, the k-th neighbour by np.partition), and the Frechet distance as pytorch-fid computes it
(scipy.linalg.sqrtm). Prints JSON: the values and the best of `repeats` timings in seconds.

Usage: metrics_reference.py REAL.npy FAKE.npy K REPEATS"""
import json, sys, time

import numpy as np
from scipy import linalg


def distances(x, y):
    # sklearn's euclidean_distances: |x|^2 + |y|^2 - 2 x.y, clipped at 0.
    d = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2 * x @ y.T
    np.maximum(d, 0, out=d)
    return np.sqrt(d, out=d)


def kth_neighbour(x, k):
    d = distances(x, x)
    return np.partition(d, k, axis=-1)[:, k]  # index 0 is the point itself


def prdc(real, fake, k):
    real_radius, fake_radius = kth_neighbour(real, k), kth_neighbour(fake, k)
    d = distances(real, fake)
    return {
        "precision": float((d < real_radius[:, None]).any(axis=0).mean()),
        "recall": float((d < fake_radius[None, :]).any(axis=1).mean()),
        "density": float((1.0 / k) * (d < real_radius[:, None]).sum(axis=0).mean()),
        "coverage": float((d.min(axis=1) < real_radius).mean()),
    }


def fid(a, b):
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def best(f, repeats):
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = f()
        times.append(time.perf_counter() - start)
    return value, min(times)


real = np.load(sys.argv[1]).astype(np.float64)
fake = np.load(sys.argv[2]).astype(np.float64)
k, repeats = int(sys.argv[3]), int(sys.argv[4])
prdc_values, prdc_seconds = best(lambda: prdc(real, fake, k), repeats)
fid_value, fid_seconds = best(lambda: fid(real, fake), repeats)
print(json.dumps({"prdc": prdc_values, "prdc_seconds": prdc_seconds, "fid": fid_value, "fid_seconds": fid_seconds}))
