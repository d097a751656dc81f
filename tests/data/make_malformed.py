"""Makes the malformed gm files of tests/data/malformed from a good dataset and a good model
(made by the gm tools on PATH), each broken in one way. Run from the repository root:

    PATH=build/cmd/gm-train:build/cmd/gm-sample:$PATH python3 tests/data/make_malformed.py
"""
import json
import os
import shutil
import subprocess
import tempfile

import h5py
import numpy as np

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "malformed")
os.makedirs(out, exist_ok=True)
tmp = tempfile.mkdtemp()
data, model = os.path.join(tmp, "data.h5"), os.path.join(tmp, "model.h5")
subprocess.run(["gm-sample", "toy:grid25", "-n", "200", "--seed", "1", "-o", data], check=True)
subprocess.run(["gm-train", "diffusion", "--data", data, "--steps", "5", "--batch", "16", "--hidden", "8",
                "--depth", "1", "-q", "-o", model], check=True)


def copy(source, name):
    path = os.path.join(out, name)
    shutil.copy(source, path)
    return path


def truncate(source, name, fraction):
    blob = open(source, "rb").read()
    open(os.path.join(out, name), "wb").write(blob[: int(len(blob) * fraction)])


truncate(data, "data_truncated.h5", 0.6)
truncate(model, "model_truncated.h5", 0.5)

with h5py.File(copy(data, "data_no_x.h5"), "r+") as f:
    del f["x"]
with h5py.File(copy(data, "data_x_strings.h5"), "r+") as f:
    del f["x"]
    f.create_dataset("x", data=np.array(["a", "b"], dtype=h5py.string_dtype()))
with h5py.File(copy(data, "data_x_3d.h5"), "r+") as f:
    del f["x"]
    f["x"] = np.zeros((10, 2, 2), np.float32)
with h5py.File(copy(data, "data_x_huge.h5"), "r+") as f:
    del f["x"]
    f.create_dataset("x", shape=(2 ** 40, 2), dtype=np.float32, chunks=(1024, 2))  # never written: tiny file
with h5py.File(copy(data, "data_x_nan.h5"), "r+") as f:
    f["x"][3] = np.nan
with h5py.File(copy(data, "data_kind_integer.h5"), "r+") as f:
    f.attrs["gm_kind"] = 7
with h5py.File(os.path.join(out, "data_not_gm.h5"), "w") as f:
    f["x"] = np.zeros((10, 2), np.float32)

with h5py.File(copy(model, "model_no_params.h5"), "r+") as f:
    del f["params"]
with h5py.File(copy(model, "model_unknown_architecture.h5"), "r+") as f:
    config = json.loads(f.attrs["config"])
    config["network"]["type"] = "transformer"
    f.attrs["config"] = json.dumps(config)
with h5py.File(copy(model, "model_config_not_json.h5"), "r+") as f:
    f.attrs["config"] = "{not json"
with h5py.File(copy(model, "model_config_missing_edm.h5"), "r+") as f:
    config = json.loads(f.attrs["config"])
    del config["edm"]
    f.attrs["config"] = json.dumps(config)
with h5py.File(copy(model, "model_negative_sigma.h5"), "r+") as f:
    config = json.loads(f.attrs["config"])
    config["edm"]["sigma_data"] = -1.0
    f.attrs["config"] = json.dumps(config)
with h5py.File(copy(model, "model_huge_width.h5"), "r+") as f:
    config = json.loads(f.attrs["config"])
    config["network"]["hidden"] = 2 ** 40
    f.attrs["config"] = json.dumps(config)
with h5py.File(copy(model, "model_network_too_big.h5"), "r+") as f:
    # Inside every per-field range, but 2.7e11 parameters in all: refused before allocating.
    config = json.loads(f.attrs["config"])
    config["network"]["hidden"], config["network"]["depth"] = 65536, 64
    f.attrs["config"] = json.dumps(config)
with h5py.File(copy(model, "model_param_shape.h5"), "r+") as f:
    del f["params/input.weight"]
    f["params/input.weight"] = np.zeros((3, 3), np.float32)
with h5py.File(copy(model, "model_param_dtype.h5"), "r+") as f:
    del f["ema/input.weight"]
    f.create_dataset("ema/input.weight", data=np.array(["w"] * 16, dtype=h5py.string_dtype()))
with h5py.File(copy(model, "model_unknown_family.h5"), "r+") as f:
    f.attrs["family"] = "flow"
shutil.rmtree(tmp)
print("\n".join(sorted(os.listdir(out))))
